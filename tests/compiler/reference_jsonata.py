"""Generated JSONata evaluated as AWS Step Functions evaluates it: npm jsonata 2.0.6 through the local engine's
Node bridge (one process for the test session), with the variables bound as the state machine binds them."""
from __future__ import annotations

import atexit
from typing import Any

from local_tools.engine.jsonata_bridge import JsonataBridge

_bridge: JsonataBridge | None = None


def evaluate(expression: str, **variables: Any) -> Any:
    """The value of `expression` with each keyword bound as `$name` (UNDEFINED when it evaluates to nothing)."""
    global _bridge
    if _bridge is None:
        _bridge = JsonataBridge()
        atexit.register(_bridge.close)
    return _bridge.evaluate(expression, variables)
