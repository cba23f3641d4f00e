"""The local engine enforces AWS's quotas: history events, payload sizes, names; and serves histories as AWS does."""
import json
from pathlib import Path

import botocore.exceptions
import pytest

from local_tools.clock import RealClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURE_FUNCTIONS = Path(__file__).parent / "fixtures" / "functions"
KIB_256 = 256 * 1024


def event_types(result):
    return [event["type"] for event in result.events]


# --- 25,000 history events ---------------------------------------------------------------------------------------

def test_an_execution_that_reaches_25000_history_events_fails(engine):
    # Two Pass states chasing each other: two events per state, forever (JSONPath: the cheapest states to run).
    machine = engine.create_state_machine({"StartAt": "Ping", "States": {
        "Ping": {"Type": "Pass", "Next": "Pong"}, "Pong": {"Type": "Pass", "Next": "Ping"}}})
    execution_arn = engine.start_execution(machine, {})
    # Not engine.run: reading all 25,000 events through moto's serializer takes a minute or two; the newest do.
    described = engine.describe_when_ended(execution_arn, timeout=300)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == "The execution reached the maximum number of history events (25000)."
    newest = engine.sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=3)["events"]
    assert [event["id"] for event in newest] == [25_000, 24_999, 24_998]
    assert newest[0]["type"] == "ExecutionFailed" and newest[1]["type"] != "ExecutionFailed"


# --- payload sizes -----------------------------------------------------------------------------------------------

def pass_machine(engine):
    return engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "P",
                                        "States": {"P": {"Type": "Pass", "End": True}}})


def test_an_input_of_exactly_256_kib_passes_and_one_byte_more_is_refused(engine):
    machine = pass_machine(engine)
    exactly = json.dumps("x" * (KIB_256 - 2))  # the quotes make it 262,144 bytes
    assert engine.run(machine, exactly).status == "SUCCEEDED"

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        engine.start_execution(machine, json.dumps("x" * (KIB_256 - 1)))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in refused.value.response["Error"]["Message"]


@pytest.fixture
def big_result_machine(engine):
    function = engine.create_function("BigResult", FunctionSpec(FIXTURE_FUNCTIONS, "engine_fixture_handlers.slow.handler"))

    def machine(error_equals, arguments=None):
        task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                "Arguments": arguments or {"FunctionName": function, "Payload": "{% $states.input %}"},
                "Catch": [{"ErrorEquals": error_equals, "Next": "Caught", "Output": "{% $states.errorOutput %}"}]}
        return engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "Call",
                                            "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}})
    machine.function = function
    return machine


def test_a_result_over_256_kib_is_data_limit_exceeded_which_states_all_does_not_catch(engine, big_result_machine):
    result = engine.run(big_result_machine(["States.ALL"]), {"resultBytes": KIB_256})
    assert result.status == "FAILED"
    assert result.error == "States.DataLimitExceeded"


def test_data_limit_exceeded_is_caught_when_named(engine, big_result_machine):
    result = engine.run(big_result_machine(["States.DataLimitExceeded"]), {"resultBytes": KIB_256})
    assert result.status == "SUCCEEDED" and result.output["Error"] == "States.DataLimitExceeded"


def test_task_arguments_over_256_kib_fail_before_the_task_is_scheduled(engine, big_result_machine):
    machine = big_result_machine(["States.DataLimitExceeded"], arguments={
        "FunctionName": big_result_machine.function, "Payload": {"pad": "{% $pad('', 262144, 'x') %}"}})
    result = engine.run(machine, {})
    assert result.output["Error"] == "States.DataLimitExceeded", (result.error, result.cause)
    assert "TaskScheduled" not in event_types(result) and not engine.invocations


def test_states_all_does_not_catch_states_runtime(engine):
    # JSONPath Parameters reading a path the input lacks: States.Runtime.
    machine = engine.create_state_machine({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                 "Parameters": {"FunctionName": "any", "Payload": {"a.$": "$.missing"}},
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}})
    result = engine.run(machine, {})
    assert result.status == "FAILED" and result.error == "States.Runtime", (result.error, result.cause)


