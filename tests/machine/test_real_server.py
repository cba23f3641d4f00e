"""Issue "Keep every promise against Airbyte's real server": the product against an emulator that answers as
Airbyte's server does (docs/airbyte-behaviour.md), one test per case of the issue. Each asserts what a user sees:
createJob POSTs, which jobs got a DELETE, the error name and cause, the output.
"""
import json
import sys

import pytest

from local_tools.emulator import Fault, JobScript

DONE = JobScript.polls("pending", ("running", 2), "succeeded", rows=120, bytes=4096)


def jobs_of(h, connection_id):
    return sorted((job for job in h.emu.jobs.values() if job.connection_id == connection_id), key=lambda j: j.job_id)


def lambda_error(result):
    cause = result.cause_json
    assert isinstance(cause, dict) and cause.get("errorType") == result.error, result.cause
    return cause["errorMessage"]


# --- 1. a slow create: the server stopped waiting for the job id, but the sync was signalled -----------------------

def test_a_create_answered_409_could_not_fulfill_is_found_and_adopted_as_our_own(h):
    connection = h.connection(DONE)
    h.emu.inject("createJob", Fault.slow_create(visible_after_seconds=5))  # the job shows up 5 s after the 409
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [job] = jobs_of(h, connection)
    assert result.output["jobId"] == job.job_id and result.output["finalStatus"] == "succeeded"
    assert result.output["attached"] is False, "the execution's own job (it may cancel it at its deadline)"
    [post] = h.emu.requests_for("createJob")
    assert post.status_code == 409, "one POST, answered 409 state-conflict: never a second one"
    assert h.emu.count("listJobs") >= 3, "looked before the POST, then until the job appeared"
    assert h.cancels() == []


# --- 2. a running job of another type --------------------------------------------------------------------------

def test_a_running_reset_is_followed_to_its_end_then_the_sync_is_triggered(h):
    connection = h.connection(DONE)
    reset = h.emu.start_running_job(connection, job_type="reset",
                                    script=JobScript.polls("running", ("running", 3), "succeeded"))
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    synced = [job for job in jobs_of(h, connection) if job.job_type == "sync"]
    assert [job.job_id for job in synced] == [result.output["jobId"]]
    assert result.output["waitedForJobId"] == reset and result.output["attached"] is False
    assert h.posts() == 1, "the sync was posted once, after the reset ended"
    assert h.emu.requests_for("createJob")[0].at >= h.emu.jobs[reset].ended_at
    assert h.emu.cancelled_job_ids == [] and h.emu.jobs[reset].status == "succeeded", "the reset was left alone"
    assert len(h.polls(reset)) >= 4


def test_a_reset_that_runs_past_the_deadline_fails_without_triggering_or_cancelling(h):
    connection = h.connection(DONE)
    reset = h.emu.start_running_job(connection, job_type="reset")  # runs until someone cancels it
    result = h.run({"connectionId": connection, "deadlineSeconds": 300})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    cause = json.loads(result.cause)
    assert cause["waitedForJobId"] == reset and cause["limit"] == "deadline passed"
    assert h.posts() == 0 and h.cancels() == [] and h.emu.jobs[reset].status == "running"


