"""Lower one checked workflow (check.py found no problem) into a tree of typed ASL states (asl.py).

The machine, state by state:

    Read inputs (Pass)          inputs with defaults; steps and loop state empty
    Check inputs (Choice)       -> Invalid input (Fail Arazzo.InvalidInput) | Verify continuation | first step
    Verify continuation (Task)  a continuation reads its parent's history; Resume continuation (Choice) restores
                                the carried state only when the parent started exactly this execution
    <stepId> (Task)             lambda:invoke of the step's operation; Assign the step outputs to $steps
    <stepId> outcome (Choice)   x-failWhen, successCriteria and the onSuccess / onFailure actions, first match wins
      goto a later step         -> that step's Task
      goto this or an earlier   -> a loop: deadline / iteration bound / continue-as-new checks, then
                                   <action> wait (Wait) -> the target Task
      retry                     -> <action> wait (Wait, Retry-After honoured) -> this step's Task
      end, or the last step     -> Workflow outputs
    Workflow outputs (Pass)     -> x-failWhen rules (Fail) | Workflow succeeded (Succeed, output = outputs)

With x-onEnd every Fail above records the ending instead and goes to the ending sequence (ending.py), and a
step's Task that fails for good without x-onError ends the workflow through it too (`<stepId> error`).

Each state is built once, with its transitions: a state whose successor is decided later is reserved at its place
first. Loop checks live in the outcome Choice itself, so one poll costs three state transitions.
"""

from __future__ import annotations

import re

