"""x-onEnd compiled (docs/arazzo-extensions.md): every ending of the machine leads to the one ending sequence, its
JSONata evaluated by the reference JSONata (npm jsonata, as AWS); what a document may and may not say, with lines.
Engine runs of the same workflow are in test_on_end_run.py."""
import json
from pathlib import Path

import pytest

from arazzo_sfn import cli, events
from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower

from reference_jsonata import evaluate as evaluate_jsonata

FIXTURES = Path(__file__).parent / "fixtures"
FINISH = FIXTURES / "finish.arazzo.yml"
START_TIME = "2027-01-15T08:00:00.000Z"
START_MILLIS = 1_800_000_000_000


def compiled(path: Path = FINISH, workflow_id: str | None = None) -> dict:
    document, problems = validate(path)
    assert problems == [], [str(p) for p in problems]
    return lower(document, workflow_id, path.name).to_dict()


def evaluate(template: str, now: int = START_MILLIS, **variables) -> object:
    """A `{% %}` template's value, with $millis() and $now() at `now` (milliseconds)."""
    assert template.startswith("{% ") and template.endswith(" %}"), template
    expression = template[3:-3].replace("$millis()", str(now)).replace("$now()", f"$fromMillis({now})")
    return evaluate_jsonata(expression, **variables)


def write(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    (tmp_path / "pets.openapi.yml").write_text((FIXTURES / "pets.openapi.yml").read_text())
    text = FINISH.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / FINISH.name
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, *replacements: tuple[str, str]) -> list[tuple[int | None, str]]:
    _, problems = validate(write(tmp_path, *replacements))
    return [(p.line, p.message) for p in problems]


CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:finish:rex", "Name": "rex",
                         "StartTime": START_TIME, "Input": {"name": "Rex"}}}


# --- the shape -------------------------------------------------------------------------------------------------

def test_every_ending_goes_to_the_one_ending_sequence():
    states = compiled()["States"]
    fails = [name for name, state in states.items() if state["Type"] == "Fail"]
    assert fails == ["Workflow failed"]
    endings = {name for name, state in states.items() if "ending" in (state.get("Assign") or {})
               and state["Type"] == "Pass"}
    assert endings == {"Invalid input", "Continuation refused", "create error", "create failed: Pets.NameTaken",
                       "create failed", "watch error", "watch failed", "watch loop limit reached",
                       "watch loop continuation failed", "Workflow failed: Pets.Sick"}
    assert all(states[name]["Next"] == "Workflow end" for name in endings)
    assert states["watch loop continue as new"]["Next"] == "Workflow end"
    # Every Task of a step ends through the sequence when it fails for good (x-onError's after its cleanup).
    assert states["create"]["Catch"][0]["Next"] == "create error"
    assert states["watch"]["Catch"][0]["Next"] == "watch error cleanup: release"
    assert states["Workflow result"]["Default"] == "Workflow end"
    order = list(states)
    assert order[order.index("Workflow end"):] == [
        "Workflow end", "Workflow end tasks", "Workflow end: announce", "Workflow end: metrics", "Workflow ending",
        "Workflow failed", "Workflow succeeded"]


def test_end_tasks_are_best_effort():
    states = compiled()["States"]
    for name, next_state in (("Workflow end: announce", "Workflow end: metrics"),
                             ("Workflow end: metrics", "Workflow ending")):
        task = states[name]
        assert (task["Next"], task["TimeoutSeconds"]) == (next_state, 30)
        assert task["Retry"] == [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2,
                                  "BackoffRate": 2, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}]
        assert task["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": next_state}]
    assert states["Workflow end: announce"]["Resource"] == "arn:aws:states:::events:putEvents"
    # A DefinitionSubstitutions placeholder stays text for the deployment.
    assert states["Workflow end: announce"]["Arguments"]["Entries"][0]["EventBusName"] == "${PetEventBusName}"


def test_only_an_execution_without_arazzo_resume_runs_the_tasks():
    choice = compiled()["States"]["Workflow end tasks"]
    [rule] = choice["Choices"]
    assert (rule["Next"], choice["Default"]) == ("Workflow ending", "Workflow end: announce")
    for given, skips in (({"name": "Rex"}, False), ({"name": "Rex", "arazzoResume": {}}, True), ("text", False),
                         ([{"arazzoResume": 1}], False)):
        assert evaluate(rule["Condition"], states={"context": {"Execution": {"Input": given}}}) is skips, given


# --- $end ------------------------------------------------------------------------------------------------------

def end_record(ending: object = None, now: int = START_MILLIS + 90_500, loop: int = 4) -> dict:
    assign = compiled()["States"]["Workflow end"]["Assign"]
    variables = {"states": {"context": CONTEXT}, "loop_watch": {"iteration": loop}}
    if ending is not None:
        variables["ending"] = ending
    return evaluate(assign["end"], now=now, **variables)


