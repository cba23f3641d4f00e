"""Issue "Run it in production": every ending of the deployed machine puts exactly one completion event on the
template's bus (source `airbyte-sync`, detail-type `Airbyte Sync Completed`) and its CloudWatch metrics, straight
from the state machine. The template deployed into the local engine, the real handlers, the emulator over HTTP.

The detail's fields are the README's ("Chain on a finished sync"); no event carries a credential or a word of
Airbyte's error bodies."""
import datetime
import json

import pytest

from local_tools.emulator import Fault, JobScript

DETAIL_FIELDS = {"connectionId", "jobType", "jobId", "finalStatus", "rowsSynced", "bytesSynced", "attached",
                 "waitedForJobId", "status", "error", "executionArn", "startTime", "endTime", "durationSeconds",
                 "polls"}
ENVELOPE = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
NAMESPACE = "AirbyteSync"  # the template's default MetricsNamespace


def completion_events(h, result) -> list[dict]:
    events = h.engine.machine_events.put_by(result.execution_arn)
    for event in events:
        assert set(event) == ENVELOPE and event["source"] == "airbyte-sync", event
        assert event["detail-type"] == "Airbyte Sync Completed"
        assert set(event["detail"]) == DETAIL_FIELDS, sorted(event["detail"])
        assert event["resources"] == [h.machine, result.execution_arn]
    return events


def metric_sum(h, name: str, dimensions: dict[str, str]) -> float | None:
    now = datetime.datetime.fromtimestamp(h.engine.clock.now(), datetime.timezone.utc)
    points = h.engine.cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE, MetricName=name, Statistics=["Sum"], Period=86400,
        Dimensions=[{"Name": key, "Value": value} for key, value in dimensions.items()],
        StartTime=now - datetime.timedelta(days=2), EndTime=now + datetime.timedelta(hours=1))["Datapoints"]
    return sum(point["Sum"] for point in points) if points else None


def test_a_sync_that_succeeds_announces_its_job_counts_and_times(h):
    connection = h.connection(JobScript.polls("pending", ("running", 3), "succeeded", rows=1200, bytes=3400))
    result = h.run_console(connection)
    assert result.status == "SUCCEEDED", (result.error, result.cause)

    [event] = completion_events(h, result)
    detail = event["detail"]
    assert {key: detail[key] for key in ("connectionId", "jobType", "jobId", "finalStatus", "rowsSynced",
                                         "bytesSynced", "attached", "waitedForJobId", "status", "error")} == {
        "connectionId": connection, "jobType": "sync", "jobId": result.output["jobId"], "finalStatus": "succeeded",
        "rowsSynced": 1200, "bytesSynced": 3400, "attached": False, "waitedForJobId": None, "status": "SUCCEEDED",
        "error": None}
    assert detail["executionArn"] == result.execution_arn
    assert detail["polls"] == len(h.polls()) - 1  # the first poll is not a loop iteration
    started = datetime.datetime.fromisoformat(detail["startTime"])
    ended = datetime.datetime.fromisoformat(detail["endTime"])
    assert abs((ended - started).total_seconds() - detail["durationSeconds"]) < 1
    assert detail["durationSeconds"] >= sum(result.waits)  # virtual time: the waits were really waited

    labels = {"ConnectionId": connection}
    assert metric_sum(h, "Syncs", {**labels, "Outcome": "SUCCEEDED", "Adopted": "false"}) == 1
    assert metric_sum(h, "RowsSynced", labels) == 1200
    assert metric_sum(h, "BytesSynced", labels) == 3400
    assert metric_sum(h, "Polls", labels) == detail["polls"]
    assert metric_sum(h, "DurationSeconds", labels) == pytest.approx(detail["durationSeconds"], abs=1)


@pytest.mark.parametrize("script, error, final", [
    (JobScript.polls("running", "failed", rows=40, bytes=500), "Airbyte.SyncFailed", "failed"),
    (JobScript.polls("pending", "cancelled", rows=7, bytes=70), "Airbyte.SyncCancelled", "cancelled"),
])
def test_a_sync_that_fails_or_is_cancelled_announces_its_error_and_counts(h, script, error, final):
    connection = h.connection(script)
    result = h.run_console(connection)
    assert (result.status, result.error) == ("FAILED", error)

    [event] = completion_events(h, result)
    detail = event["detail"]
    assert (detail["status"], detail["error"], detail["finalStatus"]) == ("FAILED", error, final)
    assert detail["jobId"] == json.loads(result.cause)["jobId"]
    assert metric_sum(h, "Syncs", {"ConnectionId": connection, "Outcome": error, "Adopted": "false"}) == 1
    assert metric_sum(h, "Syncs", {"ConnectionId": connection, "Outcome": "SUCCEEDED", "Adopted": "false"}) is None


def test_a_sync_past_its_deadline_is_announced_once_after_its_cancel(h):
    connection = h.connection(JobScript.timed(7200))
    result = h.run_console(connection, deadlineSeconds=600)
    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    assert len(h.cancels()) == 1

    [event] = completion_events(h, result)
    detail = event["detail"]
    assert (detail["error"], detail["connectionId"], detail["jobId"]) == (
        "Airbyte.SyncTimedOut", connection, json.loads(result.cause)["jobId"])
    assert 600 <= detail["durationSeconds"] < 900
    assert metric_sum(h, "Syncs", {"ConnectionId": connection, "Outcome": "Airbyte.SyncTimedOut",
                                   "Adopted": "false"}) == 1


def test_an_input_the_machine_refuses_is_announced_without_a_job_and_without_volumes(h):
    result = h.run({"connectionId": "not-a-uuid"})
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert h.airbyte_calls() == 0

    [event] = completion_events(h, result)
    detail = event["detail"]
    assert (detail["connectionId"], detail["jobId"], detail["rowsSynced"], detail["error"]) == (
        "not-a-uuid", None, None, "Arazzo.InvalidInput")
    # No job was followed, so Adopted is neither true nor false.
    assert metric_sum(h, "Syncs", {"ConnectionId": "not-a-uuid", "Outcome": "Arazzo.InvalidInput",
                                   "Adopted": "null"}) == 1
    assert metric_sum(h, "RowsSynced", {"ConnectionId": "not-a-uuid"}) is None  # `when`: no counts, no datapoint


def test_an_adopted_job_is_announced_as_adopted(h):
    connection = h.connection()
    running = h.emu.start_running_job(connection, script=JobScript.polls("running", "succeeded", rows=5, bytes=50))
    result = h.run_console(connection)  # a sync someone else started is running already: followed, not started
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert (result.output["jobId"], result.output["attached"], h.posts()) == (running, True, 0)

    [event] = completion_events(h, result)
    assert event["detail"]["attached"] is True
    assert metric_sum(h, "Syncs", {"ConnectionId": connection, "Outcome": "SUCCEEDED", "Adopted": "true"}) == 1


def test_no_event_carries_a_credential_or_airbyte_s_error_text(h):
    connection = h.connection(JobScript.polls("running", "succeeded"))
    body = {"message": "internal: stack trace with SENTINEL-BODY-TEXT", "detail": "SENTINEL-BODY-TEXT"}
    h.emu.inject("getJob", Fault.status(400, body=body), times=20)
    result = h.run_console(connection)
    assert result.status == "FAILED"

    [event] = completion_events(h, result)
    text = json.dumps(event)
    assert "SENTINEL-BODY-TEXT" not in text and "cause" not in event["detail"]
    assert all(value not in text for value in h.secret_values())
