"""Seam 3: every Lambda invoke in moto goes to an in-process runner instead of Docker."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params

# --- 3. Lambda invocation ----------------------------------------------------------------------------------------

LambdaInvoker = Callable[[Any, Any], "tuple[str, bool, str]"]


def install_lambda_invoker(invoke: LambdaInvoker) -> Undo:
    """Route every Lambda invoke in moto (from a state machine, boto3 or a rule target) to `invoke(function, event)`.

    moto's LambdaFunction.invoke json-decodes the request body and calls `_invoke_lambda(event)`, expecting
    `(payload_json_str, errored, logs)`; errored=True makes the response carry X-Amz-Function-Error, which Step
    Functions turns into an error named after the payload's errorType.
    """
    seam = "awslambda.LambdaFunction._invoke_lambda"
    from moto.awslambda import models as lambda_models

    function_class = require_attr(seam, lambda_models, "LambdaFunction")
    original = require_attr(seam, function_class, "_invoke_lambda")
    require_params(seam, original, ["self", "event"])
    for attribute in ("function_name", "handler", "environment_vars", "function_arn", "timeout", "memory_size"):
        if attribute not in inspect.getsource(function_class.__init__):
            raise SeamMoved(seam, f"LambdaFunction.__init__ no longer sets {attribute!r}")

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoke(self, event)

    return patch(function_class, "_invoke_lambda", _invoke_lambda)
