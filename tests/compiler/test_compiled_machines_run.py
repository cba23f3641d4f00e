"""A general Arazzo workflow (not the product's) compiled and run in the local engine against a scripted handler:
retries with Retry-After, a loop through Wait states with backoff, a step that runs another workflow, input checks.
"""
import json
from pathlib import Path

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine
from arazzo_sfn.lower import lower
from arazzo_sfn.check import validate

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTIONS = FIXTURES / "functions"


@pytest.fixture
def adopt_machine():
    document, problems = validate(FIXTURES / "adopt.arazzo.yml")
    assert problems == []
    definition = lower(document, "adopt", "adopt.arazzo.yml").to_dict()
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        spec = FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
        arn = engine.create_state_machine(definition, functions={
            "CreatePetFunctionArn": spec, "GetPetFunctionArn": spec, "PlaceOrderFunctionArn": spec})
        yield engine, arn


def test_retry_loop_and_called_workflow(pets, adopt_machine):
    engine, arn = adopt_machine
    pets.SCRIPT.update({
        "createPet": [{"statusCode": 503, "headers": {"retry-after": "7"}}, {"statusCode": 200, "body": {"id": 42}}],
        "getPet": [{"body": {"state": "Preparing"}}, {"body": {"state": "PREPARING"}}, {"body": {"state": "ready"}}],
        "placeOrder": [{"body": {"orderId": "o-9"}}],
    })
    result = engine.run(arn, {"name": "Rex"}, name="adopt-1")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"petId": 42, "state": "ready", "orderId": "o-9"}
    operations = [call["operationId"] for call in pets.CALLS]
    assert operations == ["createPet", "createPet", "getPet", "getPet", "getPet", "placeOrder"]
    # Retry-After (7 s) overrides retryAfter (3 s); the loop waits 4 s, then 8 s (backoff 2).
    assert result.waits == [7, 4, 8]
    create = pets.CALLS[0]
    # default applied; the optional nickname not given: left out of the body (and of the array)
    assert create["body"] == {"name": "Rex", "kind": "cat", "note": "adopted by Rex", "tags": ["cat"]}
    assert pets.CALLS[2]["parameters"]["path"] == {"petId": 42}
    assert pets.CALLS[-1]["body"] == {"petId": 42, "quantity": 1}  # the called workflow's own default


def test_a_body_field_from_an_optional_input_is_sent_when_given(pets, adopt_machine):
    engine, arn = adopt_machine
    pets.SCRIPT.update({"createPet": [{"body": {"id": 7}}], "getPet": [{"body": {"state": "ready"}}],
                        "placeOrder": [{"body": {"orderId": "o-1"}}]})
    result = engine.run(arn, {"name": "Rex", "nickname": "Rexy"}, name="adopt-nickname")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert pets.CALLS[0]["body"] == {"name": "Rex", "kind": "cat", "note": "adopted by Rex", "nickname": "Rexy",
                                     "tags": ["cat", "Rexy"]}


def test_retry_limit_then_the_step_fails_with_the_condition_named(pets, adopt_machine):
    engine, arn = adopt_machine
    pets.SCRIPT["createPet"] = [{"statusCode": 503}]
    result = engine.run(arn, {"name": "Rex"}, name="adopt-2")
    assert result.status == "FAILED"
    assert result.error == "Arazzo.SuccessCriteriaFailed"
    assert "step create" in result.cause and "$statusCode == 200" in result.cause and "503" in result.cause
    assert [c["operationId"] for c in pets.CALLS] == ["createPet"] * 3   # first try + retryLimit 2


def test_loop_bound_fails_with_loop_limit_exceeded(pets, adopt_machine):
    engine, arn = adopt_machine
    pets.SCRIPT.update({"createPet": [{"body": {"id": 1}}], "getPet": [{"body": {"state": "preparing"}}]})
    result = engine.run(arn, {"name": "Rex"}, name="adopt-3")
    assert result.error == "Arazzo.LoopLimitExceeded"
    assert json.loads(result.cause) == {"limit": "iteration limit reached"}
    assert [c["operationId"] for c in pets.CALLS].count("getPet") == 11   # first read + 10 iterations
    assert max(result.waits) == 10                                        # maxWaitSeconds


@pytest.mark.parametrize("given, message", [
    ({}, "name: required"),
    ({"name": ""}, "name: must have at least 1 characters"),
    ({"name": "Rex", "kind": "fish"}, "kind: must be one of cat, dog"),
    ({"name": 5}, "name: must be a string"),
    ([1, 2], "the execution input must be a JSON object"),
])
def test_invalid_input_fails_before_any_call(pets, adopt_machine, given, message):
    engine, arn = adopt_machine
    result = engine.run(arn, given, name=f"adopt-bad-{abs(hash(str(given)))}")
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert message in result.cause
    assert pets.CALLS == []


@pytest.mark.parametrize("document_name, workflow_id", [("adopt.arazzo.yml", "adopt"), ("watch.arazzo.yml", "watch"),
                                                        ("finish.arazzo.yml", "finish"),
                                                        ("many.arazzo.yml", "adopt-all"),
                                                        ("many.arazzo.yml", "watch-all")])
def test_general_workflow_passes_the_asl_validators(tmp_path, document_name, workflow_id):
    """The states these documents need (retry waits, loops, a called workflow inline, timeouts, x-failWhen, input
    checks, continuation verification, the x-onEnd ending sequence, x-forEach Map states) are valid ASL."""
    import os
    import subprocess

    from cfnlint.api import lint_all

    document, _ = validate(FIXTURES / document_name)
    definition = lower(document, workflow_id, document_name).to_dict()
    text = json.dumps(definition)
    for key in ("CreatePet", "GetPet", "PlaceOrder", "ReleasePet"):
        text = text.replace("${%sFunctionArn}" % key, f"arn:aws:lambda:us-east-1:123456789012:function:{key}")
    text = text.replace("${AllowedKinds}", "['cat','dog']").replace("${MaxChecks}", "5")
    text = text.replace("${PetEventBusName}", "pets").replace(
        "${FinishStateMachineArn}", "arn:aws:states:us-east-1:123456789012:stateMachine:finish")
    validator = os.environ.get("ASL_VALIDATOR", ".tools/node_modules/.bin/asl-validator")
    assert Path(validator).exists(), "run `make tools` (make test does) for asl-validator"
    (tmp_path / "adopt.asl.json").write_text(text)
    result = subprocess.run([validator, "--json-path", str(tmp_path / "adopt.asl.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    wrapper = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Machine": {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/machine", "Definition": json.loads(text)}}}}
    # cfn-lint's schema types Map's MaxConcurrency as a number only; in JSONata states AWS takes a JSONata
    # expression there (CDK's jsonataMaxConcurrency; AWS's language service, test_aws_language_service, agrees).
    errors = [m for m in lint_all(json.dumps(wrapper)) if m.rule.id.startswith("E")
              and not (m.rule.id == "E3601" and list(m.path)[-1:] == ["MaxConcurrency"]
                       and m.message.startswith('"{%'))]
    assert not errors, [f"{m.rule.id} {m.message}" for m in errors]
