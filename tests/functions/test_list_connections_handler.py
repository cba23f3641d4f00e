"""The listConnections handler end to end (event in, contract response out, the emulator over HTTP): every page by
offset, the connections asked for by id, name or tag, what could not be resolved, the client's retries and errors."""
from __future__ import annotations

import uuid

import pytest

from airbyte_client import errors
from airbyte_client.connections import UNRESOLVED_HEADER
from airbyte_handlers import list_connections
from functions_testkit import SENTINEL_SECRET
from local_tools.emulator import AirbyteEmulator, Fault

WORKSPACE = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"


def event(*, ids=None, names=None, tag=None, workspace_ids=None):
    header = {"X-Airbyte-Sync-Connection-Ids": ids, "X-Airbyte-Sync-Connection-Names": names, "X-Airbyte-Sync-Tag": tag}
    return {"operationId": "listConnections", "method": "GET", "path": "/connections",
            "parameters": {"path": {}, "query": {"workspaceIds": workspace_ids}, "header": header},
            "body": None, "contentType": None,
            "context": {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:run-1",
                        "stepId": "resolveConnections", "stateEnteredTime": None, "retryCount": 0}}


@pytest.fixture
def airbyte(secret_arn, monkeypatch):
    with AirbyteEmulator(base_path="/v1", client_id="client-1", client_secret=SENTINEL_SECRET) as emu:
        monkeypatch.setenv("AIRBYTE_API_URL", emu.base_url)
        monkeypatch.setenv("AIRBYTE_READ_TIMEOUT_SECONDS", "0.5")
        secret_arn({"client_id": "client-1", "client_secret": SENTINEL_SECRET})
        yield emu


@pytest.fixture
def many(airbyte):
    """250 connections: 'c000'..'c249', every tenth tagged nightly, and two named 'twin'."""
    ids = []
    for index in range(250):
        ids.append(str(uuid.uuid4()))
        airbyte.add_connection(ids[-1], name=f"c{index:03d}", tags=("nightly",) if index % 10 == 0 else ())
    for _ in range(2):
        airbyte.add_connection(str(uuid.uuid4()), name="twin")
    return ids


def test_names_are_found_on_every_page_in_the_order_asked(airbyte, many):
    answer = list_connections.handler(event(names=["c249", "c000", "c120", "c000"]), None)
    assert answer["statusCode"] == 200 and UNRESOLVED_HEADER not in answer["headers"]
    assert [(row["name"], row["connectionId"]) for row in answer["body"]["data"]] == [
        ("c249", many[249]), ("c000", many[0]), ("c120", many[120])]
    assert [(r.query["limit"], r.query["offset"]) for r in airbyte.requests_for("listConnections")] == [
        ("100", "0"), ("100", "100"), ("100", "200")]


def test_ids_and_a_tag(airbyte, many):
    by_id = list_connections.handler(event(ids=[many[7].upper(), many[3]]), None)
    assert [row["connectionId"] for row in by_id["body"]["data"]] == [many[7], many[3]]
    airbyte.forget_requests()
    by_tag = list_connections.handler(event(tag="nightly", workspace_ids=[WORKSPACE]), None)
    assert [row["name"] for row in by_tag["body"]["data"]] == [f"c{i:03d}" for i in range(0, 250, 10)]
    assert {r.query["workspaceIds"] for r in airbyte.requests_for("listConnections")} == {WORKSPACE}


@pytest.mark.parametrize("instruction, unresolved", [
    ({"names": ["c001", "nope", "twin"]},
     "connectionNames: no connection is named 'nope'; 2 connections are named 'twin' (give connectionIds)"),
    ({"ids": ["00000000-0000-4000-8000-000000000000"]},
     "connectionIds: no connection 00000000-0000-4000-8000-000000000000 in the workspaces these credentials may read"),
    ({"tag": "weekly"}, "tag: no connection carries the tag 'weekly'"),
])
def test_what_cannot_be_resolved_is_said_in_a_header(airbyte, many, instruction, unresolved):
    answer = list_connections.handler(event(**instruction), None)
    assert answer["headers"][UNRESOLVED_HEADER] == unresolved


@pytest.mark.parametrize("instruction", [{}, {"names": ["a"], "tag": "b"}, {"ids": ["not-a-uuid"]},
                                         {"names": "c001"}, {"tag": "a", "workspace_ids": ["x"]},
                                         {"ids": [], "names": [], "tag": ""}])
def test_bad_instructions_are_refused_before_any_call(airbyte, many, instruction):
    with pytest.raises(errors.InvalidRequest):
        list_connections.handler(event(**instruction), None)
    assert airbyte.requests_for("listConnections") == []


def test_a_transient_fault_is_retried_and_a_forbidden_workspace_is_an_auth_error(airbyte, many, recorded_sleeps):
    airbyte.inject("listConnections", Fault.status(503))
    answer = list_connections.handler(event(names=["c150"]), None)
    assert [row["name"] for row in answer["body"]["data"]] == ["c150"] and len(recorded_sleeps) == 1
    with pytest.raises(errors.AuthError) as caught:
        list_connections.handler(event(tag="x", workspace_ids=[str(uuid.uuid4())]), None)
    assert type(caught.value).__name__ == "Airbyte.AuthError"
    assert SENTINEL_SECRET not in str(caught.value)
