"""StartSync: the admission step of the event and schedule start paths of both machines (see admission.py)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from .admission import SYNC_CONNECTIONS_MACHINE, parse_job_types, start_request
from .common import INVOCATION_KEYS, logger


def _stepfunctions_client() -> Any:
    import boto3  # lazy: the Airbyte handlers never need it

    return boto3.client("stepfunctions")


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger.remove_keys(INVOCATION_KEYS)
    try:
        request = start_request(event, parse_job_types(os.environ.get("EVENT_JOB_TYPES", "sync")))
    except ValueError as error:
        logger.error("Refused the request; nothing started", extra={"reason": str(error)})
        raise
    if request.ignored_fields:
        logger.warning("Ignored undocumented fields of the request", extra={"fields": request.ignored_fields})
    machine_arn = os.environ[
        "SYNC_CONNECTIONS_STATE_MACHINE_ARN"
        if request.machine == SYNC_CONNECTIONS_MACHINE
        else "SYNC_STATE_MACHINE_ARN"
    ]
    client = _stepfunctions_client()
    asked_at = datetime.now(UTC)
    try:
        started = client.start_execution(
            stateMachineArn=machine_arn, name=request.name, input=json.dumps(request.input)
        )
    except client.exceptions.ExecutionAlreadyExists:
        logger.info(
            "A redelivered request: its execution has ended; nothing started", extra={"execution_name": request.name}
        )
        return {"started": False, "machine": request.machine, "executionName": request.name}
    logger.append_keys(execution_arn=started["executionArn"])
    # StartExecution is idempotent while an execution of that name and input runs: it answers with that one.
    new = started["startDate"] >= asked_at - timedelta(seconds=5)
    logger.info(
        "Execution started" if new else "A redelivered request: its execution is running; nothing started",
        extra={"execution_name": request.name},
    )
    return {
        "started": new,
        "machine": request.machine,
        "executionName": request.name,
        "executionArn": started["executionArn"],
    }
