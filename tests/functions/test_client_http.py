"""The client against the Airbyte emulator over real HTTP (no patched requests)."""
from __future__ import annotations

import logging
from pathlib import Path

import jsonschema
import pytest
import yaml

from airbyte_client import errors, retry
from airbyte_client.client import ACTIVE_JOB_ID_HEADER, ATTACHED_HEADER, CANCEL_OUTCOME_HEADER, RECOVERED_HEADER
from local_tools.emulator import AirbyteEmulator, Fault, JobScript

from functions_testkit import SENTINEL_SECRET, make_client, new_connection_id

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "airbyte-openapi.yml"


def schema_for(name: str) -> dict:
    document = yaml.safe_load(OPENAPI.read_text())
    # Resolve '#/components/...' refs against the whole document.
    return {**document["components"]["schemas"][name], "components": document["components"]}


# ------------------------------------------------------------------ statuses, URL shapes, auth


@pytest.mark.parametrize("status", ["pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"])
def test_each_job_status_passes_through(emulator, status):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls(status, rows=5, bytes=50))
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    assert client.get_job(job_id).body["status"] == status


def test_unknown_status_passes_through_untouched(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid)
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    emulator.inject("getJob", Fault.status_value("mysterious"))
    assert client.get_job(job_id).body["status"] == "mysterious"


@pytest.mark.parametrize("base_path", ["/v1", "/api/public/v1"])
def test_cloud_and_self_managed_url_shapes(base_path):
    with AirbyteEmulator(base_path=base_path, client_id="client-1", client_secret=SENTINEL_SECRET) as emu:
        assert emu.base_url.endswith(base_path)
        cid = new_connection_id()
        emu.add_connection(cid)
        client = make_client(emu)
        job_id = client.create_job(cid, "sync").body["jobId"]
        client.get_job(job_id)
        client.cancel_if_ours(job_id, connection_id=cid, attached=False)
        assert [(r.operation, r.path) for r in emu.requests] == [
            ("createAccessToken", "/applications/token"), ("listJobs", "/jobs"), ("createJob", "/jobs"),
            ("getJob", f"/jobs/{job_id}"), ("getJob", f"/jobs/{job_id}"), ("cancelJob", f"/jobs/{job_id}"),
        ]


def test_token_request_is_json_with_both_grant_spellings(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid)
    make_client(emulator).create_job(cid, "sync")
    token_request = emulator.requests_for("createAccessToken")[0]
    assert token_request.headers["Content-Type"].startswith("application/json")
    assert token_request.body["grant-type"] == "client_credentials"
    assert token_request.body["grant_type"] == "client_credentials"
    assert token_request.body["client_id"] == "client-1"


def test_token_is_cached_across_calls_and_clients(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls("running"))
    job_id = make_client(emulator).create_job(cid, "sync").body["jobId"]
    for _ in range(5):
        make_client(emulator).get_job(job_id)  # a new client per invocation, as in Lambda
    assert emulator.count("createAccessToken") == 1
    assert emulator.count("getJob") == 5


def test_expired_token_is_refreshed_once_on_401(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls("running"))
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    emulator.expire_tokens()
    assert client.get_job(job_id).body["status"] == "running"
    assert emulator.count("createAccessToken") == 2
    assert [r.status_code for r in emulator.requests_for("getJob")] == [401, 200]


def test_401_after_refresh_is_an_auth_error(emulator):
    emulator.add_connection(new_connection_id())
    emulator.inject("getJob", Fault.status(401), times=2)
    with pytest.raises(errors.AuthError):
        make_client(emulator).get_job(1)
    assert emulator.count("getJob") == 2
    assert emulator.count("createAccessToken") == 2


def test_wrong_static_token_is_an_auth_error():
    with AirbyteEmulator(auth="bearer", token="right-token") as emu:
        with pytest.raises(errors.AuthError):
            make_client(emu, {"token": "wrong-token"}).get_job(1)
        assert emu.count("getJob") == 2  # one retry after the refresh, no more


def test_rejected_client_credentials_are_an_auth_error(emulator):
    with pytest.raises(errors.AuthError):
        make_client(emulator, {"client_id": "client-1", "client_secret": "wrong"}).get_job(1)
    assert emulator.count("getJob") == 0


def test_403_on_a_job_is_read_once_more_then_the_job_is_unreadable(emulator):
    emulator.inject("getJob", Fault.status(403), times=2)
    with pytest.raises(errors.JobUnreadable, match="can no longer be read"):
        make_client(emulator).get_job(1)
    assert emulator.count("getJob") == 2


def test_403_once_then_the_job_reads(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls("running"))
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    emulator.inject("getJob", Fault.status(403))
    assert client.get_job(job_id).body["status"] == "running"


