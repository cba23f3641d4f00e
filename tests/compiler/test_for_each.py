"""x-forEach compiled (docs/arazzo-extensions.md): an Inline Map over the items, inline or each an execution of
another state machine; its JSONata evaluated by the reference JSONata (npm jsonata, as AWS); the `type: arazzo`
source descriptions it can run workflows of; what a document may and may not say, with lines. Engine runs are in
test_for_each_run.py."""
import json
from pathlib import Path

import pytest

from arazzo_sfn import events
from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower

from reference_jsonata import evaluate as evaluate_jsonata

FIXTURES = Path(__file__).parent / "fixtures"
MANY = FIXTURES / "many.arazzo.yml"


def compiled(workflow_id: str, path: Path = MANY) -> dict:
    document, problems = validate(path)
    assert problems == [], [str(p) for p in problems]
    return lower(document, workflow_id, path.name).to_dict()


def evaluate(template: str, **variables) -> object:
    assert template.startswith("{% ") and template.endswith(" %}"), template
    return evaluate_jsonata(template[3:-3], **variables)


def write(tmp_path: Path, *replacements: tuple[str, str], text: str | None = None) -> Path:
    for name in ("pets.openapi.yml", "finish.arazzo.yml"):
        (tmp_path / name).write_text((FIXTURES / name).read_text())
    text = MANY.read_text() if text is None else text
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / MANY.name
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, *replacements: tuple[str, str]) -> list[tuple[str, int | None, str]]:
    _, problems = validate(write(tmp_path, *replacements))
    return [(Path(p.file).name, p.line, p.message) for p in problems]


ROWS = [
    {"item": "Rex", "outputs": {"petId": 1, "state": "ready"}, "status": "SUCCEEDED", "error": None,
     "outcome": "SUCCEEDED"},
    {"item": "Kit", "outputs": None, "status": "FAILED", "error": "Pets.NameTaken", "outcome": "Pets.NameTaken"},
    {"item": "Bo", "outputs": {"petId": 3, "state": "ready"}, "status": "SUCCEEDED", "error": None,
     "outcome": "SUCCEEDED"},
]


# --- the shape -------------------------------------------------------------------------------------------------

def test_the_step_is_an_items_check_then_an_inline_map():
    states = compiled("adopt-all")["States"]
    assert states["Check inputs"]["Default"] == "adoptEach items"
    check = states["adoptEach items"]
    assert (check["Choices"][0]["Next"], check["Default"]) == ("adoptEach too many items", "adoptEach")
    assert states["adoptEach too many items"]["Error"] == "Arazzo.TooManyItems"
    each = states["adoptEach"]
    assert (each["Type"], each["ItemProcessor"]["ProcessorConfig"], each["Next"]) == (
        "Map", {"Mode": "INLINE"}, "Workflow outputs")
    assert each["ItemSelector"] == {"item": "{% $states.context.Map.Item.Value %}",
                                    "index": "{% $states.context.Map.Item.Index %}"}
    inner = each["ItemProcessor"]["States"]
    assert each["ItemProcessor"]["StartAt"] == "adoptEach item"
    # The called workflow's states, prefixed; every ending inside ends the item, never the workflow.
    assert [s["Type"] for s in inner.values()].count("Fail") == 0
    endings = [name for name, s in inner.items() if s.get("Next") == "adoptEach item failed"]
    assert set(endings) == {"adoptEach > create error", "adoptEach > create failed: Pets.NameTaken",
                            "adoptEach > create failed", "adoptEach > watch error",
                            "adoptEach > watch loop limit reached", "adoptEach > watch failed"}
    assert inner["adoptEach > create"]["Catch"][0]["Next"] == "adoptEach > create error"
    # Its working variables are its own: a Map iteration may not assign the outer scope's.
    assert inner["adoptEach > create"]["Catch"][0]["Assign"] == {
        "each_adoptEach_stepError": "{% $states.errorOutput %}"}
    assert list(inner["adoptEach > create failed"]["Assign"]) == ["each_adoptEach_ending"]


