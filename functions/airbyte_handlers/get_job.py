"""getJob: read a job's status; statuses pass through untouched. Under the predictive polling policy (the
`X-Airbyte-Sync-Poll-Policy` instruction) it also says when to poll next (airbyte_client/polling.py)."""

from typing import Any

from airbyte_client import NEXT_POLL_HEADER, POLL_PLAN_HEADER, InvalidRequest, retry
from airbyte_client.polling import AdaptivePolicy, JobHistory, plan_next_poll

from .common import build_client, logger, parse_event, start_invocation

POLICIES = ("adaptive", "predictive")


def handler(event: Any, context: Any) -> dict[str, Any]:
    start_invocation(event, context)
    request = parse_event(event, "getJob", "GET")
    job_id = request.path_parameter("jobId")
    logger.append_keys(job_id=job_id)
    policy = request.instruction("Poll-Policy")  # {name, initialSeconds, elapsedFraction, maxSeconds} or absent
    name = policy.get("name") if isinstance(policy, dict) else None
    if policy is not None and name not in POLICIES:
        raise InvalidRequest(f"X-Airbyte-Sync-Poll-Policy: name must be one of {', '.join(POLICIES)}")
    response = build_client(context).get_job(job_id)
    extra = {"status": response.body.get("status")}
    if name == "predictive":
        plan = plan_next_poll(
            response.body,
            JobHistory.from_json(request.instruction("Job-History")),
            retry.wall_time(),
            AdaptivePolicy.from_json(policy),
        )
        response.headers[NEXT_POLL_HEADER] = plan.next_poll_seconds
        response.headers[POLL_PLAN_HEADER] = plan.to_json()
        extra.update(poll_phase=plan.phase, next_poll_seconds=plan.next_poll_seconds)
    logger.info("getJob done", extra=extra)
    return response.to_contract()
