"""What an execution in the local engine came to: ExecutionResult, read from its history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class ExecutionResult:
    execution_arn: str
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED (RUNNING only if wait() gave up)
    output: Any  # parsed JSON output (SUCCEEDED only)
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]  # the execution history, oldest first
    waits: list[float]  # seconds of each Wait state entered, in order
    retry_intervals: list[float]  # seconds of each Retry interval, in order
    transitions: int  # state-entered events (what Standard workflows are billed for, roughly)
    duration_seconds: float | None  # stopDate - startDate, on the engine clock

    @property
    def cause_json(self) -> Any:
        """The cause parsed as JSON (a Lambda error's cause is its error payload), or the raw text."""
        try:
            return json.loads(self.cause) if self.cause else None
        except ValueError:
            return self.cause

    @property
    def most_map_iterations_at_once(self) -> int:
        """The most Map iterations running at one time, from the history's iteration events."""
        running = most = 0
        for event in self.events:
            if event["type"] == "MapIterationStarted":
                running += 1
                most = max(most, running)
            elif event["type"] in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
                running -= 1
        return most


def output_from_history(events: list[dict[str, Any]]) -> Any:
    """The output of a SUCCEEDED execution, from its ExecutionSucceeded event (None otherwise)."""
    # Not describe_execution's output: moto returns a string output unencoded (the JSON "x" arrives as x).
    for event in reversed(events):
        if event["type"] == "ExecutionSucceeded":
            return json.loads(event["executionSucceededEventDetails"]["output"])
    return None
