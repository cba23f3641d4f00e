"""Plain functions over a Step Functions execution history: which Airbyte job did this execution's createJob give,
and was it the execution's own?"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from airbyte_client import ATTACHED_HEADER
from airbyte_client.jobs import job_id_of


@dataclass(frozen=True)
class CreatedJob:
    job_id: int
    connection_id: Any
    attached: Any  # exactly False when this execution created the job; anything else: not ours to cancel


def _json_object(text: Any) -> dict:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def created_job(events_oldest_first: Iterable[dict]) -> CreatedJob | None:
    """The job of the execution's successful createJob step (a lambda:invoke TaskSucceeded whose Payload answered
    200 with an integer jobId and the attached header only createJob sets). An execution has at most one: after it
    the workflow polls. getJob results (of the job, or of another job the execution waited for) never count."""
    for event in events_oldest_first:
        if event.get("type") != "TaskSucceeded":
            continue
        output = _json_object((event.get("taskSucceededEventDetails") or {}).get("output"))
        payload = output.get("Payload")
        if not isinstance(payload, dict) or payload.get("statusCode") != 200:
            continue
        headers = payload.get("headers")
        body = payload.get("body")
        job_id = job_id_of(body)  # None unless body is a dict
        if isinstance(headers, dict) and ATTACHED_HEADER in headers and isinstance(body, dict) and job_id is not None:
            return CreatedJob(job_id, body.get("connectionId"), headers[ATTACHED_HEADER])
    return None


def history_oldest_first(stepfunctions: Any, execution_arn: str) -> Iterator[dict]:
    """The execution's history, one page at a time (the createJob result is near its start)."""
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "reverseOrder": False, "maxResults": 1000}
    while True:
        page = stepfunctions.get_execution_history(**kwargs)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]
