"""A local Airbyte: a real HTTP server speaking the jobs and token operations of Airbyte's public API v1.

Tests and the demo point the product at it instead of Airbyte Cloud. It answers with bodies that match
openapi/airbyte-openapi.yml, walks each job through a scripted lifecycle, and can misbehave on purpose
(faults) the way real Airbyte deployments do.

Python use::

    from local_tools.emulator import AirbyteEmulator, JobScript, Fault

    with AirbyteEmulator(base_path="/v1", auth="client_credentials", client_id="cid", client_secret="cs") as emu:
        emu.add_connection(conn_id, script=JobScript.polls("pending", ("running", 3), "succeeded", rows=10, bytes=99))
        emu.inject("createJob", Fault.status(500, job_created=True))
        ...  # call emu.base_url
        assert emu.count("createJob") == 1

Lifecycles (a script is shared by every job of its connection):

- ``JobScript.polls("pending", "queued", ("running", 3), "succeeded")``: createJob answers with the first
  status; then every getJob shows the next entry (an entry ``("running", 3)`` is shown for 3 polls) and the last
  entry sticks. listJobs and cancelJob do not advance the script.
- ``JobScript.timed(duration_seconds=3600, final="succeeded")``: the status follows the emulator clock:
  ``pending`` for ``pending_seconds`` (1 s) after creation, ``running`` until ``duration_seconds``, then ``final``.

``rows``/``bytes`` are what a job reports once it has ended; while running it reports a proportional part.

Faults (``emu.inject(operation, fault, times=1)``) are queued per operationId and each request of that operation
takes the next one. ``job_created=True`` means the request still takes effect behind the fault (createJob makes
the job, getJob advances the script) before the faulty answer goes out.

- ``Fault.status(code, body=None, headers=None, job_created=False)``: answer ``code`` with ``body`` (default: the
  problem body Airbyte sends for that code; for 429 ``{"message": "You are being rate limited."}`` and no
  Retry-After unless ``headers`` sets it).
- ``Fault.reset(job_created=False)``: close the connection without answering.
- ``Fault.delay(seconds, job_created=True)``: take effect at once but answer after ``seconds`` (real time, so the
  client's timeout fires). With ``job_created=False`` it waits, then answers 504 without doing anything.
- ``Fault.truncated_json(job_created=True)``: the real answer cut in half (Content-Length matches the cut).
- ``Fault.not_json(status=200, job_created=False)``: an HTML page instead of JSON.
- ``Fault.status_value("mysterious")``: the real JobResponse with an unknown status value.

Command line (runs until killed; prints the base URL as the first stdout line)::

    python -m local_tools.emulator --port 0 --base-path /api/public/v1 --auth client_credentials \\
        --client-id X --client-secret Y \\
        --connection 6f1c...:pending,running*3,succeeded,rows=1200,bytes=340000 \\
        --connection 0a2b...:timed:3600:succeeded --inactive-connection 9d8e... --running-job 5e6f... \\
        --fault createJob:500:created --fault getJob:429:retry-after=2:times=2

- ``--connection UUID:SCRIPT``. SCRIPT is comma separated: statuses, ``status*N`` for N polls, or a first item
  ``timed:SECONDS[:FINAL]``; items ``rows=N``, ``bytes=N``, ``pending=SECONDS`` set numbers.
- ``--fault OPERATION:KIND[:FLAG...]``. KIND is an HTTP code, ``reset``, ``delay=SECONDS``, ``truncated``,
  ``not-json`` or ``status=VALUE``. FLAGS: ``created`` / ``not-created`` (job_created), ``retry-after=N``,
  ``times=N``.
- Secrets may come from the environment instead of the command line: AIRBYTE_EMULATOR_CLIENT_SECRET,
  AIRBYTE_EMULATOR_TOKEN, AIRBYTE_EMULATOR_PASSWORD.

The emulator never logs credentials; recorded requests carry redacted Authorization headers and token bodies.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local_tools.clock import RealClock

__all__ = ["AirbyteEmulator", "JobScript", "Fault", "EmulatedJob", "RecordedRequest"]

JOB_STATUSES = ("pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled")
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
JOB_TYPES = ("sync", "reset", "refresh", "clear")
AUTH_MODES = ("client_credentials", "bearer", "basic", "none")
ERRORS_URL = "https://reference.airbyte.com/reference/errors"
RATE_LIMITED_BODY = {"message": "You are being rate limited."}

# Problem type and title per HTTP status, as in Airbyte's api-problems.yaml.
PROBLEM_KINDS: dict[int, tuple[str, str, str]] = {
    400: (f"{ERRORS_URL}#bad-request", "bad-request",
          "The request could not be understood by the server due to malformed syntax."),
    401: (f"{ERRORS_URL}#invalid-api-key", "invalid-api-key", "The API key in the Authorization header is invalid."),
    403: (f"{ERRORS_URL}#forbidden", "forbidden", "The request is forbidden."),
    404: (f"{ERRORS_URL}#resource-not-found", "resource-not-found", "The requested resource could not be found."),
    409: (f"{ERRORS_URL}#409-state-conflict", "state-conflict", "State conflict"),
    422: (f"{ERRORS_URL}#unprocessable-entity", "unprocessable-entity", "The body of the request was not understood"),
    500: (ERRORS_URL, "unexpected-problem", "An unexpected problem has occurred."),
    503: (f"{ERRORS_URL}#service-unavailable", "service-unavailable", "The service is unavailable."),
    504: (f"{ERRORS_URL}#request-timeout", "request-timeout", "The request timed out."),
}
TRY_AGAIN_LATER = (f"{ERRORS_URL}#try-again-later", "try-again-later", "Please try again later.")


def problem(status: int, message: str, kind: tuple[str, str, str] | None = None, **data: Any) -> dict:
    """A problem-JSON body: {status, type, title, detail, documentationUrl, data: {message, ...}}."""
    type_url, title, detail = kind or PROBLEM_KINDS.get(status, (ERRORS_URL, "error", "An error occurred."))
    return {"status": status, "type": type_url, "title": title, "detail": detail,
            "documentationUrl": type_url, "data": {"message": message, **data}}


def iso_timestamp(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: float) -> str:
    """ISO-8601 duration as Airbyte prints it, e.g. PT1H2M3S (whole seconds)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def parse_instant(text: str) -> float:
    """An ISO-8601 date-time (Z or offset) or epoch milliseconds (Airbyte's own examples use those)."""
    if text.isdigit():
        return int(text) / 1000.0
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
        return isinstance(value, str)
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------- lifecycle scripts