def test_the_end_record_of_a_success():
    assert end_record() == {"status": "SUCCEEDED", "error": None, "cause": None, "outcome": "SUCCEEDED",
                            "executionArn": CONTEXT["Execution"]["Id"], "startTime": START_TIME,
                            "endTime": "2027-01-15T08:01:30.500Z", "durationSeconds": 90.5,
                            "iterations": {"create": 0, "watch": 4}}


def test_the_end_record_of_a_failure():
    record = end_record({"error": "Pets.Sick", "cause": '{"petId":3}'})
    assert {key: record[key] for key in ("status", "error", "cause", "outcome")} == {
        "status": "FAILED", "error": "Pets.Sick", "cause": '{"petId":3}', "outcome": "Pets.Sick"}
    # A Fail state may not raise a States. error: renamed, its cause kept; a missing cause is null.
    record = end_record({"error": "States.Timeout", "cause": None})
    assert (record["error"], record["outcome"], record["cause"]) == ("Arazzo.StepFailed", "Arazzo.StepFailed", None)


def test_a_continuations_record_supplies_the_outputs_and_loop_counts():
    record = end_record({"error": None, "cause": None, "outputs": {"petId": 8, "state": "ready"},
                         "iterations": {"create": 0, "watch": 7}})
    assert (record["status"], record["iterations"]) == ("SUCCEEDED", {"create": 0, "watch": 7})
    outputs = compiled()["States"]["Workflow end"]["Assign"]["outputs"]
    steps = {"create": {"outputs": {"id": 1}}, "watch": {"outputs": {"state": "preparing"}}}
    assert evaluate(outputs, ending={"outputs": {"petId": 8, "state": "ready"}}, steps=steps) == {
        "petId": 8, "state": "ready"}
    # Without one the outputs come from the steps, also on a failure path: missing values are null.
    assert evaluate(outputs, ending={"error": "X.Y"}, steps={"create": {"outputs": {"id": 1}}}) == {
        "petId": 1, "state": None}


def test_the_first_execution_ends_with_the_record_a_continuation_hands_on():
    states = compiled()["States"]
    record = {"error": "Pets.Sick", "cause": '{"petId":9}', "outputs": {"petId": 9, "state": "sick"},
              "iterations": {"create": 0, "watch": 3}}
    end = {"status": "FAILED", **{k: record[k] for k in ("error", "cause", "iterations")}}
    fail = states["Workflow failed"]
    # The continuation fails with the record inside its Cause ...
    cause = evaluate(fail["Cause"], end=end, outputs=record["outputs"], resume={"generation": 1})
    assert json.loads(cause) == {"arazzoEnd": record}
    assert evaluate(fail["Error"], end=end) == "Pets.Sick"
    # ... which its parent unpacks from the DescribeExecution output of .sync:2.
    child = {"Error": "Pets.Sick", "Cause": cause, "Status": "FAILED"}
    ending = states["watch loop continuation failed"]["Assign"]["ending"]
    assert evaluate(ending, continuation={"Error": "States.TaskFailed", "Cause": json.dumps(child)}) == record
    # A first execution ends with the plain cause.
    assert evaluate(fail["Cause"], end=end, outputs={}, resume=None) == '{"petId":9}'
    # A child that ended without a record (stopped): its error and cause, the parent's own outputs later.
    stopped = {"Error": "States.Aborted", "Cause": "stopped by an operator", "Status": "ABORTED"}
    assert evaluate(ending, continuation={"Error": "States.TaskFailed", "Cause": json.dumps(stopped)}) == {
        "error": "Arazzo.ContinuationFailed", "cause": "stopped by an operator"}
    succeed = states["Workflow succeeded"]["Output"]
    success = {"status": "SUCCEEDED", "error": None, "cause": None, "iterations": {"create": 0, "watch": 7}}
    assert evaluate(succeed, end=success, outputs={"petId": 8}, resume={"generation": 2}) == {
        "arazzoEnd": {"error": None, "cause": None, "outputs": {"petId": 8}, "iterations": {"create": 0, "watch": 7}}}
    assert evaluate(succeed, end=success, outputs={"petId": 8}, resume=None) == {"petId": 8}
    handed_on = states["watch loop continue as new"]["Assign"]["ending"]
    assert evaluate(handed_on, states={"result": {"Output": {"arazzoEnd": record}}}) == record
    assert evaluate(handed_on, states={"result": {"Output": {"petId": 8}}}) == {"outputs": {"petId": 8}}


