"""Seam 11: GetExecutionHistory pages as on AWS (reverseOrder, maxResults, nextToken)."""
from __future__ import annotations

from typing import Any

from .base import Undo, patch, require_attr, require_source

# AWS's own bound on one page (GetExecutionHistory maxResults: 1..1000).
MAX_PAGE = 1000


def install_execution_history_paging() -> Undo:
    """moto 5.2.5's StepFunctionResponse.get_execution_history reads only executionArn and answers the whole
    history, oldest first. A continued execution reads its parent's LATEST events (reverseOrder, a small
    maxResults); the whole history of a long-running parent is far more than a state's 256 KB payload quota
    (States.DataLimitExceeded). This answers one page in the order asked, with a nextToken when more remain."""
    seam = "StepFunctionResponse.get_execution_history"
    from moto.core.responses import ActionResult
    from moto.stepfunctions import responses

    response_class = require_attr(seam, responses, "StepFunctionResponse")
    original = require_attr(seam, response_class, "get_execution_history")
    require_source(seam, original, ('self._get_param("executionArn")',
                                    "self.stepfunction_backend.get_execution_history(",
                                    "ActionResult(execution_history)"))

    def get_execution_history(self: Any) -> Any:
        history = self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))
        events = list(history["events"])
        if self._get_param("reverseOrder"):
            events.reverse()
        start = int(self._get_param("nextToken") or 0)
        size = min(self._get_int_param("maxResults") or MAX_PAGE, MAX_PAGE)
        page: dict[str, Any] = {"events": events[start:start + size]}
        if start + size < len(events):
            page["nextToken"] = str(start + size)
        return ActionResult(page)

    return patch(response_class, "get_execution_history", get_execution_history)
