"""The x- extensions run in the local engine (the real compiled definition, a scripted handler): a Task's
x-timeoutSeconds, step-level x-failWhen, x-inputChecks, x-fixed, and continue-as-new that a child verifies
against its parent's history before it resumes, cleaning up when the continuation fails."""
import json
from pathlib import Path

import pytest

from arazzo_sfn.lower import lower
from arazzo_sfn.check import validate
from local_tools.clock import RealClock, VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTIONS = FIXTURES / "functions"
# What a deployment substitutes; the array is JSONata text that fits inside the definition's JSON strings.
SUBSTITUTIONS = {"AllowedKinds": "['cat','dog']", "MaxChecks": 5}


def watch_machine(engine: LocalEngine) -> str:
    document, problems = validate(FIXTURES / "watch.arazzo.yml")
    assert problems == []
    spec = FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
    return engine.create_state_machine(lower(document, "watch", "watch.arazzo.yml").to_dict(), name="watch",
                                       substitutions=SUBSTITUTIONS, functions={
        "CreatePetFunctionArn": spec, "GetPetFunctionArn": spec, "ReleasePetFunctionArn": spec})


@pytest.fixture
def watch():
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        yield engine, watch_machine(engine)


def operations(pets) -> list[str]:
    return [call["operationId"] for call in pets.CALLS]


def executions(engine: LocalEngine, machine: str) -> list[dict]:
    listed = engine.sfn.list_executions(stateMachineArn=machine)["executions"]
    return sorted(listed, key=lambda e: e["startDate"])


# --- x-timeoutSeconds ------------------------------------------------------------------------------------------

def test_a_task_past_its_timeout_fails_with_states_timeout(pets):
    pets.SCRIPT["createPet"] = [{"body": {"id": 1}, "sleepSeconds": 3}]
    document, _ = validate(FIXTURES / "watch.arazzo.yml")
    definition = lower(document, "watch", "watch.arazzo.yml").to_dict()
    definition["States"]["create"]["TimeoutSeconds"] = 1   # as `x-timeoutSeconds: 1` compiles, without a 30 s wait
    spec = FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
    with LocalEngine(clock=RealClock()) as engine:
        machine = engine.create_state_machine(definition, substitutions=SUBSTITUTIONS, functions={
            "CreatePetFunctionArn": spec, "GetPetFunctionArn": spec, "ReleasePetFunctionArn": spec})
        result = engine.run(machine, {"name": "Rex"}, name="slow", timeout=30)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "getPet" not in operations(pets), "the machine stopped at the Task that timed out"


# --- step-level x-failWhen -------------------------------------------------------------------------------------

def test_step_fail_when_fails_with_its_error_and_cause(pets, watch):
    engine, machine = watch
    pets.SCRIPT["createPet"] = [{"statusCode": 409, "headers": {"x-holder": "Ann"}}]
    result = engine.run(machine, {"name": "Rex"}, name="taken")
    assert (result.status, result.error) == ("FAILED", "Pets.NameTaken")
    assert json.loads(result.cause) == {"message": "The name is taken", "holder": "Ann", "name": "Rex"}
    assert operations(pets) == ["createPet"]


def test_step_fail_when_is_judged_before_the_loop(pets, watch):
    engine, machine = watch
    pets.SCRIPT.update({"createPet": [{"body": {"id": 4}}],
                        "getPet": [{"body": {"state": "preparing"}}, {"body": {"state": "lost"}}]})
    result = engine.run(machine, {"name": "Rex"}, name="lost")
    assert (result.status, result.error) == ("FAILED", "Pets.Lost")
    assert json.loads(result.cause) == {"petId": 4}
    assert operations(pets) == ["createPet", "getPet", "getPet"]


# --- x-inputChecks, x-fixed, reserved keys ---------------------------------------------------------------------

@pytest.mark.parametrize("given, cause", [
    ({"name": "Rex", "kind": "fox", "checks": 9}, "kind: fox is not allowed here; checks: at most 5 here"),
    ({"name": "Rex", "kind": "bird", "checks": 9}, "kind: must be one of cat, dog, fox"),
    ({"name": "Rex", "shelter": "south"}, "shelter: set by the deployment"),
    ({"name": "Rex", "maxChecks": 50, "checks": 40}, "maxChecks: set by the deployment"),
    ({"name": "Rex", "arazzoResume": {"at": "watch loop wait"}},
     "arazzoResume: only a continuation that this state machine started may resume (no parent execution in the "
     "input)"),
])
def test_invalid_inputs_fail_before_any_call(pets, watch, given, cause):
    engine, machine = watch
    result = engine.run(machine, given, name=f"bad-{abs(hash(json.dumps(given, sort_keys=True)))}")
    assert (result.status, result.error, result.cause) == ("FAILED", "Arazzo.InvalidInput", cause)
    assert pets.CALLS == []


