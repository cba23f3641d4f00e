"""cancelJob: cancel a job; a 409 (not running any more) is returned, not raised."""
from .common import build_client, logger, parse_event, start_invocation


def handler(event, context):
    start_invocation(event, context)
    request = parse_event(event, "cancelJob", "DELETE")
    job_id = request.path_parameter("jobId")
    logger.append_keys(job_id=job_id)
    response = build_client(context).cancel_job(job_id)
    logger.info("cancelJob done", extra={"status_code": response.status_code})
    return response.to_contract()
