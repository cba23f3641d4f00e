"""Runs Lambda handlers in this process, the way the Lambda runtime would call them.

The engine registers where each function's code lives (the SAM CodeUri); handler name, environment, timeout
and memory come from the moto LambdaFunction itself, so what runs is what the template (or create_function)
declared. Invocations are serialised by one lock: os.environ and sys.stdout are process-global.

Timeout: a handler that runs past its function's Timeout fails the invocation as Lambda does, with the payload
`{"errorMessage": "RequestId: <id> Error: Task timed out after <Timeout>.00 seconds", "errorType": "Sandbox.Timedout"}`
(a Task names the error after errorType: `Sandbox.Timedout`). Time is the engine clock (local_tools.engine.stopwatch:
real time plus, on a VirtualClock, the virtual time the handler slept), and `context.get_remaining_time_in_millis()`
counts down on the same clock. A handler in this process cannot be killed: it runs to its end and the timeout is
reported afterwards, so what it did after its deadline (an HTTP call, a log line) did happen locally, where on AWS it
would have been cut off. The time past the deadline is credited back to the calling thread, so the Task that invoked
the function sees it end at its Timeout, as on AWS.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import io
import json
import logging
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_tools.clock import RealClock
from local_tools.engine.stopwatch import Stopwatch, record_virtual_sleep


@dataclass(frozen=True)
class FunctionSpec:
    """A function for LocalEngine.create_state_machine's direct route (no template)."""

    code_dir: str | os.PathLike
    handler: str  # "package.module.function"
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 30
    memory_size: int = 128


