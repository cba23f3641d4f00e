"""A state machine's own events and metrics in the local engine: `arn:aws:states:::events:putEvents` delivered
through the engine's EventBridge to the rules' targets, as AWS delivers it, and
`arn:aws:states:::aws-sdk:cloudwatch:putMetricData` stored in moto's CloudWatch, read back as a dashboard would."""
import datetime
import itertools
import json
from pathlib import Path

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
START = 1_800_000_000.0
ENVELOPE_FIELDS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
NOTE = 'caf\u00e9 "quoted" \\ back\\slash\nnext line'  # what JSON text must carry exactly
SYNC_END = {"connectionId": "conn-1", "status": "succeeded", "rowsSynced": 1_284_512, "note": NOTE}
COMPLETED = {"source": ["airbyte-sync"], "detail-type": ["Airbyte Sync Completed"]}


@pytest.fixture(scope="module")
def engine():
    """One engine for the module (starting one costs more than these tests): each test has its own buses, rules
    and machines, and reads only the events of its own executions."""
    with LocalEngine(clock=VirtualClock(start=START)) as running:
        yield running


_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def completion_machine(engine, bus: str = "default", namespace: str = "AirbyteSync") -> str:
    return engine.create_state_machine(FIXTURES / "completion-event.asl.json", name=unique("announcer"),
                                       substitutions={"CompletionBusName": bus, "MetricsNamespace": namespace})


def put_entries_machine(engine) -> str:
    return engine.create_state_machine(FIXTURES / "put-entries.asl.json", name=unique("putter"))


def receiver_machine(engine) -> str:
    return engine.create_state_machine(FIXTURES / "event-receiver.asl.json", name=unique("next-step"))


def new_bus(engine) -> str:
    return engine.events.create_event_bus(Name=unique("bus"))["EventBusArn"].rsplit("/", 1)[-1]


def rule_to(engine, target_arn: str, bus: str, pattern=COMPLETED, **target) -> None:
    rule = unique("on-completion")
    engine.events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    engine.events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "1", "Arn": target_arn, **target}])


def deliveries_of(engine, event_ids) -> list:
    return [delivery for delivery in engine.deliveries if delivery.event_id in event_ids]


def executions_of(engine, machine_arn: str) -> list[str]:
    return [e["executionArn"] for e in engine.sfn.list_executions(stateMachineArn=machine_arn)["executions"]]


def entry(**fields):
    return {"Source": "airbyte-sync", "DetailType": "Airbyte Sync Completed", "Detail": {"ok": True}, **fields}


# --- events:putEvents ------------------------------------------------------------------------------------------

def test_the_completion_event_reaches_a_rule_s_state_machine_target_as_eventbridge_delivers_it(engine):
    bus, receiver = new_bus(engine), receiver_machine(engine)
    rule_to(engine, receiver, bus)
    announcer = completion_machine(engine, bus)
    started_at = engine.clock.now()
    result = engine.run(announcer, SYNC_END)
    assert result.status == "SUCCEEDED", (result.error, result.cause)

    [event] = engine.machine_events.put_by(result.execution_arn)
    assert engine.events_put[-1] == event  # the record of every machine's events, newest last
    # The Task's result is PutEvents' answer.
    assert result.output["announced"] == {"FailedEntryCount": 0, "Entries": [{"EventId": event["id"]}]}
    # The event is EventBridge's envelope: the Detail object arrives whole, the integration appended the state
    # machine's and the execution's ARN to Resources, the time is the Task's (90 s into the execution).
    assert list(event) == ENVELOPE_FIELDS
    assert event == {
        "version": "0", "id": event["id"], "detail-type": "Airbyte Sync Completed", "source": "airbyte-sync",
        "account": engine.account_id, "time": iso(started_at + 90), "region": engine.region,
        "resources": [announcer, result.execution_arn],
        "detail": {"connectionId": "conn-1", "status": "succeeded", "rowsSynced": 1_284_512, "note": NOTE,
                   "error": None, "attempts": [{"n": 1, "ok": True}]},
    }
    # The rule started the next state machine with that event as its input.
    [next_run] = executions_of(engine, receiver)
    delivered = engine.wait(next_run)
    assert delivered.status == "SUCCEEDED" and delivered.output == event
    assert engine.routing_errors == []


