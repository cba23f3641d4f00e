"""Plain functions of the start path for events and schedules: what execution to start, under which name.

EventBridge delivers at least once and cannot name the executions it starts, and an event's detail is written by
whoever may put events on the bus. So the admission function builds the execution input from the documented fields
only (anything else, `arazzoResume` included, is dropped), tells the machine which job types an event may request,
and names the execution after the event id (or the schedule's time): a redelivered event names an execution that
already exists, and nothing new starts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

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
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class StartRequest:
    name: str
    input: Any
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


def from_event(event: dict, event_job_types: list[str]) -> StartRequest:
    """An "Airbyte Sync Requested" event: its detail's documented fields, and the job types events may request."""
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("the event has no id")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        # Not an object: started anyway, so that the machine fails it visibly (Arazzo.InvalidInput).
        return StartRequest(execution_name("event", event_id), detail)
    execution_input = {key: detail[key] for key in DOCUMENTED_FIELDS if key in detail}
    execution_input["allowedJobTypes"] = list(event_job_types)
    ignored = sorted(str(key) for key in detail if key not in DOCUMENTED_FIELDS)
    return StartRequest(execution_name("event", event_id), execution_input, ignored)


def from_schedule(payload: dict) -> StartRequest:
    """The schedule's payload (the template's Input): {connectionId, scheduledTime, scheduleArn}."""
    scheduled = payload.get("scheduledTime")
    if not isinstance(scheduled, str) or not scheduled:
        raise ValueError("the schedule's payload has no scheduledTime")
    unique = (
        re.sub(r"[^0-9TZ]", "", scheduled)
        + "-"
        + hashlib.sha256(str(payload.get("scheduleArn")).encode("utf-8")).hexdigest()[:8]
    )
    return StartRequest(execution_name("schedule", unique), {"connectionId": payload.get("connectionId")})


def start_request(event: Any, event_job_types: list[str]) -> StartRequest:
    if isinstance(event, dict) and (event.get("source"), event.get("detail-type")) == SYNC_REQUESTED:
        return from_event(event, event_job_types)
    if isinstance(event, dict) and "scheduledTime" in event:
        return from_schedule(event)
    raise ValueError("neither an 'Airbyte Sync Requested' event nor the schedule's payload")
