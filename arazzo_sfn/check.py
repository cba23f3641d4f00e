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
from .foreach import item_scope, row_scope
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
        self.checked_elsewhere: set[tuple[str, str]] = set()

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
            self.check_for_each(workflow)
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
            if step.for_each:
                found += expressions_in([step.for_each.items, step.for_each.max_concurrency])
                found += expressions_in([s.value for s in step.for_each.summary.values()])
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

    def check_calls(
        self, workflow: Workflow, callers: tuple[tuple[str, str], ...], document: Document | None = None
    ) -> None:
        """Steps that run another workflow: it runs inline, so it may not run itself, check its own inputs or
        have a fixed input set by the step. (An x-execution item is a machine of its own: it checks its inputs and
        runs its x-onEnd itself.)"""
        document = document or self.document
        here = (str(document.path), workflow.workflow_id)
        for step in workflow.steps:
            found = document.called(step) if step.workflow_id else None
            if found is None:
                continue
            called_document, called = found
            separate = step.for_each is not None and step.for_each.execution_arn is not None
            if (str(called_document.path), called.workflow_id) in callers + (here,):
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
                if called.input_checks and not separate:
                    self.problem(
                        step.line,
                        step,
                        f"workflow {called.workflow_id} has x-inputChecks: they are checked "
                        "for the workflow being compiled only, not for one a step runs",
                    )
                if called.on_end and not separate:
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
            if called_document is not self.document and (str(called_document.path), called.workflow_id) not in (
                self.checked_elsewhere
            ):
                # A workflow of another document: checked as that document's own (its file, its lines).
                self.checked_elsewhere.add((str(called_document.path), called.workflow_id))
                self.problems.extend(Checker(called_document).run([called]))
            if not separate:
                self.check_calls(called, callers + (here,), called_document)

    def check_for_each(self, workflow: Workflow) -> None:
        """x-forEach steps: what an item does is the called workflow's; never inside a loop; `$outputs.<name>` is
        an output of that workflow; inline items are bounded."""
        main = workflow.main_steps
        ids = [s.step_id for s in main]
        loops = [
            (ids.index(action.step_id or ""), ids.index(step.step_id))
            for step in main
            for action in step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else [])
            if action.type == "goto" and action.step_id in ids and is_backward(main, step, action)
        ]
        for step in workflow.steps:
            if step.for_each is None:
                continue
            if (
                step.success_criteria
                or step.on_success
                or step.on_failure
                or step.on_no_match
                or step.fail_when
                or step.task_retries
                or step.error_cleanup
                or step.timeout_seconds
                or step.cleanup_only
            ):
                self.problem(
                    step.for_each.line,
                    step,
                    "an x-forEach step has no successCriteria, onSuccess, onFailure (the workflow's successActions "
                    "and failureActions included), x-onNoMatch, x-failWhen, x-retry, x-onError, x-timeoutSeconds "
                    "or x-cleanupOnly: an item's outcome is its workflow's, and the step's outputs report it",
                )
            if step.step_id in ids and any(start <= ids.index(step.step_id) <= end for start, end in loops):
                self.problem(step.for_each.line, step, "an x-forEach step may not be inside a loop")
            found = self.document.called(step)
            if found is None:
                continue
            names = set(found[1].outputs)
            for expression in expressions_in(step.outputs) + expressions_in(
                [s.value for s in step.for_each.summary.values()]
            ):
                if (
                    isinstance(expression, NamedRef)
                    and expression.root == "outputs"
                    and expression.path[0] not in names
                ):
                    self.problem(
                        step.line,
                        step,
                        f"$outputs.{expression.path[0]} is not an output of workflow {found[1].workflow_id}",
                    )
            if events.item_events(step, self.document) is None:
                self.problem(
                    step.for_each.line,
                    step,
                    f"workflow {found[1].workflow_id} runs inline for each item, so each of its loops needs a "
                    "literal maxIterations (the items are budgeted in this execution's history); or use x-execution",
                )

    def check_history_budget(self, workflow: Workflow) -> None:
        """A loop's continueAsNewAfter, and an x-forEach step's x-maxItems, must leave every execution below the
        25,000-event history limit."""
        workflows = self.document
        main = workflow.main_steps
        fixed = events.fixed_events(workflow, self.document)
        for step in main:
            each = events.item_events(step, self.document) if step.for_each else None
            if step.for_each and each and fixed > events.HISTORY_LIMIT:
                fit = (events.HISTORY_LIMIT - fixed + step.for_each.max_items * each) // each
                self.problem(
                    step.for_each.line,
                    step,
                    f"x-maxItems {step.for_each.max_items}: an item of this step can write {each} history events, "
                    f"so at most {max(fit, 0)} items fit in one execution ({events.HISTORY_LIMIT:,} events)",
                )
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

        try:
            names = WorkflowLowering(self.document, workflow).lower(str(self.document.path)).states.names()
        except (tr.UnsupportedExpression, js.UnsupportedName):
            return  # a workflow it runs has a problem, reported where it is
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
            if step.for_each:
                self.check_for_each_expressions(step, scope)
                continue
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

    def check_for_each_expressions(self, step: Step, scope: Callable[..., tr.Scope]) -> None:
        """An x-forEach step: its list and concurrency read the step's scope, its parameters `$item` too, its
        outputs and x-summary one item's row."""
        for_each = step.for_each
        assert for_each is not None
        for parameter in step.parameters:
            self.translates(step.line, step, val.asl_value, parameter.value, item_scope(scope(step, None)))
        self.translates(for_each.line, step, tr.runtime, for_each.items, scope(step, None))
        if isinstance(for_each.max_concurrency, Expr):
            self.translates(for_each.line, step, tr.runtime, for_each.max_concurrency, scope(step, None))
        row = js.Var("r")
        self.translates(step.line, step, val.outputs_object, step.outputs, row_scope(scope(step, None), row))
        for summary in for_each.summary.values():
            self.translates(step.line, step, val.value, summary.value, row_scope(scope(step, None), row))

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