def test_an_x_execution_item_is_a_child_execution_linked_to_its_parent():
    each = compiled("watch-all")["States"]["watchEach"]
    assert each["MaxConcurrency"] == 2
    task = each["ItemProcessor"]["States"]["watchEach item"]
    assert (task["Resource"], task["End"]) == ("arn:aws:states:::states:startExecution.sync:2", True)
    assert task["Arguments"]["StateMachineArn"] == "${FinishStateMachineArn}"
    given = {"input": {"item": "Rex", "index": 2},
             "context": {"Execution": {"Name": "nightly", "Id": "arn:aws:states:us-east-1:1:execution:w:nightly"}}}
    assert evaluate(task["Arguments"]["Input"], states=given, inputs={}) == {
        "name": "Rex", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:1:execution:w:nightly"}
    name = evaluate(task["Arguments"]["Name"], states=given)
    assert name.startswith("nightly-") and name.endswith("-2")
    # Deterministic; another parent, another step or another item is another name; at most 80 characters.
    assert evaluate(task["Arguments"]["Name"], states=given) == name
    other = json.loads(json.dumps(given))
    other["context"]["Execution"]["Name"] = "nightly2"
    assert evaluate(task["Arguments"]["Name"], states=other) != name
    other_step = task["Arguments"]["Name"].replace("/watchEach", "/watchOther")
    assert evaluate(other_step, states=given) != name
    given["context"]["Execution"]["Name"] = "n" * 80
    given["input"]["index"] = 99999
    assert len(evaluate(task["Arguments"]["Name"], states=given)) <= 80
    assert task["Retry"][0]["ErrorEquals"][0] == "StepFunctions.ExecutionLimitExceeded"


def test_a_failed_child_gives_its_own_error_and_no_cause():
    task = compiled("watch-all")["States"]["watchEach"]["ItemProcessor"]["States"]["watchEach item"]
    [catch] = task["Catch"]
    assert catch["Next"] == "watchEach item failed"
    child = {"Status": "FAILED", "Error": "Pets.Sick", "Cause": '{"petId": 3, "secret": "x"}'}
    state = {"input": {"item": "Bo", "index": 1}, "errorOutput": {"Error": "States.TaskFailed",
                                                                  "Cause": json.dumps(child)}}
    assert evaluate(catch["Output"], states=state) == {"item": "Bo", "outputs": None, "status": "FAILED",
                                                       "error": "Pets.Sick", "outcome": "Pets.Sick"}
    # A start that failed for good (after its retries): the start's error.
    state["errorOutput"] = {"Error": "StepFunctions.ExecutionLimitExceeded", "Cause": "too many executions"}
    assert evaluate(catch["Output"], states=state)["error"] == "StepFunctions.ExecutionLimitExceeded"
    assert evaluate(task["Output"], states={"input": {"item": "Rex"}, "result": {"Output": {"petId": 1}}}) == {
        "item": "Rex", "outputs": {"petId": 1}, "status": "SUCCEEDED", "error": None, "outcome": "SUCCEEDED"}


def test_the_outputs_are_lists_in_item_order_and_the_summary_totals():
    assign = compiled("adopt-all")["States"]["adoptEach"]["Assign"]["steps"]
    steps = evaluate(assign, states={"result": ROWS}, steps={})
    assert steps == {"adoptEach": {"outputs": {
        "names": ["Rex", "Kit", "Bo"], "petIds": [1, None, 3], "errors": [None, "Pets.NameTaken", None],
        "byStatus": {"SUCCEEDED": 2, "FAILED": 1}, "petIdTotal": 4}}}
    # One item (a list of one is still a list), no item, an item whose output is itself a list.
    one = evaluate(assign, states={"result": ROWS[:1]}, steps={})["adoptEach"]["outputs"]
    assert (one["names"], one["petIds"], one["byStatus"]) == (["Rex"], [1], {"SUCCEEDED": 1})
    none = evaluate(assign, states={"result": []}, steps={})["adoptEach"]["outputs"]
    assert none == {"names": [], "petIds": [], "errors": [], "byStatus": {}, "petIdTotal": 0}
    listed = [dict(ROWS[0], item=["Rex", "Max"]), ROWS[2]]
    assert evaluate(assign, states={"result": listed}, steps={})["adoptEach"]["outputs"]["names"] == [
        ["Rex", "Max"], "Bo"]


@pytest.mark.parametrize("names, items", [(["Rex", "Kit"], ["Rex", "Kit"]), (["Rex"], ["Rex"]), ([], []),
                                          (None, []), ("Rex", ["Rex"])])
def test_the_items_are_the_list_none_or_one_value(names, items):
    each = compiled("adopt-all")["States"]["adoptEach"]
    assert evaluate(each["Items"], inputs={"names": names}) == items


@pytest.mark.parametrize("given, limit", [(3, 3), (2.7, 2), (-1, 0), ("many", 1), (None, 1)])
def test_max_concurrency_from_the_inputs_is_a_whole_number_from_0(given, limit):
    each = compiled("adopt-all")["States"]["adoptEach"]
    assert evaluate(each["MaxConcurrency"], inputs={"maxConcurrency": given}) == limit


def test_more_items_than_x_max_items_fail_before_any_runs():
    states = compiled("adopt-all")["States"]
    rule = states["adoptEach items"]["Choices"][0]
    assert evaluate(rule["Condition"], inputs={"names": ["a"] * 10}) is False
    assert evaluate(rule["Condition"], inputs={"names": ["a"] * 11}) is True
    assert evaluate(states["adoptEach too many items"]["Cause"], inputs={"names": ["a"] * 11}) == (
        "x-forEach of step adoptEach: 11 items, at most 10 in one execution (x-maxItems)")


# --- the history budget ----------------------------------------------------------------------------------------

def test_x_max_items_items_are_in_the_history_budget(tmp_path):
    document, _ = validate(MANY)
    watch_all, adopt_all = document.workflow("watch-all"), document.workflow("adopt-all")
    # A child execution: its iteration, the .sync Task with every start retry, the item's last state.
    assert events.item_events(watch_all.steps[0], document) == 2 + 6 + 3 * 5 + 2
    # Inline: the whole workflow, each loop to its maxIterations.
    adopt_one = document.workflow("adopt-one")
    create, watch = adopt_one.steps
    per_item = (2 + events.step_events(create, adopt_one, document) + events.step_events(watch, adopt_one, document)
                + 2 + 3 * events.iteration_events(adopt_one, watch, watch, document))
    assert events.item_events(adopt_all.steps[0], document) == 2 + 2 + per_item + 2
    fit = (events.HISTORY_LIMIT - events.RESERVE - 2 - 4) // events.item_events(watch_all.steps[0], document)
    assert problems_of(tmp_path, ("    x-maxConcurrency: 2\n", f"    x-maxConcurrency: 2\n    x-maxItems: {fit}\n")) == []
    assert problems_of(tmp_path, ("    x-maxConcurrency: 2\n", f"    x-maxConcurrency: 2\n    x-maxItems: {fit + 1}\n")) == [
        ("many.arazzo.yml", 83, f"x-maxItems {fit + 1}: an item of this step can write 25 history events, so at most "
                                f"{fit} items fit in one execution (25,000 events)")]


# --- what a document may say -----------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, line, message", [
    ("    x-forEach: $inputs.names\n    x-maxConcurrency: $inputs.maxConcurrency\n",
     "    x-forEach: names\n    x-maxConcurrency: $inputs.maxConcurrency\n", 17,
     "x-forEach must be a runtime expression that yields a list"),
    ("    x-maxConcurrency: $inputs.maxConcurrency\n", "    x-maxConcurrency: -1\n", 18,
     "x-maxConcurrency must be an integer from 0 (no limit) or a runtime expression, found -1"),
    ("    x-maxItems: 10\n", "    x-maxItems: 0\n", 19, "x-maxItems must be a positive integer, found 0"),
    ('    x-execution: {stateMachineArn: "${FinishStateMachineArn}"}\n', "    x-execution: {stateMachineArn: finish}\n",
     85, "x-execution must be {stateMachineArn: <a ${Key} placeholder, or "
         "arn:aws:states:<region>:<account>:stateMachine:<name>>}"),
    ("      byStatus: {countBy: $end.status}\n", "      byStatus: {max: $end.status}\n", 27,
     "x-summary byStatus: one of {countBy: <expression>} or {sum: <expression>}"),
    ("      byStatus: {countBy: $end.status}\n", "      names: {countBy: $end.status}\n", 27,
     "x-summary name 'names' must match ^[a-zA-Z0-9.\\-_]+$ and differ from the outputs"),
    ("    x-forEach: $inputs.names\n    x-maxConcurrency", "    x-maxConcurrency", 17,
     "x-maxConcurrency applies to a step with x-forEach"),
    ("    outputs: {id: $response.body#/id}\n", "    outputs: {id: $response.body#/id}\n    x-forEach: $inputs.x\n",
     57, "x-forEach applies to a step that runs a workflow (workflowId)"),
])
def test_what_x_for_each_may_say_is_read_with_lines(tmp_path, old, new, line, message):
    assert (line, message) in [(found_line, found) for _, found_line, found in problems_of(tmp_path, (old, new))]


