"""arazzo-sfn: compile, validate and drift-check Arazzo workflows compiled to Step Functions.

arazzo-sfn compile ARAZZO_FILE [--workflow ID] [-o OUT]
arazzo-sfn validate ARAZZO_FILE
arazzo-sfn check [--root DIR]           committed statemachine/*.asl.json == what their sources compile to
arazzo-sfn corpus DIR                   compile every workflow of every Arazzo document under DIR
arazzo-sfn diagram ASL_FILE             a Mermaid flowchart of a compiled state machine
arazzo-sfn run ARAZZO_FILE [--workflow ID] [--inputs JSON] --server NAME=URL ... [--set KEY=VALUE ...] [--fast]
                                        run the workflow in the local engine against real HTTP APIs
                                        (docs/run-any-workflow.md); needs a clone of the project (local_tools/)
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from pathlib import Path

from . import jsonata as js
from . import translate as tr
from .check import Checker, validate
from .lower import CompileError, choose_workflow, lower
from .model import Document
from .reader import read

SOURCE_ROOT_HELP = (
    "the folder every sourceDescription must lie in (default: the parent of the document's folder, "
    "so arazzo/x.yml may name ../openapi/y.yml)"
)
COMMENT_SOURCE = re.compile(r"^Compiled by arazzo-sfn from (?P<source>\S+) \(workflow (?P<workflow>[^)]+)\)")


def compile_file(path: Path, workflow_id: str | None, root: Path, source_root: Path | None = None) -> str:
    """The ASL text of one workflow; raises CompileError listing every validation problem (exactly what
    `validate` reports)."""
    document, problems = validate(path, source_root)
    if problems or document is None:
        raise CompileError("\n".join(str(p) for p in problems))
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return compile_document(document, workflow_id, shown)


def compile_document(document: Document, workflow_id: str | None, shown: str) -> str:
    """The ASL text of one workflow of a validated document."""
    try:
        return lower(document, workflow_id, shown).to_json()
    except (tr.UnsupportedExpression, js.UnsupportedName) as error:  # a gap in check.py: still a named error
        raise CompileError(f"{shown}: {error}") from None


def command_compile(args: argparse.Namespace) -> int:
    try:
        text = compile_file(Path(args.file), args.workflow, Path.cwd(), _source_root(args))
    except CompileError as error:
        print(error, file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _source_root(args: argparse.Namespace) -> Path | None:
    return Path(args.source_root) if args.source_root else None


def command_validate(args: argparse.Namespace) -> int:
    document, problems = validate(args.file, _source_root(args))
    for problem in problems:
        print(problem)
    if problems or document is None:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    names = ", ".join(w.workflow_id for w in document.workflows)
    print(f"{args.file}: valid ({len(document.workflows)} workflow(s): {names})")
    return 0


def command_check(args: argparse.Namespace) -> int:
    root = Path(args.root)
    committed = sorted((root / "statemachine").glob("*.asl.json"))
    if not committed:
        print(f"no {root / 'statemachine'}/*.asl.json to check", file=sys.stderr)
        return 1
    stale = 0
    for path in committed:
        text = path.read_text(encoding="utf-8")
        try:
            comment = json.loads(text).get("Comment", "")
        except json.JSONDecodeError as error:
            print(f"{path}: not JSON: {error}")
            stale += 1
            continue
        match = COMMENT_SOURCE.match(comment)
        if not match:
            print(f"{path}: its Comment does not name the Arazzo source it was compiled from")
            stale += 1
            continue
        try:
            expected = compile_file(root / match["source"], match["workflow"], root)
        except CompileError as error:
            print(f"{path}: its source no longer compiles:\n{error}")
            stale += 1
            continue
        if expected != text:
            stale += 1
            print(f"{path} differs from what {match['source']} compiles to (run `make compile`):")
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(True), expected.splitlines(True), f"{path} (committed)", f"{path} (compiled)", n=2
                )
            )
        else:
            print(f"{path}: up to date")
    return 1 if stale else 0


def command_corpus(args: argparse.Namespace) -> int:
    """One line per workflow: compiled, or why not; then the totals. `validate` runs exactly the checks `compile`
    runs, so a workflow that passes them and still fails to compile is a disagreement: counted, and exit 2."""
    compiled = failed = disagreements = 0
    for path in sorted(Path(args.directory).rglob("*")):
        if path.suffix not in (".yml", ".yaml", ".json") or not path.is_file() or not _is_arazzo(path):
            continue
        document, problems = read(path, _source_root(args))
        if document is None or (problems and not document.workflows):
            failed += 1
            print(f"INVALID   {path}: {problems[0] if problems else 'unreadable'}")
            continue
        for workflow in document.workflows:
            own = [p for p in problems if p.workflow_id in (workflow.workflow_id, None)]
            if not own:
                own = Checker(document).run([workflow])
            if own:
                failed += 1
                print(
                    f"INVALID   {path} {workflow.workflow_id}: {own[0].message}"
                    + (f" (+{len(own) - 1} more)" if len(own) > 1 else "")
                )
                continue
            try:
                compile_document(document, workflow.workflow_id, path.as_posix())
                compiled += 1
                print(f"COMPILED  {path} {workflow.workflow_id}")
            except CompileError as error:
                failed += 1
                disagreements += 1
                print(f"DISAGREE  {path} {workflow.workflow_id}: validate accepted it, compile refused: {error}")
    print(
        f"{compiled} compiled, {failed} not compiled, {compiled + failed} workflows, "
        f"{disagreements} validate/compile disagreements"
    )
    return 2 if disagreements else 1 if failed else 0


def mermaid(definition: dict) -> str:
    """A Mermaid flowchart: one node per state, one edge per transition (choice rules, defaults, catches)."""
    ids = {name: f"s{index}" for index, name in enumerate(definition["States"])}
    shapes = {
        "Task": '["{}"]',
        "Choice": '{{"{}"}}',
        "Wait": '(["{}"])',
        "Fail": '[["{}"]]',
        "Succeed": '(("{}"))',
        "Pass": '["{}"]',
    }
    lines = ["flowchart TD", f"  start(( )) --> {ids[definition['StartAt']]}"]
    for name, state in definition["States"].items():
        label = name
        # A Fail's error, or the error an ending records (x-onEnd), when it is literal and not already in the name.
        ending = (state.get("Assign") or {}).get("ending") if state["Type"] == "Pass" else None
        error = (
            state.get("Error") if state["Type"] == "Fail" else ending.get("error") if isinstance(ending, dict) else None
        )
        if isinstance(error, str) and not error.startswith("{%") and error not in name:
            label = f"{name}: {error}"
        shape = shapes["Fail"] if isinstance(ending, dict) else shapes.get(state["Type"], '["{}"]')
        lines.append(f"  {ids[name]}" + shape.format(label.replace('"', "'")))
    for name, state in definition["States"].items():
        targets = [rule["Next"] for rule in state.get("Choices", [])] + [state.get("Default"), state.get("Next")]
        targets += [catch["Next"] for catch in state.get("Catch", [])]
        seen = []
        for target in targets:
            if target and target not in seen:
                seen.append(target)
                lines.append(f"  {ids[name]} --> {ids[target]}")
    return "\n".join(lines) + "\n"


def command_diagram(args: argparse.Namespace) -> int:
    sys.stdout.write(mermaid(json.loads(Path(args.file).read_text(encoding="utf-8"))))
    return 0


def name_value(text: str) -> tuple[str, str]:
    """argparse type: NAME=VALUE (NAME not empty)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def command_run(args: argparse.Namespace) -> int:
    """Compile, deploy into the local engine with the generic operation handler, run; exit 0 succeeded, 1 not,
    2 usage error. The last stdout line is the result as JSON."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "local_tools").is_dir() or not (root / "functions" / "http_operation").is_dir():
        print(f"arazzo-sfn run: {root} is not a clone of the project (local_tools/, functions/)", file=sys.stderr)
        return 2
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # local_tools runs from the clone; it is not installed
    from local_tools.cli.main import credentials_from_env, local_aws
    from local_tools.clock import RealClock, VirtualClock
    from local_tools.engine import LocalEngine
    from local_tools.workflow_run import SLEEP_MODULES, RunError, deploy_workflow, plan_deployment, run_and_report

    def usage(message: str) -> int:
        print(f"arazzo-sfn run: error: {message}", file=sys.stderr)
        return 2

    try:
        inputs = json.loads(args.inputs)
    except ValueError as error:
        return usage(f"--inputs is not JSON: {error}")
    servers = dict(args.server or [])
    for name, url in servers.items():
        try:
            _check_server_url(url)
        except ValueError as error:
            return usage(f"--server {name}: {error}")
    document, problems = read(Path(args.file), _source_root(args))
    try:
        if document is None or (problems and not document.workflows):
            raise CompileError("\n".join(str(p) for p in problems) or f"{args.file} is unreadable")
        workflow = choose_workflow(document, args.workflow, args.file)
        # Only the workflow run must be valid (as `corpus` judges each workflow): another may use what it lacks.
        own = [p for p in problems if p.workflow_id in (workflow.workflow_id, None)] or Checker(document).run(
            [workflow]
        )
        if own:
            raise CompileError("\n".join(str(p) for p in own))
        definition = compile_document(document, workflow.workflow_id, Path(args.file).as_posix())
        plan = plan_deployment(document, workflow, definition, servers, dict(args.set or []))
        credentials = credentials_from_env(os.environ)
    except (CompileError, RunError, ValueError) as error:
        return usage(str(error))
    local_aws()
    try:
        with LocalEngine(clock=VirtualClock() if args.fast else RealClock(), sleep_modules=SLEEP_MODULES) as engine:
            machine = deploy_workflow(engine, plan, credentials)
            result = run_and_report(engine, machine, inputs, sys.stdout)
    except Exception as error:  # the local engine itself broke: still one JSON line last, as `airbyte-sync run`
        print(f"arazzo-sfn run: {type(error).__name__}: {error}", file=sys.stderr)
        print(json.dumps({"status": "ERROR", "error": type(error).__name__, "cause": str(error)}))
        return 1
    return 0 if result.status == "SUCCEEDED" else 1


def _check_server_url(url: str) -> None:
    """The generic handler's own base-URL check (https, or http on a loopback host), before anything starts."""
    root = Path(__file__).resolve().parents[1] / "functions"
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from airbyte_client import ConfigError
    from http_operation.operation import config_from_env

    try:
        config_from_env({"HTTP_API_URL": url})
    except ConfigError as error:
        raise ValueError(str(error).replace("HTTP_API_URL", "the URL")) from None


