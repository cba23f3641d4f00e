"""Seams 4-7 and 21: Wait, Retry, timestamps, the machine's TimeoutSeconds and CloudWatch datapoints follow the
engine clock."""

from __future__ import annotations

import datetime as _datetime
import inspect
import threading
import time as _time
from collections.abc import Callable
from typing import Any

from .base import (
    SeamMoved,
    Undo,
    execution_arn_of,
    is_virtual,
    patch,
    require_attr,
    require_params,
    require_source,
    undo_all,
)

# A real-time Wait looks at least this often whether its execution was stopped (seam 4).
STOP_LOOK_SECONDS = 0.5

# --- 4. Wait on the clock, 7. TimeoutSeconds on the clock --------------------------------------------------------


class _Deadlines:
    """Virtual-time TimeoutSeconds: execution ARN -> (deadline on the clock, root environment)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_execution: dict[str, tuple[float, Any]] = {}

    def set(self, execution_arn: str, deadline: float, env: Any) -> None:
        with self._lock:
            self._by_execution[execution_arn] = (deadline, env)

    def get(self, execution_arn: str | None) -> tuple[float, Any] | None:
        with self._lock:
            return self._by_execution.get(execution_arn) if execution_arn else None


_deadlines = _Deadlines()


def _sleep_until_deadline(clock: Any, env: Any, seconds: float) -> None:
    """clock.sleep(seconds), unless the execution's virtual TimeoutSeconds comes first: then time it out."""
    found = _deadlines.get(execution_arn_of(env))
    if found is None:
        clock.sleep(seconds)
        return
    deadline, root_env = found
    remaining = deadline - clock.now()
    if seconds < remaining:
        clock.sleep(seconds)
        return
    clock.sleep(max(remaining, 0.0))
    root_env.set_timed_out()


def install_wait_on_clock(clock: Any, on_wait: Callable[[str | None, float], None]) -> Undo:
    """Wait states sleep on `clock`; `on_wait(execution_arn, seconds)` records each wait.

    A stop_execution during a Wait on a VirtualClock has nothing to interrupt: the wait is already over.
    """
    seam = "WaitFunction._wait_interval"
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    wait_class = require_attr(seam, wait_function, "WaitFunction")
    original = require_attr(seam, wait_class, "_wait_interval")
    require_params(seam, original, ["self", "env", "wait_seconds"])

    require_source(seam, original, ("env.program_state_event.wait(wait_seconds)", "env.is_running()"))

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        on_wait(execution_arn_of(env), wait_seconds)
        if is_virtual(clock):
            _sleep_until_deadline(clock, env, wait_seconds)
            return
        # Real time, interruptible as moto's: stop_execution pulses program_state_event. moto waits on it once for
        # the whole interval, so a stop that comes between WaitStateEntered and that wait is missed and the
        # execution runs on to the Wait's end; looking at the state between short waits cannot miss it.
        deadline = _time.monotonic() + wait_seconds
        while env.is_running():
            remaining = deadline - _time.monotonic()
            if remaining <= 0:
                return
            env.program_state_event.wait(min(remaining, STOP_LOOK_SECONDS))

    return patch(wait_class, "_wait_interval", _wait_interval)


def install_program_timeout_on_clock(clock: Any) -> Undo:
    """On a VirtualClock, the machine's TimeoutSeconds counts virtual seconds.

    moto enforces TimeoutSeconds with a real-time thread join in Program.eval. On a VirtualClock we record the
    deadline instead, drop the real-time one for this execution's (freshly parsed) program, and let the Wait/Retry
    seams time the execution out when virtual time crosses it. Time spent inside handlers (their own
    clock.sleep) is only noticed at the next Wait or Retry.
    """
    seam = "Program.eval"
    from moto.stepfunctions.parser.asl.component.program import program as program_module

    program_class = require_attr(seam, program_module, "Program")
    original = require_attr(seam, program_class, "eval")
    require_params(seam, original, ["self", "env"])
    if "timeout_seconds" not in inspect.getsource(original):
        raise SeamMoved(seam, "Program.eval no longer reads self.timeout_seconds")

    def eval_(self: Any, env: Any) -> None:
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        execution_arn = execution_arn_of(env)
        if timeout is not None and is_virtual(clock) and execution_arn and not env.is_frame():
            _deadlines.set(execution_arn, clock.now() + timeout, env)
            self.timeout_seconds = None  # this Program instance belongs to this execution alone
        original(self, env)

    return patch(program_class, "eval", eval_)


# --- 5. Retry on the clock ---------------------------------------------------------------------------------------


