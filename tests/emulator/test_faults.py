"""Faults queued per operation, answer hooks, and the emulator's own set-up errors."""
from __future__ import annotations

import json

import pytest
import requests

from local_tools.emulator import AirbyteEmulator, Fault, JobScript


def test_status_fault_with_and_without_the_job_created(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "succeeded"))
    emu.inject("createJob", Fault.status(500))
    emu.inject("createJob", Fault.status(500, job_created=True))
    first, second = client.create_job(connection_id), client.create_job(connection_id)
    assert (first.status_code, second.status_code) == (500, 500)
    checker.component("BaseProblemFields", first.json())
    assert len(emu.jobs) == 1  # only the second one made a job
    third = client.create_job(connection_id)  # no more faults: the job made behind the 500 is still running
    assert third.status_code == 409 and third.json()["title"] == "try-again-later"
    assert [r.fault for r in emu.requests_for("createJob")] == ["status", "status", None]


def test_429_has_no_retry_after_unless_the_fault_sets_it(emu, client, checker, connection_id):
    emu.add_connection(connection_id)
    job_id = client.create_job(connection_id).json()["jobId"]
    emu.inject("getJob", Fault.status(429))
    emu.inject("getJob", Fault.status(429, headers={"Retry-After": "2"}))
    plain, with_header = client.get_job(job_id), client.get_job(job_id)
    assert plain.status_code == 429 and "Retry-After" not in plain.headers
    assert checker.check("getJob", plain) == {"message": "You are being rate limited."}
    assert with_header.status_code == 429 and with_header.headers["Retry-After"] == "2"
    assert emu.jobs[job_id].polls_seen == 0  # the faulted polls never reached the job
    assert client.get_job(job_id).status_code == 200


@pytest.mark.parametrize("code, title, message", [
    (401, "invalid-api-key", "Emulated error 401."), (403, "forbidden", "Emulated error 403."),
    (409, "state-conflict", "Could not fulfill request")])
def test_status_fault_default_problem_bodies(emu, client, checker, connection_id, code, title, message):
    emu.add_connection(connection_id)
    emu.inject("createJob", Fault.status(code))
    response = client.create_job(connection_id)
    assert response.status_code == code
    body = checker.check("createJob", response)
    assert body["title"] == title and body["data"]["message"] == message


def test_faults_are_consumed_in_order_per_operation(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    job_id = client.create_job(connection_id).json()["jobId"]
    emu.inject("getJob", Fault.status(503), times=2)
    emu.inject("getJob", Fault.status(502))
    emu.inject("cancelJob", Fault.status(500))
    codes = [client.get_job(job_id).status_code for _ in range(4)]
    assert codes == [503, 503, 502, 200]
    assert client.list_jobs().status_code == 200  # other operations are unaffected
    assert client.cancel_job(job_id).status_code == 500


def test_custom_fault_body(emu, client, connection_id):
    emu.add_connection(connection_id)
    emu.inject("createJob", Fault.status(502, body="<html>bad gateway</html>"))
    response = client.create_job(connection_id)
    assert response.status_code == 502 and response.text == "<html>bad gateway</html>"


@pytest.mark.parametrize("job_created", [False, True])
def test_reset_fault_closes_without_answer(emu, client, connection_id, job_created):
    emu.add_connection(connection_id)
    client.headers()
    emu.inject("createJob", Fault.reset(job_created=job_created))
    with pytest.raises(requests.ConnectionError):
        client.create_job(connection_id)
    assert len(emu.jobs) == (1 if job_created else 0)
    assert emu.requests_for("createJob")[0].status_code is None


def test_delay_fault_makes_the_client_time_out_but_creates_the_job(emu, client, checker, connection_id):
    emu.add_connection(connection_id)
    client.headers()
    emu.inject("createJob", Fault.delay(0.6))
    with pytest.raises(requests.Timeout):
        client.create_job(connection_id, timeout=0.2)
    (job_id,) = emu.jobs
    retry = client.create_job(connection_id)  # the blind retry meets the job it made, still pending
    assert retry.status_code == 200 and checker.check("createJob", retry)["jobId"] == job_id
    assert len(emu.jobs) == 1


def test_delay_without_effect_answers_504_late(emu, client, connection_id):
    emu.add_connection(connection_id)
    emu.inject("createJob", Fault.delay(0.1, job_created=False))
    assert client.create_job(connection_id).status_code == 504
    assert emu.jobs == {}


def test_truncated_json_fault(emu, client, connection_id):
    emu.add_connection(connection_id)
    emu.inject("createJob", Fault.truncated_json())
    response = client.create_job(connection_id)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert len(emu.jobs) == 1


def test_not_json_fault(emu, client, connection_id):
    emu.add_connection(connection_id)
    job_id = client.create_job(connection_id).json()["jobId"]
    emu.inject("getJob", Fault.not_json(status=502))
    response = client.get_job(job_id)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html" and response.text.startswith("<html>")


def test_unknown_status_value_fault(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "succeeded"))
    job_id = client.create_job(connection_id).json()["jobId"]
    emu.inject("getJob", Fault.status_value("mysterious"))
    odd = client.get_job(job_id).json()
    assert odd["status"] == "mysterious"
    assert {"jobId", "jobType", "startTime", "connectionId"} <= set(odd)
    assert checker.check("getJob", client.get_job(job_id))["status"] == "succeeded"  # the odd poll counted


