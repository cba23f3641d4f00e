"""bench/derived.py: the long fixed-interval rows computed from a measured one (plain functions, no engine)."""
import pytest

from bench.derived import CannotDerive, derivation_check, derive


def measured(key, seconds, calls, generations, gaps=(10.0,), lag_max=10.0):
    return {
        "key": key, "policy": key.split(" / ")[0], "scenario": None, "ends": "nominal", "runs": 1,
        "statuses": {"SUCCEEDED": 1}, "ok": True, "status": "SUCCEEDED", "duration_seconds": seconds,
        "get_job_calls": float(calls), "transitions": float(sum(g["transitions"] for g in generations)),
        "max_history_events": max(g["events"] for g in generations), "executions": len(generations),
        "poll_gaps": list(gaps), "generations": generations,
        "lag": {"mean": lag_max / 2, "p95": 0.95 * lag_max, "max": lag_max, "samples": 0},
    }


# fixed 10 s for 1 h: 362 polls, a new execution every 204 (the second one ends the sync).
ONE_HOUR = measured("fixed 10 s / 1 h", 3600, 362, [
    {"polls": 204, "transitions": 624, "events": 1887},
    {"polls": 158, "transitions": 484, "events": 1450},
])


def test_a_longer_fixed_sync_costs_one_poll_per_interval_and_a_new_execution_every_generation():
    row = derive(ONE_HOUR, "fixed 10 s / 24 h", 86400)
    assert row["get_job_calls"] == 362 + (86400 - 3600) // 10 == 8642
    assert row["executions"] == 1 + (8642 - 1) // 204 == 43
    assert row["transitions"] == 1108 + round(8280 * 624 / 204)
    assert row["cost_usd"] == pytest.approx(row["transitions"] * 0.025 / 1000)
    assert row["lag"] == ONE_HOUR["lag"] and row["derived_from"] == "fixed 10 s / 1 h"
    assert row["wall_seconds"] is None  # nothing ran


def test_a_schedule_that_is_not_fixed_is_not_derived():
    adaptive = {**ONE_HOUR, "key": "default / 1 h", "poll_gaps": [10.0, 30.0, 300.0]}
    with pytest.raises(CannotDerive, match="not evenly spaced"):
        derive(adaptive, "default / 24 h", 86400)


def test_a_basis_without_a_full_generation_is_not_derived():
    short = measured("fixed 10 s / 10 min", 600, 62, [{"polls": 62, "transitions": 190, "events": 570}])
    with pytest.raises(CannotDerive, match="one execution only"):
        derive(short, "fixed 10 s / 24 h", 86400)


def test_the_check_passes_within_one_percent_and_fails_beyond():
    six_hours = measured("fixed 10 s / 6 h", 21600, 2162, [{"polls": 204, "transitions": 624, "events": 1887}] * 10
                         + [{"polls": 122, "transitions": 369, "events": 1100}])
    text, ok = derivation_check(ONE_HOUR, six_hours)
    assert ok, text
    assert "derived from fixed 10 s / 1 h" in text
    off = {**six_hours, "transitions": six_hours["transitions"] * 1.05}
    assert not derivation_check(ONE_HOUR, off)[1]
    assert not derivation_check(ONE_HOUR, {**six_hours, "executions": 12})[1]
