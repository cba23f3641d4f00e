"""createJob's history summary and getJob's poll plan, through the real handlers against the emulator: the
connection's past jobs are real emulator jobs that ran on a virtual clock."""
from __future__ import annotations

import pytest

from airbyte_client import errors, retry
from airbyte_client.polling import DENSE_SECONDS
from airbyte_client.jobs import parse_airbyte_time
from airbyte_handlers import create_job, get_job
from local_tools.clock import VirtualClock
from local_tools.emulator import AirbyteEmulator, JobScript
from functions_testkit import new_connection_id
from test_handlers import contract_event, create_event, get_event

POLICY = {"name": "predictive", "initialSeconds": 10, "elapsedFraction": 0.1, "maxSeconds": 300}


@pytest.fixture
def airbyte(monkeypatch, aws):
    """An emulator on a virtual clock the handlers share (their wall time is the emulator's)."""
    clock = VirtualClock(start=1_800_000_000.0)
    monkeypatch.setattr(retry, "wall_time", clock.now)
    with AirbyteEmulator(auth="none", clock=clock) as emu:
        monkeypatch.setenv("AIRBYTE_API_URL", emu.base_url)
        yield emu, clock


def with_history(emu, clock, durations: list[int], size: int = 10**9) -> str:
    cid = new_connection_id()
    emu.add_connection(cid, script=JobScript.timed(3600, rows=1000, bytes=size))
    for seconds in durations:
        emu.start_running_job(cid, JobScript.timed(seconds, rows=1000, bytes=size))
        clock.sleep(seconds + 60)
    return cid


def poll_event(job_id, policy=POLICY, history=None):
    event = get_event(job_id)
    event["parameters"]["header"] = {"X-Airbyte-Sync-Poll-Policy": policy, "X-Airbyte-Sync-Job-History": history}
    return event


def test_create_reports_the_connections_usual_durations_and_volumes(airbyte):
    emu, clock = airbyte
    cid = with_history(emu, clock, [3300, 3600, 3900, 3500])
    created = create_job.handler(create_event(cid), None)
    assert created["statusCode"] == 200
    assert created["headers"]["x-airbyte-sync-job-history"] == {
        "jobType": "sync", "samples": 4, "typicalSeconds": 3550, "shortestSeconds": 3300, "longestSeconds": 3900,
        "typicalBytes": 10**9, "leastBytes": 10**9, "mostBytes": 10**9}
    assert emu.count("listJobs") == 1, "the listing createJob makes anyway; no extra request"


def test_create_without_enough_history_reports_none(airbyte):
    emu, clock = airbyte
    cid = with_history(emu, clock, [3300, 3600])
    assert "x-airbyte-sync-job-history" not in create_job.handler(create_event(cid), None)["headers"]


def test_get_under_the_predictive_policy_says_when_to_poll_and_why(airbyte):
    emu, clock = airbyte
    cid = with_history(emu, clock, [3300, 3600, 3900, 3500])
    created = create_job.handler(create_event(cid), None)
    history = created["headers"]["x-airbyte-sync-job-history"]
    job_id = created["body"]["jobId"]
    clock.sleep(600)
    answer = get_job.handler(poll_event(job_id, history=history), None)
    assert answer["body"]["status"] == "running"
    plan = answer["headers"]["x-airbyte-sync-poll-plan"]
    assert (plan["phase"], plan["basis"]) == ("sparse", "progress")
    wait = answer["headers"]["x-airbyte-sync-next-poll-seconds"]
    assert wait == plan["nextPollSeconds"] and 600 < wait <= 1800, "a sparse wait, far longer than the default's 60 s"
    expected_end = parse_airbyte_time(plan["expectedEndAt"]) - parse_airbyte_time(answer["body"]["startTime"])
    assert abs(expected_end - 3600) <= 2, "this job's own rate says: one hour after it started"
    clock.sleep(3000 - 10)
    near = get_job.handler(poll_event(job_id, history=history), None)
    assert near["headers"]["x-airbyte-sync-poll-plan"]["phase"] == "dense"
    assert near["headers"]["x-airbyte-sync-next-poll-seconds"] == DENSE_SECONDS


def test_get_without_history_or_under_the_adaptive_policy_leaves_the_wait_to_the_machine(airbyte):
    emu, clock = airbyte
    cid = with_history(emu, clock, [])
    job_id = create_job.handler(create_event(cid), None)["body"]["jobId"]
    clock.sleep(60)
    none = get_job.handler(poll_event(job_id, history=None), None)
    assert none["headers"]["x-airbyte-sync-next-poll-seconds"] is None
    assert none["headers"]["x-airbyte-sync-poll-plan"]["phase"] == "noHistory"
    adaptive = get_job.handler(poll_event(job_id, policy={**POLICY, "name": "adaptive"}), None)
    assert "x-airbyte-sync-poll-plan" not in adaptive["headers"]
    plain = get_job.handler(get_event(job_id), None)  # waitForActiveJob and cancelJob's reads: no instruction
    assert "x-airbyte-sync-next-poll-seconds" not in plain["headers"]


@pytest.mark.parametrize("policy", [{"name": "psychic"}, {"initialSeconds": 10}, "predictive"])
def test_get_refuses_an_unknown_policy(airbyte, policy):
    emu, clock = airbyte
    cid = with_history(emu, clock, [])
    job_id = create_job.handler(create_event(cid), None)["body"]["jobId"]
    with pytest.raises(errors.InvalidRequest):
        get_job.handler(poll_event(job_id, policy=policy), None)
