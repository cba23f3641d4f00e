"""The x- extensions of docs/arazzo-extensions.md, compiled and their JSONata evaluated by a real JSONata engine:
x-timeoutSeconds, step-level x-failWhen, x-inputChecks, x-fixed, reserved continuation keys, continue-as-new.
Engine runs of the same features are in test_extensions_run.py."""
import json
import textwrap
from pathlib import Path

import pytest

from arazzo_sfn.lower import lower
from arazzo_sfn.check import validate

from reference_jsonata import evaluate as evaluate_jsonata

FIXTURES = Path(__file__).parent / "fixtures"
WATCH = FIXTURES / "watch.arazzo.yml"
SUBSTITUTIONS = {"AllowedKinds": "['cat', 'dog']", "MaxChecks": "5"}


def compiled(path: Path = WATCH) -> dict:
    document, problems = validate(path)
    assert problems == [], [str(p) for p in problems]
    text = json.dumps(lower(document, None, path.name).to_dict())
    for key, value in SUBSTITUTIONS.items():
        text = text.replace("${%s}" % key, value.replace("'", "\\u0027"))
    return json.loads(text)


def evaluate(template: str, **variables) -> object:
    assert template.startswith("{% ") and template.endswith(" %}"), template
    return evaluate_jsonata(template[3:-3], **variables)


def check_inputs(given: object) -> tuple[str, object]:
    """Read inputs then Check inputs, as the machine runs them: the next state and the input errors."""
    states = compiled()["States"]
    inputs = evaluate(states["Read inputs"]["Assign"]["inputs"], states={"input": given})
    for rule in states["Check inputs"]["Choices"]:
        if evaluate(rule["Condition"], states={"input": given}, inputs=inputs):
            errors = rule.get("Assign", {}).get("inputErrors")
            if isinstance(errors, str):
                errors = evaluate(errors, states={"input": given}, inputs=inputs)
            return rule["Next"], errors
    return states["Check inputs"]["Default"], inputs


def write(tmp_path: Path, replace: tuple[str, str]) -> Path:
    (tmp_path / "pets.openapi.yml").write_text((FIXTURES / "pets.openapi.yml").read_text())
    text = WATCH.read_text()
    assert replace[0] in text, replace[0]
    path = tmp_path / "watch.arazzo.yml"
    path.write_text(text.replace(*replace))
    return path


def problems_of(tmp_path: Path, replace: tuple[str, str]) -> list[tuple[int | None, str]]:
    _, problems = validate(write(tmp_path, replace))
    return [(p.line, p.message) for p in problems]


# --- x-timeoutSeconds ------------------------------------------------------------------------------------------

def test_each_task_has_its_own_steps_timeout():
    states = compiled()["States"]
    assert states["create"]["TimeoutSeconds"] == 30
    assert states["watch"]["TimeoutSeconds"] == 20
    # Cleanup Tasks of the release step, wherever they run, use the release step's value.
    assert states["watch loop cleanup: release"]["TimeoutSeconds"] == 10
    assert states["watch loop continuation cleanup: release"]["TimeoutSeconds"] == 10


@pytest.mark.parametrize("value, found", [("0", "0"), ("100000000", "100000000"), ("'30'", "'30'"),
                                          ("true", "True"), ("2.5", "2.5")])
def test_timeout_out_of_range_is_a_problem_with_its_line(tmp_path, value, found):
    problems = problems_of(tmp_path, ("    x-timeoutSeconds: 30\n", f"    x-timeoutSeconds: {value}\n"))
    assert [(line, m) for line, m in problems if "x-timeoutSeconds" in m] == [
        (31, f"x-timeoutSeconds must be an integer from 1 to 99999999, found {found}")]


# --- step-level x-failWhen -------------------------------------------------------------------------------------

def test_step_fail_when_is_judged_first_and_its_cause_is_json():
    states = compiled()["States"]
    outcome = states["create outcome"]["Choices"]
    assert outcome[0]["Next"] == "create failed: Pets.NameTaken"
    taken = {"statusCode": 409, "headers": {"x-holder": "Ann"}, "body": {}}
    # A 409 also breaks successCriteria: x-failWhen comes first, so its error is the one raised.
    assert evaluate(outcome[0]["Condition"], states={"input": taken}) is True
    assert outcome[1]["Next"] == "create failed"
    assert evaluate(outcome[0]["Condition"], states={"input": {"statusCode": 200, "body": {"id": 1}}}) is False
    fail = states["create failed: Pets.NameTaken"]
    assert fail["Error"] == "Pets.NameTaken"
    cause = evaluate(fail["Cause"], states={"input": taken}, inputs={"name": "Rex"})
    assert json.loads(cause) == {"message": "The name is taken", "holder": "Ann", "name": "Rex"}


