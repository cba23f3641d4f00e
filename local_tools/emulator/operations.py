"""createJob, getJob and cancelJob with the rules of Airbyte's server (airbytehq/airbyte-platform).

createJob (JobsController.kt -> SchedulerHandler.kt -> TemporalClient.kt) decides per CONNECTION, whatever the
type of the job already there:

- an id of no connection (or not a UUID): 403, the role check cannot resolve its workspace (RoleResolver.kt);
- ``refresh``: 422 "Refreshes are not supported in the public API";
- ``sync`` on an inactive connection: 409 state-conflict "Could not fulfill request" (the check's message
  "Can only sync an active connection" is an IllegalStateException, which ConfigClientErrorHandler.kt maps to
  its default conflict message);
- ``sync`` while a job of the connection has an attempt (running, incomplete): 409 try-again-later
  "A sync is already running for: <connectionId>";
- ``sync`` while a SYNC job waits before its first attempt (pending, queued): 200 with that job, no new one
  ("manual sync job already created"); while a reset/clear job waits so, the manual-sync signal has no effect and
  the 60 s wait for a new job id runs out: 409 state-conflict "Could not fulfill request", no job is made;
- ``reset``/``clear`` (also on an inactive connection): the reset signal cancels the connection's current job,
  then the new job is answered (200), never 409 try-again-later.

getJob and cancelJob of an id of no job: 403 (WorkspaceHelper.kt cannot find the job's workspace). cancelJob
cancels the connection's CURRENT job (``startNewCancellation(job.scope)``), whichever job it names, then answers
200 with the named job as it is afterwards, also when that job had already ended.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from .faults import Fault
from .jobs import Clock, EmulatedConnection, EmulatedJob
from .problems import Answer, conversion_error, forbidden, problem, state_conflict, try_again_later
from .scripts import JOB_TYPES, RUNNING_FOREVER, JobScript

__all__ = ["JobOperations", "parse_java_long", "canonical_uuid"]

JOB_CREATE_REQUEST = "jobCreateRequest"  # the argument Micronaut binds createJob's body to
LONG_RANGE = (-(2**63), 2**63 - 1)
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_java_long(text: str) -> int | None:
    """``Long.parseLong``: an optional sign and decimal digits within 64 bits, else None."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = int(text)
    return value if LONG_RANGE[0] <= value <= LONG_RANGE[1] else None


