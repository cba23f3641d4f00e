"""Every moto internal the local engine touches, in one place.

moto 5.2.5 runs Amazon States Language faithfully, but a few of its internals must be replaced to run *this*
product locally: it ships no JSONata evaluator, it runs Lambda handlers in Docker, it waits in real time and it
has no hook for "an execution ended". Each replacement below is installed by one function that checks the
internal is still where (and what) we expect, and returns an `undo` callable. tests/engine/test_moto_seams.py
holds one test per seam: if a moto upgrade moves an internal, that test fails naming the seam and the pinned
version, instead of the engine misbehaving somewhere downstream.

Seams (all process-global while installed: one LocalEngine at a time):
  1. JSONata evaluation      moto...asl.jsonata.jsonata._eval_jsonata        -> jsonata-python, $millis/$now on the clock
  2. JSONata string escaping encode_jsonata_variable_declarations (3 modules) -> JSON-encodes strings (moto does not)
  3. Lambda invocation       moto.awslambda.models.LambdaFunction._invoke_lambda -> a caller-supplied in-process runner
  4. Wait on the clock       WaitFunction._wait_interval                    -> clock.sleep
  5. Retry on the clock      retrier_decl.time (its time.sleep)              -> clock.sleep
  6. Timestamps on the clock datetime in parser.models / state.state / backend.execution -> clock.now()
                             ($states.context.Execution.StartTime, State.EnteredTime, start/stop dates)
  7. TimeoutSeconds on the clock  Program.eval (real-time thread join)      -> deadline checked at Wait/Retry on a
                             VirtualClock (a RealClock keeps moto's own real-time timeout)
  8. Execution ended hook    BaseExecutionWorkerCommunication.terminated   -> callback(execution) after moto's own
"""
from __future__ import annotations

import datetime as _datetime
import inspect
import threading
import time as _time
from typing import Any, Callable

import moto

PINNED_MOTO_VERSION = "5.2.5"

Undo = Callable[[], None]


class SeamMoved(RuntimeError):
    """A moto internal the local engine relies on is missing or changed."""

    def __init__(self, seam: str, detail: str):
        super().__init__(
            f"moto seam '{seam}' moved: {detail}. The local engine is written against moto=={PINNED_MOTO_VERSION} "
            f"(installed: {moto.__version__}); re-check airbyte_sync/moto_seams.py against the new moto source."
        )
        self.seam = seam


def _require_attr(seam: str, owner: Any, name: str) -> Any:
    if not hasattr(owner, name):
        raise SeamMoved(seam, f"{getattr(owner, '__name__', owner)!r} has no attribute {name!r}")
    return getattr(owner, name)


def _require_params(seam: str, func: Any, expected: list[str]) -> None:
    actual = list(inspect.signature(func).parameters)
    if actual != expected:
        raise SeamMoved(seam, f"{func.__qualname__} takes {actual}, expected {expected}")


def _patch(owner: Any, name: str, replacement: Any) -> Undo:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

    def undo() -> None:
        setattr(owner, name, original)

    setattr(owner, name, replacement)
    return undo


def _execution_arn_of(env: Any) -> str | None:
    """The execution ARN an evaluation environment (or a Map/Parallel frame of it) belongs to."""
    try:
        return env.states.context_object.context_object_data["Execution"]["Id"]
    except (AttributeError, KeyError, TypeError):
        return None


# --- 1. JSONata evaluation ---------------------------------------------------------------------------------------

def install_jsonata_evaluator(clock: Any) -> Undo:
    """Evaluate `{% %}` expressions with jsonata-python; `$millis()` and `$now()` read `clock`.

    moto composes each expression as one string `($states := {...}; $var := ...; <expr>)` and hands it to
    `_eval_jsonata(expression) -> value`. Errors are re-raised as moto's JSONataException, as its JVM bridge does
    (moto then fails the execution with States.Runtime; AWS would say States.QueryEvaluationError).
    """
    seam = "jsonata._eval_jsonata"
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    _require_attr(seam, moto_jsonata, "_eval_jsonata")
    _require_attr(seam, moto_jsonata, "eval_jsonata_expression")
    jsonata_exception = _require_attr(seam, moto_jsonata, "JSONataException")

    import jsonata
    from jsonata.functions import Functions

    def evaluate(expression: str) -> Any:
        millis = int(clock.now() * 1000)  # one timestamp per evaluation, as JSONata specifies
        try:
            compiled = jsonata.Jsonata(expression)
            compiled.register_lambda("millis", lambda: millis)
            compiled.register_lambda(
                "now", lambda picture=None, timezone=None: Functions.datetime_from_millis(millis, picture, timezone)
            )
            return compiled.evaluate(None)
        except Exception as error:  # jsonata-python raises JException (syntax, types) and plain Python errors
            raise jsonata_exception("UNKNOWN", str(error)) from error

    return _patch(moto_jsonata, "_eval_jsonata", evaluate)


