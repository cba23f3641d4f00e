"""History events: how many one loop iteration can write, and so how many iterations fit in one execution.

A Standard execution FAILS at 25,000 history events. The compiled machine continues as new after a number of loop
iterations; that number comes from here, counted in events (not guessed in iterations): each state writes a known
number of events, and every retry a Task may make is counted as if it happened, so no execution the compiler emits
can reach the limit. docs/arazzo-extensions.md ("History budget") gives the numbers.
"""

from __future__ import annotations

from .extensions import END_TASK_MAX_ATTEMPTS
from .model import Step, Workflow

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


def step_events(step: Step, workflow: Workflow, workflows: dict[str, Workflow]) -> int:
    """The most events one run of a step can write: its Task with every retry, and its outcome Choice."""
    if step.workflow_id:
        called = workflows.get(step.workflow_id)
        inner = sum(step_events(s, called, workflows) for s in called.main_steps) if called else 0
        return PASS + inner + PASS + PASS + CHOICE  # enter, the called steps, its outputs, this step's outputs
    attempts = LAMBDA_SERVICE_RETRIES + sum(int(r.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)) for r in step.task_retries)
    return TASK + RETRY * attempts + CHOICE


def iteration_events(workflow: Workflow, source: Step, target: Step, workflows: dict[str, Workflow]) -> int:
    """One iteration of the loop from `source` back to `target`: its Wait, then the steps from target to source."""
    ids = [s.step_id for s in workflow.main_steps]
    body = workflow.main_steps[ids.index(target.step_id) : ids.index(source.step_id) + 1]
    return WAIT + sum(step_events(step, workflow, workflows) for step in body)


def ending_events(workflow: Workflow) -> int:
    """The x-onEnd ending sequence, which runs once: the recorded ending, Workflow end, the two Choices, each
    task with every retry, and the Choice of each task with `when` (ending.py)."""
    if not workflow.on_end:
        return 0
    tasks = len(workflow.on_end) * (TASK + RETRY * END_TASK_MAX_ATTEMPTS)
    return PASS + PASS + CHOICE + CHOICE + tasks + CHOICE * sum(1 for task in workflow.on_end if task.when)


def fixed_events(workflow: Workflow, workflows: dict[str, Workflow]) -> int:
    """Events outside the loops: the reserve, every retry action's waits and tries (a retry counter never resets
    within an execution) and the x-onEnd ending sequence."""
    retries = 0
    for step in workflow.main_steps:
        for action in step.on_failure:
            if action.type == "retry":
                retries += action.retry_limit * (WAIT + step_events(step, workflow, workflows))
    return RESERVE + retries + ending_events(workflow)


def iterations_per_execution(
    workflow: Workflow, source: Step, target: Step, workflows: dict[str, Workflow], loops: int
) -> int:
    """How many iterations of this loop fit in one execution, when `loops` loops share its history."""
    available = HISTORY_LIMIT - fixed_events(workflow, workflows)
    return available // (iteration_events(workflow, source, target, workflows) * max(loops, 1))
