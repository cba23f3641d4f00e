"""cancelJob: cancel the job only when this execution started it and it still runs (the outcome is in the
x-airbyte-sync-cancel-outcome header: cancelled, alreadyEnded, notOurs or unreadable)."""

from typing import Any

from airbyte_client import CANCEL_OUTCOME_HEADER

from .common import build_client, logger, parse_event, start_invocation


def handler(event: Any, context: Any) -> dict[str, Any]:
    start_invocation(event, context)
    request = parse_event(event, "cancelJob", "DELETE")
    job_id = request.path_parameter("jobId")
    logger.append_keys(job_id=job_id)
    response = build_client(context).cancel_if_ours(
        job_id, connection_id=request.instruction("Connection-Id"), attached=request.instruction("Attached")
    )
    logger.info(
        "cancelJob done",
        extra={"outcome": response.headers[CANCEL_OUTCOME_HEADER], "status_code": response.status_code},
    )
    return response.to_contract()
