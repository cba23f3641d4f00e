"""createJob: trigger one sync for the connection (or adopt the one already running)."""
from airbyte_client import InvalidRequest, retry

from .common import build_client, logger, parse_event, start_invocation

RETRY_LOOKBACK_WITHOUT_ENTERED_TIME_SECONDS = 900


def handler(event, context):
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
        body.get("connectionId"), body.get("jobType") or "sync", look_for_job_since=look_since
    )
    job = response.body if isinstance(response.body, dict) else {}
    logger.append_keys(job_id=job.get("jobId"))
    logger.info(
        "createJob done",
        extra={"status": job.get("status"), "attached": response.headers.get("x-airbyte-sync-attached")},
    )
    return response.to_contract()