def install_retry_on_clock(clock: Any, on_retry: Callable[[str | None, float], None]) -> Undo:
    """Retry intervals sleep on `clock`; `on_retry(execution_arn, seconds)` records each interval.

    RetrierDecl._eval_body calls `time.sleep(interval)` through its module's `time`; we give that module a `time`
    whose sleep goes to the clock. The retrier has no env at hand inside time.sleep, so the environment is taken
    from a wrapper around _eval_body.
    """
    seam = "retrier_decl.time.sleep"
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    module_time = require_attr(seam, retrier_decl, "time")
    if module_time is not _time:
        raise SeamMoved(seam, "retrier_decl.time is not the time module")
    retrier_class = require_attr(seam, retrier_decl, "RetrierDecl")
    original_body = require_attr(seam, retrier_class, "_eval_body")
    require_params(seam, original_body, ["self", "env"])
    if "time.sleep(" not in inspect.getsource(original_body):
        raise SeamMoved(seam, "RetrierDecl._eval_body no longer calls time.sleep")

    current_env = threading.local()

    class _ClockTime:
        """Stands in for the `time` module inside retrier_decl only."""

        def __getattr__(self, name: str) -> Any:
            return getattr(_time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            env = getattr(current_env, "env", None)
            on_retry(execution_arn_of(env), seconds)
            if is_virtual(clock) and env is not None:
                _sleep_until_deadline(clock, env, seconds)
            else:
                clock.sleep(seconds)

    def _eval_body(self: Any, env: Any) -> None:
        current_env.env = env
        try:
            original_body(self, env)
        finally:
            current_env.env = None

    undo_time = patch(retrier_decl, "time", _ClockTime())
    undo_body = patch(retrier_class, "_eval_body", _eval_body)
    return undo_all(undo_time, undo_body)


# --- 6. Timestamps on the clock ----------------------------------------------------------------------------------

# Modules whose `datetime.datetime.now(...)` stamps something an execution can see or report:
#   parser.models           Execution start_date      -> $states.context.Execution.StartTime, describe startDate
#   component.state.state   State.EnteredTime         -> $states.context.State.EnteredTime
#   parser.backend.execution stop_date                -> describe stopDate
_TIMESTAMP_MODULES = (
    "moto.stepfunctions.parser.models",
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.backend.execution",
)


def install_timestamps_on_clock(clock: Any) -> Undo:
    """Make the timestamps an execution sees agree with `$millis()`: both come from `clock`.

    Without this, StartTime/EnteredTime come from real time while $millis() is virtual, so a deadline computed
    from StartTime would be off by all the virtual time slept before the execution started.
    History event timestamps stay real (moto stamps them elsewhere); they only order events.
    """
    seam = "parser datetime.now (StartTime/EnteredTime)"
    import importlib

    class _ClockDatetime(_datetime.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _datetime.datetime:  # type: ignore[override]
            return _datetime.datetime.fromtimestamp(clock.now(), tz)

    class _ClockDatetimeModule:
        """Stands in for the `datetime` module inside the modules above only."""

        datetime = _ClockDatetime

        def __getattr__(self, name: str) -> Any:
            return getattr(_datetime, name)

    undos = []
    for module_name in _TIMESTAMP_MODULES:
        module = importlib.import_module(module_name)
        if require_attr(seam, module, "datetime") is not _datetime:
            raise SeamMoved(seam, f"{module_name}.datetime is not the datetime module")
        if "datetime.datetime.now(" not in inspect.getsource(module):
            raise SeamMoved(seam, f"{module_name} no longer calls datetime.datetime.now(")
        undos.append(patch(module, "datetime", _ClockDatetimeModule()))
    return undo_all(*undos)


# --- 21. CloudWatch datapoints on the clock ----------------------------------------------------------------------


def install_metric_time_on_clock(clock: Any) -> Undo:
    """A PutMetricData datapoint without a Timestamp gets the engine clock's time, as AWS stamps it when it arrives.

    moto's CloudWatch stamps it (and its alarm state changes) with `utcnow()`, real time; on a VirtualClock the
    datapoint would then lie outside the execution's own time, and GetMetricStatistics over the execution's
    window would miss it. moto.cloudwatch.models imports utcnow by name (naive UTC): that name is replaced.
    """
    seam = "cloudwatch.models.utcnow (datapoint time)"
    from moto.cloudwatch import models as cloudwatch_models
    from moto.core import utils as core_utils

    original = require_attr(seam, cloudwatch_models, "utcnow")
    if original is not require_attr(seam, core_utils, "utcnow"):
        raise SeamMoved(seam, "moto.cloudwatch.models.utcnow is not moto.core.utils.utcnow")
    datum_class = require_attr(seam, cloudwatch_models, "MetricDatumBase")
    if "self.timestamp = timestamp or utcnow()" not in inspect.getsource(datum_class.__init__):
        raise SeamMoved(seam, "MetricDatumBase.__init__ no longer stamps `timestamp or utcnow()`")

    def utcnow() -> _datetime.datetime:
        return _datetime.datetime.fromtimestamp(clock.now(), _datetime.UTC).replace(tzinfo=None)

    return patch(cloudwatch_models, "utcnow", utcnow)
