"""`airbyte-sync demo` and `airbyte-sync run`, run as a user runs them: separate processes."""
from __future__ import annotations

import argparse
import json
import re

import pytest

from local_tools.cli.main import airbyte_url, credentials_from_env
from cli_harness import (CLIENT_ID, ENDLESS, ENVELOPE_FIELDS, FAILS, QUICK, SENTINEL_SECRET, SENTINEL_TOKEN, SUCCEEDS,
                         Concurrent, clean_env, run_cli)

POLL_LINE = re.compile(r"^poll +(\d+) +\+(\d\d):(\d\d):(\d\d) +(\w+)", re.MULTILINE)


def client_env(secret: str = SENTINEL_SECRET) -> dict[str, str]:
    return clean_env(AIRBYTE_CLIENT_ID=CLIENT_ID, AIRBYTE_CLIENT_SECRET=secret)


def assert_no_secrets(outcome) -> None:
    for secret in (SENTINEL_SECRET, SENTINEL_TOKEN):
        assert secret not in outcome.stdout and secret not in outcome.stderr


@pytest.fixture(scope="module")
def runs(emulator_url, bearer_emulator_url):
    """Every CLI run of this module, started at once (see Concurrent); tests read them by name."""
    started = Concurrent()
    fast = ("--airbyte-url", emulator_url, "--fast")
    started.start("demo", "demo")
    started.start("succeeds", "run", "--connection-id", SUCCEEDS, *fast, env=client_env())
    started.start("fails", "run", "--connection-id", FAILS, *fast, env=client_env())
    started.start("deadline", "run", "--connection-id", ENDLESS, *fast, "--deadline-seconds", "600",
                  env=client_env())
    started.start("bad input", "run", "--connection-id", "not-a-uuid", *fast, env=client_env())
    # A secret the emulator refuses: the error must not show it either.
    started.start("wrong secret", "run", "--connection-id", SUCCEEDS, *fast, env=client_env(SENTINEL_TOKEN))
    started.start("token", "run", "--connection-id", SUCCEEDS, "--airbyte-url", bearer_emulator_url, "--fast",
                  env=clean_env(AIRBYTE_TOKEN=SENTINEL_TOKEN))
    started.start("real time", "run", "--connection-id", QUICK, "--airbyte-url", emulator_url + "/",
                  "--poll-initial-seconds", "1", "--poll-max-seconds", "1", "--deadline-seconds", "120",
                  "--parameter", "MinPollSeconds=1", env=client_env(), timed=True)
    yield started
    started.close()


# --- demo

def test_demo_runs_a_twenty_minute_sync_in_seconds(runs):
    outcome = runs["demo"]
    assert outcome.returncode == 0, outcome.stderr
    polls = POLL_LINE.findall(outcome.stdout)
    # One line per poll, numbered in order, on the virtual clock, through the whole lifecycle.
    assert [int(p[0]) for p in polls] == list(range(1, len(polls) + 1))
    statuses = [p[4] for p in polls]
    assert statuses[:3] == ["pending", "queued", "running"] and statuses[-1] == "succeeded"
    last = polls[-1]
    assert 15 * 60 <= int(last[1]) * 3600 + int(last[2]) * 60 + int(last[3]) <= 30 * 60
    assert "Execution SUCCEEDED" in outcome.stdout
    # Between the progress and the status line: one JSON line per event the execution put (none is fine).
    events_block = outcome.stdout.split("Execution SUCCEEDED\n", 1)[0].rsplit("\n\n", 1)[1]
    for line in events_block.splitlines():
        assert list(json.loads(line)) == ENVELOPE_FIELDS, line
    # The output, pretty-printed, between the status line and the summary.
    output = json.loads(outcome.stdout.split("Execution SUCCEEDED\n", 1)[1].split("\n\n", 1)[0])
    assert output["finalStatus"] == "succeeded" and output["rowsSynced"] > 0
    summary = outcome.stdout.split("Summary", 1)[1]
    assert re.search(rf"polls \(getJob calls\) +{len(polls)}\b", summary)
    assert re.search(r"state transitions +\d+", summary)
    assert re.search(r"simulated sync time +00:(1[5-9]|2\d):\d\d", summary)
    assert re.search(r"real wall time +\d+\.\d s", summary)
    assert "make test" in summary and "airbyte-sync run" in summary
    # Quiet: moto's expected "not supported" notices and its Fail-state logs stay out.
    assert "No Moto CloudFormation support" not in outcome.stderr
    assert "Traceback" not in outcome.stderr and "Exception=" not in outcome.stderr


# --- run against an emulator in another process