def _is_arazzo(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    return bool(re.search(r"""^\s*\{?\s*["']?arazzo["']?\s*:""", head, re.MULTILINE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="arazzo-sfn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("compile", help="write the ASL (JSON) of one workflow")
    p.add_argument("file")
    p.add_argument("--workflow", help="workflowId (required when the document has several)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--source-root", help=SOURCE_ROOT_HELP)
    p.set_defaults(run=command_compile)
    p = commands.add_parser("validate", help="check an Arazzo document and print every problem")
    p.add_argument("file")
    p.add_argument("--source-root", help=SOURCE_ROOT_HELP)
    p.set_defaults(run=command_validate)
    p = commands.add_parser("check", help="fail when a committed statemachine/*.asl.json is stale")
    p.add_argument("--root", default=os.getcwd())
    p.set_defaults(run=command_check)
    p = commands.add_parser("corpus", help="compile every Arazzo workflow under a directory")
    p.add_argument("directory")
    p.add_argument("--source-root", help=SOURCE_ROOT_HELP + " (default: each document's folder's parent)")
    p.set_defaults(run=command_corpus)
    p = commands.add_parser("diagram", help="print a Mermaid flowchart of a compiled state machine")
    p.add_argument("file")
    p.set_defaults(run=command_diagram)
    p = commands.add_parser(
        "run",
        help="run a workflow in the local engine against real HTTP APIs",
        description="Compile the workflow, deploy it into the local engine with the generic operation handler "
        "behind every step, and run it. One stdout line per step as it runs; the last line is "
        '{"status": ..., "output": {...}} (or the error and cause). Credentials: AIRBYTE_CLIENT_ID + '
        "AIRBYTE_CLIENT_SECRET, or AIRBYTE_TOKEN, or none. Exit 0 succeeded, 1 failed, 2 usage error.",
    )
    p.add_argument("file")
    p.add_argument("--workflow", help="workflowId (required when the document has several)")
    p.add_argument("--inputs", default="{}", help="the workflow inputs as JSON (default: {})")
    p.add_argument(
        "--server",
        action="append",
        type=name_value,
        metavar="NAME=URL",
        help="the base URL of the source description named NAME (its sourceDescriptions name); one for every "
        "source the workflow's steps call (repeatable)",
    )
    p.add_argument(
        "--set",
        action="append",
        type=name_value,
        metavar="KEY=VALUE",
        help="a DefinitionSubstitutions value (default for an input's x-definitionSubstitution: its schema "
        "default) (repeatable)",
    )
    p.add_argument("--fast", action="store_true", help="waits and retry sleeps on a virtual clock")
    p.add_argument("--source-root", help=SOURCE_ROOT_HELP)
    p.set_defaults(run=command_run)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
