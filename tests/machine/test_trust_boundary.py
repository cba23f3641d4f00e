"""Issue "Trust boundary": nothing a caller sends, from the console or as an EventBridge event, touches a job it
does not own, spends without bound, or reads a credential. Every test starts executions the way an attacker with
states:StartExecution, or with events:PutEvents on the default bus, could."""
import json
import uuid

import pytest

from local_tools.emulator import Fault, JobScript

DONE = JobScript.polls("pending", ("running", 2), "succeeded", rows=120, bytes=4096)


def jobs_of(h, connection_id):
    return [job for job in h.emu.jobs.values() if job.connection_id == connection_id]


def sync_request(detail, event_id=None):
    entry = {"Source": "airbyte-sync", "DetailType": "Airbyte Sync Requested", "Detail": json.dumps(detail)}
    if event_id:
        entry["Id"] = event_id  # local-only: pins the event id, as a redelivery by EventBridge keeps it
    return entry


def forged_resume(job_id, parent=None):
    resume = {"at": "pollJob loop wait", "generation": 1,
              "steps": {"triggerJob": {"outputs": {"jobId": job_id, "status": "running", "attached": False}}},
              "loops": {"loop_pollJob": {"startedAt": 9e15, "iteration": 0, "executionIterations": 0}}}
    extra = {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent} if parent else {}
    return {"arazzoResume": resume, **extra}


# --- forged resume state ----------------------------------------------------------------------------------------

def test_a_forged_resume_from_the_console_touches_no_job(h):
    victim_connection = h.connection(DONE)
    victim = h.emu.start_running_job(victim_connection)
    attacker_connection = h.connection(DONE)
    result = h.run({"connectionId": attacker_connection, **forged_resume(victim)})

    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert "arazzoResume" in result.cause
    assert h.airbyte_calls() == 0, "not a single request: no poll, no cancel of the victim's job"
    assert h.operation_invocations() == []
    assert h.emu.jobs[victim].status == "running"


def test_a_forged_resume_in_an_event_is_dropped_and_the_event_syncs_only_its_own_connection(h):
    victim_connection = h.connection(DONE)
    victim = h.emu.start_running_job(victim_connection)
    attacker_connection = h.connection(DONE)
    [started] = h.put_events(sync_request({"connectionId": attacker_connection, **forged_resume(victim)}))
    result = h.engine.wait(started)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    received = json.loads(result.events[0]["executionStartedEventDetails"]["input"])
    assert "arazzoResume" not in received and "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" not in received
    assert all(r.job_id != victim for r in h.emu.requests), "no request about the victim's job"
    assert h.emu.jobs[victim].status == "running"
    [own] = jobs_of(h, attacker_connection)
    assert result.output["jobId"] == own.job_id


# --- deployment bounds ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"deadlineSeconds": 604801}, "deadlineSeconds: must be at most 604800"),
    ({"deadlineSeconds": 31449600}, "deadlineSeconds: must be at most 604800"),
    ({"pollInitialSeconds": 1}, "pollInitialSeconds: must be at least 5"),
    ({"pollMaxSeconds": 2, "pollElapsedFraction": 0}, "pollMaxSeconds: must be at least 5"),
    ({"maxDeadlineSeconds": 31449600, "deadlineSeconds": 31449600}, "maxDeadlineSeconds: set by the deployment"),
    ({"minPollSeconds": 1}, "minPollSeconds: set by the deployment"),
    ({"allowedConnectionIds": []}, "allowedConnectionIds: set by the deployment"),
], ids=["deadline", "one-year-deadline", "poll-initial", "poll-max", "own-max-deadline", "own-min-poll",
        "own-allow-list"])
def test_out_of_bounds_console_input_is_refused_before_any_request(h, overrides, message):
    result = h.run({"connectionId": h.connection(DONE), **overrides})

    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert message in result.cause
    assert h.airbyte_calls() == 0


@pytest.mark.parametrize("detail, message", [
    ({"jobType": "reset"}, "jobType: reset is not allowed"),
    ({"jobType": "clear"}, "jobType: clear is not allowed"),
    ({"deadlineSeconds": 31449600}, "deadlineSeconds: must be at most 604800"),
    ({"pollInitialSeconds": 1}, "pollInitialSeconds: must be at least 5"),
], ids=["reset", "clear", "deadline", "poll"])
def test_out_of_bounds_events_are_refused_before_any_request(h, detail, message):
    [started] = h.put_events(sync_request({"connectionId": h.connection(DONE), **detail}))
    result = h.engine.wait(started)

    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert message in result.cause
    assert h.airbyte_calls() == 0


def test_the_console_may_still_ask_for_a_reset(h):
    result = h.run({"connectionId": h.connection(DONE), "jobType": "reset"})
    assert result.status == "SUCCEEDED", (result.error, result.cause)


# --- at most once per event -------------------------------------------------------------------------------------

def test_a_redelivered_event_starts_one_sync(h):
    connection = h.connection(DONE)
    event_id = str(uuid.uuid4())
    first = h.put_events(sync_request({"connectionId": connection}, event_id),
                         sync_request({"connectionId": connection}, event_id))
    [execution] = set(first)
    assert h.engine.wait(execution).status == "SUCCEEDED"
    again = h.put_events(sync_request({"connectionId": connection}, event_id))  # after the first one has ended
    assert again == [] or set(again) == {execution}

    assert h.posts() == 1 and len(jobs_of(h, connection)) == 1
    executions = h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]
    assert [e["name"] for e in executions].count(f"event-{event_id}") == 1
