"""getJob: read a job's status; statuses pass through untouched."""
from .common import build_client, logger, parse_event, start_invocation


def handler(event, context):
    start_invocation(event, context)
    request = parse_event(event, "getJob", "GET")
    job_id = request.path_parameter("jobId")
    logger.append_keys(job_id=job_id)
    response = build_client(context).get_job(job_id)
    logger.info("getJob done", extra={"status": response.body.get("status")})
    return response.to_contract()