@pytest.mark.parametrize("old, new, line, message", [
    ("      errors: $end.error\n    x-summary:\n      byStatus", "      errors: $end.cause\n    x-summary:\n      byStatus",
     15, "$end.cause: $end has status, error, outcome here"),
    ("      petIds: $outputs.petId\n      errors: $end.error\n    x-summary:\n      byStatus",
     "      petIds: $outputs.id\n      errors: $end.error\n    x-summary:\n      byStatus", 15,
     "$outputs.id is not an output of workflow adopt-one"),
    ("    payload: {name: $inputs.name}\n", "    payload: {name: $item}\n", 46,
     "$item is only meaningful in an x-forEach step's parameters, outputs and x-summary"),
    ("    names: $steps.adoptEach.outputs.names\n", "    names: $item.name\n", 30,
     "$item.name is only meaningful in an x-forEach step's parameters, outputs and x-summary"),
    ("    x-maxItems: 10\n", "    x-maxItems: 10\n    successCriteria: [{condition: $statusCode == 200}]\n", 17,
     "an x-forEach step has no successCriteria, onSuccess, onFailure (the workflow's successActions and "
     "failureActions included), x-onNoMatch, x-failWhen, x-retry, x-onError, x-timeoutSeconds or x-cleanupOnly: "
     "an item's outcome is its workflow's, and the step's outputs report it"),
    ("maxWaitSeconds: 30, maxIterations: 3}", "maxWaitSeconds: 30, maxIterations: $inputs.checks}", 17,
     "workflow adopt-one runs inline for each item, so each of its loops needs a literal maxIterations (the items "
     "are budgeted in this execution's history); or use x-execution"),
])
def test_what_x_for_each_may_say_is_checked_with_lines(tmp_path, old, new, line, message):
    assert (line, message) in [(found_line, found) for _, found_line, found in problems_of(tmp_path, (old, new))]


