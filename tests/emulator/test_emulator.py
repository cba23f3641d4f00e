"""The Airbyte emulator over real HTTP: schemas, lifecycles, conflicts, auth, faults, listJobs and the CLI."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import uuid

import pytest
import requests
from openapi_spec_validator import validate as validate_openapi

from local_tools.emulator import AirbyteEmulator, Fault, JobScript, iso_duration, iso_timestamp

ISO_DURATION = re.compile(r"^PT(\d+H)?(\d+M)?(\d+S)?$")
ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ------------------------------------------------------------------------------------------------- the spec

def test_spec_is_valid_openapi_with_airbytes_operation_ids(spec):
    validate_openapi(spec)
    operation_ids = {op["operationId"] for item in spec["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "operationId" in op}
    assert operation_ids == {"createJob", "getJob", "cancelJob", "listJobs", "createAccessToken"}
    assert [server["url"] for server in spec["servers"]] == ["https://api.airbyte.com/v1", "{host}/api/public/v1"]
    assert spec["components"]["schemas"]["JobStatusEnum"]["enum"] == [
        "pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"]
    token_url = spec["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url == "/applications/token"


def test_iso_duration_formatting():
    assert iso_duration(0) == "PT0S"
    assert iso_duration(3723) == "PT1H2M3S"
    assert iso_duration(3600) == "PT1H"
    assert iso_duration(29172) == "PT8H6M12S"


# ------------------------------------------------------------------------------------------------ lifecycles

def test_polls_script_advances_one_entry_per_get_job(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls(
        "pending", "queued", ("running", 3), "succeeded", rows=1200, bytes=340000))
    created = checker.check("createJob", client.create_job(connection_id))
    assert created["status"] == "pending" and created["connectionId"] == connection_id
    job_id = created["jobId"]

    seen = []
    for _ in range(7):
        body = checker.check("getJob", client.get_job(job_id))
        seen.append(body["status"])
        if body["status"] in ("pending", "queued"):
            assert "duration" not in body
        else:
            assert ISO_DURATION.match(body["duration"])
        assert ISO_INSTANT.match(body["startTime"]) and ISO_INSTANT.match(body["lastUpdatedAt"])
    assert seen == ["pending", "queued", "running", "running", "running", "succeeded", "succeeded"]
    assert (body["rowsSynced"], body["bytesSynced"]) == (1200, 340000)
    assert emu.jobs[job_id].status == "succeeded"
    assert emu.count("getJob") == 7


def test_running_job_reports_partial_progress(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls(("running", 3), "failed", rows=100, bytes=1000))
    job_id = client.create_job(connection_id).json()["jobId"]
    first = checker.check("getJob", client.get_job(job_id))
    assert first["status"] == "running" and 0 < first["bytesSynced"] < 1000
    for _ in range(3):
        last = checker.check("getJob", client.get_job(job_id))
    assert last["status"] == "failed"


def test_timed_script_follows_the_clock(emu, client, checker, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.timed(duration_seconds=3600, final="succeeded",
                                                             rows=500, bytes=5000))
    job_id = checker.check("createJob", client.create_job(connection_id))["jobId"]
    assert client.get_job(job_id).json()["status"] == "pending"

    clock.sleep(1800)
    client.fetch_token()  # the first token expired meanwhile
    halfway = checker.check("getJob", client.get_job(job_id))
    assert halfway["status"] == "running"
    assert halfway["duration"] == "PT30M"
    assert 2000 < halfway["bytesSynced"] < 3000

    clock.sleep(1800)
    client.fetch_token()
    done = checker.check("getJob", client.get_job(job_id))
    assert done["status"] == "succeeded"
    assert done["duration"] == "PT1H"
    assert (done["rowsSynced"], done["bytesSynced"]) == (500, 5000)

    clock.sleep(600)  # a finished job keeps its end time
    client.fetch_token()
    assert client.get_job(job_id).json()["duration"] == "PT1H"


def test_timed_failure(emu, client, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.timed(duration_seconds=60, final="failed"))
    job_id = client.create_job(connection_id).json()["jobId"]
    clock.sleep(61)
    assert client.get_job(job_id).json()["status"] == "failed"


# ---------------------------------------------------------------------------------------- conflicts and errors

def test_create_job_while_a_sync_runs_is_409_try_again_later(emu, client, checker, connection_id):
    running_id = emu.start_running_job(connection_id)
    response = client.create_job(connection_id)
    assert response.status_code == 409
    body = checker.check("createJob", response)
    assert body["title"] == "try-again-later"
    assert body["data"]["message"] == f"A sync is already running for: {connection_id}"
    assert emu.jobs[running_id].status == "running"

    listed = checker.check("listJobs", client.list_jobs(connectionId=connection_id, status="running"))
    assert [job["jobId"] for job in listed["data"]] == [running_id]


def test_second_create_job_conflicts_until_the_first_ends(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "succeeded"))
    first = client.create_job(connection_id).json()["jobId"]
    assert client.create_job(connection_id).status_code == 409
    client.get_job(first)
    client.get_job(first)
    assert client.create_job(connection_id).status_code == 200


def test_inactive_connection_is_409_state_conflict(emu, client, checker, connection_id):
    emu.add_connection(connection_id, active=False)
    response = client.create_job(connection_id)
    assert response.status_code == 409
    assert checker.check("createJob", response)["title"] == "state-conflict"
    assert emu.jobs == {}


def test_refresh_is_422(emu, client, checker, connection_id):
    emu.add_connection(connection_id)
    response = client.create_job(connection_id, job_type="refresh")
    assert response.status_code == 422
    assert checker.check("createJob", response)["data"]["message"] == "Refreshes are not supported in the public API"


def test_unknown_connection_and_job_are_404(emu, client, checker, connection_id):
    response = client.create_job(connection_id)
    assert response.status_code == 404
    assert checker.check("createJob", response)["title"] == "resource-not-found"
    for response in (client.get_job(424242), client.cancel_job(424242)):
        assert response.status_code == 404
        body = checker.check("getJob", response)
        assert body["data"]["message"] and body["data"]["resourceId"] == "424242"


def test_malformed_requests_are_400(emu, client):
    assert client.get_job("abc").status_code == 400
    response = requests.post(f"{client.base_url}/jobs", json={"connectionId": "not-a-uuid", "jobType": "sync"},
                             headers=client.headers(), timeout=5)
    assert response.status_code == 400 and response.json()["title"] == "bad-request"


def test_cancel_running_job_then_cancel_again(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running"))
    job_id = client.create_job(connection_id).json()["jobId"]
    cancelled = checker.check("cancelJob", client.cancel_job(job_id))
    assert cancelled["status"] == "cancelled" and "lastUpdatedAt" in cancelled
    assert emu.cancelled_job_ids == [job_id]
    assert client.get_job(job_id).json()["status"] == "cancelled"

    again = client.cancel_job(job_id)
    assert again.status_code == 409
    body = checker.check("cancelJob", again)
    assert body["title"] == "state-conflict" and body["data"]["message"] == "Job is not currently running"
    assert client.create_job(connection_id).status_code == 200  # the connection is free again


# ------------------------------------------------------------------------------------------------------ auth

def test_token_request_variants(emu, checker):
    url = f"{emu.base_url}/applications/token"
    good = {"client_id": "cid", "client_secret": "csecret"}
    for body in ({**good, "grant-type": "client_credentials"}, {**good, "grant_type": "client_credentials"}, good):
        response = requests.post(url, json=body, timeout=5)
        token = checker.check("createAccessToken", response)
        assert token["token_type"] == "Bearer" and token["expires_in"] == 900
    assert requests.post(url, data={**good, "grant_type": "client_credentials"}, timeout=5).status_code == 200

    wrong = requests.post(url, json={**good, "client_secret": "nope"}, timeout=5)
    assert wrong.status_code == 401
    assert checker.check("createAccessToken", wrong)["title"] == "invalid-api-key"
    assert "csecret" not in wrong.text


def test_form_token_requests_can_be_refused(clock, make_client):
    with AirbyteEmulator(clock=clock, reject_form_token_requests=True) as emu:
        form = requests.post(f"{emu.base_url}/applications/token", timeout=5,
                             data={"client_id": "cid", "client_secret": "csecret", "grant_type": "client_credentials"})
        assert form.status_code == 401
        assert make_client(emu.base_url).fetch_token().status_code == 200


def test_tokens_expire_with_the_clock(emu, client, checker, clock, connection_id):
    emu.add_connection(connection_id)
    assert client.list_jobs().status_code == 200
    clock.sleep(899)
    assert client.list_jobs().status_code == 200
    clock.sleep(2)
    expired = client.list_jobs()
    assert expired.status_code == 401
    assert checker.check("listJobs", expired)["title"] == "invalid-api-key"
    client.fetch_token()
    assert client.list_jobs().status_code == 200


def test_expire_tokens_revokes_every_issued_token(emu, client, connection_id):
    emu.add_connection(connection_id)
    old_headers = client.headers()
    assert client.create_job(connection_id).status_code == 200
    emu.expire_tokens()
    assert requests.get(f"{emu.base_url}/jobs/1001", headers=old_headers, timeout=5).status_code == 401
    client.fetch_token()
    assert client.get_job(1001).status_code == 200
    assert [r.credential for r in emu.requests_for("getJob")] == [None, "token#2"]


def test_missing_or_wrong_credentials_are_401(emu, checker):
    for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic dTpw"}):
        response = requests.get(f"{emu.base_url}/jobs", headers=headers, timeout=5)
        assert response.status_code == 401
        checker.check("listJobs", response)


@pytest.mark.parametrize("mode, good, bad", [
    ("bearer", "Bearer static-token", "Bearer other"),
    ("basic", "Basic " + base64.b64encode(b"u:p").decode(), "Basic " + base64.b64encode(b"u:x").decode()),
    ("none", None, None),
])
def test_auth_modes(clock, mode, good, bad):
    with AirbyteEmulator(auth=mode, clock=clock) as emu:
        url = f"{emu.base_url}/jobs"
        assert requests.get(url, headers={"Authorization": good} if good else {}, timeout=5).status_code == 200
        if bad:
            assert requests.get(url, headers={"Authorization": bad}, timeout=5).status_code == 401


def test_recorded_requests_never_hold_secrets(emu, client, connection_id):
    emu.add_connection(connection_id)
    client.create_job(connection_id)
    token_request, create_request = emu.requests
    assert token_request.operation == "createAccessToken"
    assert token_request.body["client_secret"] == "<redacted>"
    assert create_request["headers"]["Authorization"] == "Bearer <redacted>"
    assert create_request.credential == "token#1"
    assert create_request.body == {"connectionId": connection_id, "jobType": "sync"}
    assert create_request.path == "/jobs" and create_request.status_code == 200
    assert client.token not in repr(emu.requests)


# ---------------------------------------------------------------------------------------------------- faults

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


@pytest.mark.parametrize("code, title", [(401, "invalid-api-key"), (403, "forbidden"), (404, "resource-not-found"),
                                         (409, "state-conflict")])
def test_status_fault_default_problem_bodies(emu, client, checker, connection_id, code, title):
    emu.add_connection(connection_id)
    emu.inject("createJob", Fault.status(code))
    response = client.create_job(connection_id)
    assert response.status_code == code
    assert checker.check("createJob", response)["title"] == title


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


def test_delay_fault_makes_the_client_time_out_but_creates_the_job(emu, client, connection_id):
    emu.add_connection(connection_id)
    client.headers()
    emu.inject("createJob", Fault.delay(0.6))
    with pytest.raises(requests.Timeout):
        client.create_job(connection_id, timeout=0.2)
    assert len(emu.jobs) == 1
    retry = client.create_job(connection_id)  # the blind retry meets the job it made
    assert retry.status_code == 409 and retry.json()["title"] == "try-again-later"


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


# -------------------------------------------------------------------------------------------------- listJobs

def test_list_jobs_filters_order_and_pages(emu, client, checker, clock):
    first_conn, second_conn = str(uuid.uuid4()), str(uuid.uuid4())
    # Scripts that start terminal, so every connection is free for its next job at once.
    emu.add_connection(first_conn, script=JobScript.polls("succeeded"))
    emu.add_connection(second_conn, script=JobScript.polls("failed"))
    ids = []
    for conn in (first_conn, second_conn, first_conn, second_conn, first_conn):
        ids.append(client.create_job(conn).json()["jobId"])
        clock.sleep(60)
    reset_id = client.create_job(first_conn, job_type="reset").json()["jobId"]
    ids.append(reset_id)

    everything = checker.check("listJobs", client.list_jobs())
    assert [job["jobId"] for job in everything["data"]] == ids  # ascending by default
    assert "next" not in everything and "previous" not in everything

    newest_first = checker.check("listJobs", client.list_jobs(orderBy="createdAt|DESC"))
    assert [job["jobId"] for job in newest_first["data"]] == ids[::-1]
    oldest_first = checker.check("listJobs", client.list_jobs(orderBy="createdAt|ASC"))
    assert [job["jobId"] for job in oldest_first["data"]] == ids

    by_conn = checker.check("listJobs", client.list_jobs(connectionId=first_conn))
    assert {job["connectionId"] for job in by_conn["data"]} == {first_conn} and len(by_conn["data"]) == 4
    assert [job["jobId"] for job in client.list_jobs(jobType="reset").json()["data"]] == [reset_id]
    assert client.list_jobs(status="pending").json()["data"] == []
    failed = client.list_jobs(status="failed").json()["data"]
    assert [job["jobId"] for job in failed] == [ids[1], ids[3]]

    third_created = emu.jobs[ids[2]].created_at
    since = client.list_jobs(createdAtStart=iso_timestamp(third_created)).json()["data"]
    assert [job["jobId"] for job in since] == ids[2:]
    since_millis = client.list_jobs(createdAtStart=str(int(third_created * 1000))).json()["data"]
    assert since_millis == since

    page = checker.check("listJobs", client.list_jobs(limit=2, offset=2))
    assert [job["jobId"] for job in page["data"]] == ids[2:4]
    assert "offset=4" in page["next"] and "offset=0" in page["previous"] and "limit=2" in page["next"]
    assert requests.get(page["next"], headers=client.headers(), timeout=5).json()["data"][0]["jobId"] == ids[4]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"orderBy": "nonsense|UP"},
                                    {"status": "mysterious"}, {"createdAtStart": "yesterday"}])
def test_list_jobs_rejects_bad_parameters(emu, client, params):
    response = client.list_jobs(**params)
    assert response.status_code == 400 and response.json()["title"] == "bad-request"


def test_list_jobs_shows_failed_status_once_polled(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "failed"))
    job_id = client.create_job(connection_id).json()["jobId"]
    client.get_job(job_id)
    client.get_job(job_id)
    assert [job["jobId"] for job in client.list_jobs(status="failed").json()["data"]] == [job_id]


# ------------------------------------------------------------------------------------------------ base paths

def test_self_managed_base_path(clock, checker, connection_id, make_client):
    with AirbyteEmulator(base_path="/api/public/v1", clock=clock) as emu:
        assert emu.base_url.endswith("/api/public/v1")
        emu.add_connection(connection_id)
        client = make_client(emu.base_url)
        checker.check("createJob", client.create_job(connection_id))
        root = emu.base_url[: -len("/api/public/v1")]
        assert requests.get(f"{root}/v1/jobs", headers=client.headers(), timeout=5).status_code == 404
        assert requests.post(f"{root}/api/v1/applications/token", json={}, timeout=5).status_code == 404
        assert [r.path for r in emu.requests][:2] == ["/applications/token", "/jobs"]


def test_start_and_stop_without_context_manager(clock):
    emu = AirbyteEmulator(clock=clock, auth="none")
    url = emu.start()
    assert url == emu.base_url and re.match(r"^http://127\.0\.0\.1:\d+/v1$", url)
    assert requests.get(f"{url}/jobs", timeout=5).json() == {"data": []}
    emu.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/jobs", timeout=1)


# ------------------------------------------------------------------------------------------------------- CLI

def test_cli_subprocess(checker, make_client):
    conn, busy, idle = (str(uuid.uuid4()) for _ in range(3))
    process = subprocess.Popen(
        [sys.executable, "-m", "local_tools.emulator", "--port", "0", "--base-path", "/api/public/v1",
         "--auth", "client_credentials", "--client-id", "X", "--client-secret", "Y",
         "--connection", f"{conn}:pending,running*2,succeeded,rows=7,bytes=70",
         "--running-job", busy, "--inactive-connection", idle,
         "--fault", "createJob:500:created", "--fault", "getJob:429:retry-after=1:times=2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().strip()
        assert re.match(r"^http://127\.0\.0\.1:\d+/api/public/v1$", base_url), process.stderr.read()
        client = make_client(base_url, client_id="X", client_secret="Y")
        assert client.create_job(conn).status_code == 500
        job_id = client.list_jobs(connectionId=conn).json()["data"][0]["jobId"]
        statuses = [client.get_job(job_id) for _ in range(6)]
        assert [r.status_code for r in statuses[:2]] == [429, 429] and statuses[0].headers["Retry-After"] == "1"
        assert [r.json()["status"] for r in statuses[2:]] == ["pending", "running", "running", "succeeded"]
        assert checker.check("getJob", statuses[-1])["rowsSynced"] == 7
        assert client.create_job(busy).json()["title"] == "try-again-later"
        assert client.create_job(idle).json()["title"] == "state-conflict"
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()


def test_cli_script_and_fault_syntax():
    timed = JobScript.parse("timed:3600:failed,rows=5,bytes=9")
    assert (timed.kind, timed.duration_seconds, timed.final, timed.rows, timed.bytes) == ("timed", 3600, "failed", 5, 9)
    polls = JobScript.parse("pending,running*3,succeeded")
    assert polls.statuses == ("pending", "running", "running", "running", "succeeded")
    operation, fault, times = Fault.parse("createJob:delay=2.5")
    assert (operation, fault.kind, fault.seconds, fault.job_created, times) == ("createJob", "delay", 2.5, True, 1)
    assert Fault.parse("getJob:status=mysterious")[1] == Fault.status_value("mysterious")
    assert Fault.parse("getJob:reset:created:times=3")[1:] == (Fault.reset(job_created=True), 3)
    with pytest.raises(ValueError):
        Fault.parse("getJob:explode")
