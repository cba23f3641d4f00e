"""What the CLI shows of running executions: one line per Airbyte call while they run, the events they put, and
the result lines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from local_tools.engine.event_routing import event_json

OPERATIONS = ("listConnections", "createJob", "getJob", "cancelJob")  # the handlers whose invocations are progress
STATUS_CHANGE = "Step Functions Execution Status Change"  # the event the ExecutionStopped function gets


def hms(seconds: float) -> str:
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def belongs_to(execution_arn: str, candidate: Any) -> bool:
    """`candidate` is this execution or one it continued in (continue-as-new names it `<name>-1`, `-2`, ...)."""
    return isinstance(candidate, str) and (candidate == execution_arn or candidate.startswith(execution_arn + "-"))


class Progress:
    """Turns the engine's handler invocations for one execution into one line per Airbyte call, as it runs.

    Times come from the state's EnteredTime the machine passes to each handler (context.stateEnteredTime): it is
    on the engine clock, so on a VirtualClock it shows simulated time, not the instant the line is printed.
    `label` prefixes every line (put-events names the execution when it follows several). `children`: the ARN
    prefix of the single-sync executions a sync-connections execution starts (`<execution ARN of the single-sync
    machine>:<this execution's name, 50 characters>-`); their calls are shown too, each line after `[<index>] `.
    """

    def __init__(
        self,
        engine: Any,
        execution_arn: str,
        started_at: float,
        out: TextIO,
        label: str = "",
        children: str | None = None,
    ):
        self.engine = engine
        self.execution_arn = execution_arn
        self.children = children
        self.started_at = started_at
        self.out = out
        self.label = label
        self.seen = 0
        self.polls = 0

    def update(self) -> None:
        invocations = self.engine.invocations[self.seen :]  # appended by the execution's thread; a slice is safe
        self.seen += len(invocations)
        for invocation in invocations:
            event = invocation.event if isinstance(invocation.event, dict) else {}
            operation = event.get("operationId")
            caller = (event.get("context") or {}).get("executionArn")
            if operation in OPERATIONS and belongs_to(self.execution_arn, caller):
                self._line(operation, event.get("context") or {}, invocation)
            elif (
                operation in OPERATIONS
                and self.children
                and isinstance(caller, str)
                and caller.startswith(self.children)
            ):
                # <prefix><checksum>-<index>[-<continuation>]: the connection's index in the list
                index = caller[len(self.children) :].split("-")[1]
                self._line(operation, event.get("context") or {}, invocation, f"[{index}] ")
            elif event.get("detail-type") == STATUS_CHANGE and belongs_to(
                self.execution_arn, (event.get("detail") or {}).get("executionArn")
            ):
                self._cleanup_line(event, invocation)

    def _print(self, text: str) -> None:
        print(f"{self.label}{text}", file=self.out, flush=True)

    def _line(self, operation: str, context: dict, invocation: Any, child: str = "") -> None:
        entered = _epoch(context.get("stateEnteredTime"))
        elapsed = "+" + hms(entered - self.started_at) if entered is not None else "+??:??:??"
        retry = f"  (retry {context['retryCount']})" if context.get("retryCount") else ""
        detail = self._detail(operation, invocation)
        if operation == "getJob":
            self.polls += 1
            label = f"poll {self.polls:3d}"
        else:
            label = {"createJob": "trigger ", "cancelJob": "cancel  ", "listConnections": "list    "}[operation]
        self._print(f"{child}{label}  {elapsed}  {detail}{retry}")

    def _cleanup_line(self, event: dict, invocation: Any) -> None:
        """The template's ExecutionStopped function, run on ABORTED/TIMED_OUT: it cancels the Airbyte job."""
        stop_millis = (event.get("detail") or {}).get("stopDate")  # engine clock, unlike the event's whole-second time
        at = stop_millis / 1000 if isinstance(stop_millis, (int, float)) else _epoch(event.get("time"))
        elapsed = "+" + hms(at - self.started_at) if at is not None else "+??:??:??"
        try:
            answer = json.loads(invocation.payload)
        except (TypeError, ValueError):
            answer = {}
        if invocation.errored or not isinstance(answer, dict):
            detail = "error " + str(answer.get("errorType") if isinstance(answer, dict) else "unknown")
        elif answer.get("cancelled"):
            detail = f"job {answer.get('jobId')} cancelled"
        else:
            detail = f"nothing to cancel ({answer.get('reason') or answer.get('statusCode')})"
        self._print(f"cleanup   {elapsed}  {detail}")

    @staticmethod
    def _detail(operation: str, invocation: Any) -> str:
        try:
            payload = json.loads(invocation.payload)
        except (TypeError, ValueError):
            payload = None
        if invocation.errored or not isinstance(payload, dict):
            error = payload.get("errorType") if isinstance(payload, dict) else None
            return f"error {error or 'unknown'}"
        body = payload.get("body")
        body = body if isinstance(body, dict) else {}
        text = f"{body.get('status', 'HTTP ' + str(payload.get('statusCode'))):<10}"
        if operation == "listConnections" and isinstance(body.get("data"), list):
            return f"{len(body['data'])} connection(s)"
        if operation == "createJob" and body.get("jobId") is not None:
            text += f"  job {body['jobId']}"
        elif body.get("rowsSynced"):
            text += f"  rows {body['rowsSynced']:,}  bytes {body.get('bytesSynced', 0):,}"
        return text.rstrip()