# --- 2. JSONata string escaping ----------------------------------------------------------------------------------

# moto writes string variables as f'"{value}"': a quote, backslash or newline in $states.input or an Assign'd
# variable breaks the whole expression. The modules import the function by name, so each copy is replaced.
_VARIABLE_ENCODER_MODULES = (
    "moto.stepfunctions.parser.asl.jsonata.jsonata",
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.variable_store",
)


def install_jsonata_string_escaping() -> Undo:
    seam = "jsonata.encode_jsonata_variable_declarations"
    import importlib

    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    def encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
        # A JSON document is a JSONata literal; strings included.
        return "".join(
            f"{reference}:={to_json_str(value, separators=(',', ':'))};" for reference, value in bindings.items()
        )

    undos = []
    for module_name in _VARIABLE_ENCODER_MODULES:
        module = importlib.import_module(module_name)
        original = _require_attr(seam, module, "encode_jsonata_variable_declarations")
        _require_params(seam, original, ["bindings"])
        undos.append(_patch(module, "encode_jsonata_variable_declarations", encode_jsonata_variable_declarations))
    return lambda: [undo() for undo in reversed(undos)]


# --- 3. Lambda invocation ----------------------------------------------------------------------------------------

LambdaInvoker = Callable[[Any, Any], "tuple[str, bool, str]"]


def install_lambda_invoker(invoke: LambdaInvoker) -> Undo:
    """Route every Lambda invoke in moto (from a state machine, boto3 or a rule target) to `invoke(function, event)`.

    moto's LambdaFunction.invoke json-decodes the request body and calls `_invoke_lambda(event)`, expecting
    `(payload_json_str, errored, logs)`; errored=True makes the response carry X-Amz-Function-Error, which Step
    Functions turns into an error named after the payload's errorType.
    """
    seam = "awslambda.LambdaFunction._invoke_lambda"
    from moto.awslambda import models as lambda_models

    function_class = _require_attr(seam, lambda_models, "LambdaFunction")
    original = _require_attr(seam, function_class, "_invoke_lambda")
    _require_params(seam, original, ["self", "event"])
    for attribute in ("function_name", "handler", "environment_vars", "function_arn", "timeout", "memory_size"):
        if attribute not in inspect.getsource(function_class.__init__):
            raise SeamMoved(seam, f"LambdaFunction.__init__ no longer sets {attribute!r}")

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return invoke(self, event)

    return _patch(function_class, "_invoke_lambda", _invoke_lambda)


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
    found = _deadlines.get(_execution_arn_of(env))
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

    wait_class = _require_attr(seam, wait_function, "WaitFunction")
    original = _require_attr(seam, wait_class, "_wait_interval")
    _require_params(seam, original, ["self", "env", "wait_seconds"])

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        on_wait(_execution_arn_of(env), wait_seconds)
        if _is_virtual(clock):
            _sleep_until_deadline(clock, env, wait_seconds)
        elif wait_seconds > 0:
            # Real time: keep moto's interruptible wait (stop_execution wakes it up).
            original(self, env, wait_seconds)

    return _patch(wait_class, "_wait_interval", _wait_interval)


