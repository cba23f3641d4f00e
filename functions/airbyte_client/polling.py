"""The predictive polling policy, as plain functions: what a connection's recent jobs say about this job's end, and
how long to wait before the next poll. No I/O; the handlers feed them Airbyte's answers and the clock.

1. ``job_history``: from the jobs createJob already lists (newest first), the connection's last succeeded jobs of
   the requested type: how long they ran and how many bytes they committed (typical = median, and the range).
2. ``plan_next_poll``: on every getJob of a running job, where this job's end probably lies, and the wait:
   - **progress** basis, when the connection's volumes are stable (their range within STABLE_VOLUME_SPREAD of
     the typical volume): the job's own rate so far (``bytesSynced`` is what the destination committed, updated
     while the job runs) and the usual volume give the end far better than past durations, which vary with
     throughput;
   - **duration** basis otherwise: the usual range of durations, with waits never more than SLACK_SECONDS
     longer than the adaptive default's (so an unusual early end is seen at most a minute later than by it);
   - phases: ``warmingUp`` (too little progress to trust a rate), ``sparse`` (each wait covers a fraction of
     the time left before the expected window, at most MAX_SPARSE_SECONDS), ``dense`` (every DENSE_SECONDS, or
     wider so that a wide window costs at most DENSE_POLLS polls), then ``pastUsualRange`` (later than the
     longest recent job: no suggestion, the loop's own adaptive formula). No suggestion either without history
     (``noHistory``) or while the job is not running (``notRunning``).

The state machine waits ``nextPollSeconds`` (the loop's `x-loop.suggestedWaitSeconds`), at least its
pollInitialSeconds and never past its deadline; ``None`` means its adaptive formula.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .jobs import created_at, parse_airbyte_time

HISTORY_JOBS = 10  # the newest succeeded jobs of the type that count
MIN_HISTORY_JOBS = 3  # fewer: no prediction (the adaptive default)
STABLE_VOLUME_SPREAD = 0.05  # (most - least) / typical bytes at or below this: volumes are stable
DENSE_SECONDS = 25.0  # the wait around the expected end
DENSE_POLLS = 40  # a progress window wider than DENSE_POLLS x DENSE_SECONDS is polled this many times
DURATION_WINDOW_POLLS = 12  # the same for a window of usual durations (wide: volumes vary)
SPARSE_STEP = 0.75  # a sparse wait covers at most this fraction of the time left before the window
MAX_SPARSE_SECONDS = 1800.0  # ... and at most this long (a job that fails mid-way is seen this late at worst)
# Duration basis: a wait may exceed the adaptive default's by this much. An end earlier than usual is then seen at
# most 60 s later than the default sees it (its own waits grow up to 10 % between two polls: the other 20 s).
SLACK_SECONDS = 40.0
# Committed bytes lag the work done (stats are flushed every 10 s, destinations commit in batches): the rate so far
# may be underestimated by up to COMMIT_LAG_SECONDS / (time running), so a sparse wait shrinks accordingly.
COMMIT_LAG_SECONDS = 60.0
MAX_WARM_UP_SECONDS = 120.0  # progress is trusted after this long running (less for syncs shorter than 40 min)
PAST_RANGE_MARGIN = 0.05  # later than longest x (1 + this) (and two dense waits): the adaptive default

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


@dataclass(frozen=True)
class JobHistory:
    """What the connection's recent succeeded jobs of one type took: seconds from creation to end, and bytes."""

    job_type: str
    samples: int
    typical_seconds: float
    shortest_seconds: float
    longest_seconds: float
    typical_bytes: float | None = None  # None: a job without bytes among them (progress cannot be compared)
    least_bytes: float | None = None
    most_bytes: float | None = None

    @property
    def volumes_stable(self) -> bool:
        if not self.typical_bytes or self.least_bytes is None or self.most_bytes is None:
            return False
        return (self.most_bytes - self.least_bytes) / self.typical_bytes <= STABLE_VOLUME_SPREAD

    def to_json(self) -> dict[str, Any]:
        return {
            "jobType": self.job_type,
            "samples": self.samples,
            "typicalSeconds": round(self.typical_seconds),
            "shortestSeconds": round(self.shortest_seconds),
            "longestSeconds": round(self.longest_seconds),
            "typicalBytes": _whole(self.typical_bytes),
            "leastBytes": _whole(self.least_bytes),
            "mostBytes": _whole(self.most_bytes),
        }

    @classmethod
    def from_json(cls, data: Any) -> JobHistory | None:
        """The summary the state machine hands back (None when absent or not one: then no prediction)."""
        if not isinstance(data, dict):
            return None
        try:
            seconds = [float(data[key]) for key in ("typicalSeconds", "shortestSeconds", "longestSeconds")]
            samples = int(data["samples"])
            volumes = [
                None if data.get(key) is None else float(data[key])
                for key in ("typicalBytes", "leastBytes", "mostBytes")
            ]
        except (KeyError, TypeError, ValueError):
            return None
        if samples < MIN_HISTORY_JOBS or not all(math.isfinite(s) and s > 0 for s in seconds):
            return None
        if not seconds[1] <= seconds[0] <= seconds[2]:
            return None
        return cls(str(data.get("jobType")), samples, seconds[0], seconds[1], seconds[2], *volumes)


