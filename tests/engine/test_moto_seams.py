"""One test per moto seam (local_tools/engine/seams/): each fails naming the seam if a moto upgrade moves it."""
import datetime
import json
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from local_tools.engine import seams as moto_seams
from local_tools.clock import RealClock, VirtualClock

START = 1_800_000_000.0


def _fake_env(execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e"):
    return SimpleNamespace(states=SimpleNamespace(context_object=SimpleNamespace(
        context_object_data={"Execution": {"Id": execution_arn}})))


@pytest.fixture
def undo_all():
    undos = []
    yield undos
    for undo in reversed(undos):
        undo()


def test_moto_is_the_pinned_version():
    moto_seams.check_moto_version()  # raises SeamMoved naming both versions otherwise


# --- 1. JSONata evaluation ---------------------------------------------------------------------------------------

# Values moto keeps for $states and variables, as the evaluator must see them (5.0 is 5, null is null and exists,
# nested arrays, strings with quotes and newlines, a variable shadowing $now), and the clock.
QUOTED = 'he said "hi" \\ back\\slash\nnew line \t tab \u00e9 {% $x %}'
JSONATA_MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "Assign",
    "States": {
        "Assign": {
            "Type": "Pass",
            "Assign": {"n": "{% $states.input.n %}", "nothing": None, "nested": [[1, 2], [3]],
                       "text": "{% $states.input.s %}", "obj": {"a": None, "b": [None, 1.5]},
                       "enteredAt": "{% $millis() %}"},
            "Next": "Later",
        },
        "Later": {"Type": "Wait", "Seconds": 90, "Next": "Read"},
        "Read": {
            "Type": "Pass",
            "Output": {
                "n": "{% $n %}", "nString": "{% $string($n) %}", "nType": "{% $type($n) %}",
                "nothingExists": "{% $exists($nothing) %}", "nothingIsNull": "{% $nothing = null %}",
                "flat": "{% $nested[0] %}", "all": "{% $nested %}", "count": "{% $count($nested) %}",
                "text": "{% $text %}", "objA": "{% $type($obj.a) %}", "objB": "{% $obj.b %}",
                "input": "{% $states.input %}", "context": "{% $states.context.State.Name %}",
                "enteredAt": "{% $enteredAt %}", "millis": "{% $millis() %}", "now": "{% $now() %}",
                "sameInstant": "{% $toMillis($now()) = $millis() %}",
                "sum": "{% ($x := 2; $now := 40; $x + $now) %}", "merged": "{% $merge([$obj, {'c': $n}]) %}",
                "fallback": "{% $exists($undefinedVariable) ? 'defined' : 'undefined' %}",
                "partition": "{% $partition([1, 2, 3], 2) %}",
                # $states is bound whole, as on AWS: moto's reference regex reads `/ 2 + $count(...) /` as a regex
                # literal and would bind $states.input only ($count(undefined) = 0, 2.5).
                "divided": "{% $states.input.n / 2 + $count($states.context.Execution.Input) / 2 %}",
            },
            "End": True,
        },
    },
}


def _run_jsonata_machine(engine, runs=1):
    machine = engine.create_state_machine(JSONATA_MACHINE)
    results = [engine.run(machine, {"n": 5.0, "s": QUOTED}) for _ in range(runs)]
    for result in results:
        assert result.status == "SUCCEEDED", (result.error, result.cause)
    return results[-1].output


def test_jsonata_seam_evaluates_moto_values_on_the_engine_clock():
    from local_tools.engine import LocalEngine

    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        output = _run_jsonata_machine(engine)
    assert output["n"] == 5 and output["nString"] == "5" and output["nType"] == "number"
    assert output["nothingExists"] is True and output["nothingIsNull"] is True
    assert output["flat"] == [1, 2] and output["all"] == [[1, 2], [3]] and output["count"] == 2
    assert output["text"] == QUOTED and output["input"] == {"n": 5, "s": QUOTED}
    assert output["objA"] == "null" and output["objB"] == [None, 1.5] and output["merged"] == {
        "a": None, "b": [None, 1.5], "c": 5}
    assert output["context"] == "Read" and output["fallback"] == "undefined"
    assert output["enteredAt"] == int(START * 1000), "$millis() must read the engine clock"
    assert output["millis"] == int((START + 90) * 1000), "$millis() must follow the clock through a Wait"
    assert output["now"] == "2027-01-15T08:01:30.000Z" and output["sameInstant"] is True
    assert output["sum"] == 42, "a variable declared in the expression shadows $now"
    assert output["partition"] == [[1, 2], [3]] and output["divided"] == 3


