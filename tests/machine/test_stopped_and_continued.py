"""Executions that end from outside the loop: stopped by a user (the template's aws.states rule cancels the job),
and long syncs that continue as new executions (startExecution.sync:2) before the history limit."""
import json
import shutil
import time
from pathlib import Path

import pytest

from local_tools.clock import RealClock
from local_tools.emulator import JobScript
from arazzo_sfn.cli import compile_file
from machine_harness import ARAZZO, ROOT, project_copy, wait_for_history_event

# --- 9. stopped from outside ------------------------------------------------------------------------------------


def test_stopped_execution_cancels_its_job(fresh):
    # Real time: the execution must still be waiting between polls when it is stopped.
    h = fresh(clock=RealClock())
    connection = h.connection(JobScript.polls("running"))
    execution = h.engine.start_execution(h.machine, {"connectionId": connection, "pollInitialSeconds": 60})
    h.executions.append(execution)
    wait_for_history_event(h.engine, execution, lambda e: e["type"] == "WaitStateEntered")
    [job] = h.emu.jobs.values()
    assert job.status == "running"

    h.engine.stop_execution(execution, error="Operator.Stopped", cause="stopped from the console")
    result = h.engine.wait(execution, timeout=30)

    assert result.status == "ABORTED"
    [delivery] = [d for d in h.engine.deliveries if d.target_arn == h.stack.function_arns["ExecutionStoppedFunction"]]
    assert delivery.error is None and not delivery.lambda_errored, delivery
    assert delivery.lambda_payload == {"outcome": "cancelled", "jobId": job.job_id, "statusCode": 200}
    assert h.emu.cancelled_job_ids == [job.job_id] and job.status == "cancelled"
    [cancel] = h.cancels()
    assert cancel.path == f"/jobs/{job.job_id}"
    assert h.posts() == 1


# --- 10. continue-as-new ----------------------------------------------------------------------------------------

CONTINUE_AFTER = 3


def compile_with_continue_as_new_after(tmp_path: Path, iterations: int) -> str:
    """The product's workflow with x-loop.continueAsNewAfter set, compiled as `make compile` would."""
    source = ARAZZO.read_text()
    anchor = "      x-loop: &pollingLoop\n"
    assert anchor in source
    variant = source.replace(anchor, anchor + f"        continueAsNewAfter: {iterations}\n")
    (tmp_path / "arazzo").mkdir()
    shutil.copytree(ROOT / "openapi", tmp_path / "openapi")  # a link out of the project is refused, as it should
    path = tmp_path / "arazzo" / ARAZZO.name
    path.write_text(variant)
    return compile_file(path, None, tmp_path)


@pytest.fixture
def continuing(fresh, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "project").mkdir()
    definition = compile_with_continue_as_new_after(tmp_path / "src", CONTINUE_AFTER)
    assert "startExecution.sync:2" in definition
    return fresh(template=project_copy(tmp_path / "project", definition))


def executions_of(h):
    listed = h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]
    return sorted(listed, key=lambda e: e["startDate"])


def wait_all_ended(h, timeout=30.0):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        executions = executions_of(h)
        if all(e["status"] != "RUNNING" for e in executions):
            return executions
        time.sleep(0.02)
    raise AssertionError("executions still running")


def test_continued_sync_polls_the_same_job_and_the_first_execution_reports(continuing):
    h = continuing
    connection = h.connection(JobScript.polls("pending", ("running", 9), "succeeded", rows=99, bytes=999))
    result = h.run({"connectionId": connection}, timeout=60)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [job] = h.emu.jobs.values()
    assert result.output == {"jobId": job.job_id, "finalStatus": "succeeded", "rowsSynced": 99, "bytesSynced": 999,
                             "attached": False, "waitedForJobId": None}
    assert h.posts() == 1, "a continued execution never triggers another sync"
    assert {r.path for r in h.polls()} == {f"/jobs/{job.job_id}"}
    executions = wait_all_ended(h)
    assert len(executions) >= 3, f"{len(executions)} executions for 11 polls, continuing after {CONTINUE_AFTER}"
    assert executions[0]["executionArn"] == result.execution_arn
    assert all(e["status"] == "SUCCEEDED" for e in executions)
    # Every later execution polls; none triggers.
    for execution in executions[1:]:
        history = h.engine.history(execution["executionArn"])
        entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"] == "TaskStateEntered"]
        assert "triggerJob" not in entered and "pollJob" in entered


def test_continued_sync_failure_reaches_the_first_execution(continuing):
    h = continuing
    connection = h.connection(JobScript.polls("running", ("running", 8), "failed", rows=5, bytes=50))
    result = h.run({"connectionId": connection}, timeout=60)

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncFailed")
    [job] = h.emu.jobs.values()
    assert json.loads(result.cause) == {"jobId": job.job_id, "status": "failed", "rowsSynced": 5, "bytesSynced": 50}
    assert h.posts() == 1
    assert len(wait_all_ended(h)) >= 3


def test_deadline_is_carried_across_continuations(continuing):
    h = continuing
    connection = h.connection(JobScript.polls("running"))
    result = h.run({"connectionId": connection, "deadlineSeconds": 300}, timeout=60)

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    [job] = h.emu.jobs.values()
    cause = json.loads(result.cause)
    assert cause["jobId"] == job.job_id and cause["limit"] == "deadline passed"
    assert h.emu.cancelled_job_ids == [job.job_id]
    assert h.posts() == 1
    executions = wait_all_ended(h)
    assert len(executions) > 2, "the deadline (300 s of 10 s polls) spans several executions"
    total_waits = sum(sum(h.engine.wait(e["executionArn"]).waits) for e in executions)
    assert total_waits == 300, "the deadline counts from the first execution's start"


def continuation_name(h, root_name: str) -> str:
    """The name the machine gives the first continuation of an execution named `root_name` (its own expression)."""
    definition = json.loads(h.stack.definitions["SyncStateMachine"])
    name = definition["States"]["pollJob loop continue as new"]["Arguments"]["Name"]
    variables = {"states": {"context": {"Execution": {"Name": root_name}}}, "resume": None, "steps": {},
                 "loop_pollJob": {}, "loop_waitForActiveJob": {}, "loop_waitForActiveJob_to_triggerJob": {}}
    return h.engine.jsonata.evaluate(name.removeprefix("{% ").removesuffix(" %}"), variables)


def test_a_continuation_that_cannot_start_cancels_our_job_and_fails_continuation_failed(continuing):
    h = continuing
    squatter = h.connection(JobScript.polls("succeeded"))
    taken = continuation_name(h, "sync-root-1")
    h.engine.wait(h.engine.start_execution(h.machine, {"connectionId": squatter}, name=taken))  # the name is used

    connection = h.connection(JobScript.polls("running"))
    result = h.run_named({"connectionId": connection}, name="sync-root-1")

    assert (result.status, result.error) == ("FAILED", "Arazzo.ContinuationFailed")
    job = next(job for job in h.emu.jobs.values() if job.connection_id == connection)
    assert h.emu.cancelled_job_ids == [job.job_id], "the job would run on with no execution watching it"
    assert h.posts() == 2  # the squatter's sync and ours: never a second one for ours
