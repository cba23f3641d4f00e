"""Seams 12, 13 and 23: the execution history as AWS keeps it (25,000 events at most), serves it (pages, reverse
order), and as the engine reads it (directly)."""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import threading
import weakref
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source, undo_all

# --- 12. The 25,000-event history limit --------------------------------------------------------------------------

MAX_HISTORY_EVENTS = 25_000
HISTORY_LIMIT_ERROR = "States.Runtime"
HISTORY_LIMIT_CAUSE = f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
_CLOSING_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})


def _repeats(events: list[dict], event_details: Any) -> bool:
    """The last event already is this evaluation failure (moto's repeat carries the cause undecorated)."""
    if not events or events[-1]["type"] != "EvaluationFailed":
        return False
    recorded = events[-1].get("evaluationFailedEventDetails") or {}
    repeated = (event_details or {}).get("evaluationFailedEventDetails") or {}
    cause = repeated.get("cause") or ""
    return recorded.get("error") == repeated.get("error") and (recorded.get("cause") or "").endswith(cause)


def install_history_limit() -> Undo:
    """An execution whose history reaches 25,000 events fails, as on AWS; one EvaluationFailed event per failure.

    Step Functions keeps at most 25,000 events per execution: if event number 25,000 would not close the execution,
    the execution fails with States.Runtime, "The execution reached the maximum number of history events (25000)."
    moto has no limit. EventManager.add_event is where every event arrives: when the 25,000th would be anything but a
    closing event, it is dropped, the execution's root environment is set to that error, and moto itself then
    records ExecutionFailed as event 25,000 when the running state returns (events in between are dropped).

    Also: moto records a JSONata evaluation failure in a Task twice (once where the expression fails, once more when
    the Task handles the failure); AWS records one EvaluationFailed per failure, so an identical repeat is dropped.
    """
    seam = "EventManager.add_event"
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
    from moto.stepfunctions.parser.asl.eval import environment as environment_module
    from moto.stepfunctions.parser.asl.eval.event import event_manager as event_manager_module

    manager_class = require_attr(seam, event_manager_module, "EventManager")
    original_add = require_attr(seam, manager_class, "add_event")
    require_params(
        seam, original_add, ["self", "context", "event_type", "event_details", "timestamp", "update_source_event_id"]
    )
    require_source(seam, original_add, ("with self._mutex:", "self._publish_history_event("))
    require_source(seam, manager_class._publish_history_event, ("self._history_event_list.append(history_event)",))
    environment_class = require_attr(seam, environment_module, "Environment")
    original_init = require_attr(seam, environment_class, "__init__")
    require_source(seam, original_init, ("self.event_manager = EventManager(",))
    require_attr(seam, environment_class, "set_error")

    root_environments: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
    closed: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()  # manager -> closing event recorded
    lock = threading.Lock()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # A frame makes a manager of its own here and then shares its parent's: only a root's manager stays mapped.
        root_environments[self.event_manager] = self

    def add_event(
        self: Any,
        context: Any,
        event_type: Any,
        event_details: Any = None,
        timestamp: Any = None,
        update_source_event_id: bool = True,
    ) -> int:
        events = self._history_event_list
        type_name = getattr(event_type, "value", event_type)
        with lock:  # one check-and-add at a time: Map iterations and Task threads add events concurrently
            if closed.get(self):
                return len(events)  # the execution is over: nothing more is recorded
            if type_name == "EvaluationFailed" and _repeats(events, event_details):
                return len(events)
            reached = False
            if len(events) >= MAX_HISTORY_EVENTS - 1:
                if type_name in _CLOSING_EVENTS:
                    closed[self] = True
                elif self in closed:
                    return len(events)  # dropped until moto records its ExecutionFailed
                else:
                    closed[self] = False  # limit reached; the closing event is still to come
                    reached = True
            if not reached:
                return original_add(self, context, event_type, event_details, timestamp, update_source_event_id)
        root = root_environments.get(self)
        if root is None:
            raise SeamMoved(seam, "no root Environment is known for this EventManager")
        root.set_error(ExecutionFailedEventDetails(error=HISTORY_LIMIT_ERROR, cause=HISTORY_LIMIT_CAUSE))
        return len(events)

    undo_init = patch(environment_class, "__init__", __init__)
    undo_add = patch(manager_class, "add_event", add_event)
    return undo_all(undo_init, undo_add)


# --- 13. GetExecutionHistory pages -------------------------------------------------------------------------------

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_EXECUTION_DATA_KEYS = ("input", "output")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    from moto.core.exceptions import InvalidToken

    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and int(value) >= 0:
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidToken(f"Invalid Token: '{token}'")


