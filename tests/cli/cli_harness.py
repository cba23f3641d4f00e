"""Helpers shared by tests/cli: the CLI and the Airbyte emulator as separate processes, the way a user runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SENTINEL_SECRET = "SENTINEL-CLI-SECRET-5d1e"  # the client secret: it must never show up in the CLI's output
SENTINEL_TOKEN = "SENTINEL-CLI-TOKEN-88ab"  # the static bearer token, likewise
CLIENT_ID = "cli-tests-client"

SUCCEEDS = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
FAILS = "0a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
QUICK = "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a"  # one wait: for the run that waits in real time
ENDLESS = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"  # runs until cancelled
# One connection per start-path run (tests/cli/test_start_paths.py): runs started together never share a job.
EXACT_INPUT = "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b"
EVENT = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
REDELIVERED = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
EVENT_FAILS = "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f"
EVENT_OF_TWO = "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a"  # its own connection: runs go on at once, never sharing a job
SCRIPTS = {
    SUCCEEDS: "pending,queued,running*3,succeeded,rows=1200,bytes=340000",
    FAILS: "pending,running,failed,rows=7,bytes=900",
    QUICK: "pending,running,succeeded,rows=1200,bytes=340000",
    ENDLESS: "pending,running",
    EXACT_INPUT: "pending,running*2,succeeded,rows=10,bytes=100",
    EVENT: "pending,running,succeeded,rows=30,bytes=300",
    REDELIVERED: "pending,running*3,succeeded,rows=40,bytes=400",
    EVENT_FAILS: "pending,failed,rows=1,bytes=1",
    EVENT_OF_TWO: "pending,running,succeeded,rows=30,bytes=300",
}


ROOT = Path(__file__).resolve().parents[2]
# EventBridge's envelope, as a rule's target receives an event, in its order: what the CLI prints for each event an
# execution put (events:putEvents) before the result line(s).
ENVELOPE_FIELDS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]


def cli_command() -> list[str]:
    """The script at the project's root (what `make demo` and the README run)."""
    return [str(ROOT / "airbyte-sync")]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Airbyte credentials of the person running the tests."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET", "AIRBYTE_TOKEN")}
    return {**env, **extra}


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    stderr_arrivals: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, line) as they came

    @property
    def lines(self) -> list[dict]:
        """Every stdout line, each one JSON object."""
        return [json.loads(line) for line in self.stdout.strip().splitlines()]

    def split(self) -> tuple[list[dict], list[dict]]:
        """(the events the followed executions put, the result lines): stdout is zero or more event envelopes,
        each put by an execution (its ARN last in resources), then the result line(s), nothing in between."""
        lines = self.lines
        count = 0
        while count < len(lines) and list(lines[count]) == ENVELOPE_FIELDS:
            count += 1
        events, results = lines[:count], lines[count:]
        assert results and all(list(line) != ENVELOPE_FIELDS for line in results), self.stdout
        for event in events:
            assert event["version"] == "0" and isinstance(event["detail"], dict), event
            assert ":stateMachine:" in event["resources"][-2] and ":execution:" in event["resources"][-1], event
        return events, results

    @property
    def result(self) -> dict:
        """The last stdout line, which must be one JSON object."""
        lines = self.stdout.strip().splitlines()
        assert lines, f"no stdout; stderr:\n{self.stderr}"
        return json.loads(lines[-1])


def start_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.Popen:
    # Started from another directory than the project's: the CLI must find template.yaml by itself.
    process = subprocess.Popen([*cli_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               env=env if env is not None else clean_env(), cwd="/")
    if stdin is not None:  # small: written at once, before the output is read
        process.stdin.write(stdin)
        process.stdin.close()
        process.stdin = None  # communicate() must not flush it again
    return process


def finish(process: subprocess.Popen, timeout: float = 300) -> Outcome:  # a safety net on a busy machine
    stdout, stderr = process.communicate(timeout=timeout)
    return Outcome(process.returncode, stdout, stderr)


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Outcome:
    return finish(start_cli(*args, env=env, stdin=stdin))


class TimedRun:
    """A CLI run whose stderr lines are stamped (real, monotonic time) as they arrive: what a user watching sees."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.process = start_cli(*args, env=env)
        self.arrivals: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.arrivals.append((time.monotonic(), line.rstrip("\n")))

    def finish(self, timeout: float = 300) -> Outcome:
        stdout = self.process.stdout.read()
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return Outcome(self.process.returncode, stdout, "\n".join(line for _, line in self.arrivals) + "\n",
                       stderr_arrivals=list(self.arrivals))


class Concurrent:
    """CLI runs started together and collected by name: each one is a few seconds of imports and deploying,
    mostly CPU or waiting, so overlapping them keeps the folder fast."""

    def __init__(self):
        self._processes: dict[str, subprocess.Popen | TimedRun] = {}
        self._outcomes: dict[str, Outcome] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
              timed: bool = False) -> None:
        self._processes[name] = TimedRun(*args, env=env) if timed else start_cli(*args, env=env, stdin=stdin)

    def __getitem__(self, name: str) -> Outcome:
        if name not in self._outcomes:
            started = self._processes[name]
            self._outcomes[name] = started.finish() if isinstance(started, TimedRun) else finish(started)
        return self._outcomes[name]

    def close(self) -> None:
        for started in self._processes.values():
            process = started.process if isinstance(started, TimedRun) else started
            if process.poll() is None:
                process.kill()
                process.communicate()


def start_emulator(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "local_tools.emulator", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    base_url = process.stdout.readline().strip()  # the emulator prints its base URL first
    if not base_url.startswith("http"):
        process.kill()
        raise RuntimeError(f"the emulator did not start: {process.stderr.read()}")
    return process, base_url


def emulator_process(auth_args: list[str], env: dict[str, str]):
    """A generator for a fixture: the emulator with every connection in SCRIPTS; yields its base URL."""
    connections = [arg for cid, script in SCRIPTS.items() for arg in ("--connection", f"{cid}:{script}")]
    process, base_url = start_emulator("--base-path", "/api/public/v1", *auth_args, *connections, env=env)
    try:
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