@dataclass(frozen=True)
class AdaptivePolicy:
    """The loop's own formula (the fallback): wait = min(max, max(initial, fraction x elapsed))."""

    initial_seconds: float = 10.0
    elapsed_fraction: float = 0.1
    max_seconds: float = 300.0

    def wait(self, elapsed: float) -> float:
        return min(self.max_seconds, max(self.initial_seconds, self.elapsed_fraction * max(0.0, elapsed)))

    @classmethod
    def from_json(cls, data: Any) -> AdaptivePolicy:
        defaults = cls()
        data = data if isinstance(data, dict) else {}

        def number(key: str, default: float) -> float:
            value = data.get(key)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            return float(value) if ok and value >= 0 else default

        return cls(
            number("initialSeconds", defaults.initial_seconds),
            number("elapsedFraction", defaults.elapsed_fraction),
            number("maxSeconds", defaults.max_seconds),
        )


@dataclass(frozen=True)
class PollPlan:
    """What the policy decided at one poll (all of it goes into the execution history)."""

    phase: str  # noHistory | notRunning | warmingUp | sparse | dense | pastUsualRange
    next_poll_seconds: int | None = None  # None: the loop's adaptive formula
    basis: str | None = None  # progress | duration
    expected_end: float | None = None  # epoch seconds
    earliest_end: float | None = None
    latest_end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": "predictive",
            "phase": self.phase,
            "basis": self.basis,
            "nextPollSeconds": self.next_poll_seconds,
            "expectedEndAt": _iso(self.expected_end),
            "earliestEndAt": _iso(self.earliest_end),
            "latestEndAt": _iso(self.latest_end),
        }


def parse_duration_seconds(text: Any) -> float | None:
    """Java's Duration.toString() (`PT8H6M12S`, `PT0.5S`, `PT0S`) in seconds; None for anything else."""
    if not isinstance(text, str):
        return None
    match = _DURATION.fullmatch(text.strip())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def job_seconds(job: dict) -> float | None:
    """How long a finished job ran, creation to end: its `duration`, else lastUpdatedAt - startTime."""
    seconds = parse_duration_seconds(job.get("duration"))
    if seconds is None:
        start, end = created_at(job), parse_airbyte_time(job.get("lastUpdatedAt"))
        seconds = end - start if start is not None and end is not None else None
    return seconds if seconds is not None and seconds > 0 else None


