"""Job scripts: how the status of an emulated job evolves, per getJob poll or by the emulator clock."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "JobScript",
    "JOB_STATUSES",
    "TERMINAL_STATUSES",
    "PRE_ATTEMPT_STATUSES",
    "JOB_TYPES",
    "RUNNING_FOREVER",
    "DEFAULT_SCRIPT",
]

JOB_STATUSES = ("pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled")
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})  # JobStatus.kt in airbyte-config
PRE_ATTEMPT_STATUSES = frozenset({"pending", "queued"})  # a job exists, its first attempt does not yet
JOB_TYPES = ("sync", "reset", "refresh", "clear")


def _checked_status(status: str) -> str:
    """Any non-empty text: a status outside JOB_STATUSES stands for one a future server adds (not terminal)."""
    if not isinstance(status, str) or not status:
        raise ValueError(f"a job status is a non-empty text, got {status!r}")
    return status


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
    def polls(cls, *steps: str | tuple[str, int], rows: int = 0, bytes: int = 0) -> JobScript:  # noqa: A002
        statuses: list[str] = []
        for step in steps:
            status, repeat = (step, 1) if isinstance(step, str) else step
            statuses.extend([_checked_status(status)] * int(repeat))
        if not statuses:
            raise ValueError("a polls script needs at least one status")
        return cls(kind="polls", statuses=tuple(statuses), final=statuses[-1], rows=rows, bytes=bytes)

    @classmethod
    def timed(
        cls,
        duration_seconds: float,
        final: str = "succeeded",
        rows: int = 0,
        bytes: int = 0,  # noqa: A002
        pending_seconds: float = 1.0,
    ) -> JobScript:
        if final not in TERMINAL_STATUSES:
            raise ValueError(f"a timed script ends in a terminal status, not {final!r}")
        return cls(
            kind="timed",
            duration_seconds=float(duration_seconds),
            final=final,
            pending_seconds=min(float(pending_seconds), float(duration_seconds)),
            rows=rows,
            bytes=bytes,
        )

    @classmethod
    def parse(cls, text: str) -> JobScript:
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
            return cls.timed(
                float(timed[0]), final=final, rows=rows, bytes=size, pending_seconds=numbers.get("pending", 1.0)
            )
        return cls.polls(*steps, rows=rows, bytes=size)

    @property
    def first_status(self) -> str:
        return self.statuses[0] if self.kind == "polls" else ("pending" if self.pending_seconds > 0 else "running")


RUNNING_FOREVER = JobScript.polls("running")
DEFAULT_SCRIPT = JobScript.polls("pending", "running", "succeeded", rows=100, bytes=10_000)
