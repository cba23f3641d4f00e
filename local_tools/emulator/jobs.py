"""One emulated job's lifecycle (status, times, progress) and its JobResponse body, as Airbyte renders it.

Times are epoch seconds on the emulator clock with their sub-second part, like the database's timestamps; the
body shows whole seconds, like JobResponseMapper.kt (``Instant.ofEpochSecond(jobRead.createdAt)``):

- ``startTime``: the creation time; ``lastUpdatedAt``: the last status change, for terminal jobs only;
- ``duration``: last status change minus creation (``Duration.ofSeconds(updatedAt - createdAt)``), absent while
  ``pending``; so a running job's duration is the time it took to start, not how long it has run;
- ``bytesSynced``/``rowsSynced``: only where the server hydrates stats (getJob, listJobs), never in the answers of
  createJob and cancelJob (``JobConverter.getJobInfoRead``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from .scripts import DEFAULT_SCRIPT, PRE_ATTEMPT_STATUSES, TERMINAL_STATUSES, JobScript
from .timefmt import format_duration, format_offset_date_time

__all__ = ["EmulatedJob", "EmulatedConnection", "Clock"]


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass
class EmulatedConnection:
    """A connection the emulator knows; its script drives every job it runs."""

    connection_id: str
    script: JobScript = DEFAULT_SCRIPT
    active: bool = True
    # What listConnections shows (connections.py): a name, its workspace, the names of its tags, when it was made.
    name: str = ""
    workspace_id: str = ""
    tags: tuple[str, ...] = ()
    deleted: bool = False
    created_at: int = 0


@dataclass
class EmulatedJob:
    """One Airbyte job as the emulator tracks it."""

    job_id: int
    connection_id: str
    job_type: str
    script: JobScript
    created_at: float  # may lie ahead of the clock: a job a slow createJob left to appear later
    clock: Clock = field(repr=False)
    polls_seen: int = 0  # getJob answers given so far (polls scripts advance with these)
    updated_at: float = 0.0  # when the status last changed
    ended_at: float | None = None
    cancelled_at: float | None = None
    _shown_status: str = ""

    def __post_init__(self) -> None:
        self.updated_at = self.created_at
        self._shown_status = self.script.first_status
        if self._shown_status in TERMINAL_STATUSES:  # a script may start (and stay) terminal
            self.ended_at = self.created_at

    @property
    def visible(self) -> bool:
        """Whether the job exists yet for the API (getJob, listJobs, cancellation)."""
        return self.clock.now() >= self.created_at

    @property
    def status(self) -> str:
        """The status right now (without counting a poll)."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.script.kind == "timed":
            return self._timed_status(self.clock.now())
        return self._shown_status

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def before_first_attempt(self) -> bool:
        """pending or queued: created, no attempt yet (the server hands such a sync job to a new request)."""
        return self.status in PRE_ATTEMPT_STATUSES

    def record_poll(self) -> None:
        """A getJob poll: a polls script moves to its next entry."""
        self.polls_seen += 1
        if self.script.kind != "polls" or self.cancelled_at is not None:
            return
        step = self.script.statuses[min(self.polls_seen - 1, len(self.script.statuses) - 1)]
        if step != self._shown_status:
            now = self.clock.now()
            self._shown_status, self.updated_at = step, now
            if step in TERMINAL_STATUSES:
                self.ended_at = now

    def cancel(self) -> None:
        """Cancelled now; a job that already ended keeps its end (the server never moves a terminal job)."""
        if self.terminal:
            return
        self.cancelled_at = self.ended_at = self.updated_at = self.clock.now()

    def _timed_status(self, now: float) -> str:
        elapsed = now - self.created_at
        if elapsed < self.script.pending_seconds:
            return "pending"
        return "running" if elapsed < self.script.duration_seconds else self.script.final

    def _times(self) -> tuple[float, float | None]:
        """(updated_at, ended_at) right now."""
        if self.script.kind != "timed" or self.cancelled_at is not None:
            return self.updated_at, self.ended_at
        status = self.status
        if status == "pending":
            return self.created_at, None
        if status == "running":
            return self.created_at + self.script.pending_seconds, None
        end = self.created_at + self.script.duration_seconds
        return end, end

    @property
    def finished_at(self) -> float | None:
        """When the job ended (a timed job ends on its own, polled or not), or None while it runs."""
        return self._times()[1]

    @property
    def last_updated_at(self) -> float:
        """When the status last changed (the jobs table's updated_at): what updatedAt filters compare."""
        return self._times()[0]

    def _progress(self, now: float) -> float:
        """How far through its work the job is, 0..1, for the rows/bytes committed so far."""
        if self.script.kind == "timed":
            run = self.script.duration_seconds - self.script.pending_seconds
            done = now - self.created_at - self.script.pending_seconds
            return 1.0 if run <= 0 else min(1.0, max(0.0, done / run))
        statuses = self.script.statuses
        return min(self.polls_seen, len(statuses)) / len(statuses)

    def to_response(self, with_stats: bool) -> dict[str, Any]:
        """The JobResponse body; ``with_stats`` for getJob and listJobs (see the module docstring)."""
        status = self.status
        updated_at, ended_at = self._times()
        created_second, updated_second = math.floor(self.created_at), math.floor(updated_at)
        body: dict[str, Any] = {
            "jobId": self.job_id,
            "status": status,
            "jobType": self.job_type,
            "startTime": format_offset_date_time(created_second),
            "connectionId": self.connection_id,
        }
        if status in TERMINAL_STATUSES:
            body["lastUpdatedAt"] = format_offset_date_time(updated_second)
        if status != "pending":
            body["duration"] = format_duration(updated_second - created_second)
        if with_stats:
            if status in PRE_ATTEMPT_STATUSES:
                fraction = 0.0
            elif status == "succeeded":
                fraction = 1.0
            else:
                fraction = self._progress(ended_at if ended_at is not None else self.clock.now())
            body["bytesSynced"] = int(self.script.bytes * fraction)
            body["rowsSynced"] = int(self.script.rows * fraction)
        return body