def test_step_fail_when_reads_steps_and_a_jsonpath_context():
    states = compiled()["States"]
    rule = states["watch outcome"]["Choices"][0]
    assert rule["Next"] == "watch failed: Pets.Lost"
    assert evaluate(rule["Condition"], states={"input": {"statusCode": 200, "body": {"state": "LOST"}}}) is True
    assert evaluate(rule["Condition"], states={"input": {"statusCode": 200, "body": {"state": "ready"}}}) is False
    cause = evaluate(states["watch failed: Pets.Lost"]["Cause"], steps={"create": {"outputs": {"id": 7}}})
    assert json.loads(cause) == {"petId": 7}


@pytest.mark.parametrize("replace, message", [
    (("      error: Pets.NameTaken\n", ""), "x-failWhen entries need 'condition' and 'error'"),
    (("      error: Pets.NameTaken\n", "      error: States.Custom\n"), "a Fail state may not raise a 'States.' error"),
    (("      cause: {message: The name is taken, holder: $response.header.X-Holder, name: $inputs.name}\n",
      "      cause: [not, a, mapping]\n"), "x-failWhen cause must be a mapping"),
    (("    - condition: $statusCode == 409\n", "    - condition: $statusCode = 409\n"), "condition '$statusCode = 409'"),
])
def test_bad_step_fail_when_is_a_problem_with_its_line(tmp_path, replace, message):
    found = problems_of(tmp_path, replace)
    assert [m for _, m in found if message in m], found
    assert all(line is not None and 37 <= line <= 40 for line, m in found if message in m), found


# --- x-inputChecks ---------------------------------------------------------------------------------------------

def test_input_checks_pass_when_they_hold():
    assert check_inputs({"name": "Rex", "kind": "dog", "checks": 5}) == (
        "create", {"name": "Rex", "kind": "dog", "allowedKinds": ["cat", "dog"], "checks": 5, "maxChecks": 5,
                   "shelter": "north"})


def test_input_checks_report_every_message_with_the_inputs_embedded():
    assert check_inputs({"name": "Rex", "kind": "fox", "checks": 6}) == (
        "Invalid input", ["kind: fox is not allowed here", "checks: at most 5 here"])


def test_input_checks_wait_for_the_schema_checks():
    # kind "bird" breaks the enum: only the schema's message, not the cross-field check's noise.
    assert check_inputs({"name": "Rex", "kind": "bird", "checks": 9}) == (
        "Invalid input", ["kind: must be one of cat, dog, fox"])


def test_absolute_query_inside_a_filter_reads_the_root():
    """`$` inside `[?...]` is the query's root (RFC 9535), here the inputs, not the element being tested."""
    document, _ = validate(WATCH)
    check = document.workflows[0].input_checks[0]
    from arazzo_sfn import jsonata as js
    from arazzo_sfn import translate as tr
    scope = tr.Scope()
    condition = js.render(tr.condition(check.criterion.tree, scope, tr.runtime(check.criterion.context, scope)))

    def run(inputs: dict) -> object:
        return evaluate_jsonata(condition, inputs=inputs)

    assert run({"kind": "dog", "allowedKinds": ["cat", "dog"]}) is True
    assert run({"kind": "fox", "allowedKinds": ["cat", "dog"]}) is False
    assert run({"kind": "fox"}) is True            # no list: every kind allowed
    assert run({"kind": "fox", "allowedKinds": []}) is False


@pytest.mark.parametrize("replace, message", [
    (("  - condition: $inputs.checks <= $inputs.maxChecks\n", "  - condition: $steps.create.outputs.id == 1\n"),
     "x-inputChecks may read only $inputs, found $steps.create"),
    (("    message: \"checks: at most {$inputs.maxChecks} here\"\n", "    message: \"at most {$statusCode}\"\n"),
     "x-inputChecks may read only $inputs, found $statusCode"),
    (("    message: \"checks: at most {$inputs.maxChecks} here\"\n", ""),
     "x-inputChecks entries need 'condition' and 'message'"),
])
def test_input_checks_read_only_inputs(tmp_path, replace, message):
    found = problems_of(tmp_path, replace)
    assert [line for line, m in found if message in m] == [26], found


# --- x-fixed and array substitutions ---------------------------------------------------------------------------

