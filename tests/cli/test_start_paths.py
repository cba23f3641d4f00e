"""`airbyte-sync run --input` and `airbyte-sync put-events`: the console's and EventBridge's start paths, as a user
(or an attacker's event) takes them, in separate processes against the emulator in another process."""
from __future__ import annotations

import json
import re

import pytest

from cli_harness import (CLIENT_ID, EVENT, EVENT_FAILS, EVENT_OF_TWO, EXACT_INPUT, REDELIVERED, ROOT, SENTINEL_SECRET,
                         SENTINEL_TOKEN, Concurrent, clean_env, run_cli)

POLL_LINE = re.compile(r"^(\[[\w-]+\] )?poll +(\d+) +\+(\d\d):(\d\d):(\d\d) +(\w+)", re.MULTILINE)
DELIVERED = re.compile(r"^delivered event (\S+) to (\S+): (.*)$", re.MULTILINE)


def client_env() -> dict[str, str]:
    return clean_env(AIRBYTE_CLIENT_ID=CLIENT_ID, AIRBYTE_CLIENT_SECRET=SENTINEL_SECRET)


def assert_no_secrets(outcome) -> None:
    for secret in (SENTINEL_SECRET, SENTINEL_TOKEN):
        assert secret not in outcome.stdout and secret not in outcome.stderr


def sample_entry(connection_id: str, **extra) -> dict:
    """events/eventbridge-entry.json, pointed at one connection."""
    [entry] = json.loads((ROOT / "events" / "eventbridge-entry.json").read_text())
    detail = json.loads(entry["Detail"])
    detail["connectionId"] = connection_id
    return {**entry, "Detail": json.dumps(detail), **extra}


def seconds(match) -> int:
    return int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4])


