"""createJob decides per connection, whatever the type of the job already there (SchedulerHandler.kt,
TemporalClient.kt, ConnectionManagerWorkflowImpl.kt), and the slow create that still makes the job."""
from __future__ import annotations

import uuid

import pytest
from emulator_testkit import conversion_failure

from local_tools.emulator import Fault, JobScript

ALREADY_RUNNING = "A sync is already running for: {}"


def _conflict(checker, response, title: str) -> str:
    assert response.status_code == 409, response.text
    body = checker.check("createJob", response)
    assert body["title"] == title
    return body["data"]["message"]


@pytest.mark.parametrize("waiting", ["pending", "queued"])
def test_sync_while_a_sync_job_waits_for_its_first_attempt_answers_that_job(emu, client, checker, connection_id,
                                                                              waiting):
    emu.add_connection(connection_id, script=JobScript.polls(waiting))
    first = checker.check("createJob", client.create_job(connection_id))
    again = client.create_job(connection_id)
    assert again.status_code == 200
    assert checker.check("createJob", again) == first
    assert list(emu.jobs) == [first["jobId"]]


@pytest.mark.parametrize("status", ["running", "incomplete"])
def test_sync_while_a_job_has_an_attempt_is_409_try_again_later(emu, client, checker, connection_id, status):
    emu.add_connection(connection_id, script=JobScript.polls(status))
    job_id = client.create_job(connection_id).json()["jobId"]
    message = _conflict(checker, client.create_job(connection_id), "try-again-later")
    assert message == ALREADY_RUNNING.format(connection_id)
    assert list(emu.jobs) == [job_id]


@pytest.mark.parametrize("job_type", ["reset", "clear", "sync"])
def test_already_running_is_per_connection_whatever_the_type(emu, client, checker, connection_id, job_type):
    running_id = emu.start_running_job(connection_id, job_type=job_type)
    message = _conflict(checker, client.create_job(connection_id), "try-again-later")
    assert message == ALREADY_RUNNING.format(connection_id)
    assert emu.jobs[running_id].status == "running" and len(emu.jobs) == 1
    other = str(uuid.uuid4())
    emu.add_connection(other)
    assert client.create_job(other).status_code == 200  # another connection is free


def test_sync_while_a_reset_waits_for_its_first_attempt_times_out_without_a_job(emu, client, checker, connection_id):
    """Only a queued SYNC job is handed back; the manual-sync signal cannot start anything behind a queued reset,
    so the server's wait for a new job id runs out."""
    emu.add_connection(connection_id, script=JobScript.polls("queued"))
    reset = checker.check("createJob", client.create_job(connection_id, job_type="reset"))
    assert _conflict(checker, client.create_job(connection_id), "state-conflict") == "Could not fulfill request"
    assert list(emu.jobs) == [reset["jobId"]] and emu.cancelled_job_ids == []


@pytest.mark.parametrize("job_type", ["reset", "clear"])
@pytest.mark.parametrize("current", ["running", "pending", "incomplete"])
def test_reset_and_clear_cancel_the_current_job_and_answer_the_new_one(emu, client, checker, connection_id,
                                                                       job_type, current):
    emu.add_connection(connection_id, script=JobScript.polls(current))
    old = client.create_job(connection_id).json()["jobId"]
    response = client.create_job(connection_id, job_type=job_type)
    assert response.status_code == 200
    new = checker.check("createJob", response)
    assert new["jobType"] == job_type and new["jobId"] != old
    assert emu.cancelled_job_ids == [old]
    assert client.get_job(old).json()["status"] == "cancelled"


def test_reset_of_a_job_that_ended_cancels_nothing(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("succeeded"))
    client.create_job(connection_id)
    assert checker.check("createJob", client.create_job(connection_id, job_type="reset"))["jobType"] == "reset"
    assert emu.cancelled_job_ids == []


def test_inactive_connection_is_409_state_conflict_for_sync_only(emu, client, checker, connection_id):
    emu.add_connection(connection_id, active=False)
    assert _conflict(checker, client.create_job(connection_id), "state-conflict") == "Could not fulfill request"
    assert emu.jobs == {}
    # The reset path has no active check: clearing a disabled connection's data works.
    assert checker.check("createJob", client.create_job(connection_id, job_type="clear"))["jobType"] == "clear"


def test_refresh_is_422(emu, client, checker, connection_id):
    emu.add_connection(connection_id, active=False)
    response = client.create_job(connection_id, job_type="refresh")
    assert response.status_code == 422
    assert checker.check("createJob", response)["data"]["message"] == "Refreshes are not supported in the public API"
    assert emu.jobs == {}


