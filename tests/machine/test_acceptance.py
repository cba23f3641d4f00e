"""Issue "Serverless package" acceptance: the deployed package syncs a connection, started from the console
(events/console-input.json) and from EventBridge (events/eventbridge-entry.json through the template's rule).

Every run: the real compiled definition, the real handlers, the emulator over HTTP, virtual time.
"""
import json

import pytest

from local_tools.emulator import Fault, JobScript

ENTRIES = ["console", "eventbridge"]


def start(h, entry, connection_id, **overrides):
    if entry == "console":
        return h.run_console(connection_id, **overrides)
    return h.run_eventbridge(connection_id, **overrides)


def polled_statuses(h):
    return [r.status_code for r in h.polls()]


@pytest.mark.parametrize("entry", ENTRIES)
def test_sync_succeeds_after_pending_queued_and_running(h, entry):
    connection = h.connection(JobScript.polls("pending", "queued", ("running", 3), "succeeded",
                                              rows=1200, bytes=3400))
    result = start(h, entry, connection)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    job_id = result.output["jobId"]
    assert result.output == {"jobId": job_id, "finalStatus": "succeeded", "rowsSynced": 1200,
                             "bytesSynced": 3400, "attached": False, "waitedForJobId": None}
    assert h.posts() == 1, "the sync must be triggered exactly once"
    [post] = h.emu.requests_for("createJob")
    assert post.body == {"connectionId": connection, "jobType": "sync"}
    assert h.emu.jobs[job_id].connection_id == connection
    # createJob answered pending; the first poll follows at once (pending), then queued, running x3,
    # succeeded, 10 s apart.
    assert len(h.polls(job_id)) == 6
    assert result.waits == [10, 10, 10, 10, 10]
    assert h.cancels() == []


@pytest.mark.parametrize("entry", ENTRIES)
def test_failed_sync_fails_the_execution(h, entry):
    connection = h.connection(JobScript.polls("running", ("running", 2), "failed", rows=40, bytes=500))
    result = start(h, entry, connection)

    assert result.status == "FAILED"
    assert result.error == "Airbyte.SyncFailed"
    cause = json.loads(result.cause)
    assert cause == {"jobId": cause["jobId"], "status": "failed", "rowsSynced": 40, "bytesSynced": 500}
    assert h.emu.jobs[cause["jobId"]].connection_id == connection
    assert h.posts() == 1
    assert len(result.waits) == 3
    assert h.cancels() == [], "a job that ended on its own is not cancelled"


@pytest.mark.parametrize("entry", ENTRIES)
def test_cancelled_sync_fails_the_execution(h, entry):
    connection = h.connection(JobScript.polls("pending", "running", "cancelled", rows=7, bytes=70))
    result = start(h, entry, connection)

    assert result.status == "FAILED"
    assert result.error == "Airbyte.SyncCancelled"
    cause = json.loads(result.cause)
    assert cause["status"] == "cancelled" and h.emu.jobs[cause["jobId"]].connection_id == connection
    assert set(cause) == {"jobId", "status", "rowsSynced", "bytesSynced"}
    assert h.posts() == 1
    assert h.cancels() == []


@pytest.mark.parametrize("entry", ENTRIES)
def test_long_sync_backs_off_to_the_maximum_wait(h, entry):
    six_hours = 6 * 3600
    connection = h.connection(JobScript.timed(six_hours, rows=5_000_000, bytes=9_000_000_000))
    result = start(h, entry, connection, deadlineSeconds=86400)  # the EventBridge sample says 7200

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["finalStatus"] == "succeeded"
    assert result.output["rowsSynced"] == 5_000_000 and result.output["bytesSynced"] == 9_000_000_000
    assert h.posts() == 1

    waits = result.waits
    # The documented default policy: each wait at least 10 s and a tenth of the time polled so far, at most 5 min.
    elapsed = 0
    for wait in waits:
        assert 10 <= wait <= 300, waits
        assert wait >= min(300, 0.1 * elapsed) - 0.5, (wait, elapsed)
        elapsed += wait
    assert waits[:11] == [10] * 11, "short waits while the job is young"
    assert waits == sorted(waits), "waits never shrink"
    assert max(waits) == 300 and waits.count(300) > 50, "a long sync is polled at most every 5 minutes"
    # Detection lag: the end was seen within one maximum wait of the job ending.
    assert six_hours <= sum(waits) < six_hours + 300
    assert len(h.polls()) == len(waits) + 1, "a poll right after the trigger, then one per wait, no retries"
    assert len(waits) < 120, f"{len(waits)} polls for 6 h: backoff should keep it near 108"
    assert result.duration_seconds == pytest.approx(sum(waits), abs=1)
    # Tokens were cached and renewed before they expired (15 min): never a 401.
    assert all(r.status_code != 401 for r in h.emu.requests)
    assert 20 <= h.token_requests() <= 30


@pytest.mark.parametrize("entry", ENTRIES)
def test_every_non_terminal_status_keeps_polling(h, entry):
    connection = h.connection(JobScript.polls(
        "pending", "queued", "running", "incomplete", "running", "mysterious", "queued", "succeeded",
        rows=3, bytes=30))
    # An unknown status value in an otherwise real answer, twice, on the first polls.
    h.emu.inject("getJob", Fault.status_value("brand-new-status"), times=2)
    result = start(h, entry, connection)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["finalStatus"] == "succeeded"
    seen = [event["taskSucceededEventDetails"]["output"] for event in result.events
            if event["type"] == "TaskSucceeded" and event["taskSucceededEventDetails"]["resourceType"] == "lambda"]
    statuses = [json.loads(output)["Payload"]["body"]["status"] for output in seen][1:]  # [0] is createJob
    assert statuses == ["brand-new-status", "brand-new-status", "running", "incomplete", "running", "mysterious",
                        "queued", "succeeded"]
    assert len(result.waits) == len(statuses) - 1
    assert h.posts() == 1
    assert h.cancels() == []
