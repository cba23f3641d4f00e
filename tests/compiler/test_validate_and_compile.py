"""Reading, validating and compiling whole documents: problems carry file, line and step; output is deterministic."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arazzo_sfn import cli
from arazzo_sfn.lower import CompileError, function_placeholder, lower
from arazzo_sfn.check import validate

from reference_jsonata import evaluate as evaluate_jsonata

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_WORKFLOW = ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"

OPENAPI = textwrap.dedent("""\
    openapi: 3.1.0
    info: {title: Pets, version: 1.0.0}
    paths:
      /pets:
        post:
          operationId: createPet
          responses: {'200': {description: ok}}
      /pets/{petId}:
        get:
          operationId: getPet
          parameters: [{name: petId, in: path, required: true, schema: {type: integer}}]
          responses: {'200': {description: ok}}
    """)


def write(tmp_path: Path, arazzo: str) -> Path:
    (tmp_path / "pets.yml").write_text(OPENAPI)
    path = tmp_path / "flow.arazzo.yml"
    path.write_text(textwrap.dedent(arazzo))
    return path


VALID = """\
    arazzo: 1.0.1
    info: {title: Pets, version: 1.0.0}
    sourceDescriptions:
    - {name: pets, url: ./pets.yml, type: openapi}
    workflows:
    - workflowId: adopt
      inputs:
        type: object
        required: [name]
        properties:
          name: {type: string}
          kind: {type: string, enum: [cat, dog], default: cat}
      steps:
      - stepId: create
        operationId: createPet
        requestBody:
          contentType: application/json
          payload: {name: $inputs.name, kind: $inputs.kind, note: "for {$inputs.name}", tags: [new]}
        successCriteria:
        - condition: $statusCode == 200
        outputs: {id: $response.body#/id}
      - stepId: read
        operationPath: '{$sourceDescriptions.pets.url}#/paths/~1pets~1{petId}/get'
        parameters:
        - {name: petId, in: path, value: $steps.create.outputs.id}
        - {name: X-Trace, in: header, value: "adopt-{$steps.create.outputs.id}"}
        successCriteria:
        - condition: $statusCode == 200
        onSuccess:
        - name: notReady
          type: goto
          stepId: read
          criteria:
          - {context: $response.body, type: jsonpath, condition: "$.state == 'pending'"}
        onFailure:
        - {name: again, type: retry, retryAfter: 2, retryLimit: 3, criteria: [{condition: $statusCode == 503}]}
        outputs: {state: $response.body#/state}
      outputs:
        id: $steps.create.outputs.id
        state: $steps.read.outputs.state
    """


def test_valid_document_compiles_to_a_machine_with_the_steps_as_tasks(tmp_path):
    path = write(tmp_path, VALID)
    document, problems = validate(path)
    assert problems == []
    definition = lower(document, None, "flow.arazzo.yml").to_dict()
    states = definition["States"]
    assert definition["QueryLanguage"] == "JSONata"
    create, read_step = states["create"], states["read"]
    assert create["Resource"] == read_step["Resource"] == "arn:aws:states:::lambda:invoke"
    assert create["Arguments"]["FunctionName"] == "${CreatePetFunctionArn}"
    payload = create["Arguments"]["Payload"]
    assert (payload["operationId"], payload["method"], payload["path"]) == ("createPet", "POST", "/pets")
    # One JSONata object: literals stay literal, an input not given is left out (not States.QueryEvaluationError).
    body = payload["body"]
    assert body.startswith("{% ") and body.endswith(" %}"), body
    assert evaluate_jsonata(body[3:-3], inputs={"name": "Rex", "kind": "cat"}) == {
        "name": "Rex", "kind": "cat", "note": "for Rex", "tags": ["new"]}
    assert evaluate_jsonata(body[3:-3], inputs={"name": "Rex"}) == {"name": "Rex", "note": "for Rex", "tags": ["new"]}
    assert read_step["Arguments"]["Payload"]["parameters"]["path"]["petId"] == "{% $steps.create.outputs.id %}"
    assert read_step["Arguments"]["Payload"]["path"] == "/pets/{petId}"  # operationPath resolved
    # The self-goto is a loop through a Wait state; the retry waits too.
    assert states["read loop wait"]["Type"] == "Wait" and states["read loop wait"]["Next"] == "read"
    assert states["again wait"]["Type"] == "Wait" and states["again wait"]["Next"] == "read"
    assert states["read failed"]["Error"] == "Arazzo.SuccessCriteriaFailed"


def test_output_is_deterministic(tmp_path):
    path = write(tmp_path, VALID)
    first = cli.compile_file(path, None, tmp_path)
    second = cli.compile_file(path, None, tmp_path)
    assert first == second
    # and a fresh interpreter (different hash seeds) gives the same bytes
    code = ("import sys; from pathlib import Path; from arazzo_sfn import cli; "
            f"sys.stdout.write(cli.compile_file(Path({str(path)!r}), None, Path({str(tmp_path)!r})))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin"}, cwd=ROOT).stdout
    assert other == first


def test_embedded_template_and_header_values(tmp_path):
    definition = lower(validate(write(tmp_path, VALID))[0], None, "x").to_dict()
    header = definition["States"]["read"]["Arguments"]["Payload"]["parameters"]["header"]["X-Trace"]
    expression = header.removeprefix("{% ").removesuffix(" %}")
    assert evaluate_jsonata(expression, steps={"create": {"outputs": {"id": 42}}}) == "adopt-42"


BROKEN = """\
    arazzo: 1.0.1
    info: {title: Broken, version: 1.0.0}
    sourceDescriptions:
    - {name: pets, url: ./pets.yml, type: openapi}
    workflows:
    - workflowId: broken
      steps:
      - stepId: create
        operationId: createPetz
      - stepId: create
        operationId: getPet
        parameters:
        - {name: petId, in: path, value: $steps.nowhere}
        successCriteria:
        - condition: $statusCode = 200
        onSuccess:
        - {name: jump, type: goto, stepId: missing}
    """


def test_validate_reports_every_problem_with_its_line_and_step(tmp_path):
    path = write(tmp_path, BROKEN)
    _, problems = validate(path)
    text = [str(p) for p in problems]
    expected = [
        (9, "create", "operationId 'createPetz' is not in 'pets.yml'"),
        (10, "create", "duplicate stepId 'create'"),
        (13, "create", "$steps.nowhere"),
        (15, "create", "condition '$statusCode = 200'"),
        (17, "create", "goto target 'missing' is not a step of this workflow"),
    ]
    for line, step, message in expected:
        assert any(p.line == line and p.step_id == step and message in p.message and p.workflow_id == "broken"
                   for p in problems), (line, message, text)
    assert all(str(path) in t for t in text)


def test_validate_command_exit_codes(tmp_path, capsys):
    assert cli.main(["validate", str(write(tmp_path, BROKEN))]) == 1
    out = capsys.readouterr().out
    assert "flow.arazzo.yml:17: workflow broken: step create: goto target 'missing'" in out
    assert cli.main(["validate", str(write(tmp_path, VALID))]) == 0


@pytest.mark.parametrize("snippet, message", [
    ("- {context: $response.body, type: xpath, condition: //state}", "xpath criteria are not supported"),
])
def test_unsupported_features_are_compile_errors_naming_the_place(tmp_path, snippet, message):
    arazzo = VALID.replace("    - condition: $statusCode == 200\n        outputs: {id:",
                           f"    {snippet}\n        outputs: {{id:")
    assert arazzo != VALID
    _, problems = validate(write(tmp_path, arazzo))
    assert any(message in p.message and p.step_id == "create" and p.line for p in problems), problems


def test_workflow_steps_and_actions_to_other_workflows_are_named(tmp_path):
    arazzo = VALID.replace("operationId: createPet", "workflowId: elsewhere")
    _, problems = validate(write(tmp_path, arazzo))
    assert any("workflow 'elsewhere' is not in this document" in p.message and p.step_id == "create" for p in problems)


def test_choose_a_workflow_when_there_are_several(tmp_path):
    arazzo = VALID + VALID[VALID.index("- workflowId: adopt"):].replace("workflowId: adopt", "workflowId: second")
    document, problems = validate(write(tmp_path, arazzo))
    assert not problems
    with pytest.raises(CompileError, match="choose one with --workflow"):
        lower(document, None, "x").to_dict()
    assert lower(document, "second", "x").to_dict()["States"]["create"]


def test_function_placeholders():
    assert function_placeholder("createJob") == "CreateJobFunctionArn"
    assert function_placeholder("list-pets_v2") == "ListPetsV2FunctionArn"


def test_committed_state_machine_is_what_the_workflow_compiles_to():
    """The drift check `make test` runs first; here as a test too, so a stale machine fails loudly."""
    committed = ROOT / "statemachine" / "airbyte-trigger-sync-and-poll.asl.json"
    assert committed.read_text() == cli.compile_file(PRODUCT_WORKFLOW, None, ROOT)
    assert cli.main(["check", "--root", str(ROOT)]) == 0


def test_check_fails_with_a_diff_when_the_committed_machine_is_stale(tmp_path, capsys):
    for folder in ("arazzo", "openapi", "statemachine"):
        (tmp_path / folder).mkdir()
    for source in (PRODUCT_WORKFLOW, ROOT / "openapi" / "airbyte-openapi.yml"):
        (tmp_path / source.parent.name / source.name).write_text(source.read_text())
    machine = tmp_path / "statemachine" / "airbyte-trigger-sync-and-poll.asl.json"
    machine.write_text(cli.compile_file(tmp_path / "arazzo" / PRODUCT_WORKFLOW.name, None, tmp_path))
    assert cli.main(["check", "--root", str(tmp_path)]) == 0
    workflow = tmp_path / "arazzo" / PRODUCT_WORKFLOW.name
    workflow.write_text(workflow.read_text().replace("default: sync", "default: reset"))
    capsys.readouterr()
    assert cli.main(["check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "differs from what arazzo/airbyte-trigger-sync-and-poll-workflow.yml compiles to" in out
    assert '+        "inputs": "{% $merge([{\\"jobType\\": \\"reset\\"' in out


def test_seed_steps_criteria_and_outputs_are_kept_as_the_user_wrote_them():
    """The product's workflow only adds x- extensions, optional inputs, a step that waits for another type's job and
    a cleanup step to the user's seed."""
    import yaml
    ours = yaml.safe_load(PRODUCT_WORKFLOW.read_text())["workflows"][0]

    def strip(v: object) -> object:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if not k.startswith("x-")}
        return [strip(x) for x in v] if isinstance(v, list) else v

    steps = {s["stepId"]: strip(s) for s in ours["steps"]}
    assert list(steps) == ["triggerJob", "pollJob", "waitForActiveJob", "cancelJob"]  # the seed's two come first
    poll = steps["pollJob"]
    assert [a["name"] for a in poll["onSuccess"]] == ["stillRunning", "terminal"]
    assert poll["onSuccess"][0]["criteria"][0]["condition"] == \
        "$.status == 'running' || $.status == 'pending' || $.status == 'incomplete'"
    assert poll["outputs"] == {"status": "$response.body#/status", "bytesSynced": "$response.body#/bytesSynced",
                               "rowsSynced": "$response.body#/rowsSynced"}
    assert steps["triggerJob"]["outputs"] == {"jobId": "$response.body#/jobId", "status": "$response.body#/status"}
    assert steps["triggerJob"]["requestBody"] == {"contentType": "application/json", "payload": {
        "connectionId": "$inputs.connectionId", "jobType": "$inputs.jobType"}}
    for seed_step in ("triggerJob", "pollJob"):
        assert steps[seed_step]["successCriteria"] == [{"condition": "$statusCode == 200"}]
    # Besides the seed's parameter, only instructions to the handler (X-Airbyte-Sync-* headers, never sent to Airbyte).
    seed_parameters = [p for p in poll["parameters"] if not p["name"].startswith("X-Airbyte-Sync-")]
    assert seed_parameters == [{"name": "jobId", "in": "path", "value": "$steps.triggerJob.outputs.jobId"}]
    assert all(p["in"] == "header" for p in poll["parameters"] if p not in seed_parameters)
    assert ours["outputs"] == {"jobId": "$steps.triggerJob.outputs.jobId",
                               "finalStatus": "$steps.pollJob.outputs.status",
                               "rowsSynced": "$steps.pollJob.outputs.rowsSynced"}


def test_references_to_unknown_steps_are_problems(tmp_path):
    arazzo = VALID.replace("value: $steps.create.outputs.id}", "value: $steps.ghost.outputs.id}")
    assert arazzo != VALID
    _, problems = validate(write(tmp_path, arazzo))
    assert [(p.step_id, p.message) for p in problems] == [("read", "$steps.ghost is not a step of this workflow")]


def test_a_context_with_a_dollar_dot_condition_reads_as_jsonpath(tmp_path):
    arazzo = VALID.replace("- {context: $response.body, type: jsonpath, condition: \"$.state == 'pending'\"}",
                           "- {context: $response.body, condition: \"$.state == 'pending'\"}")
    assert arazzo != VALID
    document, problems = validate(write(tmp_path, arazzo))
    assert problems == []
    assert document.workflows[0].step("read").on_success[0].criteria[0].kind == "jsonpath"
