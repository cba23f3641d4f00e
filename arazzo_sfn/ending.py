"""Lowering of how a workflow ends (docs/arazzo-extensions.md, "x-onEnd"): every ending of the machine, the
workflow's own end (its x-failWhen rules) and, for a workflow with `x-onEnd`, the one ending sequence they all
share. A base of continuation.ContinuationLowering.

Without x-onEnd each ending is a Fail state (or the Succeed state). With it, each ending that would have been a
Fail records `{error, cause}` in the variable `ending` and goes to the sequence:

    Workflow end (Pass)          the outputs (also on failure paths) and `$end` (status, error, times, iterations)
    Workflow end tasks (Choice)  an execution that came with arazzoResume (a continuation) skips the tasks
    Workflow end: <name> (Task)  each x-onEnd task, in order, best effort (retried, caught, timed out)
    Workflow ending (Choice)     -> Workflow failed (Fail, the recorded error and cause) | Workflow succeeded
A continuation ends with its record for the first execution (`arazzoEnd`: error, cause, outputs, iterations), as
its Output or inside its Cause, which the first execution unpacks: it runs the tasks with the whole sync's ending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import asl
from . import jsonata as js
from . import translate as tr
from . import values as val
from .extensions import END_TASK_MAX_ATTEMPTS, END_TASK_PREFIX, END_TASK_WHEN_SUFFIX
from .model import EndTask

if TYPE_CHECKING:
    from .continuation import Frame, Loop
    from .model import Document, Step, Workflow

ENDING = "Workflow end"  # where every ending goes when the workflow has x-onEnd
ENDING_VARIABLE = js.Var("ending")  # {error, cause} recorded by a failure; {outputs, iterations} from a continuation
EXECUTION_INPUT = js.Var("states.context.Execution.Input")
START_TIME = js.Var("states.context.Execution.StartTime")
# The prefix of a continuation's Cause that holds its ending record (JSONata's $string writes no spaces).
RECORD_PREFIX = '{"arazzoEnd":'


def _asl(value: str | js.Node) -> str:
    return value if isinstance(value, str) else js.template(value)


class EndingLowering:
    """The machine's endings: a Fail state each, or a recorded ending and the x-onEnd sequence."""

    if TYPE_CHECKING:
        document: Document
        workflow: Workflow
        frame: Frame
        states: asl.States
        main_steps: list[Step]
        loops: list[Loop]
        source_urls: dict[str, str]

        def scope(self, step: Step | None, response: js.Node | None, outputs_available: bool = False) -> tr.Scope: ...
        def add_workflow_outputs(self, next_state: str) -> None: ...

    def fail(self, name: str, error: str | js.Node, cause: str | js.Node) -> str:
        """An ending that fails the execution with `error` and `cause` (literal text or a JSONata expression)."""
        if self.frame.ending is None:
            return self.states.put(name, asl.Fail(_asl(error), _asl(cause)))
        recorded = {
            "error": _asl(error),
            "cause": cause if isinstance(cause, str) else js.template(val.nullable(cause)),
        }
        return self.states.put(
            name, asl.Pass({self.frame.scratch_var(ENDING_VARIABLE.name): recorded}, self.frame.ending)
        )

    def record_ending(self, name: str, ending: js.Node) -> str:
        """An ending whose whole record is one expression (a continuation's, unpacked)."""
        assert self.frame.ending is not None
        return self.states.put(name, asl.Pass({ENDING_VARIABLE.name: js.template(ending)}, self.frame.ending))

    @staticmethod
    def unpacked_record(text: js.Node) -> js.Node:
        """The `arazzoEnd` record inside a continuation's Cause text, or an empty object."""
        k = js.Var("k")
        return js.block(
            js.Bind("k", text),
            js.If(
                js.group(
                    js.op(
                        "and",
                        tr.is_type(k, "string"),
                        js.op(
                            "=", js.call("substring", k, js.Lit(0), js.Lit(len(RECORD_PREFIX))), js.Lit(RECORD_PREFIX)
                        ),
                    )
                ),
                js.Field(js.call("parse", k), "arazzoEnd"),
                js.Obj(()),
            ),
        )

    # -- the end of the compiled workflow -------------------------------------------------------------------------
    def add_end(self) -> None:
        """The compiled workflow's end: its outputs, its x-failWhen rules, then the Succeed state (with x-onEnd, the
        ending sequence)."""
        rules = []
        judged = self.scope(None, None, outputs_available=True)
        for rule in self.workflow.fail_when:
            fail_state = f"Workflow failed: {rule.error}"
            rules.append(asl.ChoiceRule(js.template(val.criterion(rule.criterion, judged)), fail_state))
            self.fail(fail_state, rule.error, js.call("string", val.value(rule.cause, judged)))
        succeeded = self.frame.ending or "Workflow succeeded"
        self.add_workflow_outputs("Workflow result" if rules else succeeded)
        if rules:
            self.states.put("Workflow result", asl.Choice(rules, succeeded))
        if self.frame.ending:
            self.add_ending()
        else:
            self.states.put("Workflow succeeded", asl.Succeed(js.template(js.Var("outputs"))))

    def add_ending(self) -> None:
        """Workflow end -> Workflow end tasks -> each x-onEnd task -> Workflow ending -> Workflow failed | succeeded."""
        end, ending = val.END, ENDING_VARIABLE
        outputs = val.outputs_object(self.workflow.outputs, self.scope(None, None))
        self.states.put(
            ENDING,
            asl.Pass(
                {
                    "outputs": js.template(
                        js.If(js.call("exists", js.Field(ending, "outputs")), js.Field(ending, "outputs"), outputs)
                    ),
                    end.name: js.template(self.end_record()),
                },
                f"{ENDING} tasks",
            ),
        )
        tasks = self.workflow.on_end
        names = [END_TASK_PREFIX + task.name for task in tasks] + ["Workflow ending"]
        # A task with `when` is entered through its Choice, which skips it when the criterion does not hold.
        entries = [
            name + END_TASK_WHEN_SUFFIX if task.when else name for task, name in zip(tasks, names[:-1], strict=True)
        ]
        entries.append(names[-1])
        continued = js.op(
            "and", tr.is_type(EXECUTION_INPUT, "object"), js.call("exists", js.Field(EXECUTION_INPUT, "arazzoResume"))
        )
        self.states.put(
            f"{ENDING} tasks", asl.Choice([asl.ChoiceRule(js.template(continued), "Workflow ending")], entries[0])
        )
        scope = val.end_scope(self.source_urls)
        for index, task in enumerate(tasks):
            if task.when:
                holds = js.template(val.criterion(task.when, scope))
                self.states.put(entries[index], asl.Choice([asl.ChoiceRule(holds, names[index])], entries[index + 1]))
            self.states.put(names[index], self.end_task(task, scope, entries[index + 1]))
        self.states.put(
            "Workflow ending",
            asl.Choice(
                [asl.ChoiceRule(js.template(js.op("=", js.Field(end, "status"), js.Sq("FAILED"))), "Workflow failed")],
                "Workflow succeeded",
            ),
        )
        cause = js.Field(end, "cause")
        plain_cause: js.Node = js.If(tr.is_type(cause, "string"), cause, js.Sq(""))
        output: js.Node = js.Var("outputs")
        if self.loops:
            # A continuation hands its ending to the execution that started it (continuation.py unpacks it).
            resumed = tr.is_type(js.Var("resume"), "object")
            record = js.obj(
                {
                    "arazzoEnd": js.obj(
                        {
                            "error": js.Field(end, "error"),
                            "cause": cause,
                            "outputs": js.Var("outputs"),
                            "iterations": js.Field(end, "iterations"),
                        }
                    )
                }
            )
            plain_cause = js.If(resumed, js.call("string", record), js.group(plain_cause))
            output = js.If(resumed, record, output)
        self.states.put("Workflow failed", asl.Fail(js.template(js.Field(end, "error")), js.template(plain_cause)))
        self.states.put("Workflow succeeded", asl.Succeed(js.template(output)))

    def end_record(self) -> js.Node:
        """`$end`: how the workflow ended, from the recorded ending (none recorded: it succeeded)."""
        ending = ENDING_VARIABLE
        failed, error = js.Var("failed"), js.Var("error")
        iterations = js.obj(
            [(step.step_id, self.iterations_of(step.step_id)) for step in self.main_steps], quote=js.Lit
        )
        return js.block(
            js.Bind("failed", tr.is_type(js.Field(ending, "error"), "string")),
            js.Bind(
                "error", js.If(failed, tr.not_reserved(js.Field(ending, "error"), "Arazzo.StepFailed"), js.Lit(None))
            ),
            js.obj(
                {
                    "status": js.If(failed, js.Sq("FAILED"), js.Sq("SUCCEEDED")),
                    "error": error,
                    "cause": js.If(
                        js.op("and", failed, tr.is_type(js.Field(ending, "cause"), "string")),
                        js.Field(ending, "cause"),
                        js.Lit(None),
                    ),
                    "outcome": js.If(failed, error, js.Sq("SUCCEEDED")),
                    "executionArn": js.Var("states.context.Execution.Id"),
                    "startTime": js.call("fromMillis", js.call("toMillis", START_TIME)),
                    "endTime": js.call("now"),
                    "durationSeconds": js.op(
                        "/", js.group(js.op("-", js.call("millis"), js.call("toMillis", START_TIME))), js.Lit(1000)
                    ),
                    "iterations": js.If(
                        js.call("exists", js.Field(ending, "iterations")), js.Field(ending, "iterations"), iterations
                    ),
                }
            ),
        )

    def iterations_of(self, step_id: str) -> js.Node:
        """How many times the loops back to a step were taken (their state is carried across continuations)."""
        counters = [
            js.Field(js.Var(v), "iteration")
            for v in sorted({loop.variable for loop in self.loops if loop.target.step_id == step_id})
        ]
        if not counters:
            return js.Lit(0)
        return counters[0] if len(counters) == 1 else js.Op("+", tuple(counters))

    def end_task(self, task: EndTask, scope: tr.Scope, next_state: str) -> asl.Task:
        """One x-onEnd task: best effort, so neither its failure nor its timeout changes how the execution ends."""
        arguments = val.asl_value(task.arguments, scope, absent_as_null=True)
        assert isinstance(arguments, dict)  # the reader keeps only mappings
        return asl.Task(
            resource=task.resource,
            arguments=arguments,
            next=next_state,
            timeout_seconds=task.timeout_seconds,
            retry=[asl.Retrier(["States.ALL"], 1, END_TASK_MAX_ATTEMPTS, 2, 5)],
            catch=[asl.Catcher(["States.ALL"], next_state)],
            catch_first=True,
        )
