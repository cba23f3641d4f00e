"""PutEvents as a state machine's `arn:aws:states:::events:putEvents` Task calls it (seam 20), and the record of
every event the machines put.

What AWS does, and the engine with it (Step Functions guide, "Add EventBridge events with Step Functions";
EventBridge guide, "Sending events with PutEvents"):
- Each entry is checked as PutEvents checks it (event_entries.event_from_entry; the local-only `Id` is refused,
  as the unknown field it is on AWS). A refused entry does not stop the others: "if an individual entry within
  a request fails, EventBridge continues processing the rest of the entries in the request". The answer has one
  result per entry, in order: `{"EventId": ...}` or `{"ErrorCode", "ErrorMessage"}`, and `FailedEntryCount`.
- FailedEntryCount > 0: "the Task state fails with the error EventBridge.FailedEntry"; the cause is that answer
  as JSON text, and the accepted entries were put (and delivered) all the same.
- A request PutEvents refuses as a whole (no entries, more than 10, over 256 KiB) fails the Task
  `EventBridge.ValidationException`.
- An event for a bus that does not exist is accepted (an EventId, not a failed entry) and goes nowhere, as AWS
  does it (aws/aws-sdk#186).
- Accepted events are delivered by the engine's EventBridge (event_routing.EventRouter) to the matching rules'
  targets, asynchronously for the Task: PutEvents answers before a Lambda target has run.

`events` keeps every event a machine put, oldest first, as a rule's target receives it (EventBridge's envelope:
version, id, detail-type, source, account, time, region, resources, detail), whether or not a rule matched it.
Its `resources` end with the state machine's and the execution's ARN (appended by the integration), which is how
`put_by` finds the events of one execution.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from local_tools.engine.event_entries import EntryError, check_request
from local_tools.engine.seams import PutEventsRefused

if TYPE_CHECKING:
    from local_tools.engine.engine import LocalEngine

LOG = logging.getLogger(__name__)


class MachineEvents:
    """The `put_events` callable of seam 20 for one engine, and what it recorded."""

    def __init__(self, engine: LocalEngine):
        self.engine = engine
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event the machines put, oldest first (a copy)."""
        with self._lock:
            return list(self._events)

    def put_by(self, execution_arn: str) -> list[dict[str, Any]]:
        """The events one execution put, oldest first."""
        return [event for event in self.events if execution_arn in event["resources"]]

    def put_events(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """PutEvents' answer to a Task's request, after delivering what it accepted."""
        entries = request.get("Entries")
        if not isinstance(entries, list):
            raise PutEventsRefused("ValidationException", "Entries must be a list of 1 to 10 entries")
        try:
            check_request(entries)
        except EntryError as error:
            raise PutEventsRefused(error.code, error.message) from None
        results: list[dict[str, str]] = []
        for entry in entries:
            try:
                bus_event = self.engine.event_from_entry(entry, local_id=False)
            except EntryError as error:
                results.append({"ErrorCode": error.code, "ErrorMessage": error.message})
                continue
            with self._lock:
                self._events.append(bus_event.event)
            self._deliver(bus_event.event, bus_event.bus)
            results.append({"EventId": bus_event.event["id"]})
        return {"FailedEntryCount": sum("ErrorCode" in result for result in results), "Entries": results}

    def _deliver(self, event: dict[str, Any], bus: str) -> None:
        try:
            self.engine.route_event(event, bus)
        except Exception as error:  # noqa: BLE001 - a delivery problem is never PutEvents' answer
            if _code(error) == "ResourceNotFoundException":
                LOG.info("event %s for bus %s, which does not exist: accepted, delivered nowhere", event["id"], bus)
                return
            LOG.exception("routing event %s failed", event["id"])
            self.engine.routing_errors.append(f"event {event['id']}: {type(error).__name__}: {error}")


def _code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