@dataclass(frozen=True)
class JobScript:
    """How a job's status evolves: per getJob poll ("polls") or by clock time ("timed")."""

    kind: str
    statuses: tuple[str, ...] = ()  # polls: one entry per poll, the last one sticks
    duration_seconds: float = 0.0  # timed: creation to final status
    final: str = "succeeded"
    pending_seconds: float = 1.0  # timed: how long a new job stays pending
    rows: int = 0
    bytes: int = 0

    @classmethod
    def polls(cls, *steps: str | tuple[str, int], rows: int = 0, bytes: int = 0) -> "JobScript":  # noqa: A002
        statuses: list[str] = []
        for step in steps:
            status, repeat = (step, 1) if isinstance(step, str) else step
            statuses.extend([status] * int(repeat))
        if not statuses:
            raise ValueError("a polls script needs at least one status")
        return cls(kind="polls", statuses=tuple(statuses), final=statuses[-1], rows=rows, bytes=bytes)

    @classmethod
    def timed(cls, duration_seconds: float, final: str = "succeeded", rows: int = 0, bytes: int = 0,  # noqa: A002
              pending_seconds: float = 1.0) -> "JobScript":
        return cls(kind="timed", duration_seconds=float(duration_seconds), final=final,
                   pending_seconds=min(float(pending_seconds), float(duration_seconds)), rows=rows, bytes=bytes)

    @classmethod
    def parse(cls, text: str) -> "JobScript":
        """The command-line syntax: 'pending,running*3,succeeded,rows=5' or 'timed:3600:succeeded,bytes=9'."""
        steps: list[tuple[str, int]] = []
        numbers: dict[str, float] = {}
        timed: list[str] | None = None
        for item in (part.strip() for part in text.split(",") if part.strip()):
            if "=" in item:
                name, value = item.split("=", 1)
                if name not in ("rows", "bytes", "pending"):
                    raise ValueError(f"unknown script option {name!r}")
                numbers[name] = float(value)
            elif item.startswith("timed:"):
                timed = item.split(":")[1:]
            else:
                status, _, repeat = item.partition("*")
                steps.append((status, int(repeat or 1)))
        rows, size = int(numbers.get("rows", 0)), int(numbers.get("bytes", 0))
        if timed is not None:
            final = timed[1] if len(timed) > 1 else "succeeded"
            return cls.timed(float(timed[0]), final=final, rows=rows, bytes=size,
                             pending_seconds=numbers.get("pending", 1.0))
        return cls.polls(*steps, rows=rows, bytes=size)

    @property
    def first_status(self) -> str:
        return self.statuses[0] if self.kind == "polls" else ("pending" if self.pending_seconds > 0 else "running")


