"""EventBridge in the local engine: PutEvents entries, pattern matching (moto's), target input as AWS documents it,
and delivery through a template's own rules to state-machine and Lambda targets."""
import json
from pathlib import Path

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import EntryError, LocalEngine
from local_tools.engine.event_entries import check_request, event_from_entry
from local_tools.engine.event_routing import matches, target_input
from local_tools.sam import deploy_sam_template

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[2]

EVENT = {
    "source": "aws.states", "detail-type": "Step Functions Execution Status Change", "account": "123456789012",
    "detail": {"status": "ABORTED", "name": "run-1", "startDate": 100, "tags": ["a", "b"], "error": None},
}


@pytest.mark.parametrize("pattern, expected", [
    ({"source": ["aws.states"]}, True),
    ({"source": ["aws.other", "aws.states"]}, True),
    ({"source": ["aws.other"]}, False),
    ({"detail": {"status": ["ABORTED", "TIMED_OUT"]}}, True),
    ({"detail": {"status": ["SUCCEEDED"]}}, False),
    ({"detail": {"name": [{"prefix": "run-"}]}}, True),
    ({"detail": {"name": [{"suffix": "-2"}]}}, False),
    ({"detail": {"name": [{"equals-ignore-case": "RUN-1"}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"name": [{"exists": True}]}}, True),
    ({"detail": {"missing": [{"exists": True}]}}, False),
    ({"detail": {"status": [{"anything-but": ["SUCCEEDED"]}]}}, True),
    ({"detail": {"startDate": [{"numeric": [">", 10, "<=", 100]}]}}, True),
    ({"detail": {"startDate": [100.0]}}, True),
    ({"detail": {"startDate": ["100"]}}, False),
    ({"detail": {"tags": ["b"]}}, True),
    ({"detail": {"error": [None]}}, True),
    ({"detail": {"status": {"nested": ["x"]}}}, False),
    ({"$or": [{"source": ["aws.other"]}, {"detail": {"name": [{"wildcard": "run-*"}]}}]}, True),
])
def test_pattern_matching(pattern, expected):
    assert matches(pattern, EVENT) is expected
    assert matches(json.dumps(pattern), EVENT) is expected  # a rule's EventPattern is JSON text


def test_an_invalid_pattern_names_the_reason():
    with pytest.raises(ValueError, match="'source' must be an object or an array"):
        matches({"source": "aws.states"}, EVENT)


# --- target input: the examples of AWS's "Amazon EventBridge input transformation" ---------------------------

EC2_EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "EC2 Instance State-change "
    "Notification", "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "count": 0, "on": False,
               "tags": {"team": "data"}},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "missing": "$.detail.nothing",
         "count": "$.detail.count", "on": "$.detail.on", "tags": "$.detail.tags"}


def transformed(template: str, event=EC2_EVENT) -> str:
    target = {"Arn": "x", "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": template}}
    return target_input(target, event, rule_name="example", rule_arn="arn:aws:events:us-east-2:123456789012:rule/"
                        "example", ingestion_time=1_447_277_394.5)


