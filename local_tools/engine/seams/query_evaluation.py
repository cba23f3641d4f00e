"""Seam 16: a JSONata expression that fails, or gives a field a value it cannot take, is States.QueryEvaluationError.

Where moto raises, not in the evaluator: whichever evaluator is installed (seams/jsonata.py) reports its errors as
moto's JSONataException, and this seam turns that into the failure AWS reports. An expression that evaluates to
nothing (undefined) is already States.QueryEvaluationError in moto (asl.jsonata.validations), in every field.
"""

from __future__ import annotations

import json
from typing import Any

from .base import Undo, patch, patch_new, require_attr, require_inherited, require_params, require_source, undo_all

QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
MAX_SECONDS = 99_999_999


def _failure(env: Any, cause: str, location: str | None = None) -> Exception:
    """Record EvaluationFailed (as moto's own undefined-result check does) and return the exception to raise."""
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    details = EvaluationFailedEventDetails(error=QUERY_EVALUATION_ERROR, cause=cause)
    if location:
        details["location"] = location
    failure = FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError),
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),  # type: ignore[typeddict-item]  # moto declares EventDetails total, and fills one key as here
        )
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(  # type: ignore[typeddict-item]  # moto declares EventDetails total, and fills one key as here
            evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()
        ),
    )
    return failure


def _whole_number(value: Any) -> int | None:
    """JSONata numbers are JavaScript numbers: 5.0 is the integer 5; 1.5, "5", true are not integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def install_query_evaluation_errors() -> Undo:
    """JSONata failures and out-of-range integer fields fail the state with States.QueryEvaluationError.

    - A JSONata evaluation error (a type error, an unknown function...) leaves StringJSONata as moto's
      JSONataException, which moto reports as States.Runtime; AWS reports States.QueryEvaluationError (an
      EvaluationFailed event, then the state fails; States.ALL catches it).
    - Wait `Seconds` as an expression must evaluate to an integer from 0 to 99999999, a Task's `TimeoutSeconds`
      and `HeartbeatSeconds` to a positive integer up to 99999999 (AWS Step Functions guide, "Wait workflow
      state"; "Task workflow state"). moto calls int() on whatever it got: 1.5 waits 1 s, -1 and 100000000 are
      accepted, "abc" is States.Runtime.
    """
    seam = "StringJSONata.eval / SecondsJSONata._get_wait_seconds / TimeoutSecondsJSONata._eval_seconds"
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.common.timeouts import heartbeat as heartbeat_module
    from moto.stepfunctions.parser.asl.component.common.timeouts import timeout as timeout_module
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import seconds as seconds_module
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    string_jsonata = require_attr(seam, string_expression, "StringJSONata")
    require_inherited(seam, string_jsonata, "eval")
    require_source(seam, EvalComponent.eval, ("self._eval_body(env)",))
    jsonata_exception = require_attr(seam, moto_jsonata, "JSONataException")
    seconds_class = require_attr(seam, seconds_module, "SecondsJSONata")
    timeout_class = require_attr(seam, timeout_module, "TimeoutSecondsJSONata")
    heartbeat_class = require_attr(seam, heartbeat_module, "HeartbeatSecondsJSONata")
    integer_fields = (
        (seconds_class, "_get_wait_seconds", "Seconds", 0),
        (timeout_class, "_eval_seconds", "TimeoutSeconds", 1),
        (heartbeat_class, "_eval_seconds", "HeartbeatSeconds", 1),
    )
    for owner, method, _, _ in integer_fields:
        original = require_attr(seam, owner, method)
        require_params(seam, original, ["self", "env"])
        require_source(seam, original, ("self.string_jsonata.eval(env=env)", "env.stack.pop()"))

    def eval_(self: Any, env: Any) -> None:
        try:
            EvalComponent.eval(self, env)
        except jsonata_exception as error:
            raise _failure(
                env,
                f"The JSONata expression '{self.expression}' threw an error during evaluation. "
                f"{error.details or error.error}",
            ) from error

    def integer_field(field: str, lowest: int) -> Any:
        def evaluate(self: Any, env: Any) -> int:
            self.string_jsonata.eval(env=env)
            value = env.stack.pop()
            number = _whole_number(value)
            if number is None or not lowest <= number <= MAX_SECONDS:
                raise _failure(
                    env,
                    f"The JSONata expression '{self.string_jsonata.expression}' specified for the "
                    f"field '{field}' must evaluate to an integer from {lowest} to {MAX_SECONDS}, "
                    f"got {json.dumps(value)}.",
                    location=field,
                )
            return number

        return evaluate

    undos = [patch_new(string_jsonata, "eval", eval_)]
    for owner, method, field, lowest in integer_fields:
        undos.append(patch(owner, method, integer_field(field, lowest)))
    return undo_all(*undos)
