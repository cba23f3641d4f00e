"""The predictive policy's connections: a history of 10 finished jobs, then the job the bench follows.

Assumption (bench/README.md, "Predictive scenarios"): the last 10 durations of the connection vary by +/-10 %.
- **stable volumes** (a full-refresh sync of tables that change slowly): every job moves the same volume within
  +/-0.5 %; durations vary because throughput does (source API, warehouse load). The job's committed bytes grow
  at its own throughput while it runs.
- **varying volumes** (an incremental sync: the new rows since the last one): throughput is the same for every
  job, the volume varies +/-10 %, and so does the duration.
Each job is `pending` for its first PENDING_SECONDS (queued, containers starting), then commits bytes evenly until
it ends (the emulator's model; a real destination commits in batches: airbyte_client/polling.py allows for a
minute of lag).
"""

from __future__ import annotations

from typing import Any

SCENARIOS = ("stable", "varying")
TARGET_DURATIONS = ("1 h", "24 h")
# Ends at twice the usual time, at 1 h: at 6 h and 24 h each end is a 12 h or 48 h sync (~6,000 and ~20,000 polls
# for the cells), more than the bench's 10 minutes allow, and past the usual range the policy is the default's.
DOUBLE_DURATIONS = ("1 h",)
# Where the varying-volumes scenario also runs its far-outside ends, and where a job fails at half its usual time:
# 1 h only (past the usual range both scenarios poll as the default does; at 24 h the varying one's 20 ends cost
# ~3,000 polls).
FAR_OUTSIDE_ALL_SCENARIOS = ("1 h",)
FAILS_AT_HALF_DURATIONS = ("1 h",)
ENDPOINTS = 20
HISTORY = 10
PENDING_SECONDS = 30
BYTES_PER_HOUR = 2 * 10**9
VOLUME_NOISE = 0.005  # stable volumes: +/-0.5 %
# Positions 0..1 of the 10 past jobs in the +/-10 % range, oldest to newest (a fixed shuffle).
ORDER = (0.4, 1.0, 0.1, 0.7, 0.0, 0.9, 0.3, 0.6, 0.2, 0.8)


def policy_name(scenario: str) -> str:
    return f"predictive ({scenario} volumes)"


def end_points(nominal: float, ends: str) -> list[float]:
    """ENDPOINTS job ends: spread evenly over the usual range (+/-10 %), or +/-5 % around half or twice it; a job
    that fails at half stops at half its usual time."""
    spread, centre = {"in range": (0.2, 1.0), "half": (0.1, 0.5), "double": (0.1, 2.0), "fails at half": (0.1, 0.5)}[
        ends
    ]
    return [round(nominal * centre * (1 - spread / 2 + spread * (i + 0.5) / ENDPOINTS), 1) for i in range(ENDPOINTS)]


def _noise(i: int) -> float:
    """A deterministic spread in [-1, 1]."""
    return ((i * 7919) % 21) / 10 - 1


def seed(emu: Any, clock: Any, connection: str, scenario: str, nominal: float, end: float, ends: str) -> None:
    """The connection, its 10 past jobs (run on the emulator's virtual clock, so they are real finished jobs), and
    the script of the job the execution will trigger: it ends at ``end``."""
    from local_tools.emulator import JobScript

    volume = BYTES_PER_HOUR * nominal / 3600
    rate = volume / nominal
    if scenario == "stable":  # the usual volume; throughput sets the end
        size = volume * (1 + VOLUME_NOISE * _noise(int(end)))
    else:  # the usual throughput; the volume sets the end
        size = rate * end
    if ends == "fails at half":  # a job on course for its usual time fails at ``end`` with what it committed
        done = (end - PENDING_SECONDS) / (nominal - PENDING_SECONDS)
        script = JobScript.timed(
            end,
            final="failed",
            rows=int(volume * done / 1000),
            bytes=int(volume * done),
            pending_seconds=PENDING_SECONDS,
        )
    else:
        script = JobScript.timed(
            end, final="succeeded", rows=int(size / 1000), bytes=int(size), pending_seconds=PENDING_SECONDS
        )
    emu.add_connection(connection, script=script)
    for i, position in enumerate(ORDER[:HISTORY]):
        seconds = nominal * (0.9 + 0.2 * position)
        past = volume * (1 + VOLUME_NOISE * _noise(i)) if scenario == "stable" else rate * seconds
        emu.start_running_job(
            connection,
            JobScript.timed(seconds, rows=int(past / 1000), bytes=int(past), pending_seconds=PENDING_SECONDS),
            job_type="sync",
        )
        clock.sleep(seconds + 120)
