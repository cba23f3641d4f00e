"""Issue "Reliability and safety": one scenario per behaviour, Airbyte misbehaving on purpose (emulator faults).

For each: the outcome, the error name, the exact number of createJob POSTs (never more than one sync), whether a
cancel was sent, and (the ``h`` fixture, at teardown) that the client secret shows up nowhere.
"""
import json
import uuid

import pytest

from local_tools.emulator import Fault, JobScript

DONE = JobScript.polls("pending", ("running", 2), "succeeded", rows=120, bytes=4096)


def jobs_of(h, connection_id):
    return [job for job in h.emu.jobs.values() if job.connection_id == connection_id]


def lambda_error(result):
    """A Lambda error's Cause is the function's error payload (errorType, errorMessage)."""
    cause = result.cause_json
    assert isinstance(cause, dict) and cause.get("errorType") == result.error, result.cause
    return cause["errorMessage"]


# --- 1. bad input ---------------------------------------------------------------------------------------------

VALID = str(uuid.uuid4())


@pytest.mark.parametrize("execution_input, field", [
    ({}, "connectionId: required"),
    ({"jobType": "sync"}, "connectionId: required"),
    ({"connectionId": "not-a-uuid"}, "connectionId: must be a uuid"),
    ({"connectionId": 42}, "connectionId: must be a string"),
    ({"connectionId": VALID, "jobType": "full-refresh"}, "jobType: must be one of sync, reset, refresh, clear"),
    ({"connectionId": VALID, "jobType": 5}, "jobType: must be a string"),
    ({"connectionId": VALID, "deadlineSeconds": 10}, "deadlineSeconds: must be at least 60"),
    ({"connectionId": VALID, "failOnUnsuccessfulSync": "yes"}, "failOnUnsuccessfulSync: must be a boolean"),
    ([VALID], "the execution input must be a JSON object"),
    (json.dumps(VALID), "the execution input must be a JSON object"),  # a JSON string
], ids=["empty", "no-connection", "not-uuid", "number-connection", "unknown-jobType", "jobType-5",
        "deadline-too-small", "fail-flag-not-boolean", "list", "string"])
def test_bad_input_fails_before_any_call(h, execution_input, field):
    result = h.run(execution_input)

    assert result.status == "FAILED"
    assert result.error == "Arazzo.InvalidInput"
    assert field in result.cause
    assert h.airbyte_calls() == 0, "no HTTP request may reach Airbyte"
    assert h.operation_invocations() == [], "no Airbyte handler runs"
    assert [c["reason"] for c in h.wait_for_cleanups(1)] == ["no-job"], "the cleanup of a FAILED execution: no job"


def test_bad_input_from_eventbridge_fails_the_same_way(h):
    [started] = h.put_events({"Source": "airbyte-sync", "DetailType": "Airbyte Sync Requested",
                              "Detail": json.dumps({"connectionId": "b5e2a7c4", "jobType": "sync"})})
    result = h.engine.wait(started)
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert "connectionId: must be a uuid" in result.cause
    assert h.airbyte_calls() == 0


# --- 2. 409 / 422 on createJob ----------------------------------------------------------------------------------

def test_sync_already_running_is_adopted_and_polled(h):
    connection = h.connection(DONE)
    running = h.emu.start_running_job(connection, script=JobScript.polls("running", ("running", 3), "succeeded",
                                                                           rows=77, bytes=777))
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"jobId": running, "finalStatus": "succeeded", "rowsSynced": 77, "bytesSynced": 777,
                             "attached": True, "waitedForJobId": None}
    assert h.posts() == 0, "the running job was seen in the listing: nothing posted"
    assert len(jobs_of(h, connection)) == 1, "no second sync"
    assert {r.path for r in h.polls()} == {f"/jobs/{running}"}
    assert h.cancels() == [], "an adopted job is someone else's: never cancelled when it ends"


def test_inactive_connection_fails_with_airbytes_message(h):
    connection = h.connection(DONE, active=False)
    result = h.run({"connectionId": connection})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.Conflict"
    message = lambda_error(result)
    assert "Could not fulfill request" in message and connection in message and "inactive" in message
    assert h.posts() == 1
    assert h.polls() == [] and jobs_of(h, connection) == []
    assert result.retry_intervals == [], "a conflict is not retried"
    # Airbyte answers a sync of an inactive connection as it answers a create whose job id came too late:
    # the handler looked for the job (~45 s) before it gave up.
    assert h.emu.count("listJobs") == 1 + 7