def test_jsonata_seam_binds_what_an_expression_can_reach():
    """Only the variables an expression names go to Node: each still sees its own, a shadowing block its own."""
    from local_tools.engine import LocalEngine

    machine_definition = {"QueryLanguage": "JSONata", "StartAt": "Assign", "States": {
        "Assign": {"Type": "Pass", "Assign": {"n": 7, "nested": {"a": [1, 2]}, "n2": 9}, "Next": "Read"},
        "Read": {"Type": "Pass", "Output": {
            "n": "{% $n %}", "n2": "{% $n2 %}", "a": "{% $nested.a[1] %}", "input": "{% $states.input.x %}",
            "missing": "{% $exists($n3) %}", "shadowed": "{% ($n := 1; $n + $n2) %}"}, "End": True}}}
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        result = engine.run(engine.create_state_machine(machine_definition), {"x": "from input"})
    assert result.output == {"n": 7, "n2": 9, "a": 2, "input": "from input", "missing": False, "shadowed": 10}


def test_jsonata_seam_parses_each_expression_once():
    from local_tools.engine import LocalEngine

    fields = [value for state in JSONATA_MACHINE["States"].values()
              for value in [*state.get("Assign", {}).values(), *state.get("Output", {}).values()]
              if isinstance(value, str) and value.startswith("{%")]
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        _run_jsonata_machine(engine, runs=3)
        bridge = engine.jsonata
        stats = bridge.stats()
    assert stats["evaluations"] == 3 * len(fields), stats
    assert stats["parsed"] == len(set(fields)), f"seam 1: expressions re-parsed: {stats}"
    assert bridge.starts == 1, "one Node process per engine"


@pytest.mark.parametrize("output, error, cause", [
    ("{% $states.input.missing %}", "States.QueryEvaluationError",
     "The JSONata expression '$states.input.missing' returned nothing (undefined)."),
    ("{% function($x) { $x } %}", "States.QueryEvaluationError",
     "The JSONata expression 'function($x) { $x }' returned an unsupported result type."),
    # An expression that throws fails the state with States.QueryEvaluationError, as on AWS (seam 16).
    ("{% $nope(1) %}", "States.QueryEvaluationError", "T1006: Attempted to invoke a non-function"),
    ("{% $eval('1 + 1') %}", "States.QueryEvaluationError", "T1006: Attempted to invoke a non-function"),
    ("{% 1 + %}", "States.QueryEvaluationError", "S0207: Unexpected end of expression"),
], ids=["undefined", "function", "error", "no $eval", "syntax"])
def test_jsonata_seam_fails_states_as_moto_does(output, error, cause):
    from local_tools.engine import LocalEngine

    machine = {"QueryLanguage": "JSONata", "StartAt": "Read", "States": {"Read": {
        "Type": "Pass", "Output": output, "End": True}}}
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        result = engine.run(engine.create_state_machine(machine), {"present": 1})
    assert result.status == "FAILED" and result.error == error, (result.error, result.cause)
    assert cause in result.cause
    if error == "States.QueryEvaluationError":
        assert [e["type"] for e in result.events].count("EvaluationFailed") == 1


def test_jsonata_seam_undo_restores_moto_and_stops_node(undo_all):
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringJSONata,
        StringVariableSample,
    )
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    from local_tools.engine.jsonata_bridge import JsonataBridge

    before = (StringJSONata.__dict__["_eval_body"], StringVariableSample.__dict__["_eval_body"],
              moto_jsonata._eval_jsonata)
    bridge = JsonataBridge()
    undo = moto_seams.install_jsonata_evaluator(RealClock(), bridge)
    assert StringJSONata.__dict__["_eval_body"] is not before[0]
    with pytest.raises(moto_seams.SeamMoved, match="composed JSONata text"):
        moto_jsonata.eval_jsonata_expression("(1 + 1)")
    assert bridge.evaluate("1 + 1") == 2
    process = bridge._process
    undo()
    assert (StringJSONata.__dict__["_eval_body"], StringVariableSample.__dict__["_eval_body"],
            moto_jsonata._eval_jsonata) == before
    assert process.poll() is not None, "undo must stop the Node process"


