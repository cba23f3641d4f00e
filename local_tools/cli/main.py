"""`airbyte-sync`: run the product's state machine locally, end to end, from the command line.

    ./airbyte-sync demo      (the script at the clone's root runs this module with the project's .venv)
        A local Airbyte (the emulator, on a virtual clock) and the state machine deployed from template.yaml into
        the local engine; one execution with events/console-input.json, shown poll by poll.

    airbyte-sync run --connection-id UUID --airbyte-url URL [--job-type TYPE] [--fast] [--deadline-seconds N]
                     [--poll-initial-seconds N] [--poll-elapsed-fraction F] [--poll-max-seconds N]
        The same state machine against any Airbyte API. Credentials come from the environment:
        AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET (application credentials), or AIRBYTE_TOKEN (a bearer token),
        or none (auth disabled). They go into a local Secrets Manager secret and are never printed.
        Progress goes to stderr; the last stdout line is one JSON object, e.g.
        {"status": "SUCCEEDED", "output": {...}} or {"status": "FAILED", "error": "...", "cause": "..."}.
        Exit status: 0 succeeded, 1 failed (or timed out / aborted), 2 usage error.

Everything runs in this process: moto stands in for AWS (CloudFormation, Step Functions, Lambda, Secrets
Manager) and the Lambda handlers in functions/ run in-process (see local_tools/engine/).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
import sys
import time
import uuid
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

TEMPLATE_URL_PATTERN = re.compile(r"^https?://\S+[^/]$")  # template.yaml's AirbyteApiUrl AllowedPattern
OPERATIONS = ("createJob", "getJob", "cancelJob")  # the handlers whose invocations are progress
STATUS_CHANGE = "Step Functions Execution Status Change"  # the event the ExecutionStopped function gets


# --------------------------------------------------------------------------------------------------- project

def project_root() -> Path:
    """The clone holding template.yaml, functions/ and statemachine/ (local_tools/ lives in it)."""
    root = Path(__file__).resolve().parents[2]
    if not all((root / part).exists() for part in ("template.yaml", "functions", "statemachine")):
        raise SystemExit(f"airbyte-sync: {root} lacks template.yaml, functions/ or statemachine/")
    return root


def local_aws() -> None:
    """Prepare this process for moto: everything AWS is local here.

    A profile selected for real AWS work (AWS_PROFILE) would make boto3 look for it and fail before moto answers.
    moto logs once per resource type its CloudFormation skips (for this template AWS::Scheduler::Schedule and
    AWS::SQS::QueuePolicy, expected; DeployedStack.not_created reports them) and logs an ERROR for every Fail
    state; the execution's result says all of that already.
    """
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(variable, None)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")


# --------------------------------------------------------------------------------------------------- progress

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


class Progress:
    """Turns the engine's handler invocations into one line per Airbyte call, as the execution runs.

    Times come from the state's EnteredTime the machine passes to each handler (context.stateEnteredTime): it is
    on the engine clock, so on a VirtualClock it shows simulated time, not the instant the line is printed.
    """

    def __init__(self, engine: Any, started_at: float, out: TextIO):
        self.engine = engine
        self.started_at = started_at
        self.out = out
        self.seen = 0
        self.polls = 0

    def update(self) -> None:
        invocations = self.engine.invocations[self.seen:]  # appended by the execution's thread; a slice is safe
        self.seen += len(invocations)
        for invocation in invocations:
            event = invocation.event if isinstance(invocation.event, dict) else {}
            operation = event.get("operationId")
            if operation in OPERATIONS:
                self._line(operation, event.get("context") or {}, invocation)
            elif event.get("detail-type") == STATUS_CHANGE:
                self._cleanup_line(event, invocation)

    def _line(self, operation: str, context: dict, invocation: Any) -> None:
        entered = _epoch(context.get("stateEnteredTime"))
        elapsed = "+" + hms(entered - self.started_at) if entered is not None else "+??:??:??"
        retry = f"  (retry {context['retryCount']})" if context.get("retryCount") else ""
        detail = self._detail(operation, invocation)
        if operation == "getJob":
            self.polls += 1
            label = f"poll {self.polls:3d}"
        else:
            label = {"createJob": "trigger ", "cancelJob": "cancel  "}[operation]
        print(f"{label}  {elapsed}  {detail}{retry}", file=self.out, flush=True)

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
        print(f"cleanup   {elapsed}  {detail}", file=self.out, flush=True)

    @staticmethod
    def _detail(operation: str, invocation: Any) -> str:
        try:
            payload = json.loads(invocation.payload)
        except (TypeError, ValueError):
            payload = None
        if invocation.errored or not isinstance(payload, dict):
            error = payload.get("errorType") if isinstance(payload, dict) else None
            return f"error {error or 'unknown'}"
        body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
        text = f"{body.get('status', 'HTTP ' + str(payload.get('statusCode'))):<10}"
        if operation == "createJob" and body.get("jobId") is not None:
            text += f"  job {body['jobId']}"
        elif body.get("rowsSynced"):
            text += f"  rows {body['rowsSynced']:,}  bytes {body.get('bytesSynced', 0):,}"
        return text.rstrip()


def execute(engine: Any, machine_arn: str, execution_input: dict, name: str, out: TextIO,
            interval: float = 0.1) -> tuple[Any, Progress]:
    """Start an execution and print progress until it ends; returns (ExecutionResult, Progress).

    The engine runs the execution in moto's worker thread; this thread only looks every `interval` real
    seconds (describing more often would take the GIL from the execution).
    """
    arn = engine.start_execution(machine_arn, execution_input, name=name)
    started = engine.sfn.describe_execution(executionArn=arn)["startDate"].timestamp()  # on the engine clock
    progress = Progress(engine, started, out)
    try:
        while engine.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            progress.update()
            time.sleep(interval)
    except KeyboardInterrupt:  # Ctrl-C stops the execution (ABORTED) and still reports it
        engine.stop_execution(arn, error="Interrupted", cause="stopped from the command line")
    result = engine.wait(arn, timeout=30.0)
    progress.update()  # every invocation is recorded before the execution can end
    return result, progress


def result_json(result: Any) -> dict:
    if result.status == "SUCCEEDED":
        return {"status": result.status, "output": result.output}
    return {"status": result.status, "error": result.error, "cause": result.cause}


# ------------------------------------------------------------------------------------------------------- demo

DEMO_SCRIPT_NOTE = "pending -> queued -> running (~20 min) -> succeeded"


def demo(args: argparse.Namespace) -> int:
    from local_tools import product
    from local_tools.clock import VirtualClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    wall_start = time.monotonic()
    root = project_root()
    local_aws()
    execution_input = json.loads((root / "events" / "console-input.json").read_text())
    connection_id = execution_input["connectionId"]
    # With the template's default polling (10 s, then 10% of the elapsed time), 34 running polls span about
    # 20 minutes of simulated time.
    script = JobScript.polls("pending", "queued", ("running", 34), "succeeded", rows=1_284_512, bytes=412_733_440)
    client_id, client_secret = "demo-client", secrets.token_urlsafe(16)  # throwaway; never shown

    clock = VirtualClock()
    print("airbyte-sync demo: the state machine from template.yaml, run locally against an Airbyte emulator")
    with AirbyteEmulator(base_path="/v1", auth="client_credentials", client_id=client_id,
                         client_secret=client_secret, clock=clock) as emu:
        emu.add_connection(connection_id, script=script)
        print(f"  airbyte    {emu.base_url}  (emulator, virtual clock; job {DEMO_SCRIPT_NOTE})")
        with product.engine(clock) as engine:
            stack = product.deploy(engine, emu.base_url, {"client_id": client_id, "client_secret": client_secret},
                                   template=root / "template.yaml")
            skipped = ", ".join(sorted(set(stack.not_created)))
            print(f"  stack      {stack.stack_name}: {len(stack.resources)} resources in moto"
                  + (f" (not emulated, not needed here: {skipped})" if skipped else ""))
            print(f"  execution  input from events/console-input.json: {json.dumps(execution_input)}")
            print()
            result, progress = execute(engine, stack.outputs[product.STATE_MACHINE_OUTPUT], execution_input,
                                       name=f"demo-{uuid.uuid4().hex[:8]}", out=sys.stdout)

    print()
    print(f"Execution {result.status}")
    if result.status == "SUCCEEDED":
        print(json.dumps(result.output, indent=2))
    else:
        print(f"  error: {result.error}\n  cause: {result.cause}")
    simulated = result.duration_seconds
    print()
    print("Summary")
    print(f"  polls (getJob calls)   {progress.polls}")
    print(f"  state transitions      {result.transitions}  (state-entered events in the execution history)")
    print(f"  simulated sync time    {hms(simulated) if simulated is not None else 'n/a'}  (virtual clock)")
    print(f"  real wall time         {time.monotonic() - wall_start:.1f} s")
    print()
    print("Next:")
    print("  make test                                   the full test suite (compiler, handlers, machine, template)")
    print("  ./airbyte-sync run --connection-id <uuid> --airbyte-url https://api.airbyte.com/v1")
    print("                                              the same machine against a real Airbyte; credentials from")
    print("                                              AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET or AIRBYTE_TOKEN")
    return 0 if result.status == "SUCCEEDED" else 1


# -------------------------------------------------------------------------------------------------------- run

def credentials_from_env(environ: dict[str, str]) -> dict[str, str]:
    """The secret's JSON for the handlers (see functions/airbyte_client/auth.py): client credentials, a token,
    or {} for no auth. Raises ValueError (a usage error) for an incomplete or ambiguous environment."""
    client_id, client_secret = environ.get("AIRBYTE_CLIENT_ID"), environ.get("AIRBYTE_CLIENT_SECRET")
    token = environ.get("AIRBYTE_TOKEN")
    if (client_id or client_secret) and token:
        raise ValueError("set either AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET or AIRBYTE_TOKEN, not both")
    if bool(client_id) != bool(client_secret):
        raise ValueError("AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET go together")
    if client_id:
        return {"client_id": client_id, "client_secret": client_secret}
    if token:
        return {"token": token}
    return {}


def airbyte_url(text: str) -> str:
    """argparse type: an http(s) base URL; a trailing slash is dropped (the template forbids it)."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not TEMPLATE_URL_PATTERN.match(url):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL, e.g. https://api.airbyte.com/v1 or http://host:8000/api/public/v1")
    return url


