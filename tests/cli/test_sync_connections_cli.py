"""`airbyte-sync run --machine sync-connections --input FILE`, run as a user runs it (separate processes): the
sample input (events/sync-connections-input.json: the connections tagged nightly) against an emulator in another
process; each connection's calls shown after its index, each sync's completion event, then the result line."""
from __future__ import annotations

import re

import pytest

from cli_harness import CLIENT_ID, ROOT, SENTINEL_SECRET, clean_env, emulator_process, run_cli

ORDERS, CUSTOMERS, EVENTS, UNTAGGED = ("11111111-2222-4333-8444-00000000000%d" % i for i in range(1, 5))
SAMPLE = str(ROOT / "events" / "sync-connections-input.json")
CHILD_LINE = re.compile(r"^\[(\d+)\] (list|trigger|poll|cancel)", re.MULTILINE)


@pytest.fixture(scope="module")
def tagged_emulator_url():
    """Three connections tagged nightly (one whose job fails) and one untagged, in the default workspace."""
    specs = []
    for connection_id, name, script, tags in (
            (ORDERS, "orders", "running,succeeded,rows=10,bytes=100", "nightly"),
            (CUSTOMERS, "customers", "running,failed,rows=1,bytes=5", "nightly,finance"),
            (EVENTS, "events", "succeeded,rows=3,bytes=30", "nightly"),
            (UNTAGGED, "untagged", "succeeded", "")):
        specs += ["--connection", f"{connection_id}:{script}", "--connection-name", f"{connection_id}={name}"]
        if tags:
            specs += ["--connection-tags", f"{connection_id}={tags}"]
    yield from emulator_process(["--auth", "client_credentials", "--client-id", CLIENT_ID, *specs],
                                {"AIRBYTE_EMULATOR_CLIENT_SECRET": SENTINEL_SECRET})


def test_the_sample_syncs_every_tagged_connection_and_fails_after_all_ended(tagged_emulator_url):
    outcome = run_cli("run", "--machine", "sync-connections", "--input", SAMPLE, "--airbyte-url",
                      tagged_emulator_url, "--fast",
                      env=clean_env(AIRBYTE_CLIENT_ID=CLIENT_ID, AIRBYTE_CLIENT_SECRET=SENTINEL_SECRET))
    assert outcome.returncode == 1, outcome.stderr
    result = outcome.result
    assert (result["status"], result["error"]) == ("FAILED", "Airbyte.SomeSyncsFailed")
    assert '"byFinalStatus":{"succeeded":2,"failed":1}' in result["cause"]
    assert re.search(r"^list +\+\d\d:\d\d:\d\d +3 connection\(s\)$", outcome.stderr, re.MULTILINE), outcome.stderr
    # Every connection's trigger and polls, after its index in the list.
    assert {(index, kind) for index, kind in CHILD_LINE.findall(outcome.stderr) if kind == "trigger"} == {
        ("0", "trigger"), ("1", "trigger"), ("2", "trigger")}
    events, _ = outcome.split()
    assert sorted((e["detail"]["connectionId"], e["detail"]["finalStatus"]) for e in events) == sorted(
        [(ORDERS, "succeeded"), (CUSTOMERS, "failed"), (EVENTS, "succeeded")])
    assert SENTINEL_SECRET not in outcome.stdout + outcome.stderr


def test_the_sync_connections_machine_takes_its_input_from_a_file():
    outcome = run_cli("run", "--machine", "sync-connections", "--connection-id", ORDERS, "--airbyte-url",
                      "http://127.0.0.1:9", "--fast")
    assert outcome.returncode == 2 and outcome.stdout == ""
    assert "--machine sync-connections takes its input from --input FILE" in outcome.stderr