def test_end_task_arguments_are_null_where_nothing_is_known():
    detail = compiled()["States"]["Workflow end: announce"]["Arguments"]["Entries"][0]["Detail"]
    end = end_record({"error": "Arazzo.InvalidInput", "cause": "name: must have at least 1 characters"})
    values = {key: evaluate(value, end=end, inputs={}, outputs={"petId": None, "state": None})
              for key, value in detail.items()}
    assert values == {"name": None, "petId": None, "state": None, "status": "FAILED", "error": "Arazzo.InvalidInput",
                      "cause": "name: must have at least 1 characters", "executionArn": CONTEXT["Execution"]["Id"],
                      "startTime": START_TIME, "endTime": "2027-01-15T08:01:30.500Z", "durationSeconds": 90.5,
                      "checks": 4, "summary": ": Arazzo.InvalidInput"}


def test_a_recorded_cause_that_finds_nothing_is_null():
    ending = compiled()["States"]["create error"]["Assign"]["ending"]
    assert evaluate(ending["cause"], stepError={"Error": "States.Timeout"}) is None
    assert evaluate(ending["error"], stepError={"Error": "States.Timeout"}) == "Arazzo.StepFailed"


def test_the_diagram_shows_each_ending_with_its_error():
    diagram = cli.mermaid(compiled())
    assert '[["Invalid input: Arazzo.InvalidInput"]]' in diagram
    assert '[["create failed: Arazzo.SuccessCriteriaFailed"]]' in diagram
    assert '["Workflow end: announce"]' in diagram and '[["Workflow failed"]]' in diagram


# --- the history budget ----------------------------------------------------------------------------------------

def test_the_ending_sequence_is_in_the_history_budget(tmp_path):
    document, _ = validate(FINISH)
    workflow = document.workflows[0]
    # Two Passes, two Choices, and each task with its two retries.
    assert events.ending_events(workflow) == 2 * events.PASS + 2 * events.CHOICE + 2 * (events.TASK + 2 * events.RETRY)
    watch = workflow.step("watch")
    fit = events.iterations_per_execution(workflow, watch, watch, document, 1)
    each = events.iteration_events(workflow, watch, watch, document)
    assert fit == (events.HISTORY_LIMIT - events.RESERVE - events.ending_events(workflow)) // each
    assert problems_of(tmp_path, ("continueAsNewAfter: 2", f"continueAsNewAfter: {fit}")) == []
    [(line, message)] = problems_of(tmp_path, ("continueAsNewAfter: 2", f"continueAsNewAfter: {fit + 1}"))
    assert line == 38 and f"at most {fit} iterations fit" in message


# --- what a document may say -----------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, line, message", [
    ("  - name: announce\n", "  - name: 'announce!'\n", 65,
     "x-onEnd name must be words of [A-Za-z0-9_-] (one space between), found 'announce!'"),
    ("  - name: metrics\n", "  - name: announce\n", 85, "duplicate x-onEnd name 'announce'"),
    ("  - name: metrics\n", f"  - name: {'m' * 67}\n", 85,
     f"x-onEnd name {'m' * 67!r}: the state {'Workflow end: ' + 'm' * 67!r} would have 81 characters; "
     "Step Functions allows 80"),
    ("resource: arn:aws:states:::events:putEvents", "resource: arn:aws:lambda:us-east-1:1:function:f", 66,
     "x-onEnd resource must be a Step Functions integration arn:aws:states:::<service>:<action>, found "
     "'arn:aws:lambda:us-east-1:1:function:f'"),
    (FINISH.read_text()[FINISH.read_text().index("    arguments:\n      Namespace: Pets"):], "    arguments: [Pets]\n", 87,
     "x-onEnd arguments must be a mapping (the Task's Arguments)"),
    ("  - name: metrics\n", "  - name: metrics\n    timeoutSeconds: 0\n", 86,
     "x-onEnd timeoutSeconds must be an integer from 1 to 99999999, found 0"),
    ("  - name: metrics\n", "  - name: metrics\n    retry: 3\n", 86,
     "unknown x-onEnd key 'retry' (known: name, resource, arguments, timeoutSeconds, when)"),
    ("  - name: metrics\n", f"  - name: {'m' * 66}\n    when: {{condition: $end.status == 'FAILED'}}\n", 85,
     f"x-onEnd name {'m' * 66!r}: the state {'Workflow end: ' + 'm' * 66 + '?'!r} would have 81 characters; "
     "Step Functions allows 80"),
    ("  - name: metrics\n", "  - name: metrics\n    when: $end.status == 'FAILED'\n", 86,
     "x-onEnd when is a criterion: {condition, context?, type?}"),
    ("  - name: metrics\n", "  - name: metrics\n    when: {condition: $response.body == 1}\n", 86,
     "$response.body is only meaningful where a step's response is known"),
    ("          checks: $end.iterations.watch\n", "          checks: $end.iterations.nothing\n", 65,
     "$end.iterations.nothing is not a step of this workflow"),
    ("          checks: $end.iterations.watch\n", "          checks: $end.started\n", 65,
     "$end.started: $end has status, error, cause, outcome, executionArn, startTime, endTime, durationSeconds and "
     "iterations.<stepId>"),
    ("          checks: $end.iterations.watch\n", "          checks: $response.body\n", 65,
     "$response.body is only meaningful where a step's response is known"),
    ("    state: $steps.watch.outputs.state\n", "    state: $end.status\n", 58,
     "$end.status is only meaningful in x-onEnd arguments"),
    ("    - {name: petId, in: path, value: $steps.create.outputs.id}\n    successCriteria",
     "    - {name: petId, in: path, value: $end.error}\n    successCriteria", 30,
     "$end.error is only meaningful in x-onEnd arguments"),
    ("    - condition: $statusCode == 409\n", "    - condition: $end.status == 'FAILED'\n", 26,
     "$end.status is only meaningful in x-onEnd arguments"),
    ("    cause: {petId: $outputs.petId}\n", "    cause: {petId: $end.cause}\n", 61,
     "$end.cause is only meaningful in x-onEnd arguments"),
    ("    x-onError: {cleanupStepId: release}\n", "    x-onError: {cleanupStepId: release}\n    x-onEnd: []\n", 33,
     "x-onEnd applies to a workflow (it runs when the workflow ends)"),
    ("  x-onEnd:\n  - name: announce", "  x-onEnd: []\n  x-unused:\n  - name: announce", 64,
     "x-onEnd must be a non-empty list of {name, resource, arguments}"),
])
def test_what_x_on_end_may_say_is_checked_with_lines(tmp_path, old, new, line, message):
    assert problems_of(tmp_path, (old, new)) == [(line, message)]


