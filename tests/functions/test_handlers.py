"""The Lambda handlers end to end: event in, contract response out; secrets from moto Secrets Manager."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airbyte_client import errors
from airbyte_handlers import cancel_job, create_job, execution_stopped, get_job, start_sync
from airbyte_handlers.execution_history import created_job, history_oldest_first
from local_tools.emulator import AirbyteEmulator, Fault, JobScript
from functions_testkit import SENTINEL_SECRET, new_connection_id

EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:airbyte-sync:run-1"


class FakeLambdaContext:
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 300_000


def contract_event(operation_id, method, path, *, path_params=None, body=None, retry_count=0, entered=None):
    return {
        "operationId": operation_id, "method": method, "path": path,
        "parameters": {"path": path_params or {}, "query": {}, "header": {}},
        "body": body, "contentType": "application/json" if body is not None else None,
        "context": {
            "executionArn": EXECUTION_ARN, "stepId": "step",
            "stateEnteredTime": entered or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "retryCount": retry_count,
        },
    }


def create_event(cid, job_type="sync", **kw):
    return contract_event("createJob", "POST", "/jobs", body={"connectionId": cid, "jobType": job_type}, **kw)


def get_event(job_id):
    return contract_event("getJob", "GET", "/jobs/{jobId}", path_params={"jobId": job_id})


def cancel_event(job_id, connection_id, attached=False):
    event = contract_event("cancelJob", "DELETE", "/jobs/{jobId}", path_params={"jobId": job_id})
    event["parameters"]["header"] = {"X-Airbyte-Sync-Connection-Id": connection_id, "X-Airbyte-Sync-Attached": attached}
    return event


@pytest.fixture
def airbyte(secret_arn, monkeypatch):
    """A client-credentials emulator on the self-managed path, wired through env + moto secret."""
    with AirbyteEmulator(base_path="/api/public/v1", client_id="client-1", client_secret=SENTINEL_SECRET) as emu:
        monkeypatch.setenv("AIRBYTE_API_URL", emu.base_url)
        monkeypatch.setenv("AIRBYTE_CREATE_READ_TIMEOUT_SECONDS", "0.5")
        monkeypatch.setenv("AIRBYTE_READ_TIMEOUT_SECONDS", "0.5")
        secret_arn({"client_id": "client-1", "client_secret": SENTINEL_SECRET})
        yield emu


def test_trigger_and_poll_through_the_handlers(airbyte, handler_logs):
    cid = new_connection_id()
    airbyte.add_connection(cid, script=JobScript.polls("pending", "queued", ("running", 2), "succeeded", rows=10, bytes=100))
    created = create_job.handler(create_event(cid), FakeLambdaContext())
    assert created["statusCode"] == 200
    assert created["headers"]["x-airbyte-sync-attached"] is False
    assert created["headers"]["content-type"] == "application/json"
    job_id = created["body"]["jobId"]
    statuses = [get_job.handler(get_event(job_id), None)["body"]["status"] for _ in range(5)]
    assert statuses == ["pending", "queued", "running", "running", "succeeded"]
    assert airbyte.count("createAccessToken") == 1
    json.dumps(created)  # the response must be JSON for Step Functions

    lines = handler_logs.lines
    assert lines and all(line["execution_arn"] == EXECUTION_ARN for line in lines)
    assert all(line["service"] == "airbyte-sync" for line in lines)
    done = [line for line in lines if line["message"] in ("createJob done", "getJob done")]
    assert done and all(line["job_id"] == job_id for line in done)
    assert SENTINEL_SECRET not in handler_logs.text


def test_create_handler_adopts_a_running_sync(airbyte):
    cid = new_connection_id()
    running_id = airbyte.start_running_job(cid)
    created = create_job.handler(create_event(cid), None)
    assert created["body"]["jobId"] == running_id
    assert created["headers"]["x-airbyte-sync-attached"] is True
    assert airbyte.count("createJob") == 0, "nothing is posted while a job of the connection runs"


def test_create_handler_reports_a_running_job_of_another_type(airbyte):
    cid = new_connection_id()
    reset_id = airbyte.start_running_job(cid, job_type="reset")
    created = create_job.handler(create_event(cid), None)
    assert created["statusCode"] == 409
    assert created["headers"]["x-airbyte-sync-active-job-id"] == reset_id
    assert created["headers"]["x-airbyte-sync-active-job-type"] == "reset"
    assert "jobId" not in created["body"], "another job's id must never read as this execution's job"
    assert airbyte.count("createJob") == 0 and airbyte.cancelled_job_ids == []


@pytest.mark.parametrize("job_type", [None, "", 0, False, "full"])
def test_create_handler_refuses_a_missing_or_unknown_job_type(airbyte, job_type):
    cid = new_connection_id()
    airbyte.add_connection(cid)
    with pytest.raises(errors.InvalidRequest):
        create_job.handler(create_event(cid, job_type), None)
    assert airbyte.requests == [], "nothing falsy silently becomes a sync"


def test_create_handler_after_a_lambda_retry_looks_before_posting(airbyte):
    cid = new_connection_id()
    airbyte.add_connection(cid)
    entered = (datetime.now(timezone.utc) - timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    first = create_job.handler(create_event(cid, entered=entered), None)
    again = create_job.handler(create_event(cid, entered=entered, retry_count=1), None)
    assert again["body"]["jobId"] == first["body"]["jobId"]
    assert airbyte.count("createJob") == 1


def test_create_handler_with_a_slow_post_creates_exactly_one_job(airbyte):
    cid = new_connection_id()
    airbyte.add_connection(cid)
    airbyte.inject("createJob", Fault.delay(2, job_created=True))  # longer than the 0.5 s read timeout
    created = create_job.handler(create_event(cid), None)
    assert created["statusCode"] == 200
    assert airbyte.count("createJob") == 1 and len(airbyte.jobs) == 1


def test_cancel_handler_cancels_our_running_job_then_reports_it_ended(airbyte):
    cid = new_connection_id()
    job_id = airbyte.start_running_job(cid)
    first = cancel_job.handler(cancel_event(job_id, cid), None)
    assert first["headers"]["x-airbyte-sync-cancel-outcome"] == "cancelled"
    again = cancel_job.handler(cancel_event(job_id, cid), None)
    assert again["headers"]["x-airbyte-sync-cancel-outcome"] == "alreadyEnded"
    assert [r.operation for r in airbyte.requests if r.operation != "createAccessToken"] == [
        "getJob", "cancelJob", "getJob"], "read before every DELETE; no DELETE for a job that ended"
    assert airbyte.cancelled_job_ids == [job_id]


def test_cancel_handler_never_cancels_an_adopted_job_or_another_connections(airbyte):
    cid = new_connection_id()
    job_id = airbyte.start_running_job(cid)
    adopted = cancel_job.handler(cancel_event(job_id, cid, attached=True), None)
    assert adopted["headers"]["x-airbyte-sync-cancel-outcome"] == "notOurs" and adopted["statusCode"] is None
    unknown = cancel_job.handler(cancel_event(job_id, cid, attached=None), None)
    assert unknown["headers"]["x-airbyte-sync-cancel-outcome"] == "notOurs"
    elsewhere = cancel_job.handler(cancel_event(job_id, new_connection_id()), None)
    assert elsewhere["headers"]["x-airbyte-sync-cancel-outcome"] == "notOurs"
    assert airbyte.count("cancelJob") == 0 and airbyte.cancelled_job_ids == []
    with pytest.raises(errors.InvalidRequest):  # a cancel without its instructions is refused, not guessed
        cancel_job.handler(contract_event("cancelJob", "DELETE", "/jobs/{jobId}", path_params={"jobId": job_id}), None)


def test_handlers_raise_the_named_errors(airbyte):
    with pytest.raises(errors.JobUnreadable) as caught:
        get_job.handler(get_event(424242), None)
    assert type(caught.value).__name__ == "Airbyte.JobUnreadable"
    assert "can no longer be read" in str(caught.value)
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(get_event("1001"), None)
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(cancel_event(1001, new_connection_id()), None)  # wired to the wrong operation
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(contract_event("getJob", "GET", "/jobs/{jobId}"), None)  # no jobId
    with pytest.raises(errors.InvalidRequest):
        create_job.handler(contract_event("createJob", "POST", "/jobs"), None)  # no body
    with pytest.raises(errors.Unprocessable):
        cid = new_connection_id()
        airbyte.add_connection(cid)
        create_job.handler(create_event(cid, "refresh"), None)


def test_no_secret_means_no_auth(aws, monkeypatch):
    with AirbyteEmulator(auth="none") as emu:
        monkeypatch.setenv("AIRBYTE_API_URL", emu.base_url)
        cid = new_connection_id()
        emu.add_connection(cid)
        assert create_job.handler(create_event(cid), None)["statusCode"] == 200
        assert "Authorization" not in emu.requests[0].headers


@pytest.mark.parametrize("secret, mode", [({"token": "static-tok"}, "bearer"), ({"username": "u", "password": "pw"}, "basic")])
def test_static_credentials_from_the_secret(secret_arn, monkeypatch, secret, mode):
    with AirbyteEmulator(auth=mode, token="static-tok", username="u", password="pw") as emu:
        monkeypatch.setenv("AIRBYTE_API_URL", emu.base_url)
        secret_arn(secret)
        cid = new_connection_id()
        emu.add_connection(cid)
        assert create_job.handler(create_event(cid), None)["statusCode"] == 200


def test_badly_shaped_secret_is_a_config_error(secret_arn, monkeypatch, handler_logs):
    monkeypatch.setenv("AIRBYTE_API_URL", "https://api.airbyte.com/v1")
    secret_arn({"apiKey": SENTINEL_SECRET})
    with pytest.raises(errors.ConfigError) as caught:
        get_job.handler(get_event(1), None)
    assert "apiKey" in str(caught.value) and SENTINEL_SECRET not in str(caught.value)


def test_missing_secret_is_a_config_error(aws, monkeypatch):
    monkeypatch.setenv("AIRBYTE_API_URL", "https://api.airbyte.com/v1")
    monkeypatch.setenv("AIRBYTE_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf")
    with pytest.raises(errors.ConfigError):
        get_job.handler(get_event(1), None)


def test_http_to_a_remote_host_is_a_config_error(monkeypatch):
    monkeypatch.setenv("AIRBYTE_API_URL", "http://airbyte.internal:8000/api/public/v1")
    with pytest.raises(errors.ConfigError):
        get_job.handler(get_event(1), None)


def test_sentinel_secret_never_in_handler_logs_or_errors(airbyte, handler_logs, capsys):
    cid = new_connection_id()
    airbyte.add_connection(cid)
    job_id = create_job.handler(create_event(cid), None)["body"]["jobId"]
    airbyte.inject("getJob", Fault.status(401), times=2)
    with pytest.raises(errors.AuthError) as auth_error:
        get_job.handler(get_event(job_id), None)
    airbyte.inject("getJob", Fault.status(500), times=5)
    with pytest.raises(errors.Unavailable) as unavailable:
        get_job.handler(get_event(job_id), None)
    captured = capsys.readouterr()
    for text in (handler_logs.text, str(auth_error.value), str(unavailable.value), captured.out, captured.err):
        assert SENTINEL_SECRET not in text
        for token in airbyte.issued_tokens:
            assert token not in text
    assert "getJob" in str(unavailable.value) and "HTTP 500" in str(unavailable.value)


# ------------------------------------------------------------------ execution_stopped (moto Step Functions)


@pytest.fixture
def ended_execution(aws, monkeypatch):
    """An execution of a moto state machine whose history is the given events (oldest first)."""
    import boto3
    from moto.stepfunctions import models

    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="airbyte-sync", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]

    def make(history: list[dict]) -> str:
        monkeypatch.setattr(models.Execution, "get_execution_history", lambda self, role_arn: history)
        return sfn.start_execution(stateMachineArn=machine, name=f"e-{len(history)}-{id(history)}",
                                   input="{}")["executionArn"]

    return make


def ended_event(execution_arn, status="ABORTED"):
    return {"version": "0", "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
            "detail": {"executionArn": execution_arn, "status": status, "input": "{}"}}


def task_succeeded(event_id, payload):
    return {"id": event_id, "type": "TaskSucceeded", "timestamp": datetime.now(timezone.utc),
            "taskSucceededEventDetails": {"resourceType": "lambda", "resource": "invoke",
                                          "output": json.dumps({"Payload": payload})}}


def created(job_id, cid, attached=False):
    return {"statusCode": 200, "headers": {"x-airbyte-sync-attached": attached},
            "body": {"jobId": job_id, "connectionId": cid, "status": "running"}}


def polled(job_id, cid):
    return {"statusCode": 200, "headers": {}, "body": {"jobId": job_id, "connectionId": cid, "status": "running"}}


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])
def test_execution_ended_badly_cancels_its_own_running_job(airbyte, ended_execution, handler_logs, status):
    cid = new_connection_id()
    job_id = airbyte.start_running_job(cid)
    arn = ended_execution([task_succeeded(3, created(job_id, cid)), task_succeeded(7, polled(job_id, cid))])
    assert execution_stopped.handler(ended_event(arn, status), None) == {
        "outcome": "cancelled", "jobId": job_id, "statusCode": 200}
    assert airbyte.cancelled_job_ids == [job_id]
    assert any(line.get("job_id") == job_id and line["execution_arn"] == arn for line in handler_logs.lines)


def test_execution_ended_badly_leaves_an_adopted_job_and_a_job_it_waited_for(airbyte, ended_execution):
    cid = new_connection_id()
    adopted_id = airbyte.start_running_job(cid)
    arn = ended_execution([task_succeeded(3, created(adopted_id, cid, attached=True))])
    assert execution_stopped.handler(ended_event(arn), None)["outcome"] == "notOurs"
    # An execution aborted while it waited for another type's job: getJob results of that job are not ours.
    other_cid = new_connection_id()
    reset_id = airbyte.start_running_job(other_cid, job_type="reset")
    arn = ended_execution([task_succeeded(3, {"statusCode": 409, "headers": {"x-airbyte-sync-attached": False,
                                                                         "x-airbyte-sync-active-job-id": reset_id},
                                              "body": {"title": "try-again-later"}}),
                           task_succeeded(7, polled(reset_id, other_cid))])
    assert execution_stopped.handler(ended_event(arn), None)["reason"] == "no-job"
    assert airbyte.count("cancelJob") == 0 and airbyte.cancelled_job_ids == []


def test_execution_ended_badly_with_a_finished_job_sends_no_delete(airbyte, ended_execution):
    cid = new_connection_id()
    airbyte.add_connection(cid, script=JobScript.polls("succeeded"))
    job_id = create_job.handler(create_event(cid), None)["body"]["jobId"]
    other = airbyte.start_running_job(cid)  # e.g. the next scheduled sync, which DELETE would cancel
    arn = ended_execution([task_succeeded(3, created(job_id, cid))])
    assert execution_stopped.handler(ended_event(arn, "FAILED"), None)["outcome"] == "alreadyEnded"
    assert airbyte.count("cancelJob") == 0 and other not in airbyte.cancelled_job_ids


def test_execution_without_a_job_of_its_own_does_nothing(airbyte, ended_execution):
    arn = ended_execution([task_succeeded(3, polled(5, new_connection_id()))])  # e.g. a continued execution
    assert execution_stopped.handler(ended_event(arn), None)["reason"] == "no-job"
    assert execution_stopped.handler(ended_event(arn, "SUCCEEDED"), None)["reason"] == "not-ended-badly"
    assert airbyte.count("cancelJob") == 0 and airbyte.count("getJob") == 0


def test_cleanup_that_cannot_reach_airbyte_fails_with_a_named_error(airbyte, ended_execution, handler_logs):
    cid = new_connection_id()
    job_id = airbyte.start_running_job(cid)
    arn = ended_execution([task_succeeded(3, created(job_id, cid))])
    airbyte.inject("getJob", Fault.status(503), times=20)
    with pytest.raises(errors.CleanupFailed) as caught:
        execution_stopped.handler(ended_event(arn, "TIMED_OUT"), None)
    assert type(caught.value).__name__ == "Airbyte.CleanupFailed" and str(job_id) in str(caught.value)
    assert any(line["message"].startswith("Cleanup failed") and line["level"] == "ERROR" for line in handler_logs.lines)


def test_history_is_read_oldest_first_page_by_page():
    class PagedHistory:
        def __init__(self):
            self.calls = []

        def get_execution_history(self, **kwargs):
            self.calls.append(kwargs)
            if "nextToken" not in kwargs:
                return {"events": [{"id": 1, "type": "ExecutionStarted"}], "nextToken": "t1"}
            return {"events": [task_succeeded(2, created(42, "c"))]}

    stub = PagedHistory()
    found = created_job(history_oldest_first(stub, EXECUTION_ARN))
    assert (found.job_id, found.connection_id, found.attached) == (42, "c", False)
    assert stub.calls[0]["reverseOrder"] is False and stub.calls[1]["nextToken"] == "t1"


# ------------------------------------------------------------------ start_sync (the admission of events)


def sync_requested(detail, event_id="4b6f2c1e-8d3a-4f5b-9e7c-2a1d0c9b8e7f"):
    return {"version": "0", "id": event_id, "source": "airbyte-sync", "detail-type": "Airbyte Sync Requested",
            "account": "123456789012", "detail": detail}


@pytest.fixture
def sync_machine(aws, monkeypatch):
    import boto3

    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="airbyte-sync", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    monkeypatch.setenv("SYNC_STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("EVENT_JOB_TYPES", "sync")
    return sfn, arn


def test_start_sync_keeps_documented_fields_and_names_the_execution_after_the_event(sync_machine):
    sfn, arn = sync_machine
    cid = new_connection_id()
    forged = {"connectionId": cid, "deadlineSeconds": 7200, "jobType": "sync",
              "arazzoResume": {"steps": {"triggerJob": {"outputs": {"jobId": 1}}}}, "allowedJobTypes": ["reset"]}
    result = start_sync.handler(sync_requested(forged), None)
    assert result["started"] is True and result["executionName"] == "event-4b6f2c1e-8d3a-4f5b-9e7c-2a1d0c9b8e7f"
    started = sfn.describe_execution(executionArn=result["executionArn"])
    assert json.loads(started["input"]) == {"connectionId": cid, "deadlineSeconds": 7200, "jobType": "sync",
                                            "allowedJobTypes": ["sync"]}


def test_start_sync_starts_nothing_for_a_redelivered_event(sync_machine):
    sfn, arn = sync_machine
    event = sync_requested({"connectionId": new_connection_id()})
    assert start_sync.handler(event, None)["started"] is True
    sfn.stop_execution(executionArn=sfn.list_executions(stateMachineArn=arn)["executions"][0]["executionArn"])
    again = start_sync.handler(event, None)  # the first execution has ended: still nothing new
    assert again["started"] is False
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_start_sync_of_the_schedule(sync_machine):
    sfn, arn = sync_machine
    cid = new_connection_id()
    payload = {"connectionId": cid, "scheduledTime": "2026-12-01T02:00:00Z",
               "scheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/airbyte-sync-airbyte-sync"}
    first = start_sync.handler(payload, None)
    assert first["executionName"].startswith("schedule-20261201T020000Z-")
    assert json.loads(sfn.describe_execution(executionArn=first["executionArn"])["input"]) == {"connectionId": cid}
    again = start_sync.handler(payload, None)  # Scheduler retried its delivery while the execution runs
    assert again["executionArn"] == first["executionArn"]
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_start_sync_refuses_what_is_not_a_sync_request(sync_machine):
    with pytest.raises(ValueError):
        start_sync.handler({"source": "someone-else", "detail-type": "Whatever", "id": "1", "detail": {}}, None)
