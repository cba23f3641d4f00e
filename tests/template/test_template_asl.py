"""Every statemachine/*.asl.json is valid ASL, uses only placeholders the template defines, and needs no
permission the state machine's role lacks."""

from __future__ import annotations

import json
import subprocess

import pytest

from sam_template_support import (ACCOUNT, PLACEHOLDER, REGION, ROOT, STACK, as_list, cfn_lint, load_template,
                                  policy_statements, resources_of_type)

ASL_FILES = sorted((ROOT / "statemachine").glob("*.asl.json"))


def _machines_using(path) -> list[dict]:
    machines = resources_of_type(load_template(), "AWS::Serverless::StateMachine").values()
    return [m["Properties"] for m in machines if (ROOT / m["Properties"].get("DefinitionUri", "")) == path]


def _plausible(value, params: dict) -> str:
    """What CloudFormation would substitute for a DefinitionSubstitutions value, for a stack named STACK."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-{value['Fn::GetAtt'][0]}-AbC123"
    if isinstance(value, dict) and "Ref" in value and value["Ref"] not in params:  # another state machine
        name = load_template()["Resources"][value["Ref"]]["Properties"]["Name"]["Fn::Sub"]
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:" + name.replace("${AWS::StackName}", STACK)
    if isinstance(value, dict) and "Ref" in value:
        return str(params[value["Ref"]]["Default"])
    if isinstance(value, dict) and "Fn::If" in value:
        # The template's conditions test parameters against their empty defaults: the "else" branch.
        return _plausible(value["Fn::If"][2], params)
    if isinstance(value, dict) and "Fn::Sub" in value:
        pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK}
        return PLACEHOLDER.sub(lambda m: pseudo[m.group(1)], value["Fn::Sub"])
    return str(value)


def _substituted(path) -> tuple[str, dict]:
    params = load_template()["Parameters"]
    subs = {}
    for machine in _machines_using(path):
        subs.update({k: _plausible(v, params) for k, v in machine.get("DefinitionSubstitutions", {}).items()})
    text = path.read_text()
    used = set(PLACEHOLDER.findall(text))
    missing = used - set(subs)
    assert not missing, f"{path.name} uses placeholders the template does not define: {sorted(missing)}"
    return PLACEHOLDER.sub(lambda m: subs[m.group(1)], text), subs


def _states(definition: dict):
    """Every state, including those inside Parallel branches and Map processors."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from _states(state[key])


def test_there_is_a_definition():
    assert ASL_FILES, "statemachine/*.asl.json missing (run `make compile`)"


def test_every_definition_is_used_by_the_template():
    for path in ASL_FILES:
        assert _machines_using(path), f"{path.name} is not the DefinitionUri of any state machine"


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_asl_validator(path, asl_validator, tmp_path):
    text, _ = _substituted(path)
    concrete = tmp_path / path.name
    concrete.write_text(text)
    result = subprocess.run([str(asl_validator), "--json-path", str(concrete)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_cfn_lint_e3601(path):
    # cfn-lint checks a definition only on a plain AWS::StepFunctions::StateMachine, never on the SAM resource.
    text, _ = _substituted(path)
    wrapper = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Machine": {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/sync-machine-role", "Definition": json.loads(text)},
    }}}
    # cfn-lint's schema types Map's MaxConcurrency as a number only; in JSONata states AWS takes a JSONata
    # expression there (CDK's jsonataMaxConcurrency; AWS's language service agrees: test_aws_language_service).
    problems = [m for m in cfn_lint(wrapper) if m.rule.id.startswith("E")
                and not (m.rule.id == "E3601" and list(m.path)[-1:] == ["MaxConcurrency"] and m.message.startswith('"{%'))]
    assert not problems, "\n".join(f"{m.rule.id} {m.message} at {m.path}" for m in problems)