def test_valid_inputs_use_the_deployments_fixed_values(pets, watch):
    engine, machine = watch
    pets.SCRIPT.update({"createPet": [{"body": {"id": 3}}], "getPet": [{"body": {"state": "ready"}}]})
    # The console links a child to its parent through this key; as an input it is neither a field nor an error.
    given = {"name": "Rex", "kind": "dog", "checks": 5,
             "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:123456789012:execution:x:y"}
    result = engine.run(machine, given, name="fine")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert pets.CALLS[0]["body"] == {"name": "Rex", "kind": "dog", "shelter": "north"}


# --- continue-as-new -------------------------------------------------------------------------------------------

def test_continuations_are_verified_linked_and_resume_the_loop(pets, watch):
    engine, machine = watch
    pets.SCRIPT.update({"createPet": [{"body": {"id": 8}}],
                        "getPet": [{"body": {"state": "preparing"}}] * 7 + [{"body": {"state": "ready"}}]})
    result = engine.run(machine, {"name": "Rex"}, name="long")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"petId": 8, "state": "ready"}
    assert operations(pets) == ["createPet"] + ["getPet"] * 8     # one create: continuations resume the loop
    runs = executions(engine, machine)
    # 3 polls per execution (continueAsNewAfter: 2 iterations), the last one ends the loop.
    names = [e["name"] for e in runs]
    assert len(names) == 3 and names[0] == "long", names
    checksum = names[1].split("-")[1]
    assert names[1:] == [f"long-{checksum}-1", f"long-{checksum}-2"], names   # root name, its checksum, generation
    for parent, child in zip(runs, runs[1:]):
        child_input = json.loads(engine.sfn.describe_execution(executionArn=child["executionArn"])["input"])
        assert child_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == parent["executionArn"]
        assert "shelter" not in child_input and "maxChecks" not in child_input


def forged(engine: LocalEngine, machine: str, parent: str | None, name: str) -> object:
    given = {"name": "Rex", "arazzoResume": {"at": "watch loop wait", "steps": {"create": {"outputs": {"id": 666}}},
                                             "loops": {"loop_watch": {"startedAt": 0, "iteration": 0}}}}
    if parent:
        given["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] = parent
    return engine.run(machine, given, name=name)


def test_a_forged_resume_naming_a_real_execution_is_refused(pets, watch):
    engine, machine = watch
    pets.SCRIPT.update({"createPet": [{"body": {"id": 1}}], "getPet": [{"body": {"state": "ready"}}]})
    real = engine.run(machine, {"name": "Ann"}, name="real")
    assert real.status == "SUCCEEDED"
    pets.CALLS.clear()
    result = forged(engine, machine, real.execution_arn, "forged")
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert result.cause == "arazzoResume: the parent execution did not start this execution with this name and input"
    assert pets.CALLS == [], "no Lambda runs for a refused resume"


def test_a_resume_naming_an_unreadable_parent_is_refused(pets, watch):
    engine, machine = watch
    result = forged(engine, machine, "arn:aws:states:us-east-1:123456789012:execution:watch:nobody", "orphan")
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert result.cause.startswith("arazzoResume: the parent execution cannot be read (Sfn.")
    assert pets.CALLS == []


def test_a_failed_continuation_cleans_up_then_passes_the_childs_error_on(pets, watch):
    engine, machine = watch
    pets.SCRIPT.update({"createPet": [{"body": {"id": 5}}],
                        "getPet": [{"body": {"state": "preparing"}}] * 3 + [{"body": {"state": "lost"}}]})
    result = engine.run(machine, {"name": "Rex"}, name="gone")
    assert (result.status, result.error) == ("FAILED", "Pets.Lost")
    assert json.loads(result.cause) == {"petId": 5}
    # The child failed (x-failWhen: no cleanup of its own); the parent released the pet, once, after it.
    assert operations(pets) == ["createPet"] + ["getPet"] * 4 + ["releasePet"]
    assert pets.CALLS[-1]["parameters"]["path"] == {"petId": 5}
    assert [e["status"] for e in executions(engine, machine)] == ["FAILED", "FAILED"]
