"""Helpers shared by tests/cli: the CLI and the Airbyte emulator as separate processes, the way a user runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SENTINEL_SECRET = "SENTINEL-CLI-SECRET-5d1e"  # the client secret: it must never show up in the CLI's output
SENTINEL_TOKEN = "SENTINEL-CLI-TOKEN-88ab"  # the static bearer token, likewise
CLIENT_ID = "cli-tests-client"

SUCCEEDS = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
FAILS = "0a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
QUICK = "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a"  # one wait: for the run that waits in real time
ENDLESS = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"  # runs until cancelled
SCRIPTS = {
    SUCCEEDS: "pending,queued,running*3,succeeded,rows=1200,bytes=340000",
    FAILS: "pending,running,failed,rows=7,bytes=900",
    QUICK: "pending,running,succeeded,rows=1200,bytes=340000",
    ENDLESS: "pending,running",
}


ROOT = Path(__file__).resolve().parents[2]


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

    @property
    def result(self) -> dict:
        """The last stdout line, which must be one JSON object."""
        lines = self.stdout.strip().splitlines()
        assert lines, f"no stdout; stderr:\n{self.stderr}"
        return json.loads(lines[-1])


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    # Started from another directory than the project's: the CLI must find template.yaml by itself.
    return subprocess.Popen([*cli_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env if env is not None else clean_env(), cwd="/")


def finish(process: subprocess.Popen, timeout: float = 90) -> Outcome:
    stdout, stderr = process.communicate(timeout=timeout)
    return Outcome(process.returncode, stdout, stderr)


def run_cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    return finish(start_cli(*args, env=env))


class Concurrent:
    """CLI runs started together and collected by name: each one is a few seconds of imports and deploying,
    mostly CPU or waiting, so overlapping them keeps the folder fast."""

    def __init__(self):
        self._processes: dict[str, subprocess.Popen] = {}
        self._outcomes: dict[str, Outcome] = {}

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self._processes[name] = start_cli(*args, env=env)

    def __getitem__(self, name: str) -> Outcome:
        if name not in self._outcomes:
            self._outcomes[name] = finish(self._processes[name])
        return self._outcomes[name]

    def close(self) -> None:
        for process in self._processes.values():
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
