"""Cancel the Airbyte job of an execution that was ABORTED or TIMED_OUT.

Neither stops a running Lambda nor reaches a Catch, so without this an aborted execution leaves its sync running
without an owner. Triggered by an EventBridge rule on "Step Functions Execution Status Change"; best effort.
"""
from __future__ import annotations

import json

from .common import build_client, logger

STOPPED_STATUSES = ("ABORTED", "TIMED_OUT")


def _json_object(text):
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _as_job_id(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def job_id_from_task_output(output) -> int | None:
    """jobId from a lambda:invoke Task's output: ``Payload.body.jobId``."""
    result = _json_object(output) or {}
    payload = result.get("Payload")
    body = payload.get("body") if isinstance(payload, dict) else None
    return _as_job_id(body.get("jobId")) if isinstance(body, dict) else None


def job_id_from_history(events) -> int | None:
    """The jobId of the latest TaskSucceeded carrying one; ``events`` come newest first."""
    for event in events:
        if event.get("type") == "TaskSucceeded":
            job_id = job_id_from_task_output((event.get("taskSucceededEventDetails") or {}).get("output"))
            if job_id is not None:
                return job_id
    return None


def job_id_from_input(execution_input) -> int | None:
    """A continued execution carries the job in ``arazzoResume.steps.triggerJob.outputs.jobId``."""
    value = _json_object(execution_input) or {}
    for key in ("arazzoResume", "steps", "triggerJob", "outputs", "jobId"):
        value = value.get(key) if isinstance(value, dict) else None
    return _as_job_id(value)


def newest_history_events(stepfunctions, execution_arn: str):
    """The execution's history, newest first, one page at a time (up to 25,000 events)."""
    kwargs = {"executionArn": execution_arn, "reverseOrder": True, "maxResults": 1000}
    while True:
        page = stepfunctions.get_execution_history(**kwargs)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def find_job_id(stepfunctions, execution_arn: str, execution_input) -> int | None:
    try:
        job_id = job_id_from_history(newest_history_events(stepfunctions, execution_arn))
    except Exception as exc:  # botocore errors: fall back on the input
        logger.warning("Cannot read the execution history", extra={"error": type(exc).__name__})
        job_id = None
    return job_id if job_id is not None else job_id_from_input(execution_input)


def _stepfunctions_client():
    import boto3  # lazy: only this handler needs it, and only when it runs

    return boto3.client("stepfunctions")


def handler(event, context):
    logger.remove_keys(["execution_arn", "job_id", "request_id"])
    detail = event.get("detail", event) if isinstance(event, dict) else {}
    execution_arn = detail.get("executionArn")
    logger.append_keys(execution_arn=execution_arn)
    status = detail.get("status")
    if status not in STOPPED_STATUSES or not execution_arn:
        logger.info("Not a stopped execution; nothing to do", extra={"status": status})
        return {"cancelled": False, "reason": "not-stopped"}

    job_id = find_job_id(_stepfunctions_client(), execution_arn, detail.get("input"))
    if job_id is None:
        logger.info("The execution had not created a job; nothing to cancel", extra={"status": status})
        return {"cancelled": False, "reason": "no-job"}

    logger.append_keys(job_id=job_id)
    response = build_client(context).cancel_job(job_id)
    cancelled = 200 <= response.status_code < 300
    logger.info(
        "Cancelled the job of a stopped execution" if cancelled else "The job was no longer running",
        extra={"status": status, "status_code": response.status_code},
    )
    return {"cancelled": cancelled, "jobId": job_id, "statusCode": response.status_code}