def test_an_x_for_each_step_may_not_be_in_a_loop(tmp_path):
    loop = """  - stepId: again
    operationId: getPet
    parameters:
    - {name: petId, in: path, value: 1}
    successCriteria:
    - condition: $statusCode == 200
    onSuccess:
    - {name: more, type: goto, stepId: adoptEach, criteria: [{condition: $statusCode == 200}]}
  outputs:
    names: $steps.adoptEach.outputs.names
"""
    found = problems_of(tmp_path, ("  outputs:\n    names: $steps.adoptEach.outputs.names\n", loop))
    assert (17, "an x-forEach step may not be inside a loop") in [(line, m) for _, line, m in found]


# --- type: arazzo source descriptions ----------------------------------------------------------------------------

def test_a_workflow_of_another_document_runs_inline_too(tmp_path):
    path = write(tmp_path, ('    x-execution: {stateMachineArn: "${FinishStateMachineArn}"}\n', ""),
                 ("    x-maxConcurrency: 2\n", "    x-maxConcurrency: 2\n    x-maxItems: 3\n"))
    _, problems = validate(path)
    # Inline, finish's input checks and end tasks would not run, and its loop bound (from its inputs) cannot be
    # budgeted: each is a problem; as an x-execution child none is.
    assert [p.message.split(":")[0] for p in problems] == [
        "workflow finish has x-inputChecks", "workflow finish has x-onEnd",
        "workflow finish runs inline for each item, so each of its loops needs a literal maxIterations (the items "
        "are budgeted in this execution's history); or use x-execution"]
    finish = (FIXTURES / "finish.arazzo.yml").read_text()
    finish = finish[:finish.index("  x-onEnd:\n")].replace("maxIterations: $inputs.maxChecks", "maxIterations: 4")
    finish = finish.replace(finish[finish.index("  x-inputChecks:\n"):finish.index("  steps:\n")], "")
    (tmp_path / "finish.arazzo.yml").write_text(finish)
    document, problems = validate(path)
    assert problems == [], [str(p) for p in problems]
    inner = lower(document, "watch-all", path.name).to_dict()["States"]["watchEach"]["ItemProcessor"]["States"]
    # The other document's workflow, with the other document's operations.
    assert inner["watchEach > create"]["Arguments"]["FunctionName"] == "${CreatePetFunctionArn}"
    assert "watchEach > watch loop wait" in inner


@pytest.mark.parametrize("source, workflow, file, line, message", [
    ("./missing.arazzo.yml", "finish", "many.arazzo.yml", 5, "missing.arazzo.yml: cannot read: No such file"),
    ("../../outside.arazzo.yml", "finish", "many.arazzo.yml", 5, "is outside"),
    ("./finish.arazzo.yml", "nothing", "many.arazzo.yml", 82,
     "$sourceDescriptions.watching.nothing: workflow 'nothing' is not in finish.arazzo.yml"),
    ("./many.arazzo.yml", "finish", "many.arazzo.yml", 5,
     "source description 'watching' names a document that names this one"),
])
def test_arazzo_source_descriptions_are_read_with_their_problems(tmp_path, source, workflow, file, line, message):
    path = write(tmp_path, ("url: ./finish.arazzo.yml, type: arazzo", f"url: {source}, type: arazzo"),
                 ("$sourceDescriptions.watching.finish", f"$sourceDescriptions.watching.{workflow}"))
    _, problems = validate(path)
    assert any((Path(p.file).name, p.line) == (file, line) and message in p.message for p in problems), [
        str(p) for p in problems]


def test_problems_of_the_other_document_name_its_own_file_and_line(tmp_path):
    path = write(tmp_path)
    (tmp_path / "finish.arazzo.yml").write_text((FIXTURES / "finish.arazzo.yml").read_text().replace(
        "    error: Pets.NameTaken\n", "    error: States.NameTaken\n"))
    _, problems = validate(path)
    assert [(Path(p.file).name, p.line, p.message) for p in problems] == [
        ("finish.arazzo.yml", 27, "error 'States.NameTaken': a Fail state may not raise a 'States.' error")]