# --- names -------------------------------------------------------------------------------------------------------

def test_a_state_name_over_80_characters_is_an_invalid_definition(engine):
    def machine(name):
        return engine.create_state_machine({"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}})

    machine("S" * 80)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        machine("S" * 81)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "80" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize("name, code", [("n" * 81, "ValidationException"), ("has space", "InvalidName"),
                                        ("a:b", "InvalidName"), ("a/b", "InvalidName"), ("tab\there", "InvalidName")])
def test_execution_names_are_checked(engine, name, code):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        engine.start_execution(pass_machine(engine), {}, name=name)
    assert refused.value.response["Error"]["Code"] == code


def test_unnamed_executions_get_distinct_names(engine):
    machine = pass_machine(engine)
    arns = {engine.sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"] for _ in range(2)}
    assert len(arns) == 2 and not any(arn.endswith(":None") for arn in arns)


def test_start_execution_is_idempotent_only_while_the_same_input_runs():
    with LocalEngine(clock=RealClock()) as engine:  # real time: the execution must still be waiting
        machine = engine.create_state_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60,
                                                                                "End": True}}})
        first = engine.start_execution(machine, {"x": 1}, name="same")
        assert engine.start_execution(machine, {"x": 1}, name="same") == first
        with pytest.raises(engine.sfn.exceptions.ExecutionAlreadyExists):
            engine.start_execution(machine, {"x": 2}, name="same")
        engine.stop_execution(first)
        engine.wait(first)
        with pytest.raises(engine.sfn.exceptions.ExecutionAlreadyExists):
            engine.start_execution(machine, {"x": 1}, name="same")


# --- GetExecutionHistory and the aws-sdk integration -------------------------------------------------------------

def test_get_execution_history_pages_newest_first(engine):
    result = engine.run(pass_machine(engine), {"secret": "input"})
    page = engine.sfn.get_execution_history(executionArn=result.execution_arn, maxResults=2, reverseOrder=True,
                                            includeExecutionData=False)
    assert [event["type"] for event in page["events"]] == ["ExecutionSucceeded", "PassStateExited"]
    assert "output" not in page["events"][0]["executionSucceededEventDetails"]
    rest = engine.sfn.get_execution_history(executionArn=result.execution_arn, maxResults=2, reverseOrder=True,
                                            nextToken=page["nextToken"])
    assert [event["type"] for event in rest["events"]] == ["PassStateEntered", "ExecutionStarted"]
    assert "nextToken" not in rest and "input" in rest["events"][1]["executionStartedEventDetails"]


def test_aws_sdk_get_execution_history_speaks_pascal_case(engine):
    child = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "P",
                                         "States": {"P": {"Type": "Pass", "End": True}}}, name="child")
    parent = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "Start", "States": {
        "Start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                  "Arguments": {"StateMachineArn": child, "Name": "child-1", "Input": {"n": 1}}, "Next": "Read"},
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:getExecutionHistory",
                 "Arguments": {"ExecutionArn": "{% $states.context.Execution.Id %}", "ReverseOrder": True,
                               "MaxResults": 20, "IncludeExecutionData": True},
                 "Output": "{% ( $scheduled := $states.result.Events[Type = 'TaskScheduled' and "
                           "TaskScheduledEventDetails.Resource = 'startExecution'][0]; "
                           "{'types': $states.result.Events.Type, "
                           "'parameters': $parse($scheduled.TaskScheduledEventDetails.Parameters)} ) %}",
                 "End": True}}}, name="parent")
    result = engine.run(parent, {})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["types"][0] == "TaskStarted", "ReverseOrder: the newest event first"
    assert result.output["types"][-1] == "ExecutionStarted"
    assert result.output["parameters"] == {"StateMachineArn": child, "Name": "child-1", "Input": {"n": 1}}


def test_aws_sdk_errors_are_named_after_the_service_error(engine):
    machine = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "Read", "States": {
        "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:getExecutionHistory", "End": True,
                 "Arguments": {"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:none:none"}}}})
    result = engine.run(machine, {})
    assert result.error == "Sfn.ExecutionDoesNotExistException", (result.error, result.cause)