@pytest.mark.parametrize("mode, credentials", [
    ("bearer", {"token": "static-tok"}), ("basic", {"username": "u", "password": "pw"}), ("none", {}),
])
def test_other_auth_modes(mode, credentials):
    with AirbyteEmulator(auth=mode, token="static-tok", username="u", password="pw") as emu:
        cid = new_connection_id()
        emu.add_connection(cid)
        make_client(emu, credentials).create_job(cid, "sync")
        assert emu.count("createAccessToken") == 0
        assert [r.status_code for r in emu.requests] == [200, 200]  # listJobs, createJob


# ------------------------------------------------------------------ createJob semantics


def test_create_job_body_matches_the_openapi_schema(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid)
    response = make_client(emulator).create_job(cid, "sync")
    assert response.status_code == 200 and response.headers[ATTACHED_HEADER] is False
    body = emulator.requests_for("createJob")[0].body
    jsonschema.validate(body, schema_for("JobCreateRequest"))
    assert body == {"connectionId": cid, "jobType": "sync"}
    jsonschema.validate(response.body, schema_for("JobResponse"))


def test_a_running_job_of_the_requested_type_is_adopted_without_a_post(emulator):
    cid = new_connection_id()
    running_id = emulator.start_running_job(cid)
    response = make_client(emulator).create_job(cid, "sync")
    assert response.status_code == 200
    assert response.body["jobId"] == running_id
    assert response.headers[ATTACHED_HEADER] is True
    assert emulator.count("createJob") == 0 and len(emulator.jobs) == 1
    listing = emulator.requests_for("listJobs")[0].query
    assert listing["connectionId"] == cid and listing["orderBy"] == "createdAt|DESC"
    assert "jobType" not in listing, "Airbyte's 'already running' is per connection, whatever the type"


@pytest.mark.parametrize("running, requested", [("reset", "sync"), ("sync", "reset"), ("clear", "sync")])
def test_a_running_job_of_another_type_is_reported_never_adopted(emulator, running, requested):
    cid = new_connection_id()
    running_id = emulator.start_running_job(cid, job_type=running)
    response = make_client(emulator).create_job(cid, requested)
    assert response.status_code == 409
    assert response.headers[ACTIVE_JOB_ID_HEADER] == running_id and response.headers[ATTACHED_HEADER] is False
    assert "jobId" not in response.body
    assert emulator.count("createJob") == 0, "a reset or clear POST would cancel the running sync"
    assert emulator.cancelled_job_ids == []


def test_409_state_conflict_is_a_conflict_with_airbytes_message(emulator, recorded_sleeps):
    cid = new_connection_id()
    emulator.add_connection(cid, active=False)
    with pytest.raises(errors.Conflict) as caught:
        make_client(emulator).create_job(cid, "sync")
    assert "state-conflict" in str(caught.value) and "Could not fulfill request" in str(caught.value)
    assert emulator.count("createJob") == 1
    # Airbyte answers an inactive connection as it answers a slow create: looked for the job (2+4+8+10+10+10 s).
    assert emulator.count("listJobs") == 1 + 7  # before the POST; then right away and after each wait
    assert recorded_sleeps == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_422_refresh_is_unprocessable_and_not_retried(emulator, recorded_sleeps):
    cid = new_connection_id()
    emulator.add_connection(cid)
    with pytest.raises(errors.Unprocessable, match="Refreshes are not supported"):
        make_client(emulator).create_job(cid, "refresh")
    assert emulator.count("createJob") == 1 and recorded_sleeps == []


@pytest.mark.parametrize("fault", [
    Fault.status(500, job_created=True), Fault.status(502, job_created=True), Fault.status(429, job_created=True),
    Fault.reset(job_created=True), Fault.delay(3, job_created=True), Fault.truncated_json(job_created=True),
    Fault.not_json(job_created=True),
], ids=["500", "502", "429", "reset", "delay", "truncated", "not-json"])
def test_create_job_that_failed_but_made_the_job_is_adopted_without_a_second_post(emulator, fault):
    cid = new_connection_id()
    emulator.add_connection(cid)
    emulator.inject("createJob", fault)
    response = make_client(emulator, create_read_timeout=0.5).create_job(cid, "sync")
    assert emulator.count("createJob") == 1
    assert len(emulator.jobs) == 1
    assert response.body["jobId"] == next(iter(emulator.jobs))
    assert response.headers[ATTACHED_HEADER] is False  # it is our own job
    assert response.headers[RECOVERED_HEADER] is True


