"""listJobs (GET /jobs): parameters bound and checked as Airbyte's server does, filters, order and pages.

- Values Micronaut cannot convert answer 400 with its JsonError: ``limit``/``offset`` that are no int32,
  ``jobType``/``status`` outside their enums, date filters that ``ISO_OFFSET_DATE_TIME`` refuses (epoch
  milliseconds, the published spec's own example, included). An empty value counts as absent.
- ``limit`` outside 1..100 or a negative ``offset`` fail bean validation: 400 ``{"errorId"}``.
- ``connectionId`` of no connection: 403 (the role check, JobsController.kt), before ``orderBy`` is read.
- ``orderBy`` is searched (Matcher.find) for ``([a-zA-Z0-9]+)\\|(ASC|DESC)`` and the field must name createdAt
  or updatedAt, compared without case (Enums.kt ``toEnum``); otherwise 400 bad-request
  "Invalid order by clause provided: <orderBy>" (JobsHelper.kt). Absent: createdAt ASC.
- Pages as PaginationMapper.kt builds them: ``next`` is offset+limit whenever the page is not empty (an empty
  string once it is), ``previous`` is an empty string at offset 0; both carry only jobType, connectionId, limit
  and offset, and ``previous`` repeats ``limit`` when ``next`` was built (the two share one UriBuilder).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from .jobs import EmulatedJob
from .operations import JobOperations, canonical_uuid
from .problems import Answer, conversion_error, error_id, forbidden, problem
from .scripts import JOB_STATUSES, JOB_TYPES
from .timefmt import DateTimeParseError, parse_offset_date_time

__all__ = ["list_jobs"]

ORDER_BY = re.compile(r"([a-zA-Z0-9]+)\|(ASC|DESC)")
ORDER_FIELDS = {"createdat": "createdAt", "updatedat": "updatedAt"}
DATE_FILTERS = ("createdAtStart", "createdAtEnd", "updatedAtStart", "updatedAtEnd")
INT32 = (-(2**31), 2**31 - 1)


def list_jobs(operations: JobOperations, query: dict[str, list[str]], request_uri: str, jobs_url: str) -> Answer:
    params = {name: values[0] for name, values in query.items() if values and values[0] != ""}
    bound = _bind(params, request_uri)
    if isinstance(bound, Answer):
        return bound
    limit, offset, job_type, status, bounds = bound
    if not 1 <= limit <= 100 or offset < 0:
        return error_id(400)
    with operations.lock:
        connection_id = params.get("connectionId")
        if connection_id is not None:
            connection_id = canonical_uuid(connection_id)
            if connection_id not in operations.connections:
                return forbidden("WORKSPACE_READER")
        order = _order_by(params.get("orderBy"))
        if isinstance(order, Answer):
            return order
        order_field, descending = order
        rows: list[tuple[tuple[float, int], dict[str, Any]]] = []
        for job in operations.jobs.values():
            if job.visible and _selected(job, connection_id, job_type, status, bounds):
                moment = job.created_at if order_field == "createdAt" else job.last_updated_at
                rows.append(((moment, job.job_id), job.to_response(with_stats=True)))
    rows.sort(key=lambda row: row[0], reverse=descending)
    page = [body for _, body in rows[offset : offset + limit]]
    return Answer(200, _page(page, jobs_url, job_type, connection_id, limit, offset))


def _bind(
    params: dict[str, str], request_uri: str
) -> tuple[int, int, str | None, str | None, dict[str, float]] | Answer:
    """The arguments in the order Micronaut binds them; the first that does not convert answers."""
    numbers: dict[str, int] = {}
    for name, default in (("limit", 20), ("offset", 0)):
        text = params.get(name)
        value = default if text is None else _int32(text)
        if value is None:
            return conversion_error(request_uri, name, text, f'For input string: "{text}"')
        numbers[name] = value
    enums: dict[str, str | None] = {}
    for name, allowed in (("jobType", JOB_TYPES), ("status", JOB_STATUSES)):
        text = params.get(name)
        enums[name] = None if text is None else _enum_value(text, allowed)
        if text is not None and enums[name] is None:
            return conversion_error(request_uri, name, text, f"No enum constant for value: {text}")
    bounds: dict[str, float] = {}
    for name in DATE_FILTERS:
        if name in params:
            try:
                bounds[name] = parse_offset_date_time(params[name])
            except DateTimeParseError as error:
                return conversion_error(request_uri, name, params[name], str(error))
    return numbers["limit"], numbers["offset"], enums["jobType"], enums["status"], bounds


def _int32(text: str) -> int | None:
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        return None
    value = int(text)
    return value if INT32[0] <= value <= INT32[1] else None


def _enum_value(text: str, allowed: tuple[str, ...]) -> str | None:
    """Micronaut's String -> enum: the constant's name (RUNNING), its upper-snake form, or its value (running)."""
    upper = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).upper()
    for value in allowed:
        if text == value or upper == value.upper():
            return value
    return None


def _order_by(text: str | None) -> tuple[str, bool] | Answer:
    if text is None:
        return "createdAt", False
    match = ORDER_BY.search(text)
    field = ORDER_FIELDS.get(re.sub(r"[^a-z0-9]", "", match.group(1).lower())) if match else None
    if match is None or field is None:
        return Answer(400, problem(400, f"Invalid order by clause provided: {text}"))
    return field, match.group(2) == "DESC"


def _selected(
    job: EmulatedJob, connection_id: str | None, job_type: str | None, status: str | None, bounds: dict[str, float]
) -> bool:
    created, updated = job.created_at, job.last_updated_at
    return (
        (connection_id is None or job.connection_id == connection_id)
        and (job_type is None or job.job_type == job_type)
        and (status is None or job.status == status)
        and created >= bounds.get("createdAtStart", float("-inf"))
        and created <= bounds.get("createdAtEnd", float("inf"))
        and updated >= bounds.get("updatedAtStart", float("-inf"))
        and updated <= bounds.get("updatedAtEnd", float("inf"))
    )


def _page(
    page: list[dict[str, Any]], jobs_url: str, job_type: str | None, connection_id: str | None, limit: int, offset: int
) -> dict[str, Any]:
    base: list[tuple[str, Any]] = [
        (name, value) for name, value in (("jobType", job_type), ("connectionId", connection_id)) if value
    ]
    limits = [("limit", limit)]
    next_url = ""
    if page:
        next_url = f"{jobs_url}?{urlencode(base + limits + [('offset', offset + limit)])}"
        limits = limits * 2
    previous_url = ""
    if offset != 0:
        previous_url = f"{jobs_url}?{urlencode(base + limits + [('offset', max(offset - limit, 0))])}"
    return {"next": next_url, "previous": previous_url, "data": page}