def test_a_lambda_target_receives_the_detail_and_other_buses_nothing(engine):
    bus, other_bus = new_bus(engine), new_bus(engine)
    function = engine.create_function(unique("on-completion"), FunctionSpec(FIXTURES / "functions",
                                                                            "engine_fixture_handlers.jobs.echo"))
    rule_to(engine, function, bus, InputPath="$.detail")
    other_receiver = receiver_machine(engine)
    rule_to(engine, other_receiver, other_bus)

    result = engine.run(completion_machine(engine, bus), SYNC_END)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [event] = engine.machine_events.put_by(result.execution_arn)
    [delivery] = deliveries_of(engine, [event["id"]])  # its own bus's rule only
    assert delivery.wait(30) and delivery.error is None and not delivery.lambda_errored
    assert delivery.lambda_payload["event"] == event["detail"]
    assert executions_of(engine, other_receiver) == []


def test_an_event_no_rule_matches_is_recorded_all_the_same(engine):
    result = engine.run(completion_machine(engine, new_bus(engine)), SYNC_END)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    [event] = engine.machine_events.put_by(result.execution_arn)
    assert event in engine.events_put and event["detail-type"] == "Airbyte Sync Completed"
    assert deliveries_of(engine, [event["id"]]) == []


def test_an_event_for_a_bus_that_does_not_exist_is_accepted_and_goes_nowhere(engine):
    # As on AWS (aws/aws-sdk#186): an EventId, no failed entry, nothing delivered.
    result = engine.run(completion_machine(engine, bus="no-such-bus"), SYNC_END)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["announced"]["FailedEntryCount"] == 0
    [event] = engine.machine_events.put_by(result.execution_arn)
    assert event["id"] == result.output["announced"]["Entries"][0]["EventId"]
    assert engine.routing_errors == [] and deliveries_of(engine, [event["id"]]) == []


def test_entry_fields_arrive_as_eventbridge_makes_the_event(engine):
    entries = [entry(Detail=json.dumps({"fromText": [1, None]}), Resources=["arn:aws:s3:::sync-bucket"],
                     Time="2026-11-24T10:00:00Z"),
               entry(EventBusName=f"arn:aws:events:{engine.region}:{engine.account_id}:event-bus/default")]
    machine = put_entries_machine(engine)
    started_at = engine.clock.now()
    result = engine.run(machine, {"entries": entries})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    first, second = engine.machine_events.put_by(result.execution_arn)
    assert result.output == {"FailedEntryCount": 0, "Entries": [{"EventId": first["id"]}, {"EventId": second["id"]}]}
    assert first["detail"] == {"fromText": [1, None]}  # Detail given as JSON text
    assert first["resources"] == ["arn:aws:s3:::sync-bucket", machine, result.execution_arn]  # the entry's first
    assert first["time"] == "2026-11-24T10:00:00Z" and second["time"] == iso(started_at)
    assert second["resources"] == [machine, result.execution_arn]