RUNNING_FOREVER = JobScript.polls("running")
DEFAULT_SCRIPT = JobScript.polls("pending", "running", "succeeded", rows=100, bytes=10_000)


@dataclass
class EmulatedJob:
    """One Airbyte job as the emulator tracks it. Times are epoch seconds on the emulator's clock."""

    job_id: int
    connection_id: str
    job_type: str
    script: JobScript
    created_at: float
    clock: Any = field(repr=False)
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
        self.cancelled_at = self.ended_at = self.updated_at = self.clock.now()

    def _timed_status(self, now: float) -> str:
        elapsed = now - self.created_at
        if elapsed < self.script.pending_seconds:
            return "pending"
        return "running" if elapsed < self.script.duration_seconds else self.script.final

    def _timed_times(self) -> tuple[float, float | None]:
        """(updated_at, ended_at) of a timed job, derived from the clock."""
        status = self.status
        if status == "pending":
            return self.created_at, None
        if status == "running":
            return self.created_at + self.script.pending_seconds, None
        end = self.created_at + self.script.duration_seconds
        return end, end

    def _progress(self, now: float) -> float:
        """How far through its work the job is, 0..1, for the rows/bytes reported while running."""
        if self.script.kind == "timed":
            run = self.script.duration_seconds - self.script.pending_seconds
            done = now - self.created_at - self.script.pending_seconds
            return 1.0 if run <= 0 else min(1.0, max(0.0, done / run))
        statuses = self.script.statuses
        shown = min(self.polls_seen, len(statuses))
        return shown / len(statuses)

    def to_response(self) -> dict:
        """The JobResponse body for this job."""
        now = self.clock.now()
        status = self.status
        updated_at, ended_at = self.updated_at, self.ended_at
        if self.script.kind == "timed" and self.cancelled_at is None:
            updated_at, ended_at = self._timed_times()
        body: dict[str, Any] = {
            "jobId": self.job_id, "status": status, "jobType": self.job_type,
            "startTime": iso_timestamp(self.created_at), "connectionId": self.connection_id,
            "lastUpdatedAt": iso_timestamp(updated_at),
        }
        if status in ("pending", "queued"):
            body.update(bytesSynced=0, rowsSynced=0)  # no duration before the job starts
            return body
        if status == "succeeded":
            fraction = 1.0
        else:
            fraction = self._progress(ended_at if ended_at is not None else now)
        body["duration"] = iso_duration((ended_at if ended_at is not None else now) - self.created_at)
        body["bytesSynced"] = int(self.script.bytes * fraction)
        body["rowsSynced"] = int(self.script.rows * fraction)
        return body


# ------------------------------------------------------------------------------------------------------ faults