# --- 3. Lambda invocation ----------------------------------------------------------------------------------------

@mock_aws
def test_lambda_invoker_seam_routes_invoke_and_function_errors(undo_all):
    calls = []

    def invoke(function, event):
        calls.append((function.function_name, function.handler, dict(function.environment_vars), event))
        if event.get("fail"):
            return json.dumps({"errorMessage": "no", "errorType": "Fixture.AuthError", "stackTrace": []}), True, ""
        return json.dumps({"echo": event}), False, "log line"

    undo_all.append(moto_seams.install_lambda_invoker(invoke))
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(FunctionName="f", Runtime="python3.13", Role=role, Handler="pkg.mod.handler",
                           Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
                           Environment={"Variables": {"A": "1"}})
    ok = client.invoke(FunctionName="f", Payload=b'{"x": 1}')
    assert json.loads(ok["Payload"].read()) == {"echo": {"x": 1}}
    assert calls[0] == ("f", "pkg.mod.handler", {"A": "1"}, {"x": 1}), (
        "seam awslambda.LambdaFunction._invoke_lambda: function attributes or decoded event changed")
    failed = client.invoke(FunctionName="f", Payload=b'{"fail": true}')
    assert failed.get("FunctionError") == "Handled", "errored=True no longer marks the invoke as a function error"


# --- 4. Wait on the clock ----------------------------------------------------------------------------------------

def test_wait_seam_sleeps_on_the_clock(undo_all):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    clock, recorded = VirtualClock(start=START), []
    undo_all.append(moto_seams.install_wait_on_clock(clock, lambda arn, seconds: recorded.append((arn, seconds))))
    WaitFunction._wait_interval(None, _fake_env("exec-1"), 3600)
    assert clock.now() == START + 3600 and clock.sleeps == [3600], "seam WaitFunction._wait_interval not in effect"
    assert recorded == [("exec-1", 3600)]


# --- 5. Retry on the clock ---------------------------------------------------------------------------------------

def test_retry_seam_sleeps_on_the_clock(undo_all):
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    clock, recorded = VirtualClock(start=START), []
    undo_all.append(moto_seams.install_retry_on_clock(clock, lambda arn, seconds: recorded.append(seconds)))
    retrier_decl.time.sleep(12.5)  # what RetrierDecl._eval_body calls between attempts
    assert clock.sleeps == [12.5] and recorded == [12.5], "seam retrier_decl.time.sleep not in effect"
    assert retrier_decl.time.time() > 0, "the stand-in must still behave like the time module otherwise"


# --- 6. Timestamps on the clock ----------------------------------------------------------------------------------

def test_timestamp_seam_puts_start_and_entered_times_on_the_clock(undo_all):
    import moto.stepfunctions.parser.asl.component.state.state as state_module
    import moto.stepfunctions.parser.backend.execution as execution_module
    import moto.stepfunctions.parser.models as models_module

    clock = VirtualClock(start=START)
    undo_all.append(moto_seams.install_timestamps_on_clock(clock))
    expected = datetime.datetime.fromtimestamp(START, datetime.timezone.utc)
    for module in (models_module, state_module, execution_module):
        assert module.datetime.datetime.now(tz=module.datetime.timezone.utc) == expected, module.__name__


# --- 7. TimeoutSeconds on the clock ------------------------------------------------------------------------------

def test_program_timeout_seam_installs(undo_all):
    from moto.stepfunctions.parser.asl.component.program.program import Program

    original = Program.__dict__["eval"]
    undo = moto_seams.install_program_timeout_on_clock(VirtualClock())
    assert Program.__dict__["eval"] is not original
    undo()
    assert Program.__dict__["eval"] is original
    # Behaviour (a TimeoutSeconds reached on virtual time): test_local_engine.test_timeout_seconds_on_virtual_time


# --- 8. Execution ended hook -------------------------------------------------------------------------------------

def test_execution_ended_hook_seam_installs(undo_all):
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.__dict__["terminated"]
    undo = moto_seams.install_execution_ended_hook(lambda execution: None)
    assert BaseExecutionWorkerCommunication.__dict__["terminated"] is not original
    undo()
    assert BaseExecutionWorkerCommunication.__dict__["terminated"] is original
    # Behaviour (status-change event on ABORTED/TIMED_OUT): test_sam_deploy.test_stopped_execution_*


