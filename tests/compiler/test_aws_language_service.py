"""AWS's own Amazon States Language service (npm amazon-states-language-service, pinned in requirements/) finds
nothing to report in any definition the compiler emits: the product's committed machine and every valid document
of the tests, compiled, with DefinitionSubstitutions placeholders filled the way a deployment fills them."""
import json
import os
import re
import subprocess
from pathlib import Path

from arazzo_sfn import cli
from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = Path(os.environ.get("ASL_NODE_MODULES", ROOT / ".tools" / "node_modules"))
SCRIPT = Path(__file__).parent / "aws_language_service.js"
SAMPLE = {"integer": "1", "number": "0.5", "boolean": "true", "array": "['a','b']"}


def documents() -> list[Path]:
    fixtures = sorted((Path(__file__).parent / "fixtures").glob("*.arazzo.yml"))
    return [ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"] + fixtures


def deployed(path: Path, workflow_id: str) -> str:
    """The compiled definition with every placeholder substituted, as a deployment would."""
    document, problems = validate(path)
    assert problems == [], [str(p) for p in problems]
    text = lower(document, workflow_id, path.name).to_json()
    text = re.sub(r"\$\{(\w+)FunctionArn\}", r"arn:aws:lambda:us-east-1:123456789012:function:\1", text)
    for workflow in document.workflows:
        for prop in (workflow.inputs.get("properties") or {}).values():
            key = prop.get("x-definitionSubstitution") if isinstance(prop, dict) else None
            if key:
                text = text.replace("${%s}" % key, SAMPLE.get(prop.get("type"), "sample"))
    # Other placeholders a document writes as text (an x-onEnd task's event bus name, say) are names.
    text = re.sub(r"\$\{(\w+)\}", r"sample-\1", text)
    assert "${" not in text, "a placeholder was left"
    return text


def test_every_compiled_definition_has_no_diagnostic(tmp_path):
    assert (NODE_MODULES / "amazon-states-language-service").is_dir(), "run `make tools` (make test does)"
    files = []
    for path in documents():
        for workflow in cli.validate(path)[0].workflows:
            target = tmp_path / f"{path.stem}.{workflow.workflow_id}.asl.json"
            target.write_text(deployed(path, workflow.workflow_id))
            files.append(str(target))
    committed = (ROOT / "statemachine" / "airbyte-trigger-sync-and-poll.asl.json").read_text()
    assert committed == deployed_committed_source(), "the committed machine is stale (make compile)"
    result = subprocess.run(["node", str(SCRIPT), str(NODE_MODULES), *files], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    found = {Path(file).name: diagnostics for file, diagnostics in json.loads(result.stdout).items() if diagnostics}
    assert len(files) >= 5
    assert found == {}, found


def deployed_committed_source() -> str:
    return cli.compile_file(ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml", None, ROOT)


def test_the_language_service_reports_what_aws_rejects(tmp_path):
    """The check itself can fail: a Retrier AWS rejects is reported."""
    definition = json.loads(deployed(ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml",
                                     "trigger-sync-and-poll"))
    definition["States"]["pollJob"]["Retry"][0]["BackoffRate"] = 0.5
    target = tmp_path / "rejected.asl.json"
    target.write_text(json.dumps(definition, indent=2))
    result = subprocess.run(["node", str(SCRIPT), str(NODE_MODULES), str(target)], capture_output=True, text=True,
                            timeout=120)
    [diagnostics] = json.loads(result.stdout).values()
    assert [d["message"] for d in diagnostics] == ["Value is below the minimum of 1."]
