"""getJob and cancelJob: 403 for ids of no job, Micronaut's 400 for ids that are no long, and cancelJob cancelling
the connection's CURRENT job (SchedulerHandler.submitCancellationToWorker -> startNewCancellation(job.scope))."""
from __future__ import annotations

import pytest
from emulator_testkit import conversion_failure

from local_tools.emulator import JobScript


@pytest.mark.parametrize("operation, role", [("getJob", "WORKSPACE_READER"), ("cancelJob", "WORKSPACE_RUNNER")])
@pytest.mark.parametrize("job_id", ["424242", "-7", "0"])
def test_an_id_of_no_job_is_403(emu, client, checker, operation, role, job_id):
    response = client.get_job(job_id) if operation == "getJob" else client.cancel_job(job_id)
    assert response.status_code == 403
    body = checker.check(operation, response)
    assert body["title"] == "forbidden"
    assert body["data"]["message"] == f"Caller does not have the required {role} permissions to access the resource(s)."


@pytest.mark.parametrize("operation", ["getJob", "cancelJob"])
@pytest.mark.parametrize("job_id", ["abc", "1.5", "99999999999999999999"])
def test_an_id_that_is_no_long_is_micronauts_400(emu, client, checker, operation, job_id):
    response = client.get_job(job_id) if operation == "getJob" else client.cancel_job(job_id)
    assert conversion_failure(response) == (
        f'Failed to convert argument [jobId] for value [{job_id}] due to: For input string: "{job_id}"')
    checker.check(operation, response)


def test_a_signed_id_reads_as_javas_long(emu, client, connection_id):
    emu.add_connection(connection_id)
    job_id = client.create_job(connection_id).json()["jobId"]
    assert client.get_job(f"+{job_id}").json()["jobId"] == job_id


@pytest.mark.parametrize("status", ["pending", "queued", "running", "incomplete"])
def test_cancel_cancels_a_job_that_has_not_ended(emu, client, checker, connection_id, status):
    emu.add_connection(connection_id, script=JobScript.polls(status))
    job_id = client.create_job(connection_id).json()["jobId"]
    cancelled = checker.check("cancelJob", client.cancel_job(job_id))
    assert cancelled["status"] == "cancelled" and "lastUpdatedAt" in cancelled
    assert emu.cancelled_job_ids == [job_id]
    assert client.get_job(job_id).json()["status"] == "cancelled"


def test_cancel_of_a_job_that_ended_answers_it_and_cancels_nothing(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    job_id = client.create_job(connection_id).json()["jobId"]
    client.cancel_job(job_id)
    again = client.cancel_job(job_id)
    assert again.status_code == 200
    assert checker.check("cancelJob", again)["status"] == "cancelled"
    assert emu.cancelled_job_ids == [job_id]
    assert client.create_job(connection_id).status_code == 200  # the connection is free again


def test_cancel_of_a_finished_job_cancels_the_job_running_now(emu, client, checker, connection_id):
    """The job named ended; another job of its connection runs: that one is cancelled, the named one answered."""
    emu.add_connection(connection_id, script=JobScript.polls("succeeded"))
    finished = checker.check("createJob", client.create_job(connection_id))["jobId"]
    running = emu.start_running_job(connection_id)
    response = client.cancel_job(finished)
    assert response.status_code == 200
    body = checker.check("cancelJob", response)
    assert (body["jobId"], body["status"]) == (finished, "succeeded")
    assert emu.cancelled_job_ids == [running]
    assert client.get_job(running).json()["status"] == "cancelled"


def test_cancel_names_any_job_of_the_connection(emu, client, checker, connection_id):
    """Naming an old job cancels the current one: the id only says which connection."""
    emu.add_connection(connection_id, script=JobScript.polls("failed"))
    old = client.create_job(connection_id).json()["jobId"]
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    current = client.create_job(connection_id).json()["jobId"]
    assert checker.check("cancelJob", client.cancel_job(old))["status"] == "failed"
    assert emu.cancelled_job_ids == [current]


def test_cancel_only_touches_the_named_jobs_connection(emu, client, connection_id):
    other = emu.start_running_job("0b7e6c3a-9a53-4f0c-8a0d-2d1f8f0e0a11")
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    job_id = client.create_job(connection_id).json()["jobId"]
    client.cancel_job(job_id)
    assert emu.cancelled_job_ids == [job_id] and emu.jobs[other].status == "running"
