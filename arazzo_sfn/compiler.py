"""Compile one Arazzo workflow (the checked model from model.py) into an Amazon States Language definition.

The machine, state by state:

    Read inputs (Pass)          inputs with defaults, step outputs and loop state (restored after continue-as-new)
    Check inputs (Choice)       -> Invalid input (Fail Arazzo.InvalidInput) | resume point | first step
    <stepId> (Task)             lambda:invoke of the step's operation; Assign the step outputs to $steps
    <stepId> outcome (Choice)   successCriteria and the onSuccess / onFailure actions, first match wins
      goto a later step         -> that step's Task
      goto this or an earlier   -> a loop: deadline / iteration bound / continue-as-new checks, then
                                   <action> wait (Wait) -> the target Task
      retry                     -> <action> wait (Wait, Retry-After honoured) -> this step's Task
      end, or the last step     -> Workflow outputs
    Workflow outputs (Pass)     -> x-failWhen rules (Fail) | Workflow succeeded (Succeed, output = outputs)

Loop checks live in the outcome Choice itself, so one poll costs three state transitions (Task, Choice, Wait).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from . import inputs as input_rules
from . import jsonata as js
from .expressions import Expr, MessageRef, Template
from .model import Action, Criterion, Document, LoopPolicy, Step, Workflow

LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                         "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"]
# A loop without x-loop still waits and ends: 5 s doubling to 5 min, at most 1,000 iterations.
DEFAULT_LOOP = LoopPolicy(initial_wait_seconds=5, backoff_rate=2, max_wait_seconds=300, max_iterations=1000)
TASK_RESPONSE = "$states.result.Payload"   # the handler's HTTP response, inside the Task
JUDGED_RESPONSE = "$states.input"          # the same response, in the Choice after the Task
RESUME = "$states.input.arazzoResume"
PARENT = "$states.input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
# Execution-input keys the machine itself writes for a continuation: never workflow inputs.
RESERVED_INPUTS = ["arazzoResume", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"]
# Errors of the startExecution call itself (the child did not start, or the call's answer was lost): retried with
# the same Name and Input, which StartExecution treats as the same execution. Never States.TaskFailed: that is the
# child's own failure, and retrying it would run the child again.
CONTINUATION_START_ERRORS = ["StepFunctions.ExecutionLimitExceeded", "StepFunctions.ExecutionLimitExceededException",
                             "StepFunctions.SdkClientException", "StepFunctions.AWSStepFunctionsException",
                             "StepFunctions.StepFunctionsException"]
# The parent is waiting in its continue-as-new Task: its latest events are that Task's (a few per start attempt).
PARENT_HISTORY_PAGE = 10
FRESH_LOOP = "{'startedAt': $millis(), 'iteration': 0, 'executionIterations': 0}"


def not_reserved(error: str, fallback: str) -> str:
    """A Fail state may not raise a `States.` error of its own: such an error passed on is renamed (Cause kept)."""
    return f"($e := {error}; $type($e) = 'string' and $substring($e, 0, 7) != 'States.' ? $e : {js.literal(fallback)})"


class CompileError(ValueError):
    """The workflow uses something this compiler does not translate; the message names the place."""


def function_placeholder(operation_id: str) -> str:
    """`createJob` -> `CreateJobFunctionArn`: the DefinitionSubstitutions key of the step's Lambda function."""
    words = re.sub(r"[^A-Za-z0-9]+", " ", operation_id).split()
    return "".join(w[:1].upper() + w[1:] for w in words) + "FunctionArn"


def expr(text: str) -> str:
    """A JSONata expression as an ASL string value."""
    return "{% " + text + " %}"


