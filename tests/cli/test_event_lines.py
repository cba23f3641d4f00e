"""The event lines `run`, `demo` and `put-events` print for the executions they follow, shown with a fixture
machine through the engine API (the product's machine gets the same lines once it puts its completion event;
test_cli.py and test_start_paths.py check the product's stdout for them)."""
from __future__ import annotations

import io
import json

from cli_harness import ENVELOPE_FIELDS, ROOT

from local_tools.cli.progress import execute, print_events_put
from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

# Two events per execution: one a rule delivers to a Lambda function, one for a bus without rules.
ANNOUNCER = {
    "QueryLanguage": "JSONata", "StartAt": "Announce",
    "States": {"Announce": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
        "Arguments": {"Entries": [
            {"Source": "airbyte-sync", "DetailType": "Airbyte Sync Completed",
             "Detail": {"run": "{% $states.context.Execution.Name %}", "note": "caf\u00e9 \"quoted\""}},
            {"Source": "airbyte-sync", "DetailType": "Airbyte Sync Audited", "EventBusName": "audit",
             "Detail": {"run": "{% $states.context.Execution.Name %}"}}]},
        "End": True}},
}
QUIET = {"QueryLanguage": "JSONata", "StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def test_each_event_the_followed_execution_put_is_one_line_as_a_rule_s_target_receives_it():
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        engine.events.create_event_bus(Name="audit")
        receiver = engine.create_function("receiver", FunctionSpec(
            ROOT / "tests" / "engine" / "fixtures" / "functions", "engine_fixture_handlers.jobs.echo"))
        engine.events.put_rule(Name="completed", EventPattern=json.dumps({"detail-type": ["Airbyte Sync Completed"]}))
        engine.events.put_targets(Rule="completed", Targets=[{"Id": "1", "Arn": receiver}])
        announcer = engine.create_state_machine(ANNOUNCER, name="announcer")

        result, _ = execute(engine, announcer, {}, name="run-7", out=io.StringIO())
        engine.run(announcer, {}, name="run-7-1")  # run-7 continued as new: its events are run-7's too
        engine.run(announcer, {}, name="run-8")  # another execution: not followed
        out = io.StringIO()
        print_events_put(engine, [result.execution_arn], out)
        quiet = engine.run(engine.create_state_machine(QUIET), {})
        nothing = io.StringIO()
        print_events_put(engine, [quiet.execution_arn], nothing)
        for delivery in engine.deliveries:
            assert delivery.wait(30)
        received = {delivery.event_id: delivery.input for delivery in engine.deliveries}

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    lines = out.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    # Oldest first, both of each execution's events (delivered or not), none of run-8's.
    assert [(event["detail"]["run"], event["detail-type"]) for event in events] == [
        ("run-7", "Airbyte Sync Completed"), ("run-7", "Airbyte Sync Audited"),
        ("run-7-1", "Airbyte Sync Completed"), ("run-7-1", "Airbyte Sync Audited")]
    assert all(list(event) == ENVELOPE_FIELDS for event in events)
    assert events[0]["resources"] == [announcer, result.execution_arn]
    # Each line is exactly the text the rule's target got for that event.
    assert [line for line, event in zip(lines, events) if event["id"] in received] == [
        received[events[0]["id"]], received[events[2]["id"]]]
    assert events[0]["detail"]["note"] == 'caf\u00e9 "quoted"'
    assert nothing.getvalue() == ""  # an execution that put no event: no line