# --- 9. Task clients reused -------------------------------------------------------------------------------------

@mock_aws
def test_task_client_cache_seam_reuses_one_client(undo_all):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    original = lambda_eval_utils.boto_client_for
    assert original("us-east-1", "lambda") is not original("us-east-1", "lambda")  # what moto does per Task
    undo = moto_seams.install_task_client_cache()
    first = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda", state_credentials=None)
    assert lambda_eval_utils.boto_client_for("us-east-1", "lambda") is first, (
        "seam boto_client_for (Task clients) not in effect")
    assert state_task_service_sfn.boto_client_for("us-east-1", "stepfunctions") is not first
    assert lambda_eval_utils.boto_client_for("eu-west-1", "lambda") is not first
    undo()
    assert lambda_eval_utils.boto_client_for is original and state_task_service_sfn.boto_client_for is original


# --- 10. startExecution casing -----------------------------------------------------------------------------------

CHILD_MACHINE = {"QueryLanguage": "JSONata", "StartAt": "Echo",
                 "States": {"Echo": {"Type": "Pass", "Output": "{% {'got': $states.input} %}", "End": True}}}


def test_sfn_integration_casing_seam_runs_start_execution_sync2():
    from local_tools.engine import LocalEngine

    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        child = engine.create_state_machine(CHILD_MACHINE, name="child")
        parent = engine.create_state_machine({
            "QueryLanguage": "JSONata", "StartAt": "Start",
            "States": {"Start": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Arguments": {"StateMachineArn": child, "Name": "child-run", "Input": {"x": [1, "two"]}},
                "Output": "{% {'output': $states.result.Output, 'status': $states.result.Status, "
                          "'arn': $states.result.ExecutionArn} %}",
                "End": True}}}, name="parent")
        result = engine.run(parent, {})
    assert result.status == "SUCCEEDED", (
        "seam StateTaskServiceSfn._normalise_parameters/_normalise_response: " + str((result.error, result.cause)))
    assert result.output["output"] == {"got": {"x": [1, "two"]}}
    assert result.output["status"] == "SUCCEEDED" and result.output["arn"].endswith(":child:child-run")


def test_sfn_integration_casing_seam_undo_restores_moto(undo_all):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    before = StateTaskServiceSfn.__dict__["_normalise_parameters"]
    undo = moto_seams.install_service_integration_casing()
    assert "_normalise_response" in StateTaskServiceSfn.__dict__
    undo()
    assert StateTaskServiceSfn.__dict__["_normalise_parameters"] is before
    assert "_normalise_response" not in StateTaskServiceSfn.__dict__


def test_sfn_integration_casing_seam_runs_aws_sdk_get_execution_history():
    """A child reads its parent's latest events through aws-sdk:sfn:getExecutionHistory, in AWS's PascalCase."""
    from local_tools.engine import LocalEngine

    reader = {"QueryLanguage": "JSONata", "StartAt": "Read", "States": {"Read": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:getExecutionHistory",
        "Arguments": {"ExecutionArn": "{% $states.input.parent %}", "ReverseOrder": True, "MaxResults": 3,
                      "IncludeExecutionData": True},
        "Output": "{% {'ids': $states.result.Events.Id, 'scheduled': $states.result.Events[Type = "
                  "'TaskScheduled'].TaskScheduledEventDetails} %}",
        "End": True}}}
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        child = engine.create_state_machine(reader, name="reader")
        parent = engine.create_state_machine({
            "QueryLanguage": "JSONata", "StartAt": "Start",
            "States": {"Start": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Arguments": {"StateMachineArn": child, "Name": "reader-run",
                              "Input": "{% {'parent': $states.context.Execution.Id} %}"},
                "Output": "{% $states.result.Output %}", "End": True}}}, name="parent")
        result = engine.run(parent, {})
    assert result.status == "SUCCEEDED", (
        "seam StateTaskServiceSfn._normalise_parameters/_normalise_response (aws-sdk): "
        + str((result.error, result.cause)))
    ids = result.output["ids"]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True), ids   # the newest three, newest first
    scheduled = result.output["scheduled"]
    assert (scheduled["ResourceType"], scheduled["Resource"]) == ("states", "startExecution.sync:2")
    assert json.loads(scheduled["Parameters"])["Name"] == "reader-run"


