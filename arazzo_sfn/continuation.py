"""Lowering of continue-as-new and of a continuation's verification of its parent (docs/arazzo-extensions.md,
"Continue-as-new"), with the frames and loops they carry. A base of loops.LoopLowering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import asl
from . import jsonata as js
from . import translate as tr
from .ending import ENDING_VARIABLE, EndingLowering
from .model import Action, LoopPolicy, Step

if TYPE_CHECKING:
    from .model import Document, Workflow

RESUME = js.Var("states.input.arazzoResume")
# Errors of the startExecution call itself (the child did not start, or the call's answer was lost): retried with
# the same Name and Input, which StartExecution treats as the same execution. Never States.TaskFailed: that is the
# child's own failure, and retrying it would run the child again.
CONTINUATION_START_ERRORS = [
    "StepFunctions.ExecutionLimitExceeded",
    "StepFunctions.ExecutionLimitExceededException",
    "StepFunctions.SdkClientException",
    "StepFunctions.AWSStepFunctionsException",
    "StepFunctions.StepFunctionsException",
]
CONTINUATION_START_ATTEMPTS = 5  # the start retries (2 s doubling, full jitter): events.py counts them
# The parent is waiting in its continue-as-new Task: its latest events are that Task's (a few per start attempt).
PARENT_HISTORY_PAGE = 10


def variable(prefix: str, key: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


def is_backward(main_steps: list[Step], source: Step, action: Action) -> bool:
    """A goto to the same or an earlier step: a loop."""

    def position(step_id: str | None) -> int:
        return next(i for i, s in enumerate(main_steps) if s.step_id == step_id)

    return action.type == "goto" and position(action.step_id) <= position(source.step_id)


@dataclass(frozen=True)
class Frame:
    """Where a workflow's states and variables live. The compiled workflow has the top frame; a workflow that a
    step runs is lowered inline in a frame of its own, so its states and variables never meet the caller's."""

    prefix: str = ""  # state-name prefix
    variables: str = ""  # variable-name prefix
    end: str = "Workflow outputs"  # where the workflow goes when it ends
    callers: tuple[str, ...] = ()  # workflowIds lowered above this one
    ending: str | None = None  # the shared ending sequence (the compiled workflow has x-onEnd), else None
    scratch: str = ""  # prefix of the states' working variables (an x-forEach item's processor has its own)

    @property
    def top(self) -> bool:
        return not self.prefix

    def var(self, name: str) -> str:
        """A JSONata variable of this frame, without the `$`."""
        return f"{self.variables}{name}"

    def scratch_var(self, name: str) -> str:
        """A working variable (a caught error, a recorded ending): prefixed only inside an x-forEach item."""
        return f"{self.scratch}{name}"


@dataclass
class Loop:
    """A goto to the same or an earlier step, with its policy."""

    action: Action
    source: Step
    target: Step
    policy: LoopPolicy
    variable: str  # JSONata variable holding {startedAt, iteration, executionIterations}
    prefix: str  # names its states; loops with the same steps and policy share them

    @property
    def wait_state(self) -> str:
        return f"{self.prefix} wait"


# Characters a checksum of the root's name counts (others count alike); no quote, no backslash.
NAME_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_."


def continuation_name(origin: js.Node, generation: js.Node) -> js.Node:
    """`<first 50 characters of the root execution's name>-<checksum of the whole name>-<generation>`: at most 67
    characters an execution name allows; two roots (execution names are unique per machine) never share a child
    name unless their names share 50 characters and a 31-bit checksum; the same continuation always gets the same
    name, so a retried start is the same execution."""
    return derived_name(origin, origin, generation)


def derived_name(base: js.Node, checksummed: js.Node, suffix: js.Node) -> js.Node:
    """`<first 50 characters of base>-<31-bit checksum of checksummed, base 36>-<suffix>`: a deterministic
    execution name (at most 57 characters before the suffix)."""
    h, c = js.Var("h"), js.Var("c")
    checksum = js.call(
        "reduce",
        js.call("split", checksummed, js.Sq("")),
        js.Function(
            ("h", "c"),
            js.op(
                "%",
                js.group(
                    js.op(
                        "+",
                        js.op("*", h, js.Lit(31)),
                        js.call("length", js.call("substringBefore", js.Lit(NAME_ALPHABET), c)),
                    )
                ),
                js.Lit(2147483647),
            ),
        ),
        js.Lit(7),
    )
    return js.op(
        "&",
        js.call("substring", base, js.Lit(0), js.Lit(50)),
        js.Sq("-"),
        js.call("formatBase", checksum, js.Lit(36)),
        js.Sq("-"),
        js.call("string", suffix),
    )