@pytest.mark.parametrize("fault", [
    Fault.status(500), Fault.status(503), Fault.status(429), Fault.reset(), Fault.not_json(),
    Fault.truncated_json(job_created=False),
], ids=["500", "503", "429", "reset", "not-json", "truncated"])
def test_create_job_that_made_nothing_is_posted_again_after_looking(emulator, fault):
    cid = new_connection_id()
    emulator.add_connection(cid)
    emulator.inject("createJob", fault)
    response = make_client(emulator).create_job(cid, "sync")
    assert emulator.count("createJob") == 2
    assert len(emulator.jobs) == 1
    assert response.headers[ATTACHED_HEADER] is False
    operations = [r.operation for r in emulator.requests if r.operation != "createAccessToken"]
    assert operations == ["listJobs", "createJob", "listJobs", "createJob"]  # never POST twice without looking


def test_create_job_retried_by_step_functions_finds_the_earlier_job(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid)
    client = make_client(emulator)
    state_entered = retry.wall_time() - 5
    first = client.create_job(cid, "sync").body["jobId"]  # the attempt whose answer Step Functions never saw
    response = client.create_job(cid, "sync", look_for_job_since=state_entered)
    assert response.body["jobId"] == first
    assert emulator.count("createJob") == 1


def test_create_job_retry_with_nothing_created_posts(emulator):
    cid = new_connection_id()
    emulator.add_connection(cid)
    response = make_client(emulator).create_job(cid, "sync", look_for_job_since=retry.wall_time())
    assert response.status_code == 200
    assert [r.operation for r in emulator.requests if r.operation != "createAccessToken"] == ["listJobs", "createJob"]
    assert response.headers[ATTACHED_HEADER] is False


def test_unknown_connection_is_refused_by_name(emulator):
    with pytest.raises((errors.InvalidRequest, errors.AuthError)) as caught:
        make_client(emulator).create_job(cid := new_connection_id(), "sync")
    assert cid in str(caught.value)


# ------------------------------------------------------------------ transient faults on reads


@pytest.mark.parametrize("fault", [
    Fault.status(500), Fault.status(502), Fault.status(503), Fault.status(504), Fault.status(429), Fault.reset(),
    Fault.truncated_json(), Fault.not_json(), Fault.delay(3, job_created=False),
], ids=["500", "502", "503", "504", "429", "reset", "truncated", "not-json", "delay"])
def test_get_job_retries_transient_faults(emulator, recorded_sleeps, fault):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls("running"))
    client = make_client(emulator, read_timeout=0.5)
    job_id = client.create_job(cid, "sync").body["jobId"]
    emulator.inject("getJob", fault)
    assert client.get_job(job_id).body["status"] == "running"
    assert emulator.count("getJob") == 2
    assert recorded_sleeps == [1.0]  # first backoff: base 1 s x jitter 1.0


def test_429_retry_after_is_honoured(emulator, recorded_sleeps):
    emulator.add_connection(cid := new_connection_id())
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    emulator.inject("getJob", Fault.status(429, headers={"Retry-After": "7"}))
    emulator.inject("getJob", Fault.status(429))  # Airbyte's usual 429: no Retry-After -> backoff
    client.get_job(job_id)
    assert recorded_sleeps == [7.0, 2.0]


def test_backoff_grows_then_gives_up_as_unavailable(emulator, recorded_sleeps):
    emulator.inject("getJob", Fault.status(503), times=10)
    with pytest.raises(errors.Unavailable) as caught:
        make_client(emulator).get_job(1)
    assert emulator.count("getJob") == 5
    assert recorded_sleeps == [1.0, 2.0, 4.0, 8.0]
    assert "getJob" in str(caught.value) and "HTTP 503" in str(caught.value) and "5 attempt" in str(caught.value)


def test_budget_stops_retries_early(emulator, recorded_sleeps):
    emulator.inject("getJob", Fault.status(500), times=10)
    client = make_client(emulator, retry_policy=retry.RetryPolicy(budget_seconds=4))
    with pytest.raises(errors.Unavailable):
        client.get_job(1)
    assert recorded_sleeps == [1.0, 2.0]  # the next wait (4 s) would not fit (time here is real: ~0 s passed)


def test_connection_refused_is_unavailable(recorded_sleeps):
    with AirbyteEmulator() as emu:
        url = emu.base_url
    from airbyte_client.client import AirbyteClient, ClientConfig

    client = AirbyteClient(ClientConfig(base_url=url), credentials=None)
    with pytest.raises(errors.Unavailable, match="ConnectionError"):
        client.get_job(1)
    assert len(recorded_sleeps) == 4


def test_token_endpoint_faults_are_transient(emulator, recorded_sleeps):
    emulator.add_connection(cid := new_connection_id())
    emulator.inject("createAccessToken", Fault.status(503))
    emulator.inject("createAccessToken", Fault.reset())
    make_client(emulator).create_job(cid, "sync")
    assert emulator.count("createAccessToken") == 3
    assert emulator.count("createJob") == 1  # the POST never left while the token was missing
    assert len(recorded_sleeps) == 2


