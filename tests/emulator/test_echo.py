"""Credential echo: an emulator that sends the caller's secrets back in every error body and echo headers, so the
product's scrubbing can be tested against the worst an Airbyte (or a proxy before it) may answer."""
from __future__ import annotations

import base64
import uuid

import pytest
import requests

from local_tools.emulator import AirbyteEmulator, Fault

SECRET = "s3cr3t-Client-Secret"
BASIC = "Basic " + base64.b64encode(b"u:pw-Basic-Secret").decode()
MODES = {
    "client_credentials": dict(client_secret=SECRET),
    "bearer": dict(token="static-Bearer-Secret"),
    "basic": dict(password="pw-Basic-Secret"),
    "none": {},
}


def _authorization(emu, mode: str) -> str:
    if mode == "client_credentials":
        token = requests.post(f"{emu.base_url}/applications/token", timeout=5,
                              json={"client_id": "cid", "client_secret": SECRET}).json()["access_token"]
        return f"Bearer {token}"
    return {"bearer": "Bearer static-Bearer-Secret", "basic": BASIC, "none": "Bearer anything-Sent-Anyway"}[mode]


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_error_body_and_every_answer_echo_the_authorization_value(clock, mode):
    with AirbyteEmulator(auth=mode, clock=clock, echo_credentials=True, **MODES[mode]) as emu:
        authorization = _authorization(emu, mode)
        headers = {"Authorization": authorization}
        connection_id = str(uuid.uuid4())
        emu.add_connection(connection_id)
        emu.inject("getJob", Fault.status(500))
        emu.inject("getJob", Fault.status(429))
        errors = [
            requests.get(f"{emu.base_url}/jobs/424242", headers=headers, timeout=5),  # problem JSON
            requests.get(f"{emu.base_url}/jobs/abc", headers=headers, timeout=5),  # Micronaut JsonError
            requests.get(f"{emu.base_url}/jobs", params={"limit": 0}, headers=headers, timeout=5),  # errorId
            requests.get(f"{emu.base_url}/jobs/1", headers=headers, timeout=5),  # fault 500
            requests.get(f"{emu.base_url}/jobs/1", headers=headers, timeout=5),  # fault 429
            requests.post(f"{emu.base_url}/jobs", json={"connectionId": connection_id, "jobType": "refresh"},
                          headers=headers, timeout=5),
        ]
        for response in errors:
            assert response.status_code >= 400
            assert authorization in response.text, response.text
            assert response.headers["X-Echo-Authorization"] == authorization
        ok = requests.post(f"{emu.base_url}/jobs", json={"connectionId": connection_id, "jobType": "sync"},
                           headers=headers, timeout=5)
        assert ok.status_code == 200 and authorization not in ok.text
        assert ok.headers["X-Echo-Authorization"] == authorization
        if mode != "none":  # a wrong credential is echoed too
            rejected = requests.get(f"{emu.base_url}/jobs", headers={"Authorization": "Bearer wrong-One"}, timeout=5)
            assert rejected.status_code == 401 and "Bearer wrong-One" in rejected.text


@pytest.mark.parametrize("service", ["keycloak", "simple", "database"])
def test_token_errors_echo_the_client_secret(clock, service):
    with AirbyteEmulator(clock=clock, client_secret=SECRET, application_service=service,
                         echo_credentials=True) as emu:
        response = requests.post(f"{emu.base_url}/applications/token", timeout=5,
                                 json={"client_id": "cid", "client_secret": "wrong-Client-Secret"})
        assert response.status_code >= 400
        assert "wrong-Client-Secret" in response.text
        assert response.headers["X-Echo-Client-Secret"] == "wrong-Client-Secret"
        good = requests.post(f"{emu.base_url}/applications/token", timeout=5,
                             json={"client_id": "cid", "client_secret": SECRET})
        assert good.status_code == 200 and good.headers["X-Echo-Client-Secret"] == SECRET


def test_without_echo_nothing_comes_back(clock):
    with AirbyteEmulator(clock=clock, client_secret=SECRET) as emu:
        wrong = requests.post(f"{emu.base_url}/applications/token", timeout=5,
                              json={"client_id": "cid", "client_secret": "wrong-Client-Secret"})
        unknown = requests.get(f"{emu.base_url}/jobs/1", headers={"Authorization": "Bearer x-Token"}, timeout=5)
        for response in (wrong, unknown):
            assert "wrong-Client-Secret" not in response.text and "x-Token" not in response.text
            assert not any(name.lower().startswith("x-echo") for name in response.headers)
        assert emu.requests[0].body["client_secret"] == "<redacted>"  # the records stay redacted either way