@functools.cache  # the checks read moto's source: once per seam name
def _history_pager(seam: str) -> Any:
    """page(backend, execution_arn, start, size, reverse) -> (a deep copy of those events, the history's length),
    read from the execution's own event list (moto deep-copies the whole history for every read)."""
    from moto.stepfunctions.parser import models as parser_models

    parser_backend_class = require_attr(seam, parser_models, "StepFunctionsParserBackend")
    require_source(seam, parser_backend_class.get_execution_history, ("execution.to_history_output()",))
    from moto.stepfunctions.parser.backend.execution import Execution

    require_source(seam, Execution.to_history_output, ("env.event_manager.get_event_history()",))
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    require_source(seam, EventManager.get_event_history, ("with self._mutex:", "self._history_event_list"))

    def page(backend: Any, execution_arn: str, start: int, size: int, reverse: bool) -> tuple[list[dict], int]:
        if not isinstance(backend, parser_backend_class):
            events = list(backend.get_execution_history(execution_arn)["events"])
            events = events[::-1] if reverse else events
            return copy.deepcopy(events[start : start + size]), len(events)
        execution = backend.describe_execution(execution_arn=execution_arn)
        env = execution.exec_worker.env if execution.exec_worker is not None else None
        if env is None:
            return [], 0
        manager = env.event_manager
        with manager._mutex:
            events = manager._history_event_list
            total = len(events)
            if reverse:
                chosen = events[max(0, total - start - size) : max(0, total - start)][::-1]
            else:
                chosen = events[start : start + size]
            return copy.deepcopy(chosen), total

    return page


def install_execution_history_paging() -> Undo:
    """GetExecutionHistory honours maxResults (default 100, at most 1000), nextToken, reverseOrder and
    includeExecutionData, as on AWS; moto 5.2.5 ignores them and answers every event, oldest first, in one page.

    With includeExecutionData false, the events' `input` and `output` are left out. Only the page asked for is
    copied out of the execution's event list (moto deep-copies the whole history for every call).
    """
    seam = "StepFunctionResponse.get_execution_history"
    from moto.stepfunctions import responses as responses_module

    response_class = require_attr(seam, responses_module, "StepFunctionResponse")
    original = require_attr(seam, response_class, "get_execution_history")
    require_params(seam, original, ["self"])
    require_source(seam, original, ('self._get_param("executionArn")', "get_execution_history(", "ActionResult("))
    action_result = require_attr(seam, responses_module, "ActionResult")
    page = _history_pager(seam)

    def get_execution_history(self: Any) -> Any:
        execution_arn = self._get_param("executionArn")
        size = self._get_int_param("maxResults") or DEFAULT_PAGE_SIZE
        size = min(size, MAX_PAGE_SIZE)
        start = _offset(self._get_param("nextToken"))
        reverse = self._get_bool_param("reverseOrder", False)
        events, total = page(self.stepfunction_backend, execution_arn, start, size, reverse)
        if self._get_bool_param("includeExecutionData", True) is False:
            for event in events:
                for key, details in event.items():
                    if key.endswith("EventDetails") and isinstance(details, dict):
                        for data_key in _EXECUTION_DATA_KEYS:
                            details.pop(data_key, None)
        result: dict[str, Any] = {"events": events}
        if start + size < total:
            result["nextToken"] = _token(start + size)
        return action_result(result)

    return patch(response_class, "get_execution_history", get_execution_history)


# --- 23. History read directly -----------------------------------------------------------------------------------


def read_history(account_id: str, region: str, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution, oldest first, as GetExecutionHistory gives them (the engine's own reads).

    The same events the API serves, copied straight out of the execution's event list: moto's response serialiser
    and botocore's parser take about 3 ms per event both ways, so reading a long history through the API costs more
    than running it. moto keeps `type` as an enum and `timestamp` as ISO text; both are given as the API gives them
    (the name; a timezone-aware datetime). Unknown executions raise moto's ExecutionDoesNotExist.
    """
    seam = "read_history (EventManager event list)"
    from moto.stepfunctions import responses as responses_module

    get_backend = require_attr(seam, responses_module, "get_backend")
    events, _ = _history_pager(seam)(get_backend(account_id, region), execution_arn, 0, MAX_HISTORY_EVENTS, False)
    for event in events:
        kind, stamp = event["type"], event["timestamp"]
        event["type"] = getattr(kind, "value", kind)
        if isinstance(stamp, str):
            event["timestamp"] = datetime.datetime.fromisoformat(stamp)
    return events