def child_record(cause: js.Node) -> js.Node:
    """`{error, cause}` of a child execution from a failed `.sync:2` Task's Cause: its DescribeExecution output,
    whose keys are capitalised (lower-case ones are accepted too); empty when the Cause is not that."""
    c, d = js.Var("c"), js.Var("d")
    return js.block(
        js.Bind("c", cause),
        js.Bind(
            "d",
            js.If(
                js.group(
                    js.op(
                        "and",
                        tr.is_type(c, "string"),
                        js.op("=", js.call("substring", c, js.Lit(0), js.Lit(1)), js.Sq("{")),
                    )
                ),
                js.call("parse", c),
                js.Obj(()),
            ),
        ),
        js.obj(
            {
                "error": js.If(js.Field(d, "Error"), js.Field(d, "Error"), js.Field(d, "error")),
                "cause": js.If(js.Field(d, "Cause"), js.Field(d, "Cause"), js.Field(d, "cause")),
            }
        ),
    )


def fresh_loop() -> js.Node:
    """The state of a loop that has not run yet."""
    return js.obj({"startedAt": js.call("millis"), "iteration": js.Lit(0), "executionIterations": js.Lit(0)})


def if_exists(node: js.Node, otherwise: js.Node) -> js.If:
    return js.If(js.call("exists", node), node, otherwise)


