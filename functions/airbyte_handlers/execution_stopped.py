"""Cancel the Airbyte job of an execution that ended ABORTED, TIMED_OUT or FAILED, when it was the execution's own
and still runs.

A stopped or timed-out execution runs no Catch, and one that failed outside the workflow's own paths (a Lambda
timeout, the history limit, an unexpected error) may have left its job running. Triggered by an EventBridge rule on
"Step Functions Execution Status Change"; the cancel reads the job first, so an execution that already cleaned up
(or whose job ended) costs one read. A continued execution has no createJob of its own: the execution that started
it handles the job when it ends.
"""

from __future__ import annotations

from typing import Any

from airbyte_client import CANCEL_OUTCOME_HEADER, AirbyteError, CleanupFailed

from .common import INVOCATION_KEYS, build_client, logger
from .execution_history import created_job, history_oldest_first

ENDED_STATUSES = ("ABORTED", "TIMED_OUT", "FAILED")


def _stepfunctions_client() -> Any:
    import boto3  # lazy: only this handler needs it, and only when it runs

    return boto3.client("stepfunctions")


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger.remove_keys(INVOCATION_KEYS)
    detail = event.get("detail") if isinstance(event, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    execution_arn, status = detail.get("executionArn"), detail.get("status")
    logger.append_keys(execution_arn=execution_arn if isinstance(execution_arn, str) else None)
    if status not in ENDED_STATUSES or not isinstance(execution_arn, str):
        logger.info("Not an execution that ended badly; nothing to do", extra={"status": status})
        return {"outcome": "nothingToDo", "reason": "not-ended-badly"}

    job = created_job(history_oldest_first(_stepfunctions_client(), execution_arn))
    if job is None:
        logger.info("The execution created no job of its own; nothing to cancel", extra={"status": status})
        return {"outcome": "nothingToDo", "reason": "no-job"}

    logger.append_keys(job_id=job.job_id)
    try:
        response = build_client(context).cancel_if_ours(
            job.job_id, connection_id=job.connection_id, attached=job.attached
        )
    except AirbyteError as error:
        # Named and logged, then raised: Lambda retries the event, then hands it to the dead-letter queue.
        logger.error("Cleanup failed: the job may still run", extra={"status": status, "error": type(error).__name__})
        raise CleanupFailed(
            f"Could not cancel job {job.job_id} of {execution_arn}: {type(error).__name__}: {error}"
        ) from None
    outcome = response.headers[CANCEL_OUTCOME_HEADER]
    logger.info("Cleanup of an execution that ended " + status, extra={"outcome": outcome})
    return {"outcome": outcome, "jobId": job.job_id, "statusCode": response.status_code}