def follow(
    engine: Any, execution_arns: list[str], out: TextIO, interval: float = 0.1, children: str | None = None
) -> list[tuple[Any, Progress]]:
    """Print progress until every execution ended; returns (ExecutionResult, Progress) per execution, in order.

    Several executions: each line starts with `[<last 8 characters of the execution's name>] ` (names start
    alike: event-<event id>).
    """
    progresses = []
    for arn in execution_arns:
        started = engine.sfn.describe_execution(executionArn=arn)["startDate"].timestamp()  # on the engine clock
        label = f"[{arn.rsplit(':', 1)[-1][-8:]}] " if len(execution_arns) > 1 else ""
        progresses.append(Progress(engine, arn, started, out, label=label, children=children))

    def update() -> None:
        for progress in progresses:
            progress.update()

    results = watch(engine, execution_arns, update, interval)
    return list(zip(results, progresses, strict=True))


def watch(engine: Any, execution_arns: list[str], update: Callable[[], None], interval: float = 0.1) -> list[Any]:
    """Call `update` every `interval` real seconds until every execution ended, and once more at the end; the
    ExecutionResults, in order. The engine runs executions in moto's worker threads: looking more often would take
    the GIL from them. Ctrl-C stops the executions still running (ABORTED), which are still reported."""
    try:
        while any(engine.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" for arn in execution_arns):
            update()
            time.sleep(interval)
    except KeyboardInterrupt:
        for arn in execution_arns:
            if engine.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                engine.stop_execution(arn, error="Interrupted", cause="stopped from the command line")
    results = [engine.wait(arn, timeout=30.0) for arn in execution_arns]
    update()  # every invocation is recorded before an execution can end
    return results


def execute(
    engine: Any,
    machine_arn: str,
    execution_input: Any,
    name: str,
    out: TextIO,
    interval: float = 0.1,
    children_of: str | None = None,
) -> tuple[Any, Progress]:
    """Start one execution (input: a JSON value, or JSON text passed as is) and follow it; `children_of`: the
    ARN of the machine whose executions it starts (sync-connections: the single-sync machine), followed too."""
    arn = engine.start_execution(machine_arn, execution_input, name=name)
    children = None
    if children_of is not None:
        children = children_of.replace(":stateMachine:", ":execution:", 1) + f":{name[:50]}-"
    [(result, progress)] = follow(engine, [arn], out, interval, children=children)
    return result, progress


def events_put_by(engine: Any, execution_arns: list[str]) -> list[dict]:
    """The events these executions (or executions they continued in) put with events:putEvents, oldest first.

    An event names the execution that put it in its `resources` (the integration appends the state machine's and
    the execution's ARN to every entry's Resources)."""
    return [
        event
        for event in engine.events_put
        if any(belongs_to(arn, resource) for arn in execution_arns for resource in event["resources"])
    ]


def print_events_put(engine: Any, execution_arns: list[str], out: TextIO) -> None:
    """One stdout line per event the executions put: the event as a rule's target receives it (EventBridge's
    minified JSON envelope: version, id, detail-type, source, account, time, region, resources, detail)."""
    for event in events_put_by(engine, execution_arns):
        print(event_json(event), file=out, flush=True)


def result_json(result: Any) -> dict:
    """The result line of one execution, as `run` prints it."""
    if result.status == "SUCCEEDED":
        return {"status": result.status, "output": result.output}
    return {"status": result.status, "error": result.error, "cause": result.cause}


def summary_line(result: Any, progress: Progress) -> str:
    simulated = f", {hms(result.duration_seconds)} on the engine clock" if result.duration_seconds else ""
    return f"{result.status} after {progress.polls} polls, {result.transitions} transitions{simulated}"