class JobOperations:
    """The connections and jobs the emulator knows, and the job operations on them."""

    def __init__(self, clock: Clock, lock: threading.RLock, first_job_id: int):
        self.clock = clock
        self.lock = lock
        self.connections: dict[str, EmulatedConnection] = {}
        self.jobs: dict[int, EmulatedJob] = {}
        self.cancelled_job_ids: list[int] = []
        self._next_job_id = first_job_id

    # --- set-up and bookkeeping

    def new_job(self, connection_id: str, job_type: str, script: JobScript, delay_seconds: float = 0.0) -> EmulatedJob:
        job = EmulatedJob(
            job_id=self._next_job_id,
            connection_id=connection_id,
            job_type=job_type,
            script=script,
            created_at=self.clock.now() + delay_seconds,
            clock=self.clock,
        )
        self._next_job_id += 1
        self.jobs[job.job_id] = job
        return job

    def start_running_job(self, connection_id: str, script: JobScript | None, job_type: str) -> int:
        if connection_id not in self.connections:
            self.connections[connection_id] = EmulatedConnection(connection_id)
        return self.new_job(connection_id, job_type, script or RUNNING_FOREVER).job_id

    def visible_job(self, job_id: int) -> EmulatedJob | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.visible else None

    def _current_job(self, connection_id: str) -> EmulatedJob | None:
        """The connection's newest job that has not ended (one the workflow may still be about to create)."""
        for job in sorted(self.jobs.values(), key=lambda j: j.job_id, reverse=True):
            if job.connection_id == connection_id and not job.terminal:
                return job
        return None

    def _cancel(self, job: EmulatedJob) -> None:
        job.cancel()
        self.cancelled_job_ids.append(job.job_id)

    # --- createJob

    def create_job(self, body: Any, request_uri: str, slow_create: Fault | None = None) -> Answer:
        request = _job_create_request(body, request_uri)
        if isinstance(request, Answer):
            return request
        connection_id, job_type = request
        with self.lock:
            connection = self.connections.get(canonical_uuid(connection_id) or "")
            if connection is None:
                return forbidden()
            if job_type == "refresh":
                return Answer(422, problem(422, "Refreshes are not supported in the public API"))
            if job_type == "sync":
                return self._sync(connection, slow_create)
            return self._reset(connection, job_type)

    def _sync(self, connection: EmulatedConnection, slow_create: Fault | None) -> Answer:
        if not connection.active:
            return state_conflict()
        current = self._current_job(connection.connection_id)
        if current is not None:
            if not current.visible:  # a manual sync already signalled, its job not created yet
                return state_conflict()
            if not current.before_first_attempt:
                return try_again_later(f"A sync is already running for: {connection.connection_id}")
            if current.job_type == "sync":
                return Answer(200, current.to_response(with_stats=False))
            return state_conflict()  # a queued reset/clear: the manual-sync signal is lost, the wait runs out
        if slow_create is not None:
            self.new_job(connection.connection_id, "sync", connection.script, slow_create.seconds)
            return state_conflict()
        job = self.new_job(connection.connection_id, "sync", connection.script)
        return Answer(200, job.to_response(with_stats=False))

    def _reset(self, connection: EmulatedConnection, job_type: str) -> Answer:
        current = self._current_job(connection.connection_id)
        if current is not None:
            if current.visible:
                self._cancel(current)
            else:  # streams to reset are stored first, so the workflow makes the reset job instead of it
                del self.jobs[current.job_id]
        job = self.new_job(connection.connection_id, job_type, connection.script)
        return Answer(200, job.to_response(with_stats=False))

    # --- getJob and cancelJob

    def get_job(self, job_id_text: str, request_uri: str) -> Answer:
        with self.lock:
            job = self._named_job(job_id_text, request_uri, role="WORKSPACE_READER")
            if isinstance(job, Answer):
                return job
            job.record_poll()
            return Answer(200, job.to_response(with_stats=True))

    def cancel_job(self, job_id_text: str, request_uri: str) -> Answer:
        with self.lock:
            named = self._named_job(job_id_text, request_uri, role="WORKSPACE_RUNNER")
            if isinstance(named, Answer):
                return named
            current = self._current_job(named.connection_id)
            if current is not None and current.visible:  # a job not created yet cannot be cancelled
                self._cancel(current)
            return Answer(200, named.to_response(with_stats=False))

    def _named_job(self, job_id_text: str, request_uri: str, role: str) -> EmulatedJob | Answer:
        job_id = parse_java_long(job_id_text)
        if job_id is None:
            return conversion_error(request_uri, "jobId", job_id_text, f'For input string: "{job_id_text}"')
        job = self.visible_job(job_id)
        return forbidden(role) if job is None else job


def _job_create_request(body: Any, request_uri: str) -> tuple[str, str] | Answer:
    """(connectionId, jobType) as Jackson binds JobCreateRequest, or Micronaut's 400."""

    def refused(reason: str) -> Answer:
        return conversion_error(request_uri, JOB_CREATE_REQUEST, None, reason)

    if not isinstance(body, dict):
        return refused("the body is not a JSON object")
    connection_id, job_type = body.get("connectionId"), body.get("jobType")
    if connection_id is None or isinstance(connection_id, (dict, list)):
        return refused("missing or not a text value: connectionId")
    if job_type not in JOB_TYPES:
        return refused(f"jobType must be one of {', '.join(JOB_TYPES)}, got {job_type!r}")
    return str(connection_id), job_type


def canonical_uuid(text: str) -> str | None:
    """The lower-case form of a UUID text (as Java's UUID.fromString reads it), or None when it is not one."""
    if not UUID_TEXT.fullmatch(text):
        return None
    return str(uuid.UUID(text))