def job_history(jobs: list, job_type: str) -> JobHistory | None:
    """The last HISTORY_JOBS succeeded jobs of ``job_type`` in ``jobs`` (newest first), or None with fewer than
    MIN_HISTORY_JOBS. A success that moved 0 bytes is left out (Airbyte reports some launch failures that way)."""
    durations: list[float] = []
    volumes: list[float | None] = []
    for job in jobs:
        if not isinstance(job, dict) or job.get("jobType") != job_type or job.get("status") != "succeeded":
            continue
        seconds = job_seconds(job)
        size = job.get("bytesSynced")
        size = float(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None
        if seconds is None or size == 0:
            continue
        durations.append(seconds)
        volumes.append(size)
        if len(durations) == HISTORY_JOBS:
            break
    if len(durations) < MIN_HISTORY_JOBS:
        return None
    known = [v for v in volumes if v is not None]
    bytes_known = len(known) == len(volumes)
    return JobHistory(
        job_type,
        len(durations),
        statistics.median(durations),
        min(durations),
        max(durations),
        statistics.median(known) if bytes_known else None,
        min(known) if bytes_known else None,
        max(known) if bytes_known else None,
    )


def plan_next_poll(
    job: dict, history: JobHistory | None, now: float, fallback: AdaptivePolicy = AdaptivePolicy()
) -> PollPlan:
    """The wait before the next poll of ``job`` (a getJob body) at epoch ``now``; see the module docstring."""
    if history is None:
        return PollPlan("noHistory")
    start = created_at(job) if isinstance(job, dict) else None
    if start is None or job.get("status") != "running":
        return PollPlan("notRunning")
    elapsed = max(0.0, now - start)
    past_range = history.longest_seconds * (1 + PAST_RANGE_MARGIN) + 2 * DENSE_SECONDS
    if elapsed > past_range:
        return PollPlan("pastUsualRange")
    by_duration = _duration_plan(elapsed, history, start, fallback)
    if not history.volumes_stable:
        return by_duration
    # Running since: a running job's `duration` is the time it took to start (JobResponseMapper: updatedAt moves
    # with status changes only).
    started_running = min(elapsed, parse_duration_seconds(job.get("duration")) or 0.0)
    running = elapsed - started_running
    committed = job.get("bytesSynced")
    committed = float(committed) if isinstance(committed, (int, float)) and not isinstance(committed, bool) else 0.0
    warm_up = max(DENSE_SECONDS, min(MAX_WARM_UP_SECONDS, 0.05 * history.shortest_seconds))
    if committed <= 0 or running < warm_up:
        if running >= warm_up:
            return by_duration  # nothing committed yet: progress says nothing
        wait = min(by_duration.next_poll_seconds or math.inf, max(1.0, warm_up - running))
        return PollPlan(
            "warmingUp",
            _seconds(wait),
            "duration",
            by_duration.expected_end,
            by_duration.earliest_end,
            by_duration.latest_end,
        )
    rate = committed / running
    assert history.typical_bytes is not None and history.least_bytes is not None and history.most_bytes is not None

    def end_at(volume: float) -> float:
        return elapsed + max(0.0, volume - committed) / rate

    earliest, expected, latest = end_at(history.least_bytes), end_at(history.typical_bytes), end_at(history.most_bytes)
    spacing = max(DENSE_SECONDS, (latest - earliest) / DENSE_POLLS)
    trust = min(SPARSE_STEP, max(0.0, 1.0 - COMMIT_LAG_SECONDS / running))
    phase, wait = _approach(elapsed, earliest - spacing, spacing, trust)
    # Never far past the usual range on a prediction: there the adaptive default takes over.
    wait = min(wait, max(spacing, past_range - elapsed + spacing))
    return PollPlan(phase, _seconds(wait), "progress", start + expected, start + earliest, start + latest)


def _duration_plan(elapsed: float, history: JobHistory, start: float, fallback: AdaptivePolicy) -> PollPlan:
    """The usual durations alone: waits at most SLACK_SECONDS over the adaptive default's, and within the usual
    range never sparser than the default (nor denser than DURATION_WINDOW_POLLS polls over it)."""
    earliest, latest = history.shortest_seconds, history.longest_seconds
    default_wait = fallback.wait(elapsed)
    spacing = min(default_wait, max(DENSE_SECONDS, (latest - earliest) / DURATION_WINDOW_POLLS))
    phase, wait = _approach(elapsed, earliest - spacing, spacing, 1.0)
    if phase == "sparse":
        wait = min(wait, default_wait + SLACK_SECONDS)
    return PollPlan(
        phase, _seconds(wait), "duration", start + history.typical_seconds, start + earliest, start + latest
    )


def _approach(elapsed: float, dense_from: float, spacing: float, step: float) -> tuple[str, float]:
    """Sparse until ``dense_from`` (each wait ``step`` of the time left, at most MAX_SPARSE_SECONDS), then dense."""
    left = dense_from - elapsed
    if left <= 0:
        return "dense", spacing
    if left <= 2 * spacing:
        return "sparse", left
    return "sparse", min(MAX_SPARSE_SECONDS, max(spacing, step * left))


def _seconds(value: float) -> int:
    return max(1, int(round(value)))


def _whole(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(round(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
