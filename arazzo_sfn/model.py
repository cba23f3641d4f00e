"""Read an Arazzo 1.0.x document into a checked workflow model, collecting every problem with its location.

The model is what the compiler walks; the problems are what `arazzo-sfn validate` prints. Reading never stops at
the first problem: a broken step is recorded and reading goes on, so one run reports everything.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import conditions as cond
from .document import DocumentError, Loaded, load
from .expressions import (Expr, ExpressionError, MessageRef, NamedRef, Template, parse_expression, parse_value,
                          references)
from .openapi import OpenAPISource, Operation, load_source

ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
OUTPUT_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")
SUPPORTED_VERSION = re.compile(r"^1\.0\.\d+(-.+)?$")
MAX_SECONDS = 99999999  # the largest TimeoutSeconds and Wait Seconds Step Functions accepts


@dataclass
class Problem:
    file: str
    line: int | None
    workflow_id: str | None
    step_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        scope = "".join([f" workflow {self.workflow_id}:" if self.workflow_id else "",
                         f" step {self.step_id}:" if self.step_id else ""])
        return f"{where}:{scope} {self.message}"


class InvalidDocument(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Criterion:
    condition: str
    kind: str                  # simple | jsonpath | regex
    context: Expr | None
    tree: cond.Node
    location: tuple


@dataclass
class LoopLimit:
    cleanup_step_id: str | None
    error: str
    cause: dict


@dataclass
class LoopPolicy:
    """How a loop (a goto to the same or an earlier step) waits and ends. Values are numbers or expressions."""

    initial_wait_seconds: object = 10
    backoff_rate: object = 1
    elapsed_fraction: object = 0
    max_wait_seconds: object = 300
    jitter: object = 0
    deadline_seconds: object = None
    max_iterations: object = None
    continue_as_new_after: int = 2000
    on_limit: LoopLimit = field(default_factory=lambda: LoopLimit(None, "Arazzo.LoopLimitExceeded", {}))


@dataclass
class Action:
    name: str
    type: str                  # end | goto | retry
    step_id: str | None
    criteria: list[Criterion]
    retry_after: float = 0
    retry_limit: int = 1
    loop: LoopPolicy | None = None
    location: tuple = ()


@dataclass
class Parameter:
    name: str
    location_in: str           # path | query | header | cookie
    value: object              # parsed value tree (literals, Expr, Template)


@dataclass
class Step:
    step_id: str
    operation: Operation | None
    workflow_id: str | None    # set instead of operation when the step runs another workflow of the document
    parameters: list[Parameter]
    content_type: str | None
    payload: object            # parsed value tree or None
    success_criteria: list[Criterion]
    on_success: list[Action]
    on_failure: list[Action]
    outputs: dict[str, object]
    on_no_match: Action | None
    cleanup_only: bool
    location: tuple
    task_retries: list = field(default_factory=list)   # x-retry: extra Step Functions Retry rules for the Task
    error_cleanup: str | None = None                    # x-onError.cleanupStepId: run when the Task fails
    timeout_seconds: int | None = None                  # x-timeoutSeconds: the Task's TimeoutSeconds
    fail_when: list = field(default_factory=list)       # x-failWhen: FailWhen rules judged first in the outcome


@dataclass
class FailWhen:
    criterion: Criterion
    error: str
    cause: dict


@dataclass
class InputCheck:
    """x-inputChecks: a criterion over $inputs; when it does not hold, `message` (a string or Template) is reported."""

    criterion: Criterion
    message: object


@dataclass
class Workflow:
    workflow_id: str
    inputs: dict
    steps: list[Step]
    outputs: dict[str, object]
    fail_when: list[FailWhen]
    location: tuple
    input_checks: list[InputCheck] = field(default_factory=list)

    @property
    def fixed_inputs(self) -> list[str]:
        """Top-level input properties marked `x-fixed: true`: the deployment's value, never the execution's."""
        properties = self.inputs.get("properties") if isinstance(self.inputs, dict) else None
        return [k for k, v in (properties or {}).items() if isinstance(v, dict) and v.get("x-fixed") is True]

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.step_id == step_id)


@dataclass
class Document:
    path: Path
    workflows: list[Workflow]
    sources: dict[str, OpenAPISource]


def parse_values(value: object) -> object:
    """Strings that are expressions or templates become Expr/Template; everything else stays a literal."""
    if isinstance(value, str):
        return parse_value(value)
    if isinstance(value, list):
        return [parse_values(v) for v in value]
    if isinstance(value, dict):
        return {k: parse_values(v) for k, v in value.items()}
    return value


class Reader:
    def __init__(self, loaded: Loaded, source_root: Path | None = None):
        self.loaded = loaded
        self.source_root = source_root
        self.problems: list[Problem] = []
        self.workflow_id: str | None = None
        self.step_id: str | None = None
        root = loaded.data if isinstance(loaded.data, dict) else {}
        self.components = root.get("components") if isinstance(root.get("components"), dict) else {}
        self.sources: dict[str, OpenAPISource] = {}

    def problem(self, location: tuple, message: str) -> None:
        self.problems.append(Problem(str(self.loaded.path), self.loaded.line(location), self.workflow_id,
                                     self.step_id, message))

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
        return Document(self.loaded.path, workflows, self.sources)

    def read_sources(self, raw: object) -> None:
        if not isinstance(raw, list) or not raw:
            self.problem(("sourceDescriptions",), "'sourceDescriptions' must be a non-empty list")
            return
        for index, source in enumerate(raw):
            location = ("sourceDescriptions", index)
            if not isinstance(source, dict) or not isinstance(source.get("name"), str) \
                    or not isinstance(source.get("url"), str):
                self.problem(location, "a source description needs 'name' and 'url'")
                continue
            name = source["name"]
            if name in self.sources:
                self.problem(location + ("name",), f"duplicate source description name {name!r}")
            if not ID_PATTERN.match(name):
                self.problem(location + ("name",), f"source description name {name!r} must match [A-Za-z0-9_-]+")
            if source.get("type", "openapi") != "openapi":
                # Arazzo-type sources hold workflows to call; this compiler runs steps that call operations.
                continue
            try:
                self.sources[name] = load_source(self.loaded.path, name, source["url"], self.source_root)
            except DocumentError as error:
                # The source's own file and line when it is the source that is wrong; else the url's line here.
                own = error.path == str(self.loaded.path)
                self.problem(location + ("url",), error.message if own else str(error))

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
            step = self.read_step(raw_step, location + ("steps", index), workflow_parameters,
                                  workflow_success, workflow_failure)
            if step:
                steps.append(step)
        self.step_id = None
        outputs = self.read_outputs(raw.get("outputs"), location + ("outputs",))
        outputs.update(self.read_outputs(raw.get("x-outputs"), location + ("x-outputs",)))
        fail_when = self.read_fail_when(raw.get("x-failWhen"), location + ("x-failWhen",))
        self.check_fixed_inputs(inputs, location + ("inputs",))
        input_checks = self.read_input_checks(raw.get("x-inputChecks"), location + ("x-inputChecks",))
        workflow = Workflow(workflow_id, inputs, steps, outputs, fail_when, location, input_checks)
        self.check_step_references(workflow)
        return workflow

    def check_step_references(self, workflow: Workflow) -> None:
        """`$steps.<id>` must name a step of the same workflow."""
        known = {step.step_id for step in workflow.steps}

        def check(found: list[Expr], location: tuple, step_id: str | None) -> None:
            self.step_id = step_id
            for expression in found:
                if isinstance(expression, NamedRef) and expression.root == "steps" and expression.path[0] not in known:
                    self.problem(location, f"$steps.{expression.path[0]} is not a step of this workflow")
            self.step_id = None

        for step in workflow.steps:
            found = expressions_in([p.value for p in step.parameters]) + expressions_in(step.payload) \
                + expressions_in(step.outputs)
            for criterion in step.success_criteria + [c for a in step.on_success + step.on_failure
                                                      for c in a.criteria]:
                found += criterion_expressions(criterion)
            for rule in step.fail_when:
                found += criterion_expressions(rule.criterion) + expressions_in(rule.cause)
            check(found, step.location, step.step_id)
        found = expressions_in(workflow.outputs)
        for rule in workflow.fail_when:
            found += criterion_expressions(rule.criterion) + expressions_in(rule.cause)
        check(found, workflow.location + ("outputs",), None)

    def read_fail_when(self, raw: object, location: tuple) -> list[FailWhen]:
        """x-failWhen (workflow or step): [{condition, context?, type?, error, cause?}]."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(location, "x-failWhen must be a list of {condition, error, cause}")
            return []
        rules = []
        for index, rule in enumerate(raw):
            rule_location = location + (index,)
            if not isinstance(rule, dict) or not isinstance(rule.get("error"), str) or not rule["error"]:
                self.problem(rule_location, "x-failWhen entries need 'condition' and 'error'")
                continue
            if rule["error"].startswith("States."):
                self.problem(rule_location + ("error",), f"error {rule['error']!r}: a Fail state may not raise a "
                                                         "'States.' error")
                continue
            cause = rule.get("cause") if rule.get("cause") is not None else {}
            if not isinstance(cause, dict):
                self.problem(rule_location + ("cause",), "x-failWhen cause must be a mapping of names to values "
                                                         "or runtime expressions")
                continue
            criterion = self.read_criterion(rule, rule_location)
            if criterion:
                rules.append(FailWhen(criterion, rule["error"], self.read_object(cause, rule_location + ("cause",))))
        return rules

    def read_input_checks(self, raw: object, location: tuple) -> list[InputCheck]:
        """x-inputChecks: [{condition, context?, type?, message}], reading $inputs only."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(location, "x-inputChecks must be a list of {condition, message}")
            return []
        checks = []
        for index, rule in enumerate(raw):
            rule_location = location + (index,)
            if not isinstance(rule, dict) or not isinstance(rule.get("message"), str) or not rule["message"]:
                self.problem(rule_location, "x-inputChecks entries need 'condition' and 'message'")
                continue
            criterion = self.read_criterion(rule, rule_location)
            message = self.read_value(rule["message"], rule_location + ("message",))
            if criterion is None or message is None:
                continue
            found = criterion_expressions(criterion) + expressions_in(message)
            others = sorted({_describe(e) for e in found if not (isinstance(e, NamedRef) and e.root == "inputs")})
            if others:
                self.problem(rule_location, f"x-inputChecks may read only $inputs, found {', '.join(others)}")
                continue
            checks.append(InputCheck(criterion, message))
        return checks

    def check_fixed_inputs(self, schema: dict, location: tuple) -> None:
        """x-fixed: true only on a top-level property whose value the deployment supplies."""
        properties = schema.get("properties") if isinstance(schema, dict) else None
        for key, prop in (properties or {}).items() if isinstance(properties, dict) else ():
            if not isinstance(prop, dict) or "x-fixed" not in prop:
                self._no_nested_fixed(prop, location + ("properties", key))
                continue
            where = location + ("properties", key, "x-fixed")
            if not isinstance(prop["x-fixed"], bool):
                self.problem(where, f"input {key}: x-fixed must be true or false")
            elif prop["x-fixed"] and "x-definitionSubstitution" not in prop and "default" not in prop:
                self.problem(where, f"input {key}: x-fixed needs x-definitionSubstitution or default (the value "
                                    "the deployment fixes)")
            self._no_nested_fixed(prop, location + ("properties", key), top=True)

    def _no_nested_fixed(self, schema: object, location: tuple, top: bool = False) -> None:
        if isinstance(schema, dict):
            for key, value in schema.items():
                if key == "x-fixed" and not top:
                    self.problem(location + (key,), "x-fixed applies to top-level input properties only")
                elif isinstance(value, (dict, list)):
                    self._no_nested_fixed(value, location + (key,))
        elif isinstance(schema, list):
            for index, value in enumerate(schema):
                self._no_nested_fixed(value, location + (index,))

    def resolve_schema(self, schema: object, location: tuple, depth: int = 0) -> dict:
        """Inline `$ref: '#/components/inputs/x'` references of an inputs schema."""
        if depth > 20:
            self.problem(location, "inputs schema references nest too deeply (a cycle?)")
            return {}
        if isinstance(schema, dict):
            if isinstance(schema.get("$ref"), str):
                ref = schema["$ref"]
                target = self.follow_ref(ref, location)
                return self.resolve_schema(target, location, depth + 1) if target is not None else {}
            return {k: self.resolve_schema(v, location + (k,), depth + 1) if isinstance(v, (dict, list)) else v
                    for k, v in schema.items()}
        if isinstance(schema, list):
            return [self.resolve_schema(v, location + (i,), depth + 1) if isinstance(v, (dict, list)) else v
                    for i, v in enumerate(schema)]
        if schema is not None:
            self.problem(location, "inputs must be a JSON Schema object")
        return {}

    def follow_ref(self, ref: str, location: tuple) -> object:
        if not ref.startswith("#/"):
            self.problem(location, f"only local references (#/...) are supported: {ref!r}")
            return None
        node: object = self.loaded.data
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                self.problem(location, f"reference {ref!r} does not resolve")
                return None
            node = node[token]
        return node

    def component(self, reference: str, kind: str, location: tuple) -> object:
        """A Reusable Object `{reference: $components.<kind>.<name>}`."""
        prefix = f"$components.{kind}."
        if not isinstance(reference, str) or not reference.startswith(prefix):
            self.problem(location, f"reference must be {prefix}<name>, found {reference!r}")
            return None
        name = reference[len(prefix):]
        found = (self.components.get(kind) or {}).get(name)
        if found is None:
            self.problem(location, f"{reference} is not defined in components")
        return found

    # -- step -----------------------------------------------------------------------------------------------------
    def read_step(self, raw: object, location: tuple, workflow_parameters: list,
                  workflow_success: list, workflow_failure: list) -> Step | None:
        if not isinstance(raw, dict):
            self.problem(location, "a step must be a mapping")
            return None
        step_id = raw.get("stepId")
        self.step_id = step_id if isinstance(step_id, str) else None
        if not isinstance(step_id, str) or not ID_PATTERN.match(step_id):
            self.problem(location + ("stepId",), f"stepId must match [A-Za-z0-9_-]+, found {step_id!r}")
            step_id = str(step_id)
        targets = [k for k in ("operationId", "operationPath", "workflowId") if k in raw]
        operation = workflow_id = None
        if len(targets) != 1:
            self.problem(location, "a step needs exactly one of operationId, operationPath, workflowId")
        elif targets[0] == "workflowId":
            workflow_id = raw["workflowId"]
            if isinstance(workflow_id, str) and workflow_id.startswith("$sourceDescriptions."):
                self.problem(location + ("workflowId",), "workflows of other Arazzo documents are not supported "
                                                         "by the Step Functions compiler")
            elif workflow_id not in self.workflow_ids:
                self.problem(location + ("workflowId",), f"workflow {workflow_id!r} is not in this document")
        else:
            operation = self.resolve_operation(targets[0], raw[targets[0]], location + (targets[0],))

        parameters = self.read_parameters(list(workflow_parameters) + list(raw.get("parameters") or []),
                                          location + ("parameters",), operation)
        content_type, payload = None, None
        body = raw.get("requestBody")
        if body is not None:
            content_type, payload = self.read_request_body(body, location + ("requestBody",))
        success_criteria = [c for i, raw_c in enumerate(raw.get("successCriteria") or [])
                            if (c := self.read_criterion(raw_c, location + ("successCriteria", i)))]
        on_success = self.merge_actions(self.read_actions(raw.get("onSuccess"), location + ("onSuccess",),
                                                          "success"), workflow_success)
        on_failure = self.merge_actions(self.read_actions(raw.get("onFailure"), location + ("onFailure",),
                                                          "failure"), workflow_failure)
        on_no_match = None
        if raw.get("x-onNoMatch") is not None:
            found = self.read_actions([raw["x-onNoMatch"]], location + ("x-onNoMatch",), "success", nested=False)
            on_no_match = found[0] if found else None
            if on_no_match and on_no_match.criteria:
                self.problem(location + ("x-onNoMatch",), "x-onNoMatch is taken when nothing else matched: "
                                                          "it has no criteria")
        outputs = self.read_outputs(raw.get("outputs"), location + ("outputs",))
        outputs.update(self.read_outputs(raw.get("x-outputs"), location + ("x-outputs",)))
        step = Step(step_id, operation, workflow_id, parameters, content_type, payload, success_criteria, on_success,
                    on_failure, outputs, on_no_match, bool(raw.get("x-cleanupOnly")), location)
        step.task_retries = self.read_task_retries(raw.get("x-retry"), location + ("x-retry",))
        step.fail_when = self.read_fail_when(raw.get("x-failWhen"), location + ("x-failWhen",))
        if "x-timeoutSeconds" in raw:
            timeout = raw["x-timeoutSeconds"]
            if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= MAX_SECONDS:
                self.problem(location + ("x-timeoutSeconds",), f"x-timeoutSeconds must be an integer from 1 to "
                                                               f"{MAX_SECONDS}, found {timeout!r}")
            else:
                step.timeout_seconds = timeout
        on_error = raw.get("x-onError")
        if on_error is not None:
            cleanup = on_error.get("cleanupStepId") if isinstance(on_error, dict) else None
            if cleanup not in self.step_ids:
                self.problem(location + ("x-onError",), f"x-onError.cleanupStepId {cleanup!r} is not a step of this "
                                                        "workflow")
            else:
                step.error_cleanup = cleanup
        return step

    def read_task_retries(self, raw: object, location: tuple) -> list[dict]:
        """x-retry: [{errors, intervalSeconds, maxAttempts, backoffRate, maxDelaySeconds}] as ASL Retriers."""
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(location, "x-retry must be a list")
            return []
        retriers = []
        for index, rule in enumerate(raw):
            where = location + (index,)
            errors = rule.get("errors") if isinstance(rule, dict) else None
            if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
                self.problem(where, "x-retry entries need 'errors': a list of error names")
                continue
            retrier = {"ErrorEquals": errors}
            for key, asl in (("intervalSeconds", "IntervalSeconds"), ("maxAttempts", "MaxAttempts"),
                             ("backoffRate", "BackoffRate"), ("maxDelaySeconds", "MaxDelaySeconds")):
                if key in rule:
                    if not isinstance(rule[key], (int, float)) or isinstance(rule[key], bool) or rule[key] < 0:
                        self.problem(where + (key,), f"{key} must be a non-negative number")
                        continue
                    retrier[asl] = rule[key]
            retrier["JitterStrategy"] = "FULL"
            retriers.append(retrier)
        return retriers

    def resolve_operation(self, kind: str, value: object, location: tuple) -> Operation | None:
        if not isinstance(value, str):
            self.problem(location, f"{kind} must be a string")
            return None
        if kind == "operationPath":
            # {$sourceDescriptions.<name>.url}#/paths/~1pets/get
            match = re.match(r"^\{\$sourceDescriptions\.([A-Za-z0-9_\-]+)\.url\}(#.*)$", value)
            if not match or match.group(1) not in self.sources:
                self.problem(location, f"operationPath must be {{$sourceDescriptions.<name>.url}}#/paths/...: "
                                       f"{value!r}")
                return None
            try:
                return self.sources[match.group(1)].by_pointer(match.group(2))
            except ExpressionError as error:
                self.problem(location, str(error))
                return None
        # operationId, optionally qualified: $sourceDescriptions.<name>.<operationId>
        qualified = re.match(r"^\$sourceDescriptions\.([A-Za-z0-9_\-]+)\.(.+)$", value)
        candidates = [self.sources[qualified.group(1)]] if qualified and qualified.group(1) in self.sources \
            else list(self.sources.values())
        operation_id = qualified.group(2) if qualified else value
        found = [s.operations[operation_id] for s in candidates if operation_id in s.operations]
        if not found:
            self.problem(location, f"operationId {operation_id!r} is not in "
                                   + (", ".join(repr(s.document.path.name) for s in candidates) or
                                      "any source description"))
            return None
        if len(found) > 1:
            self.problem(location, f"operationId {operation_id!r} is in several source descriptions; "
                                   "qualify it as $sourceDescriptions.<name>.<operationId>")
        return found[0]

    def read_parameters(self, raw: list, location: tuple, operation: Operation | None) -> list[Parameter]:
        by_key: dict[tuple, Parameter] = {}
        for index, item in enumerate(raw):
            item_location = location + (index,)
            if isinstance(item, dict) and "reference" in item:
                base = self.component(item["reference"], "parameters", item_location)
                if not isinstance(base, dict):
                    continue
                item = {**base, **({"value": item["value"]} if "value" in item else {})}
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
                self.problem(item_location, "a parameter needs 'name' and 'value'")
                continue
            where = item.get("in")
            if operation is not None and where not in ("path", "query", "header", "cookie"):
                self.problem(item_location + ("in",), f"parameter {item['name']!r} needs 'in': path, query, "
                                                      "header or cookie")
                continue
            value = self.read_value(item["value"], item_location + ("value",))
            # A step parameter replaces a workflow parameter of the same name and location.
            by_key[(item["name"], where)] = Parameter(item["name"], where, value)
        if operation is not None:
            for name in re.findall(r"\{([^}]+)\}", operation.path):
                if (name, "path") not in by_key:
                    self.problem(location, f"path parameter {name!r} of {operation.method} {operation.path} "
                                           "has no value")
        return list(by_key.values())

    def read_request_body(self, raw: object, location: tuple) -> tuple[str | None, object]:
        if not isinstance(raw, dict):
            self.problem(location, "requestBody must be a mapping")
            return None, None
        content_type = raw.get("contentType")
        payload = raw.get("payload")
        if isinstance(payload, str) and (content_type or "application/json").endswith("json"):
            # A JSON document written as text, often with "{$inputs.x}" placeholders: read it as JSON so the
            # placeholders keep their types.
            import json
            try:
                payload = json.loads(payload)
            except json.JSONDecodeError:
                pass
        tree = self.read_value(payload, location + ("payload",))
        for index, replacement in enumerate(raw.get("replacements") or []):
            replacement_location = location + ("replacements", index)
            if not isinstance(replacement, dict) or "target" not in replacement or "value" not in replacement:
                self.problem(replacement_location, "a payload replacement needs 'target' and 'value'")
                continue
            tree = self.replace_at(tree, replacement["target"], self.read_value(replacement["value"],
                                                                               replacement_location + ("value",)),
                                   replacement_location)
        return content_type, tree

    def replace_at(self, tree: object, target: str, value: object, location: tuple) -> object:
        from .expressions import parse_pointer
        try:
            tokens = parse_pointer(target)
        except ExpressionError as error:
            self.problem(location + ("target",), f"{error} (only JSON pointers are supported as targets)")
            return tree
        if not tokens:
            return value
        node = tree
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node.get(token) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[tokens[-1]] = value
        elif isinstance(node, list) and tokens[-1].isdigit() and int(tokens[-1]) < len(node):
            node[int(tokens[-1])] = value
        else:
            self.problem(location + ("target",), f"replacement target {target!r} is not in the payload")
        return tree

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
        return self.read_value(raw, location) if isinstance(raw, dict) else {}

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
        return Criterion(raw["condition"], kind, context, tree, location)

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
                self.problem(item_location + ("workflowId",), "actions that go to another workflow are not "
                                                              "supported by the Step Functions compiler")
                continue
            step_id = item.get("stepId")
            if item["type"] == "goto" and step_id is None:
                self.problem(item_location, "a goto action needs a stepId")
                continue
            if step_id is not None and step_id not in self.step_ids:
                self.problem(item_location + ("stepId",), f"goto target {step_id!r} is not a step of this workflow")
                continue
            criteria = [c for i, raw_c in enumerate(item.get("criteria") or [])
                        if (c := self.read_criterion(raw_c, item_location + ("criteria", i)))]
            action = Action(item["name"], item["type"], step_id, criteria, location=item_location)
            if item["type"] == "retry":
                action.retry_after = item.get("retryAfter", 0)
                action.retry_limit = item.get("retryLimit", 1)
                if not isinstance(action.retry_after, (int, float)) or action.retry_after < 0:
                    self.problem(item_location + ("retryAfter",), "retryAfter must be a non-negative number")
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

    def read_loop(self, raw: dict, location: tuple) -> LoopPolicy:
        policy = LoopPolicy()
        keys = {"initialWaitSeconds": "initial_wait_seconds", "backoffRate": "backoff_rate",
                "elapsedFraction": "elapsed_fraction", "maxWaitSeconds": "max_wait_seconds", "jitter": "jitter",
                "deadlineSeconds": "deadline_seconds", "maxIterations": "max_iterations",
                "continueAsNewAfter": "continue_as_new_after"}
        for key, value in raw.items():
            if key == "onLimit":
                continue
            if key not in keys:
                self.problem(location + (key,), f"unknown x-loop setting {key!r} (known: {', '.join(keys)})")
                continue
            if isinstance(value, str):
                value = self.read_value(value, location + (key,))
                if not isinstance(value, Expr):
                    self.problem(location + (key,), f"{key} must be a number or a runtime expression")
                    continue
            elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                self.problem(location + (key,), f"{key} must be a non-negative number")
                continue
            if key == "continueAsNewAfter" and not (isinstance(value, int) and 1 <= value <= 2500):
                self.problem(location + (key,), "continueAsNewAfter must be an integer from 1 to 2500 "
                                                "(25,000 history events per execution)")
                continue
            setattr(policy, keys[key], value)
        on_limit = raw.get("onLimit") or {}
        if on_limit:
            cleanup = on_limit.get("cleanupStepId")
            if cleanup is not None and cleanup not in self.step_ids:
                self.problem(location + ("onLimit", "cleanupStepId"), f"cleanup step {cleanup!r} is not a step "
                                                                      "of this workflow")
                cleanup = None
            policy.on_limit = LoopLimit(cleanup, on_limit.get("error", "Arazzo.LoopLimitExceeded"),
                                        self.read_object(on_limit.get("cause") or {}, location + ("onLimit",
                                                                                                  "cause")))
        return policy


def read(path: str | Path, source_root: Path | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and check an Arazzo document: the model (None when unreadable) and every problem found.

    Source descriptions must lie under `source_root` (default: the document's folder's parent)."""
    try:
        loaded = load(path)
    except DocumentError as error:
        return None, [Problem(error.path, error.line, None, None, error.message)]
    reader = Reader(loaded, source_root)
    document = reader.read()
    return document, reader.problems


def expressions_in(value: object) -> list[Expr]:
    """Every runtime expression in a parsed value tree."""
    if isinstance(value, (Expr, Template)):
        return references(value)
    if isinstance(value, list):
        return [e for v in value for e in expressions_in(v)]
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions_in(v)]
    return []


def criterion_expressions(criterion: Criterion) -> list[Expr]:
    """The runtime expressions a criterion reads: its context and those inside its condition."""
    found = [criterion.context] if criterion.context is not None else []

    def walk(node: object) -> None:
        if isinstance(node, cond.Runtime):
            found.append(node.expr)
        elif isinstance(node, cond.Node):
            for value in vars(node).values():
                for item in value if isinstance(value, tuple) else (value,):
                    walk(item)

    walk(criterion.tree)
    return found


def _describe(expression: Expr) -> str:
    """A short name of a runtime expression for messages: $steps.x, $response.body, $statusCode."""
    if isinstance(expression, NamedRef):
        return f"${expression.root}" + "".join(f".{name}" for name in expression.path[:1])
    if isinstance(expression, MessageRef):
        return f"${expression.message}.{expression.source}"
    return "$" + type(expression).__name__[:1].lower() + type(expression).__name__[1:]
