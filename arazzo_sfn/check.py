"""Every semantic check of a read document, in one place: `validate` runs exactly what `compile` runs.

A document is compiled only when reading and these checks found no problem, so lower.py may assume a sound model.
Each check reports a Problem with the file and line of the thing that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from . import events
from . import jsonata as js
from . import translate as tr
from . import values as val
from .condition_tree import runtime_expressions
from .continuation import is_backward
from .expressions import Expr, NamedRef, describe, expressions_in
from .model import Criterion, Document, Problem, Step, Workflow
from .reader import read

SUBSTITUTION_KEY = re.compile(r"[A-Za-z0-9]+")
MAX_STATE_NAME = 80


def validate(path: str | Path, source_root: Path | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and check a document: the model (None when unreadable) and every problem found."""
    document, problems = read(path, source_root)
    if document is None or problems:
        return document, problems
    return document, Checker(document).run()


def criterion_expressions(criterion: Criterion) -> list[Expr]:
    """The runtime expressions a criterion reads: its context and those inside its condition."""
    return ([criterion.context] if criterion.context is not None else []) + runtime_expressions(criterion.tree)


class Checker:
    def __init__(self, document: Document):
        self.document = document
        self.problems: list[Problem] = []
        self.source_urls = {name: s.url for name, s in document.sources.items()}
        self.workflow: Workflow | None = None

    def problem(self, line: int | None, step: Step | None, message: str) -> None:
        self.problems.append(
            Problem(
                str(self.document.path),
                line,
                self.workflow.workflow_id if self.workflow else None,
                step.step_id if step else None,
                message,
            )
        )

    def run(self, workflows: list[Workflow] | None = None) -> list[Problem]:
        """The problems of `workflows` (default: every workflow of the document)."""
        for workflow in self.document.workflows if workflows is None else workflows:
            self.workflow = workflow
            self.check_structure(workflow)
            self.check_step_references(workflow)
            self.check_input_checks(workflow)
            self.check_substitutions(workflow)
            self.check_calls(workflow, ())
            self.check_expressions(workflow)
            self.check_history_budget(workflow)
            if not [p for p in self.problems if p.workflow_id == workflow.workflow_id]:
                self.check_state_names(workflow)
        return self.problems

    # -- structure ------------------------------------------------------------------------------------------------
    def check_structure(self, workflow: Workflow) -> None:
        if not workflow.main_steps:
            self.problem(workflow.line, None, "the workflow has no steps to run")
        for step in workflow.steps:
            if step.operation is None and step.workflow_id is None:
                self.problem(step.line, step, "the step has no resolvable operation")
            actions = step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else [])
            for action in actions:
                if action.type == "goto" and workflow.step(action.step_id or "").cleanup_only:
                    self.problem(action.line, step, f"goto {action.step_id}: a cleanup-only step is not a goto target")
                if action.type == "retry" and action.step_id:
                    self.problem(action.line, step, "retry actions that first run another step are not supported")

    def check_step_references(self, workflow: Workflow) -> None:
        """`$steps.<id>` must name a step of the same workflow."""
        known = {step.step_id for step in workflow.steps}

        def check(found: list[Expr], line: int | None, step: Step | None) -> None:
            for expression in found:
                if isinstance(expression, NamedRef) and expression.root == "steps" and expression.path[0] not in known:
                    self.problem(line, step, f"$steps.{expression.path[0]} is not a step of this workflow")

        for step in workflow.steps:
            found = (
                expressions_in([p.value for p in step.parameters])
                + expressions_in(step.payload)
                + expressions_in(step.outputs)
            )
            for criterion in step.success_criteria + [c for a in step.on_success + step.on_failure for c in a.criteria]:
                found += criterion_expressions(criterion)
            for rule in step.fail_when:
                found += criterion_expressions(rule.criterion) + expressions_in(rule.cause)
            check(found, step.line, step)
        found = expressions_in(workflow.outputs)
        for rule in workflow.fail_when:
            found += criterion_expressions(rule.criterion) + expressions_in(rule.cause)
        check(found, workflow.outputs_line, None)
        main = {step.step_id for step in workflow.main_steps}
        for task in workflow.on_end:
            found = expressions_in(task.arguments) + (criterion_expressions(task.when) if task.when else [])
            check(found, task.line, None)
            for expression in found:
                if (
                    isinstance(expression, NamedRef)
                    and expression.root == "end"
                    and expression.path[0] == "iterations"
                    and len(expression.path) == 2
                    and expression.path[1] not in main
                ):
                    self.problem(
                        task.line, None, f"$end.iterations.{expression.path[1]} is not a step of this workflow"
                    )

    def check_input_checks(self, workflow: Workflow) -> None:
        for check in workflow.input_checks:
            found = criterion_expressions(check.criterion) + expressions_in(check.message)
            others = sorted({describe(e) for e in found if not (isinstance(e, NamedRef) and e.root == "inputs")})
            if others:
                self.problem(
                    check.criterion.line, None, f"x-inputChecks may read only $inputs, found {', '.join(others)}"
                )

    def check_substitutions(self, workflow: Workflow) -> None:
        for prop in (workflow.inputs.get("properties") or {}).values():
            substitution = prop.get("x-definitionSubstitution") if isinstance(prop, dict) else None
            if isinstance(substitution, str) and not SUBSTITUTION_KEY.fullmatch(substitution):
                self.problem(
                    workflow.inputs_line,
                    None,
                    f"x-definitionSubstitution {substitution!r} must be letters and digits (a CloudFormation name)",
                )

    def check_calls(self, workflow: Workflow, callers: tuple[str, ...]) -> None:
        """Steps that run another workflow: it runs inline, so it may not run itself, check its own inputs or
        have a fixed input set by the step."""
        for step in workflow.steps:
            called = self.document.workflow(step.workflow_id) if step.workflow_id else None
            if called is None:
                continue
            if called.workflow_id in callers + (workflow.workflow_id,):
                self.problem(
                    step.line,
                    step,
                    f"step {step.step_id} runs workflow {called.workflow_id}, which is "
                    "already running: recursive workflows are not supported",
                )
                continue
            if not callers:
                if not called.main_steps:
                    self.problem(step.line, step, f"workflow {called.workflow_id} has no steps")
                if called.input_checks:
                    self.problem(
                        step.line,
                        step,
                        f"workflow {called.workflow_id} has x-inputChecks: they are checked "
                        "for the workflow being compiled only, not for one a step runs",
                    )
                if called.on_end:
                    self.problem(
                        step.line,
                        step,
                        f"workflow {called.workflow_id} has x-onEnd: it runs when the compiled workflow "
                        "ends, not when a workflow a step runs ends",
                    )
                for parameter in step.parameters:
                    if parameter.name in called.fixed_inputs:
                        self.problem(
                            step.line,
                            step,
                            f"input {parameter.name} of workflow {called.workflow_id} is "
                            "x-fixed: a step may not set it",
                        )
            self.check_calls(called, callers + (workflow.workflow_id,))

    def check_history_budget(self, workflow: Workflow) -> None:
        """A loop's continueAsNewAfter must leave every execution below the 25,000-event history limit."""
        workflows = {w.workflow_id: w for w in self.document.workflows}
        main = workflow.main_steps
        backward = [
            (step, action)
            for step in main
            for action in step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else [])
            if action.type == "goto" and action.step_id in {s.step_id for s in main} and is_backward(main, step, action)
        ]
        loops = len({(step.step_id, action.step_id) for step, action in backward})
        for step, action in backward:
            target = workflow.step(action.step_id or "")
            fit = events.iterations_per_execution(workflow, step, target, workflows, loops)
            each = events.iteration_events(workflow, step, target, workflows)
            asked = action.loop.continue_as_new_after if action.loop else None
            if fit < 1 or (asked is not None and asked > fit):
                self.problem(
                    action.line,
                    step,
                    f"continueAsNewAfter {asked if asked else fit}: an iteration of this "
                    f"loop can write {each} history events, so at most {max(fit, 0)} "
                    f"iterations fit in one execution ({events.HISTORY_LIMIT:,} events)",
                )

    def check_state_names(self, workflow: Workflow) -> None:
        """State names are at most 80 characters, the compiler's suffixes included: lower the workflow and look."""
        from .lower import WorkflowLowering

        names = WorkflowLowering(self.document, workflow).lower(str(self.document.path)).states.names()
        for name in names:
            if len(name) > MAX_STATE_NAME:
                steps = sorted((s for s in workflow.steps if s.step_id in name), key=lambda s: -len(s.step_id))
                step = steps[0] if steps else None
                self.problem(
                    step.line if step else workflow.line,
                    step,
                    f"state name {name!r} has {len(name)} characters; Step Functions allows "
                    f"{MAX_STATE_NAME}: shorten the step, action or error names in it",
                )

    # -- expressions where they are used --------------------------------------------------------------------------
    def check_expressions(self, workflow: Workflow) -> None:
        """Every expression means something where it is used: the same translation lower.py does, each in its
        place ($response only where a step's response is known, $outputs only once the outputs are)."""
        variables = val.Variables()

        def scope(step: Step | None, response: js.Node | None, outputs: bool = False) -> tr.Scope:
            return val.step_scope(step, response, self.source_urls, variables, outputs)

        for step in workflow.steps:
            task = scope(step, val.TASK_RESPONSE if step.operation else None)
            judged = scope(step, val.JUDGED_RESPONSE, outputs=step.workflow_id is not None)
            for parameter in step.parameters:
                self.translates(step.line, step, val.asl_value, parameter.value, task)
            self.translates(step.line, step, val.asl_value, step.payload, task)
            self.translates(step.line, step, val.outputs_object, step.outputs, judged if step.workflow_id else task)
            actions = step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else [])
            for criterion in step.success_criteria + [c for a in actions for c in a.criteria]:
                self.translates(criterion.line, step, val.criterion, criterion, judged)
            for rule in step.fail_when:
                self.translates(rule.criterion.line, step, val.criterion, rule.criterion, judged)
                self.translates(rule.criterion.line, step, val.value, rule.cause, judged)
            for action in actions:
                if action.loop is not None:
                    for setting in vars(action.loop).values():
                        if isinstance(setting, Expr):
                            self.translates(action.line, step, tr.runtime, setting, judged)
                    self.translates(action.line, step, val.value, action.loop.on_limit.cause, scope(step, None))
        top = scope(None, None)
        self.translates(workflow.outputs_line, None, val.outputs_object, workflow.outputs, top)
        for check in workflow.input_checks:
            self.translates(check.criterion.line, None, val.criterion, check.criterion, top)
            self.translates(check.criterion.line, None, val.value, check.message, top)
        finished = scope(None, None, outputs=True)
        for rule in workflow.fail_when:
            self.translates(rule.criterion.line, None, val.criterion, rule.criterion, finished)
            self.translates(rule.criterion.line, None, val.value, rule.cause, finished)
        ended = val.end_scope(self.source_urls)
        for end_task in workflow.on_end:
            self.translates(end_task.line, None, val.asl_value, end_task.arguments, ended, True)
            if end_task.when:
                self.translates(end_task.when.line, None, val.criterion, end_task.when, ended)

    def translates(
        self, line: int | None, step: Step | None, translate: Callable[..., object], *arguments: object
    ) -> None:
        """Run one translation (and render it, so names JSONata cannot write are found too)."""
        try:
            _render_all(translate(*arguments))
        except (tr.UnsupportedExpression, js.UnsupportedName) as error:
            self.problem(line, step, str(error))


def _render_all(built: object) -> None:
    if isinstance(built, js.Node):
        js.render(built)