def test_fixed_inputs_are_the_deployments():
    assert check_inputs({"name": "Rex", "shelter": "south", "maxChecks": 50}) == (
        "Invalid input", ["maxChecks: set by the deployment", "shelter: set by the deployment"])
    assert check_inputs({"name": "Rex", "shelter": None}) == ("Invalid input", ["shelter: set by the deployment"])


def test_array_substitution_placeholders_are_raw():
    document, _ = validate(WATCH)
    definition = json.dumps(lower(document, None, "watch.arazzo.yml").to_dict())
    assert '\\"allowedKinds\\": ${AllowedKinds}' in definition.replace('"allowedKinds":', '"allowedKinds": ') \
        or '"allowedKinds\\":${AllowedKinds}' in definition, definition[:600]
    assert "'${AllowedKinds}'" not in definition


@pytest.mark.parametrize("replace, line, message", [
    (("      shelter: {type: string, default: north, x-fixed: true}\n",
      "      shelter: {type: string, x-fixed: true}\n"), 20, "input shelter: x-fixed needs x-definitionSubstitution or default"),
    (("      shelter: {type: string, default: north, x-fixed: true}\n",
      "      shelter: {type: string, default: north, x-fixed: 'yes'}\n"), 20, "input shelter: x-fixed must be true or false"),
    (("        items: {type: string}\n", "        items: {type: string, default: x, x-fixed: true}\n"), 16,
     "x-fixed applies to top-level input properties only"),
])
def test_bad_x_fixed_is_a_problem_with_its_line(tmp_path, replace, line, message):
    found = problems_of(tmp_path, replace)
    assert [m for n, m in found if n == line and message in m], found


# --- reserved keys and continuations ---------------------------------------------------------------------------