@dataclass(frozen=True)
class Fault:
    """A misbehaviour for one request. Build with the class methods."""

    kind: str  # status | reset | delay | truncated_json | not_json | status_value
    status_code: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    job_created: bool = False  # the request still takes effect behind the fault
    seconds: float = 0.0
    value: str | None = None

    @classmethod
    def status(cls, code: int, body: Any = None, headers: dict[str, str] | None = None,
               job_created: bool = False) -> "Fault":
        return cls("status", status_code=code, body=body, headers=headers, job_created=job_created)

    @classmethod
    def reset(cls, job_created: bool = False) -> "Fault":
        return cls("reset", job_created=job_created)

    @classmethod
    def delay(cls, seconds: float, job_created: bool = True) -> "Fault":
        return cls("delay", seconds=seconds, job_created=job_created)

    @classmethod
    def truncated_json(cls, job_created: bool = True) -> "Fault":
        return cls("truncated_json", job_created=job_created)

    @classmethod
    def not_json(cls, status: int = 200, job_created: bool = False) -> "Fault":
        return cls("not_json", status_code=status, job_created=job_created)

    @classmethod
    def status_value(cls, value: str) -> "Fault":
        return cls("status_value", value=value, job_created=True)

    @classmethod
    def parse(cls, text: str) -> tuple[str, "Fault", int]:
        """Command-line syntax 'OPERATION:KIND[:FLAG...]' -> (operation, fault, times)."""
        operation, kind, *flags = text.split(":")
        options: dict[str, str] = {}
        for flag in flags:
            name, _, value = flag.partition("=")
            options[name] = value
        times = int(options.pop("times", 1) or 1)
        created = True if "created" in options else False if "not-created" in options else None
        headers = {"Retry-After": options["retry-after"]} if "retry-after" in options else None
        name, _, value = kind.partition("=")
        if name.isdigit():
            fault = cls.status(int(name), headers=headers, job_created=bool(created))
        elif name == "reset":
            fault = cls.reset(job_created=bool(created))
        elif name == "delay":
            fault = cls.delay(float(value), job_created=True if created is None else created)
        elif name == "truncated":
            fault = cls.truncated_json(job_created=True if created is None else created)
        elif name == "not-json":
            fault = cls.not_json(job_created=bool(created))
        elif name == "status":
            fault = cls.status_value(value)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        return operation, fault, times


@dataclass
class RecordedRequest:
    """One request as the emulator saw it (Authorization and client_secret redacted)."""

    method: str
    path: str  # relative to the base path, without the query string
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    operation: str | None  # operationId, None when the path matched nothing
    credential: str | None = None  # which credential authenticated it: "token#N", "static-token", "basic"
    fault: str | None = None  # the kind of fault applied to the answer, if any
    status_code: int | None = None  # what the emulator answered (None when the connection was reset)
    at: float = 0.0  # emulator clock time

    def __getitem__(self, key: str) -> Any:  # dict-style access for convenience
        return getattr(self, key)


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list -> JSON; str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class IssuedToken:
    number: int
    expires_at: float
    revoked: bool = False


# ---------------------------------------------------------------------------------------------------- emulator