def test_a_workflow_a_step_runs_may_not_have_x_on_end(tmp_path):
    called = """
- workflowId: caller
  steps:
  - stepId: run
    workflowId: finish
    parameters:
    - {name: name, value: Rex}
"""
    path = write(tmp_path, ("  x-onEnd:\n", "  x-onEnd:\n"))
    path.write_text(path.read_text() + called)
    _, problems = validate(path)
    assert ("caller", "run", "workflow finish has x-onEnd: it runs when the compiled workflow ends, not when a "
                             "workflow a step runs ends") in [(p.workflow_id, p.step_id, p.message) for p in problems]


def test_a_workflow_without_x_on_end_ends_as_before(tmp_path):
    """The same workflow without x-onEnd: Fail states, a Succeed, no ending sequence, no added Catch."""
    text = FINISH.read_text()
    path = write(tmp_path, (text[text.index("  x-onEnd:\n"):], ""))
    states = compiled(path)["States"]
    assert not [name for name in states if name.startswith("Workflow end")]
    assert states["create failed"]["Type"] == states["Invalid input"]["Type"] == "Fail"
    assert "Catch" not in states["create"] and "Next" not in states["watch loop continue as new"]


def test_a_called_workflows_endings_and_retries_end_through_the_sequence(tmp_path):
    """A workflow a step runs is lowered inline: its endings are the compiled workflow's endings too."""
    (tmp_path / "pets.openapi.yml").write_text((FIXTURES / "pets.openapi.yml").read_text())
    text = (FIXTURES / "adopt.arazzo.yml").read_text()
    anchor = "    orderId: $steps.order.outputs.orderId\n"
    assert anchor in text
    path = tmp_path / "adopt.arazzo.yml"
    path.write_text(text.replace(anchor, anchor + """  x-onEnd:
  - name: announce
    resource: arn:aws:states:::events:putEvents
    arguments:
      Entries: [{Source: pets, DetailType: Adopted, Detail: {orderId: $outputs.orderId, error: $end.error}}]
"""))
    states = compiled(path, "adopt")["States"]
    assert [name for name, state in states.items() if state["Type"] == "Fail"] == ["Workflow failed"]
    assert states["order > place failed"] == {"Type": "Pass", "Assign": {"ending": {
        "error": "Arazzo.SuccessCriteriaFailed", "cause": states["order > place failed"]["Assign"]["ending"]["cause"]}},
        "Next": "Workflow end"}
    assert states["order > place"]["Catch"][0]["Next"] == "order > place error"
    assert states["order > place error"]["Next"] == "Workflow end"
    # The retry action and the loop keep their own states; only endings changed.
    assert states["busy wait"]["Type"] == "Wait" and states["waitUntilReady loop wait"]["Type"] == "Wait"
