"""pollPolicy predictive, end to end: the deployed machine, the real handlers and the emulator on virtual time.
The connection's past jobs are real emulator jobs that ran before; the history shows every decision."""
from __future__ import annotations

import json

from airbyte_client.polling import DENSE_SECONDS
from local_tools.emulator import JobScript

SIZE = 4 * 10**9


def with_history(h, durations: list[int], script: JobScript) -> str:
    connection = h.connection(script)
    for seconds in durations:
        h.emu.start_running_job(connection, JobScript.timed(seconds, rows=10**6, bytes=SIZE))
        h.engine.clock.sleep(seconds + 600)
    return connection


def poll_plans(h, result) -> list[dict]:
    plans = []
    for event in h.engine.history(result.execution_arn):
        if event["type"] == "TaskSucceeded" and event["taskSucceededEventDetails"]["resourceType"] == "lambda":
            payload = json.loads(event["taskSucceededEventDetails"]["output"])["Payload"]
            plan = payload["headers"].get("x-airbyte-sync-poll-plan")
            if plan is not None:
                plans.append(plan)
    return plans


def test_a_predictive_execution_polls_sparsely_then_densely_and_sees_the_end_soon(h):
    usual = [3400, 3600, 3800, 3500, 3700, 3300, 3900, 3600, 3550, 3650]  # +/-10 %: throughput varies
    connection = with_history(h, usual, JobScript.timed(3800, rows=10**6, bytes=SIZE))
    result = h.run({"connectionId": connection, "pollPolicy": "predictive"}, timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)

    job = next(j for j in h.emu.jobs.values() if j.connection_id == connection and j.script.duration_seconds == 3800)
    lag = result.duration_seconds - 3800  # the execution started with the job (virtual time: no gap)
    assert 0 <= lag <= 30, f"the end was seen {lag} s after it happened (the issue's bound for the worst case)"
    polls = len(h.polls(job.job_id))
    assert polls <= 16, f"{polls} polls (the adaptive default needs ~49 for an hour)"
    waits = result.waits
    assert max(waits) >= 1000 and waits[-1] == DENSE_SECONDS, f"sparse, then dense: {waits}"

    plans = poll_plans(h, result)
    phases = [plan["phase"] for plan in plans]
    assert phases[0] == "notRunning" and "warmingUp" in phases and "sparse" in phases, phases
    assert phases[-2:] == ["dense", "notRunning"], "dense around the end; the last poll saw it succeeded"
    assert all(plan["basis"] in ("progress", "duration", None) for plan in plans)
    history = result.events  # the createJob result carries the summary the prediction used
    created = next(json.loads(e["taskSucceededEventDetails"]["output"])["Payload"] for e in history
                   if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resourceType"] == "lambda")
    assert created["headers"]["x-airbyte-sync-job-history"]["samples"] == 10


def test_a_connection_without_history_is_polled_by_the_default_policy(h):
    connection = h.connection(JobScript.timed(1800, rows=10, bytes=SIZE))
    result = h.run({"connectionId": connection, "pollPolicy": "predictive"}, timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    waits = result.waits
    elapsed = 0.0
    for wait in waits:  # exactly the adaptive default: min(300, max(10, elapsed / 10))
        assert wait == round(min(300, max(10, 0.1 * elapsed))), (wait, elapsed, waits)
        elapsed += wait
    assert {plan["phase"] for plan in poll_plans(h, result)} == {"noHistory"}
