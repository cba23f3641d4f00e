"""Lowering of what repeats: retry actions and loops (a goto to the same or an earlier step) with their waits and
bounds; a loop that reaches its per-execution bound continues as new (continuation.py). A base of
lower.WorkflowLowering."""

from __future__ import annotations

from . import asl, events
from . import jsonata as js
from . import translate as tr
from . import values as val
from .continuation import ContinuationLowering, Loop, if_exists, is_backward, variable
from .expressions import Expr
from .extensions import MAX_DEADLINE_SECONDS, MAX_SECONDS
from .model import Action, LoopPolicy, Step


class LoopLowering(ContinuationLowering):
    """Retry waits, loop bounds and loop waits."""

    def deadline(self, setting: object, scope: tr.Scope) -> js.Node:
        """The loop's deadline in seconds; one from the inputs is capped to what a Standard execution outlives."""
        if isinstance(setting, Expr):
            return js.call("min", js.Arr((tr.runtime(setting, scope), js.Lit(MAX_DEADLINE_SECONDS))))
        return js.Lit(setting)

    def iterations_per_execution(self, loop: Loop) -> int:
        """continueAsNewAfter, or as many iterations as fit in one execution's history (events.py)."""
        if loop.policy.continue_as_new_after is not None:
            return loop.policy.continue_as_new_after
        return events.iterations_per_execution(
            self.workflow, loop.source, loop.target, self.document, len(set(self.loop_variables.values()))
        )

    def collect_loops(self) -> None:
        for step in self.main_steps:
            for action in step.on_success + step.on_failure + ([step.on_no_match] if step.on_no_match else []):
                if not is_backward(self.main_steps, step, action):
                    continue
                key = (step.step_id, action.step_id or "")
                name = step.step_id if key[0] == key[1] else f"{key[0]}_to_{key[1]}"
                self.loop_variables.setdefault(key, variable(self.frame.var("loop"), name))
                policy = action.loop or LoopPolicy.without_x_loop()
                same_steps = [loop for loop in self.loops if (loop.source.step_id, loop.target.step_id) == key]
                same_policy = [loop for loop in same_steps if loop.policy == policy]
                prefix = (
                    same_policy[0].prefix
                    if same_policy
                    else self.state(f"{action.step_id} loop" + (f" ({action.name})" if same_steps else ""))
                )
                self.loops.append(
                    Loop(action, step, self.workflow.step(key[1]), policy, self.loop_variables[key], prefix)
                )

    def loop_of(self, action: Action) -> Loop:
        return next(loop for loop in self.loops if loop.action is action)

    def number(self, setting: object, scope: tr.Scope) -> js.Node:
        return tr.runtime(setting, scope) if isinstance(setting, Expr) else js.Lit(setting)

    # -- retry ----------------------------------------------------------------------------------------------------
    def retry_rules(self, step: Step, action: Action, matched: js.Node) -> list[asl.ChoiceRule]:
        counter = js.Var(variable(self.frame.var("retries"), step.step_id))
        wait_state = self.state(f"{action.name} wait")
        # Retry-After (seconds) from the response overrides retryAfter, as the spec recommends.
        h, w = js.Var("h"), js.Var("w")
        header = js.call("lookup", js.Field(val.JUDGED_RESPONSE, "headers"), js.Sq("retry-after"))
        seconds = js.block(
            js.Bind("h", header),
            js.Bind(
                "w",
                js.If(
                    js.group(js.op("and", tr.is_type(h, "string"), js.call("contains", h, js.regex("^[0-9]+$")))),
                    js.call("number", h),
                    js.Lit(action.retry_after),
                ),
            ),
            js.call("min", js.Arr((js.Lit(MAX_SECONDS), js.call("max", js.Arr((js.Lit(0), js.call("ceil", w))))))),
        )
        self.states.put(wait_state, asl.Wait(js.template(seconds), self.state(step.step_id)))
        count = js.group(if_exists(counter, js.Lit(0)))
        return [
            asl.ChoiceRule(
                js.template(js.op("and", matched, js.op("<", count, js.Lit(action.retry_limit)))),
                wait_state,
                {counter.name: js.template(js.op("+", count, js.Lit(1)))},
            )
        ]

    # -- loops ----------------------------------------------------------------------------------------------------
    def loop_rules(self, loop: Loop, matched: js.Node, scope: tr.Scope) -> list[asl.ChoiceRule]:
        policy, state = loop.policy, js.Var(loop.variable)
        rules = []
        if policy.deadline_seconds is not None:
            deadline = js.op(
                "+",
                js.Field(state, "startedAt"),
                js.op("*", self.deadline(policy.deadline_seconds, scope), js.Lit(1000)),
            )
            rules.append(
                asl.ChoiceRule(
                    js.template(js.op("and", matched, js.op(">=", js.call("millis"), deadline))),
                    self.add_limit(loop, "deadline"),
                )
            )
        if policy.max_iterations is not None:
            rules.append(
                asl.ChoiceRule(
                    js.template(
                        js.op(
                            "and",
                            matched,
                            js.op(">=", js.Field(state, "iteration"), self.number(policy.max_iterations, scope)),
                        )
                    ),
                    self.add_limit(loop, "iterations"),
                )
            )
        advance = {
            loop.variable: js.template(
                js.call(
                    "merge",
                    js.Arr(
                        (
                            state,
                            js.obj(
                                {
                                    "iteration": js.op("+", js.Field(state, "iteration"), js.Lit(1)),
                                    "executionIterations": js.op(
                                        "+", js.Field(state, "executionIterations"), js.Lit(1)
                                    ),
                                }
                            ),
                        )
                    ),
                )
            )
        }
        if self.frame.top:
            # Continue-as-new restarts the top workflow; a called workflow's loop is bounded by its policy alone.
            rules.append(
                asl.ChoiceRule(
                    js.template(
                        js.op(
                            "and",
                            matched,
                            js.op(
                                ">=",
                                js.Field(state, "executionIterations"),
                                js.Lit(self.iterations_per_execution(loop)),
                            ),
                        )
                    ),
                    self.add_continue_as_new(loop),
                    advance,
                )
            )
        rules.append(asl.ChoiceRule(js.template(matched), loop.wait_state, advance))
        self.states.put(
            loop.wait_state, asl.Wait(js.template(self.loop_wait(loop, scope)), self.state(loop.target.step_id))
        )
        return rules

    def loop_wait(self, loop: Loop, scope: tr.Scope) -> js.Node:
        """Seconds before the next iteration: initial x backoff^(n-1), at least elapsedFraction of the time spent
        so far, at most maxWait, minus jitter (or suggestedWaitSeconds when it is a number, at least initialWait),
        never past the deadline; at least one second."""
        p, s = loop.policy, js.Var(loop.variable)
        elapsed, w = js.Var("elapsed"), js.Var("w")

        def n(setting: object) -> js.Node:
            return self.number(setting, scope)

        parts: list[js.Node] = [
            js.Bind(
                "elapsed", js.op("/", js.group(js.op("-", js.call("millis"), js.Field(s, "startedAt"))), js.Lit(1000))
            ),
            js.Bind(
                "w",
                js.call(
                    "max",
                    js.Arr(
                        (
                            js.op(
                                "*",
                                n(p.initial_wait_seconds),
                                js.call("power", n(p.backoff_rate), js.op("-", js.Field(s, "iteration"), js.Lit(1))),
                            ),
                            js.op("*", n(p.elapsed_fraction), elapsed),
                        )
                    ),
                ),
            ),
            js.Bind("w", js.call("min", js.Arr((w, n(p.max_wait_seconds))))),
            js.Bind("w", js.op("*", w, js.group(js.op("-", js.Lit(1), js.op("*", n(p.jitter), js.call("random")))))),
        ]
        if p.suggested_wait_seconds is not None:
            # A number from suggestedWaitSeconds is the wait (at least initialWaitSeconds); null: the formula's.
            suggested = js.Var("s")
            parts.append(js.Bind("s", n(p.suggested_wait_seconds)))
            parts.append(
                js.Bind(
                    "w",
                    js.If(
                        tr.is_type(suggested, "number"),
                        js.call("max", js.Arr((suggested, n(p.initial_wait_seconds)))),
                        w,
                    ),
                )
            )
        if p.deadline_seconds is not None:
            parts.append(
                js.Bind("w", js.call("min", js.Arr((w, js.op("-", self.deadline(p.deadline_seconds, scope), elapsed)))))
            )
        # A wait is at most what a Wait state accepts, whatever the inputs say.
        parts.append(
            js.call("min", js.Arr((js.Lit(MAX_SECONDS), js.call("max", js.Arr((js.Lit(1), js.call("round", w)))))))
        )
        return js.Block(tuple(parts))

    def add_limit(self, loop: Loop, reason: str) -> str:
        """The loop's bound: optionally run the cleanup step, then fail with the configured error."""
        limit = loop.policy.on_limit
        fail_state = f"{loop.prefix} limit reached"
        cause = val.value(limit.cause, self.scope(loop.source, None))
        reasons = js.obj({"deadline": js.Sq("deadline passed"), "iterations": js.Sq("iteration limit reached")})
        cleanup_error = js.Var(self.frame.scratch_var("cleanupError"))
        self.fail(
            fail_state,
            limit.error,
            js.call(
                "string",
                js.call(
                    "merge",
                    js.Arr(
                        (
                            cause,
                            js.obj(
                                {"limit": js.call("lookup", reasons, js.Var(self.frame.scratch_var("limitReason")))}
                            ),
                            js.If(
                                js.call("exists", cleanup_error),
                                js.obj({"cleanupError": cleanup_error}),
                                js.Obj(()),
                            ),
                        )
                    ),
                ),
            ),
        )
        entry = fail_state
        if limit.cleanup_step_id:
            cleanup = self.workflow.step(limit.cleanup_step_id)
            entry = self.states.put(
                f"{loop.prefix} cleanup: {cleanup.step_id}",
                self.cleanup_task(
                    cleanup,
                    fail_state,
                    asl.Catcher(
                        ["States.ALL"],
                        fail_state,
                        {self.frame.scratch_var("cleanupError"): js.template(js.Var("states.errorOutput.Error"))},
                    ),
                ),
            )
        # Both bounds share the states; the rule that leads here records which bound was hit.
        return self.states.put(
            f"{loop.prefix} {reason}", asl.Pass({self.frame.scratch_var("limitReason"): reason}, entry)
        )
