"""events/*.json: each parses, the handler events follow docs/handler-contract.md, and the workflow inputs
validate against the Arazzo workflow's input schema."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from jsonschema import Draft202012Validator

from local_tools.engine.event_routing import matches
from sam_template_support import EVENTS, ROOT, WORKFLOW, load_json, load_template

import functions_on_path  # noqa: F401  (functions/ importable: the admission function builds the input)
from airbyte_handlers.admission import parse_job_types, start_request

CONNECTION_ID = "b5e2a7c4-3f1d-4e8a-9c6b-1a2d3e4f5a6b"  # the one example connection all events use
WORKSPACE = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"  # the many-sync samples' workspace
HANDLER_EVENTS = {  # file -> (operationId, stepId in the workflow)
    "create-job.json": ("createJob", "triggerJob"),
    "get-job.json": ("getJob", "pollJob"),
    "cancel-job.json": ("cancelJob", "cancelJob"),
}


def _contract_request_example() -> dict:
    """The example Lambda event in docs/handler-contract.md, section `## Request`."""
    text = (ROOT / "docs" / "handler-contract.md").read_text()
    section = text.split("## Request", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["workflows"][0]


def _validate_input(payload: dict, workflow: dict | None = None) -> None:
    schema = (workflow or _workflow())["inputs"]
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [e.message for e in validator.iter_errors(payload)]
    assert not errors, errors


def _openapi_operations() -> dict[str, tuple[str, str]]:
    spec = yaml.safe_load((ROOT / "openapi" / "airbyte-openapi.yml").read_text())
    return {op["operationId"]: (method.upper(), path)
            for path, item in spec["paths"].items() for method, op in item.items() if isinstance(op, dict)}


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_event_parses(path):
    json.loads(path.read_text())


def test_every_expected_event_exists():
    expected = {"console-input.json", "eventbridge-entry.json", "scheduler-input.json", "execution-stopped.json",
                "start-sync-event.json", "sync-connections-input.json", "eventbridge-syncs-entry.json",
                "start-syncs-event.json", "scheduler-syncs-input.json", *HANDLER_EVENTS}
    assert expected <= {p.name for p in EVENTS.glob("*.json")}


def test_one_connection_everywhere():
    for path in EVENTS.glob("*.json"):
        found = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", path.read_text()))
        # Other UUIDs (event ids, execution names) are allowed; connection ids must be the one.
        # (`connectionIds` of the many-sync samples is a list, empty where they pick by tag.)
        assert not re.search(r'connectionId\\?"', path.read_text()) or CONNECTION_ID in found, path.name


@pytest.mark.parametrize("name", sorted(HANDLER_EVENTS))
def test_handler_event_follows_the_contract(name):
    example = _contract_request_example()
    event = load_json(name)
    operation_id, step_id = HANDLER_EVENTS[name]
    assert set(event) == set(example)
    assert set(event["context"]) == set(example["context"])
    assert set(event["parameters"]) >= {"path", "query", "header"}
    assert event["operationId"] == operation_id and event["context"]["stepId"] == step_id
    assert (event["method"], event["path"]) == _openapi_operations()[operation_id]
    assert event["context"]["executionArn"].startswith("arn:aws:states:")
    assert isinstance(event["context"]["retryCount"], int)
    if "{jobId}" in event["path"]:
        assert isinstance(event["parameters"]["path"]["jobId"], int)  # values keep their JSON types
    # The workflow's own step says which parameters and body the compiled machine sends.
    step = next(s for s in _workflow()["steps"] if s["stepId"] == step_id)
    assert set(event["parameters"]["path"]) == {p["name"] for p in step.get("parameters", []) if p["in"] == "path"}
    assert set(event["parameters"]["header"]) == {p["name"] for p in step.get("parameters", []) if p["in"] == "header"}
    if "requestBody" in step:
        assert set(event["body"]) == set(step["requestBody"]["payload"])
        assert event["contentType"] == step["requestBody"]["contentType"]
    else:
        assert event["body"] is None and event["contentType"] is None


def test_console_input_is_a_valid_workflow_input():
    _validate_input(load_json("console-input.json"))


def _start_sync_events() -> dict:
    return load_template()["Resources"]["StartSyncFunction"]["Properties"]["Events"]


def test_scheduler_input_matches_the_template_schedule_and_starts_a_valid_input():
    payload = load_json("scheduler-input.json")
    template_input = _start_sync_events()["Schedule"]["Properties"]["Input"]["Fn::Sub"]
    delivered = (template_input.replace("${ScheduleConnectionId}", CONNECTION_ID)
                 .replace("<aws.scheduler.scheduled-time>", payload["scheduledTime"])
                 .replace("<aws.scheduler.schedule-arn>", payload["scheduleArn"]))
    assert json.loads(delivered) == payload
    request = start_request(payload, ["sync"])
    _validate_input(request.input)
    assert request.name.startswith("schedule-")


def test_eventbridge_entry_matches_the_rule_and_carries_a_workflow_input():
    entries = load_json("eventbridge-entry.json")
    assert isinstance(entries, list) and len(entries) == 1  # `aws events put-events --entries file://...`
    entry = entries[0]
    assert set(entry) == {"Source", "DetailType", "Detail", "EventBusName"}
    assert entry["EventBusName"] == "default"
    event = load_json("start-sync-event.json")  # the same request as the rule's target receives it
    assert (event["source"], event["detail-type"], event["detail"]) == (
        entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))
    pattern = _start_sync_events()["SyncRequested"]["Properties"]["Pattern"]
    pattern = {**pattern, "account": [event["account"]]}  # Ref AWS::AccountId resolved
    assert matches(pattern, event)
    request = start_request(event, parse_job_types("sync"))
    assert request.name == f"event-{event['id']}"
    _validate_input(request.input)


def test_execution_stopped_event_matches_the_rule():
    event = load_json("execution-stopped.json")
    pattern = load_template()["Resources"]["ExecutionStoppedFunction"]["Properties"]["Events"]["SyncExecutionEnded"][
        "Properties"]["Pattern"]
    machine_arn = event["detail"]["stateMachineArn"]
    pattern = {**pattern, "account": [event["account"]],  # Refs resolved
               "detail": {**pattern["detail"], "stateMachineArn": [machine_arn]}}
    assert matches(pattern, event)
    assert event["detail"]["status"] == "ABORTED"
    assert machine_arn.endswith(":stateMachine:airbyte-sync-airbyte-sync")  # stack `airbyte-sync`
    assert event["detail"]["executionArn"] in event["resources"]
    assert event["detail"]["executionArn"].split(":")[6] == machine_arn.split(":")[6]
    _validate_input(json.loads(event["detail"]["input"]))


def _sync_connections_workflow() -> dict:
    return yaml.safe_load((ROOT / "arazzo" / "airbyte-sync-connections-workflow.yml").read_text())["workflows"][0]


def test_sync_connections_input_is_a_valid_workflow_input():
    _validate_input(load_json("sync-connections-input.json"), _sync_connections_workflow())


def test_eventbridge_syncs_entry_matches_the_rule_and_carries_a_sync_connections_input():
    [entry] = load_json("eventbridge-syncs-entry.json")
    assert set(entry) == {"Source", "DetailType", "Detail", "EventBusName"} and entry["EventBusName"] == "default"
    event = load_json("start-syncs-event.json")  # the same request as the rule's target receives it
    assert (event["source"], event["detail-type"], event["detail"]) == (
        entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))
    pattern = _start_sync_events()["SyncsRequested"]["Properties"]["Pattern"]
    assert matches({**pattern, "account": [event["account"]]}, event)
    assert not matches({**_start_sync_events()["SyncRequested"]["Properties"]["Pattern"],
                        "account": [event["account"]]}, event), "one rule per request"
    request = start_request(event, parse_job_types("sync"))
    assert (request.machine, request.name) == ("sync-connections", f"event-{event['id']}")
    _validate_input(request.input, _sync_connections_workflow())


def test_scheduler_syncs_input_matches_the_template_schedule_and_starts_a_valid_input():
    payload = load_json("scheduler-syncs-input.json")
    text, values = _start_sync_events()["SyncsSchedule"]["Properties"]["Input"]["Fn::Sub"]
    assert set(values) == {"ConnectionIds", "WorkspaceIds"}
    # What CloudFormation makes of it for ScheduleSyncsTag=nightly and one workspace, and the values Scheduler fills.
    workspaces = values["WorkspaceIds"]["Fn::If"][1]["Fn::Sub"][0].replace("${Ids}", WORKSPACE)
    delivered = (text.replace("${ScheduleSyncsTag}", "nightly").replace("${ConnectionIds}", values["ConnectionIds"][
        "Fn::If"][2]).replace("${WorkspaceIds}", workspaces).replace("${ScheduleSyncsMaxConcurrency}", "5")
                 .replace("<aws.scheduler.scheduled-time>", payload["scheduledTime"])
                 .replace("<aws.scheduler.schedule-arn>", payload["scheduleArn"]))
    assert json.loads(delivered) == payload
    request = start_request(payload, ["sync"])
    assert request.machine == "sync-connections" and request.name.startswith("schedule-")
    _validate_input(request.input, _sync_connections_workflow())
