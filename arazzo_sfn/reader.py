"""Read an Arazzo 1.0.x document into the workflow model, collecting every problem with its line.

Reading never stops at the first problem: a broken step is recorded and reading goes on, so one run reports
everything. The `x-` extensions are read by extensions.py; semantic checks across the model are check.py's.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import conditions as cond
from .document import DocumentError, Loaded, load
from .expressions import ExpressionError, parse_expression, parse_values
from .extensions import MAX_SECONDS, ExtensionReader
from .model import Action, Criterion, Document, Problem, Step, Workflow
from .openapi import OpenAPISource, load_source, resolve_source, source_root
from .references import ReferenceReader

ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
OUTPUT_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")
SUPPORTED_VERSION = re.compile(r"^1\.0\.\d+(-.+)?$")
SOURCE_WORKFLOW = re.compile(r"^\$sourceDescriptions\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)$")
MAX_ARAZZO_SOURCE_DEPTH = 4  # a document names one that names one ... at most this deep


class Reader(ExtensionReader, ReferenceReader):
    """Reads one loaded document; `problems` collects what is wrong, with lines."""

    def __init__(self, loaded: Loaded, source_root: Path | None = None, chain: tuple[Path, ...] = ()):
        self.loaded = loaded
        self.source_root = source_root
        self.chain = chain + (Path(loaded.path).resolve(),)  # the documents being read, this one last
        self.arazzo_sources: dict[str, Document] = {}
        self.problems: list[Problem] = []
        self.workflow_id: str | None = None
        self.step_id: str | None = None
        root = loaded.data if isinstance(loaded.data, dict) else {}
        components = root.get("components")
        self.components: dict = components if isinstance(components, dict) else {}
        self.sources: dict[str, OpenAPISource] = {}

    def line(self, location: tuple) -> int | None:
        return self.loaded.line(location)

    def problem(self, location: tuple, message: str) -> None:
        self.problems.append(
            Problem(str(self.loaded.path), self.loaded.line(location), self.workflow_id, self.step_id, message)
        )

    # -- document -------------------------------------------------------------------------------------------------
    def read(self) -> Document:
        data = self.loaded.data
        if not isinstance(data, dict):
            self.problem((), "an Arazzo document is a mapping at the top level")
            return Document(self.loaded.path, [], {})
        version = data.get("arazzo")
        if not isinstance(version, str) or not SUPPORTED_VERSION.match(version):
            self.problem(("arazzo",), f"'arazzo' must be a 1.0.x version string, found {version!r}")
        info = data.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("title"), str) or "version" not in info:
            self.problem(("info",), "'info' with 'title' and 'version' is required")
        self.read_sources(data.get("sourceDescriptions"))
        if "x-onEnd" in data:
            self.problem(("x-onEnd",), "x-onEnd applies to a workflow (it runs when the workflow ends)")
        raw_workflows = data.get("workflows")
        if not isinstance(raw_workflows, list) or not raw_workflows:
            self.problem(("workflows",), "'workflows' must be a non-empty list")
            raw_workflows = []
        self.workflow_ids = [w.get("workflowId") for w in raw_workflows if isinstance(w, dict)]
        seen: set = set()
        for index, workflow_id in enumerate(self.workflow_ids):
            if workflow_id in seen:
                self.problem(("workflows", index, "workflowId"), f"duplicate workflowId {workflow_id!r}")
            seen.add(workflow_id)
        workflows = []
        for index, raw in enumerate(raw_workflows):
            workflow = self.read_workflow(raw, ("workflows", index))
            if workflow:
                workflows.append(workflow)
        self.workflow_id = self.step_id = None
        return Document(self.loaded.path, workflows, self.sources, self.arazzo_sources)

    def read_sources(self, raw: object) -> None:
        if not isinstance(raw, list) or not raw:
            self.problem(("sourceDescriptions",), "'sourceDescriptions' must be a non-empty list")
            return
        for index, source in enumerate(raw):
            location = ("sourceDescriptions", index)
            if (
                not isinstance(source, dict)
                or not isinstance(source.get("name"), str)
                or not isinstance(source.get("url"), str)
            ):
                self.problem(location, "a source description needs 'name' and 'url'")
                continue
            name = source["name"]
            if name in self.sources:
                self.problem(location + ("name",), f"duplicate source description name {name!r}")
            if not ID_PATTERN.match(name):
                self.problem(location + ("name",), f"source description name {name!r} must match [A-Za-z0-9_-]+")
            if source.get("type") == "arazzo":
                self.read_arazzo_source(name, source["url"], location)
                continue
            if source.get("type", "openapi") != "openapi":
                continue
            try:
                self.sources[name] = load_source(self.loaded.path, name, source["url"], self.source_root)
            except DocumentError as error:
                # The source's own file and line when it is the source that is wrong; else the url's line here.
                own = error.path == str(self.loaded.path)
                self.problem(location + ("url",), error.message if own else str(error))

    def read_arazzo_source(self, name: str, url: str, location: tuple) -> None:
        """A `type: arazzo` source description: another document whose workflows steps may run, read (with its own
        problems, file and lines) under the same source root."""
        root = self.source_root or source_root(self.loaded.path)
        try:
            path = resolve_source(self.loaded.path, url, root)
        except DocumentError as error:
            self.problem(location + ("url",), error.message)
            return
        if path.resolve() in self.chain:
            self.problem(location + ("url",), f"source description {name!r} names a document that names this one")
            return
        if len(self.chain) > MAX_ARAZZO_SOURCE_DEPTH:
            self.problem(
                location + ("url",),
                f"source description {name!r}: Arazzo documents nest more than {MAX_ARAZZO_SOURCE_DEPTH} deep",
            )
            return
        document, problems = read(path, root, self.chain)
        if document is None:  # unreadable: said where this document names it
            for problem in problems:
                self.problem(location + ("url",), str(problem))
            return
        self.problems.extend(problems)  # the other document's own problems, with its file and lines
        self.arazzo_sources[name] = document

    # -- workflow -------------------------------------------------------------------------------------------------
    def read_workflow(self, raw: object, location: tuple) -> Workflow | None:
        self.step_id = None
        if not isinstance(raw, dict):
            self.problem(location, "a workflow must be a mapping")
            return None
        workflow_id = raw.get("workflowId")
        self.workflow_id = workflow_id if isinstance(workflow_id, str) else None
        if not isinstance(workflow_id, str) or not ID_PATTERN.match(workflow_id):
            self.problem(location + ("workflowId",), f"workflowId must match [A-Za-z0-9_-]+, found {workflow_id!r}")
        inputs = self.resolve_schema(raw.get("inputs", {}), location + ("inputs",))
        raw_steps = raw.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            self.problem(location + ("steps",), "'steps' must be a non-empty list")
            raw_steps = []
        step_ids = [s.get("stepId") for s in raw_steps if isinstance(s, dict)]
        seen: set = set()
        for index, step_id in enumerate(step_ids):
            if step_id in seen:
                self.step_id = step_id
                self.problem(location + ("steps", index, "stepId"), f"duplicate stepId {step_id!r}")
                self.step_id = None
            seen.add(step_id)
        self.step_ids = step_ids
        workflow_success = self.read_actions(raw.get("successActions"), location + ("successActions",), "success")
        workflow_failure = self.read_actions(raw.get("failureActions"), location + ("failureActions",), "failure")
        workflow_parameters = raw.get("parameters") or []
        steps = []
        for index, raw_step in enumerate(raw_steps):
            step = self.read_step(
                raw_step, location + ("steps", index), workflow_parameters, workflow_success, workflow_failure
            )
            if step:
                steps.append(step)
        self.step_id = None
        outputs = self.read_outputs(raw.get("outputs"), location + ("outputs",))
        outputs.update(self.read_outputs(raw.get("x-outputs"), location + ("x-outputs",)))
        fail_when = self.read_fail_when(raw.get("x-failWhen"), location + ("x-failWhen",))
        self.check_fixed_inputs(inputs, location + ("inputs",))
        input_checks = self.read_input_checks(raw.get("x-inputChecks"), location + ("x-inputChecks",))
        on_end = self.read_on_end(raw.get("x-onEnd"), location + ("x-onEnd",))
        return Workflow(
            str(workflow_id),
            inputs,
            steps,
            outputs,
            fail_when,
            self.line(location),
            input_checks,
            inputs_line=self.line(location + ("inputs",)),
            outputs_line=self.line(location + ("outputs",)),
            on_end=on_end,
        )

    def read_step(
        self, raw: object, location: tuple, workflow_parameters: list, workflow_success: list, workflow_failure: list
    ) -> Step | None:
        if not isinstance(raw, dict):
            self.problem(location, "a step must be a mapping")
            return None
        step_id = raw.get("stepId")
        self.step_id = step_id if isinstance(step_id, str) else None
        if not isinstance(step_id, str) or not ID_PATTERN.match(step_id):
            self.problem(location + ("stepId",), f"stepId must match [A-Za-z0-9_-]+, found {step_id!r}")
            step_id = str(step_id)
        targets = [k for k in ("operationId", "operationPath", "workflowId") if k in raw]
        operation = workflow_id = workflow_source = None
        if len(targets) != 1:
            self.problem(location, "a step needs exactly one of operationId, operationPath, workflowId")
        elif targets[0] == "workflowId":
            workflow_id = raw["workflowId"]
            if isinstance(workflow_id, str) and workflow_id.startswith("$sourceDescriptions."):
                workflow_source, workflow_id = self.source_workflow(workflow_id, location + ("workflowId",))
            elif workflow_id not in self.workflow_ids:
                self.problem(location + ("workflowId",), f"workflow {workflow_id!r} is not in this document")
        else:
            operation = self.resolve_operation(targets[0], raw[targets[0]], location + (targets[0],))

        parameters = self.read_parameters(
            list(workflow_parameters) + list(raw.get("parameters") or []), location + ("parameters",), operation
        )
        content_type, payload = None, None
        body = raw.get("requestBody")
        if body is not None:
            content_type, payload = self.read_request_body(body, location + ("requestBody",))
        success_criteria = [
            c
            for i, raw_c in enumerate(raw.get("successCriteria") or [])
            if (c := self.read_criterion(raw_c, location + ("successCriteria", i)))
        ]
        on_success = self.merge_actions(
            self.read_actions(raw.get("onSuccess"), location + ("onSuccess",), "success"), workflow_success
        )
        on_failure = self.merge_actions(
            self.read_actions(raw.get("onFailure"), location + ("onFailure",), "failure"), workflow_failure
        )
        on_no_match = self.read_on_no_match(raw.get("x-onNoMatch"), location + ("x-onNoMatch",))
        if "x-onEnd" in raw:
            self.problem(location + ("x-onEnd",), "x-onEnd applies to a workflow (it runs when the workflow ends)")
        outputs = self.read_outputs(raw.get("outputs"), location + ("outputs",))
        outputs.update(self.read_outputs(raw.get("x-outputs"), location + ("x-outputs",)))
        step = Step(
            step_id,
            operation,
            workflow_id,
            parameters,
            content_type,
            payload,
            success_criteria,
            on_success,
            on_failure,
            outputs,
            on_no_match,
            bool(raw.get("x-cleanupOnly")),
            self.line(location),
            workflow_source=workflow_source,
        )
        self.read_step_extensions(step, raw, location)
        return step

    def source_workflow(self, reference: str, location: tuple) -> tuple[str | None, str | None]:
        """`$sourceDescriptions.<name>.<workflowId>`: (the source's name, the workflow's id), or Nones."""
        match = SOURCE_WORKFLOW.match(reference)
        if not match:
            self.problem(location, f"workflowId {reference!r} must be $sourceDescriptions.<name>.<workflowId>")
            return None, None
        source, workflow_id = match.groups()
        document = self.arazzo_sources.get(source)
        if document is None:
            self.problem(location, f"{reference}: {source!r} is not a readable type: arazzo source description")
            return None, None
        if document.workflow(workflow_id) is None:
            self.problem(location, f"{reference}: workflow {workflow_id!r} is not in {document.path.name}")
            return None, None
        return source, workflow_id

    def read_value(self, raw: object, location: tuple) -> object:
        try:
            return parse_values(raw)
        except ExpressionError as error:
            self.problem(location, str(error))
            return None

    def read_outputs(self, raw: object, location: tuple) -> dict[str, object]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(location, "outputs must be a mapping of names to runtime expressions")
            return {}
        outputs = {}
        for name, value in raw.items():
            if not OUTPUT_NAME.match(str(name)):
                self.problem(location + (name,), f"output name {name!r} must match ^[a-zA-Z0-9.\\-_]+$")
            outputs[str(name)] = self.read_value(value, location + (name,))
        return outputs

    def read_object(self, raw: dict, location: tuple) -> dict:
        value = self.read_value(raw, location) if isinstance(raw, dict) else {}
        return value if isinstance(value, dict) else {}

    # -- criteria and actions -------------------------------------------------------------------------------------
    def read_criterion(self, raw: object, location: tuple) -> Criterion | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("condition"), str):
            self.problem(location, "a criterion needs a 'condition' string")
            return None
        kind = raw.get("type", "simple")
        if isinstance(kind, dict):  # Criterion Expression Type Object {type, version}
            kind = kind.get("type")
        if kind == "xpath":
            self.problem(location + ("type",), "xpath criteria are not supported (JSON APIs only)")
            return None
        if kind not in ("simple", "jsonpath", "regex"):
            self.problem(location + ("type",), f"unknown criterion type {kind!r}")
            return None
        context = None
        if "context" in raw:
            try:
                context = parse_expression(raw["context"])
            except ExpressionError as error:
                self.problem(location + ("context",), str(error))
                return None
        elif kind != "simple":
            self.problem(location, f"a {kind} criterion needs a 'context'")
            return None
        if kind == "simple" and context is not None and re.match(r"^\s*!?\(?\s*\$[.\[]", raw["condition"]):
            # A context with a `$.field` condition but no type: the author means the jsonpath dialect.
            kind = "jsonpath"
        try:
            tree = cond.parse_criterion(raw["condition"], kind)
        except (cond.ConditionError, ExpressionError) as error:
            shown = raw["condition"] if len(raw["condition"]) <= 120 else raw["condition"][:100] + "..."
            self.problem(location + ("condition",), f"condition {shown!r}: {error}")
            return None
        return Criterion(raw["condition"], kind, context, tree, self.line(location))

    def read_actions(self, raw: object, location: tuple, kind: str, nested: bool = True) -> list[Action]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(location, "actions must be a list")
            return []
        actions, names = [], set()
        allowed = ("end", "goto") if kind == "success" else ("end", "goto", "retry")
        for index, item in enumerate(raw):
            item_location = location + (index,) if nested else location
            if isinstance(item, dict) and "reference" in item and "type" not in item:
                item = self.component(item["reference"], f"{kind}Actions", item_location)
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                self.problem(item_location, "an action needs a 'name'")
                continue
            if item.get("type") not in allowed:
                self.problem(item_location + ("type",), f"{kind} action type must be one of {', '.join(allowed)}")
                continue
            if item["name"] in names:
                self.problem(item_location + ("name",), f"duplicate action name {item['name']!r}")
            names.add(item["name"])
            if "workflowId" in item:
                self.problem(
                    item_location + ("workflowId",),
                    "actions that go to another workflow are not supported by the Step Functions compiler",
                )
                continue
            step_id = item.get("stepId")
            if item["type"] == "goto" and step_id is None:
                self.problem(item_location, "a goto action needs a stepId")
                continue
            if step_id is not None and step_id not in self.step_ids:
                self.problem(item_location + ("stepId",), f"goto target {step_id!r} is not a step of this workflow")
                continue
            criteria = [
                c
                for i, raw_c in enumerate(item.get("criteria") or [])
                if (c := self.read_criterion(raw_c, item_location + ("criteria", i)))
            ]
            action = Action(item["name"], item["type"], step_id, criteria, line=self.line(item_location))
            if item["type"] == "retry":
                action.retry_after = item.get("retryAfter", 0)
                action.retry_limit = item.get("retryLimit", 1)
                if not isinstance(action.retry_after, (int, float)) or not 0 <= action.retry_after <= MAX_SECONDS:
                    self.problem(
                        item_location + ("retryAfter",),
                        f"retryAfter must be a number of seconds from 0 to {MAX_SECONDS}",
                    )
                if not isinstance(action.retry_limit, int) or action.retry_limit < 0:
                    self.problem(item_location + ("retryLimit",), "retryLimit must be a non-negative integer")
            if isinstance(item.get("x-loop"), dict):
                action.loop = self.read_loop(item["x-loop"], item_location + ("x-loop",))
            actions.append(action)
        return actions

    @staticmethod
    def merge_actions(step_actions: list[Action], workflow_actions: list[Action]) -> list[Action]:
        """Step actions first; workflow actions apply unless the step overrides one of the same name."""
        names = {a.name for a in step_actions}
        return step_actions + [a for a in workflow_actions if a.name not in names]


def read(
    path: str | Path, source_root: Path | None = None, chain: tuple[Path, ...] = ()
) -> tuple[Document | None, list[Problem]]:
    """Read a document: the model (None when unreadable) and the problems found while reading.

    Source descriptions must lie under `source_root` (default: the document's folder's parent); `chain` holds the
    documents that name this one. check.validate runs this and every semantic check."""
    try:
        loaded = load(path)
    except DocumentError as error:
        return None, [Problem(error.path, error.line, None, None, error.message)]
    reader = Reader(loaded, source_root, chain)
    document = reader.read()
    return document, reader.problems
