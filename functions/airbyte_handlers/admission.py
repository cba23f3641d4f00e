"""Plain functions of the start path for events and schedules: which machine to start, with what, under which name.

EventBridge delivers at least once and cannot name the executions it starts, and an event's detail is written by
whoever may put events on the bus. So the admission function builds the execution input from the documented fields
only (anything else, `arazzoResume` included, is dropped), tells the machine which job types an event may request,
and names the execution after the event id (or the schedule's time): a redelivered event names an execution that
already exists, and nothing new starts.

Two requests: "Airbyte Sync Requested" (one connection, the single-sync machine) and "Airbyte Syncs Requested"
(many, the sync-connections machine; docs/sync-connections.md). A many-sync request is checked here field by field
(sync_connections_input.py) and refused with InvalidSyncRequest, starting nothing, because one bad event could
otherwise start up to 100 syncs; the machine's own input checks stay the final word.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .sync_connections_input import InvalidSyncRequest, checked_sync_connections_input

SYNC_MACHINE = "sync"
SYNC_CONNECTIONS_MACHINE = "sync-connections"
DOCUMENTED_FIELDS = (
    "connectionId",
    "jobType",
    "deadlineSeconds",
    "pollInitialSeconds",
    "pollElapsedFraction",
    "pollMaxSeconds",
    "pollPolicy",
    "failOnUnsuccessfulSync",
)
SYNC_REQUESTED = ("airbyte-sync", "Airbyte Sync Requested")
SYNCS_REQUESTED = ("airbyte-sync", "Airbyte Syncs Requested")
# The schedule of many syncs carries the sync-connections input under this key, beside scheduledTime/scheduleArn.
SCHEDULED_SYNC_CONNECTIONS = "syncConnections"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class StartRequest:
    name: str
    input: Any
    machine: str = SYNC_MACHINE  # SYNC_MACHINE or SYNC_CONNECTIONS_MACHINE
    ignored_fields: list[str] = field(default_factory=list)


def execution_name(prefix: str, unique: str) -> str:
    """`<prefix>-<unique>` within Step Functions' name rules; a long or odd `unique` becomes a digest."""
    cleaned = _NAME_UNSAFE.sub("-", unique)
    if cleaned != unique or len(prefix) + 1 + len(cleaned) > MAX_NAME_LENGTH:
        cleaned = hashlib.sha256(unique.encode("utf-8")).hexdigest()[:40]
    return f"{prefix}-{cleaned}"


def parse_job_types(text: str) -> list[str]:
    types = [part.strip() for part in (text or "").split(",") if part.strip()]
    return types or ["sync"]


def _event_id(event: dict) -> str:
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidSyncRequest("the event has no id")
    return event_id


def from_event(event: dict, event_job_types: list[str]) -> StartRequest:
    """An "Airbyte Sync Requested" event: its detail's documented fields, and the job types events may request."""
    event_id = _event_id(event)
    detail = event.get("detail")
    if not isinstance(detail, dict):
        # Not an object: started anyway, so that the machine fails it visibly (Arazzo.InvalidInput).
        return StartRequest(execution_name("event", event_id), detail)
    execution_input = {key: detail[key] for key in DOCUMENTED_FIELDS if key in detail}
    execution_input["allowedJobTypes"] = list(event_job_types)
    ignored = sorted(str(key) for key in detail if key not in DOCUMENTED_FIELDS)
    return StartRequest(execution_name("event", event_id), execution_input, SYNC_MACHINE, ignored)


def from_syncs_event(event: dict, event_job_types: list[str]) -> StartRequest:
    """An "Airbyte Syncs Requested" event: the sync-connections input from its detail's documented fields, checked,
    with the job types events may request (passed on to each connection's sync)."""
    event_id = _event_id(event)
    execution_input, ignored = checked_sync_connections_input(event.get("detail"), event_job_types)
    execution_input["allowedJobTypes"] = list(event_job_types)
    return StartRequest(execution_name("event", event_id), execution_input, SYNC_CONNECTIONS_MACHINE, ignored)


def from_schedule(payload: dict) -> StartRequest:
    """A schedule's payload (the template's Input): {connectionId, scheduledTime, scheduleArn} for one connection,
    {syncConnections: {the sync-connections input}, scheduledTime, scheduleArn} for many."""
    scheduled = payload.get("scheduledTime")
    if not isinstance(scheduled, str) or not scheduled:
        raise InvalidSyncRequest("the schedule's payload has no scheduledTime")
    unique = (
        re.sub(r"[^0-9TZ]", "", scheduled)
        + "-"
        + hashlib.sha256(str(payload.get("scheduleArn")).encode("utf-8")).hexdigest()[:8]
    )
    name = execution_name("schedule", unique)
    if SCHEDULED_SYNC_CONNECTIONS in payload:
        # The template wrote it; checked all the same, so that a misconfigured stack says what is wrong.
        execution_input, ignored = checked_sync_connections_input(payload[SCHEDULED_SYNC_CONNECTIONS], None)
        return StartRequest(name, execution_input, SYNC_CONNECTIONS_MACHINE, ignored)
    return StartRequest(name, {"connectionId": payload.get("connectionId")})


def start_request(event: Any, event_job_types: list[str]) -> StartRequest:
    """What to start for what the rule or the schedule delivered; InvalidSyncRequest (a ValueError) when nothing."""
    if isinstance(event, dict) and (event.get("source"), event.get("detail-type")) == SYNC_REQUESTED:
        return from_event(event, event_job_types)
    if isinstance(event, dict) and (event.get("source"), event.get("detail-type")) == SYNCS_REQUESTED:
        return from_syncs_event(event, event_job_types)
    if isinstance(event, dict) and "scheduledTime" in event:
        return from_schedule(event)
    raise InvalidSyncRequest(
        "neither an 'Airbyte Sync Requested' or 'Airbyte Syncs Requested' event nor a schedule's payload"
    )