def test_continuation_keys_never_reach_the_inputs():
    given = {"name": "Rex", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:1:execution:m:p"}
    # additionalProperties: false does not count them, and they are not inputs.
    assert check_inputs(given) == ("create", {"name": "Rex", "kind": "cat", "allowedKinds": ["cat", "dog"],
                                              "checks": 3, "maxChecks": 5, "shelter": "north"})


def test_a_resume_without_a_parent_is_refused_before_anything_runs():
    next_state, errors = check_inputs({"name": "Rex", "arazzoResume": {"at": "watch loop wait", "steps": {}}})
    assert next_state == "Invalid input"
    assert errors == ["arazzoResume: only a continuation that this state machine started may resume "
                      "(no parent execution in the input)"]


def test_a_resume_with_a_parent_is_verified_first():
    given = {"name": "Rex", "arazzoResume": {"at": "watch loop wait"},
             "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:1:execution:m:p"}
    assert check_inputs(given)[0] == "Verify continuation"
    states = compiled()["States"]
    verify = states["Verify continuation"]
    assert verify["Resource"] == "arn:aws:states:::aws-sdk:sfn:getExecutionHistory"
    assert evaluate(verify["Arguments"]["ExecutionArn"], states={"input": given}) == \
        "arn:aws:states:us-east-1:1:execution:m:p"
    assert verify["Arguments"]["ReverseOrder"] is True and verify["Arguments"]["IncludeExecutionData"] is True
    assert verify["Arguments"]["MaxResults"] <= 20
    assert [c["ErrorEquals"] for c in verify["Catch"]] == [["States.ALL"]]
    assert verify["Catch"][0]["Next"] == "Invalid input"


def parent_history(name: str, child_input: dict, resource: str = "startExecution.sync:2") -> dict:
    def scheduled(event_id: int, name: str, inputs: dict) -> dict:
        return {"Id": event_id, "Type": "TaskScheduled", "TaskScheduledEventDetails": {
            "ResourceType": "states", "Resource": resource,
            "Parameters": json.dumps({"StateMachineArn": "arn:m", "Name": name, "Input": inputs})}}

    # Reverse order, as asked: the newest first; an older attempt with another name must not count.
    return {"Events": [{"Id": 9, "Type": "TaskStarted"}, scheduled(8, name, child_input),
                       {"Id": 7, "Type": "TaskFailed"}, scheduled(5, "older", child_input)]}


@pytest.mark.parametrize("history_name, history_input_change, resource, verified", [
    ("child-2", {}, "startExecution.sync:2", True),
    ("child-3", {}, "startExecution.sync:2", False),                     # another name
    ("child-2", {"checks": 4}, "startExecution.sync:2", False),           # another input
    ("child-2", {}, "startExecution", False),                            # not the continuation's Task
])
def test_resume_needs_the_parents_latest_start_to_match_name_and_input(history_name, history_input_change,
                                                                       resource, verified):
    states = compiled()["States"]
    child_input = {"name": "Rex", "checks": 3, "arazzoResume": {"at": "watch loop wait", "steps": {"create": {
        "outputs": {"id": 7}}}, "loops": {"loop_watch": {"startedAt": 1, "iteration": 4, "executionIterations": 2}}},
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:aws:states:us-east-1:1:execution:m:p"}
    history = parent_history(history_name, {**child_input, **history_input_change}, resource)
    parent_start = evaluate(states["Verify continuation"]["Assign"]["parentStart"], states={"result": history})
    context = {"input": child_input, "context": {"Execution": {"Name": "child-2"}}}
    matched = [rule for rule in states["Resume continuation"]["Choices"]
               if evaluate(rule["Condition"], states=context, parentStart=parent_start)]
    assert bool(matched) is verified
    if verified:
        [rule] = matched
        assert rule["Next"] == "watch loop wait"
        assert evaluate(rule["Assign"]["steps"], states=context) == {"create": {"outputs": {"id": 7}}}
        assert evaluate(rule["Assign"]["loop_watch"], states=context) == {
            "startedAt": 1, "iteration": 4, "executionIterations": 0}
    else:
        assert states["Resume continuation"]["Default"] == "Continuation refused"
        assert states["Continuation refused"]["Error"] == "Arazzo.InvalidInput"
        assert "arazzoResume" in states["Continuation refused"]["Cause"]


def test_continue_as_new_links_the_child_retries_only_start_errors_and_cleans_up_on_failure():
    states = compiled()["States"]
    task = states["watch loop continue as new"]
    child_input = evaluate(task["Arguments"]["Input"], inputs={"name": "Rex", "maxChecks": 5, "shelter": "north"},
                           steps={}, loop_watch={"iteration": 2}, resume=None,
                           states={"context": {"Execution": {"Id": "arn:parent", "Name": "first"}}})
    assert child_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == "arn:parent"
    assert child_input["arazzoResume"]["at"] == "watch loop wait"
    assert "maxChecks" not in child_input and "shelter" not in child_input   # x-fixed: the child's deployment's
    retried = [error for retrier in task["Retry"] for error in retrier["ErrorEquals"]]
    assert "StepFunctions.ExecutionLimitExceeded" in retried
    assert not [e for e in retried if e.startswith("States.")], "the child's own failure must never be retried"
    assert task["Catch"][0]["Next"] == "watch loop continuation cleanup: release"
    cleanup = states["watch loop continuation cleanup: release"]
    assert cleanup["Arguments"]["Payload"]["operationId"] == "releasePet"
    assert cleanup["Next"] == "watch loop continuation failed"
    assert cleanup["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "watch loop continuation failed"}]


def test_a_machine_without_loops_refuses_any_resume(tmp_path):
    path = write(tmp_path, ("      x-loop:\n", "      x-loop-unused:\n"))
    text = path.read_text().replace("    - name: notReady\n      type: goto\n      stepId: watch\n", "    - name: notReady\n      type: end\n")
    path.write_text(text)
    document, problems = validate(path)
    assert problems == []
    states = lower(document, None, "x").to_dict()["States"]
    assert "Verify continuation" not in states
    assert "$exists($states.input.arazzoResume)" in states["Check inputs"]["Choices"][-1]["Condition"]


def continuation_name(root: str, generation: int) -> str:
    task = compiled()["States"]["watch loop continue as new"]
    context = {"context": {"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:watch:" + root, "Name": root}}}
    return evaluate(task["Arguments"]["Name"], inputs={"name": "Rex"}, steps={}, loop_watch={}, resume=None,
                    states=context) if generation == 1 else evaluate(
        task["Arguments"]["Name"], inputs={}, steps={}, loop_watch={},
        resume={"origin": root, "generation": generation - 1}, states=context)


def test_continuation_names_are_valid_deterministic_and_apart():
    import re

    long_a, long_b = "a" * 50 + "-first-of-two-roots-with-one-prefix", "a" * 50 + "-second-of-two-roots-with-it"
    names = [continuation_name(root, generation) for root in ("nightly", long_a, long_b, "x" * 80)
             for generation in (1, 2, 12345)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name) for name in names), names
    assert len(set(names)) == len(names), "two continuations share a name"
    assert continuation_name(long_a, 2) == continuation_name(long_a, 2)   # a retried start names the same child
