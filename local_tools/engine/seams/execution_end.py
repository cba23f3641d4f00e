"""Seam 8: a hook that runs when an execution ends (moto has none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Undo, patch, require_attr, require_params

# --- 8. Execution ended hook -------------------------------------------------------------------------------------


def install_execution_ended_hook(on_ended: Callable[[Any], None]) -> Undo:
    """Call `on_ended(execution)` in the execution's worker thread once moto has set its final status.

    `execution` is moto's parser Execution: exec_arn, state_machine.arn, name, exec_status (ExecutionStatus),
    start_date, stop_date, input_data, output, error, cause.
    """
    seam = "BaseExecutionWorkerCommunication.terminated"
    from moto.stepfunctions.parser.backend import execution as execution_module

    communication_class = require_attr(seam, execution_module, "BaseExecutionWorkerCommunication")
    original = require_attr(seam, communication_class, "terminated")
    require_params(seam, original, ["self"])

    def terminated(self: Any) -> None:
        original(self)
        on_ended(self.execution)

    return patch(communication_class, "terminated", terminated)
