"""Issue 14: the sync-connections machine deployed from template.yaml next to the single-sync machine. Many
connections, resolved by id, name or tag over listConnections' pages, each synced by its own execution of the
single-sync machine (startExecution.sync:2), at most maxConcurrency at once; one row per connection and totals;
Airbyte.SomeSyncsFailed only after every sync ended.

Every run: the real compiled definitions, the real handlers, the emulator over HTTP, virtual time. After each test
the `h` fixture checks that no value derived from the secret is in any handler log or in the history, output or
cause of any execution (the many-sync's and every single sync it started)."""
import json
import uuid

import pytest

from local_tools.emulator import JobScript
from machine_harness import EVENTS

SUCCEEDS = JobScript.polls(("running", 2), "succeeded", rows=100, bytes=1000)
FAILS = JobScript.polls("running", "failed", rows=5, bytes=50)
WORKSPACE = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"  # the emulator's default workspace
OTHER_WORKSPACE = "0b2f3c4d-1111-4a2b-8c3d-000000000002"


# The module shares one emulator: every test names its connections and tags apart (unique()).
def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:6]}"


def named(h, name, script=SUCCEEDS, workspace=WORKSPACE, tags=()):
    connection_id = str(uuid.uuid4())
    h.emu.add_connection(connection_id, script=script, name=name, workspace_id=workspace, tags=tags)
    return connection_id


def run_many(h, execution_input, timeout=120.0):
    machine = h.stack.outputs["SyncConnectionsStateMachineArn"]
    result = h.engine.run(machine, execution_input, timeout=timeout)
    h.executions.append(result.execution_arn)
    return result


