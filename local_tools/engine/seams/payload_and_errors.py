"""Seams 17-18: payload size limits as AWS counts them, and the errors States.ALL does not catch."""

from __future__ import annotations

import importlib
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params, require_source, undo_all

MAX_PAYLOAD_BYTES = 256 * 1024
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"

# --- 17. Payload size -------------------------------------------------------------------------------------------

# Modules that import moto's quota check by name (a state's output; a Task's and a Lambda Task's result).
_QUOTA_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda",
)


def within_payload_quota(value: Any) -> bool:
    """At most 256 KiB (262,144 bytes) as UTF-8 JSON; a string counts as its own text, as moto counts it."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    text = value if isinstance(value, str) else to_json_str(value)
    return len(text.encode("utf-8")) <= MAX_PAYLOAD_BYTES


def install_payload_limits() -> Undo:
    """States.DataLimitExceeded where AWS reports it: a payload over 256 KiB, not one of exactly 256 KiB.

    moto checks a state's output and a Task's result, but with `< 262144` (AWS: "Maximum length of 262144" bytes of
    UTF-8, so exactly 256 KiB passes), and not a Task's input after its Arguments/Parameters are evaluated (AWS:
    "The input of a state is larger than the payload size quota after Parameters processing"): that fails the Task
    before it is scheduled. StartExecution's own input limit is seam 15.
    """
    seam = "quotas.is_within_size_quota / StateTaskService._before_eval_execution"
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service_module,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original_quota = require_attr(seam, quotas, "is_within_size_quota")
    require_source(seam, original_quota, ("< MAX_STATE_SIZE_UTF8_BYTES",))
    modules = [importlib.import_module(name) for name in _QUOTA_MODULES]
    for module in modules:
        if require_attr(seam, module, "is_within_size_quota") is not original_quota:
            raise SeamMoved(seam, f"{module.__name__}.is_within_size_quota is not quotas.is_within_size_quota")
    service_class = require_attr(seam, service_module, "StateTaskService")
    original_before = require_attr(seam, service_class, "_before_eval_execution")
    require_params(
        seam, original_before, ["self", "env", "resource_runtime_part", "raw_parameters", "state_credentials"]
    )
    require_source(
        seam,
        service_class._eval_execution,
        (
            "raw_parameters = self._eval_parameters(env=env)",
            "self._before_eval_execution(",
        ),
    )

    def _before_eval_execution(
        self: Any, env: Any, resource_runtime_part: Any, raw_parameters: dict, state_credentials: Any
    ) -> None:
        if not within_payload_quota(raw_parameters):
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]  # moto declares EventDetails total, and fills one key as here
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=DATA_LIMIT_EXCEEDED,
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            cause=f"The state/task '{self.resource.resource_arn}' has an input, after its Arguments "
                            "were evaluated, with a size exceeding the maximum number of bytes service limit.",
                        )
                    ),
                )
            )
        original_before(self, env, resource_runtime_part, raw_parameters, state_credentials)

    undos = [patch(module, "is_within_size_quota", within_payload_quota) for module in modules]
    undos.append(patch(service_class, "_before_eval_execution", _before_eval_execution))
    return undo_all(*undos)


# --- 18. What States.ALL catches --------------------------------------------------------------------------------

NOT_MATCHED_BY_STATES_ALL = frozenset({"States.Runtime", DATA_LIMIT_EXCEEDED})


def install_states_all_exclusions() -> Undo:
    """`States.ALL` in a Retrier or Catcher does not match States.Runtime or States.DataLimitExceeded, as on AWS.

    AWS Step Functions guide, "Error names": States.ALL "can't catch the States.DataLimitExceeded terminal error or
    Runtime error types". moto's ErrorEqualsDecl matches everything with it. Naming either error explicitly in
    ErrorEquals still matches it.
    """
    seam = "ErrorEqualsDecl._eval_body"
    from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl

    decl_class = require_attr(seam, error_equals_decl, "ErrorEqualsDecl")
    original = require_attr(seam, decl_class, "_eval_body")
    require_params(seam, original, ["self", "env"])
    require_source(
        seam,
        original,
        ("error_name: ErrorName = env.stack.pop()", "_STATE_ALL_ERROR in self.error_names", "env.stack.append(res)"),
    )
    states_all = require_attr(seam, decl_class, "_STATE_ALL_ERROR")

    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if getattr(error_name, "error_name", None) in NOT_MATCHED_BY_STATES_ALL and states_all in self.error_names:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    return patch(decl_class, "_eval_body", _eval_body)