def run(args: argparse.Namespace) -> int:
    try:
        secret_value = credentials_from_env(os.environ)
    except ValueError as error:  # a usage error, reported the way argparse reports one
        print(f"airbyte-sync run: error: {error}", file=sys.stderr)
        return 2

    from local_tools import product
    from local_tools.clock import RealClock, VirtualClock

    root = project_root()
    local_aws()
    execution_input: dict[str, Any] = {"connectionId": args.connection_id, "jobType": args.job_type}
    for option, key in (("deadline_seconds", "deadlineSeconds"), ("poll_initial_seconds", "pollInitialSeconds"),
                        ("poll_elapsed_fraction", "pollElapsedFraction"), ("poll_max_seconds", "pollMaxSeconds")):
        if getattr(args, option) is not None:
            execution_input[key] = getattr(args, option)
    clock = VirtualClock() if args.fast else RealClock()
    auth = {"client_id": "client credentials", "token": "bearer token"}.get(next(iter(secret_value), ""), "no auth")
    log = sys.stderr

    try:
        with product.engine(clock) as engine:
            stack = product.deploy(engine, args.airbyte_url, secret_value, template=root / "template.yaml")
            print(f"airbyte-sync: {args.airbyte_url} ({auth}); {'virtual' if args.fast else 'real'} waits; "
                  f"input {json.dumps(execution_input)}", file=log, flush=True)
            result, progress = execute(engine, stack.outputs[product.STATE_MACHINE_OUTPUT], execution_input,
                                       name=f"cli-{uuid.uuid4().hex[:12]}", out=log)
    except Exception as error:  # the local engine itself broke: still answer with one JSON line
        print(f"airbyte-sync: {type(error).__name__}: {error}", file=log)
        print(json.dumps({"status": "ERROR", "error": type(error).__name__, "cause": str(error)}))
        return 1

    simulated = f", {hms(result.duration_seconds)} on the engine clock" if result.duration_seconds else ""
    print(f"airbyte-sync: {result.status} after {progress.polls} polls, {result.transitions} transitions"
          f"{simulated}", file=log, flush=True)
    print(json.dumps(result_json(result)), flush=True)
    return 0 if result.status == "SUCCEEDED" else 1


