"""listConnections: the workspaces' connections with their tags, pages as PaginationMapper.kt builds them
(ConnectionsResponseMapper.kt), and its answers to bad parameters (Micronaut binding, bean validation, the role
check)."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
from emulator_testkit import conversion_failure

from local_tools.emulator.connections import DEFAULT_WORKSPACE_ID, tag_id

OTHER = "0b2f3c4d-1111-4a2b-8c3d-000000000002"


@pytest.fixture
def five(emu):
    """Three connections in the default workspace (one tagged nightly, one deleted), two in another."""
    ids = [str(uuid.UUID(int=index + 1)) for index in range(5)]
    emu.add_connection(ids[0], name="orders", tags=("nightly", "finance"))
    emu.add_connection(ids[1], name="customers", active=False)
    emu.add_connection(ids[2], name="gone", deleted=True)
    emu.add_connection(ids[3], name="orders", workspace_id=OTHER, tags=("nightly",))
    emu.add_connection(ids[4], name="events", workspace_id=OTHER)
    return ids


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_connections_are_listed_with_their_workspace_status_and_tags(client, checker, five):
    listed = checker.check("listConnections", client.list_connections())
    assert [(c["connectionId"], c["name"], c["workspaceId"], c["status"]) for c in listed["data"]] == [
        (five[0], "orders", DEFAULT_WORKSPACE_ID, "active"), (five[1], "customers", DEFAULT_WORKSPACE_ID, "inactive"),
        (five[3], "orders", OTHER, "active"), (five[4], "events", OTHER, "active")]
    assert [t["name"] for t in listed["data"][0]["tags"]] == ["nightly", "finance"]
    # A tag's id is its workspace's: the same name in two workspaces is two tags.
    assert listed["data"][0]["tags"][0]["tagId"] != listed["data"][2]["tags"][0]["tagId"]
    with_deleted = client.list_connections({"includeDeleted": "TRUE"}).json()["data"]
    assert [c["status"] for c in with_deleted if c["connectionId"] == five[2]] == ["deprecated"]


def test_workspace_and_tag_filters(client, five):
    mine = client.list_connections({"workspaceIds": DEFAULT_WORKSPACE_ID}).json()["data"]
    assert [c["connectionId"] for c in mine] == five[:2]
    both = client.list_connections({"workspaceIds": f"{DEFAULT_WORKSPACE_ID},{OTHER}"}).json()["data"]
    repeated = client.list_connections([("workspaceIds", DEFAULT_WORKSPACE_ID), ("workspaceIds", OTHER)]).json()["data"]
    assert both == repeated and len(both) == 4
    nightly = client.list_connections({"tagIds": tag_id(OTHER, "nightly")}).json()["data"]
    assert [c["connectionId"] for c in nightly] == [five[3]]


def test_pages_carry_the_filters_and_next_is_set_until_a_page_is_empty(client, five):
    first = client.list_connections({"limit": 2, "workspaceIds": f"{DEFAULT_WORKSPACE_ID},{OTHER}"}).json()
    assert len(first["data"]) == 2 and first["previous"] == ""
    assert query(first["next"]) == [("includeDeleted", "false"),
                                    ("workspaceIds", f"{DEFAULT_WORKSPACE_ID},{OTHER}"), ("limit", "2"),
                                    ("offset", "2")]
    last = client.list_connections(dict(query(first["next"]))).json()
    assert len(last["data"]) == 2 and query(last["next"])[-1] == ("offset", "4")
    assert query(last["previous"]) == [("includeDeleted", "false"), ("workspaceIds", f"{DEFAULT_WORKSPACE_ID},{OTHER}"),
                                       ("limit", "2"), ("limit", "2"), ("offset", "0")]
    empty = client.list_connections(dict(query(last["next"]))).json()
    assert (empty["data"], empty["next"]) == ([], "")


@pytest.mark.parametrize("params, message", [
    ({"workspaceIds": "not-a-uuid"}, "Failed to convert argument [workspaceIds] for value [not-a-uuid] due to: "
                                     "Invalid UUID string: not-a-uuid"),
    ({"includeDeleted": "yes"}, "Failed to convert argument [includeDeleted] for value [yes] due to: "
                                "Invalid boolean value: yes"),
    ({"limit": "ten"}, 'Failed to convert argument [limit] for value [ten] due to: For input string: "ten"'),
])
def test_values_that_do_not_convert_answer_micronauts_400(client, five, params, message):
    assert conversion_failure(client.list_connections(params)) == message


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_out_of_range_pages_fail_bean_validation(client, five, params):
    response = client.list_connections(params)
    assert response.status_code == 400 and set(response.json()) == {"errorId"}


def test_a_workspace_these_credentials_cannot_read_is_forbidden(client, checker, five):
    response = client.list_connections({"workspaceIds": str(uuid.uuid4())})
    assert response.status_code == 403
    assert "WORKSPACE_READER" in checker.check("listConnections", response)["data"]["message"]
