"""The local engine running JSONata machines with in-process handlers on virtual time."""
import datetime
import os
import time
from pathlib import Path

from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURE_FUNCTIONS = Path(__file__).parent / "fixtures" / "functions"

NASTY_LABEL = 'he said "hi" \\ back\\slash\nnew line'


def test_poll_loop_runs_instantly_on_virtual_time(engine, poll_machine):
    started = time.monotonic()
    result = engine.run(poll_machine, {"doneAfter": 10, "label": "ten polls"})
    real_seconds = time.monotonic() - started

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.waits == [30] * 10  # ten Wait states of 30 s, recorded, none really waited
    assert result.output["polls"] == 10
    assert result.output["elapsedMillis"] == 300_000, "$millis() must read the virtual clock"
    assert result.duration_seconds == 300.0
    # CreateJob + 10 x (Wait, GetStatus, IsDone) + Done
    assert result.transitions == 32
    assert real_seconds < 3, f"10 polls took {real_seconds:.2f} s of real time"


def test_start_and_entered_times_follow_the_engine_clock(engine, poll_machine):
    clock_at_start = engine.clock.now()
    result = engine.run(poll_machine, {"doneAfter": 2})
    start = datetime.datetime.fromisoformat(result.output["startTime"]).timestamp()
    entered = datetime.datetime.fromisoformat(result.output["enteredTime"]).timestamp()
    assert start == clock_at_start, "$states.context.Execution.StartTime must come from the engine clock"
    assert entered == clock_at_start + 60, "$states.context.State.EnteredTime must come from the engine clock"


def test_strings_with_quotes_backslashes_and_newlines_survive_jsonata(engine, poll_machine):
    result = engine.run(poll_machine, {"doneAfter": 1, "label": NASTY_LABEL})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["label"] == NASTY_LABEL


def test_retry_intervals_run_on_virtual_time(engine, poll_machine):
    result = engine.run(poll_machine, {"doneAfter": 1, "flakyKey": "retry-test", "flakyTimes": 2})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.retry_intervals == [3.0, 6.0]  # IntervalSeconds 3, BackoffRate 2
    assert engine.clock.sleeps[:2] == [3.0, 6.0]


def test_retry_exhausted_fails_with_the_dotted_error_name(engine, poll_machine):
    result = engine.run(poll_machine, {"flakyKey": "always", "flakyTimes": 99})
    assert result.status == "FAILED"
    assert result.error == "Fixture.Transient"
    assert result.retry_intervals == [3.0, 6.0, 12.0]


def test_catch_matches_a_dotted_error_name(engine, poll_machine):
    result = engine.run(poll_machine, {"failWith": "auth"})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"recovered": "Fixture.AuthError"}


def test_uncaught_dotted_error_reaches_the_execution_failure(engine, poll_machine):
    result = engine.run(poll_machine, {"failWith": "forbidden"})
    assert result.status == "FAILED"
    assert result.error == "Fixture.Forbidden"
    assert result.cause_json["errorType"] == "Fixture.Forbidden"
    assert result.cause_json["errorMessage"] == "nobody may do that"
    failed = [event for event in result.events if event["type"] == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "Fixture.Forbidden"


def test_timeout_seconds_on_virtual_time(engine):
    machine = engine.create_state_machine({
        "QueryLanguage": "JSONata", "TimeoutSeconds": 100, "StartAt": "Forever",
        "States": {"Forever": {"Type": "Wait", "Seconds": 30, "Next": "Forever"}},
    })
    result = engine.run(machine, {})
    assert result.status == "TIMED_OUT"
    assert result.waits == [30, 30, 30, 30]  # the 4th wait is cut at the deadline
    assert result.duration_seconds == 100.0
    assert result.events[-1]["type"] == "ExecutionTimedOut"


def test_handler_gets_environment_context_and_logs_are_captured(engine, poll_machine):
    result = engine.run(poll_machine, {"doneAfter": 1})
    create = engine.invocations[0]
    payload = __import__("json").loads(create.payload)
    assert payload["environment"] == "direct"  # the function's Environment, set for the call
    assert payload["function"] == "CreateJobFunction"
    assert payload["arn"].endswith(":function:CreateJobFunction")
    assert payload["memory"] == 128 and payload["requestId"]
    assert 29_000 < payload["remainingMs"] <= 30_000  # the function's Timeout (30 s), counting down
    assert "FIXTURE_MODE" not in os.environ, "the function's environment must not leak out of the call"
    assert "secret-arn=s3cr3t-arn" in engine.logs  # printed by the handler: tests can grep logs for secrets
    assert result.status == "SUCCEEDED"


def test_handler_exception_traceback_is_in_the_logs(engine, poll_machine):
    engine.run(poll_machine, {"failWith": "forbidden"})
    assert "Fixture.Forbidden: nobody may do that" in engine.logs


def test_handler_retry_module_sleep_follows_the_clock(tmp_path):
    # A package of its own name: the product's airbyte_client may already be imported by other tests.
    package = tmp_path / "fixture_retrying_client"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "retry.py").write_text("from time import sleep\n\ndef backoff():\n    sleep(45)\n    return 'slept'\n")
    (tmp_path / "uses_retry.py").write_text(
        "from fixture_retrying_client import retry\n\ndef handler(event, context):\n    return retry.backoff()\n")
    clock = VirtualClock(start=1_800_000_000.0)
    with LocalEngine(clock=clock, sleep_modules=("fixture_retrying_client.retry",)) as engine:
        machine = engine.create_state_machine(
            {"QueryLanguage": "JSONata", "StartAt": "Call", "States": {"Call": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                "Arguments": {"FunctionName": "${FnArn}", "Payload": {}},
                "Output": "{% $states.result.Payload %}"}}},
            functions={"FnArn": FunctionSpec(tmp_path, "uses_retry.handler", timeout=60)})  # it sleeps 45 s
        started = time.monotonic()
        result = engine.run(machine, {})
        assert result.output == "slept"
        assert time.monotonic() - started < 5 and clock.sleeps == [45]
    import sys
    assert "fixture_retrying_client.retry" not in sys.modules, "handler modules are dropped when the engine closes"


def test_only_one_engine_at_a_time(engine):
    import pytest

    with pytest.raises(RuntimeError, match="another LocalEngine"):
        with LocalEngine():
            pass