# ------------------------------------------------------------------------------------------------------- main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airbyte-sync", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{demo,run}")
    commands.add_parser("demo", help="run the whole product locally against an Airbyte emulator (seconds)")

    run_parser = commands.add_parser(
        "run", help="run the state machine locally against an Airbyte API",
        description="Run the state machine (deployed from template.yaml into the local engine) against an Airbyte "
                    "API. Credentials: AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET, or AIRBYTE_TOKEN, or none. "
                    "The last stdout line is the result as JSON; exit 0 succeeded, 1 failed, 2 usage error.")
    run_parser.add_argument("--connection-id", required=True, help="the Airbyte connection UUID")
    run_parser.add_argument("--job-type", default="sync", help="sync (default), reset, refresh or clear")
    run_parser.add_argument("--airbyte-url", required=True, type=airbyte_url,
                            help="Airbyte public API base URL, e.g. https://api.airbyte.com/v1 "
                                 "or http://localhost:8000/api/public/v1")
    run_parser.add_argument("--fast", action="store_true",
                            help="waits on a virtual clock (poll without waiting; for emulators and tests)")
    run_parser.add_argument("--deadline-seconds", type=int, help="give up (cancel the job) after this long")
    run_parser.add_argument("--poll-initial-seconds", type=int, help="first wait and shortest wait between polls")
    run_parser.add_argument("--poll-elapsed-fraction", type=float, help="each wait >= this fraction of the elapsed")
    run_parser.add_argument("--poll-max-seconds", type=int, help="longest wait between polls")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
