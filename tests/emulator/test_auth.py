"""The token endpoint (ApplicationsController.kt and the three ApplicationService implementations) and the
Authorization check of the jobs operations, in every auth mode."""
from __future__ import annotations

import base64
import uuid

import pytest
import requests
from emulator_testkit import conversion_failure

from local_tools.emulator import AirbyteEmulator

GOOD = {"client_id": "cid", "client_secret": "csecret"}


def _token_url(emu) -> str:
    return f"{emu.base_url}/applications/token"


@pytest.mark.parametrize("body", [
    {**GOOD, "grant-type": "client_credentials"},
    {**GOOD, "grant_type": "client_credentials"},
    {**GOOD, "grant_type": "password"},  # grant_type is not read at all
    GOOD,
])
def test_token_requests_read_only_client_id_and_secret(emu, checker, body):
    token = checker.check("createAccessToken", requests.post(_token_url(emu), json=body, timeout=5))
    assert token["token_type"] == "Bearer" and token["expires_in"] == 900


def test_form_token_requests_are_read_too(emu, checker):
    response = requests.post(_token_url(emu), data={**GOOD, "grant_type": "client_credentials"}, timeout=5)
    assert checker.check("createAccessToken", response)["expires_in"] == 900


def test_expires_in_is_always_sent(clock, checker):
    with AirbyteEmulator(clock=clock, token_lifetime_seconds=180) as emu:
        token = checker.check("createAccessToken", requests.post(_token_url(emu), json=GOOD, timeout=5))
        assert token["expires_in"] == 180


@pytest.mark.parametrize("body", [{"client_id": "cid"}, {"client_secret": "csecret"}, {**GOOD, "grant-type": "password"},
                                  ["cid", "csecret"]])
def test_a_token_request_that_does_not_bind_is_400(emu, checker, body):
    response = requests.post(_token_url(emu), json=body, timeout=5)
    assert conversion_failure(response).startswith("Failed to convert argument [applicationTokenRequestWithGrant]")
    checker.check("createAccessToken", response)


def test_a_token_request_in_another_media_type_is_415(emu, checker):
    response = requests.post(_token_url(emu), data="client_id=cid", headers={"Content-Type": "text/plain"}, timeout=5)
    assert response.status_code == 415
    checker.check("createAccessToken", response)


@pytest.mark.parametrize("service, status", [("keycloak", 401), ("simple", 400), ("database", 500)])
@pytest.mark.parametrize("wrong", [{**GOOD, "client_secret": "nope"}, {**GOOD, "client_id": ""},
                                   {**GOOD, "client_id": "someone-else"}])
def test_wrong_credentials_are_answered_as_the_application_service_does(clock, checker, service, status, wrong):
    with AirbyteEmulator(clock=clock, application_service=service) as emu:
        response = requests.post(_token_url(emu), json=wrong, timeout=5)
        assert response.status_code == status
        if service == "simple":  # a JAX-RS BadRequestException: no body
            assert response.content == b""
        else:
            assert set(checker.check("createAccessToken", response)) == {"errorId"}
        assert "nope" not in response.text and "csecret" not in response.text
        assert emu.issued_tokens == []


def test_unknown_application_service_is_refused(clock):
    with pytest.raises(ValueError, match="application_service"):
        AirbyteEmulator(clock=clock, application_service="ldap")


def test_form_token_requests_can_be_refused(clock, make_client):
    with AirbyteEmulator(clock=clock, reject_form_token_requests=True) as emu:
        form = requests.post(_token_url(emu), timeout=5, data={**GOOD, "grant_type": "client_credentials"})
        assert form.status_code == 401 and set(form.json()) == {"errorId"}
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
    assert len(emu.issued_tokens) == 2 and client.token in emu.issued_tokens


def test_credentials_are_checked_before_anything_else(emu, checker):
    for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic dTpw"}):
        for response in (requests.get(f"{emu.base_url}/jobs", headers=headers, timeout=5),
                         requests.get(f"{emu.base_url}/jobs/abc", headers=headers, timeout=5),
                         requests.post(f"{emu.base_url}/jobs", json={}, headers=headers, timeout=5)):
            assert response.status_code == 401
            assert checker.check("listJobs", response)["title"] == "invalid-api-key"


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


def test_self_managed_base_path(clock, checker, make_client):
    connection_id = str(uuid.uuid4())
    with AirbyteEmulator(base_path="/api/public/v1", clock=clock) as emu:
        assert emu.base_url.endswith("/api/public/v1")
        emu.add_connection(connection_id)
        client = make_client(emu.base_url)
        checker.check("createJob", client.create_job(connection_id))
        root = emu.base_url[: -len("/api/public/v1")]
        other = requests.get(f"{root}/v1/jobs", headers=client.headers(), timeout=5)
        assert other.status_code == 404 and other.json()["_embedded"]["errors"][0]["message"] == "Page Not Found"
        assert requests.post(f"{root}/api/v1/applications/token", json={}, timeout=5).status_code == 404
        wrong_method = requests.put(f"{emu.base_url}/jobs", headers=client.headers(), timeout=5)
        assert wrong_method.status_code == 405
        assert [r.path for r in emu.requests][:2] == ["/applications/token", "/jobs"]
