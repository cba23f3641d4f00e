"""`arazzo-sfn run`: one Arazzo workflow compiled, deployed into the local engine with the generic operation
handler (functions/http_operation) behind every step, and run against real HTTP APIs.

    with LocalEngine(...) as engine:
        machine = deploy_workflow(engine, plan, credentials)
        result = run_and_report(engine, machine, inputs, out)

`plan_deployment` decides everything before an engine starts: which function each step's placeholder becomes
(one per operation, its base URL the `--server` of the operation's source description), the values of the other
DefinitionSubstitutions (an input's `x-definitionSubstitution` takes its schema default unless `--set` gives one),
and refuses what is missing. docs/run-any-workflow.md is the user's side of it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from arazzo_sfn.inputs import RAW_PLACEHOLDER_TYPES
from arazzo_sfn.lower import function_placeholder
from arazzo_sfn.model import Document, Workflow
from local_tools.engine import FunctionSpec, LocalEngine

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"  # the Lambda CodeUri
HANDLER = "http_operation.handler.handler"
SLEEP_MODULES = ("airbyte_client.retry",)  # the transport's retry sleeps follow the engine clock
FUNCTION_TIMEOUT_SECONDS = 120
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


class RunError(ValueError):
    """What the command line gave does not fit the workflow (a usage error: exit 2)."""


@dataclass(frozen=True)
class DeploymentPlan:
    definition: str  # the compiled ASL text
    functions: dict[str, str]  # function placeholder -> base URL
    substitutions: dict[str, str]  # every other placeholder -> its text


def operation_sources(document: Document, workflow: Workflow, seen: set[str] | None = None) -> dict[str, str]:
    """Each step's function placeholder -> the name of its operation's source description, the workflows the
    steps run included. Two sources with one operationId would share one function: refused."""
    seen = set() if seen is None else seen
    seen.add(workflow.workflow_id)
    found: dict[str, str] = {}
    for step in workflow.steps:
        pairs: Iterable[tuple[str, str]] = ()
        if step.operation is not None:
            pairs = [(function_placeholder(step.operation.operation_id), step.operation.source)]
        else:
            called = document.called(step)
            if called is not None and called[1].workflow_id not in seen:
                pairs = operation_sources(called[0], called[1], seen).items()
        for placeholder, source in pairs:
            if found.setdefault(placeholder, source) != source:
                raise RunError(
                    f"{placeholder[: -len('FunctionArn')]} is an operation of both {found[placeholder]} "
                    f"and {source}: one run cannot tell them apart"
                )
    return found


def substitution_defaults(document: Document, workflow: Workflow) -> dict[str, str]:
    """The schema default of every input with `x-definitionSubstitution`, as the placeholder's text."""
    values: dict[str, str] = {}
    workflows = [workflow] + [w for w in document.workflows if w is not workflow]
    for each in workflows:
        properties = (each.inputs or {}).get("properties") if isinstance(each.inputs, dict) else None
        for prop in (properties or {}).values():
            key = prop.get("x-definitionSubstitution") if isinstance(prop, dict) else None
            if isinstance(key, str) and "default" in prop and key not in values:
                default = prop["default"]
                raw = prop.get("type") in RAW_PLACEHOLDER_TYPES or not isinstance(default, str)
                values[key] = json.dumps(default) if raw else default
    return values