def test_a_reset_request_never_cancels_a_running_sync(h):
    connection = h.connection(DONE)
    scheduled = h.emu.start_running_job(connection, script=JobScript.polls("running", "running", "succeeded"))
    result = h.run({"connectionId": connection, "jobType": "reset"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["waitedForJobId"] == scheduled
    assert h.emu.jobs[scheduled].status == "succeeded", "the sync ran to its end: a reset POST would have cancelled it"
    assert h.emu.cancelled_job_ids == []
    [reset] = [job for job in jobs_of(h, connection) if job.job_type == "reset"]
    assert result.output["jobId"] == reset.job_id


# --- 3. a queued job someone else started -------------------------------------------------------------------------

def test_a_queued_sync_someone_else_started_is_adopted_not_reported_as_ours(h):
    connection = h.connection(DONE)
    queued = h.emu.start_running_job(connection, script=JobScript.polls("queued", "running", "succeeded", rows=5))
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["jobId"] == queued and result.output["attached"] is True
    assert h.posts() == 0 and len(jobs_of(h, connection)) == 1


def test_a_post_answered_with_a_job_queued_before_the_attempt_is_adopted(h):
    connection = h.connection(DONE)
    queued = h.emu.start_running_job(connection, script=JobScript.polls("pending", "running", "succeeded"))
    h.emu.clock.sleep(120)  # queued two minutes ago...
    h.emu.inject("listJobs", Fault.status(200, body={"data": [], "next": "", "previous": ""}))  # ...a listing missed
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [post] = h.emu.requests_for("createJob")
    assert post.status_code == 200, "Airbyte answered the POST with the queued job, not a new one"
    assert result.output["jobId"] == queued and result.output["attached"] is True
    assert len(jobs_of(h, connection)) == 1


# --- 4. never cancel a job that is not ours, or that already ended -----------------------------------------------

def test_at_the_deadline_an_adopted_job_is_left_running(h):
    connection = h.connection(DONE)
    theirs = h.emu.start_running_job(connection)
    result = h.run({"connectionId": connection, "deadlineSeconds": 300})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    cause = json.loads(result.cause)
    assert cause["jobId"] == theirs and cause["cancel"] == "notOurs"
    assert h.cancels() == [] and h.emu.jobs[theirs].status == "running"
    assert [c["outcome"] for c in h.wait_for_cleanups(1)] == ["notOurs"], "nor by the cleanup of the FAILED execution"
    assert h.cancels() == []


def test_polling_that_fails_for_good_leaves_an_adopted_job_running(h):
    connection = h.connection(DONE)
    theirs = h.emu.start_running_job(connection)
    h.emu.inject("getJob", Fault.status(503), times=25)
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "Airbyte.Unavailable")
    assert h.cancels() == [] and h.emu.jobs[theirs].status == "running"


def test_the_cleanup_of_a_failed_execution_never_cancels_the_next_job_of_the_connection(h):
    connection = h.connection(JobScript.polls("running", "failed", rows=1, bytes=1))
    later = []

    def the_schedule_starts_the_next_sync(request):
        ours = jobs_of(h, connection)[0]
        if ours.status == "failed" and not later:
            later.append(h.emu.start_running_job(connection))

    h.emu.on_answer("getJob", the_schedule_starts_the_next_sync)
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncFailed")
    [cleanup] = h.wait_for_cleanups(1)
    assert cleanup["outcome"] == "alreadyEnded", "read first: the job had ended, so no DELETE"
    assert h.cancels() == [], "a DELETE of the ended job would have cancelled the connection's next sync"
    assert h.emu.jobs[later[0]].status == "running"


# --- 5. credential rotation --------------------------------------------------------------------------------------

def rotate_secret(h, new_secret):
    h.engine.secretsmanager.put_secret_value(SecretId=h.secret_arn, SecretString=json.dumps(
        {"client_id": "machine-tests-client", "client_secret": new_secret}))
    h.emu.rotate_credentials(client_secret=new_secret)


@pytest.fixture
def restore_secret(h):
    yield
    from machine_harness import SENTINEL

    rotate_secret(h, SENTINEL)


def test_a_rotated_secret_is_read_again_when_the_token_endpoint_refuses_the_cached_one(h, restore_secret):
    connection = h.connection(JobScript.timed(120, rows=1, bytes=2))

    def rotate_after_the_first_poll(request):
        # Rotated, and the warm function's access token runs out (its token cache is emptied, as its expiry would):
        # the next token request comes within the function's 300 s secret cache, with the stale secret.
        if request.job_id is not None and h.emu.jobs[request.job_id].polls_seen == 1:
            rotate_secret(h, "SENTINEL-SECRET-7f3a-rotated")
            sys.modules["airbyte_client.auth"].TOKENS.clear()

    h.emu.on_answer("getJob", rotate_after_the_first_poll)
    result = h.run({"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    statuses = [r.status_code for r in h.emu.requests_for("createAccessToken")]
    assert 401 in statuses, "the warm function's cached secret was refused when its token expired"
    assert statuses[statuses.index(401) + 1] == 200, "then the secret was read again, bypassing the cache"
    assert h.posts() == 1 and h.cancels() == []


def test_the_deadline_cancel_after_a_rotation_still_cancels_our_job(h, restore_secret):
    connection = h.connection(JobScript.polls("running"))
    h.emu.expire_tokens()  # the next token request uses the (soon stale) cached secret

    def rotate_after_the_first_poll(request):
        if request.job_id is not None and h.emu.jobs[request.job_id].polls_seen == 1:
            rotate_secret(h, "SENTINEL-SECRET-7f3a-rotated-again")

    h.emu.on_answer("getJob", rotate_after_the_first_poll)
    result = h.run({"connectionId": connection, "deadlineSeconds": 1200})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    [job] = jobs_of(h, connection)
    assert json.loads(result.cause)["cancel"] == "cancelled"
    assert 401 in [r.status_code for r in h.emu.requests_for("createAccessToken")]
    assert h.emu.cancelled_job_ids == [job.job_id]


# --- 8. answers the product must not misread -------------------------------------------------------------------

def test_a_create_answered_200_without_a_job_id_fails_at_once_as_malformed(h):
    connection = h.connection(DONE)
    h.emu.inject("createJob", Fault.status(200, body={"status": "pending", "jobType": "sync"}))
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "Airbyte.MalformedResponse")
    assert "without an integer jobId" in lambda_error(result)
    assert h.posts() == 1
    assert h.polls() == [] and h.cancels() == [], "nothing else was sent"
    assert [c["reason"] for c in h.wait_for_cleanups(1)] == ["no-job"]


# --- 6. time budgets: a slow Airbyte never turns into a cancelled healthy sync -----------------------------------

def test_a_poll_that_answers_too_slowly_is_retried_and_the_healthy_sync_is_not_cancelled(h):
    connection = h.connection(DONE)
    before = h.set_function_environment("GetJobFunction", AIRBYTE_READ_TIMEOUT_SECONDS="0.5")
    try:
        h.emu.inject("getJob", Fault.delay(2.0, job_created=False), times=5)  # one invocation's worth
        result = h.run({"connectionId": connection})
    finally:
        h.restore_function_environment("GetJobFunction", before)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert h.cancels() == [], "Airbyte was slow, not the sync: nothing cancelled"
    assert len(result.retry_intervals) >= 1, "the step was retried after the handler gave up inside its timeout"
    assert h.posts() == 1


def test_a_create_whose_invocation_cannot_find_its_job_is_retried_and_finds_it(h):
    connection = h.connection(DONE)
    before = h.set_function_environment("CreateJobFunction", AIRBYTE_CREATE_READ_TIMEOUT_SECONDS="0.5")
    try:
        h.emu.inject("createJob", Fault.delay(2.0, job_created=True))  # the job exists; the answer comes too late
        # Then the listings of that invocation fail too (Airbyte overloaded): it cannot tell whether it made a job.
        h.emu.inject("listJobs", Fault.status(503), times=1 + 5 + 5 + 5)
        result = h.run({"connectionId": connection})
    finally:
        h.restore_function_environment("CreateJobFunction", before)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [job] = jobs_of(h, connection)
    assert result.output["jobId"] == job.job_id and result.output["attached"] is False
    assert h.posts() == 1, "the retried step looked for the job first and adopted it"


def test_every_task_waits_a_little_longer_than_its_function(h):
    definition = json.loads(h.stack.definitions["SyncStateMachine"])
    timeouts = {}
    for state in definition["States"].values():
        if state.get("Resource") == "arn:aws:states:::lambda:invoke":
            function = state["Arguments"]["FunctionName"]
            configured = h.engine.lambda_.get_function(FunctionName=function)["Configuration"]["Timeout"]
            timeouts[function] = configured
            assert configured < state["TimeoutSeconds"] <= configured + 30, (state, configured)
    assert len(timeouts) == 3


# --- 7. cleanup of executions that fail outside the workflow ------------------------------------------------------

def test_an_execution_that_fails_outside_the_workflow_has_its_running_job_cancelled(h):
    connection = h.connection(JobScript.polls("running"))
    job_body = {"status": "running", "jobType": "sync", "connectionId": connection, "startTime": "2026-12-01T01:30Z",
                "padding": "x" * 300_000}  # a result over Step Functions' 256 KiB: States.DataLimitExceeded

    def oversized_answer(request):
        job_body["jobId"] = request.job_id

    h.emu.on_answer("getJob", oversized_answer)
    h.emu.inject("getJob", Fault.status(200, body=job_body))
    result = h.run({"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded"), "no Catch takes that error"
    [job] = jobs_of(h, connection)
    [cleanup] = h.wait_for_cleanups(1)
    assert cleanup["outcome"] == "cancelled" and h.emu.cancelled_job_ids == [job.job_id]