@dataclass
class LambdaContext:
    """The attributes and method handlers use from the Lambda context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    stopwatch: Stopwatch
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - self.stopwatch.elapsed()) * 1000))


@dataclass
class Invocation:
    """One handler call, kept by the runner (tests read `logs` to look for leaked secrets)."""

    function_name: str
    event: Any
    payload: str
    errored: bool
    logs: str


class _RoutedStream(io.TextIOBase):
    """A stdout/stderr stand-in that writes into the current invocation's buffer.

    Loggers created at import time (Powertools binds sys.stdout once) keep a reference to this object, so their
    lines still reach the right invocation's logs later on; outside an invocation they go to the real stream.
    Lines go to the invocation running now in this process, whichever runner it belongs to: a logger outlives
    the engine that imported it (logging.getLogger is process-wide, and Powertools reuses the handler it set
    up the first time), so a later engine's invocations still write through an earlier engine's stream.
    """

    def __init__(self, fallback: Any):
        self._fallback = fallback

    def write(self, text: str) -> int:
        buffer = InProcessLambdaRunner._active_buffer
        (buffer if buffer is not None else self._fallback).write(text)
        return len(text)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True


class InProcessLambdaRunner:
    """`invoke(function, event)` is what moto_seams.install_lambda_invoker calls for every Lambda invoke."""

    _active_buffer: io.StringIO | None = None  # the running invocation's log buffer (one at a time per process)

    def __init__(self, clock: Any, region: str, sleep_modules: tuple[str, ...] = ()):
        self.clock = clock
        self.region = region
        # Modules whose module-level `sleep` (and `monotonic`/`wall_time`) should follow the engine clock.
        self.sleep_modules = sleep_modules
        self.invocations: list[Invocation] = []
        self._code_dirs: dict[str, Path] = {}  # function name -> code directory
        self._lock = threading.Lock()
        self._added_sys_paths: list[str] = []
        self._patched_sleeps: dict[str, Any] = {}
        # Modules imported before this runner existed are not its to drop at close (a test module may hold them).
        self._modules_before = set(sys.modules)
        self._stdout = _RoutedStream(sys.__stdout__)
        self._stderr = _RoutedStream(sys.__stderr__)

    # --- registration ---------------------------------------------------------------------------------------

    def register(self, function_name: str, code_dir: str | os.PathLike) -> None:
        path = Path(code_dir).resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"code directory of Lambda function {function_name!r} not found: {path}")
        self._code_dirs[function_name] = path
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
            self._added_sys_paths.append(str(path))

    @property
    def logs(self) -> str:
        return "".join(invocation.logs for invocation in self.invocations)

    # --- the seam target ------------------------------------------------------------------------------------

    def invoke(self, function: Any, event: Any) -> tuple[str, bool, str]:
        """Call the function's handler; return (payload JSON, errored, logs) as moto's _invoke_lambda does."""
        if isinstance(event, (str, bytes)):  # moto passes the decoded body; "{}" when there was none
            event = json.loads(event or "{}")
        with self._lock:
            buffer = io.StringIO()
            InProcessLambdaRunner._active_buffer = buffer
            try:
                payload, errored = self._call_handler(function, event, buffer)
            finally:
                InProcessLambdaRunner._active_buffer = None
            logs = buffer.getvalue()
            self.invocations.append(Invocation(function.function_name, event, payload, errored, logs))
            return payload, errored, logs

    def _call_handler(self, function: Any, event: Any, buffer: io.StringIO) -> tuple[str, bool]:
        log_handler = logging.StreamHandler(buffer)
        log_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root_logger = logging.getLogger()
        root_logger.addHandler(log_handler)
        try:
            with (
                self._function_environment(function),
                contextlib.redirect_stdout(self._stdout),
                contextlib.redirect_stderr(self._stderr),
            ):
                context: LambdaContext | None = None
                try:
                    handler = self._load_handler(function)
                    context = self._context_for(function)  # the Timeout counts from here: imports are Lambda's Init
                    result = handler(event, context)
                except Exception as error:  # the Lambda runtime reports any exception as the function's error
                    traceback.print_exc(file=buffer)
                    outcome = json.dumps(_error_payload(error)), True
                else:
                    try:
                        outcome = json.dumps(result), False
                    except (TypeError, ValueError) as error:
                        outcome = (
                            json.dumps(
                                {
                                    "errorMessage": f"Unable to marshal response: {error}",
                                    "errorType": "Runtime.MarshalError",
                                    "stackTrace": [],
                                }
                            ),
                            True,
                        )
                if context is None:
                    return outcome
                overrun = context.stopwatch.elapsed() - context.timeout_seconds
                if overrun > 0:  # Lambda would have stopped it at its Timeout: whatever it returned never arrives
                    context.stopwatch.credit(overrun)
                    return self._timed_out(context, buffer), True
                return outcome
        finally:
            root_logger.removeHandler(log_handler)

    @contextlib.contextmanager
    def _function_environment(self, function: Any) -> Iterator[None]:
        variables = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "_HANDLER": function.handler or "",
            **{key: str(value) for key, value in (function.environment_vars or {}).items()},
        }
        saved = {key: os.environ.get(key) for key in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _load_handler(self, function: Any) -> Callable[[Any, Any], Any]:
        if function.function_name not in self._code_dirs:
            raise RuntimeError(
                f"Lambda function {function.function_name!r} has no local code registered with the engine "
                "(deploy it with local_tools.sam.deploy_sam_template or create it with "
                "LocalEngine.create_state_machine)"
            )
        module_name, _, attribute = (function.handler or "").rpartition(".")
        if not module_name:
            raise RuntimeError(f"Lambda function {function.function_name!r} has no 'module.function' handler")
        module = importlib.import_module(module_name)
        self._route_sleeps_to_clock()
        return getattr(module, attribute)

    def _route_sleeps_to_clock(self) -> None:
        """Put each sleep module's `sleep` on the engine clock, and its clocks too (`monotonic`, `wall_time`,
        when it has them): a retry budget or a token lifetime measured in real time while sleeps and Airbyte's
        clock are virtual would never run out (a cached token would outlive its expiry on the emulator)."""
        clock_functions = {"sleep": self._sleep, "monotonic": self.clock.now, "wall_time": self.clock.now}
        for module_name in self.sleep_modules:
            module = sys.modules.get(module_name)
            if module is not None and module_name not in self._patched_sleeps and hasattr(module, "sleep"):
                originals = {name: getattr(module, name) for name in clock_functions if hasattr(module, name)}
                self._patched_sleeps[module_name] = originals
                for name in originals:
                    setattr(module, name, clock_functions[name])

    def _context_for(self, function: Any) -> LambdaContext:
        return LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=int(function.memory_size),
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{function.function_name}",
            log_stream_name=f"local/{uuid.uuid4().hex}",
            timeout_seconds=float(function.timeout or 3),  # Lambda's default Timeout is 3 s
            stopwatch=Stopwatch(),
        )

    def _sleep(self, seconds: float) -> None:
        """A handler's sleep: on the engine clock, and charged to the invocation (and Task) running in this thread."""
        if not isinstance(self.clock, RealClock):
            record_virtual_sleep(seconds)
        self.clock.sleep(seconds)

    def _timed_out(self, context: LambdaContext, buffer: io.StringIO) -> str:
        """Lambda's payload (and log line) for an invocation stopped at the function's Timeout."""
        message = f"Task timed out after {context.timeout_seconds:.2f} seconds"
        stamp = (
            datetime.datetime.fromtimestamp(self.clock.now(), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        )
        buffer.write(f"{stamp} {context.aws_request_id} {message}\n")
        return json.dumps(
            {"errorMessage": f"RequestId: {context.aws_request_id} Error: {message}", "errorType": "Sandbox.Timedout"}
        )

    # --- teardown -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Undo sleep routing, drop the handlers' modules this runner imported (fresh module state per engine;
        modules already imported before it are left alone) and sys.path entries."""
        for module_name, originals in self._patched_sleeps.items():
            module = sys.modules.get(module_name)
            if module is not None:
                for name, original in originals.items():
                    setattr(module, name, original)
        self._patched_sleeps.clear()
        code_dirs = [str(path) for path in self._code_dirs.values()]
        for name, module in list(sys.modules.items()):
            if name in self._modules_before:
                continue
            # __file__ for modules and regular packages, __path__ for namespace packages (no __init__.py)
            locations = [getattr(module, "__file__", None) or "", *list(getattr(module, "__path__", []) or [])]
            if any(
                str(location).startswith(code_dir + os.sep) or str(location) == code_dir
                for location in locations
                for code_dir in code_dirs
            ):
                del sys.modules[name]
        for path in self._added_sys_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._added_sys_paths.clear()


def _error_payload(error: BaseException) -> dict[str, Any]:
    # errorType is the class __name__: Step Functions names the error after it (e.g. "Airbyte.AuthError").
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