def test_a_refused_entry_fails_the_task_eventbridge_failed_entry_and_the_others_are_put(engine):
    bus, receiver = new_bus(engine), receiver_machine(engine)
    rule_to(engine, receiver, bus)
    no_source = {"DetailType": "Airbyte Sync Completed", "Detail": {"ok": True}, "EventBusName": bus}
    result = engine.run(put_entries_machine(engine), {"entries": [entry(EventBusName=bus), no_source]})

    assert result.status == "FAILED" and result.error == "EventBridge.FailedEntry"
    [event] = engine.machine_events.put_by(result.execution_arn)  # the first entry was put, and delivered
    # The cause is PutEvents' answer, as JSON text.
    assert json.loads(result.cause) == {"FailedEntryCount": 1, "Entries": [
        {"EventId": event["id"]},
        {"ErrorCode": "InvalidArgument",
         "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}]}
    [failed] = [e for e in result.events if e["type"] == "TaskFailed"]
    assert failed["taskFailedEventDetails"]["resourceType"] == "events"
    assert failed["taskFailedEventDetails"]["resource"] == "putEvents"
    [next_run] = executions_of(engine, receiver)
    assert engine.wait(next_run).output["id"] == event["id"]


@pytest.mark.parametrize("refused, code, message", [
    (entry(Detail=json.dumps("jsonstring")), "MalformedDetail", "Detail is malformed."),
    (entry(Detail="[1, 2]"), "MalformedDetail", "Detail is malformed."),
    (entry(Detail="{not json"), "MalformedDetail", "Detail is malformed."),
    (entry(Source="aws.states"), "NotAuthorizedForSourceException", None),  # no machine forges AWS's events
    (entry(DetailType=""), "InvalidArgument",
     "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
    (entry(Id="pinned"), "InvalidArgument", None),  # the engine's local-only Id is no PutEvents field
])
def test_an_entry_putevents_refuses_is_a_failed_entry(engine, refused, code, message):
    result = engine.run(put_entries_machine(engine), {"entries": [refused]})
    assert result.status == "FAILED" and result.error == "EventBridge.FailedEntry"
    [answer] = json.loads(result.cause)["Entries"]
    assert answer["ErrorCode"] == code and "EventId" not in answer
    assert message is None or answer["ErrorMessage"] == message
    assert engine.machine_events.put_by(result.execution_arn) == []


def test_a_catch_reads_which_entry_failed(engine):
    definition = json.loads((FIXTURES / "put-entries.asl.json").read_text())
    definition["States"]["Put"]["Catch"] = [{"ErrorEquals": ["EventBridge.FailedEntry"], "Next": "Refused",
                                             "Output": "{% $parse($states.errorOutput.Cause).Entries %}"}]
    definition["States"]["Refused"] = {"Type": "Pass", "End": True}
    result = engine.run(engine.create_state_machine(definition), {"entries": [entry(Detail="[]"), entry()]})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    refused, accepted = result.output
    [event] = engine.machine_events.put_by(result.execution_arn)
    assert refused["ErrorCode"] == "MalformedDetail" and accepted == {"EventId": event["id"]}


@pytest.mark.parametrize("entries", [[], [entry()] * 11])
def test_a_request_putevents_refuses_fails_the_task_validation_exception(engine, entries):
    # (A request over PutEvents' 256 KiB is a Task input over 256 KiB too: States.DataLimitExceeded comes first.)
    result = engine.run(put_entries_machine(engine), {"entries": entries})
    assert result.status == "FAILED" and result.error == "EventBridge.ValidationException", result.cause
    assert engine.machine_events.put_by(result.execution_arn) == []


# --- aws-sdk:cloudwatch:putMetricData ---------------------------------------------------------------------------

def statistics(engine, namespace: str, metric: str, dimensions: list[dict], start: float, end: float) -> list[dict]:
    return engine.cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric, Dimensions=dimensions, Period=60,
        StartTime=datetime.datetime.fromtimestamp(start, datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(end, datetime.timezone.utc),
        Statistics=["Sum", "SampleCount"])["Datapoints"]


def test_metrics_reach_cloudwatch_in_aws_casing_and_read_back(engine):
    namespace, start = unique("AirbyteSync"), engine.clock.now()
    result = engine.run(completion_machine(engine, namespace=namespace), SYNC_END)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["metrics"] == {}  # PutMetricData answers nothing

    listed = engine.cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted((m["MetricName"], sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed) == [
        ("RowsSynced", [("ConnectionId", "conn-1")]),
        ("SyncSeconds", [("ConnectionId", "conn-1"), ("JobType", "sync")])]
    connection = [{"Name": "ConnectionId", "Value": "conn-1"}]
    # No Timestamp: stamped when it arrived, 90 s into the execution on the engine clock.
    [rows] = statistics(engine, namespace, "RowsSynced", connection, start + 60, start + 120)
    assert (rows["Sum"], rows["SampleCount"], rows["Unit"]) == (1_284_512.0, 1.0, "Count")
    assert statistics(engine, namespace, "RowsSynced", connection, start, start + 60) == []
    assert statistics(engine, namespace, "RowsSynced", connection, start + 120, start + 180) == []
    # Timestamp $states.context.Execution.StartTime: the datapoint is at the execution's start.
    [seconds] = statistics(engine, namespace, "SyncSeconds", connection + [{"Name": "JobType", "Value": "sync"}],
                           start, start + 60)
    assert (seconds["Sum"], seconds["Unit"]) == (90.0, "Seconds")