def children(h, result):
    """The single-sync executions this execution started (linked to it by AWS_STEP_FUNCTIONS_STARTED_BY_...)."""
    found = []
    for execution in h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]:
        given = json.loads(h.engine.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        if given.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") == result.execution_arn:
            found.append((execution, given))
    return found


def most_jobs_at_once(h, ids) -> int:
    """The most of these connections' Airbyte jobs running at one time, on the emulator's clock."""
    moments = sorted((moment, step) for job in h.emu.jobs.values() if job.connection_id in ids
                     for moment, step in ((job.created_at, 1), (job.finished_at, -1)))  # an end sorts first
    running = most = 0
    for _, step in moments:
        running += step
        most = max(most, running)
    return most


def test_twelve_connections_three_at_a_time_one_failure_fails_after_all_ended(h):
    ids = [named(h, f"load {index:02d}", FAILS if index == 4 else SUCCEEDS) for index in range(12)]
    result = run_many(h, {"connectionIds": ids, "maxConcurrency": 3})

    assert (result.status, result.error) == ("FAILED", "Airbyte.SomeSyncsFailed")
    assert json.loads(result.cause) == {
        "message": "Not every sync succeeded; the results say how each ended.",
        "byFinalStatus": {"succeeded": 11, "failed": 1}, "byOutcome": {"SUCCEEDED": 12}}
    assert result.most_map_iterations_at_once == 3
    assert most_jobs_at_once(h, ids) == 3  # as Airbyte saw it
    # Each connection got exactly one POST, from its own child execution; every child ended before the verdict.
    posts = [request.body["connectionId"] for request in h.emu.requests_for("createJob")]
    assert sorted(posts) == sorted(ids)
    started = children(h, result)
    assert sorted(given["connectionId"] for _, given in started) == sorted(ids)
    assert all(execution["status"] == "SUCCEEDED" for execution, _ in started)
    assert all(given["failOnUnsuccessfulSync"] is False for _, given in started)
    ended = max(h.engine.sfn.describe_execution(executionArn=e["executionArn"])["stopDate"] for e, _ in started)
    assert ended <= h.engine.sfn.describe_execution(executionArn=result.execution_arn)["stopDate"]
    assert all(job.status in ("succeeded", "failed") for job in h.emu.jobs.values() if job.connection_id in ids)


def test_results_and_totals_when_failures_are_allowed(h):
    ids = [named(h, "orders"), named(h, "customers", FAILS), named(h, "events")]
    result = run_many(h, {"connectionIds": ids, "failOnUnsuccessfulSync": False, "pollPolicy": "predictive"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = result.output["results"]
    assert [(row["connectionId"], row["name"], row["finalStatus"], row["rows"], row["bytes"], row["error"])
            for row in rows] == [(ids[0], "orders", "succeeded", 100, 1000, None),
                                 (ids[1], "customers", "failed", 5, 50, None),
                                 (ids[2], "events", "succeeded", 100, 1000, None)]
    assert {row["jobId"] for row in rows} == {job.job_id for job in h.emu.jobs.values() if job.connection_id in ids}
    assert {given["pollPolicy"] for _, given in children(h, result)} == {"predictive"}
    assert result.output["totals"] == {"connections": 3, "succeeded": 2, "byFinalStatus": {"succeeded": 2, "failed": 1},
                                       "byOutcome": {"SUCCEEDED": 3}, "rowsSynced": 205, "bytesSynced": 2050}


def test_names_and_a_tag_resolve_across_listconnections_pages(h):
    # 130 other connections first: what is asked for is on the second page of 100.
    for index in range(130):
        h.emu.add_connection(str(uuid.uuid4()), name=f"filler {index}", workspace_id=WORKSPACE)
    tag, billing, crm = unique("quarterly"), unique("billing"), unique("crm")
    wanted = {name: named(h, name, tags=(tag,)) for name in (billing, crm)}
    named(h, unique("elsewhere"), workspace=OTHER_WORKSPACE, tags=(tag,))

    by_name = run_many(h, {"connectionNames": [crm, billing]})
    assert by_name.status == "SUCCEEDED", (by_name.error, by_name.cause)
    assert [(row["name"], row["connectionId"]) for row in by_name.output["results"]] == [
        (crm, wanted[crm]), (billing, wanted[billing])]
    pages = [request.query for request in h.emu.requests_for("listConnections")]
    listed = sum(1 for connection in h.emu.connections.values() if connection.workspace_id)
    assert listed > 130
    # Every page of 100, by offset, until a short one.
    assert [page["offset"] for page in pages] == [str(offset) for offset in range(0, listed + 1, 100)]
    assert {page["limit"] for page in pages} == {"100"}

    h.emu.forget_requests()
    by_tag = run_many(h, {"tag": tag, "workspaceIds": [WORKSPACE]})
    assert by_tag.status == "SUCCEEDED", (by_tag.error, by_tag.cause)
    assert sorted(row["name"] for row in by_tag.output["results"]) == sorted([billing, crm])
    assert {request.query["workspaceIds"] for request in h.emu.requests_for("listConnections")} == {WORKSPACE}


@pytest.mark.parametrize("kind", ["unknown name", "ambiguous name", "unknown tag"])
def test_what_cannot_be_resolved_is_invalid_input_before_any_sync(h, kind):
    billing, twin, missing, tag = unique("billing"), unique("twin"), unique("no such connection"), unique("weekly")
    named(h, billing)
    named(h, twin)
    named(h, twin)
    given, message = {
        "unknown name": ({"connectionNames": [billing, missing]}, f"connectionNames: no connection is named '{missing}'"),
        "ambiguous name": ({"connectionNames": [twin]}, f"connectionNames: 2 connections are named '{twin}' "
                                                        "(give connectionIds)"),
        "unknown tag": ({"tag": tag}, f"tag: no connection carries the tag '{tag}'"),
    }[kind]
    result = run_many(h, given)
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert json.loads(result.cause) == {"message": message}
    assert h.posts() == 0 and children(h, result) == []


@pytest.mark.parametrize("given, error", [
    ({}, "Arazzo.InvalidInput"), ({"tag": "a", "connectionNames": ["b"]}, "Arazzo.InvalidInput"),
    ({"tag": "a", "maxConcurrency": 0}, "Arazzo.InvalidInput"), ({"tag": "a", "color": "red"}, "Arazzo.InvalidInput"),
    # Checked by the listConnections handler before it lists anything.
    ({"connectionIds": ["not-a-uuid"]}, "Airbyte.InvalidRequest"),
    ({"tag": "a", "workspaceIds": ["not-a-uuid"]}, "Airbyte.InvalidRequest"),
])
def test_bad_input_fails_before_any_call(h, given, error):
    result = run_many(h, given)
    assert (result.status, result.error) == ("FAILED", error)
    assert h.airbyte_calls() == 0


def test_the_sample_input_syncs_the_tagged_connections(h):
    sample = json.loads((EVENTS / "sync-connections-input.json").read_text())
    for execution in h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]:
        assert execution["status"] != "RUNNING"
    # Connections other tests tagged so are synced too: only these must be among them, and untagged ones not.
    ids = {named(h, unique("tagged"), tags=(sample["tag"],)) for _ in range(2)}
    untagged = named(h, unique("untagged"))
    result = run_many(h, sample)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    synced = {row["connectionId"] for row in result.output["results"]}
    assert ids <= synced and untagged not in synced
    for _, given in children(h, result):
        assert given["deadlineSeconds"] == sample["deadlineSeconds"]
        assert "pollPolicy" not in given  # not given: the single-sync machine's own default applies


# --- started by an event (the template's SyncsRequested rule -> the admission function) --------------------------

def syncs_entry(**detail):
    """events/eventbridge-syncs-entry.json, its detail replaced."""
    [entry] = json.loads((EVENTS / "eventbridge-syncs-entry.json").read_text())
    return {**entry, "Detail": json.dumps(detail)}


def many_started(h, arns):
    """Of the executions some deliveries started, the sync-connections machine's."""
    machine = h.stack.outputs["SyncConnectionsStateMachineArn"]
    return [arn for arn in arns if h.engine.sfn.describe_execution(executionArn=arn)["stateMachineArn"] == machine]


def test_an_event_syncs_the_tagged_connections_once_each_also_when_redelivered(h):
    tag = unique("nightly")
    ids = {named(h, unique("evented"), tags=(tag,)) for _ in range(3)}
    other = named(h, unique("not tagged"))
    detail = {"tag": tag, "workspaceIds": [WORKSPACE], "maxConcurrency": 2, "deadlineSeconds": 21600,
              "allowedJobTypes": ["reset"], "arazzoResume": {"steps": {}}}  # the last two forged: dropped
    event = h.engine.event_from_entry({**syncs_entry(**detail), "Id": "nightly-2026-12-01"})
    publication = h.engine.publish([event, event])  # EventBridge delivered it twice
    h.executions.extend(publication.execution_arns)

    [parent] = many_started(h, publication.execution_arns)
    assert parent.endswith(":event-nightly-2026-12-01")
    result = h.engine.wait(parent, timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert json.loads(h.engine.sfn.describe_execution(executionArn=parent)["input"]) == {
        "tag": tag, "workspaceIds": [WORKSPACE], "maxConcurrency": 2, "deadlineSeconds": 21600,
        "allowedJobTypes": ["sync"]}  # the deployment's EventJobTypes, not the event's
    assert {row["connectionId"] for row in result.output["results"]} == ids
    assert result.output["totals"]["succeeded"] == 3
    # Each connection exactly one POST (the redelivery started nothing), none for the untagged one.
    assert sorted(request.body["connectionId"] for request in h.emu.requests_for("createJob")) == sorted(ids)
    assert other not in {job.connection_id for job in h.emu.jobs.values()}
    started = children(h, result)
    assert len(started) == 3
    assert all(given["allowedJobTypes"] == ["sync"] and given["deadlineSeconds"] == 21600 for _, given in started)
    # Both deliveries ran at once: StartExecution answered the second with the running execution of that name.
    assert [d.lambda_payload["executionArn"] for d in publication.deliveries] == [parent, parent]
    # Delivered once more after the execution ended: nothing starts.
    late = h.engine.publish([event])
    assert late.execution_arns == [] and late.deliveries[0].lambda_payload["started"] is False
    assert h.posts() == 3


def test_an_event_asking_for_a_job_type_the_deployment_does_not_allow_starts_nothing(h):
    connection = named(h, unique("reset me"))
    publication = h.engine.publish([h.engine.event_from_entry(syncs_entry(connectionIds=[connection],
                                                                          jobType="reset"))])
    assert many_started(h, publication.execution_arns) == [] and publication.execution_arns == []
    [delivery] = publication.deliveries
    assert delivery.lambda_errored and delivery.lambda_payload["errorType"] == "InvalidSyncRequest"
    assert "jobType: reset is not allowed for events" in delivery.lambda_payload["errorMessage"]
    assert h.airbyte_calls() == 0


def test_allowed_job_types_are_checked_before_any_sync_and_by_each_sync(h):
    connection = named(h, unique("guarded"))
    # As the event path would pass them, but started directly: the machine's own check is the final word.
    result = run_many(h, {"connectionIds": [connection], "jobType": "clear", "allowedJobTypes": ["sync"]})
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert "jobType: not allowed for this request" in result.cause
    assert h.airbyte_calls() == 0 and children(h, result) == []
    # No jobType: each sync runs its default, sync, which must be allowed too.
    result = run_many(h, {"connectionIds": [connection], "allowedJobTypes": ["reset"]})
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert h.airbyte_calls() == 0


def test_the_many_sync_schedule_s_delivery_syncs_the_tagged_connections(h):
    """What EventBridge Scheduler sends the admission function (events/scheduler-syncs-input.json's shape; the local
    deployment creates no schedule, so the test delivers it as Scheduler would)."""
    tag = unique("scheduled")
    ids = {named(h, unique("scheduled"), tags=(tag,)) for _ in range(2)}
    payload = json.loads((EVENTS / "scheduler-syncs-input.json").read_text())
    payload["syncConnections"]["tag"] = tag
    answer = h.engine.lambda_.invoke(FunctionName=h.stack.functions["StartSyncFunction"],
                                     Payload=json.dumps(payload).encode())
    started = json.loads(answer["Payload"].read())
    assert started["started"] is True and started["executionName"].startswith("schedule-20261201T030000Z-")
    h.executions.append(started["executionArn"])
    result = h.engine.wait(started["executionArn"], timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert {row["connectionId"] for row in result.output["results"]} == ids
    assert sorted(request.body["connectionId"] for request in h.emu.requests_for("createJob")) == sorted(ids)
