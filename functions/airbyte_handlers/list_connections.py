"""listConnections: every page of the workspaces' connections, narrowed to the ones the state machine asks for
(instructions X-Airbyte-Sync-Connection-Ids, -Connection-Names or -Tag); what cannot be resolved is reported in
the x-airbyte-sync-unresolved header, for the workflow to fail with (docs/handler-contract.md)."""

from typing import Any

from airbyte_client import ApiResponse
from airbyte_client.connections import UNRESOLVED_HEADER, Selection, list_all_connections, require_workspace_ids

from .common import build_client, logger, parse_event, start_invocation


def handler(event: Any, context: Any) -> dict[str, Any]:
    start_invocation(event, context)
    request = parse_event(event, "listConnections", "GET")
    query = request.parameters.get("query") or {}
    workspace_ids = require_workspace_ids(query.get("workspaceIds") if isinstance(query, dict) else None)
    selection = Selection.of(
        ids=request.instruction("Connection-Ids"),
        names=request.instruction("Connection-Names"),
        tag=request.instruction("Tag"),
    )
    connections = list_all_connections(build_client(context), workspace_ids)
    chosen, unresolved = selection.choose(connections)
    headers = {"content-type": "application/json"}
    if unresolved is not None:
        headers[UNRESOLVED_HEADER] = unresolved
    logger.info(
        "listConnections done",
        extra={"listed": len(connections), "chosen": len(chosen), "unresolved": unresolved is not None},
    )
    return ApiResponse(200, headers, {"data": chosen, "next": "", "previous": ""}).to_contract()