@pytest.fixture(scope="module")
def runs(emulator_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("start-paths")

    def write(name: str, content: str) -> str:
        (folder / name).write_text(content)
        return str(folder / name)

    exact = {"connectionId": EXACT_INPUT, "pollInitialSeconds": 7, "pollMaxSeconds": 7, "pollElapsedFraction": 0}
    fast = ("--airbyte-url", emulator_url, "--fast")
    started = Concurrent()
    started.start("exact input", "run", "--input", write("exact.json", json.dumps(exact, indent=2)), *fast,
                  env=client_env())
    started.start("string from stdin", "run", "--input", "-", *fast, env=client_env(), stdin=json.dumps(EXACT_INPUT))
    started.start("event", "put-events", "--entries", "file://" + write("event.json", json.dumps(
        [sample_entry(EVENT)])), *fast, env=client_env())
    started.start("two events", "put-events", "--entries", write("two.json", json.dumps(
        [sample_entry(EVENT_OF_TWO, Id="first-of-two"), sample_entry(EVENT_FAILS)])), *fast, env=client_env())
    started.start("redelivered", "put-events", "--repeat", "2", "--entries", write("again.json", json.dumps(
        [sample_entry(REDELIVERED, Id="redelivered-event-1")])), *fast, env=client_env())
    started.start("no rule", "put-events", "--entries", "-", *fast, env=client_env(),
                  stdin=json.dumps([sample_entry(EVENT), sample_entry(EVENT, DetailType="Airbyte Sync Wanted")]))
    yield started
    started.close()


# --- run --input: exactly the file's JSON, as the console takes it ---------------------------------------------

def test_run_input_is_exactly_the_file(runs):
    outcome = runs["exact input"]
    assert outcome.returncode == 0, outcome.stderr
    # Nothing added: no jobType, the file's own polling (every 7 s), not the template's 10 s.
    shown = re.search(r"^airbyte-sync: input (.*)$", outcome.stderr, re.MULTILINE).group(1)
    assert json.loads(shown) == {"connectionId": EXACT_INPUT, "pollInitialSeconds": 7, "pollMaxSeconds": 7,
                                 "pollElapsedFraction": 0}
    polls = POLL_LINE.findall(outcome.stderr)
    assert [seconds(poll) for poll in polls] == [0, 7, 14, 21]
    assert outcome.result == {"status": "SUCCEEDED", "output": {
        "jobId": outcome.result["output"]["jobId"], "finalStatus": "succeeded", "rowsSynced": 10,
        "bytesSynced": 100, "attached": False, "waitedForJobId": None}}
    assert_no_secrets(outcome)


def test_run_input_that_is_not_an_object_is_the_machine_s_to_refuse(runs):
    outcome = runs["string from stdin"]  # a JSON string (the connection id alone), read from stdin
    assert re.search(rf'^airbyte-sync: input "{EXACT_INPUT}"$', outcome.stderr, re.MULTILINE), outcome.stderr
    assert outcome.returncode == 1
    assert outcome.result["status"] == "FAILED" and outcome.result["error"] == "Arazzo.InvalidInput"
    assert "trigger" not in outcome.stderr  # nothing reached Airbyte


@pytest.mark.parametrize("args, stdin, message", [
    (["--input", "/nonexistent/input.json"], None, "cannot read --input"),
    (["--input", "-"], "{not json", "is not JSON"),
    (["--input", "-"], "", "is not JSON"),
    (["--input", "-", "--connection-id", EVENT], "{}", "excludes --connection-id"),
    (["--input", "-", "--poll-max-seconds", "5"], "{}", "excludes --poll-max-seconds"),
    ([], None, "give --input FILE, or --connection-id"),
])
def test_run_input_usage_errors(args, stdin, message):
    outcome = run_cli("run", *args, "--airbyte-url", "http://127.0.0.1:1/v1", "--fast", env=client_env(),
                      stdin=stdin)
    assert outcome.returncode == 2 and outcome.stdout == ""
    assert message in outcome.stderr, outcome.stderr


# --- put-events: through the template's own rule -----------------------------------------------------------------

def test_put_events_starts_the_execution_and_prints_run_s_result_line(runs):
    outcome = runs["event"]
    assert outcome.returncode == 0, outcome.stderr
    events, results = outcome.split()  # the events the execution put, then run's single result line
    assert results == [outcome.result]
    assert outcome.result["status"] == "SUCCEEDED" and outcome.result["output"]["rowsSynced"] == 30
    [(event_id, target, what)] = DELIVERED.findall(outcome.stderr)
    assert re.search(rf"^event 1  id {event_id}  -> rule\(s\) \S*SyncRequested", outcome.stderr, re.MULTILINE)
    assert [poll[5] for poll in POLL_LINE.findall(outcome.stderr)] == ["pending", "running", "succeeded"]
    assert re.search(r"SUCCEEDED after 3 polls", outcome.stderr)
    assert_no_secrets(outcome)


def test_put_events_with_several_executions_prints_one_line_each_and_a_summary(runs):
    outcome = runs["two events"]
    assert outcome.returncode == 1  # one of them failed
    events, (*executions, summary) = outcome.split()
    assert summary == {"status": "FAILED", "executions": 2, "statuses": {"SUCCEEDED": 1, "FAILED": 1}}
    by_status = {line["status"]: line for line in executions}
    assert by_status["SUCCEEDED"]["output"]["rowsSynced"] == 30
    assert by_status["FAILED"]["error"] == "Airbyte.SyncFailed"
    assert all(line["executionArn"].startswith("arn:aws:states:") for line in executions)
    # Progress of several executions: each line names its execution.
    names = {line["executionArn"].rsplit(":", 1)[-1][-8:] for line in executions}
    assert {poll[0].strip("[] ") for poll in POLL_LINE.findall(outcome.stderr)} == names
    assert [event_id for event_id, _, _ in DELIVERED.findall(outcome.stderr)][0] == "first-of-two"  # pinned Id


def test_put_events_repeat_redelivers_the_same_event(runs):
    outcome = runs["redelivered"]
    assert outcome.returncode == 0, outcome.stderr
    deliveries = DELIVERED.findall(outcome.stderr)
    assert [event_id for event_id, _, _ in deliveries] == ["redelivered-event-1", "redelivered-event-1"]
    started = re.findall(r"^execution (\S+) started$", outcome.stderr, re.MULTILINE)
    # The template's admission function names the execution after the event id: the redelivery starts nothing.
    assert started == ["event-redelivered-event-1"]
    events, [result] = outcome.split()
    assert result["status"] == "SUCCEEDED" and result["output"]["attached"] is False


def test_put_events_entry_that_matches_no_rule_delivers_nothing(runs):
    outcome = runs["no rule"]
    assert outcome.returncode == 1
    assert "entry 2 (Source 'airbyte-sync', DetailType 'Airbyte Sync Wanted', bus default) matches no rule" in (
        outcome.stderr)
    assert outcome.result["status"] == "NOT_DELIVERED" and outcome.result["error"] == "NoMatchingRule"
    assert not DELIVERED.findall(outcome.stderr)  # not even entry 1


@pytest.mark.parametrize("entries, message", [
    ([{"Source": "aws.states", "DetailType": "Step Functions Execution Status Change", "Detail": "{}"}],
     "NotAuthorizedForSourceException"),
    ([{"Source": "airbyte-sync", "DetailType": "Airbyte Sync Requested", "Detail": "[1]"}], "MalformedDetail"),
    ([{"Source": "airbyte-sync", "DetailType": "Airbyte Sync Requested", "Detail": {"connectionId": EVENT}}],
     "Detail must be JSON text"),
    ([{"Source": "airbyte-sync", "Detail": "{}"}], "DetailType is a required argument"),
    ([{"Source": "airbyte-sync", "DetailType": "x", "Detail": "{}", "Priority": 1}], "unknown entry field"),
    ([], "1 to 10 entries"),
    ({"Source": "airbyte-sync"}, "must be a JSON list"),
])
def test_put_events_refuses_what_putevents_refuses(entries, message):
    outcome = run_cli("put-events", "--entries", "-", "--airbyte-url", "http://127.0.0.1:1/v1", "--fast",
                      env=client_env(), stdin=json.dumps(entries))
    assert outcome.returncode == 2 and outcome.stdout == ""
    assert message in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("args", [["--entries", "/nonexistent.json"], ["--entries", "-", "--repeat", "0"]])
def test_put_events_usage_errors(args):
    outcome = run_cli("put-events", *args, "--airbyte-url", "http://127.0.0.1:1/v1", env=client_env(), stdin="[]")
    assert outcome.returncode == 2 and outcome.stdout == ""
