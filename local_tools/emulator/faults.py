"""Faults: one request's misbehaviour, the way real Airbyte deployments and the networks before them misbehave.

Faults are queued per operationId (``emu.inject(operation, fault, times=1)``); each request of that operation
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
- ``Fault.slow_create(visible_after_seconds=0)`` (createJob only): the server's 60 s wait for the new job id runs
  out (TemporalClient.kt). The sync was signalled, so the job is created and runs, yet the answer is 409
  state-conflict "Could not fulfill request". The job appears in getJob/listJobs ``visible_after_seconds`` later
  on the emulator clock (its startTime is then). It only applies where the server would start a new sync job;
  otherwise the request is answered as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Fault", "OPERATIONS"]

OPERATIONS = ("createJob", "getJob", "cancelJob", "listJobs", "listConnections", "createAccessToken")


@dataclass(frozen=True)
class Fault:
    """A misbehaviour for one request. Build with the class methods."""

    kind: str  # status | reset | delay | truncated_json | not_json | status_value | slow_create
    status_code: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    job_created: bool = False  # the request still takes effect behind the fault
    seconds: float = 0.0  # delay: real seconds before answering; slow_create: emulator seconds until visible
    value: str | None = None

    @classmethod
    def status(
        cls, code: int, body: Any = None, headers: dict[str, str] | None = None, job_created: bool = False
    ) -> Fault:
        return cls("status", status_code=code, body=body, headers=headers, job_created=job_created)

    @classmethod
    def reset(cls, job_created: bool = False) -> Fault:
        return cls("reset", job_created=job_created)

    @classmethod
    def delay(cls, seconds: float, job_created: bool = True) -> Fault:
        return cls("delay", seconds=seconds, job_created=job_created)

    @classmethod
    def truncated_json(cls, job_created: bool = True) -> Fault:
        return cls("truncated_json", job_created=job_created)

    @classmethod
    def not_json(cls, status: int = 200, job_created: bool = False) -> Fault:
        return cls("not_json", status_code=status, job_created=job_created)

    @classmethod
    def status_value(cls, value: str) -> Fault:
        return cls("status_value", value=value, job_created=True)

    @classmethod
    def slow_create(cls, visible_after_seconds: float = 0.0) -> Fault:
        if visible_after_seconds < 0:
            raise ValueError("visible_after_seconds must be >= 0")
        return cls("slow_create", seconds=float(visible_after_seconds), job_created=True)

    def check_operation(self, operation: str) -> None:
        """A clear error for a fault queued where it cannot apply."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
        if self.kind == "slow_create" and operation != "createJob":
            raise ValueError("Fault.slow_create only applies to createJob")

    @classmethod
    def parse(cls, text: str) -> tuple[str, Fault, int]:
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
        elif name == "slow-create":
            fault = cls.slow_create(float(options.get("visible-after") or 0))
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault.check_operation(operation)
        return operation, fault, times
