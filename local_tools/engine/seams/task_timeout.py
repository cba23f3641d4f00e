"""Seam 11: a Task's TimeoutSeconds counts on the engine clock (States.Timeout on a VirtualClock too)."""

from __future__ import annotations

import copy
import threading
from typing import Any

from local_tools.engine.stopwatch import Stopwatch

from .base import Undo, is_virtual, patch, require_attr, require_params, require_source

# --- 11. Task TimeoutSeconds on the engine clock -----------------------------------------------------------------

# What the replacement reproduces of ExecutionState._evaluate_with_timeout, in this order.
_MOTO_STEPS = (
    "self.timeout.eval(env=env)",
    "timeout_seconds: int = env.stack.pop()",
    "frame: Environment = env.open_frame()",
    "frame.states.reset(input_value=env.states.get_input())",
    "frame.stack = copy.deepcopy(env.stack)",
    "self._eval_execution(frame)",
    "execution_outputs.extend(frame.stack)",
    "TMP_THREADS.append(thread)",
    "terminated_event.wait(timeout_seconds)",
    "frame.set_ended()",
    "env.close_frame(frame)",
    "raise execution_exception",
    "raise EvalTimeoutError()",
    "env.stack.append(execution_output)",
    "if not self._is_language_query_jsonpath():",
    "env.states.set_result(execution_output)",
    "self.assign_decl.eval(env=env)",
    "self.result_selector.eval(env=env)",
    "self.result_path.eval(env)",
    "env.states.reset(input_value=res)",
)


def install_task_timeout_on_clock(clock: Any) -> Undo:
    """On a VirtualClock, a Task that takes longer than its TimeoutSeconds on the engine clock fails States.Timeout.

    moto runs each Task's work in a thread and waits for it `TimeoutSeconds` of real time, so a handler that sleeps
    virtual seconds never times out. The replacement keeps that real-time wait (a callback Task still times out in
    real time) and also measures the work with a Stopwatch in the Task's thread (real time plus the virtual time its
    handler slept, local_tools.engine.stopwatch): past TimeoutSeconds, the Task fails as moto fails it on a real
    timeout (TaskTimedOut, States.Timeout), before any result, Assign or Output is applied. The work itself cannot
    be interrupted: it runs to its end first. A RealClock keeps moto's method.
    """
    seam = "ExecutionState._evaluate_with_timeout"
    from moto.stepfunctions.parser.asl.component.common.timeouts import timeout as timeout_module
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    state_class = require_attr(seam, execute_state, "ExecutionState")
    original = require_attr(seam, state_class, "_evaluate_with_timeout")
    require_params(seam, original, ["self", "env"])
    require_source(seam, original, _MOTO_STEPS)
    eval_timeout_error = require_attr(seam, timeout_module, "EvalTimeoutError")
    thread_class = require_attr(seam, execute_state, "Thread")
    tmp_threads = require_attr(seam, execute_state, "TMP_THREADS")

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        if not is_virtual(clock):
            original(self, env)
            return
        self.timeout.eval(env=env)
        timeout_seconds: int = env.stack.pop()

        frame = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = copy.deepcopy(env.stack)
        outputs: list[Any] = []
        exceptions: list[Exception] = []
        spent = [0.0]
        ended = threading.Event()

        def run() -> None:
            stopwatch = Stopwatch()  # in the Task's own thread: its handler's sleeps are charged here
            try:
                self._eval_execution(frame)
                outputs.extend(frame.stack)
            except Exception as error:
                exceptions.append(error)
            spent[0] = stopwatch.elapsed()
            ended.set()

        thread = thread_class(target=run, daemon=True)
        tmp_threads.append(thread)
        thread.start()
        ended_in_time = ended.wait(timeout_seconds)
        frame.set_ended()
        env.close_frame(frame)

        # On AWS the state fails at its deadline, before whatever the work would have answered later.
        if not ended_in_time or spent[0] > timeout_seconds:
            raise eval_timeout_error()
        if exceptions:
            raise exceptions[-1]

        output = outputs.pop()
        env.stack.append(output)
        if not self._is_language_query_jsonpath():
            env.states.set_result(output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            env.states.reset(input_value=env.stack.pop())

    return patch(state_class, "_evaluate_with_timeout", _evaluate_with_timeout)
