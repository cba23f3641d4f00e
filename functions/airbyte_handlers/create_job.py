"""createJob: trigger one job for the connection, or adopt the one of this type already running, or report the
job of another type the state machine must wait for."""

from typing import Any

from airbyte_client import ACTIVE_JOB_ID_HEADER, ATTACHED_HEADER, InvalidRequest, retry

from .common import build_client, logger, parse_event, start_invocation

RETRY_LOOKBACK_WITHOUT_ENTERED_TIME_SECONDS = 900


def handler(event: Any, context: Any) -> dict[str, Any]:
    start_invocation(event, context)
    request = parse_event(event, "createJob", "POST")
    body = request.body
    if not isinstance(body, dict):
        raise InvalidRequest("createJob needs a body with connectionId and jobType")
    # A Step Functions retry of this Lambda may follow an attempt that did create the job.
    look_since = None
    if request.retry_count > 0:
        look_since = request.state_entered_epoch
        if look_since is None:
            logger.warning("retryCount > 0 without a stateEnteredTime; looking back over the last 15 minutes")
            look_since = retry.wall_time() - RETRY_LOOKBACK_WITHOUT_ENTERED_TIME_SECONDS
    response = build_client(context).create_job(
        body.get("connectionId"), body.get("jobType"), look_for_job_since=look_since
    )
    job = response.body if isinstance(response.body, dict) else {}
    if response.status_code == 200:
        logger.append_keys(job_id=job.get("jobId"))
    logger.info(
        "createJob done",
        extra={
            "status_code": response.status_code,
            "status": job.get("status"),
            "attached": response.headers.get(ATTACHED_HEADER),
            "active_job_id": response.headers.get(ACTIVE_JOB_ID_HEADER),
        },
    )
    return response.to_contract()
