"""PutEvents entries as the local engine checks them and the events they become.

Entries (`event_from_entry`), checked as PutEvents checks them: Source and DetailType required, Source not
`aws.*` (NotAuthorizedForSourceException: nobody can forge a Step Functions status change), Detail a JSON object
(MalformedDetail), at most 10 entries and 256 KiB per request (ValidationException). The event delivered is
EventBridge's envelope: version, id, detail-type, source, account, time, region, resources, detail.
`Id` in an entry is a LOCAL-ONLY extension (PutEvents has no such field): it pins the event id, so a test or
`airbyte-sync put-events` can redeliver one event (EventBridge delivers at least once, a redelivery carries
the same id). A state machine's entries may not carry it (machine_events.py).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENTRY_FIELDS = ("Source", "DetailType", "Detail", "EventBusName", "Resources", "Time", "TraceHeader")
LOCAL_ENTRY_FIELDS = ("Id",)  # not PutEvents': pins the event id
MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024


class EntryError(ValueError):
    """An entry (or request) PutEvents would refuse; `code` is PutEvents' ErrorCode or exception name."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class BusEvent:
    """One event for one bus, as EventBridge delivers it to a rule's target."""

    bus: str
    event: dict[str, Any]


def check_request(entries: list[Any]) -> None:
    """The request-level limits of PutEvents: 1 to 10 entries, 256 KiB in all (AWS's entry-size rule)."""
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise EntryError(
            "ValidationException", f"a PutEvents request carries 1 to {MAX_ENTRIES} entries, not {len(entries)}"
        )
    size = sum(_entry_size(entry) for entry in entries if isinstance(entry, Mapping))
    if size > MAX_REQUEST_BYTES:
        raise EntryError(
            "ValidationException",
            f"Total size of the entries in the request is over the limit ({size} bytes, at most {MAX_REQUEST_BYTES})",
        )


def _entry_size(entry: Mapping[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if value is not None:
            size += len((value if isinstance(value, str) else json.dumps(value)).encode())
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


def _required_text(entry: Mapping[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise EntryError("InvalidArgument", f"Parameter {name} is not valid. Reason: {name} is a required argument.")
    return value


def event_from_entry(
    entry: Mapping[str, Any], *, account: str, region: str, now: float, local_id: bool = True
) -> BusEvent:
    """The event EventBridge makes of one PutEvents entry (Detail: JSON text, or a mapping taken as its JSON);
    `local_id=False` refuses the local-only Id as the unknown field it is on AWS."""
    if not isinstance(entry, Mapping):
        raise EntryError("InvalidArgument", f"an entry is an object, not {type(entry).__name__}")
    allowed = ENTRY_FIELDS + (LOCAL_ENTRY_FIELDS if local_id else ())
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        also = " (and the local-only Id)" if local_id else ""
        raise EntryError(
            "InvalidArgument", f"unknown entry field(s) {unknown}; an entry has {', '.join(ENTRY_FIELDS)}{also}"
        )
    source, detail_type = _required_text(entry, "Source"), _required_text(entry, "DetailType")
    if source.startswith("aws."):
        raise EntryError(
            "NotAuthorizedForSourceException",
            f"Not authorized for the source {source!r} (aws.* sources are AWS services' own)",
        )
    detail = _detail(entry.get("Detail"))
    resources = entry.get("Resources", [])
    if not isinstance(resources, list) or not all(isinstance(item, str) for item in resources):
        raise EntryError("InvalidArgument", "Resources is a list of ARNs (strings)")
    bus = entry.get("EventBusName", "default")
    if not isinstance(bus, str) or not bus:
        raise EntryError("InvalidArgument", "EventBusName is a bus name or ARN")
    event_id = entry.get("Id", str(uuid.uuid4()))
    if not isinstance(event_id, str) or not event_id:
        raise EntryError("InvalidArgument", "Id (local-only: the event id) is a non-empty string")
    moment = _entry_time(entry["Time"]) if entry.get("Time") is not None else now
    return BusEvent(
        bus=bus.rsplit("event-bus/", 1)[-1],
        event=make_event(
            event_id=event_id,
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=list(resources),
            account=account,
            region=region,
            time=moment,
        ),
    )


def make_event(
    *,
    event_id: str,
    source: str,
    detail_type: str,
    detail: Any,
    resources: list[str],
    account: str,
    region: str,
    time: float,
) -> dict[str, Any]:
    """EventBridge's event envelope, in its field order; `time` in whole seconds, as EventBridge writes it."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso_time(time, milliseconds=False),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def _detail(detail: Any) -> dict[str, Any]:
    if detail is None:
        raise EntryError("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
    if isinstance(detail, Mapping):
        return json.loads(json.dumps(detail))
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise EntryError("MalformedDetail", "Detail is malformed.")  # EventBridge's words; the JSON text of an object
    return parsed


def _entry_time(value: Any) -> float:
    """Time as the AWS CLI takes it: ISO 8601 text or epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise EntryError("InvalidArgument", f"Time {value!r} is not an ISO 8601 timestamp or epoch seconds") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp()


def iso_time(seconds: float, milliseconds: bool) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}Z" if milliseconds else "Z")
