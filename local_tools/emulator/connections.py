"""listConnections (GET /connections): parameters bound and checked as Airbyte's server binds them, the
connections of the workspaces asked for, and pages built like listJobs' (PaginationMapper.kt).

- ``workspaceIds`` and ``tagIds`` are lists of UUIDs, given repeated or comma-separated (Micronaut binds both);
  a value that is no UUID answers 400 with Micronaut's JsonError; empty or absent means every workspace these
  credentials may read / every tag.
- ``includeDeleted`` converts as a boolean (``true``/``false``, any case), else 400; ``limit`` and ``offset`` as
  listJobs': no int32 -> 400 JsonError, limit outside 1..100 or a negative offset -> 400 ``{"errorId"}``.
- A workspace of no connection the emulator knows is one these credentials may not read: 403 (the role check).
- Pages (ConnectionsResponseMapper.kt): ``next`` and ``previous`` carry includeDeleted, workspaceIds (when given,
  comma-joined), limit and offset; ``next`` is set whenever the page is not empty, an empty string once it is;
  ``previous`` is an empty string at offset 0. Connections come in the order they were added (the emulator's
  choice: the API promises no order).
- A connection's ``tags`` are Tag objects {tagId, workspaceId, name, color}; a tag's id is derived from its
  workspace and name, so the same tag name has one id per workspace.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from .jobs import EmulatedConnection
from .listing import _int32
from .operations import JobOperations, canonical_uuid
from .problems import Answer, conversion_error, error_id, forbidden

__all__ = ["list_connections", "tag_id", "DEFAULT_WORKSPACE_ID"]

DEFAULT_WORKSPACE_ID = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"
TAG_NAMESPACE = uuid.UUID("0f6d1c4e-6a3b-4a43-9b1c-2f1f5b1a7c11")


def tag_id(workspace_id: str, name: str) -> str:
    return str(uuid.uuid5(TAG_NAMESPACE, f"{workspace_id}/{name}"))


def list_connections(
    operations: JobOperations, query: dict[str, list[str]], request_uri: str, connections_url: str
) -> Answer:
    bound = _bind(query, request_uri)
    if isinstance(bound, Answer):
        return bound
    workspace_ids, tag_ids, include_deleted, limit, offset = bound
    if not 1 <= limit <= 100 or offset < 0:
        return error_id(400)
    with operations.lock:
        known = [c for c in operations.connections.values() if c.workspace_id]
        readable = {c.workspace_id for c in known}
        if any(workspace not in readable for workspace in workspace_ids):
            return forbidden("WORKSPACE_READER")
        rows = [
            c
            for c in known
            if (not workspace_ids or c.workspace_id in workspace_ids)
            and (include_deleted or not c.deleted)
            and (not tag_ids or any(tag_id(c.workspace_id, name) in tag_ids for name in c.tags))
        ]
        page = [_response(c) for c in rows[offset : offset + limit]]
    return Answer(200, _page(page, connections_url, workspace_ids, include_deleted, limit, offset))


def _bind(query: dict[str, list[str]], request_uri: str) -> tuple[list[str], list[str], bool, int, int] | Answer:
    lists: dict[str, list[str]] = {}
    for name in ("workspaceIds", "tagIds"):
        parts = [part for text in query.get(name, []) for part in text.split(",") if part != ""]
        ids = []
        for part in parts:
            canonical = canonical_uuid(part)
            if canonical is None:
                return conversion_error(request_uri, name, part, f"Invalid UUID string: {part}")
            ids.append(canonical)
        lists[name] = ids
    single = {name: values[0] for name, values in query.items() if values and values[0] != ""}
    text = single.get("includeDeleted")
    if text is not None and text.lower() not in ("true", "false"):
        return conversion_error(request_uri, "includeDeleted", text, f"Invalid boolean value: {text}")
    include_deleted = text is not None and text.lower() == "true"
    numbers: dict[str, int] = {}
    for name, default in (("limit", 20), ("offset", 0)):
        given = single.get(name)
        number = default if given is None else _int32(given)
        if number is None:
            return conversion_error(request_uri, name, given, f'For input string: "{given}"')
        numbers[name] = number
    return lists["workspaceIds"], lists["tagIds"], include_deleted, numbers["limit"], numbers["offset"]


def _response(connection: EmulatedConnection) -> dict[str, Any]:
    """A ConnectionResponse, its required fields filled the way a plain manual connection has them."""
    workspace = connection.workspace_id
    return {
        "connectionId": connection.connection_id,
        "name": connection.name,
        "sourceId": str(uuid.uuid5(TAG_NAMESPACE, f"source/{connection.connection_id}")),
        "destinationId": str(uuid.uuid5(TAG_NAMESPACE, f"destination/{connection.connection_id}")),
        "workspaceId": workspace,
        "status": "deprecated" if connection.deleted else ("active" if connection.active else "inactive"),
        "schedule": {"scheduleType": "manual"},
        "nonBreakingSchemaUpdatesBehavior": "ignore",
        "namespaceDefinition": "destination",
        "configurations": {"streams": []},
        "createdAt": connection.created_at,
        "tags": [
            {"tagId": tag_id(workspace, name), "workspaceId": workspace, "name": name, "color": "#7F56D9"}
            for name in connection.tags
        ],
    }


def _page(
    page: list[dict[str, Any]],
    connections_url: str,
    workspace_ids: list[str],
    include_deleted: bool,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    base: list[tuple[str, Any]] = [("includeDeleted", "true" if include_deleted else "false")]
    if workspace_ids:
        base.append(("workspaceIds", ",".join(workspace_ids)))
    limits = [("limit", limit)]
    next_url = ""
    if page:
        next_url = f"{connections_url}?{urlencode(base + limits + [('offset', offset + limit)])}"
        limits = limits * 2  # the two links share one UriBuilder, as listJobs' do
    previous_url = ""
    if offset != 0:
        previous_url = f"{connections_url}?{urlencode(base + limits + [('offset', max(offset - limit, 0))])}"
    return {"next": next_url, "previous": previous_url, "data": page}