def test_refresh_is_unprocessable_without_a_retry_storm(h):
    connection = h.connection(DONE)
    result = h.run({"connectionId": connection, "jobType": "refresh"})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.Unprocessable"
    assert "Refreshes are not supported in the public API" in lambda_error(result)
    assert h.posts() == 1
    assert result.retry_intervals == []
    assert h.polls() == [] and jobs_of(h, connection) == []


# --- 3. createJob broken off after the job was created -----------------------------------------------------------

@pytest.mark.parametrize("fault", [Fault.status(500, job_created=True), Fault.status(502, job_created=True),
                                   Fault.reset(job_created=True), Fault.truncated_json(job_created=True)],
                         ids=["500", "502", "reset", "truncated"])
def test_create_answer_lost_but_job_created_is_adopted(h, fault):
    connection = h.connection(DONE)
    h.emu.inject("createJob", fault)
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [job] = jobs_of(h, connection)
    assert result.output["jobId"] == job.job_id
    assert result.output["attached"] is False, "our own job, recovered, not someone else's"
    assert h.posts() == 1, "the job exists: never POST again"
    assert h.emu.count("listJobs") >= 1, "looked for the job before posting again"
    assert h.cancels() == []


def test_create_timeout_with_job_created_is_adopted(h):
    connection = h.connection(DONE)
    before = h.set_function_environment("CreateJobFunction", AIRBYTE_CREATE_READ_TIMEOUT_SECONDS="0.5")
    try:
        h.emu.inject("createJob", Fault.delay(2.0, job_created=True))  # answers after the client gave up
        result = h.run({"connectionId": connection})
    finally:
        h.restore_function_environment("CreateJobFunction", before)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [job] = jobs_of(h, connection)
    assert result.output["jobId"] == job.job_id and result.output["finalStatus"] == "succeeded"
    assert h.posts() == 1
    [post] = h.emu.requests_for("createJob")
    assert post.fault == "delay", "the answer came after the client had given up"
    assert h.emu.count("listJobs") >= 1, "looked for the job instead of posting again"


def test_create_500_without_a_job_posts_again_once(h):
    connection = h.connection(DONE)
    h.emu.inject("createJob", Fault.status(500))  # nothing was created
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert len(jobs_of(h, connection)) == 1
    assert h.posts() == 2, "looked (no job), then posted again"
    assert h.emu.count("listJobs") == 2, "once before the first POST, once before the second"


# --- 4. transient faults while polling --------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [
    Fault.status(500), Fault.status(502), Fault.status(503), Fault.status(429),
    Fault.reset(), Fault.truncated_json(job_created=False), Fault.truncated_json(job_created=True),
    Fault.not_json(), Fault.not_json(status=502),
], ids=["500", "502", "503", "429-no-retry-after", "reset", "truncated", "truncated-after-effect", "html-200",
        "html-502"])
def test_transient_poll_faults_are_retried(h, fault):
    connection = h.connection(DONE)
    h.emu.inject("getJob", fault, times=2)
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["finalStatus"] == "succeeded" and result.output["bytesSynced"] == 4096
    assert h.posts() == 1
    faulty = [r for r in h.polls() if r.fault]
    assert len(faulty) == 2
    assert "Transient Airbyte fault; retrying" in h.logs()
    assert h.cancels() == []


def test_429_retry_after_is_honoured(h):
    connection = h.connection(DONE)
    h.emu.inject("getJob", Fault.status(429, headers={"Retry-After": "7"}), times=2)
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    polls = h.polls()
    assert [r.status_code for r in polls[:3]] == [429, 429, 200]
    assert polls[1].at - polls[0].at == pytest.approx(7, abs=0.01)
    assert polls[2].at - polls[1].at == pytest.approx(7, abs=0.01)
    assert h.posts() == 1