def test_answer_hooks_run_after_each_effective_request_until_cleared(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    job_id = client.create_job(connection_id).json()["jobId"]
    seen = []

    def expire_after_the_second_poll(request):
        seen.append((request.job_id, emu.jobs[request.job_id].polls_seen))
        if emu.jobs[request.job_id].polls_seen == 2:
            emu.expire_tokens()

    emu.on_answer("getJob", expire_after_the_second_poll)
    emu.inject("getJob", Fault.status(503))  # a fault without effect: no hook
    assert [client.get_job(job_id).status_code for _ in range(3)] == [503, 200, 200]
    assert client.get_job(job_id).status_code == 401  # the second poll's hook expired the token
    assert seen == [(job_id, 1), (job_id, 2)]
    emu.clear_faults()
    client.fetch_token()
    client.get_job(job_id)
    assert len(seen) == 2


def test_forget_requests_starts_the_records_afresh(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    client.cancel_job(client.create_job(connection_id).json()["jobId"])
    assert emu.requests and emu.cancelled_job_ids
    emu.forget_requests()
    assert emu.requests == [] and emu.cancelled_job_ids == [] and len(emu.jobs) == 1


def test_set_up_errors_are_named(emu):
    with pytest.raises(ValueError, match="unknown operation 'getJobs'"):
        emu.inject("getJobs", Fault.status(500))
    with pytest.raises(ValueError, match="connection id is a UUID"):
        emu.add_connection("conn-1")
    with pytest.raises(ValueError, match="auth must be one of"):
        AirbyteEmulator(auth="oauth")
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault.parse("getJob:explode")


def test_fault_syntax():
    operation, fault, times = Fault.parse("createJob:delay=2.5")
    assert (operation, fault.kind, fault.seconds, fault.job_created, times) == ("createJob", "delay", 2.5, True, 1)
    assert Fault.parse("getJob:status=mysterious")[1] == Fault.status_value("mysterious")
    assert Fault.parse("getJob:reset:created:times=3")[1:] == (Fault.reset(job_created=True), 3)
    assert Fault.parse("createJob:slow-create:visible-after=90")[1] == Fault.slow_create(visible_after_seconds=90)
    with pytest.raises(ValueError, match="only applies to createJob"):
        Fault.parse("listJobs:slow-create")


def test_start_and_stop_without_context_manager(clock):
    emu = AirbyteEmulator(clock=clock, auth="none")
    url = emu.start()
    assert url == emu.base_url and url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    assert requests.get(f"{url}/jobs", timeout=5).json() == {"next": "", "previous": "", "data": []}
    emu.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/jobs", timeout=1)