def test_list_jobs_faults_while_adopting_are_retried(emulator):
    cid = new_connection_id()
    running_id = emulator.start_running_job(cid)
    emulator.inject("listJobs", Fault.status(500))
    response = make_client(emulator).create_job(cid, "sync")
    assert response.body["jobId"] == running_id and emulator.count("createJob") == 0


# ------------------------------------------------------------------ getJob / cancelJob answers


def test_unknown_job_is_unreadable_and_never_cancelled(emulator):
    client = make_client(emulator)
    with pytest.raises(errors.JobUnreadable):
        client.get_job(999999)
    cancel = client.cancel_if_ours(999999, connection_id=new_connection_id(), attached=False)
    assert cancel.headers[CANCEL_OUTCOME_HEADER] == "unreadable"
    assert emulator.count("cancelJob") == 0


def test_cancel_reads_first_and_never_deletes_a_job_that_ended(emulator):
    cid = new_connection_id()
    job_id = emulator.start_running_job(cid)
    client = make_client(emulator)
    first = client.cancel_if_ours(job_id, connection_id=cid, attached=False)
    assert first.headers[CANCEL_OUTCOME_HEADER] == "cancelled" and first.body["status"] == "cancelled"
    scheduled = emulator.start_running_job(cid)  # the connection's next job, which a DELETE would cancel
    again = client.cancel_if_ours(job_id, connection_id=cid, attached=False)
    assert again.headers[CANCEL_OUTCOME_HEADER] == "alreadyEnded"
    assert emulator.count("cancelJob") == 1
    assert emulator.cancelled_job_ids == [job_id] and scheduled not in emulator.cancelled_job_ids


def test_succeeded_with_zero_bytes_is_warned_about(emulator, caplog):
    cid = new_connection_id()
    emulator.add_connection(cid, script=JobScript.polls("succeeded", rows=0, bytes=0))
    client = make_client(emulator)
    job_id = client.create_job(cid, "sync").body["jobId"]
    with caplog.at_level(logging.WARNING):
        assert client.get_job(job_id).body["status"] == "succeeded"
    assert "0 bytes" in caplog.text


@pytest.mark.parametrize("job_id", ["1001", True, 1.5, None, "1/../../applications/token"])
def test_bad_job_id_is_refused_before_any_request(emulator, job_id):
    client = make_client(emulator)
    with pytest.raises(errors.InvalidRequest):
        client.get_job(job_id)
    with pytest.raises(errors.InvalidRequest):
        client.cancel_if_ours(job_id, connection_id=new_connection_id(), attached=False)
    assert emulator.requests == []


def test_bad_connection_id_is_refused_before_any_request(emulator):
    with pytest.raises(errors.InvalidRequest):
        make_client(emulator).create_job("../jobs?x=1", "sync")
    with pytest.raises(errors.InvalidRequest):
        make_client(emulator).create_job(new_connection_id(), "everything")
    assert emulator.requests == []


def test_plain_http_to_a_remote_host_is_refused():
    from airbyte_client.client import ClientConfig

    with pytest.raises(errors.ConfigError, match="https"):
        ClientConfig(base_url="http://airbyte.example.com/api/public/v1")


# ------------------------------------------------------------------ secrets never leak


def test_sentinel_secret_and_tokens_never_in_logs_or_errors(emulator, caplog, capsys):
    cid = new_connection_id()
    emulator.add_connection(cid)
    texts = []
    with caplog.at_level(logging.DEBUG):
        client = make_client(emulator)
        job_id = client.create_job(cid, "sync").body["jobId"]
        emulator.expire_tokens()
        emulator.inject("getJob", Fault.status(500), times=2)
        client.get_job(job_id)
        emulator.inject("getJob", Fault.status(401), times=2)
        for failing in (lambda: client.get_job(job_id),
                        lambda: make_client(emulator, {"client_id": "client-1", "client_secret": SENTINEL_SECRET + "x"}).get_job(job_id),
                        lambda: make_client(emulator, {"client_id": SENTINEL_SECRET, "token": "x"}).get_job(job_id)):
            with pytest.raises(errors.AirbyteError) as caught:
                failing()
            texts += [str(caught.value), repr(caught.value), repr(caught.value.__cause__), repr(caught.value.__context__)]
    emulator.inject("getJob", Fault.status(503), times=5)
    with pytest.raises(errors.Unavailable) as caught:
        client.get_job(job_id)
    texts.append(str(caught.value))
    captured = capsys.readouterr()
    issued_tokens = emulator.issued_tokens
    assert issued_tokens
    for text in texts + [caplog.text, captured.out, captured.err]:
        assert SENTINEL_SECRET not in text
        for token in issued_tokens:
            assert token not in text