@pytest.mark.parametrize("template, expected", [
    ('"instance <instance> is in <state>"', "instance i-0123456789 is in RUNNING"),
    ('"instance \\"<instance>\\" is in <state>"', 'instance "i-0123456789" is in RUNNING'),
    ('{"instance": <instance>, "state": <state>}', {"instance": "i-0123456789", "state": "RUNNING"}),
    ('{"instance": <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
     {"instance": "i-0123456789", "state": "RUNNING", "instanceStatus": 'instance "i-0123456789" is in RUNNING'}),
    ('{"instance": <instance>, "state": [9, <state>, true], "Transformed": "Yes"}',
     {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"}),
    ('{"ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>}',
     {"ruleArn": "arn:aws:events:us-east-2:123456789012:rule/example", "ruleName": "example",
      "at": "2015-11-11T21:29:54.500Z"}),
    ('"<aws.events.rule-name> triggered"', "example triggered"),
    ('{"n": <count>, "off": <on>, "text": "<count>/<on>"}', {"n": 0, "off": False, "text": "0/false"}),
    ('{"tags": <tags>, "inText": "tags <tags>"}', {"tags": {"team": "data"}, "inText": "tags {team:data}"}),
    ('{"html": "<b>bold</b>"}', {"html": "<b>bold</b>"}),  # not a variable: left as written
])
def test_input_transformer_follows_the_aws_examples(template, expected):
    assert json.loads(transformed(template)) == expected


def test_predefined_event_variables():
    body = json.loads(transformed('{"event": <aws.events.event>, "whole": <aws.events.event.json>}'))
    assert body["whole"] == EC2_EVENT
    assert body["event"] == {key: value for key, value in EC2_EVENT.items() if key != "detail"}


def test_a_path_that_matches_nothing_leaves_nothing():
    # "that variable isn't created and won't appear in the output"
    assert json.loads(transformed('{"m": "<missing>", "s": "[<missing>]"}')) == {"m": "", "s": "[]"}
    with pytest.raises(ValueError):  # unquoted, nothing is left where a value belongs: not JSON
        json.loads(transformed('{"m": <missing>}'))


def test_values_in_quotes_are_not_escaped():
    # What an event's sender controls reaches the template as is: a quote in a quoted placeholder adds fields.
    event = {**EC2_EVENT, "detail": {**EC2_EVENT["detail"], "instance-id": 'i-1", "admin": true, "x": "'}}
    assert json.loads(transformed('{"instance": "<instance>"}', event)) == {"instance": "i-1", "admin": True,
                                                                           "x": ""}
    assert json.loads(transformed('{"instance": <instance>}', event))["instance"] == event["detail"]["instance-id"]


def test_input_input_path_and_whole_event():
    assert target_input({"Arn": "x", "Input": '{"fixed": 1}'}, EC2_EVENT) == '{"fixed": 1}'
    assert json.loads(target_input({"Arn": "x", "InputPath": "$.detail"}, EC2_EVENT)) == EC2_EVENT["detail"]
    assert json.loads(target_input({"Arn": "x", "InputPath": "$.resources[0]"}, EC2_EVENT)) == EC2_EVENT[
        "resources"][0]
    assert json.loads(target_input({"Arn": "x"}, EC2_EVENT)) == EC2_EVENT


# --- PutEvents entries -----------------------------------------------------------------------------------------

def entry(**fields):
    return {"Source": "fixture.jobs", "DetailType": "Run Job", "Detail": json.dumps({"doneAfter": 1}), **fields}


def build(item):
    return event_from_entry(item, account="123456789012", region="us-east-1", now=1_800_000_000.0)


def test_an_entry_becomes_eventbridge_s_envelope():
    built = build(entry(Resources=["arn:aws:s3:::b"], Time="2026-11-24T10:00:00Z", Id="pinned-id",
                        EventBusName="arn:aws:events:us-east-1:123456789012:event-bus/default"))
    assert built.bus == "default"
    assert list(built.event) == ["version", "id", "detail-type", "source", "account", "time", "region",
                                 "resources", "detail"]
    assert built.event == {"version": "0", "id": "pinned-id", "detail-type": "Run Job", "source": "fixture.jobs",
                           "account": "123456789012", "time": "2026-11-24T10:00:00Z", "region": "us-east-1",
                           "resources": ["arn:aws:s3:::b"], "detail": {"doneAfter": 1}}
    first, second = build(entry()), build(entry())
    assert first.event["id"] != second.event["id"]  # two entries are two events
    assert first.event["time"] == "2027-01-15T08:00:00Z"  # the engine clock, whole seconds


@pytest.mark.parametrize("bad, code", [
    (entry(Source="aws.states"), "NotAuthorizedForSourceException"),  # nobody forges an AWS service's event
    ({"DetailType": "Run Job", "Detail": "{}"}, "InvalidArgument"),
    (entry(DetailType=""), "InvalidArgument"),
    ({"Source": "fixture.jobs", "DetailType": "Run Job"}, "InvalidArgument"),
    (entry(Detail="[1]"), "MalformedDetail"),
    (entry(Detail='"text"'), "MalformedDetail"),
    (entry(Detail="{not json"), "MalformedDetail"),
    (entry(Resources="arn:aws:s3:::b"), "InvalidArgument"),
    (entry(Time="yesterday"), "InvalidArgument"),
    (entry(Id=""), "InvalidArgument"),
    (entry(Detial="{}"), "InvalidArgument"),  # a misspelt field is refused, not ignored
])
def test_entries_putevents_refuses(bad, code):
    with pytest.raises(EntryError) as raised:
        build(bad)
    assert raised.value.code == code


def test_request_limits():
    check_request([entry()] * 10)
    for entries in ([], [entry()] * 11, [entry(Detail=json.dumps({"x": "y" * 262_144}))]):
        with pytest.raises(EntryError) as raised:
            check_request(entries)
        assert raised.value.code == "ValidationException"


# --- delivery through a template's own rules -------------------------------------------------------------------

@pytest.fixture
def admission(engine):
    """tests/engine/fixtures/admission-template.yaml: Start Job -> a Lambda that calls StartExecution;
    Run Job -> the state machine directly, through an InputTransformer."""
    return deploy_sam_template(engine, FIXTURES / "admission-template.yaml")


def test_a_state_machine_target_starts_one_execution_per_delivery(engine, admission):
    event = engine.event_from_entry(entry(Detail=json.dumps({"doneAfter": 2})))
    publication = engine.publish([event, event])  # EventBridge delivered it twice (at least once)
    assert len(publication.execution_arns) == 2
    for arn in publication.execution_arns:
        result = engine.wait(arn)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        assert result.output["label"] == f"direct {event.event['id']}"  # one event id, delivered twice
        assert result.output["polls"] == 2


def test_a_lambda_target_that_starts_the_execution_is_found_and_dedups_by_event_id(engine, admission):
    event = engine.event_from_entry(entry(DetailType="Start Job", Detail=json.dumps({"doneAfter": 3})))
    publication = engine.publish([event, event])
    [arn] = publication.execution_arns
    assert arn.endswith(":" + event.event["id"])
    assert [delivery.attempts for delivery in publication.deliveries] == [1, 1]
    assert all(delivery.lambda_payload["started"] in (arn, None) for delivery in publication.deliveries)
    result = engine.wait(arn)
    assert result.status == "SUCCEEDED" and result.output["label"] == f"admitted {event.event['id']}"
    # put_events is publish(...) of fresh events: two entries, two executions
    started = engine.put_events([entry(DetailType="Start Job"), entry(DetailType="Start Job")])
    assert len(started) == 2 and arn not in started


def test_a_failing_lambda_target_is_retried_as_an_asynchronous_invocation(engine, admission):
    clock_before = len(engine.clock.sleeps)
    started = engine.put_events([entry(DetailType="Start Job", Detail=json.dumps({"failAfterStart": True}),
                                       Id="retried-event")])
    [delivery] = [d for d in engine.deliveries if d.event_id == "retried-event"]
    assert delivery.attempts == 3 and delivery.lambda_errored
    assert delivery.lambda_payload["errorType"] == "RuntimeError"
    assert [60.0, 120.0] == [s for s in engine.clock.sleeps[clock_before:] if s in (60.0, 120.0)][:2]
    assert len(started) == 1 and started[0].endswith(":retried-event")  # the retries started nothing new


def test_an_event_no_rule_matches_is_reported(engine, admission):
    publication = engine.publish([engine.event_from_entry(entry(DetailType="Walk Job"))])
    assert publication.deliveries == [] and publication.execution_arns == []
    assert [unmatched.event["detail-type"] for unmatched in publication.unmatched] == ["Walk Job"]


def test_a_transformed_input_that_is_not_json_fails_the_delivery(engine, admission):
    event = engine.event_from_entry(entry(Detail=json.dumps({"label": "no doneAfter"})))
    publication = engine.publish([event])  # InputTemplate {"doneAfter": <doneAfter>, ...}: nothing where a value is
    [delivery] = publication.deliveries
    assert delivery.error.startswith("the target input is not JSON") and delivery.execution_arn is None
    assert publication.execution_arns == []


def test_the_product_template_s_rule_starts_the_execution_from_the_sample_entry():
    from local_tools import product
    from local_tools.emulator import AirbyteEmulator, JobScript

    entries = json.loads((ROOT / "events" / "eventbridge-entry.json").read_text())
    detail = json.loads(entries[0]["Detail"])
    clock = VirtualClock(start=1_800_000_000.0)
    with AirbyteEmulator(auth="bearer", token="t", clock=clock) as emulator, product.engine(clock) as engine:
        emulator.add_connection(detail["connectionId"], script=JobScript.polls("running", "succeeded", rows=5))
        product.deploy(engine, emulator.base_url, {"token": "t"})
        [arn] = engine.put_events(entries)
        result = engine.wait(arn)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert json.loads(result.events[0]["executionStartedEventDetails"]["input"])["connectionId"] == detail[
        "connectionId"]
    assert result.output["rowsSynced"] == 5 and emulator.count("createJob") == 1