def test_sfn_integration_casing_seam_undo_restores_moto_aws_sdk(undo_all):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )

    undo = moto_seams.install_service_integration_casing()
    assert "_normalise_parameters" in StateTaskServiceAwsSdk.__dict__
    undo()
    assert "_normalise_parameters" not in StateTaskServiceAwsSdk.__dict__
    assert "_normalise_response" not in StateTaskServiceAwsSdk.__dict__


# --- 11. history paging ------------------------------------------------------------------------------------------

def test_execution_history_paging_seam_pages_newest_first():
    from local_tools.engine import LocalEngine

    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        machine = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}})
        result = engine.run(machine, {})
        everything = engine.sfn.get_execution_history(executionArn=result.execution_arn)["events"]
        first = engine.sfn.get_execution_history(executionArn=result.execution_arn, reverseOrder=True, maxResults=2)
        rest = engine.sfn.get_execution_history(executionArn=result.execution_arn, reverseOrder=True,
                                                maxResults=100, nextToken=first["nextToken"])
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)
    assert [e["type"] for e in first["events"]] == ["ExecutionSucceeded", "PassStateExited"]
    assert first["events"] + rest["events"] == everything[::-1]
    assert "nextToken" not in rest


def test_execution_history_paging_seam_undo_restores_moto(undo_all):
    from moto.stepfunctions.responses import StepFunctionResponse

    before = StepFunctionResponse.__dict__["get_execution_history"]
    undo = moto_seams.install_execution_history_paging()
    assert StepFunctionResponse.__dict__["get_execution_history"] is not before
    undo()
    assert StepFunctionResponse.__dict__["get_execution_history"] is before


# --- 22. Parse trees kept ------------------------------------------------------------------------------------------

def test_parse_tree_cache_seam_parses_a_text_once_and_builds_a_fresh_program_each_time(undo_all):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    text = json.dumps(CHILD_MACHINE)
    before = AmazonStateLanguageParser.__dict__["parse"]
    undo = moto_seams.install_parse_tree_cache()
    first_program, first_tree = AmazonStateLanguageParser.parse(text)
    second_program, second_tree = AmazonStateLanguageParser.parse(text)
    assert second_tree is first_tree, "seam AmazonStateLanguageParser.parse not in effect: the text was parsed again"
    assert second_program is not first_program  # moto's Program keeps per-execution state: never shared
    assert type(second_program) is type(first_program)
    assert AmazonStateLanguageParser.parse(json.dumps({**CHILD_MACHINE, "Comment": "other"}))[1] is not first_tree
    for _ in range(2):  # a definition with syntax errors is refused every time, as by moto
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}')
    undo()
    assert AmazonStateLanguageParser.__dict__["parse"] is before


def test_parse_tree_cache_seam_runs_the_same_machine_twice_at_once():
    """Two executions of one definition, concurrently, each with its own Map iterations and variables."""
    from local_tools.engine import LocalEngine

    machine_definition = {"QueryLanguage": "JSONata", "StartAt": "Each", "States": {"Each": {
        "Type": "Map", "Items": "{% $states.input.items %}", "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "Later", "States": {
            "Later": {"Type": "Wait", "Seconds": 5, "Assign": {"item": "{% $states.input %}"}, "Next": "Echo"},
            "Echo": {"Type": "Pass", "Output": "{% $item * 10 %}", "End": True}}},
        "End": True}}}
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        machine = engine.create_state_machine(machine_definition)
        first = engine.start_execution(machine, {"items": [1, 2, 3]})
        second = engine.start_execution(machine, {"items": [4, 5]})
        results = [engine.wait(first), engine.wait(second)]
    assert [r.output for r in results] == [[10, 20, 30], [40, 50]]


# --- 24. `.sync` wakes on execution end ---------------------------------------------------------------------------