def plan_deployment(
    document: Document,
    workflow: Workflow,
    definition: str,
    servers: Mapping[str, str],
    settings: Mapping[str, str],
) -> DeploymentPlan:
    """What to deploy; RunError for a server or substitution the workflow needs and was not given."""
    sources = operation_sources(document, workflow)
    used = sorted(set(sources.values()))
    unknown = sorted(set(servers) - set(used))
    if unknown:
        raise RunError(
            f"--server {', '.join(unknown)}: no step of the workflow calls an operation of that source description "
            f"(its operations' sources: {', '.join(used) or 'none'})"
        )
    missing = [name for name in used if name not in servers]
    if missing:
        hints = []
        for name in missing:
            source = document.sources.get(name)
            data = source.document.data if source is not None else None
            listed = data.get("servers") if isinstance(data, dict) else None
            url = listed[0].get("url") if isinstance(listed, list) and listed and isinstance(listed[0], dict) else None
            hints.append(f"{name}=URL" + (f" (its OpenAPI servers list {url})" if url else ""))
        raise RunError(
            "give the base URL of every source description the workflow calls: --server " + ", --server ".join(hints)
        )
    present = set(_PLACEHOLDER.findall(definition))
    functions = {placeholder: servers[source] for placeholder, source in sources.items() if placeholder in present}
    values = {**substitution_defaults(document, workflow), **settings}
    substitutions = {key: values[key] for key in present - set(functions) if key in values}
    unset = sorted(present - set(functions) - set(substitutions))
    if unset:
        raise RunError(
            "the compiled workflow has DefinitionSubstitutions placeholders with no value: "
            + ", ".join(unset)
            + " (give each with --set NAME=VALUE)"
        )
    return DeploymentPlan(definition, functions, substitutions)


def deploy_workflow(engine: LocalEngine, plan: DeploymentPlan, credentials: Mapping[str, str]) -> str:
    """The state machine, with one generic-handler function per operation; returns its ARN. The credentials
    (the secret's JSON, {} for none) go into a local Secrets Manager secret the functions read."""
    environment: dict[str, str] = {}
    if credentials:
        environment["HTTP_SECRET_ARN"] = engine.create_secret("arazzo-sfn-run/credentials", dict(credentials))
    functions = {
        placeholder: FunctionSpec(
            code_dir=FUNCTIONS,
            handler=HANDLER,
            environment={**environment, "HTTP_API_URL": url},
            timeout=FUNCTION_TIMEOUT_SECONDS,
        )
        for placeholder, url in plan.functions.items()
    }
    return engine.create_state_machine(
        plan.definition, name="arazzo-sfn-run", substitutions=plan.substitutions, functions=functions
    )


def step_line(invocation: Any) -> str:
    """One line per step the machine ran: step, operation, request line, and what came back."""
    event = invocation.event if isinstance(invocation.event, dict) else {}
    context = event.get("context") or {}
    try:
        payload = json.loads(invocation.payload)
    except (TypeError, ValueError):
        payload = None
    if invocation.errored or not isinstance(payload, dict):
        outcome = "error " + str(payload.get("errorType") if isinstance(payload, dict) else "unknown")
    else:
        outcome = f"HTTP {payload.get('statusCode')}"
    retry = f"  (retry {context['retryCount']})" if context.get("retryCount") else ""
    return (
        f"step {context.get('stepId')}  {event.get('operationId')}  {event.get('method')} {event.get('path')}"
        f"  -> {outcome}{retry}"
    )


def run_and_report(engine: LocalEngine, machine_arn: str, inputs: Any, out: TextIO, interval: float = 0.1) -> Any:
    """Start one execution, print a line per step as it runs, then the result line (the last line); returns the
    ExecutionResult."""
    from local_tools.cli.progress import belongs_to, result_json, watch

    arn = engine.start_execution(machine_arn, inputs, name=f"run-{uuid.uuid4().hex[:12]}")
    seen = 0

    def show_new() -> None:
        nonlocal seen
        invocations = engine.invocations[seen:]  # appended by the execution's thread; a slice is safe
        seen += len(invocations)
        for invocation in invocations:
            event = invocation.event if isinstance(invocation.event, dict) else {}
            if belongs_to(arn, (event.get("context") or {}).get("executionArn")):
                print(step_line(invocation), file=out, flush=True)

    [result] = watch(engine, [arn], show_new, interval)
    print(json.dumps(result_json(result)), file=out, flush=True)
    return result
