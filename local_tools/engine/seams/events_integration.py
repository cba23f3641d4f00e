"""Seam 20: a state machine's `arn:aws:states:::events:putEvents` Task puts its events through the engine's
EventBridge (moto's put_events stores events but cannot deliver them to state machine or Lambda targets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source

# --- 20. events:putEvents through the engine ---------------------------------------------------------------------

# `put_events(request) -> response`: PutEvents as the Task calls it. `request` is {"Entries": [...]} after moto's
# optimized-integration normalisation; the response is PutEvents' {"FailedEntryCount", "Entries"}. It raises
# PutEventsRefused for a request PutEvents refuses as a whole (not one entry: those are FailedEntryCount).
PutEvents = Callable[[dict[str, Any]], dict[str, Any]]
FAILED_ENTRY = "EventBridge.FailedEntry"


class PutEventsRefused(Exception):
    """PutEvents refused the whole request (e.g. ValidationException for 11 entries): the Task fails
    `EventBridge.<code>`, the optimized integrations' naming of a service exception."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def install_events_put_events(put_events: PutEvents) -> Undo:
    """The optimized EventBridge integration, as the Step Functions guide ("Add EventBridge events with Step
    Functions") describes it, with its events delivered by `put_events`.

    moto's StateTaskServiceEvents._eval_service_task (kept: its `_normalised_request_parameters`) turns a Detail
    object into its JSON text and appends the state machine's and the execution's ARN to each entry's Resources
    ("The execution ARN and the state machine ARN are automatically appended to the Resources field of each
    PutEventsRequestEntry"), then calls moto's put_events, and on a non-zero FailedEntryCount raises
    SfnFailedEntryCountException, which its `_from_error` turns into `EventBridge.FailedEntry` ("If the response
    from PutEvents contains a non-zero FailedEntryCount then the Task state fails with the error
    EventBridge.FailedEntry"). The replacement calls `put_events` instead and gives the failure AWS's cause: the
    PutEvents response as JSON text (moto passes the response object itself as the cause).
    """
    seam = "StateTaskServiceEvents._eval_service_task"
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_events as events_module,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    task_class = require_attr(seam, events_module, "StateTaskServiceEvents")
    failed_entries = require_attr(seam, events_module, "SfnFailedEntryCountException")
    original = require_attr(seam, task_class, "_eval_service_task")
    require_params(
        seam, original, ["self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"]
    )
    require_source(
        seam,
        original,
        (
            "self._normalised_request_parameters(env=env, parameters=normalised_parameters)",
            "raise SfnFailedEntryCountException(",
            "env.stack.append(response)",
        ),
    )
    normalise = require_attr(seam, task_class, "_normalised_request_parameters")
    require_params(seam, normalise, ["env", "parameters"])  # a staticmethod
    require_source(seam, normalise, ('entry["Detail"] = to_json_str(', '["StateMachine"]["Id"]', '["Execution"]["Id"]'))
    require_source(seam, task_class._from_error, ("isinstance(ex, SfnFailedEntryCountException)", "cause=ex.cause"))
    if require_attr(seam, events_module, "_FAILED_ENTRY_ERROR_NAME").error_name != FAILED_ENTRY:
        raise SeamMoved(seam, f"moto's failed-entry error is no longer {FAILED_ENTRY}")

    def _eval_service_task(
        self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
    ) -> None:
        self._normalised_request_parameters(env=env, parameters=normalised_parameters)
        try:
            response = put_events(normalised_parameters)
        except PutEventsRefused as refused:
            error = f"EventBridge.{refused.code}"
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=CustomErrorName(error_name=error),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]  # moto declares EventDetails total, and fills one key as here
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=error,
                            cause=refused.message,
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                        )
                    ),
                )
            ) from None
        if response.get("FailedEntryCount", 0) > 0:
            raise failed_entries(cause=json.dumps(response, separators=(",", ":"), ensure_ascii=False))
        env.stack.append(response)

    return patch(task_class, "_eval_service_task", _eval_service_task)