class AirbyteEmulator:
    """The Airbyte public API (jobs + token) on 127.0.0.1; see the module docstring."""

    def __init__(self, base_path: str = "/v1", auth: str = "client_credentials", client_id: str = "cid",
                 client_secret: str = "csecret", token: str = "static-token", username: str = "u",
                 password: str = "p", token_lifetime_seconds: int = 900, clock: Any = None,
                 first_job_id: int = 1001, host: str = "127.0.0.1", port: int = 0,
                 reject_form_token_requests: bool = False):
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}")
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.auth = auth
        self.token_lifetime_seconds = token_lifetime_seconds
        self.clock = clock or RealClock()
        # Some Airbyte versions answer 401 to form-encoded token requests (apache/airflow#46542).
        self.reject_form_token_requests = reject_form_token_requests
        self._client_id, self._client_secret = client_id, client_secret
        self._static_token, self._username, self._password = token, username, password
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_job_id = first_job_id
        self._tokens: dict[str, IssuedToken] = {}
        self._faults: dict[str, list[Fault]] = {}
        self.connections: dict[str, dict[str, Any]] = {}  # connection id -> {"script", "active"}
        self.jobs: dict[int, EmulatedJob] = {}
        self.cancelled_job_ids: list[int] = []
        self.requests: list[RecordedRequest] = []
        self.base_url: str | None = None

    # --- lifecycle of the server

    def start(self) -> str:
        handler = type("AirbyteEmulatorHandler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True  # a delayed answer must not block stop()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}{self.base_path}"
        # A short poll interval keeps stop() quick (it waits for the serving loop to notice).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="airbyte-emulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "AirbyteEmulator":
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # --- scenario set-up

    def add_connection(self, connection_id: str, script: JobScript | None = None, active: bool = True) -> None:
        with self._lock:
            self.connections[str(connection_id)] = {"script": script or DEFAULT_SCRIPT, "active": active}

    def start_running_job(self, connection_id: str, script: JobScript | None = None, job_type: str = "sync") -> int:
        """A job already in progress (as if started by Airbyte's scheduler); it runs until cancelled by default."""
        with self._lock:
            if connection_id not in self.connections:
                self.add_connection(connection_id)
            return self._create_job(connection_id, job_type, script or RUNNING_FOREVER).job_id

    def inject(self, operation: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(operation, []).extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is now rejected with 401 invalid-api-key."""
        with self._lock:
            for issued in self._tokens.values():
                issued.revoked = True

    def count(self, operation: str) -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.operation == operation)

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.operation == operation]

    # --- request handling (called from the server threads)

    def _create_job(self, connection_id: str, job_type: str, script: JobScript) -> EmulatedJob:
        job = EmulatedJob(job_id=self._next_job_id, connection_id=connection_id, job_type=job_type,
                          script=script, created_at=self.clock.now(), clock=self.clock)
        self._next_job_id += 1
        self.jobs[job.job_id] = job
        return job

    def _take_fault(self, operation: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(operation or "")
            return queue.pop(0) if queue else None

    def _authenticate(self, authorization: str | None) -> str | None:
        """The credential label when the Authorization header is good for this auth mode, else None."""
        if self.auth == "none":
            return "none"
        scheme, _, value = (authorization or "").partition(" ")
        scheme = scheme.lower()
        if self.auth == "basic":
            expected = base64.b64encode(f"{self._username}:{self._password}".encode()).decode()
            return "basic" if scheme == "basic" and secrets.compare_digest(value.strip(), expected) else None
        if scheme != "bearer":
            return None
        value = value.strip()
        if self.auth == "bearer":
            return "static-token" if secrets.compare_digest(value, self._static_token) else None
        with self._lock:
            issued = self._tokens.get(value)
            if issued is None or issued.revoked or self.clock.now() >= issued.expires_at:
                return None
            return f"token#{issued.number}"

    def _issue_token(self, body: Any, content_type: str) -> Answer:
        if content_type.startswith("application/x-www-form-urlencoded") and self.reject_form_token_requests:
            return Answer(401, problem(401, "Form-encoded token requests are not accepted."))
        if not isinstance(body, dict):
            return Answer(400, problem(400, "The token request body must be a JSON object."))
        grant = body.get("grant-type", body.get("grant_type", "client_credentials"))
        if grant != "client_credentials":
            return Answer(400, problem(400, "grant-type must be client_credentials."))
        client_id, client_secret = str(body.get("client_id", "")), str(body.get("client_secret", ""))
        if not (secrets.compare_digest(client_id, self._client_id)
                and secrets.compare_digest(client_secret, self._client_secret)):
            return Answer(401, problem(401, "Invalid client credentials."))
        with self._lock:
            access_token = "emu_" + secrets.token_urlsafe(24)
            self._tokens[access_token] = IssuedToken(number=len(self._tokens) + 1,
                                                     expires_at=self.clock.now() + self.token_lifetime_seconds)
        return Answer(200, {"access_token": access_token, "token_type": "Bearer",
                            "expires_in": self.token_lifetime_seconds})

    def _handle_create_job(self, body: Any) -> Answer:
        if not isinstance(body, dict):
            return Answer(400, problem(400, "The request body must be a JSON object."))
        connection_id, job_type = body.get("connectionId"), body.get("jobType")
        if not is_uuid(connection_id):
            return Answer(400, problem(400, "connectionId must be a UUID."))
        if job_type not in JOB_TYPES:
            return Answer(400, problem(400, f"jobType must be one of {', '.join(JOB_TYPES)}."))
        if job_type == "refresh":
            return Answer(422, problem(422, "Refreshes are not supported in the public API"))
        with self._lock:
            connection = self.connections.get(connection_id)
            if connection is None:
                return Answer(404, problem(404, f"Could not find a connection with id: {connection_id}",
                                           resourceType="connection", resourceId=connection_id))
            if not connection["active"]:
                return Answer(409, problem(409, f"Connection {connection_id} is not active."))
            if any(job.connection_id == connection_id and not job.terminal for job in self.jobs.values()):
                return Answer(409, problem(409, f"A sync is already running for: {connection_id}",
                                           kind=TRY_AGAIN_LATER))
            job = self._create_job(connection_id, job_type, connection["script"])
            return Answer(200, job.to_response())

    def _find_job(self, job_id_text: str) -> EmulatedJob | Answer:
        if not re.fullmatch(r"-?\d+", job_id_text):
            return Answer(400, problem(400, f"jobId must be an integer, got: {job_id_text}"))
        job = self.jobs.get(int(job_id_text))
        if job is None:
            return Answer(404, problem(404, f"Could not find a job with id: {job_id_text}",
                                       resourceType="job", resourceId=job_id_text))
        return job

    def _handle_get_job(self, job_id_text: str) -> Answer:
        with self._lock:
            job = self._find_job(job_id_text)
            if isinstance(job, Answer):
                return job
            job.record_poll()
            return Answer(200, job.to_response())

    def _handle_cancel_job(self, job_id_text: str) -> Answer:
        with self._lock:
            job = self._find_job(job_id_text)
            if isinstance(job, Answer):
                return job
            if job.terminal:
                return Answer(409, problem(409, "Job is not currently running"))
            job.cancel()
            self.cancelled_job_ids.append(job.job_id)
            return Answer(200, job.to_response())

    def _handle_list_jobs(self, query: dict[str, Any]) -> Answer:
        def bad(message: str) -> Answer:
            return Answer(400, problem(400, message))

        try:
            limit = int(query.get("limit", 20))
            offset = int(query.get("offset", 0))
        except ValueError:
            return bad("limit and offset must be integers.")
        if not 1 <= limit <= 100 or offset < 0:
            return bad("limit must be between 1 and 100 and offset at least 0.")
        order_field, _, direction = query.get("orderBy", "createdAt|ASC").partition("|")
        direction = (direction or "ASC").upper()
        if order_field not in ("createdAt", "updatedAt") or direction not in ("ASC", "DESC"):
            return bad("orderBy must look like createdAt|DESC or updatedAt|ASC.")
        if "status" in query and query["status"] not in JOB_STATUSES:
            return bad(f"Unknown status: {query['status']}")
        if "jobType" in query and query["jobType"] not in JOB_TYPES:
            return bad(f"Unknown jobType: {query['jobType']}")
        try:
            bounds = {name: parse_instant(query[name]) for name in
                      ("createdAtStart", "createdAtEnd", "updatedAtStart", "updatedAtEnd") if name in query}
        except ValueError:
            return bad("Date filters must be ISO-8601 date-times.")

        with self._lock:
            rows = []
            for job in self.jobs.values():
                response = job.to_response()
                created, updated = job.created_at, parse_instant(response["lastUpdatedAt"])
                if (("connectionId" in query and job.connection_id != query["connectionId"])
                        or ("status" in query and response["status"] != query["status"])
                        or ("jobType" in query and job.job_type != query["jobType"])
                        or created < bounds.get("createdAtStart", float("-inf"))
                        or created > bounds.get("createdAtEnd", float("inf"))
                        or updated < bounds.get("updatedAtStart", float("-inf"))
                        or updated > bounds.get("updatedAtEnd", float("inf"))):
                    continue
                sort_key = (created if order_field == "createdAt" else updated, job.job_id)
                rows.append((sort_key, response))
        rows.sort(key=lambda row: row[0], reverse=direction == "DESC")
        page = [response for _, response in rows[offset:offset + limit]]
        body: dict[str, Any] = {"data": page}
        if offset + limit < len(rows):
            body["next"] = self._list_url(query, limit, offset + limit)
        if offset > 0:
            body["previous"] = self._list_url(query, limit, max(0, offset - limit))
        return Answer(200, body)

    def _list_url(self, query: dict[str, Any], limit: int, offset: int) -> str:
        params = {**query, "limit": limit, "offset": offset}
        return f"{self.base_url}/jobs?{urlencode(params, doseq=True)}"

    def _route(self, method: str, path: str) -> tuple[str | None, str | None]:
        """(operationId, jobId text) for a path relative to the base path."""
        if path == "/applications/token" and method == "POST":
            return "createAccessToken", None
        if path == "/jobs":
            return {"POST": "createJob", "GET": "listJobs"}.get(method), None
        match = re.fullmatch(r"/jobs/([^/]+)", path)
        if match:
            return {"GET": "getJob", "DELETE": "cancelJob"}.get(method), match.group(1)
        return None, None

    def _answer(self, operation: str, job_id_text: str | None, query: dict, body: Any, content_type: str,
                authorization: str | None) -> tuple[Answer, str | None]:
        """The answer the API would give (no faults), and the credential used."""
        if operation == "createAccessToken":
            return self._issue_token(body, content_type), None
        credential = self._authenticate(authorization)
        if credential is None:
            return Answer(401, problem(401, "Invalid or expired credentials.")), None
        if operation == "createJob":
            return self._handle_create_job(body), credential
        if operation == "listJobs":
            return self._handle_list_jobs(query), credential
        if operation == "getJob":
            return self._handle_get_job(job_id_text or ""), credential
        return self._handle_cancel_job(job_id_text or ""), credential

    def _default_fault_body(self, code: int) -> Any:
        if code == 429:
            return RATE_LIMITED_BODY
        if code == 409:
            return problem(409, "Could not get a job id for the request in time.")
        if code == 404:
            return problem(404, "Emulated error 404.", resourceType="job", resourceId="unknown")
        return problem(code, f"Emulated error {code}.")


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into emulator calls. HTTP/1.0: one request per connection, so a reset is clean."""

    emulator: AirbyteEmulator  # set on the subclass made by AirbyteEmulator.start()
    server_version = "AirbyteEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet: the recorded requests are the log, and URLs could carry tokens

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        emu = self.emulator
        url = urlsplit(self.path)
        query = {name: values[0] if len(values) == 1 else values
                 for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        content_type = self.headers.get("Content-Type", "")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = _parse_body(raw, content_type)

        relative = url.path[len(emu.base_path):] if url.path.startswith(emu.base_path + "/") else None
        operation, job_id_text = emu._route(self.command, relative) if relative is not None else (None, None)
        record = RecordedRequest(method=self.command, path=relative if relative is not None else url.path,
                                 query=query, headers=_redacted_headers(self.headers), body=_redacted_body(body),
                                 operation=operation, at=emu.clock.now())
        with emu._lock:
            emu.requests.append(record)
        if operation is None:
            self._send(record, Answer(404, problem(404, f"No route for {self.command} {url.path}",
                                                   resourceType="path", resourceId=url.path)))
            return

        fault = emu._take_fault(operation)
        record.fault = fault.kind if fault else None
        if fault and not fault.job_created:
            self._send_fault_without_effect(record, fault)
            return
        answer, record.credential = emu._answer(operation, job_id_text, query, body, content_type,
                                                self.headers.get("Authorization"))
        if fault is None:
            self._send(record, answer)
        elif fault.kind == "status":
            self._send(record, Answer(fault.status_code, _fault_body(emu, fault), dict(fault.headers or {})))
        elif fault.kind == "reset":
            self._reset()
        elif fault.kind == "delay":
            emu._stopping.wait(fault.seconds)
            self._send(record, answer, tolerate_gone_client=True)
        elif fault.kind == "truncated_json":
            text = json.dumps(answer.body)
            self._send(record, Answer(answer.status, text[: len(text) // 2], answer.headers))
        elif fault.kind == "not_json":
            self._send(record, _html_answer(fault.status_code or 200))
        elif fault.kind == "status_value":
            if isinstance(answer.body, dict) and "status" in answer.body and answer.status == 200:
                answer.body = {**answer.body, "status": fault.value}
            self._send(record, answer)

    def _send_fault_without_effect(self, record: RecordedRequest, fault: Fault) -> None:
        emu = self.emulator
        if fault.kind == "status":
            self._send(record, Answer(fault.status_code, _fault_body(emu, fault), dict(fault.headers or {})))
        elif fault.kind == "reset":
            self._reset()
        elif fault.kind == "delay":
            emu._stopping.wait(fault.seconds)
            self._send(record, Answer(504, problem(504, "The request timed out.")), tolerate_gone_client=True)
        elif fault.kind == "not_json":
            self._send(record, _html_answer(fault.status_code or 200))
        else:  # truncated_json without effect: a cut problem body
            text = json.dumps(problem(500, "Emulated error 500."))
            self._send(record, Answer(500, text[: len(text) // 2]))

    def _send(self, record: RecordedRequest, answer: Answer, tolerate_gone_client: bool = False) -> None:
        record.status_code = answer.status
        if answer.body is None:
            payload = b""
        elif isinstance(answer.body, str):
            payload = answer.body.encode()
        else:
            payload = json.dumps(answer.body).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            if not tolerate_gone_client:
                raise

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _fault_body(emu: AirbyteEmulator, fault: Fault) -> Any:
    return fault.body if fault.body is not None else emu._default_fault_body(fault.status_code or 500)


def _html_answer(status: int) -> Answer:
    page = "<html><head><title>Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    return Answer(status, page, content_type="text/html")


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {name: values[0] for name, values in parse_qs(text).items()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _redacted_headers(headers: Any) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if value else ""
            value = f"{scheme} <redacted>"
        redacted[name] = value
    return redacted


def _redacted_body(body: Any) -> Any:
    if isinstance(body, dict) and "client_secret" in body:
        return {**body, "client_secret": "<redacted>"}
    return body


# --------------------------------------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_tools.emulator",
                                     description="Run the Airbyte emulator until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--base-path", default="/v1")
    parser.add_argument("--auth", choices=AUTH_MODES, default="client_credentials")
    parser.add_argument("--client-id", default="cid")
    parser.add_argument("--client-secret", default=os.environ.get("AIRBYTE_EMULATOR_CLIENT_SECRET", "csecret"))
    parser.add_argument("--token", default=os.environ.get("AIRBYTE_EMULATOR_TOKEN", "static-token"))
    parser.add_argument("--username", default="u")
    parser.add_argument("--password", default=os.environ.get("AIRBYTE_EMULATOR_PASSWORD", "p"))
    parser.add_argument("--token-lifetime", type=int, default=900)
    parser.add_argument("--connection", action="append", default=[], metavar="UUID:SCRIPT")
    parser.add_argument("--inactive-connection", action="append", default=[], metavar="UUID")
    parser.add_argument("--running-job", action="append", default=[], metavar="UUID",
                        help="a job already running on this connection (createJob then answers 409)")
    parser.add_argument("--fault", action="append", default=[], metavar="OPERATION:KIND[:FLAG...]")
    args = parser.parse_args(argv)

    emu = AirbyteEmulator(base_path=args.base_path, auth=args.auth, client_id=args.client_id,
                          client_secret=args.client_secret, token=args.token, username=args.username,
                          password=args.password, token_lifetime_seconds=args.token_lifetime,
                          host=args.host, port=args.port)
    for spec in args.connection:
        connection_id, _, script = spec.partition(":")
        emu.add_connection(connection_id, script=JobScript.parse(script) if script else None)
    for connection_id in args.inactive_connection:
        emu.add_connection(connection_id, active=False)
    for connection_id in args.running_job:
        emu.start_running_job(connection_id)
    for spec in args.fault:
        operation, fault, times = Fault.parse(spec)
        emu.inject(operation, fault, times=times)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(emu.start(), flush=True)
    try:
        stopped.wait()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