def test_poll_faults_that_never_stop_end_unavailable(h):
    connection = h.connection(JobScript.polls("running"))
    h.emu.inject("getJob", Fault.status(503), times=25)  # then Airbyte answers again: the cleanup reads the job
    result = h.run({"connectionId": connection})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.Unavailable"
    message = lambda_error(result)
    assert "getJob" in message and "503" in message
    # Bounded, no storm: 5 attempts per invocation (the handler's own retries) x 5 invocations (the first and
    # the workflow's x-retry of 4 on Airbyte.Unavailable).
    assert len([r for r in h.polls() if r.fault]) == 25
    assert h.posts() == 1
    # Polling gave up, so the job would run on unwatched: it was read, then cancelled before the execution failed.
    [job] = jobs_of(h, connection)
    assert len(h.cancels()) == 1 and h.emu.cancelled_job_ids == [job.job_id]
    assert [c.get("outcome") for c in h.wait_for_cleanups(1)] == ["alreadyEnded"]
    waits = [w for w in result.waits]
    assert len(waits) == 0 and len(result.retry_intervals) == 4


# --- 5. credentials ----------------------------------------------------------------------------------------------

def test_token_expiry_mid_poll_is_refreshed_once(h):
    connection = h.connection(JobScript.polls("pending", ("running", 4), "succeeded", rows=1, bytes=2))

    def expire_after_the_second_poll(request):
        if h.emu.jobs[request.job_id].polls_seen == 2:
            h.emu.expire_tokens()  # e.g. rotated by an admin, or the server restarted

    h.emu.on_answer("getJob", expire_after_the_second_poll)  # the harness's reset() clears it
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert h.token_requests() == 2, "one token, then one refresh"
    assert [r.status_code for r in h.emu.requests].count(401) == 1
    assert h.posts() == 1


def test_401_after_a_refresh_is_an_auth_error(h):
    connection = h.connection(JobScript.polls("running"))
    h.emu.inject("getJob", Fault.status(401), times=2)
    result = h.run({"connectionId": connection})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.AuthError"
    assert "401" in lambda_error(result)
    assert [r.status_code for r in h.polls()][:2] == [401, 401] and h.posts() == 1
    # The job is ours and still runs: the cleanup cancels it (it reads it first, with good credentials).
    [job] = jobs_of(h, connection)
    assert h.emu.cancelled_job_ids == [job.job_id]


def test_wrong_client_secret_is_an_auth_error_before_any_post(fresh_secret_harness):
    h = fresh_secret_harness
    result = h.run({"connectionId": h.connection(DONE)})
    assert (result.status, result.error) == ("FAILED", "Airbyte.AuthError")
    assert h.posts() == 0


@pytest.fixture
def fresh_secret_harness(h):
    """The shared stack with its secret changed to a wrong client secret (restored afterwards)."""
    h.engine.secretsmanager.put_secret_value(
        SecretId=h.secret_arn, SecretString=json.dumps({"client_id": "machine-tests-client",
                                                        "client_secret": "SENTINEL-SECRET-7f3a-but-wrong"}))
    _drop_cached_secret()
    yield h
    h.engine.secretsmanager.put_secret_value(
        SecretId=h.secret_arn, SecretString=json.dumps({"client_id": "machine-tests-client",
                                                        "client_secret": "SENTINEL-SECRET-7f3a"}))
    _drop_cached_secret()


def _drop_cached_secret():
    # The functions cache the secret for AIRBYTE_SECRET_MAX_AGE_SECONDS (a warm function would keep the old one).
    import sys

    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None and hasattr(parameters, "clear_caches"):
        parameters.clear_caches()
    secrets = sys.modules.get("airbyte_client.secrets")
    if secrets is not None:
        secrets.forget()


# --- 6. the job disappears --------------------------------------------------------------------------------------

def test_a_job_that_can_no_longer_be_read_fails_unreadable_and_is_never_deleted(h):
    connection = h.connection(JobScript.polls("running"))
    h.emu.inject("getJob", Fault.status(403), times=10)  # today's servers answer 403 for a job they cannot find
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "Airbyte.JobUnreadable")
    [job] = jobs_of(h, connection)
    assert str(job.job_id) in lambda_error(result) and "can no longer be read" in lambda_error(result)
    assert h.posts() == 1
    assert [r.status_code for r in h.polls()][:2] == [403, 403], "read once more, then the named error"
    assert h.cancels() == [], "a job that cannot be read is never sent a DELETE"


