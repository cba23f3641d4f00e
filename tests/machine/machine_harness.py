"""Helpers shared by tests/machine (imported by its conftest and tests)."""
from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from local_tools import product
from local_tools.clock import RealClock, VirtualClock
from local_tools.emulator import AirbyteEmulator, JobScript
from local_tools.engine import ExecutionResult, LocalEngine

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ARAZZO = ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"
EVENTS = ROOT / "events"

SENTINEL = "SENTINEL-SECRET-7f3a"  # the client secret: it must never show up anywhere
CLIENT_ID = "machine-tests-client"

NOT_TERMINAL = ("pending", "queued", "running", "incomplete")


class Harness:
    """An emulator, an engine and the deployed stack, with helpers that read like what a user does."""

    def __init__(self, emu: AirbyteEmulator, engine: LocalEngine, stack: Any, secret_arn: str):
        self.emu = emu
        self.engine = engine
        self.stack = stack
        self.secret_arn = secret_arn
        self.machine = stack.outputs["SyncStateMachineArn"]
        self.executions: list[str] = []  # every execution a test started or saw (sentinel check)
        self._invocation_mark = 0

    # --- set-up

    def connection(self, script: JobScript | None = None, active: bool = True) -> str:
        connection_id = str(uuid.uuid4())
        self.emu.add_connection(connection_id, script=script, active=active)
        return connection_id

    def reset(self) -> None:
        self.emu.clear_faults()
        self.emu.forget_requests()
        self.executions.clear()
        self._invocation_mark = len(self.engine.invocations)
        self._delivery_mark = len(self.engine.deliveries)
        self._seen_executions = set(self._listed_executions())
        # A warm function keeps its token; a test that revoked tokens must not cost the next one a 401.
        auth = sys.modules.get("airbyte_client.auth")
        if auth is not None:
            auth.TOKENS.clear()

    def set_function_environment(self, logical_id: str, **variables: str) -> dict:
        """Add environment variables to one of the stack's functions; returns the previous variables."""
        name = self.stack.functions[logical_id]
        before = self.engine.lambda_.get_function(FunctionName=name)["Configuration"]["Environment"]["Variables"]
        self.engine.lambda_.update_function_configuration(
            FunctionName=name, Environment={"Variables": {**before, **variables}})
        return dict(before)

    def restore_function_environment(self, logical_id: str, variables: dict) -> None:
        self.engine.lambda_.update_function_configuration(
            FunctionName=self.stack.functions[logical_id], Environment={"Variables": variables})

    # --- running

    def run(self, execution_input: Any, timeout: float = 60.0) -> ExecutionResult:
        """Start from code / the console with this input; wait for the end."""
        result = self.engine.run(self.machine, execution_input, timeout=timeout)
        self.executions.append(result.execution_arn)
        return result

    def run_named(self, execution_input: Any, name: str, timeout: float = 60.0) -> ExecutionResult:
        """Start an execution of this name (as a caller that names its executions does); wait for the end."""
        result = self.engine.run(self.machine, execution_input, name=name, timeout=timeout)
        self.executions.append(result.execution_arn)
        return result

    def run_console(self, connection_id: str, **overrides: Any) -> ExecutionResult:
        """The console's "Start execution" with events/console-input.json, pointed at this connection."""
        execution_input = json.loads((EVENTS / "console-input.json").read_text())
        execution_input.update(connectionId=connection_id, **overrides)
        return self.run(execution_input)

    def run_eventbridge(self, connection_id: str, **overrides: Any) -> ExecutionResult:
        """`aws events put-events --entries file://events/eventbridge-entry.json`, pointed at this connection,
        routed through the template's rule to the admission function, which starts the execution."""
        [entry] = json.loads((EVENTS / "eventbridge-entry.json").read_text())
        detail = json.loads(entry["Detail"])
        detail.update(connectionId=connection_id, **overrides)
        entry["Detail"] = json.dumps(detail)
        started = self.engine.put_events([entry])
        assert len(started) == 1, f"the sync request event started {len(started)} executions"
        self.executions.extend(started)
        result = self.engine.wait(started[0])
        # The documented fields of the detail, and the job types events may ask for (the deployment's).
        allowed = self.stack.parameters["EventJobTypes"].split(",")
        assert json.loads(result.events[0]["executionStartedEventDetails"]["input"]) == {
            **detail, "allowedJobTypes": allowed}
        return result

    def put_events(self, *entries: dict) -> list[str]:
        """PutEvents through the template's rules; the ARNs of the executions the deliveries started."""
        started = self.engine.put_events(list(entries))
        self.executions.extend(started)
        return started

    # --- what happened

    def posts(self) -> int:
        """createJob POSTs Airbyte received (a sync triggered at most once means at most 1)."""
        return self.emu.count("createJob")

    def airbyte_calls(self) -> int:
        return len(self.emu.requests)

    def polls(self, job_id: int | None = None) -> list[Any]:
        return [r for r in self.emu.requests_for("getJob")
                if job_id is None or r.path == f"/jobs/{job_id}"]

    def cancels(self) -> list[Any]:
        return self.emu.requests_for("cancelJob")

    def token_requests(self) -> int:
        return self.emu.count("createAccessToken")

    def operation_invocations(self) -> list[Any]:
        """Invocations of the Airbyte operation handlers (createJob, getJob, cancelJob) since the test began."""
        return [i for i in self.engine.invocations[self._invocation_mark:]
                if isinstance(i.event, dict) and "operationId" in i.event]

    def cleanups(self) -> list[Any]:
        """What the ExecutionStopped function answered for executions that ended ABORTED, TIMED_OUT or FAILED."""
        name = self.stack.functions["ExecutionStoppedFunction"]
        return [json.loads(i.payload) for i in self.engine.invocations[self._invocation_mark:]
                if i.function_name == name]

    def wait_for_cleanups(self, count: int, timeout: float = 20.0) -> list[Any]:
        """The ExecutionStopped function runs asynchronously after an execution ends: wait for its answers."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            found = self.cleanups()
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.cleanups())} cleanup(s) ran, expected {count}")

    def logs(self) -> str:
        """What the handlers logged since the test began."""
        return "".join(i.logs for i in self.engine.invocations[self._invocation_mark:])

    def everything_recorded(self, include_emulator: bool = True) -> str:
        """Since the last reset: handler logs, execution histories, outputs, errors and causes (every execution,
        continued and stopped ones included), EventBridge deliveries, and the emulator's records, as text."""
        parts = [self.logs()]
        arns = list(dict.fromkeys(self.executions + [arn for arn in self._listed_executions()
                                                     if arn not in self._seen_executions]))
        for arn in arns:
            parts.append(json.dumps(self.engine.history(arn), default=str))
            parts.append(json.dumps(self.engine.sfn.describe_execution(executionArn=arn), default=str))
        parts.extend(json.dumps(d.__dict__, default=str) for d in self.engine.deliveries[self._delivery_mark:])
        if include_emulator:
            parts.extend(json.dumps(r.__dict__, default=str) for r in self.emu.requests)
        return "\n".join(parts)

    def _listed_executions(self) -> list[str]:
        arns = []
        for machine in self.engine.sfn.list_state_machines()["stateMachines"]:
            for execution in self.engine.sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                arns.append(execution["executionArn"])
        return arns

    def secret_values(self) -> list[str]:
        """Every value derived from the secret: the sentinel, its base64 forms, the basic-auth pair and every access
        token the emulator issued (with their base64 forms)."""
        import base64

        values = [SENTINEL, *self.emu.issued_tokens]
        values += [base64.b64encode(f"{user}:{SENTINEL}".encode()).decode() for user in ("u", CLIENT_ID)]
        values += [base64.b64encode(value.encode()).decode().rstrip("=") for value in list(values)]
        return values

    def assert_no_sentinel(self, captured: str = "") -> None:
        """No value derived from the secret in anything the product recorded, printed or logged. (The emulator's own
        records are left out: the echo mode keeps what the caller sent.)"""
        texts = (("recorded", self.everything_recorded(include_emulator=False)), ("captured", captured))
        leaks = [(name, value[:12] + "...") for name, text in texts for value in self.secret_values() if value in text]
        assert not leaks, f"credential values leaked into: {leaks}"


