"""Polling cells: the compiled state machine in the local engine, on a virtual clock, against the emulator.

One cell = one sync of a given duration under one polling policy. A worker process runs a list of cells with one
emulator and one LocalEngine (the template deployed once); each cell gets its own connection and execution name.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

PRICE_PER_TRANSITION = 0.025 / 1000  # Standard workflows, USD
# Each job runs its nominal duration plus this: it ends just after a poll of every fixed policy (all durations are
# multiples of 3, 10, 15 and 60 s), the unluckiest phase, so fixed policies show their worst detection lag
# (interval - 1 s) rather than a lucky 0.
PHASE_SECONDS = 1
# Longer than the longest sync: the cells measure polling, not the deadline (the product default is 86,400 s, which
# a 24 h sync would meet exactly).
DEADLINE_SECONDS = 200_000

DURATIONS = {"1 min": 60, "10 min": 600, "1 h": 3600, "6 h": 21600, "24 h": 86400}
# name -> execution input overrides (None = the deployment's defaults: the product's default policy)
POLICIES: dict[str, dict[str, Any] | None] = {
    "fixed 3 s": {"pollInitialSeconds": 3, "pollElapsedFraction": 0, "pollMaxSeconds": 3},
    "fixed 10 s": {"pollInitialSeconds": 10, "pollElapsedFraction": 0, "pollMaxSeconds": 10},
    "fixed 15 s": {"pollInitialSeconds": 15, "pollElapsedFraction": 0, "pollMaxSeconds": 15},
    "fixed 60 s": {"pollInitialSeconds": 60, "pollElapsedFraction": 0, "pollMaxSeconds": 60},
    "default": None,
}
# The template's parameter defaults, for estimates only (the cells themselves use the deployed defaults).
DEFAULT_POLICY = {"pollInitialSeconds": 10, "pollElapsedFraction": 0.1, "pollMaxSeconds": 300}


@dataclass
class Cell:
    policy: str
    duration_name: str
    duration_seconds: int
    inputs: dict[str, Any] | None

    @property
    def key(self) -> str:
        return f"{self.policy} / {self.duration_name}"


@dataclass
class CellResult:
    policy: str
    duration_name: str
    duration_seconds: int
    status: str
    get_job_calls: int
    transitions: int
    max_history_events: int
    executions: int
    detection_lag_seconds: float
    cost_usd: float
    wall_seconds: float
    wall_ms_per_poll: float  # the local engine's real cost of one getJob poll (wall / getJob calls)
    error: str | None = None


def all_cells() -> list[Cell]:
    return [Cell(policy, name, seconds, inputs)
            for policy, inputs in POLICIES.items() for name, seconds in DURATIONS.items()]


def estimated_polls(cell: Cell) -> int:
    """How many getJob calls the policy makes (for spreading cells over workers)."""
    policy = cell.inputs or DEFAULT_POLICY
    elapsed, polls = 0.0, 0
    while elapsed < cell.duration_seconds:
        elapsed += min(policy["pollMaxSeconds"],
                       max(policy["pollInitialSeconds"], policy["pollElapsedFraction"] * elapsed))
        polls += 1
    return polls + 1


def run_cells(cells: list[Cell]) -> list[dict[str, Any]]:
    """Run `cells` one after the other in this process; returns CellResult dicts."""
    from local_tools import product
    from local_tools.clock import VirtualClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    clock = VirtualClock()
    results = []
    with AirbyteEmulator(auth="client_credentials", client_id="cid", client_secret="csecret", clock=clock) as emu:
        with product.engine(clock) as engine:
            stack = product.deploy(engine, emu.base_url, {"client_id": "cid", "client_secret": "csecret"})
            machine = stack.outputs[product.STATE_MACHINE_OUTPUT]
            for index, cell in enumerate(cells):
                connection = str(uuid.uuid4())
                emu.add_connection(connection, script=JobScript.timed(
                    duration_seconds=cell.duration_seconds + PHASE_SECONDS, final="succeeded", rows=1000, bytes=10**6))
                execution_input = {"connectionId": connection, **(cell.inputs or {}),
                                   "deadlineSeconds": DEADLINE_SECONDS}
                name = f"bench-{index}-{uuid.uuid4().hex[:8]}"
                started = time.perf_counter()
                result = engine.run(machine, execution_input, name=name, timeout=1800)
                ended_at = clock.now()  # nothing else advances this clock: the virtual time at the execution's end
                wall = time.perf_counter() - started
                results.append(asdict(_measure(engine, emu, machine, cell, name, connection, result, ended_at, wall)))
    return results


def _measure(engine: Any, emu: Any, machine: str, cell: Cell, name: str, connection: str, result: Any,
             ended_at: float, wall: float) -> CellResult:
    jobs = [job for job in emu.jobs.values() if job.connection_id == connection]
    job = jobs[0] if jobs else None
    polls = sum(1 for request in emu.requests_for("getJob")
                if job is not None and request.path == f"/jobs/{job.job_id}")
    chain = _executions_of(engine, machine, name)
    transitions, max_events = 0, 0
    for arn in chain:
        events = _history(engine, arn)
        transitions += sum(1 for event in events if event["type"].endswith("StateEntered"))
        max_events = max(max_events, len(events))
    job_end = job.created_at + job.script.duration_seconds if job is not None else float("nan")
    return CellResult(
        policy=cell.policy, duration_name=cell.duration_name, duration_seconds=cell.duration_seconds,
        status=result.status, get_job_calls=polls, transitions=transitions, max_history_events=max_events,
        executions=len(chain), detection_lag_seconds=round(ended_at - job_end, 3),
        cost_usd=transitions * PRICE_PER_TRANSITION, wall_seconds=round(wall, 2),
        wall_ms_per_poll=round(1000 * wall / polls, 2) if polls else float("nan"),
        error=None if result.status == "SUCCEEDED" else f"{result.error}: {(result.cause or '')[:200]}",
    )


def _history(engine: Any, execution_arn: str) -> list[dict[str, Any]]:
    """engine.history with 1,000-event pages (moto serialises each page; its default of 100 costs ~30% more)."""
    events, token = [], None
    while True:
        page = engine.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                                **({"nextToken": token} if token else {}))
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def _executions_of(engine: Any, machine: str, origin: str) -> list[str]:
    """The execution `origin` and the ones that continued it (named `<origin>-<generation>`)."""
    pattern = re.compile(re.escape(origin[:70]) + r"-\d+")
    arns, token = [], None
    while True:
        page = engine.sfn.list_executions(stateMachineArn=machine, **({"nextToken": token} if token else {}))
        arns += [e["executionArn"] for e in page["executions"]
                 if e["name"] == origin or pattern.fullmatch(e["name"])]
        token = page.get("nextToken")
        if not token:
            return arns