def test_a_single_403_is_read_again_and_the_sync_goes_on(h):
    connection = h.connection(DONE)
    h.emu.inject("getJob", Fault.status(403))
    result = h.run({"connectionId": connection})
    assert result.status == "SUCCEEDED", (result.error, result.cause)


# --- 7./8. unknown statuses and the deadline ------------------------------------------------------------------

def test_unknown_status_is_never_success_and_polls_until_the_deadline(h):
    connection = h.connection(JobScript.polls("running", "mysterious"))
    result = h.run({"connectionId": connection, "deadlineSeconds": 600})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.SyncTimedOut"
    cause = json.loads(result.cause)
    [job] = jobs_of(h, connection)
    assert cause["jobId"] == job.job_id and cause["lastStatus"] == "mysterious" and cause["cancel"] == "cancelled"
    assert h.emu.cancelled_job_ids == [job.job_id]
    assert len(h.polls()) > 10
    assert h.posts() == 1


def test_deadline_cancels_the_job_and_fails_timed_out(h):
    connection = h.connection(JobScript.polls("running"))
    result = h.run({"connectionId": connection, "deadlineSeconds": 600})

    assert result.status == "FAILED"
    assert result.error == "Airbyte.SyncTimedOut"
    [job] = jobs_of(h, connection)
    cause = json.loads(result.cause)
    assert cause["jobId"] == job.job_id
    assert cause["lastStatus"] == "running" and cause["limit"] == "deadline passed"
    assert cause["cancel"] == "cancelled" and "cleanupError" not in cause
    [cancel] = h.cancels()
    assert cancel.method == "DELETE" and cancel.path == f"/jobs/{job.job_id}" and cancel.status_code == 200
    assert h.emu.cancelled_job_ids == [job.job_id] and job.status == "cancelled"
    assert sum(result.waits) == 600, "the last wait is cut at the deadline"
    assert result.duration_seconds == pytest.approx(600, abs=1)
    assert h.posts() == 1


def test_eventbridge_sample_deadline_of_two_hours(h):
    connection = h.connection(JobScript.timed(6 * 3600))
    result = h.run_eventbridge(connection)  # events/eventbridge-entry.json says deadlineSeconds 7200

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    [job] = jobs_of(h, connection)
    assert h.emu.cancelled_job_ids == [job.job_id]
    assert sum(result.waits) == 7200


def test_cancel_that_fails_is_reported_with_the_timeout(h):
    connection = h.connection(JobScript.polls("running"))
    h.emu.inject("cancelJob", Fault.status(503), times=100)
    result = h.run({"connectionId": connection, "deadlineSeconds": 600})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    cause = json.loads(result.cause)
    assert cause["cleanupError"] == "Airbyte.Unavailable"
    assert h.cancels(), "the cancel was attempted"


# --- 11. honest ending ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("final, error", [("failed", "Airbyte.SyncFailed"), ("cancelled", "Airbyte.SyncCancelled")])
def test_unsuccessful_sync_fails_with_a_json_cause(h, final, error):
    connection = h.connection(JobScript.polls("running", final, rows=10, bytes=100))
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", error)
    [job] = jobs_of(h, connection)
    assert json.loads(result.cause) == {"jobId": job.job_id, "status": final, "rowsSynced": 10, "bytesSynced": 100}


@pytest.mark.parametrize("final", ["failed", "cancelled"])
def test_fail_on_unsuccessful_sync_false_reports_the_status(h, final):
    connection = h.connection(JobScript.polls("running", final, rows=10, bytes=100))
    result = h.run({"connectionId": connection, "failOnUnsuccessfulSync": False})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["finalStatus"] == final
    assert result.output["rowsSynced"] == 10 and result.output["bytesSynced"] == 100


def test_succeeded_with_zero_bytes_warns(h):
    connection = h.connection(JobScript.polls("running", "succeeded", rows=0, bytes=0))
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED"
    assert result.output["bytesSynced"] == 0
    warnings = [line for line in h.logs().splitlines() if "0 bytes" in line and "WARNING" in line]
    assert warnings, "a success that moved nothing deserves a warning"


def test_succeeded_with_bytes_does_not_warn(h):
    result = h.run({"connectionId": h.connection(DONE)})
    assert result.status == "SUCCEEDED"
    assert "0 bytes" not in h.logs()
