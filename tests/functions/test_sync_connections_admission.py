"""The admission function (start_sync) for many syncs: an "Airbyte Syncs Requested" event, or the many-sync
schedule, starts one execution of the sync-connections machine with the documented fields only, named after the
event (a redelivery starts nothing new), with the deployment's job types passed on; a bad request is refused by
name and starts nothing. Step Functions is moto's; the execution input is read back from it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from airbyte_handlers import start_sync
from airbyte_handlers.sync_connections_input import FIELDS, InvalidSyncRequest
from functions_testkit import new_connection_id

ROOT = Path(__file__).resolve().parents[2]
EVENT_ID = "9c1d7e2a-5b4f-4a3e-8d2c-6f0e1b7a9c3d"
WORKSPACE = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"


def syncs_requested(detail, event_id=EVENT_ID):
    return {"version": "0", "id": event_id, "source": "airbyte-sync", "detail-type": "Airbyte Syncs Requested",
            "account": "123456789012", "detail": detail}


@pytest.fixture
def machines(aws, monkeypatch):
    """Both machines (a Pass state each: what they do is tests/machine's); the admission function's environment."""
    import boto3

    sfn = boto3.client("stepfunctions")
    arns = {}
    for name, variable in (("airbyte-sync", "SYNC_STATE_MACHINE_ARN"),
                           ("airbyte-sync-connections", "SYNC_CONNECTIONS_STATE_MACHINE_ARN")):
        arns[name] = sfn.create_state_machine(
            name=name, definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
        monkeypatch.setenv(variable, arns[name])
    monkeypatch.setenv("EVENT_JOB_TYPES", "sync")

    def executions(name):
        return sfn.list_executions(stateMachineArn=arns[name])["executions"]

    def started_input(result):
        return json.loads(sfn.describe_execution(executionArn=result["executionArn"])["input"])

    return sfn, executions, started_input


def test_syncs_event_starts_the_sync_connections_machine_with_the_documented_fields_only(machines):
    sfn, executions, started_input = machines
    ids = [new_connection_id(), new_connection_id()]
    forged = {"connectionIds": ids, "workspaceIds": [WORKSPACE], "maxConcurrency": 3, "deadlineSeconds": 7200,
              "pollPolicy": "predictive", "failOnUnsuccessfulSync": False,
              # Not an event's to set: what each sync may run, a forged continuation, a forged parent link.
              "allowedJobTypes": ["reset", "clear"], "arazzoResume": {"steps": {}},
              "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:123456789012:execution:x:y"}
    result = start_sync.handler(syncs_requested(forged), None)

    assert result["started"] is True and result["machine"] == "sync-connections"
    assert result["executionName"] == f"event-{EVENT_ID}"
    assert started_input(result) == {"connectionIds": ids, "workspaceIds": [WORKSPACE], "maxConcurrency": 3,
                                     "deadlineSeconds": 7200, "pollPolicy": "predictive",
                                     "failOnUnsuccessfulSync": False, "allowedJobTypes": ["sync"]}
    assert len(executions("airbyte-sync-connections")) == 1 and executions("airbyte-sync") == []


def test_a_redelivered_syncs_event_starts_nothing_new(machines):
    sfn, executions, _ = machines
    event = syncs_requested({"tag": "nightly"})
    assert start_sync.handler(event, None)["started"] is True
    [first] = executions("airbyte-sync-connections")
    sfn.stop_execution(executionArn=first["executionArn"])
    again = start_sync.handler(event, None)  # the first execution has ended: still nothing new
    assert again == {"started": False, "machine": "sync-connections", "executionName": f"event-{EVENT_ID}"}
    assert len(executions("airbyte-sync-connections")) == 1


@pytest.mark.parametrize("detail, message", [
    (["nightly"], "the request must be a JSON object of the sync-connections inputs"),
    ({}, "connectionIds, connectionNames, tag: give exactly one of them"),
    ({"tag": "", "connectionIds": []}, "give exactly one of them"),
    ({"tag": "nightly", "connectionNames": ["orders"]}, "give exactly one of them"),
    ({"connectionIds": "b5e2a7c4-3f1d-4e8a-9c6b-1a2d3e4f5a6b"}, "connectionIds: must be a list"),
    ({"connectionIds": ["b5e2a7c4-3f1d-4e8a-9c6b-1a2d3e4f5a6b", "orders; DROP TABLE"]},
     "connectionIds[1]: must be a UUID"),
    ({"connectionIds": ["b5e2a7c4-3f1d-4e8a-9c6b-1a2d3e4f5a6b"] * 101}, "connectionIds: must have at most 100 items"),
    ({"connectionNames": ["orders", ""]}, "connectionNames[1]: must not be empty"),
    ({"connectionNames": ["orders", 7]}, "connectionNames[1]: must be a string"),
    ({"tag": ["nightly"]}, "tag: must be a string"),
    ({"tag": "nightly", "workspaceIds": ["everything"]}, "workspaceIds[0]: must be a UUID"),
    ({"tag": "nightly", "maxConcurrency": 41}, "maxConcurrency: must be at most 40"),
    ({"tag": "nightly", "maxConcurrency": 0}, "maxConcurrency: must be at least 1"),
    ({"tag": "nightly", "maxConcurrency": True}, "maxConcurrency: must be an integer"),
    ({"tag": "nightly", "maxConcurrency": 2.5}, "maxConcurrency: must be an integer"),
    ({"tag": "nightly", "deadlineSeconds": "7200"}, "deadlineSeconds: must be an integer"),
    ({"tag": "nightly", "deadlineSeconds": 59}, "deadlineSeconds: must be at least 60"),
    ({"tag": "nightly", "pollElapsedFraction": 1.5}, "pollElapsedFraction: must be at most 1"),
    ({"tag": "nightly", "pollPolicy": "eager"}, "pollPolicy: must be one of adaptive, predictive"),
    ({"tag": "nightly", "failOnUnsuccessfulSync": "false"}, "failOnUnsuccessfulSync: must be true or false"),
    ({"tag": "nightly", "jobType": "drop"}, "jobType: must be one of sync, reset, refresh, clear"),
    # A job type the deployment does not let events ask for (EventJobTypes is `sync` here).
    ({"tag": "nightly", "jobType": "reset"},
     "jobType: reset is not allowed for events (the deployment's EventJobTypes: sync)"),
])
def test_a_bad_syncs_event_is_refused_by_name_and_starts_nothing(machines, detail, message):
    _, executions, _ = machines
    with pytest.raises(InvalidSyncRequest) as refused:
        start_sync.handler(syncs_requested(detail), None)
    assert message in str(refused.value)
    assert "DROP TABLE" not in str(refused.value)  # fields are named, the sender's values are not repeated
    assert executions("airbyte-sync-connections") == [] and executions("airbyte-sync") == []


def test_every_problem_of_a_syncs_event_is_named_at_once(machines):
    with pytest.raises(InvalidSyncRequest) as refused:
        start_sync.handler(syncs_requested({"maxConcurrency": 99, "pollMaxSeconds": 0}), None)
    assert str(refused.value) == ("maxConcurrency: must be at most 40; pollMaxSeconds: must be at least 1; "
                                  "connectionIds, connectionNames, tag: give exactly one of them")


def test_a_syncs_event_without_an_id_is_refused(machines):
    _, executions, _ = machines
    event = syncs_requested({"tag": "nightly"})
    del event["id"]
    with pytest.raises(InvalidSyncRequest, match="the event has no id"):
        start_sync.handler(event, None)
    assert executions("airbyte-sync-connections") == []


def test_the_deployment_s_event_job_types_go_to_each_sync(machines, monkeypatch):
    _, executions, started_input = machines
    monkeypatch.setenv("EVENT_JOB_TYPES", "sync,reset")
    result = start_sync.handler(syncs_requested({"tag": "nightly", "jobType": "reset"}), None)
    assert started_input(result) == {"tag": "nightly", "jobType": "reset", "allowedJobTypes": ["sync", "reset"]}


def test_without_a_job_type_each_sync_runs_sync_which_the_deployment_may_not_allow(machines, monkeypatch):
    _, executions, _ = machines
    monkeypatch.setenv("EVENT_JOB_TYPES", "reset")
    with pytest.raises(InvalidSyncRequest, match="jobType: sync is not allowed for events"):
        start_sync.handler(syncs_requested({"tag": "nightly"}), None)
    assert executions("airbyte-sync-connections") == []


def test_the_many_sync_schedule_starts_one_execution_per_occurrence(machines):
    _, executions, started_input = machines
    payload = json.loads((ROOT / "events" / "scheduler-syncs-input.json").read_text())
    first = start_sync.handler(payload, None)
    assert first["machine"] == "sync-connections" and first["executionName"].startswith("schedule-20261201T030000Z-")
    assert started_input(first) == payload["syncConnections"]  # the template's input; no job types: it sets none
    again = start_sync.handler(payload, None)  # Scheduler retried its delivery while the execution runs
    assert again["executionArn"] == first["executionArn"]
    assert len(executions("airbyte-sync-connections")) == 1 and executions("airbyte-sync") == []


def test_a_misconfigured_many_sync_schedule_says_what_is_wrong(machines):
    _, executions, _ = machines
    payload = {"syncConnections": {"tag": "nightly", "connectionIds": [new_connection_id()], "workspaceIds": [],
                                   "maxConcurrency": 5},
               "scheduledTime": "2026-12-01T03:00:00Z", "scheduleArn": "arn:aws:scheduler:::schedule/default/x"}
    with pytest.raises(InvalidSyncRequest, match="give exactly one of them"):
        start_sync.handler(payload, None)
    assert executions("airbyte-sync-connections") == []


def test_the_checked_fields_are_the_workflow_s_own_input_schema():
    """What the admission function checks is what the sync-connections machine declares, keyword for keyword, for
    every input a request may set (allowedJobTypes is the deployment's, set by the admission function)."""
    workflow = yaml.safe_load((ROOT / "arazzo" / "airbyte-sync-connections-workflow.yml").read_text())
    declared = workflow["workflows"][0]["inputs"]["properties"]

    def checked_part(schema, like):
        return {key: (checked_part(schema[key], like[key]) if key == "items" else schema.get(key)) for key in like}

    assert set(FIELDS) == set(declared) - {"allowedJobTypes"}
    for name, schema in FIELDS.items():
        assert checked_part(declared[name], schema) == schema, name
        validation_keywords = {"type", "enum", "minimum", "maximum", "maxItems", "minLength", "format", "items"}
        assert set(declared[name]) & validation_keywords == set(schema), f"{name}: a keyword the admission skips"