from . import asl
from . import inputs as input_rules
from . import jsonata as js
from . import translate as tr
from . import values as val
from .continuation import RESUME, Frame, Loop, fresh_loop, is_backward, variable
from .ending import ENDING
from .foreach import ForEachLowering
from .loops import LoopLowering
from .model import Action, Document, Step, Workflow

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
PARENT = js.Var("states.input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
# Execution-input keys the machine itself writes for a continuation: never workflow inputs.
RESERVED_INPUTS = ["arazzoResume", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"]


class CompileError(ValueError):
    """A workflow that cannot be compiled (a usage error, or a problem check.py should have reported)."""


def function_placeholder(operation_id: str) -> str:
    """`createJob` -> `CreateJobFunctionArn`: the DefinitionSubstitutions key of the step's Lambda function."""
    words = re.sub(r"[^A-Za-z0-9]+", " ", operation_id).split()
    return "".join(w[:1].upper() + w[1:] for w in words) + "FunctionArn"


def merge_step_outputs(steps: js.Var, step_id: str, outputs: js.Node) -> str:
    return js.template(
        js.call("merge", js.Arr((steps, js.obj([(step_id, js.obj({"outputs": outputs}))], quote=js.Lit))))
    )


class WorkflowLowering(LoopLowering, ForEachLowering):
    def __init__(
        self, document: Document, workflow: Workflow, frame: Frame | None = None, states: asl.States | None = None
    ):
        self.document = document
        self.workflow = workflow
        self.frame = frame or Frame(ending=ENDING if workflow.on_end else None)
        self.states = asl.States() if states is None else states
        self.main_steps = workflow.main_steps
        self.loops: list[Loop] = []
        self.loop_variables: dict[tuple[str, str], str] = {}
        self.source_urls = {name: s.url for name, s in document.sources.items()}
        self.collect_loops()

    def state(self, name: str) -> str:
        """The state name of something in this frame (a step id, "pollJob outcome", ...)."""
        return self.frame.prefix + name

    def scope(self, step: Step | None, response: js.Node | None, outputs_available: bool = False) -> tr.Scope:
        return val.step_scope(step, response, self.source_urls, val.Variables(self.frame.variables), outputs_available)

    # -- the top workflow -----------------------------------------------------------------------------------------
    def lower(self, source_path: str) -> asl.Definition:
        self.add_start()
        self.add_steps()
        self.add_end()
        comment = (
            f"Compiled by arazzo-sfn from {source_path} (workflow {self.workflow.workflow_id}). "
            "Do not edit: change the Arazzo document and run `make compile`."
        )
        return asl.Definition(comment, "Read inputs", self.states)

    def add_start(self) -> None:
        schema = self.workflow.inputs or {}
        i, k = js.Var("i"), js.Var("k")
        excluded = js.Lit(RESERVED_INPUTS + self.workflow.fixed_inputs)
        given = js.block(
            js.Bind("i", js.Var("states.input")),
            js.If(
                tr.is_type(i, "object"),
                js.call("sift", i, js.Function(("v", "k"), js.call("not", js.op("in", k, excluded)))),
                js.Obj(()),
            ),
        )
        # Steps and loop state start empty: a continuation restores them only once its parent is verified.
        assign: dict[str, object] = {
            "inputs": js.template(js.call("merge", js.Arr((input_rules.defaults(schema), given)))),
            "steps": {},
            "resume": None,
        }
        for loop_variable in sorted(set(self.loop_variables.values())):
            assign[loop_variable] = js.template(fresh_loop())
        self.states.put("Read inputs", asl.Pass(assign, "Check inputs"))

        errors = js.Arr(
            tuple(
                input_rules.checks(schema)
                + input_rules.fixed_checks(self.workflow.fixed_inputs, js.Var("states.input"))
            )
        )
        choices = [
            asl.ChoiceRule(
                js.template(js.op("!=", js.call("type", js.Var("states.input")), js.Sq("object"))),
                "Invalid input",
                {"inputErrors": ["the execution input must be a JSON object"]},
            ),
            asl.ChoiceRule(js.template(self.any_of(errors)), "Invalid input", {"inputErrors": js.template(errors)}),
        ]
        if self.workflow.input_checks:
            # Cross-field checks run only once every field is valid (the Choice stops at the first rule that
            # matches), so they never add noise to a schema error.
            scope = self.scope(None, None)
            failed = js.Arr(
                tuple(
                    js.If(js.call("not", val.criterion(check.criterion, scope)), val.value(check.message, scope))
                    for check in self.workflow.input_checks
                )
            )
            choices.append(
                asl.ChoiceRule(js.template(self.any_of(failed)), "Invalid input", {"inputErrors": js.template(failed)})
            )
        wait_states = list(dict.fromkeys(loop.wait_state for loop in self.loops))
        if wait_states:
            choices.append(
                asl.ChoiceRule(
                    js.template(js.op("and", js.call("exists", RESUME), tr.is_type(PARENT, "string"))),
                    "Verify continuation",
                )
            )
        choices.append(
            asl.ChoiceRule(
                js.template(js.call("exists", RESUME)),
                "Invalid input",
                {
                    "inputErrors": [
                        "arazzoResume: only a continuation that this state machine started may resume "
                        "(no parent execution in the input)"
                    ]
                },
            )
        )
        self.states.put("Check inputs", asl.Choice(choices, self.entry(0)))
        self.fail("Invalid input", "Arazzo.InvalidInput", js.call("join", js.Var("inputErrors"), js.Sq("; ")))
        if wait_states:
            self.add_verify_continuation(wait_states, PARENT)

    @staticmethod
    def any_of(messages: js.Arr) -> js.Node:
        return js.op(">", js.call("count", messages), js.Lit(0))

    # -- steps ----------------------------------------------------------------------------------------------------
    def add_steps(self) -> None:
        for index, step in enumerate(self.main_steps):
            if step.for_each:
                self.add_for_each_step(step, index)
            elif step.workflow_id:
                self.add_workflow_step(step, index)
            else:
                self.add_step(step, index)

    def add_step(self, step: Step, index: int) -> None:
        catch = (
            self.error_cleanup(step)
            if step.error_cleanup and not step.cleanup_only
            else self.error_ending(step)
            if self.frame.ending
            else []
        )
        name = self.states.reserve(self.state(step.step_id))
        outcome = self.add_outcome(step, index)
        self.states.put(name, self.task(step, outcome or self.next_after(index), catch))

    def add_workflow_step(self, step: Step, index: int) -> None:
        """A step that runs another workflow: that workflow's states, inline, between two Pass states."""
        found = self.document.called(step)
        assert found is not None  # check.py
        document, called = found
        name = self.state(step.step_id)
        frame = Frame(
            prefix=f"{name} > ",
            variables=variable(self.frame.var("wf"), step.step_id) + "_",
            end=f"{name} done",
            callers=self.frame.callers + (self.workflow.workflow_id,),
            ending=self.frame.ending,
            scratch=self.frame.scratch,
        )
        inner = self.lowering(document, called, frame, self.states)
        self.states.put(name, asl.Pass(inner.entered(self.given_inputs(step, self.scope(step, None))), inner.entry(0)))
        inner.add_steps()
        inner.add_workflow_outputs(next_state=f"{name} outputs")
        # The called workflow's outputs are `$outputs` for this step's own outputs; the last response it received
        # is the state input here, for the step's successCriteria.
        scope = self.scope(step, val.JUDGED_RESPONSE, outputs_available=True)
        scope.outputs = val.Variables(frame.variables).var("outputs")
        outputs = val.outputs_object(step.outputs, scope)
        self.states.reserve(f"{name} outputs")
        outcome = self.add_outcome(step, index)
        self.states.put(
            f"{name} outputs",
            asl.Pass(
                {
                    self.frame.var("steps"): merge_step_outputs(
                        val.Variables(self.frame.variables).var("steps"), step.step_id, outputs
                    )
                },
                outcome or self.next_after(index),
            ),
        )

    @staticmethod
    def lowering(document: Document, workflow: Workflow, frame: Frame, states: asl.States) -> WorkflowLowering:
        """The lowering of a workflow a step runs, into `states` (its frame names its states and variables)."""
        return WorkflowLowering(document, workflow, frame, states)

    @staticmethod
    def given_inputs(step: Step, scope: tr.Scope) -> js.Node:
        """The inputs a step gives the workflow it runs: its parameters."""
        return js.obj([(p.name, val.value(p.value, scope)) for p in step.parameters], quote=js.Lit)

    def entered(self, given: js.Node) -> dict[str, object]:
        """The variables of this (called) workflow's frame as it starts: inputs with defaults, no step outputs,
        fresh loops."""
        assign: dict[str, object] = {
            self.frame.var("inputs"): js.template(
                js.call("merge", js.Arr((input_rules.defaults(self.workflow.inputs or {}), given)))
            ),
            self.frame.var("steps"): {},
        }
        for loop_variable in sorted(set(self.loop_variables.values())):
            assign[loop_variable] = js.template(fresh_loop())
        return assign

    def entry(self, index: int) -> str:
        """The state where the main step at `index` starts (an x-forEach step first checks its items)."""
        step = self.main_steps[index]
        return self.state(step.step_id) + (" items" if step.for_each else "")

    def task(self, step: Step, next_state: str | None, catch: list[asl.Catcher] | None = None) -> asl.Task:
        operation = step.operation
        assert operation is not None  # check.py
        scope = self.scope(step, val.TASK_RESPONSE)
        parameters: dict[str, dict] = {"path": {}, "query": {}, "header": {}}
        for parameter in step.parameters:
            parameters.setdefault(parameter.location_in or "", {})[parameter.name] = val.asl_value(
                parameter.value, scope
            )
        payload = {
            "operationId": operation.operation_id,
            "method": operation.method,
            "path": operation.path,
            "parameters": parameters,
            "body": val.payload_value(step.payload, scope),
            "contentType": step.content_type,
            "context": {
                "executionArn": js.template(js.Var("states.context.Execution.Id")),
                "stepId": step.step_id,
                "stateEnteredTime": js.template(js.Var("states.context.State.EnteredTime")),
                "retryCount": js.template(js.Var("states.context.State.RetryCount")),
            },
        }
        steps = val.Variables(self.frame.variables).var("steps")
        return asl.Task(
            resource="arn:aws:states:::lambda:invoke",
            arguments={"FunctionName": "${" + function_placeholder(operation.operation_id) + "}", "Payload": payload},
            next=next_state,
            timeout_seconds=step.timeout_seconds,
            retry=[asl.Retrier(LAMBDA_SERVICE_ERRORS, 2, 6, 2, 30)]
            + [
                asl.Retrier(
                    r["ErrorEquals"],
                    r.get("IntervalSeconds"),
                    r.get("MaxAttempts"),
                    r.get("BackoffRate"),
                    r.get("MaxDelaySeconds"),
                )
                for r in step.task_retries
            ],
            assign={
                self.frame.var("steps"): merge_step_outputs(
                    steps, step.step_id, val.outputs_object(step.outputs, scope)
                )
            },
            output=js.template(val.TASK_RESPONSE),
            catch=catch or [],
        )

    def cleanup_task(self, cleanup: Step, next_state: str, catch: asl.Catcher) -> asl.Task:
        """A cleanup step's Task: best effort, so its own failure goes on to `next_state` too."""
        return self.task(cleanup, next_state, [catch])

    def step_error(self, step: Step) -> str:
        """The ending of a step whose Task failed for good: the Task's error (a `States.` one renamed) and cause."""
        return self.fail(
            self.state(f"{step.step_id} error"),
            tr.not_reserved(js.Var(self.frame.scratch_var("stepError.Error")), "Arazzo.StepFailed"),
            js.Var(self.frame.scratch_var("stepError.Cause")),
        )

    def error_ending(self, step: Step) -> list[asl.Catcher]:
        """With x-onEnd, a Task that fails for good ends the workflow through the ending sequence too."""
        return [
            asl.Catcher(
                ["States.ALL"],
                self.step_error(step),
                {self.frame.scratch_var("stepError"): js.template(js.Var("states.errorOutput"))},
            )
        ]

    def error_cleanup(self, step: Step) -> list[asl.Catcher]:
        """x-onError: when the step's Task fails for good, run the cleanup step, then fail with the step's error."""
        failed = self.step_error(step)
        cleanup = self.workflow.step(step.error_cleanup or "")
        name = self.states.put(
            self.state(f"{step.step_id} error cleanup: {cleanup.step_id}"),
            self.cleanup_task(cleanup, failed, asl.Catcher(["States.ALL"], failed)),
        )
        return [
            asl.Catcher(
                ["States.ALL"], name, {self.frame.scratch_var("stepError"): js.template(js.Var("states.errorOutput"))}
            )
        ]

    def next_after(self, index: int) -> str:
        return self.entry(index + 1) if index + 1 < len(self.main_steps) else self.frame.end

    def add_outcome(self, step: Step, index: int) -> str | None:
        """The step's outcome Choice, or None when the step has no criteria or actions (straight on)."""
        scope = self.scope(step, val.JUDGED_RESPONSE)
        succeeded = val.all_of(step.success_criteria, scope)
        rules = self.fail_when_rules(step, scope)
        for action in step.on_success + ([step.on_no_match] if step.on_no_match else []):
            rules.extend(self.action_rules(step, action, js.group(succeeded), scope))
        if step.success_criteria:
            for action in step.on_failure:
                rules.extend(self.action_rules(step, action, js.call("not", succeeded), scope))
            failed = self.fail(
                self.state(f"{step.step_id} failed"), "Arazzo.SuccessCriteriaFailed", self.failure_cause(step, scope)
            )
            rules.append(asl.ChoiceRule(js.template(js.call("not", succeeded)), failed))
        if not rules:
            return None
        return self.states.put(self.state(f"{step.step_id} outcome"), asl.Choice(rules, self.next_after(index)))

    def fail_when_rules(self, step: Step, scope: tr.Scope) -> list[asl.ChoiceRule]:
        """Step-level x-failWhen: judged before successCriteria and actions; the Fail's Cause is `cause` as JSON."""
        rules = []
        for index, rule in enumerate(step.fail_when):
            fail_state = self.state(f"{step.step_id} failed: {rule.error}")
            if fail_state in self.states:
                fail_state += f" ({index + 1})"
            self.fail(fail_state, rule.error, js.call("string", val.value(rule.cause, scope)))
            rules.append(asl.ChoiceRule(js.template(val.criterion(rule.criterion, scope)), fail_state))
        return rules

    def failure_cause(self, step: Step, scope: tr.Scope) -> js.Node:
        """Names the step and the first successCriteria condition that did not hold (no response data: it may
        hold secrets)."""
        which: js.Node = js.Lit("")
        for rule in reversed(step.success_criteria):
            which = js.group(js.If(js.group(val.criterion(rule, scope)), which, js.Lit(rule.condition)))
        return js.op(
            "&",
            js.Sq(f"step {step.step_id}: success criterion not met: "),
            which,
            js.Sq(" (HTTP status "),
            js.call("string", js.Field(val.JUDGED_RESPONSE, "statusCode")),
            js.Sq(")"),
        )

    def action_rules(self, step: Step, action: Action, outcome: js.Node, scope: tr.Scope) -> list[asl.ChoiceRule]:
        matched = js.op("and", outcome, js.group(val.all_of(action.criteria, scope)))
        if action.type == "end":
            return [asl.ChoiceRule(js.template(matched), self.frame.end)]
        if action.type == "retry":
            return self.retry_rules(step, action, matched)
        if not is_backward(self.main_steps, step, action):
            target = next(i for i, s in enumerate(self.main_steps) if s.step_id == action.step_id)
            return [asl.ChoiceRule(js.template(matched), self.entry(target))]
        return self.loop_rules(self.loop_of(action), matched, scope)

    # -- end ------------------------------------------------------------------------------------------------------
    def add_workflow_outputs(self, next_state: str) -> None:
        """The frame's end: compute the workflow's outputs into its `outputs` variable."""
        outputs = val.outputs_object(self.workflow.outputs, self.scope(None, None))
        self.states.put(self.frame.end, asl.Pass({self.frame.var("outputs"): js.template(outputs)}, next_state))


def choose_workflow(document: Document, workflow_id: str | None, source_path: str) -> Workflow:
    """The workflow to compile: `workflow_id`, or the only one."""
    if workflow_id is None:
        if len(document.workflows) != 1:
            ids = ", ".join(w.workflow_id for w in document.workflows)
            raise CompileError(
                f"{source_path}: the document has {len(document.workflows)} workflows ({ids}); "
                "choose one with --workflow"
            )
        return document.workflows[0]
    found = document.workflow(workflow_id)
    if found is None:
        raise CompileError(f"{source_path}: no workflow {workflow_id!r}")
    return found


def lower(document: Document, workflow_id: str | None, source_path: str) -> asl.Definition:
    """The ASL definition of one workflow of a document that check.py found no problem in."""
    return WorkflowLowering(document, choose_workflow(document, workflow_id, source_path)).lower(source_path)