def test_sync_wake_seam_wakes_a_sync_task_when_an_execution_ends(undo_all):
    import threading
    import time

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback_module,
    )

    wake = moto_seams.SyncWake()
    undo = moto_seams.install_sync_wake(wake)
    assert callback_module.time is not time and callback_module.time.monotonic is time.monotonic
    sleeper = threading.Thread(target=callback_module.time.sleep, args=(600,), daemon=True)
    sleeper.start()
    sleeper.join(timeout=0.2)
    assert sleeper.is_alive()  # no execution ended: it sleeps on
    wake.notify()
    sleeper.join(timeout=30)
    assert not sleeper.is_alive(), "seam StateTaskServiceCallback._eval_sync (time.sleep) not in effect"
    undo()
    assert callback_module.time is time


# --- 23. History read directly --------------------------------------------------------------------------------------

def test_history_read_seam_gives_the_events_the_api_gives():
    from local_tools.engine import LocalEngine

    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        machine = engine.create_state_machine({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Output": {"when": "{% $now() %}"}, "Next": "B"},
            "B": {"Type": "Fail", "Error": "Demo.Failed", "Cause": "on purpose"}}})
        result = engine.run(machine, {"x": 1})
        through_the_api = engine.sfn.get_execution_history(executionArn=result.execution_arn, maxResults=1000)
        direct = moto_seams.read_history(engine.account_id, engine.region, result.execution_arn)
        assert engine.history(result.execution_arn) == direct
    assert result.status == "FAILED" and len(direct) == 5
    assert direct == through_the_api["events"]  # types, timestamps (aware datetimes) and every detail
    assert [type(event["type"]) for event in direct] == [str] * 5


def test_history_read_seam_moved_fails_loudly(monkeypatch):
    from moto.stepfunctions import responses

    monkeypatch.delattr(responses, "get_backend")
    with pytest.raises(moto_seams.SeamMoved, match="read_history"):
        moto_seams.read_history("123456789012", "us-east-1", "arn:aws:states:us-east-1:123456789012:execution:m:e")


# --- 20. events:putEvents through the engine ----------------------------------------------------------------------

PUT_EVENTS_MACHINE = json.dumps({"StartAt": "Put", "States": {"Put": {
    "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
    "Parameters": {"Entries": [{"Source": "s", "DetailType": "d", "Detail": {"a": 1}, "Resources": ["r"]}]},
    "End": True}}})


def _run_moto_machine(definition: str) -> tuple[dict, str]:
    """moto's own interpreter (no engine): the description of one finished execution, and the machine's ARN."""
    import time

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(name="m", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="e")["executionArn"]
    for _ in range(400):  # moto runs the execution in a thread of its own
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            return description, machine
        time.sleep(0.025)
    raise AssertionError("the execution did not end")


@pytest.mark.parametrize("answer, status, error", [
    ({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}, "SUCCEEDED", None),
    ({"FailedEntryCount": 1, "Entries": [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}]},
     "FAILED", "EventBridge.FailedEntry"),
    (moto_seams.PutEventsRefused("ValidationException", "too many"), "FAILED", "EventBridge.ValidationException"),
])
def test_events_put_events_seam_puts_through_the_engine(undo_all, answer, status, error):
    requests = []

    def put_events(request):
        requests.append(json.loads(json.dumps(request)))
        if isinstance(answer, Exception):
            raise answer
        return answer

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        undo_all.append(moto_seams.install_events_put_events(put_events))
        description, machine = _run_moto_machine(PUT_EVENTS_MACHINE)
    assert description["status"] == status, "seam StateTaskServiceEvents._eval_service_task: " + str(description)
    # moto's normalisation is kept: Detail as JSON text, the machine's and execution's ARNs appended to Resources.
    assert requests == [{"Entries": [{"Source": "s", "DetailType": "d", "Detail": '{"a": 1}',
                                      "Resources": ["r", machine, description["executionArn"]]}]}]
    if status == "SUCCEEDED":
        assert json.loads(description["output"]) == answer
    else:
        assert description["error"] == error
        # A failed entry's cause is PutEvents' answer as JSON text; a refused request's, its message.
        expected = json.dumps(answer, separators=(",", ":")) if error == moto_seams.FAILED_ENTRY else "too many"
        assert description["cause"] == expected


def test_events_put_events_seam_undo_restores_moto(undo_all):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events import (
        StateTaskServiceEvents,
    )

    before = StateTaskServiceEvents.__dict__["_eval_service_task"]
    undo = moto_seams.install_events_put_events(lambda request: {})
    assert StateTaskServiceEvents.__dict__["_eval_service_task"] is not before
    undo()
    assert StateTaskServiceEvents.__dict__["_eval_service_task"] is before