def test_run_fast_succeeds_with_client_credentials(runs):
    outcome = runs["succeeds"]
    assert outcome.returncode == 0, outcome.stderr
    result = outcome.result
    assert result["status"] == "SUCCEEDED"
    assert isinstance(result["output"]["jobId"], int)
    assert result["output"]["finalStatus"] == "succeeded"
    assert result["output"]["rowsSynced"] == 1200
    # Progress goes to stderr; to stdout the events the execution put, then the result line.
    assert [p[4] for p in POLL_LINE.findall(outcome.stderr)] == ["pending", "queued", "running", "running",
                                                                 "running", "succeeded"]
    events, results = outcome.split()
    assert results == [result]
    assert all(event["detail"].get("connectionId", SUCCEEDS) == SUCCEEDS for event in events)
    assert_no_secrets(outcome)


def test_run_failed_job_exits_1_with_sync_failed(runs):
    outcome = runs["fails"]
    assert outcome.returncode == 1
    result = outcome.result
    assert result["status"] == "FAILED" and result["error"] == "Airbyte.SyncFailed"
    assert json.loads(result["cause"])["status"] == "failed"
    assert outcome.split()[1] == [result]  # an execution that fails may announce it too: events, then the result
    assert_no_secrets(outcome)


def test_run_past_its_deadline_cancels_the_job(runs):
    outcome = runs["deadline"]
    assert outcome.returncode == 1
    assert outcome.result["status"] == "FAILED" and outcome.result["error"] == "Airbyte.SyncTimedOut"
    assert re.search(r"^cancel +\+00:(09|10):\d\d  cancelled", outcome.stderr, re.MULTILINE), outcome.stderr


def test_run_bad_input_exits_1_with_invalid_input(runs):
    outcome = runs["bad input"]
    assert outcome.returncode == 1
    assert outcome.result["status"] == "FAILED" and outcome.result["error"] == "Arazzo.InvalidInput"


def test_run_wrong_secret_fails_without_showing_it(runs):
    outcome = runs["wrong secret"]
    assert outcome.returncode == 1
    assert outcome.result["error"] == "Airbyte.AuthError"
    assert_no_secrets(outcome)


def test_run_with_static_token(runs):
    outcome = runs["token"]
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.result["output"]["finalStatus"] == "succeeded"
    assert_no_secrets(outcome)


def test_run_without_fast_waits_in_real_time(runs):
    outcome = runs["real time"]
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.result["output"]["rowsSynced"] == 1200
    # Two 1-second waits between the first and the last poll: a watcher sees those lines come 2 s apart.
    polls = [(at, line) for at, line in outcome.stderr_arrivals if POLL_LINE.match(line)]
    assert [POLL_LINE.match(line).group(5) for _, line in polls] == ["pending", "running", "succeeded"]
    assert polls[-1][0] - polls[0][0] >= 1.8, polls


# --- usage errors: exit 2, no result line

@pytest.mark.parametrize("args, env", [
    (["run", "--airbyte-url", "http://127.0.0.1:1/v1"], {}),  # no --connection-id
    (["run", "--connection-id", SUCCEEDS, "--airbyte-url", "localhost:8000/api/public/v1"], {}),  # no scheme
    (["run", "--connection-id", SUCCEEDS, "--airbyte-url", "ftp://example.com/v1"], {}),
    (["run", "--connection-id", SUCCEEDS, "--airbyte-url", "http://127.0.0.1:1/v1", "--deadline-seconds", "x"], {}),
    (["run", "--connection-id", SUCCEEDS, "--airbyte-url", "http://127.0.0.1:1/v1"],
     {"AIRBYTE_TOKEN": SENTINEL_TOKEN, "AIRBYTE_CLIENT_ID": "a", "AIRBYTE_CLIENT_SECRET": SENTINEL_SECRET}),
    (["run", "--connection-id", SUCCEEDS, "--airbyte-url", "http://127.0.0.1:1/v1"],
     {"AIRBYTE_CLIENT_ID": "only-the-id"}),
    ([], {}),
    (["launch"], {}),
])
def test_usage_errors_exit_2(args, env):
    outcome = run_cli(*args, env=clean_env(**env))
    assert outcome.returncode == 2
    assert outcome.stdout == ""
    assert "usage" in outcome.stderr or "error" in outcome.stderr
    assert_no_secrets(outcome)


# --- small pieces, in-process

def test_credentials_from_env_shapes():
    assert credentials_from_env({"AIRBYTE_CLIENT_ID": "i", "AIRBYTE_CLIENT_SECRET": "s"}) == {
        "client_id": "i", "client_secret": "s"}
    assert credentials_from_env({"AIRBYTE_TOKEN": "t"}) == {"token": "t"}
    assert credentials_from_env({}) == {}  # auth disabled
    with pytest.raises(ValueError):
        credentials_from_env({"AIRBYTE_CLIENT_SECRET": "s"})


def test_airbyte_url_normalises_and_rejects():
    assert airbyte_url("https://api.airbyte.com/v1/") == "https://api.airbyte.com/v1"
    for bad in ("api.airbyte.com/v1", "http://", "https:// spaced/v1"):
        with pytest.raises(argparse.ArgumentTypeError):
            airbyte_url(bad)
