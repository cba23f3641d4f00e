"""The predictive polling policy's plain functions (airbyte_client/polling.py): what a connection's recent jobs
say, and the wait each poll asks for, checked against job timelines a test can reason about."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airbyte_client import polling
from airbyte_client.polling import AdaptivePolicy, JobHistory, job_history, parse_duration_seconds, plan_next_poll

START = 1_800_000_000.0  # a whole second, as Airbyte's startTime is


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def finished(seconds: float, size: int | None = 10**9, job_type: str = "sync", status: str = "succeeded") -> dict:
    job = {"jobId": 1, "jobType": job_type, "status": status, "startTime": iso(START - 10**6),
           "duration": f"PT{int(seconds)}S"}
    if size is not None:
        job["bytesSynced"] = size
    return job


def running(elapsed: float, committed: int, started_after: int = 1) -> dict:
    return {"jobId": 9, "jobType": "sync", "status": "running", "startTime": iso(START),
            "duration": f"PT{started_after}S", "bytesSynced": committed}


def stable_history(typical: float = 3600, size: int = 10**9) -> JobHistory:
    jobs = [finished(typical * (0.9 + 0.2 * i / 9), size + (i % 3) * size // 1000) for i in range(10)]
    history = job_history(jobs, "sync")
    assert history is not None
    return history


def follow(history: JobHistory | None, end: float, size: int, started_after: int = 1) -> tuple[int, float]:
    """Poll a job that commits ``size`` bytes evenly from ``started_after`` to ``end`` the way the machine does
    (first poll at once; a suggestion is the wait, at least 10 s; none: the adaptive formula). (polls, lag)."""
    fallback = AdaptivePolicy()
    elapsed, polls = 0.0, 0
    while True:
        polls += 1
        if elapsed >= end:
            return polls, elapsed - end
        job = running(elapsed, int(size * max(0.0, elapsed - started_after) / (end - started_after)), started_after)
        if elapsed < started_after:
            job.update(status="pending", duration=None, bytesSynced=0)
        wait = plan_next_poll(job, history, START + elapsed, fallback).next_poll_seconds
        elapsed += max(10, wait) if wait is not None else fallback.wait(elapsed)


# --- job_history ------------------------------------------------------------------------------------------------

def test_history_is_the_last_ten_successes_of_the_type():
    jobs = ([finished(100, job_type="reset"), finished(50, status="failed"), finished(70, status="cancelled")]
            + [finished(1000 + i) for i in range(12)])
    history = job_history(jobs, "sync")
    assert (history.samples, history.shortest_seconds, history.longest_seconds) == (10, 1000, 1009)
    assert history.typical_seconds == 1004.5


def test_history_needs_three_jobs_and_skips_successes_that_moved_nothing():
    assert job_history([finished(100), finished(120)], "sync") is None
    assert job_history([finished(100), finished(120), finished(5, size=0)], "sync") is None
    assert job_history([finished(100), finished(120), finished(110)], "sync").samples == 3


def test_history_without_bytes_has_no_volumes():
    history = job_history([finished(100), finished(120, size=None), finished(110)], "sync")
    assert history.typical_bytes is None and not history.volumes_stable


def test_duration_from_lastUpdatedAt_when_the_duration_is_missing():
    job = {"jobType": "sync", "status": "succeeded", "startTime": "2026-12-01T01:30Z",
           "lastUpdatedAt": "2026-12-01T02:31:05Z", "bytesSynced": 5}
    assert job_history([job, job, job], "sync").typical_seconds == 3665


@pytest.mark.parametrize("text, seconds", [("PT8H6M12S", 29172), ("PT0.5S", 0.5), ("PT0S", 0), ("PT25H", 90000),
                                           ("P1D", None), ("PT", None), ("8 hours", None), (None, None)])
def test_java_durations(text, seconds):
    assert parse_duration_seconds(text) == seconds


def test_history_round_trips_and_a_broken_summary_is_no_history():
    history = stable_history()
    assert JobHistory.from_json(history.to_json()) == JobHistory(**{
        **history.__dict__, "typical_bytes": round(history.typical_bytes)})
    for broken in (None, "x", {}, {**history.to_json(), "samples": 2}, {**history.to_json(), "shortestSeconds": 9e9},
                   {**history.to_json(), "typicalSeconds": "soon"}):
        assert JobHistory.from_json(broken) is None


# --- plan_next_poll ---------------------------------------------------------------------------------------------

def test_no_history_or_not_running_leaves_the_wait_to_the_loop():
    assert plan_next_poll(running(100, 5), None, START + 100).phase == "noHistory"
    pending = {**running(0, 0), "status": "pending"}
    plan = plan_next_poll(pending, stable_history(), START + 3)
    assert (plan.phase, plan.next_poll_seconds) == ("notRunning", None)


def test_stable_volumes_poll_sparsely_then_densely_around_the_progress_predicted_end():
    history = stable_history()
    for end in (3240, 3500, 3700, 3960):  # the usual range (+/-10 %), throughput varying
        polls, lag = follow(history, end, 10**9)
        assert polls <= 16 and lag <= 15, (end, polls, lag)  # the adaptive default: ~49 polls, lag up to 300 s


def test_a_job_twice_as_fast_is_seen_ending_early():
    polls, lag = follow(stable_history(), 1800, 10**9)
    assert lag <= 15 and polls <= 16


def test_past_the_usual_range_the_adaptive_default_takes_over():
    history = stable_history()
    late = START + history.longest_seconds * 1.2
    plan = plan_next_poll(running(late - START, 10**9 // 2), history, late)
    assert (plan.phase, plan.next_poll_seconds) == ("pastUsualRange", None)
    polls, lag = follow(history, 7200, 10**9)  # half the throughput: twice as long
    assert lag <= 300 + 60


def test_varying_volumes_use_durations_and_never_wait_much_longer_than_the_default():
    jobs = [finished(3600 * (0.9 + 0.2 * i / 9), int(10**9 * (0.9 + 0.2 * i / 9))) for i in range(10)]
    history = job_history(jobs, "sync")
    assert not history.volumes_stable
    fallback = AdaptivePolicy()
    for elapsed in (60, 600, 1800, 3000):
        plan = plan_next_poll(running(elapsed, 10**8), history, START + elapsed, fallback)
        assert plan.basis == "duration" and plan.phase == "sparse"
        assert plan.next_poll_seconds <= fallback.wait(elapsed) + polling.SLACK_SECONDS
    inside = plan_next_poll(running(3400, 10**8), history, START + 3400, fallback)
    assert inside.phase == "dense" and inside.next_poll_seconds == round(720 / polling.DURATION_WINDOW_POLLS)
    polls, lag = follow(history, 1800, 5 * 10**8)  # half the data: ends at half the usual time
    assert lag <= fallback.wait(1800) + polling.SLACK_SECONDS


def test_a_rate_measured_early_is_trusted_less():
    """Committed bytes lag the work: right after the warm-up a sparse wait covers less of the time left."""
    history = stable_history()
    early = plan_next_poll(running(130, int(10**9 * 129 / 3599)), history, START + 130)
    later = plan_next_poll(running(1800, int(10**9 * 1799 / 3599)), history, START + 1800)
    assert early.phase == later.phase == "sparse"
    left_early, left_later = early.earliest_end - (START + 130), later.earliest_end - (START + 1800)
    assert early.next_poll_seconds / left_early < later.next_poll_seconds / left_later <= polling.SPARSE_STEP


def test_a_commit_lag_and_a_slow_start_never_make_it_overshoot_much():
    """Bytes committed a minute late, in steps, after 90 s of start-up: the policy still sees the end soon."""
    history = stable_history()
    end, size, lag_seconds, step_seconds, start_up = 3600.0, 10**9, 60.0, 30.0, 90.0
    elapsed, polls = 0.0, 0
    while elapsed < end:
        polls += 1
        done = max(0.0, elapsed - start_up - lag_seconds) // step_seconds * step_seconds
        committed = int(size * min(1.0, done / (end - start_up - lag_seconds)))
        wait = plan_next_poll(running(elapsed, committed), history, START + elapsed).next_poll_seconds
        elapsed += max(10, wait) if wait is not None else AdaptivePolicy().wait(elapsed)
    assert elapsed - end <= 60 and polls <= 20


def test_every_decision_is_reported():
    plan = plan_next_poll(running(1000, 3 * 10**8), stable_history(), START + 1000)
    report = plan.to_json()
    assert report["policy"] == "predictive" and report["phase"] == "sparse" and report["basis"] == "progress"
    assert report["nextPollSeconds"] == plan.next_poll_seconds
    assert report["earliestEndAt"] <= report["expectedEndAt"] <= report["latestEndAt"]
    assert report["expectedEndAt"].endswith("Z")


def test_adaptive_policy_from_the_machine():
    assert AdaptivePolicy.from_json({"initialSeconds": 30, "elapsedFraction": 0, "maxSeconds": 60}).wait(9999) == 30
    assert AdaptivePolicy.from_json("nonsense") == AdaptivePolicy()
    assert AdaptivePolicy.from_json({"initialSeconds": True, "maxSeconds": -1}) == AdaptivePolicy()
