"""listConnections: every page of the workspaces' connections, and the choice of the ones a request names (by id,
by name, or by tag), with what could not be resolved said in words. Choosing (Selection) is pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import AuthError, InvalidRequest
from .validation import require_connection_id

if TYPE_CHECKING:
    from .client import AirbyteClient

PAGE_LIMIT = 100  # listConnections' largest page
MAX_PAGES = 50  # 5,000 connections: far more than one execution syncs; a bound on the function's time
UNRESOLVED_HEADER = "x-airbyte-sync-unresolved"


def list_all_connections(client: AirbyteClient, workspace_ids: list[str]) -> list[dict[str, Any]]:
    """Every (not deleted) connection of the workspaces (all these credentials may read when empty), page by
    page by offset. The `next` links are not followed: the base URL is never taken from an answer."""
    budget = client.budget()
    found: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": PAGE_LIMIT, "offset": page * PAGE_LIMIT}
        if workspace_ids:
            params["workspaceIds"] = ",".join(workspace_ids)
        response = client.transport.call("listConnections", "GET", "/connections", params=params, budget=budget)
        if response.status_code == 403:
            raise AuthError(
                "Airbyte answered 403 to listConnections: these credentials may not read a workspace "
                "asked for (or it does not exist)"
            )
        if not 200 <= (response.status_code or 0) < 300:
            raise client.transport.unexpected("listConnections", response)
        data = response.body.get("data")
        rows = [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []
        found.extend(rows)
        if len(rows) < PAGE_LIMIT:
            return found
    raise InvalidRequest(f"more than {MAX_PAGES * PAGE_LIMIT} connections: name the workspaces (workspaceIds)")


def require_workspace_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("workspaceIds must be a list of UUIDs")
    try:
        return [require_connection_id(item) for item in value]
    except InvalidRequest:
        raise InvalidRequest("workspaceIds must be a list of UUIDs") from None


@dataclass(frozen=True)
class Selection:
    """Which connections a request names: exactly one of ids (canonical UUIDs), names and a tag."""

    ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    tag: str = ""

    @classmethod
    def of(cls, *, ids: Any = None, names: Any = None, tag: Any = None) -> Selection:
        """Checked before anything is listed; None, [] and "" are "not given"."""
        ids, names, tag = (None if value in (None, [], "") else value for value in (ids, names, tag))
        given = [value for value in (ids, names, tag) if value is not None]
        if len(given) != 1:
            raise InvalidRequest("give exactly one of the instructions Connection-Ids, Connection-Names, Tag")
        if ids is not None:
            return cls(
                ids=tuple(dict.fromkeys(require_connection_id(item) for item in _unique_strings(ids, "Connection-Ids")))
            )
        if names is not None:
            return cls(names=tuple(_unique_strings(names, "Connection-Names")))
        if not isinstance(tag, str):
            raise InvalidRequest("the Tag instruction is a tag name")
        return cls(tag=tag)

    def choose(self, connections: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
        """The connections asked for, each once, as {connectionId, name, workspaceId}, and what could not be
        resolved, in words (None when everything was)."""
        if self.ids:
            by_id = {row.get("connectionId"): row for row in connections}
            missing = [item for item in self.ids if item not in by_id]
            chosen = [by_id[item] for item in self.ids if item in by_id]
            return _rows(chosen), (
                f"connectionIds: no connection {', '.join(missing)} in the workspaces these credentials may read"
                if missing
                else None
            )
        if self.names:
            chosen, problems = [], []
            for name in self.names:
                named = [row for row in connections if row.get("name") == name]
                if len(named) == 1:
                    chosen.append(named[0])
                elif not named:
                    problems.append(f"no connection is named {name!r}")
                else:
                    problems.append(f"{len(named)} connections are named {name!r} (give connectionIds)")
            return _rows(chosen), ("connectionNames: " + "; ".join(problems) if problems else None)
        tagged = [
            row
            for row in connections
            if any(isinstance(t, dict) and t.get("name") == self.tag for t in row.get("tags") or [])
        ]
        return _rows(tagged), (None if tagged else f"tag: no connection carries the tag {self.tag!r}")


def _unique_strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise InvalidRequest(f"the {what} instruction is a non-empty list of strings")
    return list(dict.fromkeys(value))


def _rows(chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"connectionId": row.get("connectionId"), "name": row.get("name"), "workspaceId": row.get("workspaceId")}
        for row in chosen
    ]
