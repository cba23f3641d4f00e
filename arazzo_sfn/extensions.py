"""Read the `x-` extensions of docs/arazzo-extensions.md into the workflow model (a mixin of reader.Reader).

Each method reads one extension where it appears and records problems with their lines; what an extension means
at run time is lower.py's, and checks across the model are check.py's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .expressions import Expr, Template
from .model import Action, Criterion, EndTask, FailWhen, ForEach, InputCheck, LoopLimit, LoopPolicy, Step, Summary

MAX_SECONDS = 99999999  # the largest TimeoutSeconds, Wait Seconds and Retry field Step Functions accepts
# What CreateStateMachine accepts in a Retrier: (x-retry key, ASL key, type, lowest value).
RETRIER_FIELDS = (
    ("intervalSeconds", "IntervalSeconds", "integer", 1),
    ("maxAttempts", "MaxAttempts", "integer", 0),
    ("backoffRate", "BackoffRate", "number", 1),
    ("maxDelaySeconds", "MaxDelaySeconds", "integer", 1),
)
# A Standard execution runs at most a year; a loop deadline leaves a day to poll once more, cancel and unwind.
STANDARD_EXECUTION_SECONDS = 365 * 24 * 3600
DEADLINE_MARGIN_SECONDS = 24 * 3600
MAX_DEADLINE_SECONDS = STANDARD_EXECUTION_SECONDS - DEADLINE_MARGIN_SECONDS
# Literal x-loop settings that are seconds, and their largest values.
LOOP_SECONDS_LIMITS = {
    "initialWaitSeconds": MAX_SECONDS,
    "maxWaitSeconds": MAX_SECONDS,
    "deadlineSeconds": MAX_DEADLINE_SECONDS,
}
# x-onEnd: each Task is the state "Workflow end: <name>" (at most 80 characters), of a Step Functions integration.
END_TASK_PREFIX = "Workflow end: "
END_TASK_NAME = re.compile(r"^[A-Za-z0-9_\-]+( [A-Za-z0-9_\-]+)*$")
END_TASK_RESOURCE = re.compile(r"^arn:aws:states:::[a-z0-9\-]+:[A-Za-z0-9.:_\-]+$")
END_TASK_KEYS = ("name", "resource", "arguments", "timeoutSeconds", "when")
END_TASK_WHEN_SUFFIX = "?"  # the Choice "Workflow end: <name>?" that runs the task only when its `when` holds
END_TASK_TIMEOUT_SECONDS = 30
END_TASK_MAX_ATTEMPTS = 2  # each x-onEnd Task's retries (States.ALL, short, full jitter): events.py counts them
MAX_STATE_NAME = 80
# x-forEach: a Map state; each item a run of the step's workflow, inline or as an execution of a state machine.
FOR_EACH_KEYS = ("x-maxConcurrency", "x-maxItems", "x-execution", "x-summary")
FOR_EACH_MAX_ITEMS = 100  # x-maxItems left out
STATE_MACHINE_ARN = re.compile(
    r"^(\$\{[A-Za-z0-9]+\}|arn:aws[a-z\-]*:states:[a-z0-9\-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_\-]+)$"
)
SUMMARY_KINDS = ("countBy", "sum")
OUTPUT_NAME = re.compile(r"^[a-zA-Z0-9.\-_]+$")
LOOP_KEYS = {
    "initialWaitSeconds": "initial_wait_seconds",
    "backoffRate": "backoff_rate",
    "elapsedFraction": "elapsed_fraction",
    "maxWaitSeconds": "max_wait_seconds",
    "jitter": "jitter",
    "deadlineSeconds": "deadline_seconds",
    "maxIterations": "max_iterations",
    "continueAsNewAfter": "continue_as_new_after",
    "suggestedWaitSeconds": "suggested_wait_seconds",
}


class ExtensionReader:
    """The x- parts of reading; the host class supplies problem(), line(), step_ids and the shared readers."""

    if TYPE_CHECKING:
        step_ids: list
        problems: list

        def problem(self, location: tuple, message: str) -> None: ...
        def line(self, location: tuple) -> int | None: ...
        def read_criterion(self, raw: object, location: tuple) -> Criterion | None: ...
        def read_value(self, raw: object, location: tuple) -> object: ...
        def read_object(self, raw: dict, location: tuple) -> dict: ...
        def read_actions(self, raw: object, location: tuple, kind: str, nested: bool = True) -> list[Action]: ...

    def read_step_extensions(self, step: Step, raw: dict, location: tuple) -> None:
        """x-retry, x-failWhen, x-timeoutSeconds and x-onError of one step."""
        step.task_retries = self.read_task_retries(raw.get("x-retry"), location + ("x-retry",))
        step.fail_when = self.read_fail_when(raw.get("x-failWhen"), location + ("x-failWhen",))
        if "x-timeoutSeconds" in raw:
            timeout = raw["x-timeoutSeconds"]
            if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= MAX_SECONDS:
                self.problem(
                    location + ("x-timeoutSeconds",),
                    f"x-timeoutSeconds must be an integer from 1 to {MAX_SECONDS}, found {timeout!r}",
                )
            else:
                step.timeout_seconds = timeout
        on_error = raw.get("x-onError")
        if on_error is not None:
            cleanup = on_error.get("cleanupStepId") if isinstance(on_error, dict) else None
            if cleanup not in self.step_ids:
                self.problem(
                    location + ("x-onError",), f"x-onError.cleanupStepId {cleanup!r} is not a step of this workflow"
                )
            else:
                step.error_cleanup = cleanup
        step.for_each = self.read_for_each(step, raw, location)

    def read_for_each(self, step: Step, raw: dict, location: tuple) -> ForEach | None:
        """x-forEach with x-maxConcurrency, x-maxItems, x-execution and x-summary, on a step that runs a workflow."""
        if "x-forEach" not in raw:
            for key in FOR_EACH_KEYS:
                if key in raw:
                    self.problem(location + (key,), f"{key} applies to a step with x-forEach")
            return None
        where = location + ("x-forEach",)
        if "workflowId" not in raw:
            self.problem(where, "x-forEach applies to a step that runs a workflow (workflowId)")
            return None
        items = self.read_value(raw["x-forEach"], where) if isinstance(raw["x-forEach"], str) else None
        if not isinstance(items, Expr) or isinstance(items, Template):
            self.problem(where, "x-forEach must be a runtime expression that yields a list")
            return None
        found = len(self.problems)
        concurrency = raw.get("x-maxConcurrency", 0)
        if isinstance(concurrency, str):
            concurrency = self.read_value(concurrency, location + ("x-maxConcurrency",))
            if not isinstance(concurrency, Expr) or isinstance(concurrency, Template):
                self.problem(
                    location + ("x-maxConcurrency",), "x-maxConcurrency must be an integer or a runtime expression"
                )
        elif not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 0:
            self.problem(
                location + ("x-maxConcurrency",),
                f"x-maxConcurrency must be an integer from 0 (no limit) or a runtime expression, found {concurrency!r}",
            )
        max_items = raw.get("x-maxItems", FOR_EACH_MAX_ITEMS)
        if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
            self.problem(location + ("x-maxItems",), f"x-maxItems must be a positive integer, found {max_items!r}")
        execution = raw.get("x-execution")
        arn = execution.get("stateMachineArn") if isinstance(execution, dict) else None
        if execution is not None and (
            not isinstance(arn, str) or not STATE_MACHINE_ARN.match(arn) or set(execution) != {"stateMachineArn"}
        ):
            self.problem(
                location + ("x-execution",),
                "x-execution must be {stateMachineArn: <a ${Key} placeholder, or "
                "arn:aws:states:<region>:<account>:stateMachine:<name>>}",
            )
        summary = self.read_summary(raw.get("x-summary"), location + ("x-summary",), step)
        if len(self.problems) != found:
            return None
        return ForEach(items, concurrency, int(max_items), arn, summary, self.line(where))

    def read_summary(self, raw: object, location: tuple, step: Step) -> dict[str, Summary]:
        """x-summary: {name: {countBy: <expression>} | {sum: <expression>}}, merged into the step's outputs."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(location, "x-summary must be a mapping of names to {countBy: ...} or {sum: ...}")
            return {}
        summary = {}
        for name, entry in raw.items():
            where = location + (name,)
            if not OUTPUT_NAME.match(str(name)) or name in step.outputs:
                self.problem(
                    where, f"x-summary name {name!r} must match ^[a-zA-Z0-9.\\-_]+$ and differ from the outputs"
                )
                continue
            if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in SUMMARY_KINDS:
                self.problem(where, f"x-summary {name}: one of {{countBy: <expression>}} or {{sum: <expression>}}")
                continue
            kind, value = next(iter(entry.items()))
            summary[str(name)] = Summary(kind, self.read_value(value, where + (kind,)))
        return summary

    def read_on_end(self, raw: object, location: tuple) -> list[EndTask]:
        """x-onEnd: [{name, resource, arguments, timeoutSeconds?, when?}], Tasks run once when the workflow ends."""
        if raw is None:
            return []
        if not isinstance(raw, list) or not raw:
            self.problem(location, "x-onEnd must be a non-empty list of {name, resource, arguments}")
            return []
        tasks: list[EndTask] = []
        for index, entry in enumerate(raw):
            where = location + (index,)
            if not isinstance(entry, dict):
                self.problem(where, "an x-onEnd entry is a mapping of name, resource and arguments")
                continue
            unknown = [key for key in entry if key not in END_TASK_KEYS]
            if unknown:
                self.problem(
                    where + (unknown[0],), f"unknown x-onEnd key {unknown[0]!r} (known: {', '.join(END_TASK_KEYS)})"
                )
            name, resource, arguments = entry.get("name"), entry.get("resource"), entry.get("arguments")
            timeout = entry.get("timeoutSeconds", END_TASK_TIMEOUT_SECONDS)
            found = len(self.problems)
            if not isinstance(name, str) or not END_TASK_NAME.match(name):
                self.problem(
                    where + ("name",),
                    f"x-onEnd name must be words of [A-Za-z0-9_-] (one space between), found {name!r}",
                )
            elif len(longest := END_TASK_PREFIX + name + (END_TASK_WHEN_SUFFIX if "when" in entry else "")) > (
                MAX_STATE_NAME
            ):
                self.problem(
                    where + ("name",),
                    f"x-onEnd name {name!r}: the state {longest!r} would have {len(longest)} characters; "
                    f"Step Functions allows {MAX_STATE_NAME}",
                )
            elif name in {task.name for task in tasks}:
                self.problem(where + ("name",), f"duplicate x-onEnd name {name!r}")
            if not isinstance(resource, str) or not END_TASK_RESOURCE.match(resource):
                self.problem(
                    where + ("resource",),
                    f"x-onEnd resource must be a Step Functions integration arn:aws:states:::<service>:<action>, "
                    f"found {resource!r}",
                )
            if not isinstance(arguments, dict):
                self.problem(where + ("arguments",), "x-onEnd arguments must be a mapping (the Task's Arguments)")
            if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= MAX_SECONDS:
                self.problem(
                    where + ("timeoutSeconds",),
                    f"x-onEnd timeoutSeconds must be an integer from 1 to {MAX_SECONDS}, found {timeout!r}",
                )
            when = None
            if "when" in entry:
                if isinstance(entry["when"], dict):
                    when = self.read_criterion(entry["when"], where + ("when",))
                else:
                    self.problem(where + ("when",), "x-onEnd when is a criterion: {condition, context?, type?}")
            if len(self.problems) == found and isinstance(arguments, dict):
                tasks.append(
                    EndTask(
                        str(name),
                        str(resource),
                        self.read_object(arguments, where + ("arguments",)),
                        int(timeout),
                        self.line(where),
                        when,
                    )
                )
        return tasks

    def read_on_no_match(self, raw: object, location: tuple) -> Action | None:
        """x-onNoMatch: a Success Action without criteria, taken when no onSuccess action matched."""
        if raw is None:
            return None
        found = self.read_actions([raw], location, "success", nested=False)
        if found and found[0].criteria:
            self.problem(location, "x-onNoMatch is taken when nothing else matched: it has no criteria")
        return found[0] if found else None

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
                self.problem(
                    rule_location + ("error",), f"error {rule['error']!r}: a Fail state may not raise a 'States.' error"
                )
                continue
            cause = rule.get("cause") if rule.get("cause") is not None else {}
            if not isinstance(cause, dict):
                self.problem(
                    rule_location + ("cause",),
                    "x-failWhen cause must be a mapping of names to values or runtime expressions",
                )
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
                self.problem(
                    where,
                    f"input {key}: x-fixed needs x-definitionSubstitution or default (the value the deployment fixes)",
                )
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
            retrier: dict[str, object] = {"ErrorEquals": errors}
            for key, asl, kind, low in RETRIER_FIELDS:
                if key in rule:
                    value = rule[key]
                    number = isinstance(value, (int, float)) and not isinstance(value, bool)
                    if (
                        not number
                        or (kind == "integer" and not isinstance(value, int))
                        or not low <= value <= MAX_SECONDS
                    ):
                        self.problem(
                            where + (key,),
                            f"{key} must be {'an integer' if kind == 'integer' else 'a number'}"
                            f" from {low} to {MAX_SECONDS}, found {value!r}",
                        )
                        continue
                    retrier[asl] = value
            retrier["JitterStrategy"] = "FULL"
            retriers.append(retrier)
        return retriers

    def read_loop(self, raw: dict, location: tuple) -> LoopPolicy:
        policy = LoopPolicy()
        keys = LOOP_KEYS
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
            if key == "continueAsNewAfter" and not (isinstance(value, int) and value >= 1):
                self.problem(
                    location + (key,),
                    "continueAsNewAfter must be a positive integer (check.py bounds it by the loop's history events)",
                )
                continue
            limit = LOOP_SECONDS_LIMITS.get(key)
            if limit is not None and isinstance(value, (int, float)) and value > limit:
                why = (
                    " (a Standard execution runs at most a year; a day is left to cancel)"
                    if key == "deadlineSeconds"
                    else ""
                )
                self.problem(location + (key,), f"{key} must be at most {limit}{why}, found {value!r}")
                continue
            setattr(policy, keys[key], value)
        on_limit = raw.get("onLimit") or {}
        if on_limit:
            cleanup = on_limit.get("cleanupStepId")
            if cleanup is not None and cleanup not in self.step_ids:
                self.problem(
                    location + ("onLimit", "cleanupStepId"), f"cleanup step {cleanup!r} is not a step of this workflow"
                )
                cleanup = None
            policy.on_limit = LoopLimit(
                cleanup,
                on_limit.get("error", "Arazzo.LoopLimitExceeded"),
                self.read_object(on_limit.get("cause") or {}, location + ("onLimit", "cause")),
            )
        return policy
