"""Polling cells: the compiled state machine in the local engine, on a virtual clock, against the emulator.

A cell is one sync duration under one polling policy. Two kinds (bench/README.md, "Lag"):
- a **schedule** cell (fixed intervals, the adaptive default: poll times that do not depend on the job) runs once;
  its lag distribution is exact from the poll times (bench/lag.py);
- an **end-point** cell (predictive: poll times follow the job) runs ENDPOINTS executions, one per job end, each
  on a connection of its own with a history of 10 finished jobs (bench/scenarios.py).
A worker process runs a list of tasks with one emulator and one LocalEngine (the template deployed once).
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench import derived, lag, scenarios

PRICE_PER_TRANSITION = derived.PRICE_PER_TRANSITION
# Each schedule cell's job runs its nominal duration plus this, so that its last poll is the first one after the
# nominal end (the polls around it give the polling phase).
PHASE_SECONDS = 1
# Longer than the longest sync: the cells measure polling, not the deadline (the product default is 86,400 s, which
# a 24 h sync would meet exactly).
DEADLINE_SECONDS = 200_000

POLL_STATE = "pollJob"  # the polling loop's getJob Task (one entry per poll)
DURATIONS = {"1 min": 60, "10 min": 600, "1 h": 3600, "6 h": 21600, "24 h": 86400}
# name -> execution input overrides (None = the deployment's defaults: the product's default policy)
POLICIES: dict[str, dict[str, Any] | None] = {
    "fixed 3 s": {"pollInitialSeconds": 3, "pollElapsedFraction": 0, "pollMaxSeconds": 3},
    "fixed 10 s": {"pollInitialSeconds": 10, "pollElapsedFraction": 0, "pollMaxSeconds": 10},
    "fixed 15 s": {"pollInitialSeconds": 15, "pollElapsedFraction": 0, "pollMaxSeconds": 15},
    "fixed 60 s": {"pollInitialSeconds": 60, "pollElapsedFraction": 0, "pollMaxSeconds": 60},
    "default": None,
}
PREDICTIVE = {"pollPolicy": "predictive"}
# The template's parameter defaults, for estimates only (the cells themselves use the deployed defaults).
DEFAULT_POLICY = {"pollInitialSeconds": 10, "pollElapsedFraction": 0.1, "pollMaxSeconds": 300}
# A fixed-interval cell with more polls than this is derived from the policy's longest cell under it, not run
# (bench/derived.py): fixed 3 s at 6 h and 24 h, fixed 10 s at 6 h and 24 h, fixed 15 s at 24 h.
DERIVE_ABOVE_POLLS = 1_500
# A cell the bench both measures and derives (from the first), to show the derivation holds.
DERIVATION_CHECK = ("fixed 15 s / 1 h", "fixed 15 s / 6 h")


@dataclass
class Cell:
    policy: str  # a POLICIES key, or "predictive (<scenario> volumes)"
    duration_name: str
    duration_seconds: int
    inputs: dict[str, Any] | None
    scenario: str | None = None  # stable | varying (end-point cells)
    ends: str = "nominal"  # nominal | in range | half | double | fails at half
    end_points: list[float] = field(default_factory=list)  # job ends (s); schedule cells: where lag is read
    derived_from: str | None = None  # the key of the measured cell this one is derived from (not run)

    @property
    def key(self) -> str:
        suffix = "" if self.ends in ("nominal", "in range") else f", {self.ends}"
        return f"{self.policy} / {self.duration_name}{suffix}"

    @property
    def endpoint_cell(self) -> bool:
        return self.scenario is not None


@dataclass
class Task:
    cell: Cell
    index: int  # the end point (end-point cells); 0 for a schedule cell


def main_cells() -> list[Cell]:
    cells = []
    for policy, inputs in POLICIES.items():
        basis = None
        for name, seconds in DURATIONS.items():
            cell = Cell(policy, name, seconds, inputs)
            if inputs is not None and _adaptive_polls(inputs, seconds) > DERIVE_ABOVE_POLLS and basis is not None:
                cell.derived_from = basis.key
            else:
                basis = cell
            cells.append(cell)
    for scenario in scenarios.SCENARIOS:
        for name, seconds in DURATIONS.items():
            cells.append(
                Cell(
                    scenarios.policy_name(scenario),
                    name,
                    seconds,
                    PREDICTIVE,
                    scenario,
                    "in range",
                    scenarios.end_points(seconds, "in range"),
                )
            )
    return cells


def target_cells() -> list[Cell]:
    """Ends far outside the usual range (and a failure mid-way), predictive vs the default on the same ends."""
    cells = []
    for name in dict.fromkeys(scenarios.TARGET_DURATIONS + scenarios.DOUBLE_DURATIONS):
        seconds = DURATIONS[name]
        for ends in ("half", "double"):
            if name not in (scenarios.DOUBLE_DURATIONS if ends == "double" else scenarios.TARGET_DURATIONS):
                continue
            points = scenarios.end_points(seconds, ends)
            cells.append(Cell("default", name, seconds, None, None, ends, points))
            for scenario in scenarios.SCENARIOS if name in scenarios.FAR_OUTSIDE_ALL_SCENARIOS else ("stable",):
                cells.append(Cell(scenarios.policy_name(scenario), name, seconds, PREDICTIVE, scenario, ends, points))
        if name in scenarios.FAILS_AT_HALF_DURATIONS:
            cells.append(
                Cell(
                    scenarios.policy_name("stable"),
                    name,
                    seconds,
                    PREDICTIVE,
                    "stable",
                    "fails at half",
                    scenarios.end_points(seconds, "fails at half"),
                )
            )
    return cells


def all_cells() -> list[Cell]:
    return main_cells() + target_cells()


def tasks_of(cells: list[Cell]) -> list[Task]:
    """What to run: one task per end point (end-point cells) or per cell; derived cells run nothing."""
    return [
        Task(cell, index)
        for cell in cells
        if cell.derived_from is None
        for index in (range(len(cell.end_points)) if cell.endpoint_cell else [0])
    ]


def estimated_polls(task: Task) -> int:
    """How many getJob calls a task makes (for spreading tasks over workers)."""
    cell = task.cell
    if cell.endpoint_cell:
        end = cell.end_points[task.index]
        factor = 0.25 if cell.scenario == "stable" and cell.ends != "double" else 0.8
        return int(factor * _adaptive_polls(DEFAULT_POLICY, end)) + 5
    end = max(cell.end_points) if cell.end_points else cell.duration_seconds
    return _adaptive_polls(cell.inputs or DEFAULT_POLICY, end)


def _adaptive_polls(policy: dict[str, Any], seconds: float) -> int:
    elapsed, polls = 0.0, 0
    while elapsed < seconds:
        elapsed += min(
            policy["pollMaxSeconds"], max(policy["pollInitialSeconds"], policy["pollElapsedFraction"] * elapsed)
        )
        polls += 1
    return polls + 1


def run_tasks(tasks: list[Task]) -> list[dict[str, Any]]:
    """Run ``tasks`` one after the other in this process; one result dict per task."""
    from local_tools import product
    from local_tools.clock import VirtualClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    clock = VirtualClock()
    results = []
    with AirbyteEmulator(auth="client_credentials", client_id="cid", client_secret="csecret", clock=clock) as emu:
        with product.engine(clock) as engine:
            # MinPollSeconds 1: the deployment bound (default 5 s) would refuse Airflow's 3 s polling.
            stack = product.deploy(
                engine, emu.base_url, {"client_id": "cid", "client_secret": "csecret"}, parameters={"MinPollSeconds": 1}
            )
            machine = stack.outputs[product.STATE_MACHINE_OUTPUT]
            for number, task in enumerate(tasks):
                cell = task.cell
                connection = str(uuid.uuid4())
                execution_input: dict[str, Any]
                if cell.endpoint_cell:
                    assert cell.scenario is not None  # what makes it an end-point cell
                    scenarios.seed(
                        emu,
                        clock,
                        connection,
                        cell.scenario,
                        cell.duration_seconds,
                        cell.end_points[task.index],
                        cell.ends,
                    )
                    execution_input = {"connectionId": connection, **PREDICTIVE}
                else:
                    end = max(cell.end_points) if cell.end_points else cell.duration_seconds
                    emu.add_connection(
                        connection,
                        script=JobScript.timed(
                            duration_seconds=end + PHASE_SECONDS, final="succeeded", rows=1000, bytes=10**6
                        ),
                    )
                    execution_input = {"connectionId": connection, **(cell.inputs or {})}
                execution_input["deadlineSeconds"] = DEADLINE_SECONDS
                name = f"bench-{number}-{uuid.uuid4().hex[:8]}"
                began_at = clock.now()
                started = time.perf_counter()
                result = engine.run(machine, execution_input, name=name, timeout=1800)
                ended_at = clock.now()  # nothing else advances this clock: the virtual time at the execution's end
                wall = time.perf_counter() - started
                results.append(_measure(engine, emu, machine, task, name, connection, result, began_at, ended_at, wall))
    return results


def _measure(
    engine: Any,
    emu: Any,
    machine: str,
    task: Task,
    name: str,
    connection: str,
    result: Any,
    began_at: float,
    ended_at: float,
    wall: float,
) -> dict[str, Any]:
    cell = task.cell
    jobs = [job for job in emu.jobs.values() if job.connection_id == connection and job.created_at >= began_at - 1]
    job = jobs[0] if jobs else None
    polls = [
        request.at
        for request in emu.requests_for("getJob")
        if job is not None and request.path == f"/jobs/{job.job_id}"
    ]
    chain = _executions_of(engine, machine, name)
    generations = []  # per execution, oldest first: its polls, transitions and events
    for arn in chain:
        events = engine.history(arn)
        entered = [event for event in events if event["type"].endswith("StateEntered")]
        polls_here = sum(1 for event in entered if event["stateEnteredEventDetails"]["name"] == POLL_STATE)
        generations.append({"polls": polls_here, "transitions": len(entered), "events": len(events)})
    transitions = sum(g["transitions"] for g in generations)
    max_events = max((g["events"] for g in generations), default=0)
    job_end = job.created_at + job.script.duration_seconds if job is not None else float("nan")
    row: dict[str, Any] = {
        "key": cell.key,
        "index": task.index,
        "status": result.status,
        "get_job_calls": len(polls),
        "transitions": transitions,
        "max_history_events": max_events,
        "executions": len(chain),
        "cost_usd": transitions * PRICE_PER_TRANSITION,
        "wall_seconds": round(wall, 2),
        "detection_lag_seconds": round(ended_at - job_end, 3),
        "error": None if result.status == "SUCCEEDED" else f"{result.error}: {(result.cause or '')[:200]}",
    }
    if not cell.endpoint_cell:
        ordered = sorted(polls)
        row["poll_gaps"] = sorted({round(b - a, 3) for a, b in itertools.pairwise(ordered)})
        row["generations"] = generations
    if not cell.endpoint_cell and job is not None and polls:
        end_offset = max(0.0, ended_at - max(polls))  # the end's own transitions (about 0 on virtual time)
        start = job.created_at
        relative = [at - start for at in polls]
        if cell.ends == "nominal":
            row["lag"] = lag.phase_lag(relative, cell.duration_seconds, end_offset).to_json()
        else:
            row["lag"] = lag.sample_stats([lag.lag_at(relative, end) + end_offset for end in cell.end_points]).to_json()
    return row


def aggregate(cells: list[Cell], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell: a schedule cell's own; an end-point cell's means over its runs and its lag distribution."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(row["key"], []).append(row)
    out = []
    for cell in cells:
        runs = sorted(by_key.get(cell.key, []), key=lambda r: r["index"])
        if not runs:
            continue
        statuses: dict[str, int] = {}
        for run in runs:
            statuses[run["status"]] = statuses.get(run["status"], 0) + 1
        n = len(runs)
        expected = "FAILED" if cell.ends == "fails at half" else "SUCCEEDED"
        merged = {
            "key": cell.key,
            "policy": cell.policy,
            "duration_name": cell.duration_name,
            "duration_seconds": cell.duration_seconds,
            "scenario": cell.scenario,
            "ends": cell.ends,
            "runs": n,
            "statuses": statuses,
            "ok": statuses == {expected: n},
            "status": expected if statuses == {expected: n} else ", ".join(f"{k} x{v}" for k, v in statuses.items()),
            "get_job_calls": sum(r["get_job_calls"] for r in runs) / n,
            "max_get_job_calls": max(r["get_job_calls"] for r in runs),
            "transitions": sum(r["transitions"] for r in runs) / n,
            "max_history_events": max(r["max_history_events"] for r in runs),
            "executions": max(r["executions"] for r in runs),
            "cost_usd": sum(r["cost_usd"] for r in runs) / n,
            "wall_seconds": sum(r["wall_seconds"] for r in runs),
            "errors": sorted({r["error"] for r in runs if r["error"]})[:3],
        }
        if cell.endpoint_cell:
            merged["lag"] = lag.sample_stats([r["detection_lag_seconds"] for r in runs]).to_json()
        else:
            merged["lag"] = runs[0].get("lag") or lag.LagStats(float("nan"), float("nan"), float("nan"), 0).to_json()
        merged["wall_ms_per_poll"] = round(
            1000 * merged["wall_seconds"] / max(1, sum(r["get_job_calls"] for r in runs)), 2
        )
        if not cell.endpoint_cell:
            merged["poll_gaps"], merged["generations"] = runs[0]["poll_gaps"], runs[0]["generations"]
        out.append(merged)
    row_of = {row["key"]: row for row in out}
    for cell in cells:  # the basis comes first in `cells`, so a derived row follows its policy's measured ones
        if cell.derived_from in row_of:
            row_of[cell.key] = derived.derive(row_of[cell.derived_from], cell.key, cell.duration_seconds)
    return [row_of[cell.key] for cell in cells if cell.key in row_of]


def _executions_of(engine: Any, machine: str, origin: str) -> list[str]:
    """The execution `origin` and the ones that continued it, oldest first (arazzo_sfn/continuation.py names them
    `<first 50 characters of the root's name>-<checksum, base 36>-<generation>`)."""
    pattern = re.compile(re.escape(origin[:50]) + r"-[0-9a-z]+-(\d+)")
    chain: list[tuple[int, str]] = []
    token = None
    while True:
        page = engine.sfn.list_executions(stateMachineArn=machine, **({"nextToken": token} if token else {}))
        for execution in page["executions"]:
            continued = pattern.fullmatch(execution["name"])
            if execution["name"] == origin or continued:
                chain.append((int(continued.group(1)) if continued else 0, execution["executionArn"]))
        token = page.get("nextToken")
        if not token:
            return [arn for _, arn in sorted(chain)]