@contextlib.contextmanager
def make_harness(*, base_path: str = "/v1", auth: str = "client_credentials", secret: dict | None = None,
                 parameters: dict | None = None, clock: Any = None, template: Path = TEMPLATE,
                 api_url: str | None = None, token_lifetime_seconds: int = 900, echo_credentials: bool = False):
    clock = clock if clock is not None else VirtualClock()
    with AirbyteEmulator(base_path=base_path, auth=auth, client_id=CLIENT_ID, client_secret=SENTINEL,
                         token=SENTINEL, password=SENTINEL, clock=clock, echo_credentials=echo_credentials,
                         token_lifetime_seconds=token_lifetime_seconds) as emu:
        with product.engine(clock) as engine:
            stack = product.deploy(engine, api_url or emu.base_url,
                                   secret or {"client_id": CLIENT_ID, "client_secret": SENTINEL},
                                   parameters=parameters, template=template)
            secret_arn = stack.parameters["AirbyteSecretArn"]
            harness = Harness(emu, engine, stack, secret_arn)
            harness.reset()
            yield harness


def project_copy(tmp_path: Path, definition_text: str) -> Path:
    """A copy of the project layout (template + a given compiled single-sync definition, the other machines'
    committed ones; functions/ linked) to deploy."""
    (tmp_path / "statemachine").mkdir()
    for committed in (ROOT / "statemachine").glob("*.asl.json"):
        shutil.copy(committed, tmp_path / "statemachine" / committed.name)
    (tmp_path / "statemachine" / "airbyte-trigger-sync-and-poll.asl.json").write_text(definition_text)
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    (tmp_path / "functions").symlink_to(ROOT / "functions", target_is_directory=True)
    return tmp_path / "template.yaml"


def wait_for_history_event(engine: LocalEngine, execution_arn: str, predicate, timeout: float = 20.0) -> dict:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        for event in engine.history(execution_arn):
            if predicate(event):
                return event
        time.sleep(0.02)
    raise AssertionError(f"{execution_arn} never reached the awaited history event")


__all__ = ["Harness", "make_harness", "project_copy", "wait_for_history_event", "SENTINEL", "CLIENT_ID",
           "NOT_TERMINAL", "ROOT", "ARAZZO", "EVENTS", "RealClock", "VirtualClock"]