def variable(prefix: str, key: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", key)


@dataclass
class Loop:
    """A goto to the same or an earlier step, with its policy."""

    action: Action
    source: Step
    target: Step
    policy: LoopPolicy
    variable: str              # JSONata variable holding {startedAt, iteration, executionIterations}
    prefix: str                # names its states; loops with the same steps and policy share them

    @property
    def wait_state(self) -> str:
        return f"{self.prefix} wait"


@dataclass(frozen=True)
class Frame:
    """Where a workflow's states and variables live. The compiled workflow has the top frame; a workflow that a
    step runs is compiled inline in a frame of its own, so its states and variables never meet the caller's."""

    prefix: str = ""                 # state-name prefix
    variables: str = ""              # variable-name prefix
    end: str = "Workflow outputs"    # where the workflow goes when it ends
    callers: tuple[str, ...] = ()    # workflowIds being compiled above this one (cycle check)

    @property
    def top(self) -> bool:
        return not self.prefix

    def var(self, name: str) -> str:
        """A JSONata variable of this frame, without the `$`."""
        return f"{self.variables}{name}"


class WorkflowCompiler:
    def __init__(self, document: Document, workflow: Workflow, source_path: str, frame: Frame = Frame(),
                 states: dict | None = None):
        self.document = document
        self.workflow = workflow
        self.source_path = source_path
        self.frame = frame
        self.states: dict[str, dict] = {} if states is None else states
        self.main_steps = [s for s in workflow.steps if not s.cleanup_only]
        self.loops: list[Loop] = []
        self.loop_variables: dict[tuple[str, str], str] = {}
        self.source_urls = {name: s.url for name, s in document.sources.items()}

    # -- entry ----------------------------------------------------------------------------------------------------
    def compile(self) -> dict:
        if not self.main_steps:
            raise CompileError(self.where(self.workflow.location, "the workflow has no steps to run"))
        self.check_steps()
        self.collect_loops()
        self.add_start()
        self.add_steps()
        self.add_end()
        return {
            "Comment": f"Compiled by arazzo-sfn from {self.source_path} (workflow {self.workflow.workflow_id}). "
                       "Do not edit: change the Arazzo document and run `make compile`.",
            "QueryLanguage": "JSONata",
            "StartAt": "Read inputs",
            "States": self.states,
        }

    def check_steps(self) -> None:
        for step in self.workflow.steps:
            if step.operation is None and step.workflow_id is None:
                raise CompileError(self.where(step.location, f"step {step.step_id} has no resolvable operation"))
            if step.workflow_id and step.workflow_id in self.frame.callers + (self.workflow.workflow_id,):
                raise CompileError(self.where(step.location, f"step {step.step_id} runs workflow "
                                                             f"{step.workflow_id}, which is already running: "
                                                             "recursive workflows are not supported"))

    def add_steps(self) -> None:
        for index, step in enumerate(self.main_steps):
            if step.workflow_id:
                self.add_workflow_step(step, index)
            else:
                self.add_step(step, index)

    def state(self, name: str) -> str:
        """The state name of something in this frame (a step id, "pollJob outcome", ...)."""
        return self.frame.prefix + name

    def where(self, location: tuple, message: str) -> str:
        return f"{self.source_path}: workflow {self.workflow.workflow_id}: {message} (at {'/'.join(map(str, location))})"

    # -- loops ----------------------------------------------------------------------------------------------------
    def position(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.main_steps) if s.step_id == step_id)

    def is_backward(self, source: Step, action: Action) -> bool:
        return action.type == "goto" and self.position(action.step_id) <= self.position(source.step_id)

    def collect_loops(self) -> None:
        for step in self.main_steps:
            actions = step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else [])
            for action in actions:
                if action.type == "goto":
                    target = self.workflow.step(action.step_id)
                    if target.cleanup_only:
                        raise CompileError(self.where(action.location, f"goto {action.step_id}: a cleanup-only "
                                                                       "step is not a goto target"))
                if action.type == "goto" and self.is_backward(step, action):
                    key = (step.step_id, action.step_id)
                    name = step.step_id if key[0] == key[1] else f"{key[0]}_to_{key[1]}"
                    self.loop_variables.setdefault(key, variable(self.frame.var("loop"), name))
                    policy = action.loop or DEFAULT_LOOP
                    same_steps = [loop for loop in self.loops if (loop.source.step_id, loop.target.step_id) == key]
                    same_policy = [loop for loop in same_steps if loop.policy == policy]
                    if same_policy:
                        prefix = same_policy[0].prefix
                    else:
                        prefix = self.state(f"{action.step_id} loop" + (f" ({action.name})" if same_steps else ""))
                    self.loops.append(Loop(action, step, self.workflow.step(action.step_id), policy,
                                           self.loop_variables[key], prefix))

    def loop_of(self, action: Action) -> Loop:
        return next(loop for loop in self.loops if loop.action is action)

    # -- scopes ---------------------------------------------------------------------------------------------------
    def scope(self, step: Step | None, response: str | None, outputs_available: bool = False) -> js.Scope:
        operation = step.operation if step else None
        return js.Scope(response=response,
                        request=(lambda ref: self.request_value(step, ref)) if operation else None,
                        method=operation.method if operation else None, url=operation.path if operation else None,
                        source_urls=self.source_urls, outputs_available=outputs_available,
                        inputs_var="$" + self.frame.var("inputs"), steps_var="$" + self.frame.var("steps"),
                        outputs_var="$" + self.frame.var("outputs"))

    def value(self, tree: object, scope: js.Scope) -> str:
        """A parsed value tree (literals, expressions, templates, nested objects) as one JSONata expression."""
        if isinstance(tree, Template):
            return js.template(tree, scope)
        if isinstance(tree, Expr):
            return js.runtime(tree, scope)
        if isinstance(tree, dict):
            return "{" + ", ".join(f"{js.literal(k)}: {self.value(v, scope)}" for k, v in tree.items()) + "}"
        if isinstance(tree, list):
            return "[" + ", ".join(self.value(v, scope) for v in tree) + "]"
        return js.literal(tree)

    def template_value(self, tree: object, scope: js.Scope) -> object:
        """A parsed value tree as an ASL JSONata template: literals stay JSON, expressions become {% %} strings."""
        if isinstance(tree, (Expr, Template)):
            return expr(self.value(tree, scope))
        if isinstance(tree, dict):
            return {k: self.template_value(v, scope) for k, v in tree.items()}
        if isinstance(tree, list):
            return [self.template_value(v, scope) for v in tree]
        if isinstance(tree, str) and tree.lstrip().startswith("{%"):
            return expr(js.literal(tree))  # a literal that would otherwise read as an expression
        return tree

    def request_value(self, step: Step, ref: MessageRef) -> str:
        scope = self.scope(step, None)
        if ref.source == "body":
            node: object = step.payload
            for token in ref.pointer:
                node = node[int(token)] if isinstance(node, list) else (node or {}).get(token)
            return self.value(node, scope)
        for parameter in step.parameters:
            if parameter.location_in == ref.source and (parameter.name == ref.name or (
                    ref.source == "header" and parameter.name.lower() == ref.name.lower())):
                return self.value(parameter.value, scope)
        return "null"

    def condition(self, criterion: Criterion, scope: js.Scope) -> str:
        context = js.runtime(criterion.context, scope) if criterion.context is not None else None
        try:
            return js.condition(criterion.tree, scope, context)
        except js.UnsupportedExpression as error:
            raise CompileError(self.where(criterion.location, f"condition {criterion.condition!r}: {error}"))

    def all_of(self, criteria: list[Criterion], scope: js.Scope) -> str:
        return " and ".join(f"({self.condition(c, scope)})" for c in criteria) if criteria else "true"

    def number(self, setting: object, scope: js.Scope) -> str:
        return js.runtime(setting, scope) if isinstance(setting, Expr) else js.literal(setting)

    # -- start ----------------------------------------------------------------------------------------------------
    def add_start(self) -> None:
        schema = self.workflow.inputs or {}
        try:
            defaults = input_rules.defaults(schema)
        except ValueError as error:
            raise CompileError(self.where(self.workflow.location + ("inputs",), str(error)))
        excluded = js.literal(RESERVED_INPUTS + self.workflow.fixed_inputs)
        given = (f"($i := $states.input; $type($i) = 'object' ? "
                 f"$sift($i, function($v, $k) {{ $not($k in {excluded}) }}) : {{}})")
        # Steps and loop state start empty: a continuation restores them only once its parent is verified.
        assign: dict[str, object] = {"inputs": expr(f"$merge([{defaults}, {given}])"), "steps": {}, "resume": None}
        for loop_variable in sorted(set(self.loop_variables.values())):
            assign[loop_variable] = expr(FRESH_LOOP)
        self.states["Read inputs"] = {"Type": "Pass", "Assign": assign, "Next": "Check inputs"}

        errors = "[" + ", ".join(input_rules.checks(schema) + input_rules.fixed_checks(
            self.workflow.fixed_inputs, "$states.input")) + "]"
        choices = [
            {"Condition": expr("$type($states.input) != 'object'"),
             "Assign": {"inputErrors": ["the execution input must be a JSON object"]}, "Next": "Invalid input"},
            {"Condition": expr(f"$count({errors}) > 0"), "Assign": {"inputErrors": expr(errors)},
             "Next": "Invalid input"},
        ]
        if self.workflow.input_checks:
            # Cross-field checks run only once every field is valid (the Choice stops at the first rule that
            # matches), so they never add noise to a schema error.
            scope = self.scope(None, None)
            failed = "[" + ", ".join(f"$not({self.condition(check.criterion, scope)}) ? {self.value(check.message, scope)}"
                                     for check in self.workflow.input_checks) + "]"
            choices.append({"Condition": expr(f"$count({failed}) > 0"), "Assign": {"inputErrors": expr(failed)},
                            "Next": "Invalid input"})
        wait_states = list(dict.fromkeys(loop.wait_state for loop in self.loops))
        if wait_states:
            choices.append({"Condition": expr(f"$exists({RESUME}) and $type({PARENT}) = 'string'"),
                            "Next": "Verify continuation"})
        choices.append({"Condition": expr(f"$exists({RESUME})"),
                        "Assign": {"inputErrors": ["arazzoResume: only a continuation that this state machine "
                                                   "started may resume (no parent execution in the input)"]},
                        "Next": "Invalid input"})
        self.states["Check inputs"] = {"Type": "Choice", "Choices": choices,
                                       "Default": self.main_steps[0].step_id}
        self.states["Invalid input"] = {"Type": "Fail", "Error": "Arazzo.InvalidInput",
                                        "Cause": expr("$join($inputErrors, '; ')")}
        if wait_states:
            self.add_verify_continuation(wait_states)

    def add_verify_continuation(self, wait_states: list[str]) -> None:
        """A continuation resumes only what its parent started: the parent's latest startExecution.sync:2
        TaskScheduled event must name this execution and carry exactly this input (docs/arazzo-extensions.md,
        "Continue-as-new")."""
        scheduled = ("$states.result.Events[Type = 'TaskScheduled' and TaskScheduledEventDetails.ResourceType = "
                     "'states' and TaskScheduledEventDetails.Resource = 'startExecution.sync:2']")
        parent_start = (f"($s := {scheduled}; $p := $s[Id = $max($s.Id)].TaskScheduledEventDetails.Parameters; "
                        "$a := $type($p) = 'string' ? $parse($p) : {}; "
                        "{'name': $a.Name, 'input': ($i := $a.Input; $type($i) = 'string' ? $parse($i) : $i)})")
        self.states["Verify continuation"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sfn:getExecutionHistory",
            "Arguments": {"ExecutionArn": expr(PARENT), "ReverseOrder": True, "MaxResults": PARENT_HISTORY_PAGE,
                          "IncludeExecutionData": True},
            "Assign": {"parentStart": expr(parent_start)},
            "Output": expr("$states.input"),
            "Catch": [{"ErrorEquals": ["States.ALL"],
                       "Assign": {"inputErrors": expr("['arazzoResume: the parent execution cannot be read (' & "
                                                      "$states.errorOutput.Error & ')']")},
                       "Next": "Invalid input"}],
            "Next": "Resume continuation",
        }
        verified = "$parentStart.name = $states.context.Execution.Name and $parentStart.input = $states.input"
        restore: dict[str, object] = {"steps": expr(f"$exists({RESUME}.steps) ? {RESUME}.steps : {{}}"),
                                      "resume": expr(RESUME)}
        for loop_variable in sorted(set(self.loop_variables.values())):
            restore[loop_variable] = expr(
                f"$exists({RESUME}.loops.{loop_variable}) ? $merge([{RESUME}.loops.{loop_variable}, "
                f"{{'executionIterations': 0}}]) : {FRESH_LOOP}")
        self.states["Resume continuation"] = {
            "Type": "Choice",
            "Choices": [{"Condition": expr(f"{verified} and {RESUME}.at = {js.literal(wait_state)}"),
                         "Assign": restore, "Next": wait_state} for wait_state in wait_states],
            "Default": "Continuation refused"}
        self.states["Continuation refused"] = {
            "Type": "Fail", "Error": "Arazzo.InvalidInput",
            "Cause": "arazzoResume: the parent execution did not start this execution with this name and input"}

    # -- steps ----------------------------------------------------------------------------------------------------
    def add_step(self, step: Step, index: int) -> None:
        self.states[self.state(step.step_id)] = self.task(step, next_state=self.outcome_state(step))
        self.add_outcome(step, index)

    def add_workflow_step(self, step: Step, index: int) -> None:
        """A step that runs another workflow: that workflow's states, inline, between two Pass states."""
        called = next((w for w in self.document.workflows if w.workflow_id == step.workflow_id), None)
        if called is None:
            raise CompileError(self.where(step.location, f"workflow {step.workflow_id!r} is not in the document"))
        name = self.state(step.step_id)
        frame = Frame(prefix=f"{name} > ", variables=variable(self.frame.var("wf"), step.step_id) + "_",
                      end=f"{name} done", callers=self.frame.callers + (self.workflow.workflow_id,))
        if called.input_checks:
            raise CompileError(self.where(called.location + ("x-inputChecks",), "x-inputChecks are checked for the "
                                          "workflow being compiled only, not for one that a step runs"))
        for parameter in step.parameters:
            if parameter.name in called.fixed_inputs:
                raise CompileError(self.where(step.location, f"input {parameter.name} of workflow "
                                              f"{called.workflow_id} is x-fixed: a step may not set it"))
        inner = WorkflowCompiler(self.document, called, self.source_path, frame, self.states)
        if not inner.main_steps:
            raise CompileError(self.where(step.location, f"workflow {called.workflow_id} has no steps"))
        inner.check_steps()
        inner.collect_loops()
        caller = self.scope(step, None)
        given = "{" + ", ".join(f"{js.literal(p.name)}: {self.value(p.value, caller)}" for p in step.parameters) + "}"
        try:
            defaults = input_rules.defaults(called.inputs or {})
        except ValueError as error:
            raise CompileError(self.where(called.location + ("inputs",), str(error)))
        assign = {frame.var("inputs"): expr(f"$merge([{defaults}, {given}])"), frame.var("steps"): {}}
        for loop_variable in sorted(set(inner.loop_variables.values())):
            assign[loop_variable] = expr("{'startedAt': $millis(), 'iteration': 0, 'executionIterations': 0}")
        self.states[name] = {"Type": "Pass", "Assign": assign, "Next": inner.state(inner.main_steps[0].step_id)}
        inner.add_steps()
        inner.add_workflow_outputs(next_state=f"{name} outputs")
        # The called workflow's outputs are `$outputs` for this step's own outputs; the last response it received
        # is the state input here, for the step's successCriteria.
        outputs = self.outputs_object(step.outputs, self.scope(step, JUDGED_RESPONSE, outputs_available=True) ,
                                      step.location + ("outputs",), inner_frame=frame)
        self.states[f"{name} outputs"] = {
            "Type": "Pass",
            "Assign": {self.frame.var("steps"): expr(f"$merge([${self.frame.var('steps')}, "
                                                     f"{{{js.literal(step.step_id)}: {{'outputs': {outputs}}}}}])")},
            "Next": self.outcome_state(step)}
        self.add_outcome(step, index)
        if self.outcome_state(step) not in self.states:  # no criteria or actions: straight on
            self.states[f"{name} outputs"]["Next"] = self.next_after(index)

    def task(self, step: Step, next_state: str | None) -> dict:
        operation = step.operation
        scope = self.scope(step, TASK_RESPONSE)
        parameters: dict[str, dict] = {"path": {}, "query": {}, "header": {}}
        for parameter in step.parameters:
            parameters.setdefault(parameter.location_in, {})[parameter.name] = \
                self.template_value(parameter.value, scope)
        payload = {
            "operationId": operation.operation_id,
            "method": operation.method,
            "path": operation.path,
            "parameters": parameters,
            "body": self.template_value(step.payload, scope),
            "contentType": step.content_type,
            "context": {
                "executionArn": expr("$states.context.Execution.Id"),
                "stepId": step.step_id,
                "stateEnteredTime": expr("$states.context.State.EnteredTime"),
                "retryCount": expr("$states.context.State.RetryCount"),
            },
        }
        outputs = self.outputs_object(step.outputs, scope, step.location + ("outputs",))
        state = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "${" + function_placeholder(operation.operation_id) + "}",
                          "Payload": payload},
            **({"TimeoutSeconds": step.timeout_seconds} if step.timeout_seconds else {}),
            "Retry": [{"ErrorEquals": LAMBDA_SERVICE_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 6,
                       "BackoffRate": 2, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}] + step.task_retries,
            "Assign": {self.frame.var("steps"): expr(f"$merge([${self.frame.var('steps')}, "
                                                     f"{{{js.literal(step.step_id)}: {{'outputs': {outputs}}}}}])")},
            "Output": expr(TASK_RESPONSE),
        }
        if next_state:
            state["Next"] = next_state
        else:
            state["End"] = True
        if step.error_cleanup and not step.cleanup_only:
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Assign": {"stepError": expr("$states.errorOutput")},
                               "Next": self.add_error_cleanup(step)}]
        return state

    def add_error_cleanup(self, step: Step) -> str:
        """x-onError: when the step's Task fails for good, run the cleanup step, then fail with the step's error."""
        failed = self.state(f"{step.step_id} error")
        self.states[failed] = {"Type": "Fail", "Error": expr(not_reserved("$stepError.Error", "Arazzo.StepFailed")),
                               "Cause": expr("$stepError.Cause")}
        cleanup = self.workflow.step(step.error_cleanup)
        name = self.state(f"{step.step_id} error cleanup: {cleanup.step_id}")
        task = self.task(cleanup, next_state=failed)
        # The cleanup is best effort: its own failure must not hide the error that started it.
        task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": failed}]
        self.states[name] = task
        return name

    def outputs_object(self, outputs: dict, scope: js.Scope, location: tuple, inner_frame: Frame | None = None) -> str:
        """The JSONata object of a step's or workflow's outputs."""
        if inner_frame is not None:
            scope.outputs_var = "$" + inner_frame.var("outputs")
        try:
            return "{" + ", ".join(f"{js.literal(k)}: {self.nullable(self.value(v, scope))}"
                                   for k, v in outputs.items()) + "}"
        except js.UnsupportedExpression as error:
            raise CompileError(self.where(location, str(error)))

    @staticmethod
    def nullable(text: str) -> str:
        """Absent values become null, so an output key is always there."""
        return f"($x := {text}; $exists($x) ? $x : null)"

    def outcome_state(self, step: Step) -> str:
        return self.state(f"{step.step_id} outcome")

    def next_after(self, index: int) -> str:
        return self.state(self.main_steps[index + 1].step_id) if index + 1 < len(self.main_steps) else self.frame.end

    def add_outcome(self, step: Step, index: int) -> None:
        scope = self.scope(step, JUDGED_RESPONSE)
        succeeded = self.all_of(step.success_criteria, scope)
        rules: list[dict] = self.fail_when_rules(step, scope)
        for action in step.on_success:
            rules.extend(self.action_rules(step, action, f"({succeeded})", scope))
        if step.on_no_match:
            rules.extend(self.action_rules(step, step.on_no_match, f"({succeeded})", scope))
        if step.success_criteria:
            for action in step.on_failure:
                rules.extend(self.action_rules(step, action, f"$not({succeeded})", scope))
            failed_state = self.state(f"{step.step_id} failed")
            rules.append({"Condition": expr(f"$not({succeeded})"), "Next": failed_state})
            self.states[failed_state] = {"Type": "Fail", "Error": "Arazzo.SuccessCriteriaFailed",
                                         "Cause": expr(self.failure_cause(step, scope))}
        default = self.next_after(index)
        if not rules:
            if step.workflow_id is None:
                self.states[self.state(step.step_id)]["Next"] = default
            return
        self.states[self.outcome_state(step)] = {"Type": "Choice", "Choices": rules, "Default": default}

    def fail_when_rules(self, step: Step, scope: js.Scope) -> list[dict]:
        """Step-level x-failWhen: judged before successCriteria and actions; the Fail's Cause is `cause` as JSON."""
        rules = []
        for index, rule in enumerate(step.fail_when):
            fail_state = self.state(f"{step.step_id} failed: {rule.error}")
            if fail_state in self.states:
                fail_state += f" ({index + 1})"
            try:
                cause = self.value(rule.cause, scope)
            except js.UnsupportedExpression as error:
                raise CompileError(self.where(rule.criterion.location, f"x-failWhen cause: {error}"))
            self.states[fail_state] = {"Type": "Fail", "Error": rule.error, "Cause": expr(f"$string({cause})")}
            rules.append({"Condition": expr(self.condition(rule.criterion, scope)), "Next": fail_state})
        return rules

    def failure_cause(self, step: Step, scope: js.Scope) -> str:
        """Names the step and the first successCriteria condition that did not hold (no response data: it may
        hold secrets)."""
        which = js.literal("")
        for criterion in reversed(step.success_criteria):
            which = f"(({self.condition(criterion, scope)}) ? {which} : {js.literal(criterion.condition)})"
        return (f"'step {step.step_id}: success criterion not met: ' & {which} & "
                f"' (HTTP status ' & $string({JUDGED_RESPONSE}.statusCode) & ')'")

    def action_rules(self, step: Step, action: Action, outcome: str, scope: js.Scope) -> list[dict]:
        matched = f"{outcome} and ({self.all_of(action.criteria, scope)})"
        if action.type == "end":
            return [{"Condition": expr(matched), "Next": self.frame.end}]
        if action.type == "retry":
            if action.step_id:
                raise CompileError(self.where(action.location, "retry actions that first run another step are "
                                                               "not supported"))
            return self.retry_rules(step, action, matched)
        if not self.is_backward(step, action):
            return [{"Condition": expr(matched), "Next": self.state(action.step_id)}]
        return self.loop_rules(self.loop_of(action), matched, scope)

    # -- retry ----------------------------------------------------------------------------------------------------
    def retry_rules(self, step: Step, action: Action, matched: str) -> list[dict]:
        counter = variable(self.frame.var("retries"), step.step_id)
        wait_state = self.wait_state(action)
        # Retry-After (seconds) from the response overrides retryAfter, as the spec recommends.
        header = f"$lookup({JUDGED_RESPONSE}.headers, 'retry-after')"
        seconds = (f"($h := {header}; $w := ($type($h) = 'string' and $contains($h, /^[0-9]+$/)) ? $number($h) "
                   f": {js.literal(action.retry_after)}; $max([0, $ceil($w)]))")
        self.states[wait_state] = {"Type": "Wait", "Seconds": expr(seconds), "Next": self.state(step.step_id)}
        return [{"Condition": expr(f"{matched} and ($exists(${counter}) ? ${counter} : 0) < {action.retry_limit}"),
                 "Assign": {counter: expr(f"($exists(${counter}) ? ${counter} : 0) + 1")},
                 "Next": wait_state}]

    def wait_state(self, action: Action) -> str:
        return self.state(f"{action.name} wait")

    # -- loops ----------------------------------------------------------------------------------------------------
    def loop_rules(self, loop: Loop, matched: str, scope: js.Scope) -> list[dict]:
        policy, state = loop.policy, "$" + loop.variable
        rules = []
        if policy.deadline_seconds is not None:
            deadline = f"{state}.startedAt + {self.number(policy.deadline_seconds, scope)} * 1000"
            rules.append({"Condition": expr(f"{matched} and $millis() >= {deadline}"),
                          "Next": self.add_limit(loop, "deadline")})
        if policy.max_iterations is not None:
            rules.append({"Condition": expr(f"{matched} and {state}.iteration >= "
                                            f"{self.number(policy.max_iterations, scope)}"),
                          "Next": self.add_limit(loop, "iterations")})
        advance = {loop.variable: expr(f"$merge([{state}, {{'iteration': {state}.iteration + 1, "
                                       f"'executionIterations': {state}.executionIterations + 1}}])")}
        if self.frame.top:
            # Continue-as-new restarts the top workflow; a called workflow's loop is bounded by its policy alone.
            rules.append({"Condition": expr(f"{matched} and {state}.executionIterations >= "
                                            f"{policy.continue_as_new_after}"),
                          "Assign": advance, "Next": self.add_continue_as_new(loop)})
        rules.append({"Condition": expr(matched), "Assign": advance, "Next": loop.wait_state})
        self.states[loop.wait_state] = {"Type": "Wait", "Seconds": expr(self.loop_wait(loop, scope)),
                                        "Next": self.state(loop.target.step_id)}
        return rules

    def loop_wait(self, loop: Loop, scope: js.Scope) -> str:
        """Seconds before the next iteration: initial x backoff^(n-1), at least elapsedFraction of the time spent
        so far, at most maxWait, minus jitter, never past the deadline; at least one second."""
        p, s = loop.policy, "$" + loop.variable
        n = lambda v: self.number(v, scope)  # noqa: E731
        parts = [f"$elapsed := ($millis() - {s}.startedAt) / 1000",
                 f"$w := $max([{n(p.initial_wait_seconds)} * $power({n(p.backoff_rate)}, {s}.iteration - 1), "
                 f"{n(p.elapsed_fraction)} * $elapsed])",
                 f"$w := $min([$w, {n(p.max_wait_seconds)}])",
                 f"$w := $w * (1 - {n(p.jitter)} * $random())"]
        if p.deadline_seconds is not None:
            parts.append(f"$w := $min([$w, {n(p.deadline_seconds)} - $elapsed])")
        parts.append("$max([1, $round($w)])")
        return "(" + "; ".join(parts) + ")"

    def add_limit(self, loop: Loop, reason: str) -> str:
        """The loop's bound: optionally run the cleanup step, then fail with the configured error."""
        limit = loop.policy.on_limit
        fail_state = f"{loop.prefix} limit reached"
        scope = self.scope(loop.source, None)
        try:
            cause = self.value(limit.cause, scope)
        except js.UnsupportedExpression as error:
            raise CompileError(self.where(loop.action.location, f"x-loop onLimit cause: {error}"))
        reasons = "{'deadline': 'deadline passed', 'iterations': 'iteration limit reached'}"
        self.states[fail_state] = {
            "Type": "Fail", "Error": limit.error,
            "Cause": expr(f"$string($merge([{cause}, {{'limit': $lookup({reasons}, $limitReason)}}, "
                          f"$exists($cleanupError) ? {{'cleanupError': $cleanupError}} : {{}}]))")}
        entry = fail_state
        if limit.cleanup_step_id:
            cleanup = self.workflow.step(limit.cleanup_step_id)
            cleanup_state = f"{loop.prefix} cleanup: {cleanup.step_id}"
            task = self.task(cleanup, next_state=fail_state)
            task["Catch"] = [{"ErrorEquals": ["States.ALL"],
                              "Assign": {"cleanupError": expr("$states.errorOutput.Error")},
                              "Next": fail_state}]
            self.states[cleanup_state] = task
            entry = cleanup_state
        # Both bounds share the states; the rule that leads here records which bound was hit.
        router = f"{loop.prefix} {reason}"
        self.states[router] = {"Type": "Pass", "Assign": {"limitReason": reason}, "Next": entry}
        return router

    def add_continue_as_new(self, loop: Loop) -> str:
        """Start this machine again, carrying the loop's state, and wait for it: an execution never nears the
        25,000-event history limit, and the first execution still ends with the sync's real result."""
        name = f"{loop.prefix} continue as new"
        failed = f"{loop.prefix} continuation failed"
        resume = (f"{{'at': {js.literal(loop.wait_state)}, 'steps': $steps, "
                  f"'loops': {{{', '.join(f'{js.literal(v)}: ${v}' for v in sorted(set(self.loop_variables.values())))}}}, "
                  f"'generation': ($exists($resume.generation) ? $resume.generation : 0) + 1, "
                  f"'origin': $exists($resume.origin) ? $resume.origin : $states.context.Execution.Name}}")
        fixed = self.workflow.fixed_inputs
        # Fixed inputs stay out: the child takes them from its own deployment, and refuses them in its input.
        inputs = f"$sift($inputs, function($v, $k) {{ $not($k in {js.literal(fixed)}) }})" if fixed else "$inputs"
        cleanup_state = failed
        limit = loop.policy.on_limit
        if limit.cleanup_step_id:
            # A continuation that failed or was stopped leaves the loop's work unwatched: clean up, best effort.
            cleanup = self.workflow.step(limit.cleanup_step_id)
            cleanup_state = f"{loop.prefix} continuation cleanup: {cleanup.step_id}"
            task = self.task(cleanup, next_state=failed)
            task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": failed}]
            self.states[cleanup_state] = task
        self.states[name] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Arguments": {
                "StateMachineArn": expr("$states.context.StateMachine.Id"),
                "Name": expr(f"$substring({resume}.origin, 0, 70) & '-' & $string({resume}.generation)"),
                "Input": expr(f"$merge([{inputs}, {{'arazzoResume': {resume}, "
                              "'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID': $states.context.Execution.Id}])"),
            },
            "Retry": [{"ErrorEquals": CONTINUATION_START_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 5,
                       "BackoffRate": 2, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"}],
            "Output": expr("$states.result.Output"),
            "Catch": [{"ErrorEquals": ["States.ALL"],
                       "Assign": {"continuation": expr("$states.errorOutput")}, "Next": cleanup_state}],
            "End": True,
        }
        # The continued execution's own error and cause are inside the Cause: its DescribeExecution output, whose
        # keys are capitalised in the .sync:2 form (lower-case ones are accepted too).
        child = ("($c := $continuation.Cause; $d := ($type($c) = 'string' and $substring($c, 0, 1) = '{') "
                 "? $parse($c) : {}; {'error': $d.Error ? $d.Error : $d.error, 'cause': $d.Cause ? $d.Cause : $d.cause})")
        self.states[failed] = {
            "Type": "Fail",
            "Error": expr(not_reserved(f"($e := {child}.error; $exists($e) ? $e : $continuation.Error)",
                                       "Arazzo.ContinuationFailed")),
            "Cause": expr(f"($e := {child}.cause; $exists($e) ? $e : $continuation.Cause)")}
        return name

    # -- end ------------------------------------------------------------------------------------------------------
    def add_workflow_outputs(self, next_state: str) -> None:
        """The frame's end: compute the workflow's outputs into its `outputs` variable."""
        outputs = self.outputs_object(self.workflow.outputs, self.scope(None, None),
                                      self.workflow.location + ("outputs",))
        self.states[self.frame.end] = {"Type": "Pass", "Assign": {self.frame.var("outputs"): expr(outputs)},
                                       "Next": next_state}

    def add_end(self) -> None:
        rules = []
        judged = self.scope(None, None, outputs_available=True)
        for rule in self.workflow.fail_when:
            fail_state = f"Workflow failed: {rule.error}"
            rules.append({"Condition": expr(self.condition(rule.criterion, judged)), "Next": fail_state})
            try:
                cause = self.value(rule.cause, judged)
            except js.UnsupportedExpression as error:
                raise CompileError(self.where(rule.criterion.location, f"x-failWhen cause: {error}"))
            self.states[fail_state] = {"Type": "Fail", "Error": rule.error, "Cause": expr(f"$string({cause})")}
        self.add_workflow_outputs("Workflow result" if rules else "Workflow succeeded")
        if rules:
            self.states["Workflow result"] = {"Type": "Choice", "Choices": rules, "Default": "Workflow succeeded"}
        self.states["Workflow succeeded"] = {"Type": "Succeed", "Output": expr("$outputs")}


def compile_workflow(document: Document, workflow_id: str | None, source_path: str) -> dict:
    """The ASL definition (a dict) of one workflow; the only one when workflow_id is None."""
    if workflow_id is None:
        if len(document.workflows) != 1:
            ids = ", ".join(w.workflow_id for w in document.workflows)
            raise CompileError(f"{source_path}: the document has {len(document.workflows)} workflows ({ids}); "
                               "choose one with --workflow")
        workflow = document.workflows[0]
    else:
        found = [w for w in document.workflows if w.workflow_id == workflow_id]
        if not found:
            raise CompileError(f"{source_path}: no workflow {workflow_id!r}")
        workflow = found[0]
    try:
        return WorkflowCompiler(document, workflow, source_path).compile()
    except js.UnsupportedExpression as error:
        raise CompileError(f"{source_path}: workflow {workflow.workflow_id}: {error}") from None


def to_json(definition: dict) -> str:
    """Deterministic text: same definition, same bytes."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
