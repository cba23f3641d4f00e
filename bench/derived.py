"""Derived rows: the longest fixed-interval cells, computed from a measured cell of the same policy, not run.

A fixed-interval policy polls every N s whatever the job does, and its loop continues as new after the same number
of polls every time, so its cost grows exactly linearly: polls at 0, N, 2N ... up to the first at or after the
job's end; a new execution every G polls (G read from the measured run); the transitions of a full execution
spread over its G polls. Running fixed 3 s for 24 h (28,801 polls) costs ~12 minutes of the engine's time and
tells nothing a 1 h run does not, so the bench measures each fixed policy up to a cell it can run, derives the
longer ones from it, and checks the derivation against a cell it also measures (`derivation_check`).
Plain functions over measured rows (no I/O).
"""

from __future__ import annotations

import math
from typing import Any

PRICE_PER_TRANSITION = 0.025 / 1000  # Standard workflows, USD


class CannotDerive(ValueError):
    """The measured basis does not have the shape a derivation needs (a fixed schedule, one full execution)."""


def interval_of(basis: dict[str, Any]) -> float:
    """The basis's poll interval; refuses a schedule that is not fixed."""
    gaps = basis.get("poll_gaps") or []
    if not gaps or max(gaps) - min(gaps) > 1e-6:
        raise CannotDerive(f"{basis['key']}: its polls are not evenly spaced ({sorted(set(gaps))[:5]})")
    return gaps[0]


def full_generation(basis: dict[str, Any]) -> dict[str, Any]:
    """An execution of the basis that ran a whole generation of polls (not the last one, which ends early);
    a middle one if there is one (the first also triggers the job)."""
    generations = basis.get("generations") or []
    complete = generations[:-1]
    if not complete:
        raise CannotDerive(f"{basis['key']}: one execution only, so no generation size to read")
    return complete[1] if len(complete) > 1 else complete[0]


def derive(basis: dict[str, Any], key: str, duration_seconds: int) -> dict[str, Any]:
    """The row of the same policy at `duration_seconds`, from `basis` (a measured schedule row)."""
    interval = interval_of(basis)
    generation = full_generation(basis)
    size = generation["polls"]
    steps = (duration_seconds - basis["duration_seconds"]) / interval
    if steps < 0 or abs(steps - round(steps)) > 1e-9:
        raise CannotDerive(f"{key}: {duration_seconds} s is not the basis's duration plus whole intervals")
    calls = int(basis["get_job_calls"]) + round(steps)
    transitions = int(basis["transitions"]) + round(steps * generation["transitions"] / size)
    executions = 1 + (calls - 1) // size
    return {
        **{k: basis[k] for k in ("policy", "scenario", "ends", "runs", "statuses", "ok", "status", "lag")},
        "key": key,
        "duration_seconds": duration_seconds,
        "duration_name": key.split(" / ")[1],
        "get_job_calls": calls,
        "max_get_job_calls": calls,
        "transitions": transitions,
        "max_history_events": max(basis["max_history_events"], generation["events"]),
        "executions": executions,
        "cost_usd": transitions * PRICE_PER_TRANSITION,
        "wall_seconds": None,
        "wall_ms_per_poll": None,
        "errors": [],
        "derived_from": basis["key"],
        "generation_polls": size,
    }


def derivation_check(basis: dict[str, Any], measured: dict[str, Any]) -> tuple[str, bool]:
    """Derive a cell the bench also measured, and compare: calls and executions exactly, transitions within 1 %."""
    derived = derive(basis, measured["key"], measured["duration_seconds"])
    error = abs(derived["transitions"] - measured["transitions"]) / measured["transitions"]
    ok = (
        derived["get_job_calls"] == measured["get_job_calls"]
        and derived["executions"] == measured["executions"]
        and error <= 0.01
        and math.isclose(derived["lag"]["max"], measured["lag"]["max"], abs_tol=0.01)
    )
    text = (
        f"derivation check: {measured['key']} derived from {basis['key']}: {derived['get_job_calls']:,} calls "
        f"(measured {measured['get_job_calls']:,}), {derived['executions']} executions (measured "
        f"{measured['executions']}), {derived['transitions']:,} transitions (measured {measured['transitions']:,.0f}, "
        f"{100 * error:.2f} % apart), lag max {derived['lag']['max']:.0f} s (measured {measured['lag']['max']:.0f} s)"
    )
    return text, ok
