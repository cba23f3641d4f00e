"""SAM template -> moto, EventBridge routing, and the status-change event of stopped executions."""
import json
import time
from pathlib import Path

import pytest

from local_tools.clock import RealClock
from local_tools.engine import LocalEngine
from local_tools.sam import deploy_sam_template

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
PRODUCT_TEMPLATE = Path(__file__).parents[2] / "template.yaml"


@pytest.fixture
def stack(engine):
    return deploy_sam_template(engine, FIXTURE_TEMPLATE, parameters={"PollSeconds": 5})


def test_fixture_template_deploys_and_runs(engine, stack):
    assert set(stack.functions) == {"CreateJobFunction", "GetJobFunction", "CleanupFunction"}
    assert stack.outputs["StateMachineArn"] == stack.state_machines["PollStateMachine"]
    assert stack.parameters == {"PollSeconds": "5", "FixtureMode": "template-default"}  # caller over default
    assert "${" not in stack.definitions["PollStateMachine"]
    assert stack.function_arns["CreateJobFunction"] in stack.definitions["PollStateMachine"]
    comment = json.loads(stack.definitions["PollStateMachine"])["Comment"]
    assert comment.endswith(  # Fn::Sub (with a variable map) and Fn::Join, resolved against the created stack
        f"Labels: local-stack/5/{stack.function_arns['CreateJobFunction']} template-default-5 "
        f"5,{stack.function_arns['GetJobFunction']}")

    result = engine.run(stack.state_machines["PollStateMachine"], {"doneAfter": 3, "label": "via template"})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.waits == [5, 5, 5]  # DefinitionSubstitutions PollSeconds: !Ref PollSeconds, overridden
    assert json.loads(engine.invocations[0].payload)["environment"] == "template-default"  # Globals env, resolved


def test_put_events_routes_to_the_state_machine_with_input_path(engine, stack):
    started = engine.put_events([
        {"Source": "fixture.jobs", "DetailType": "Run Job", "Detail": json.dumps({"doneAfter": 2, "label": "run-1"})},
        {"Source": "fixture.jobs", "DetailType": "Run Job", "Detail": {"doneAfter": 2, "label": "walk-1"}},  # prefix
        {"Source": "other", "DetailType": "Run Job", "Detail": {"label": "run-2"}},  # source
    ])
    assert len(started) == 1
    result = engine.wait(started[0])
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert json.loads(result.events[0]["executionStartedEventDetails"]["input"]) == {"doneAfter": 2, "label": "run-1"}
    assert result.output["label"] == "run-1"


def test_stopped_execution_emits_status_change_to_the_cleanup_lambda():
    # Real time here: the execution must still be waiting when it is stopped.
    with LocalEngine(clock=RealClock()) as engine:
        stack = deploy_sam_template(engine, FIXTURE_TEMPLATE, parameters={"PollSeconds": 60})
        execution_arn = engine.start_execution(stack.state_machines["PollStateMachine"], {"doneAfter": 5})
        _wait_for_event(engine, execution_arn, "WaitStateEntered")
        engine.stop_execution(execution_arn)
        result = engine.wait(execution_arn)

        assert result.status == "ABORTED"
        cleanup = [d for d in engine.deliveries if d.target_arn == stack.function_arns["CleanupFunction"]]
        assert len(cleanup) == 1 and cleanup[0].error is None and not cleanup[0].lambda_errored
        assert cleanup[0].lambda_payload == {"cleaned": execution_arn, "status": "ABORTED"}
        event = json.loads(cleanup[0].input)
        assert event["source"] == "aws.states"
        assert event["detail-type"] == "Step Functions Execution Status Change"
        assert event["detail"]["stateMachineArn"] == stack.state_machines["PollStateMachine"]
        assert f"cleanup saw ABORTED for {execution_arn}" in engine.logs


def test_timed_out_execution_emits_status_change_to_the_cleanup_lambda(engine, stack):
    machine = engine.create_state_machine({
        "QueryLanguage": "JSONata", "TimeoutSeconds": 60, "StartAt": "Forever",
        "States": {"Forever": {"Type": "Wait", "Seconds": 45, "Next": "Forever"}},
    })
    result = engine.run(machine, {})
    assert result.status == "TIMED_OUT"
    [cleanup] = [d for d in engine.deliveries if d.target_arn == stack.function_arns["CleanupFunction"]]
    assert cleanup.lambda_payload == {"cleaned": result.execution_arn, "status": "TIMED_OUT"}


def test_succeeded_execution_does_not_reach_the_cleanup_rule(engine, stack):
    engine.run(stack.state_machines["PollStateMachine"], {"doneAfter": 1})
    assert not [d for d in engine.deliveries if d.target_arn == stack.function_arns["CleanupFunction"]]


def test_unknown_parameter_is_rejected(engine):
    with pytest.raises(ValueError, match="NoSuchParameter"):
        deploy_sam_template(engine, FIXTURE_TEMPLATE, parameters={"NoSuchParameter": "1"})


def test_product_template_deploys(engine):
    secret_arn = engine.create_secret("airbyte-sync/credentials", {"client_id": "id", "client_secret": "secret"})
    stack = deploy_sam_template(engine, PRODUCT_TEMPLATE, parameters={
        "AirbyteApiUrl": "http://127.0.0.1:8000/api/public/v1", "AirbyteSecretArn": secret_arn})

    assert {"CreateJobFunction", "GetJobFunction", "CancelJobFunction", "ExecutionStoppedFunction"} <= set(
        stack.functions)
    assert set(stack.state_machines) == {"SyncStateMachine", "SyncConnectionsStateMachine"}
    described = {logical_id: engine.sfn.describe_state_machine(stateMachineArn=arn)["definition"]  # executable
                 for logical_id, arn in stack.state_machines.items()}
    assert not any("${" in definition for definition in described.values())
    assert stack.function_arns["CreateJobFunction"] in described["SyncStateMachine"]
    # The second machine starts executions of the first (and invokes its own function).
    assert stack.state_machines["SyncStateMachine"] in described["SyncConnectionsStateMachine"]
    assert stack.function_arns["ListConnectionsFunction"] in described["SyncConnectionsStateMachine"]
    for name in stack.functions.values():
        configuration = engine.lambda_.get_function(FunctionName=name)["Configuration"]
        variables = configuration["Environment"]["Variables"]
        assert variables["AIRBYTE_SECRET_ARN"] == secret_arn
        assert variables["AIRBYTE_API_URL"] == "http://127.0.0.1:8000/api/public/v1"
    patterns = [json.loads(rule["EventPattern"]) for rule in engine.events.list_rules()["Rules"]]
    assert any(pattern.get("source") == ["aws.states"] for pattern in patterns)


def _wait_for_event(engine, execution_arn, event_type, timeout=10.0):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if any(event["type"] == event_type for event in engine.history(execution_arn)):
            return
        time.sleep(0.01)
    raise AssertionError(f"{execution_arn} never reached {event_type}")