@pytest.mark.parametrize("connection", ["unknown", "not-a-uuid"])
def test_a_connection_the_caller_cannot_see_is_403(emu, client, checker, connection):
    connection_id = str(uuid.uuid4()) if connection == "unknown" else connection
    response = client.create_job(connection_id)
    assert response.status_code == 403
    body = checker.check("createJob", response)
    assert body["title"] == "forbidden"
    assert body["data"]["message"] == "Caller does not have the required permissions to access the resource(s)."


def test_connection_ids_are_read_as_uuids(emu, client, checker, connection_id):
    emu.add_connection(connection_id)
    body = checker.check("createJob", client.create_job(connection_id.upper()))
    assert body["connectionId"] == connection_id


@pytest.mark.parametrize("request_body", [
    {"connectionId": "6f1c0a2b-0000-4000-8000-000000000001", "jobType": "backfill"},
    {"jobType": "sync"},
    "not json at all",
])
def test_a_body_that_does_not_bind_is_micronauts_400(emu, client, checker, request_body):
    kwargs = {"json": request_body} if isinstance(request_body, dict) else {
        "data": request_body, "headers": {"Content-Type": "application/json"}}
    response = client.post_jobs(**kwargs)
    assert conversion_failure(response).startswith("Failed to convert argument [jobCreateRequest]")
    checker.check("createJob", response)
    assert emu.jobs == {}


def test_a_form_body_is_415(emu, client, checker, connection_id):
    emu.add_connection(connection_id)
    response = client.post_jobs(data={"connectionId": connection_id, "jobType": "sync"})
    assert response.status_code == 415
    checker.check("createJob", response)
    assert emu.jobs == {}


def test_next_sync_after_the_first_ends(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "succeeded"))
    first = client.create_job(connection_id).json()["jobId"]
    assert client.create_job(connection_id).status_code == 409
    client.get_job(first)
    client.get_job(first)
    second = client.create_job(connection_id)
    assert second.status_code == 200 and second.json()["jobId"] != first


# ------------------------------------------------------------------------------------------------ slow create

def test_slow_create_answers_409_but_the_job_exists_and_runs(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("pending", "running", "succeeded"))
    emu.inject("createJob", Fault.slow_create())
    assert _conflict(checker, client.create_job(connection_id), "state-conflict") == "Could not fulfill request"
    (job_id,) = emu.jobs
    listed = checker.check("listJobs", client.list_jobs(connectionId=connection_id))["data"]
    assert [job["jobId"] for job in listed] == [job_id]
    assert [client.get_job(job_id).json()["status"] for _ in range(3)] == ["pending", "running", "succeeded"]
    assert emu.requests_for("createJob")[0].fault == "slow_create"


def test_slow_create_job_appears_later_on_the_emulator_clock(emu, client, checker, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    busy = str(uuid.uuid4())
    busy_job = emu.start_running_job(busy)
    emu.inject("createJob", Fault.slow_create(visible_after_seconds=90))
    asked_at = clock.now()
    assert _conflict(checker, client.create_job(connection_id), "state-conflict") == "Could not fulfill request"
    (job_id,) = [job for job in emu.jobs if job != busy_job]

    clock.sleep(60)
    assert client.get_job(job_id).status_code == 403  # not created yet
    assert client.list_jobs(connectionId=connection_id).json()["data"] == []
    # A retry meets the manual sync already signalled: the same conflict, and still one job.
    assert _conflict(checker, client.create_job(connection_id), "state-conflict") == "Could not fulfill request"
    client.cancel_job(busy_job)  # cancelling a job elsewhere touches nothing here
    assert sorted(emu.jobs) == sorted([busy_job, job_id]) and emu.cancelled_job_ids == [busy_job]

    clock.sleep(31)
    appeared = checker.check("getJob", client.get_job(job_id))
    assert appeared["status"] == "running"
    assert emu.jobs[job_id].created_at == asked_at + 90
    message = _conflict(checker, client.create_job(connection_id), "try-again-later")
    assert message == ALREADY_RUNNING.format(connection_id)


def test_reset_during_a_slow_create_replaces_the_job_not_yet_made(emu, client, checker, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    emu.inject("createJob", Fault.slow_create(visible_after_seconds=300))
    client.create_job(connection_id)
    reset = checker.check("createJob", client.create_job(connection_id, job_type="reset"))
    clock.sleep(301)
    listed = client.list_jobs(connectionId=connection_id).json()["data"]
    assert [job["jobId"] for job in listed] == [reset["jobId"]] and emu.cancelled_job_ids == []


def test_slow_create_only_where_a_new_sync_would_start(emu, client, checker, connection_id):
    running = emu.start_running_job(connection_id)
    emu.inject("createJob", Fault.slow_create())
    assert _conflict(checker, client.create_job(connection_id), "try-again-later") == ALREADY_RUNNING.format(
        connection_id)
    assert list(emu.jobs) == [running]
    with pytest.raises(ValueError, match="only applies to createJob"):
        emu.inject("getJob", Fault.slow_create())
