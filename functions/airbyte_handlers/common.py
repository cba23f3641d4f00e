"""What every handler shares: the logger (scrubbed), the event parsing and the client built from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from airbyte_client import INSTRUCTION_PREFIX, AirbyteClient, ClientConfig, InvalidRequest
from airbyte_client.jobs import parse_airbyte_time
from airbyte_client.redaction import RedactingFilter

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "airbyte-sync")
logger.addFilter(RedactingFilter())  # before any handler formats a record: no credential in any log line

# Keys that belong to one invocation; a warm container must not carry them into the next.
INVOCATION_KEYS = ["execution_arn", "step_id", "job_id", "retry_count", "request_id"]


@dataclass(frozen=True)
class ContractRequest:
    operation_id: str
    parameters: dict
    body: object
    context: dict

    def path_parameter(self, name: str) -> Any:
        path = self.parameters.get("path") or {}
        if name not in path:
            raise InvalidRequest(f"{self.operation_id} needs the path parameter {name}")
        return path[name]

    def instruction(self, name: str) -> Any:
        """The value of the `X-Airbyte-Sync-<name>` header parameter (names are case-insensitive), or None."""
        wanted = (INSTRUCTION_PREFIX + name).lower()
        headers = self.parameters.get("header") or {}
        if not isinstance(headers, dict):
            return None
        return next((value for key, value in headers.items() if isinstance(key, str) and key.lower() == wanted), None)

    @property
    def retry_count(self) -> int:
        count = self.context.get("retryCount") or 0
        return count if isinstance(count, int) and not isinstance(count, bool) else 0

    @property
    def state_entered_epoch(self) -> float | None:
        # The context's time is ISO 8601 text: the one timestamp parser of the functions reads it.
        entered = self.context.get("stateEnteredTime")
        return parse_airbyte_time(entered) if isinstance(entered, str) and entered else None


def parse_event(event: Any, operation_id: str, method: str) -> ContractRequest:
    """Check the event follows the contract and was wired to this handler's operation."""
    if not isinstance(event, dict):
        raise InvalidRequest("The event must be a JSON object")
    if event.get("operationId") != operation_id:
        raise InvalidRequest(f"This function implements {operation_id}, not {str(event.get('operationId'))[:60]!r}")
    if event.get("method") not in (None, method):
        raise InvalidRequest(f"{operation_id} is {method}, the event says {str(event.get('method'))[:20]!r}")
    parameters = event.get("parameters") or {}
    context = event.get("context") or {}
    if not isinstance(parameters, dict) or not isinstance(context, dict):
        raise InvalidRequest("The event's parameters and context must be objects")
    return ContractRequest(operation_id, parameters, event.get("body"), context)


def start_invocation(event: Any, lambda_context: Any = None) -> None:
    """Tie this invocation's log lines to its execution (job_id is added once known)."""
    logger.remove_keys(INVOCATION_KEYS)
    context = event.get("context") if isinstance(event, dict) else None
    context = context if isinstance(context, dict) else {}
    keys = {
        "execution_arn": context.get("executionArn"),
        "step_id": context.get("stepId"),
        "retry_count": context.get("retryCount"),
        "request_id": getattr(lambda_context, "aws_request_id", None),
    }
    logger.append_keys(**{k: v for k, v in keys.items() if isinstance(v, (str, int)) and not isinstance(v, bool)})


def remaining_seconds(lambda_context: Any) -> Callable[[], float] | None:
    """A callable for the client's time budget, or None outside Lambda."""
    if lambda_context is not None and callable(getattr(lambda_context, "get_remaining_time_in_millis", None)):
        return lambda: lambda_context.get_remaining_time_in_millis() / 1000.0
    return None


def build_client(lambda_context: Any = None) -> AirbyteClient:
    return AirbyteClient(
        ClientConfig.from_env(), logger=logger, lambda_remaining_seconds=remaining_seconds(lambda_context)
    )
