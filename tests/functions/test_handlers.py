"""The Lambda handlers end to end: event in, contract response out; secrets from moto Secrets Manager."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from airbyte_client import errors
from airbyte_handlers import cancel_job, create_job, execution_stopped, get_job
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


def cancel_event(job_id):
    return contract_event("cancelJob", "DELETE", "/jobs/{jobId}", path_params={"jobId": job_id})


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


def test_cancel_handler(airbyte):
    job_id = airbyte.start_running_job(new_connection_id())
    assert cancel_job.handler(cancel_event(job_id), None)["statusCode"] == 200
    assert cancel_job.handler(cancel_event(job_id), None)["statusCode"] == 409  # not running: fine


def test_handlers_raise_the_named_errors(airbyte):
    with pytest.raises(errors.JobNotFound) as caught:
        get_job.handler(get_event(424242), None)
    assert type(caught.value).__name__ == "Airbyte.JobNotFound"
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(get_event("1001"), None)
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(cancel_event(1001), None)  # wired to the wrong operation
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
def stopped_execution(aws):
    """A moto state machine with one execution; returns (execution ARN, input) makers."""
    import boto3

    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="airbyte-sync", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]

    def start(execution_input: dict) -> str:
        return sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]

    return start


def stopped_event(execution_arn, execution_input, status="ABORTED"):
    return {
        "version": "0", "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
        "detail": {"executionArn": execution_arn, "status": status, "input": json.dumps(execution_input)},
    }


def task_succeeded(event_id, output):
    return {"id": event_id, "type": "TaskSucceeded", "timestamp": datetime.now(timezone.utc),
            "taskSucceededEventDetails": {"resourceType": "lambda", "resource": "invoke", "output": json.dumps(output)}}


def test_execution_stopped_cancels_the_job_found_in_the_history(airbyte, stopped_execution, monkeypatch, handler_logs):
    from moto.stepfunctions import models

    job_id = airbyte.start_running_job(new_connection_id())
    history = [  # newest first, as with reverseOrder=True
        {"id": 9, "type": "TaskStateEntered", "timestamp": datetime.now(timezone.utc),
         "stateEnteredEventDetails": {"name": "pollJob", "input": "{}"}},
        task_succeeded(8, {"Payload": {"statusCode": 200, "headers": {}, "body": {"jobId": job_id, "status": "running"}}}),
        task_succeeded(4, {"Payload": {"statusCode": 200, "headers": {}, "body": {"jobId": 1, "status": "running"}}}),
    ]
    monkeypatch.setattr(models.Execution, "get_execution_history", lambda self, role_arn: history)
    execution_arn = stopped_execution({"connectionId": "x"})
    result = execution_stopped.handler(stopped_event(execution_arn, {"connectionId": "x"}, "TIMED_OUT"), None)
    assert result == {"cancelled": True, "jobId": job_id, "statusCode": 200}
    assert airbyte.cancelled_job_ids == [job_id]
    assert any(line.get("job_id") == job_id and line["execution_arn"] == execution_arn for line in handler_logs.lines)


def test_execution_stopped_falls_back_on_the_resume_input(airbyte, stopped_execution):
    job_id = airbyte.start_running_job(new_connection_id())
    execution_input = {"connectionId": "x", "arazzoResume": {"steps": {"triggerJob": {"outputs": {"jobId": job_id}}}}}
    execution_arn = stopped_execution(execution_input)  # moto's canned history has no TaskSucceeded
    result = execution_stopped.handler(stopped_event(execution_arn, execution_input), None)
    assert result["cancelled"] is True and airbyte.cancelled_job_ids == [job_id]


def test_execution_stopped_with_a_finished_job_is_fine(airbyte, stopped_execution):
    cid = new_connection_id()
    airbyte.add_connection(cid, script=JobScript.polls("succeeded"))
    job_id = create_job.handler(create_event(cid), None)["body"]["jobId"]
    execution_input = {"arazzoResume": {"steps": {"triggerJob": {"outputs": {"jobId": job_id}}}}}
    result = execution_stopped.handler(stopped_event(stopped_execution(execution_input), execution_input), None)
    assert result == {"cancelled": False, "jobId": job_id, "statusCode": 409}


def test_execution_stopped_without_a_job_does_nothing(airbyte, stopped_execution):
    execution_arn = stopped_execution({"connectionId": "x"})
    assert execution_stopped.handler(stopped_event(execution_arn, {"connectionId": "x"}), None)["reason"] == "no-job"
    assert execution_stopped.handler(stopped_event(execution_arn, {}, "SUCCEEDED"), None)["reason"] == "not-stopped"
    assert airbyte.count("cancelJob") == 0


def test_history_scanning_logic():
    events = [
        task_succeeded(3, {"Payload": {"body": {"jobId": "7"}}}),  # not an integer: skipped
        task_succeeded(2, {"Payload": {"body": {"jobId": 7}}}),
        task_succeeded(1, {"Payload": {"body": {"jobId": 1}}}),
    ]
    assert execution_stopped.job_id_from_history(events) == 7
    assert execution_stopped.job_id_from_history([]) is None
    assert execution_stopped.job_id_from_input('{"arazzoResume": {"steps": {"triggerJob": {"outputs": {"jobId": 5}}}}}') == 5
    assert execution_stopped.job_id_from_input("not json") is None


def test_history_pages_are_followed():
    class PagedHistory:
        def __init__(self):
            self.calls = []

        def get_execution_history(self, **kwargs):
            self.calls.append(kwargs)
            if "nextToken" not in kwargs:
                return {"events": [{"id": 5, "type": "WaitStateExited"}], "nextToken": "t1"}
            return {"events": [task_succeeded(2, {"Payload": {"body": {"jobId": 42}}})]}

    stub = PagedHistory()
    assert execution_stopped.find_job_id(stub, EXECUTION_ARN, None) == 42
    assert stub.calls[0]["reverseOrder"] is True and stub.calls[1]["nextToken"] == "t1"
