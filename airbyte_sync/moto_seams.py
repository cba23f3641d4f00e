"""Every moto internal the local engine touches, in one place.

moto 5.2.5 runs Amazon States Language faithfully, but a few of its internals must be replaced to run *this*
product locally: it ships no JSONata evaluator, it runs Lambda handlers in Docker, it waits in real time and it
has no hook for "an execution ended". Each replacement below is installed by one function that checks the
internal is still where (and what) we expect, and returns an `undo` callable. tests/engine/test_moto_seams.py
holds one test per seam: if a moto upgrade moves an internal, that test fails naming the seam and the pinned
version, instead of the engine misbehaving somewhere downstream.

Seams (all process-global while installed: one LocalEngine at a time):
  1. JSONata evaluation      moto...asl.jsonata.jsonata._eval_jsonata        -> jsonata-python, $millis/$now on the clock
     1b. parse once          StringJSONata/StringVariableSample._eval_body   -> each expression parsed once,
                             variables passed as bindings (moto splices them in as JSON literals every time)
  2. JSONata string escaping encode_jsonata_variable_declarations (3 modules) -> JSON-encodes strings (moto does not)
  3. Lambda invocation       moto.awslambda.models.LambdaFunction._invoke_lambda -> a caller-supplied in-process runner
  4. Wait on the clock       WaitFunction._wait_interval                    -> clock.sleep
  5. Retry on the clock      retrier_decl.time (its time.sleep)              -> clock.sleep
  6. Timestamps on the clock datetime in parser.models / state.state / backend.execution -> clock.now()
                             ($states.context.Execution.StartTime, State.EnteredTime, start/stop dates)
  7. TimeoutSeconds on the clock  Program.eval (real-time thread join)      -> deadline checked at Wait/Retry on a
                             VirtualClock (a RealClock keeps moto's own real-time timeout)
  8. Execution ended hook    BaseExecutionWorkerCommunication.terminated   -> callback(execution) after moto's own
  9. Task clients reused     boto_client_for in lambda_eval_utils / state_task_service_sfn -> one boto3 client per
                             (service, region) instead of a new one for every Task (performance only)
 10. startExecution casing  StateTaskServiceSfn._normalise_parameters/_normalise_response -> the Arguments' AWS
                             names (StateMachineArn, Input, Name) to boto's and boto's result back (ExecutionArn,
                             Output, Status...): moto 5.2.5 ships these as no-ops, so continue-as-new never starts
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


def _require_source(seam: str, func: Any, fragments: tuple[str, ...]) -> None:
    source = inspect.getsource(func)
    for fragment in fragments:
        if fragment not in source:
            raise SeamMoved(seam, f"{func.__qualname__} no longer contains {fragment!r}")


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

def install_jsonata_evaluator(clock: Any, parse_once: bool = True) -> Undo:
    """Evaluate `{% %}` expressions with jsonata-python; `$millis()` and `$now()` read `clock`.

    moto composes each expression as one string `($states := {...}; $var := ...; <expr>)` and hands it to
    `_eval_jsonata(expression) -> value`. Errors are re-raised as moto's JSONataException, as its JVM bridge does
    (moto then fails the execution with States.Runtime; AWS would say States.QueryEvaluationError).

    parse_once (default) also installs seam 1b (see install_jsonata_parse_once): same results, without re-parsing
    every expression together with all the variables on every evaluation.
    """
    undo_evaluator = _install_jsonata_evaluator(clock)
    if not parse_once:
        return undo_evaluator
    try:
        undo_parse_once = install_jsonata_parse_once(clock)
    except BaseException:
        undo_evaluator()
        raise
    return lambda: (undo_parse_once(), undo_evaluator())


def _clock_functions(clock: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """$millis() and $now() for one evaluation: one timestamp per evaluation, as JSONata specifies."""
    from jsonata.functions import Functions

    millis = int(clock.now() * 1000)
    return (lambda: millis), (
        lambda picture=None, timezone=None: Functions.datetime_from_millis(millis, picture, timezone))


def _install_jsonata_evaluator(clock: Any) -> Undo:
    seam = "jsonata._eval_jsonata"
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    _require_attr(seam, moto_jsonata, "_eval_jsonata")
    _require_attr(seam, moto_jsonata, "eval_jsonata_expression")
    jsonata_exception = _require_attr(seam, moto_jsonata, "JSONataException")

    import jsonata

    def evaluate(expression: str) -> Any:
        millis, now = _clock_functions(clock)
        try:
            compiled = jsonata.Jsonata(expression)
            compiled.register_lambda("millis", millis)
            compiled.register_lambda("now", now)
            return compiled.evaluate(None)
        except Exception as error:  # jsonata-python raises JException (syntax, types) and plain Python errors
            raise jsonata_exception("UNKNOWN", str(error)) from error

    return _patch(moto_jsonata, "_eval_jsonata", evaluate)


# --- 1b. JSONata: parse each expression once ------------------------------------------------------------------

def install_jsonata_parse_once(clock: Any) -> Undo:
    """Evaluate `{% %}` expressions from a parse cache, with the variables passed as bindings.

    moto's StringJSONata._eval_body (and StringVariableSample's) writes $states and every variable into the text as
    JSON literals, `($states:={...};$inputs:={...};...;<expr>)`, so jsonata-python re-parses the whole execution
    state on every evaluation: most of the local engine's time in a long poll. This replacement keeps moto's
    semantics and only changes how the values reach the evaluator:
      - the same bindings moto would declare ($states, or the parts of it the expression references, then the
        variable store's outer and inner scope, in that order), JSON-encoded and decoded again so that each
        evaluation gets fresh values with the numbers a JSONata literal would give (5.0 -> 5) and null stays null;
      - the expression `(<expr>)` parsed once (cache by text); each evaluation runs on a shallow copy (jsonata-python
        keeps per-evaluation state on the instance), with `$millis()`/`$now()` on `clock` bound where moto's
        evaluator registers them (so a user variable of that name still wins);
      - anything else goes through moto's own path, unchanged: expressions that use the intrinsic functions moto
        declares in text ($partition, $range, $hash, $randomSeeded, $uuid, $parse) or `$eval`, an undefined or null
        result (moto re-evaluates it to decide between null and undefined), and any error (so error messages and
        history events are exactly moto's).
    """
    seam = "StringJSONata._eval_body (parse once)"
    import copy
    import json

    import jsonata
    from jsonata.utils import Utils
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.eval import states as states_module
    from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module

    string_jsonata = _require_attr(seam, string_expression, "StringJSONata")
    variable_sample = _require_attr(seam, string_expression, "StringVariableSample")
    original_jsonata_body = _require_attr(seam, string_jsonata, "_eval_body")
    original_sample_body = _require_attr(seam, variable_sample, "_eval_body")
    _require_params(seam, original_jsonata_body, ["self", "env"])
    _require_params(seam, original_sample_body, ["self", "env"])
    extract_references = _require_attr(seam, string_expression, "extract_jsonata_variable_references")
    intrinsic_declarations = _require_attr(seam, string_expression, "get_intrinsic_functions_declarations")
    to_json_str = _require_attr(seam, string_expression, "to_json_str")
    query_language_mode = _require_attr(seam, string_expression, "QueryLanguageMode")
    # What the replacement reproduces, read from moto's source: if any of it changes, re-check this seam.
    _require_source(seam, original_jsonata_body, (
        "extract_jsonata_variable_references(self.expression)", "get_intrinsic_functions_declarations(",
        "env.states.to_variable_declarations(", "env.variable_store.get_variable_declarations()",
        "functions_variable_declarations,", "states_variable_declarations,", "variable_declarations,",
        "validate_jsonata_expression_output(", "env.stack.append(result)"))
    _require_source(seam, original_sample_body, (
        "extract_jsonata_variable_references(self.expression)", "QueryLanguageMode.JSONata",
        "env.states.to_variable_declarations(", "env.variable_store.get_variable_declarations()",
        "env.stack.append(result)"))
    states_class = _require_attr(seam, states_module, "States")
    states_prefix = _require_attr(seam, states_module, "_STATES_PREFIX")
    sub_state_prefixes = {
        "input": _require_attr(seam, states_module, "_STATES_INPUT_PREFIX"),
        "context": _require_attr(seam, states_module, "_STATES_CONTEXT_PREFIX"),
        "result": _require_attr(seam, states_module, "_STATES_RESULT_PREFIX"),
        "errorOutput": _require_attr(seam, states_module, "_STATES_ERROR_OUTPUT_PREFIX"),
    }
    _require_source(seam, states_class.to_variable_declarations, (
        "bindings={_STATES_PREFIX: self._states_data}", "candidate_sub_states", "_STATES_INPUT_PREFIX",
        "_STATES_CONTEXT_PREFIX", "_STATES_RESULT_PREFIX", "_STATES_ERROR_OUTPUT_PREFIX",
        "bindings={_STATES_PREFIX: sub_states}"))
    store_class = _require_attr(seam, variable_store_module, "VariableStore")
    _require_source(seam, store_class.get_variable_declarations, ("self._outer_scope", "self._inner_scope"))
    _require_source(seam, store_class._to_variable_declarations, ('f"${key}"',))

    def number(text: str) -> Any:  # as jsonata-python's tokenizer reads a number literal
        return Utils.convert_number(float(text))

    def not_a_literal(text: str) -> Any:  # NaN/Infinity: not JSONata literals; let moto's path fail as it does
        raise ValueError(text)

    # expression text -> (references, parsed program), or None: use moto's own path
    plans: dict[str, tuple[set[str], Any] | None] = {}

    def plan(expression: str) -> tuple[set[str], Any] | None:
        try:
            return plans[expression]
        except KeyError:
            pass
        found = None
        try:
            references = extract_references(expression)
            if not intrinsic_declarations(references) and not any(
                    reference == "$eval" or reference.startswith("$eval.") for reference in references):
                found = (references, jsonata.Jsonata("(" + expression + ")"))
        except Exception:  # an illegal reference or a syntax error: moto's path reports it its own way
            found = None
        plans[expression] = found
        return found

    def bindings_for(env: Any, references: set[str], with_states: bool) -> dict[str, Any]:
        declared: dict[str, Any] = {}
        if with_states:
            states_data = env.states._states_data
            if not references or states_prefix in references:
                declared["states"] = states_data
            else:
                candidates, sub_states = dict(sub_state_prefixes), {}
                for reference in references:
                    if not candidates:
                        break
                    for key, prefix in candidates.items():
                        if reference.startswith(prefix):
                            sub_states[key] = states_data[key]
                            del candidates[key]
                            break
                declared["states"] = sub_states
        store = env.variable_store
        declared.update(store._outer_scope)
        declared.update(store._inner_scope)
        fresh = json.loads(to_json_str(declared, separators=(",", ":")), parse_int=number, parse_float=number,
                           parse_constant=not_a_literal)
        # A binding of None reads as undefined in jsonata-python; a declared `$x := null` is null.
        return {name: Utils.NULL_VALUE if value is None else value for name, value in fresh.items()}

    def evaluate(env: Any, planned: tuple[set[str], Any], with_states: bool) -> Any:
        references, program = planned
        bindings = bindings_for(env, references, with_states)
        instance = copy.copy(program)  # evaluate() keeps state on the instance; the parsed tree is shared
        instance.environment = instance.create_frame(program.environment)
        millis, now = _clock_functions(clock)
        instance.register_lambda("millis", millis)
        instance.register_lambda("now", now)
        return instance.evaluate(None, bindings)

    def parsed_once(original_body: Callable[..., None], with_states: Callable[[Any], bool]) -> Callable[..., None]:
        """An `_eval_body` that evaluates a cached parse; anything unusual falls back to moto's own body."""
        def body(self: Any, env: Any) -> None:
            planned = plan(self.expression)
            if planned is not None:
                try:
                    result = evaluate(env, planned, with_states=with_states(self))
                except Exception:
                    result = None
                # A string or any other defined value passes moto's output validation as is.
                if result is not None:
                    env.stack.append(result)
                    return
            original_body(self, env)
        return body

    jsonata_body = parsed_once(original_jsonata_body, lambda component: True)
    sample_body = parsed_once(original_sample_body,
                              lambda component: component.query_language_mode == query_language_mode.JSONata)

    undo_jsonata = _patch(string_jsonata, "_eval_body", jsonata_body)
    undo_sample = _patch(variable_sample, "_eval_body", sample_body)
    return lambda: (undo_sample(), undo_jsonata())


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


# --- 9. Task clients reused -------------------------------------------------------------------------------------

# Modules whose Tasks call `boto_client_for(region, service, state_credentials)` (imported by name): the Lambda
# integration (every getJob poll) and the Step Functions one (continue-as-new).
_TASK_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
)


def install_task_client_cache() -> Undo:
    """Reuse one boto3 client per (service, region) for the Tasks' service calls.

    moto builds a fresh boto3 client (fixed fake credentials, no retries) for every Lambda Task; building one costs
    more than the invoke itself. The client depends only on region, service and where moto is served
    (in-process stubber or a server port), so a cached client is the same client. Cleared on undo.
    """
    seam = "boto_client_for (Task clients)"
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    original = _require_attr(seam, boto_client_module, "boto_client_for")
    _require_params(seam, original, ["region", "service", "state_credentials"])
    source = inspect.getsource(original)
    for fragment in ('aws_access_key_id="ak"', "botocore_stubber.enabled", "moto_server_port()"):
        if fragment not in source:
            raise SeamMoved(seam, f"boto_client_for no longer contains {fragment!r}")
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    clients: dict[tuple[str, str, bool, Any], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        intercepting = botocore_stubber.enabled
        key = (region, service, intercepting, None if intercepting else moto_server_port())
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region=region, service=service,
                                                     state_credentials=state_credentials)
        return client

    undos = []
    for module_name in _TASK_CLIENT_MODULES:
        module = importlib.import_module(module_name)
        if _require_attr(seam, module, "boto_client_for") is not original:
            raise SeamMoved(seam, f"{module_name}.boto_client_for is not asl.utils.boto_client.boto_client_for")
        undos.append(_patch(module, "boto_client_for", boto_client_for))

    def undo() -> None:
        for each in reversed(undos):
            each()
        clients.clear()

    return undo


# --- 10. startExecution casing -----------------------------------------------------------------------------------

def install_sfn_integration_casing() -> Undo:
    """The Step Functions integration (`arn:aws:states:::states:startExecution[.sync[:2]]`) speaks AWS's casing.

    A Task writes `{"StateMachineArn", "Input", "Name"}` and reads `$states.result.Output`; boto3 wants
    `stateMachineArn`/`input`/`name` and answers `executionArn`/`output`/`status`. moto 5.2.5 keeps the mapping
    helpers (StateTaskService._to_boto_request/_from_boto_response, from LocalStack) but its
    _normalise_parameters/_normalise_response are `pass`, so boto3 rejects the call (KeyError 'StateMachineArn',
    reported as States.Runtime) and continue-as-new never starts. For this integration only, the two hooks map
    names through the botocore operation model, as LocalStack does.
    """
    seam = "StateTaskServiceSfn._normalise_parameters/_normalise_response"
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service as service_module,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_module,
    )

    base_class = _require_attr(seam, service_module, "StateTaskService")
    sfn_class = _require_attr(seam, sfn_module, "StateTaskServiceSfn")
    camel_to_snake_case = _require_attr(seam, service_module, "camel_to_snake_case")
    for name in ("_to_boto_request", "_from_boto_response", "_get_boto_service_name", "_get_boto_service_action"):
        _require_attr(seam, base_class, name)
    base_parameters = _require_attr(seam, base_class, "_normalise_parameters")
    base_response = _require_attr(seam, base_class, "_normalise_response")
    _require_params(seam, base_parameters, ["self", "parameters", "boto_service_name", "service_action_name"])
    _require_params(seam, base_response, ["self", "response", "boto_service_name", "service_action_name"])
    own_parameters = _require_attr(seam, sfn_class, "_normalise_parameters")
    _require_source(seam, own_parameters, ("super()._normalise_parameters(",))
    if "_normalise_response" in sfn_class.__dict__:
        raise SeamMoved(seam, "StateTaskServiceSfn now defines _normalise_response itself")
    _require_source(seam, _require_attr(seam, sfn_module.StateTaskServiceSfn, "_build_sync2_resolver"),
                    ('submission_output["ExecutionArn"]', 'service_action_name="describe_execution"'))

    service_models: dict[str, Any] = {}
    models_lock = threading.Lock()

    def operation_model(task: Any, boto_service_name: str | None, service_action_name: str | None) -> Any:
        service = task._get_boto_service_name(boto_service_name=boto_service_name)
        action = task._get_boto_service_action(service_action_name=service_action_name)
        with models_lock:
            model = service_models.get(service)
            if model is None:
                model = service_models[service] = botocore.session.get_session().get_service_model(service)
        for name in model.operation_names:
            if camel_to_snake_case(name) == action:
                return model.operation_model(name)
        return None

    def _normalise_parameters(self: Any, parameters: dict, boto_service_name: str | None = None,
                              service_action_name: str | None = None) -> None:
        own_parameters(self, parameters, boto_service_name=boto_service_name,
                       service_action_name=service_action_name)
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)

    def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                            service_action_name: str | None = None) -> None:
        operation = operation_model(self, boto_service_name, service_action_name)
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)

    undo_parameters = _patch(sfn_class, "_normalise_parameters", _normalise_parameters)
    sfn_class._normalise_response = _normalise_response

    def undo() -> None:
        if sfn_class.__dict__.get("_normalise_response") is _normalise_response:
            del sfn_class._normalise_response
        undo_parameters()

    return undo


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
    "install_jsonata_parse_once",
    "install_jsonata_string_escaping",
    "install_lambda_invoker",
    "install_wait_on_clock",
    "install_program_timeout_on_clock",
    "install_retry_on_clock",
    "install_timestamps_on_clock",
    "install_execution_ended_hook",
    "install_task_client_cache",
    "install_sfn_integration_casing",
]