class ContinuationLowering(EndingLowering):
    """Continue-as-new and a continuation's verification of its parent."""

    if TYPE_CHECKING:
        document: Document
        workflow: Workflow
        frame: Frame
        states: asl.States
        main_steps: list[Step]
        loops: list[Loop]
        loop_variables: dict[tuple[str, str], str]

        def state(self, name: str) -> str: ...
        def scope(self, step: Step | None, response: js.Node | None, outputs_available: bool = False) -> tr.Scope: ...
        def cleanup_task(self, cleanup: Step, next_state: str, catch: asl.Catcher) -> asl.Task: ...

    # -- a continuation's first states ----------------------------------------------------------------------------
    def add_verify_continuation(self, wait_states: list[str], parent: js.Var) -> None:
        """A continuation resumes only what its parent started: the parent's latest startExecution.sync:2
        TaskScheduled event must name this execution and carry exactly this input."""
        details = js.Name("TaskScheduledEventDetails")
        scheduled = js.Index(
            js.Var("states.result.Events"),
            js.op(
                "and",
                js.op("=", js.Name("Type"), js.Sq("TaskScheduled")),
                js.op("=", js.Field(details, "ResourceType"), js.Sq("states")),
                js.op("=", js.Field(details, "Resource"), js.Sq("startExecution.sync:2")),
            ),
        )
        s, p, a, i = js.Var("s"), js.Var("p"), js.Var("a"), js.Var("i")
        latest = js.Index(s, js.op("=", js.Name("Id"), js.call("max", js.Field(s, "Id"))))
        parent_start = js.block(
            js.Bind("s", scheduled),
            js.Bind("p", js.path(latest, "TaskScheduledEventDetails", "Parameters")),
            js.Bind("a", js.If(tr.is_type(p, "string"), js.call("parse", p), js.Obj(()))),
            js.obj(
                {
                    "name": js.Field(a, "Name"),
                    "input": js.block(
                        js.Bind("i", js.Field(a, "Input")), js.If(tr.is_type(i, "string"), js.call("parse", i), i)
                    ),
                }
            ),
        )
        unreadable = js.Arr(
            (
                js.op(
                    "&",
                    js.Sq("arazzoResume: the parent execution cannot be read ("),
                    js.Var("states.errorOutput.Error"),
                    js.Sq(")"),
                ),
            )
        )
        self.states.put(
            "Verify continuation",
            asl.Task(
                resource="arn:aws:states:::aws-sdk:sfn:getExecutionHistory",
                arguments={
                    "ExecutionArn": js.template(parent),
                    "ReverseOrder": True,
                    "MaxResults": PARENT_HISTORY_PAGE,
                    "IncludeExecutionData": True,
                },
                next="Resume continuation",
                assign={"parentStart": js.template(parent_start)},
                output=js.template(js.Var("states.input")),
                catch=[asl.Catcher(["States.ALL"], "Invalid input", {"inputErrors": js.template(unreadable)})],
                catch_first=True,
            ),
        )
        verified = (
            js.op("=", js.Var("parentStart.name"), js.Var("states.context.Execution.Name")),
            js.op("=", js.Var("parentStart.input"), js.Var("states.input")),
        )
        restore: dict[str, object] = {
            "steps": js.template(if_exists(js.Field(RESUME, "steps"), js.Obj(()))),
            "resume": js.template(RESUME),
        }
        for loop_variable in sorted(set(self.loop_variables.values())):
            carried = js.path(RESUME, "loops", loop_variable)
            restore[loop_variable] = js.template(
                js.If(
                    js.call("exists", carried),
                    js.call("merge", js.Arr((carried, js.obj({"executionIterations": js.Lit(0)})))),
                    fresh_loop(),
                )
            )
        self.states.put(
            "Resume continuation",
            asl.Choice(
                [
                    asl.ChoiceRule(
                        js.template(js.Op("and", verified + (js.op("=", js.Field(RESUME, "at"), js.Lit(wait)),))),
                        wait,
                        restore,
                    )
                    for wait in wait_states
                ],
                "Continuation refused",
            ),
        )
        self.fail(
            "Continuation refused",
            "Arazzo.InvalidInput",
            "arazzoResume: the parent execution did not start this execution with this name and input",
        )

    def add_continue_as_new(self, loop: Loop) -> str:
        """Start this machine again, carrying the loop's state, and wait for it: an execution never nears the
        25,000-event history limit, and the first execution still ends with the sync's real result."""
        name = f"{loop.prefix} continue as new"
        failed = f"{loop.prefix} continuation failed"
        generation, origin = js.Var("resume.generation"), js.Var("resume.origin")
        resume = js.obj(
            {
                "at": js.Lit(loop.wait_state),
                "steps": js.Var("steps"),
                "loops": js.obj([(v, js.Var(v)) for v in sorted(set(self.loop_variables.values()))], quote=js.Lit),
                "generation": js.op("+", js.group(if_exists(generation, js.Lit(0))), js.Lit(1)),
                "origin": if_exists(origin, js.Var("states.context.Execution.Name")),
            }
        )
        fixed = self.workflow.fixed_inputs
        # Fixed inputs stay out: the child takes them from its own deployment, and refuses them in its input.
        inputs: js.Node = (
            js.call(
                "sift",
                js.Var("inputs"),
                js.Function(("v", "k"), js.call("not", js.op("in", js.Var("k"), js.Lit(fixed)))),
            )
            if fixed
            else js.Var("inputs")
        )
        cleanup_state = failed
        if loop.policy.on_limit.cleanup_step_id:
            # A continuation that failed or was stopped leaves the loop's work unwatched: clean up, best effort.
            cleanup = self.workflow.step(loop.policy.on_limit.cleanup_step_id)
            cleanup_state = self.states.put(
                f"{loop.prefix} continuation cleanup: {cleanup.step_id}",
                self.cleanup_task(cleanup, failed, asl.Catcher(["States.ALL"], failed)),
            )
        self.states.put(
            name,
            asl.Task(
                resource="arn:aws:states:::states:startExecution.sync:2",
                arguments={
                    "StateMachineArn": js.template(js.Var("states.context.StateMachine.Id")),
                    "Name": js.template(continuation_name(js.Field(resume, "origin"), js.Field(resume, "generation"))),
                    "Input": js.template(
                        js.call(
                            "merge",
                            js.Arr(
                                (
                                    inputs,
                                    js.obj(
                                        {
                                            "arazzoResume": resume,
                                            "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": js.Var(
                                                "states.context.Execution.Id"
                                            ),
                                        }
                                    ),
                                )
                            ),
                        )
                    ),
                },
                next=self.frame.ending,
                retry=[asl.Retrier(CONTINUATION_START_ERRORS, 2, CONTINUATION_START_ATTEMPTS, 2, 60)],
                assign=self.continued_ending(),
                output=js.template(js.Var("states.result.Output")),
                catch=[
                    asl.Catcher(
                        ["States.ALL"], cleanup_state, {"continuation": js.template(js.Var("states.errorOutput"))}
                    )
                ],
                catch_first=True,
            ),
        )
        # The continued execution's own error and cause are inside the Cause.
        e = js.Var("e")
        child = child_record(js.Var("continuation.Cause"))

        def passed_on(key: str, fallback: js.Node) -> js.Node:
            return js.block(js.Bind("e", js.Field(child, key)), if_exists(e, fallback))

        # The child's own error when it ran and failed; a start that failed (a name taken, a limit) is
        # Arazzo.ContinuationFailed, its cause the start's error.
        error = tr.not_reserved(passed_on("error", js.Sq("Arazzo.ContinuationFailed")), "Arazzo.ContinuationFailed")
        if self.frame.ending is None:
            self.fail(failed, error, passed_on("cause", js.Var("continuation.Cause")))
            return name
        # The child's own ending record (its cause, its outputs and loop counts when it failed) is in its Cause.
        r, x = js.Var("r"), js.Var("x")
        self.record_ending(
            failed,
            js.block(
                js.Bind("r", child),
                js.Bind("x", self.unpacked_record(js.Field(r, "cause"))),
                js.obj(
                    {
                        "error": tr.not_reserved(
                            if_exists(js.Field(r, "error"), js.Sq("Arazzo.ContinuationFailed")),
                            "Arazzo.ContinuationFailed",
                        ),
                        "cause": js.If(
                            js.call("exists", js.Field(x, "cause")),
                            js.Field(x, "cause"),
                            if_exists(js.Field(r, "cause"), js.Var("continuation.Cause")),
                        ),
                        "outputs": js.Field(x, "outputs"),
                        "iterations": js.Field(x, "iterations"),
                    }
                ),
            ),
        )
        return name

    def continued_ending(self) -> dict | None:
        """With x-onEnd: a continuation that succeeded hands on its ending record (outputs, loop counts)."""
        if self.frame.ending is None:
            return None
        o = js.Var("o")
        record = js.Field(o, "arazzoEnd")
        return {
            ENDING_VARIABLE.name: js.template(
                js.block(
                    js.Bind("o", js.Var("states.result.Output")),
                    js.If(js.call("exists", record), record, js.obj({"outputs": o})),
                )
            )
        }