def install_program_timeout_on_clock(clock: Any) -> Undo:
    """On a VirtualClock, the machine's TimeoutSeconds counts virtual seconds.

    moto enforces TimeoutSeconds with a real-time thread join in Program.eval. On a VirtualClock we record the
    deadline instead, drop the real-time one for this execution's (freshly parsed) program, and let the Wait/Retry
    seams time the execution out when virtual time crosses it. Time spent inside handlers (their own
    clock.sleep) is only noticed at the next Wait or Retry.
    """
    seam = "Program.eval"
    from moto.stepfunctions.parser.asl.component.program import program as program_module

    program_class = _require_attr(seam, program_module, "Program")
    original = _require_attr(seam, program_class, "eval")
    _require_params(seam, original, ["self", "env"])
    if "timeout_seconds" not in inspect.getsource(original):
        raise SeamMoved(seam, "Program.eval no longer reads self.timeout_seconds")

    def eval_(self: Any, env: Any) -> None:
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        execution_arn = _execution_arn_of(env)
        if timeout is not None and _is_virtual(clock) and execution_arn and not env.is_frame():
            _deadlines.set(execution_arn, clock.now() + timeout, env)
            self.timeout_seconds = None  # this Program instance belongs to this execution alone
        original(self, env)

    return _patch(program_class, "eval", eval_)


# --- 5. Retry on the clock ---------------------------------------------------------------------------------------

def install_retry_on_clock(clock: Any, on_retry: Callable[[str | None, float], None]) -> Undo:
    """Retry intervals sleep on `clock`; `on_retry(execution_arn, seconds)` records each interval.

    RetrierDecl._eval_body calls `time.sleep(interval)` through its module's `time`; we give that module a `time`
    whose sleep goes to the clock. The retrier has no env at hand inside time.sleep, so the environment is taken
    from a wrapper around _eval_body.
    """
    seam = "retrier_decl.time.sleep"
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    module_time = _require_attr(seam, retrier_decl, "time")
    if module_time is not _time:
        raise SeamMoved(seam, "retrier_decl.time is not the time module")
    retrier_class = _require_attr(seam, retrier_decl, "RetrierDecl")
    original_body = _require_attr(seam, retrier_class, "_eval_body")
    _require_params(seam, original_body, ["self", "env"])
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
            on_retry(_execution_arn_of(env), seconds)
            if _is_virtual(clock) and env is not None:
                _sleep_until_deadline(clock, env, seconds)
            else:
                clock.sleep(seconds)

    def _eval_body(self: Any, env: Any) -> None:
        current_env.env = env
        try:
            original_body(self, env)
        finally:
            current_env.env = None

    undo_time = _patch(retrier_decl, "time", _ClockTime())
    undo_body = _patch(retrier_class, "_eval_body", _eval_body)
    return lambda: (undo_body(), undo_time())


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
        if _require_attr(seam, module, "datetime") is not _datetime:
            raise SeamMoved(seam, f"{module_name}.datetime is not the datetime module")
        if "datetime.datetime.now(" not in inspect.getsource(module):
            raise SeamMoved(seam, f"{module_name} no longer calls datetime.datetime.now(")
        undos.append(_patch(module, "datetime", _ClockDatetimeModule()))
    return lambda: [undo() for undo in reversed(undos)]


# --- 8. Execution ended hook -------------------------------------------------------------------------------------

def install_execution_ended_hook(on_ended: Callable[[Any], None]) -> Undo:
    """Call `on_ended(execution)` in the execution's worker thread once moto has set its final status.

    `execution` is moto's parser Execution: exec_arn, state_machine.arn, name, exec_status (ExecutionStatus),
    start_date, stop_date, input_data, output, error, cause.
    """
    seam = "BaseExecutionWorkerCommunication.terminated"
    from moto.stepfunctions.parser.backend import execution as execution_module

    communication_class = _require_attr(seam, execution_module, "BaseExecutionWorkerCommunication")
    original = _require_attr(seam, communication_class, "terminated")
    _require_params(seam, original, ["self"])

    def terminated(self: Any) -> None:
        original(self)
        on_ended(self.execution)

    return _patch(communication_class, "terminated", terminated)


# --- helpers -----------------------------------------------------------------------------------------------------

def _is_virtual(clock: Any) -> bool:
    from airbyte_sync.clock import RealClock

    return not isinstance(clock, RealClock)


def check_moto_version() -> None:
    """Fail early (and clearly) when moto is not the version these seams were written against."""
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise SeamMoved("moto version", f"installed moto is {moto.__version__}")


__all__ = [
    "PINNED_MOTO_VERSION",
    "SeamMoved",
    "check_moto_version",
    "install_jsonata_evaluator",
    "install_jsonata_string_escaping",
    "install_lambda_invoker",
    "install_wait_on_clock",
    "install_program_timeout_on_clock",
    "install_retry_on_clock",
    "install_timestamps_on_clock",
    "install_execution_ended_hook",
]
