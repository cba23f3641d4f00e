"""JsonataBridge: one long-lived Node process evaluating JSONata with npm jsonata (see server.js for the protocol).

Started on the first evaluation, stopped by close(), started again if it died. Thread-safe: evaluations from
several threads (moto runs each execution in its own) take turns on the one process.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

JSONATA_VERSION = "2.0.6"  # what AWS Step Functions runs; pinned in requirements/package.json
_ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = _ROOT / ".tools" / "node_modules"  # `make tools` installs requirements/package.json here
_SERVER = Path(__file__).with_name("server.js")
_START_TIMEOUT = 30.0
_EVALUATION_TIMEOUT = 120.0  # an evaluation that takes this long is a hung process, not a slow expression


class Undefined:
    """The result of an expression that evaluates to nothing (JSON has no such value)."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED = Undefined()


class BridgeUnavailable(RuntimeError):
    """Node.js or the pinned npm jsonata is missing, or the Node process cannot run."""


class JsonataError(Exception):
    """The expression does not parse or fails while evaluating (JSONata's own error code and message)."""

    def __init__(self, code: str | None, message: str, position: int | None = None, token: str | None = None):
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message
        self.position = position
        self.token = token


class UnsupportedResult(Exception):
    """The expression evaluated to something JSON cannot hold (a function)."""

    def __init__(self, type_name: str):
        super().__init__(f"the expression evaluated to a {type_name}, which is not a JSON value")
        self.type_name = type_name


def _pipes(process: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes]]:
    """The Node process's stdin and stdout (it is always started with both piped)."""
    assert process.stdin is not None and process.stdout is not None
    return process.stdin, process.stdout


class JsonataBridge:
    def __init__(self, node_modules: Path = NODE_MODULES, node: str | None = None):
        self._package = Path(node_modules) / "jsonata"
        self._node = node
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._buffer = bytearray()
        self.starts = 0  # how many Node processes this bridge has started (a restart after a crash adds one)

    # --- lifecycle ------------------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise BridgeUnavailable, saying what to install, unless Node and npm jsonata 2.0.6 are in place."""
        self._node_executable()
        manifest = self._package / "package.json"
        if not manifest.is_file():
            raise BridgeUnavailable(
                f"npm jsonata {JSONATA_VERSION} is not installed (no {manifest}): the local engine evaluates "
                f"JSONata with it, as AWS Step Functions does. Run `make tools` (it runs npm ci in .tools)."
            )
        installed = json.loads(manifest.read_text()).get("version")
        if installed != JSONATA_VERSION:
            raise BridgeUnavailable(
                f"{manifest} is jsonata {installed}, not {JSONATA_VERSION} (what AWS Step Functions runs): "
                f"run `make tools` to install the pinned version."
            )

    def _node_executable(self) -> str:
        node = shutil.which(self._node or "node")
        if node is None:
            raise BridgeUnavailable(
                f"Node.js ({self._node or '`node` on PATH'}) is not there: the local engine evaluates JSONata with "
                f"npm jsonata {JSONATA_VERSION}, the JavaScript implementation AWS Step Functions runs. Install "
                "Node.js 18 or later, then run `make tools`."
            )
        return node

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> JsonataBridge:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _start(self) -> None:
        self.check()
        self._stderr = tempfile.TemporaryFile()
        self._buffer.clear()
        self._process = subprocess.Popen(
            [self._node_executable(), str(_SERVER), str(self._package)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=_SERVER.parent,
        )
        self.starts += 1
        try:
            ready = json.loads(self._read_line(_START_TIMEOUT))
        except EOFError:
            detail = self._stderr_tail()
            self._stop()
            raise BridgeUnavailable(
                f"the JSONata Node process exited at start; its stderr: {detail or '(empty)'}"
            ) from None
        if ready.get("jsonata") != JSONATA_VERSION:
            self._stop()
            raise BridgeUnavailable(f"the Node bridge loaded jsonata {ready.get('jsonata')}, not {JSONATA_VERSION}")

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stdin, stdout = _pipes(process)
            try:
                stdin.close()  # the server exits at end of input
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
            stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode("utf-8", "replace").strip()

    # --- evaluation -----------------------------------------------------------------------------------------

    def evaluate(
        self, expression: str, bindings: Mapping[str, Any] | None = None, now_millis: int | None = None
    ) -> Any:
        """The expression's value (UNDEFINED if it has none), with `bindings` as its variables (`$name`) and
        `now_millis` as the time of `$now()`/`$millis()` (the real time when None)."""
        encoded = None if bindings is None else json.dumps(bindings, separators=(",", ":"), allow_nan=False)
        return self.evaluate_encoded(expression, encoded, now_millis)

    def evaluate_encoded(self, expression: str, bindings_json: str | None, now_millis: int | None) -> Any:
        """evaluate() with the bindings already encoded as one JSON object (or None)."""
        request = (
            '{"expr":'
            + json.dumps(expression)
            + ',"now":'
            + ("null" if now_millis is None else str(int(now_millis)))
            + ',"bindings":'
            + ("null" if bindings_json is None else bindings_json)
            + "}\n"
        ).encode()
        with self._lock:
            response = self._exchange(request)
        if "value" in response:
            return response["value"]
        if response.get("undefined"):
            return UNDEFINED
        if "unsupported" in response:
            raise UnsupportedResult(response["unsupported"])
        error = response.get("error") or {"message": f"bridge: unexpected response {response!r}"}
        raise JsonataError(
            code=error.get("code"),
            message=error.get("message", ""),
            position=error.get("position"),
            token=error.get("token"),
        )

    def stats(self) -> dict[str, int]:
        """What the running Node process has done: {"parsed": expressions parsed, "evaluations": evaluations}."""
        with self._lock:
            return self._exchange(b'{"stats":true}\n')["value"]

    def _exchange(self, request: bytes) -> dict[str, Any]:
        """Send one request, read its response; a process that died is started again once."""
        for attempt in (1, 2):
            if self._process is None or self._process.poll() is not None:
                if self._process is not None:
                    self._stop()
                self._start()
            assert self._process is not None  # started above
            stdin, _ = _pipes(self._process)
            try:
                stdin.write(request)
                stdin.flush()
                return json.loads(self._read_line(_EVALUATION_TIMEOUT))
            except (BrokenPipeError, ConnectionResetError, EOFError) as error:
                detail = self._stderr_tail()
                self._stop()
                if attempt == 2:
                    raise BridgeUnavailable(
                        f"the JSONata Node process died twice ({error}); its stderr: {detail or '(empty)'}"
                    ) from error
        raise AssertionError("unreachable")

    def _read_line(self, timeout: float) -> bytes:
        assert self._process is not None
        stdout = _pipes(self._process)[1].fileno()
        deadline = time.monotonic() + timeout
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop()
                raise BridgeUnavailable(f"the JSONata Node process did not answer within {timeout:.0f} s")
            readable, _, _ = select.select([stdout], [], [], remaining)
            if readable:
                chunk = os.read(stdout, 1 << 16)
                if not chunk:
                    raise EOFError("the JSONata Node process closed its output")
                self._buffer.extend(chunk)