def _role_of(path, translated) -> dict:
    """The translated role of the (one) state machine whose DefinitionUri is this file."""
    [machine] = _machines_using(path)
    return translated["Resources"][machine["Role"]["Fn::GetAtt"][0]]


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_definition_needs_only_what_the_role_grants(path, translated):
    """Each machine's role allows lambda:InvokeFunction on the functions its Tasks name, starting and following
    (.sync:2) the executions its Tasks start, the completion event on the configured bus and the metrics of the
    configured namespace. A definition that calls anything else must come with a template change."""
    definition = json.loads(path.read_text())
    role = _role_of(path, translated)
    statements = policy_statements(role)
    actions = {a for s in statements for a in as_list(s["Action"])}
    invokable = {s["Resource"]["Fn::GetAtt"][0] for s in statements if "lambda:InvokeFunction" in as_list(s["Action"])}
    substitutions = _machines_using(path)[0].get("DefinitionSubstitutions", {})
    for name, state in _states(definition):
        if state.get("Type") != "Task":
            continue
        resource = state["Resource"]
        if resource.startswith("arn:aws:states:::lambda:invoke"):
            assert resource == "arn:aws:states:::lambda:invoke", f"{name}: {resource} (waitForTaskToken needs more)"
            args = state.get("Arguments") or state.get("Parameters") or {}
            fn = args.get("FunctionName") or args.get("FunctionName.$")
            match = PLACEHOLDER.fullmatch(fn or "")
            assert match and match.group(1).endswith("FunctionArn"), f"{name}: FunctionName {fn!r}"
            assert match.group(1).removesuffix("Arn") in invokable, f"{name}: {fn} is not in the invoke policy"
        elif resource.startswith("arn:aws:states:::states:startExecution"):
            # Waiting for the started execution needs DescribeExecution, StopExecution and the managed EventBridge
            # rule besides StartExecution, on the machine the Task names.
            assert resource == "arn:aws:states:::states:startExecution.sync:2", f"{name}: {resource}"
            assert {"states:StartExecution", "states:DescribeExecution", "states:StopExecution", "events:PutTargets",
                    "events:PutRule", "events:DescribeRule"} <= actions, "the role cannot follow the started execution"
            target = PLACEHOLDER.fullmatch(state["Arguments"]["StateMachineArn"])
            starts = [s["Resource"] for s in statements if "states:StartExecution" in as_list(s["Action"])]
            if target:  # another machine of the stack, by its DefinitionSubstitutions placeholder
                assert starts == [substitutions[target.group(1)]], f"{name}: may start only the machine it names"
        elif resource == "arn:aws:states:::aws-sdk:sfn:getExecutionHistory":
            # A continued execution reads its parent's history before it resumes anything.
            reading = [s for s in statements if "states:GetExecutionHistory" in as_list(s["Action"])]
            assert reading and all(s["Resource"]["Fn::Sub"].endswith(":execution:${AWS::StackName}-airbyte-sync:*")
                                   for s in reading), f"{name}: may read only this machine's executions"
        elif resource == "arn:aws:states:::events:putEvents":
            # The completion event: on the bus the deployment names, and no other.
            [statement] = [s for s in statements if "events:PutEvents" in as_list(s["Action"])]
            assert statement["Resource"]["Fn::Sub"].endswith(":event-bus/${CompletionEventBusName}"), name
            buses = {entry.get("EventBusName") for entry in state["Arguments"]["Entries"]}
            assert buses == {"${CompletionEventBusName}"}, f"{name}: puts on {buses}"
        elif resource == "arn:aws:states:::aws-sdk:cloudwatch:putMetricData":
            [statement] = [s for s in statements if "cloudwatch:PutMetricData" in as_list(s["Action"])]
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": {"Ref": "MetricsNamespace"}}}
            assert state["Arguments"]["Namespace"] == "${MetricsNamespace}", f"{name}: another namespace"
        else:
            pytest.fail(f"{name}: integration {resource} has no permission in template.yaml")
