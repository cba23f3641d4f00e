"""Plain functions over Airbyte's answers: job times, job states, problem bodies. No I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from .validation import TERMINAL_STATUSES

# 409 state-conflict with this message: the server's 60 s wait for the new job id ran out, but the sync was
# already signalled and the job exists (or soon will).
UNKNOWN_OUTCOME_MESSAGE = "could not fulfill request"


def parse_airbyte_time(value: Any) -> float | None:
    """Epoch seconds from Airbyte's startTime/createdAt: ISO-8601 as Java prints it (`2026-12-01T01:30Z`,
    fractions when present), or epoch seconds/milliseconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value / 1000.0 if value > 1e11 else float(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return parse_airbyte_time(float(text))
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def job_id_of(job: Any) -> int | None:
    """The integer jobId of a JobResponse, or None (bools are not ids)."""
    value = job.get("jobId") if isinstance(job, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def is_terminal(job: Any) -> bool:
    return isinstance(job, dict) and job.get("status") in TERMINAL_STATUSES


def is_active(job: Any) -> bool:
    """Not ended: pending, queued, running, incomplete, and any status Airbyte adds later."""
    return job_id_of(job) is not None and not is_terminal(job)


def created_at(job: dict) -> float | None:
    return parse_airbyte_time(job.get("startTime", job.get("createdAt")))


def newest_active(jobs: list) -> dict | None:
    """The newest job that has not ended, whatever its type (``jobs`` newest first)."""
    return next((job for job in jobs if is_active(job)), None)


def newest_created_since(jobs: list, job_type: str, since_epoch: float) -> dict | None:
    """The newest job of ``job_type`` created at or after ``since_epoch`` (``jobs`` newest first)."""
    for job in jobs:
        if job_id_of(job) is None or job.get("jobType") != job_type:
            continue
        started = created_at(job)
        if started is not None and started >= since_epoch:
            return job
    return None


def problem_kind(body: Any) -> str:
    """The problem type of an Airbyte error body: its title (`try-again-later`, `state-conflict`, ...)."""
    if not isinstance(body, dict):
        return ""
    title = body.get("title")
    if isinstance(title, str) and title:
        return title.strip().lower()
    kind = body.get("type")
    if isinstance(kind, str) and kind:
        # e.g. ".../reference/errors#409-state-conflict"
        fragment = re.split(r"[#/]", kind.rstrip("/"))[-1].lower()
        return re.sub(r"^\d+-", "", fragment)
    return ""


def problem_message(body: Any, default: str) -> str:
    """Airbyte's human message from a problem body (data.message, detail or message)."""
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return data["message"][:500]
        for key in ("detail", "message", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:500]
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return default


def is_sync_already_running(status_code: int | None, body: Any) -> bool:
    """409 try-again-later: a job (of any type) is running on the connection."""
    if status_code != 409:
        return False
    return problem_kind(body) == "try-again-later" or "already running" in problem_message(body, "").lower()


def is_unknown_outcome_conflict(status_code: int | None, body: Any) -> bool:
    """409 state-conflict after the server gave up waiting for the job id: the job may well exist."""
    return status_code == 409 and UNKNOWN_OUTCOME_MESSAGE in problem_message(body, "").lower()
