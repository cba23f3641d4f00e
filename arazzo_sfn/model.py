"""The checked workflow model: the tree types a read Arazzo document becomes (reader.py builds them, check.py
checks them, lower.py compiles them). Every node keeps the line it came from, for problems."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from . import condition_tree as cond
from .expressions import Expr
from .openapi import OpenAPISource, Operation


@dataclass
class Problem:
    """One thing wrong with a document: where (file, line, workflow, step) and what."""

    file: str
    line: int | None
    workflow_id: str | None
    step_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        scope = "".join(
            [
                f" workflow {self.workflow_id}:" if self.workflow_id else "",
                f" step {self.step_id}:" if self.step_id else "",
            ]
        )
        return f"{where}:{scope} {self.message}"


@dataclass
class Criterion:
    condition: str
    kind: str  # simple | jsonpath | regex
    context: Expr | None
    tree: cond.Node
    line: int | None


@dataclass
class LoopLimit:
    cleanup_step_id: str | None
    error: str
    cause: dict


@dataclass
class LoopPolicy:
    """How a loop (a goto to the same or an earlier step) waits and ends. Values are numbers or expressions.

    The ONE place for loop defaults (docs/arazzo-extensions.md, "x-loop"): the field defaults are what an `x-loop`
    leaves out; `without_x_loop()` is the policy of a loop that has no `x-loop` at all."""

    initial_wait_seconds: object = 10
    backoff_rate: object = 1
    elapsed_fraction: object = 0
    max_wait_seconds: object = 300
    jitter: object = 0
    deadline_seconds: object = None
    max_iterations: object = None
    continue_as_new_after: int | None = None  # None: as many iterations as fit (events.py)
    # An expression the step sets (e.g. a handler's nextPollSeconds): a number replaces the formula's wait.
    suggested_wait_seconds: object = None
    on_limit: LoopLimit = field(default_factory=lambda: LoopLimit(None, "Arazzo.LoopLimitExceeded", {}))

    @classmethod
    def without_x_loop(cls) -> LoopPolicy:
        """A loop without x-loop still waits and ends: 5 s doubling to 5 min, at most 1,000 iterations."""
        return replace(cls(), initial_wait_seconds=5, backoff_rate=2, max_iterations=1000)


@dataclass
class Action:
    name: str
    type: str  # end | goto | retry
    step_id: str | None
    criteria: list[Criterion]
    retry_after: float = 0
    retry_limit: int = 1
    loop: LoopPolicy | None = None
    line: int | None = None


@dataclass
class Parameter:
    name: str
    location_in: str | None  # path | query | header | cookie (None: a called workflow's input)
    value: object  # parsed value tree (literals, Expr, Template)


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
class EndTask:
    """x-onEnd: a Step Functions service Task run once when the workflow ends (best effort)."""

    name: str
    resource: str  # arn:aws:states:::<service>:<action>
    arguments: dict  # parsed value tree (literals, Expr, Template; $end.* allowed)
    timeout_seconds: int
    line: int | None
    when: Criterion | None = None  # runs only when this holds (read like the arguments, $end included)


@dataclass
class Summary:
    """One x-summary entry of an x-forEach step: `countBy` (items per value) or `sum` (of numeric values)."""

    kind: str  # countBy | sum
    value: object  # parsed value tree evaluated against each item's row


@dataclass
class ForEach:
    """x-forEach on a step that runs a workflow: a Map state over a list, each item a run of the workflow."""

    items: Expr  # the list
    max_concurrency: object  # int (0: no limit) or Expr
    max_items: int  # the most items one execution takes
    execution_arn: str | None  # x-execution.stateMachineArn: each item is an execution of it; None: inline
    summary: dict[str, Summary]
    line: int | None


@dataclass
class Step:
    step_id: str
    operation: Operation | None
    workflow_id: str | None  # set instead of operation when the step runs another workflow of the document
    parameters: list[Parameter]
    content_type: str | None
    payload: object  # parsed value tree or None
    success_criteria: list[Criterion]
    on_success: list[Action]
    on_failure: list[Action]
    outputs: dict[str, object]
    on_no_match: Action | None
    cleanup_only: bool
    line: int | None
    task_retries: list[dict] = field(default_factory=list)  # x-retry: extra Step Functions Retry rules
    error_cleanup: str | None = None  # x-onError.cleanupStepId: run when the Task fails
    timeout_seconds: int | None = None  # x-timeoutSeconds: the Task's TimeoutSeconds
    fail_when: list[FailWhen] = field(default_factory=list)  # x-failWhen: judged first in the outcome
    workflow_source: str | None = None  # the `type: arazzo` source description holding `workflow_id`
    for_each: ForEach | None = None  # x-forEach: the step runs its workflow once per item


@dataclass
class Workflow:
    workflow_id: str
    inputs: dict
    steps: list[Step]
    outputs: dict[str, object]
    fail_when: list[FailWhen]
    line: int | None
    input_checks: list[InputCheck] = field(default_factory=list)
    inputs_line: int | None = None
    outputs_line: int | None = None
    on_end: list[EndTask] = field(default_factory=list)  # x-onEnd: run once when the workflow ends

    @property
    def fixed_inputs(self) -> list[str]:
        """Top-level input properties marked `x-fixed: true`: the deployment's value, never the execution's."""
        properties = self.inputs.get("properties") if isinstance(self.inputs, dict) else None
        return [k for k, v in (properties or {}).items() if isinstance(v, dict) and v.get("x-fixed") is True]

    @property
    def main_steps(self) -> list[Step]:
        """The steps of the normal sequence (cleanup-only steps run only as cleanups)."""
        return [s for s in self.steps if not s.cleanup_only]

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.step_id == step_id)


@dataclass
class Document:
    path: Path
    workflows: list[Workflow]
    sources: dict[str, OpenAPISource]
    arazzo_sources: dict[str, Document] = field(default_factory=dict)  # `type: arazzo` source descriptions, read

    def workflow(self, workflow_id: str) -> Workflow | None:
        return next((w for w in self.workflows if w.workflow_id == workflow_id), None)

    def called(self, step: Step) -> tuple[Document, Workflow] | None:
        """The workflow a step runs and the document it is in (this one, or a `type: arazzo` source's)."""
        document = self.arazzo_sources.get(step.workflow_source) if step.workflow_source else self
        workflow = document.workflow(step.workflow_id) if document is not None and step.workflow_id else None
        return (document, workflow) if document is not None and workflow is not None else None