# --- 21. CloudWatch datapoints on the clock -----------------------------------------------------------------------

@mock_aws
def test_metric_time_seam_stamps_datapoints_on_the_clock(undo_all):
    from moto.cloudwatch import models as cloudwatch_models
    from moto.core.utils import utcnow

    undo = moto_seams.install_metric_time_on_clock(VirtualClock(start=START))
    undo_all.append(undo)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_data(Namespace="N", MetricData=[{"MetricName": "M", "Value": 2.0}])  # no Timestamp
    [point] = cloudwatch.get_metric_statistics(
        Namespace="N", MetricName="M", Period=60, Statistics=["Sum"],
        StartTime=datetime.datetime.fromtimestamp(START, datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(START + 60, datetime.timezone.utc))["Datapoints"]
    assert point["Sum"] == 2.0, "seam cloudwatch.models.utcnow: the datapoint is not on the clock"
    undo()
    assert cloudwatch_models.utcnow is utcnow


# --- loud failures -----------------------------------------------------------------------------------------------

MOVED = [
    ("StringJSONata._eval_body (JSONata evaluation)",
     "moto.stepfunctions.parser.asl.component.common.string.string_expression", "StringJSONata",
     lambda: moto_seams.install_jsonata_evaluator(RealClock())),
    ("StringJSONata._eval_body (JSONata evaluation)", "moto.stepfunctions.parser.asl.jsonata.jsonata",
     "_eval_jsonata", lambda: moto_seams.install_jsonata_evaluator(RealClock())),
    ("StringJSONata._eval_body (JSONata evaluation)", "moto.stepfunctions.parser.asl.jsonata.validations",
     "_validate_null_output", lambda: moto_seams.install_jsonata_evaluator(RealClock())),
    ("awslambda.LambdaFunction._invoke_lambda", "moto.awslambda.models", "LambdaFunction",
     lambda: moto_seams.install_lambda_invoker(lambda function, event: ("{}", False, ""))),
    ("WaitFunction._wait_interval",
     "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function", "WaitFunction",
     lambda: moto_seams.install_wait_on_clock(RealClock(), lambda *a: None)),
    ("retrier_decl.time.sleep", "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl", "time",
     lambda: moto_seams.install_retry_on_clock(RealClock(), lambda *a: None)),
    ("parser datetime.now (StartTime/EnteredTime)", "moto.stepfunctions.parser.models", "datetime",
     lambda: moto_seams.install_timestamps_on_clock(RealClock())),
    ("Program.eval", "moto.stepfunctions.parser.asl.component.program.program", "Program",
     lambda: moto_seams.install_program_timeout_on_clock(RealClock())),
    ("BaseExecutionWorkerCommunication.terminated", "moto.stepfunctions.parser.backend.execution",
     "BaseExecutionWorkerCommunication", lambda: moto_seams.install_execution_ended_hook(lambda e: None)),
    ("boto_client_for (Task clients)", "moto.stepfunctions.parser.asl.utils.boto_client", "boto_client_for",
     moto_seams.install_task_client_cache),
    ("StateTaskServiceSfn/StateTaskServiceAwsSdk._normalise_parameters/_normalise_response",
     "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "camel_to_snake_case",
     moto_seams.install_service_integration_casing),
    ("StateTaskServiceSfn/StateTaskServiceAwsSdk._normalise_parameters/_normalise_response",
     "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
     "StateTaskServiceAwsSdk", moto_seams.install_service_integration_casing),
    ("ExecutionState._evaluate_with_timeout", "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
     "TMP_THREADS", lambda: moto_seams.install_task_timeout_on_clock(VirtualClock())),
    ("EventManager.add_event", "moto.stepfunctions.parser.asl.eval.event.event_manager", "EventManager",
     moto_seams.install_history_limit),
    ("StepFunctionResponse.get_execution_history", "moto.stepfunctions.responses", "ActionResult",
     moto_seams.install_execution_history_paging),
    ("StepFunctionsParserBackend._validate_definition", "moto.stepfunctions.parser.models", "InvalidDefinition",
     moto_seams.install_definition_checks),
    ("StepFunctionsParserBackend.start_execution", "moto.stepfunctions.exceptions", "ValidationException",
     moto_seams.install_start_execution_checks),
    ("StringJSONata.eval / SecondsJSONata._get_wait_seconds / TimeoutSecondsJSONata._eval_seconds",
     "moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds", "SecondsJSONata",
     moto_seams.install_query_evaluation_errors),
    ("quotas.is_within_size_quota / StateTaskService._before_eval_execution",
     "moto.stepfunctions.parser.asl.component.state.state", "is_within_size_quota", moto_seams.install_payload_limits),
    ("ErrorEqualsDecl._eval_body", "moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl",
     "ErrorEqualsDecl", moto_seams.install_states_all_exclusions),
    ("StateTaskServiceEvents._eval_service_task",
     "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
     "SfnFailedEntryCountException", lambda: moto_seams.install_events_put_events(lambda request: {})),
    ("StateTaskServiceEvents._eval_service_task",
     "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
     "_FAILED_ENTRY_ERROR_NAME", lambda: moto_seams.install_events_put_events(lambda request: {})),
    ("cloudwatch.models.utcnow (datapoint time)", "moto.cloudwatch.models", "utcnow",
     lambda: moto_seams.install_metric_time_on_clock(RealClock())),
    ("AmazonStateLanguageParser.parse", "moto.stepfunctions.parser.asl.parse.asl_parser", "Preprocessor",
     moto_seams.install_parse_tree_cache),
    ("StateTaskServiceCallback._eval_sync (time.sleep)",
     "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback",
     "StateTaskServiceCallback", lambda: moto_seams.install_sync_wake(moto_seams.SyncWake())),
    ("AmazonStateLanguageParser.parse", "moto.stepfunctions.parser.asl.parse.asl_parser", "SyntaxErrorListener",
     moto_seams.install_parse_tree_cache),
]


@pytest.mark.parametrize("seam, module_name, attribute, install", MOVED,
                         ids=[f"{m[0]}:{m[2]}" for m in MOVED])
def test_a_moved_seam_fails_loudly(monkeypatch, seam, module_name, attribute, install):
    import importlib

    monkeypatch.delattr(importlib.import_module(module_name), attribute)
    with pytest.raises(moto_seams.SeamMoved) as raised:
        install()
    message = str(raised.value)
    assert seam in message and moto_seams.PINNED_MOTO_VERSION in message, message


def test_a_changed_signature_fails_loudly(monkeypatch):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    monkeypatch.setattr(WaitFunction, "_wait_interval", lambda self, env, seconds, extra: None)
    with pytest.raises(moto_seams.SeamMoved, match=r"WaitFunction._wait_interval.*takes"):
        moto_seams.install_wait_on_clock(RealClock(), lambda *a: None)


# --- 11. Event patterns (read, not patched) ----------------------------------------------------------------------

def test_event_pattern_seam_is_moto_s_matcher():
    matches = moto_seams.event_pattern_matcher()
    event = {"source": "airbyte-sync", "detail-type": "Airbyte Sync Requested", "detail": {"jobType": "sync"}}
    assert matches('{"source": ["airbyte-sync"], "detail": {"jobType": [{"prefix": "sy"}]}}', event) is True, (
        "seam events.EventPattern: moto's matcher no longer matches")
    assert matches('{"source": ["airbyte-sync"], "detail": {"jobType": ["reset"]}}', event) is False
    with pytest.raises(ValueError, match="must be an object or an array"):
        matches('{"source": "airbyte-sync"}', event)


@pytest.mark.parametrize("owner, attribute", [("moto.events.models", "EventPattern"),
                                              ("moto.events.exceptions", "InvalidEventPatternException")])
def test_event_pattern_seam_moved_fails_loudly(monkeypatch, owner, attribute):
    import importlib

    monkeypatch.delattr(importlib.import_module(owner), attribute)
    with pytest.raises(moto_seams.SeamMoved, match=r"events.EventPattern.*" + moto_seams.PINNED_MOTO_VERSION):
        moto_seams.event_pattern_matcher()


def test_event_pattern_seam_changed_signature_fails_loudly(monkeypatch):
    from moto.events.models import EventPattern

    monkeypatch.setattr(EventPattern, "matches_event", lambda self, event, strict: True)
    with pytest.raises(moto_seams.SeamMoved, match=r"events.EventPattern.*takes \[.self., .event., .strict.\]"):
        moto_seams.event_pattern_matcher()
