"""The local engine fails where AWS fails: Lambda and Task timeouts, history and payload limits, field values."""
import json
import re
from pathlib import Path

import botocore.exceptions
import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURE_FUNCTIONS = Path(__file__).parent / "fixtures" / "functions"
START = 1_800_000_000.0


@pytest.fixture
def engine():
    # The slow handler sleeps through engine_fixture_handlers.pause: on the VirtualClock, and charged to it.
    with LocalEngine(clock=VirtualClock(start=START), sleep_modules=("engine_fixture_handlers.pause",)) as running:
        yield running


def slow_function(engine, timeout=10, name="SlowFunction"):
    return engine.create_function(name, FunctionSpec(FIXTURE_FUNCTIONS, "engine_fixture_handlers.slow.handler",
                                                     timeout=timeout))


def task_machine(engine, function_arn, **task):
    """One lambda:invoke Task (its Payload is the execution input), answering its result's Payload."""
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Arguments": {"FunctionName": function_arn, "Payload": "{% $states.input %}"},
             "Output": "{% $states.result.Payload %}", "End": True, **task}
    states = {"Call": state, "Caught": {"Type": "Pass", "End": True}}
    return engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "Call", "States": states})


def event_types(result):
    return [event["type"] for event in result.events]


# --- Lambda function timeout -------------------------------------------------------------------------------------

def test_a_handler_past_its_function_timeout_fails_sandbox_timedout(engine):
    machine = task_machine(engine, slow_function(engine, timeout=10))
    result = engine.run(machine, {"sleep": 12})

    assert result.status == "FAILED"
    assert result.error == "Sandbox.Timedout"
    assert result.cause_json["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(r"RequestId: [0-9a-f-]{36} Error: Task timed out after 10\.00 seconds",
                        result.cause_json["errorMessage"]), result.cause
    failed = [event for event in result.events if event["type"] == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "Sandbox.Timedout"
    assert "Task timed out after 10.00 seconds" in engine.logs  # the line Lambda writes to the function's log


def test_a_handler_within_its_timeout_succeeds_and_sees_its_remaining_time(engine):
    machine = task_machine(engine, slow_function(engine, timeout=10))
    result = engine.run(machine, {"sleep": 4})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert 9_000 < result.output["remainingBefore"] <= 10_000
    assert 5_000 < result.output["remainingAfter"] <= 6_000, "the 4 virtual seconds slept count against the Timeout"


def test_a_handler_that_fails_after_its_timeout_reports_the_timeout(engine):
    result = engine.run(task_machine(engine, slow_function(engine, timeout=3)), {"sleep": 5, "fail": True})
    assert result.error == "Sandbox.Timedout", "Lambda stops it at 3 s: its later exception never happens"


def test_a_direct_invoke_past_the_timeout_is_a_function_error(engine):
    slow_function(engine, timeout=2)
    response = engine.lambda_.invoke(FunctionName="SlowFunction", Payload=json.dumps({"sleep": 3}).encode())
    assert "FunctionError" in response
    assert json.loads(response["Payload"].read())["errorType"] == "Sandbox.Timedout"


# --- Task TimeoutSeconds -----------------------------------------------------------------------------------------

def test_a_task_past_its_timeout_seconds_fails_states_timeout_on_virtual_time(engine):
    machine = task_machine(engine, slow_function(engine, timeout=60), TimeoutSeconds=5,
                           Assign={"assigned": "{% $states.result.Payload %}"},
                           Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Caught",
                                   "Output": "{% $states.errorOutput %}"}])
    result = engine.run(machine, {"sleep": 8})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["Error"] == "States.Timeout"
    assert "TaskTimedOut" in event_types(result)
    exits = [event for event in result.events if event["type"] == "TaskStateExited"]
    assert all("assignedVariables" not in event["stateExitedEventDetails"] for event in exits), (
        "a timed-out Task assigns nothing")


def test_the_function_timeout_comes_first_when_it_is_shorter(engine):
    machine = task_machine(engine, slow_function(engine, timeout=5), TimeoutSeconds=20)
    result = engine.run(machine, {"sleep": 8})
    assert result.error == "Sandbox.Timedout", "Lambda stops the handler at 5 s, before the Task's 20 s"


