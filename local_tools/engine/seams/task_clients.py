"""Seam 9: one boto3 client per (service, region) for the Tasks' service calls (performance only)."""

from __future__ import annotations

import inspect
import threading
from typing import Any

from .base import SeamMoved, Undo, patch, require_attr, require_params

# --- 9. Task clients reused -------------------------------------------------------------------------------------

# Modules whose Tasks call `boto_client_for(region, service, state_credentials)` (imported by name): the Lambda
# integration (every getJob poll) and the Step Functions one (continue-as-new).
_TASK_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
)


def install_task_client_cache() -> Undo:
    """Reuse one boto3 client per (service, region) for the Tasks' service calls.

    moto builds a fresh boto3 client (fixed fake credentials, no retries) for every Lambda Task; building one costs
    more than the invoke itself. The client depends only on region, service and where moto is served
    (in-process stubber or a server port), so a cached client is the same client. Cleared on undo.
    """
    seam = "boto_client_for (Task clients)"
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    original = require_attr(seam, boto_client_module, "boto_client_for")
    require_params(seam, original, ["region", "service", "state_credentials"])
    source = inspect.getsource(original)
    for fragment in ('aws_access_key_id="ak"', "botocore_stubber.enabled", "moto_server_port()"):
        if fragment not in source:
            raise SeamMoved(seam, f"boto_client_for no longer contains {fragment!r}")
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    clients: dict[tuple[str, str, bool, Any], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        intercepting = botocore_stubber.enabled
        key = (region, service, intercepting, None if intercepting else moto_server_port())
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(
                        region=region, service=service, state_credentials=state_credentials
                    )
        return client

    undos = []
    for module_name in _TASK_CLIENT_MODULES:
        module = importlib.import_module(module_name)
        if require_attr(seam, module, "boto_client_for") is not original:
            raise SeamMoved(seam, f"{module_name}.boto_client_for is not asl.utils.boto_client.boto_client_for")
        undos.append(patch(module, "boto_client_for", boto_client_for))

    def undo() -> None:
        for each in reversed(undos):
            each()
        clients.clear()

    return undo
