"""History events: how many one loop iteration can write, and so how many iterations fit in one execution.

A Standard execution FAILS at 25,000 history events. The compiled machine continues as new after a number of loop
iterations; that number comes from here, counted in events (not guessed in iterations): each state writes a known
number of events, and every retry a Task may make is counted as if it happened, so no execution the compiler emits
can reach the limit. What runs once outside the loops (x-onEnd's ending, an x-forEach step's items, up to its
x-maxItems) is counted too. docs/arazzo-extensions.md ("History budget") gives the numbers.
"""

from __future__ import annotations

from .continuation import CONTINUATION_START_ATTEMPTS
from .expressions import Expr
from .extensions import END_TASK_MAX_ATTEMPTS
from .model import Document, LoopPolicy, Step, Workflow

HISTORY_LIMIT = 25_000
# The states outside the loops (start, continuation check, the steps before and after, cleanup, the continuation
# Task with its start retries, the end): a fixed allowance, plus what retry actions may add.
RESERVE = 1_000
WAIT = 2  # WaitStateEntered, WaitStateExited
TASK = 5  # TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited
CHOICE = 2  # ChoiceStateEntered, ChoiceStateExited
PASS = 2
RETRY = 3  # a retried attempt: TaskFailed, TaskScheduled, TaskStarted
LAMBDA_SERVICE_RETRIES = 6  # the MaxAttempts of the Lambda service-error Retrier every step's Task has
DEFAULT_MAX_ATTEMPTS = 3  # ASL's MaxAttempts when a Retrier leaves it out
MAP = 4  # MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited
MAP_ITERATION = 2  # MapIterationStarted, MapIterationSucceeded
SYNC_TASK = TASK + 1  # a .sync Task also writes TaskSubmitted
SUCCEED = 2  # SucceedStateEntered, SucceedStateExited (an item's last state)


def step_events(step: Step, workflow: Workflow, document: Document) -> int:
    """The most events one run of a step can write: its Task with every retry, and its outcome Choice."""
    if step.workflow_id:
        found = document.called(step)
        inner = sum(step_events(s, found[1], found[0]) for s in found[1].main_steps) if found else 0
        return PASS + inner + PASS + PASS + CHOICE  # enter, the called steps, its outputs, this step's outputs
    attempts = LAMBDA_SERVICE_RETRIES + sum(int(r.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)) for r in step.task_retries)
    return TASK + RETRY * attempts + CHOICE


def iteration_events(workflow: Workflow, source: Step, target: Step, document: Document) -> int:
    """One iteration of the loop from `source` back to `target`: its Wait, then the steps from target to source."""
    ids = [s.step_id for s in workflow.main_steps]
    body = workflow.main_steps[ids.index(target.step_id) : ids.index(source.step_id) + 1]
    return WAIT + sum(step_events(step, workflow, document) for step in body)


def retry_events(workflow: Workflow, document: Document) -> int:
    """Every retry action's waits and tries (a retry counter never resets within a run)."""
    retries = 0
    for step in workflow.main_steps:
        for action in step.on_failure:
            if action.type == "retry":
                retries += action.retry_limit * (WAIT + step_events(step, workflow, document))
    return retries


def ending_events(workflow: Workflow) -> int:
    """The x-onEnd ending sequence, which runs once: the recorded ending, Workflow end, the two Choices, each
    task with every retry, and the Choice of each task with `when` (ending.py)."""
    if not workflow.on_end:
        return 0
    tasks = len(workflow.on_end) * (TASK + RETRY * END_TASK_MAX_ATTEMPTS)
    return PASS + PASS + CHOICE + CHOICE + tasks + CHOICE * sum(1 for task in workflow.on_end if task.when)


def workflow_events(workflow: Workflow, document: Document) -> int | None:
    """The most events one whole run of a workflow can write inline (an x-forEach item): its steps, each loop to
    its maxIterations, its retries; None when a loop has no literal bound."""
    total = PASS + sum(step_events(step, workflow, document) for step in workflow.main_steps) + PASS
    ids = [s.step_id for s in workflow.main_steps]
    for step in workflow.main_steps:
        for action in step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else []):
            if (
                action.type != "goto"
                or action.step_id not in ids
                or ids.index(action.step_id) > ids.index(step.step_id)
            ):
                continue
            bound = (action.loop or LoopPolicy.without_x_loop()).max_iterations
            if bound is None or isinstance(bound, Expr) or not isinstance(bound, (int, float)):
                return None
            total += int(bound) * iteration_events(workflow, step, workflow.step(action.step_id or ""), document)
    return total + retry_events(workflow, document)


def item_events(step: Step, document: Document) -> int | None:
    """The most events one item of an x-forEach step can write in this execution's history."""
    assert step.for_each is not None
    if step.for_each.execution_arn:
        return MAP_ITERATION + SYNC_TASK + RETRY * CONTINUATION_START_ATTEMPTS + SUCCEED
    found = document.called(step)
    inner = workflow_events(found[1], found[0]) if found else 0
    return None if inner is None else MAP_ITERATION + PASS + inner + SUCCEED


def for_each_events(workflow: Workflow, document: Document) -> int:
    """Every x-forEach step's items check, Map state and x-maxItems items (unbounded items count nothing here:
    check.py reports them)."""
    total = 0
    for step in workflow.main_steps:
        if step.for_each is not None:
            each = item_events(step, document)
            total += CHOICE + MAP + step.for_each.max_items * (each or 0)
    return total


def fixed_events(workflow: Workflow, document: Document) -> int:
    """Events outside the loops: the reserve, the retry actions, the x-onEnd ending sequence and the x-forEach
    items."""
    return RESERVE + retry_events(workflow, document) + ending_events(workflow) + for_each_events(workflow, document)


def iterations_per_execution(workflow: Workflow, source: Step, target: Step, document: Document, loops: int) -> int:
    """How many iterations of this loop fit in one execution, when `loops` loops share its history."""
    available = HISTORY_LIMIT - fixed_events(workflow, document)
    return available // (iteration_events(workflow, source, target, document) * max(loops, 1))