def test_a_task_within_its_timeout_seconds_succeeds(engine):
    result = engine.run(task_machine(engine, slow_function(engine, timeout=60), TimeoutSeconds=10), {"sleep": 5})
    assert result.status == "SUCCEEDED", (result.error, result.cause)


# --- Wait Seconds and other integer fields -----------------------------------------------------------------------

def wait_machine(engine, seconds):
    return engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "Pause",
                                        "States": {"Pause": {"Type": "Wait", "Seconds": seconds, "End": True}}})


@pytest.mark.parametrize("expression", ["{% 1.5 %}", "{% -1 %}", "{% 100000000 %}", "{% 'abc' %}", "{% true %}"])
def test_wait_seconds_outside_0_to_99999999_fails_the_state(engine, expression):
    result = engine.run(wait_machine(engine, expression), {})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert "specified for the field 'Seconds'" in result.cause
    [evaluation] = [event for event in result.events if event["type"] == "EvaluationFailed"]
    assert evaluation["evaluationFailedEventDetails"]["location"] == "Seconds"
    assert result.waits == [], "the state fails before it waits"


def test_wait_seconds_of_a_whole_number_waits(engine):
    result = engine.run(wait_machine(engine, "{% 99999999 / 99999999 * 5.0 %}"), {})
    assert result.status == "SUCCEEDED" and result.waits == [5]


@pytest.mark.parametrize("seconds", [100000000, -1, 1.5])
def test_a_literal_wait_seconds_outside_the_range_is_an_invalid_definition(engine, seconds):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        wait_machine(engine, seconds)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"


def test_timeout_seconds_expression_must_be_a_positive_integer(engine):
    machine = task_machine(engine, slow_function(engine), TimeoutSeconds="{% 0 %}")
    result = engine.run(machine, {})
    assert result.error == "States.QueryEvaluationError" and "'TimeoutSeconds'" in result.cause


# --- JSONata expressions that fail or give nothing ---------------------------------------------------------------

UNDEFINED = "{% $states.input.missing %}"


@pytest.mark.parametrize("field, state", [
    ("Output", {"Type": "Pass", "Output": {"a": UNDEFINED}, "End": True}),
    ("Assign", {"Type": "Pass", "Assign": {"a": UNDEFINED}, "End": True}),
    ("Condition", {"Type": "Choice", "Choices": [{"Condition": UNDEFINED, "Next": "End"}], "Default": "End"}),
    ("Seconds", {"Type": "Wait", "Seconds": UNDEFINED, "End": True}),
    ("Items", {"Type": "Map", "Items": UNDEFINED, "End": True,
               "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}),
    ("Arguments", "task"), ("TimeoutSeconds", "task"),
])
def test_an_expression_that_evaluates_to_nothing_fails_the_state_once(engine, field, state):
    if state == "task":
        state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                 "Arguments": {"FunctionName": slow_function(engine), "Payload": {"sleep": 0}}}
        state["Arguments" if field == "Arguments" else "TimeoutSeconds"] = (
            {"FunctionName": state["Arguments"]["FunctionName"], "Payload": UNDEFINED}
            if field == "Arguments" else UNDEFINED)
    machine = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "S",
                                           "States": {"S": state, "End": {"Type": "Succeed"}}})
    result = engine.run(machine, {})

    assert result.status == "FAILED" and result.error == "States.QueryEvaluationError", (result.error, result.cause)
    assert "returned nothing (undefined)" in result.cause
    assert event_types(result).count("EvaluationFailed") == 1, event_types(result)
    assert not engine.invocations, "nothing is invoked with a field that has no value"


@pytest.mark.parametrize("expression", ["{% 1 + 'a' %}", "{% $sum(['a']) %}"])
def test_an_expression_that_throws_is_a_query_evaluation_error(engine, expression):
    machine = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
        "S": {"Type": "Pass", "Output": expression, "End": True}}})
    result = engine.run(machine, {})
    assert result.error == "States.QueryEvaluationError", (result.error, result.cause)
    assert "EvaluationFailed" in event_types(result)


def test_a_query_evaluation_error_is_caught_by_states_all(engine):
    machine = task_machine(engine, slow_function(engine), Arguments={"FunctionName": "{% 1 + 'a' %}"},
                           Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught",
                                   "Output": "{% $states.errorOutput.Error %}"}])
    result = engine.run(machine, {})
    assert result.output == "States.QueryEvaluationError", (result.error, result.cause)
