"""`airbyte-sync`: run the product's state machine locally, end to end, from the command line.

    ./airbyte-sync demo      (the script at the clone's root runs this module with the project's .venv)
        A local Airbyte (the emulator, on a virtual clock) and the state machine deployed from template.yaml into
        the local engine; one execution with events/console-input.json, shown poll by poll.

    airbyte-sync run --connection-id UUID --airbyte-url URL [--job-type TYPE] [--fast] [--deadline-seconds N]
                     [--poll-initial-seconds N] [--poll-elapsed-fraction F] [--poll-max-seconds N]
    airbyte-sync run --input FILE|- --airbyte-url URL [--fast] [--machine sync|sync-connections]
        The same state machine against any Airbyte API, started as the console starts it. --input: EXACTLY that
        file's JSON (any JSON value) is the execution input, nothing added or checked (- reads stdin); or the
        input is built from the options ({"connectionId", "jobType", ...}); the two forms are exclusive.
        --machine sync-connections runs the stack's second machine (many connections; --input only, e.g.
        events/sync-connections-input.json); each connection's calls are shown after `[<index>] `.

    airbyte-sync put-events --entries FILE|- --airbyte-url URL [--repeat N] [--fast]
        Started as EventBridge starts it: `aws events put-events --entries` entries delivered through the
        template's own rules (see local_tools/cli/put_events.py for the entry format, the local-only `Id` and
        the output for several executions); follows every execution the deliveries started.

    Credentials (run, put-events) come from the environment: AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET
    (application credentials), or AIRBYTE_TOKEN (a bearer token), or none (auth disabled). They go into a local
    Secrets Manager secret and are never printed. --fast puts waits on a virtual clock.
    Progress goes to stderr; the last stdout line is one JSON object, e.g.
    {"status": "SUCCEEDED", "output": {...}} or {"status": "FAILED", "error": "...", "cause": "..."}.
    Just before it, one stdout line per event the execution put on EventBridge (an `events:putEvents` Task, e.g.
    the completion event), oldest first, as a rule's target receives it: EventBridge's envelope as minified JSON,
    {"version":"0","id":...,"detail-type":...,"source":...,"account":...,"time":...,"region":...,
    "resources":[<state machine ARN>,<execution ARN>],"detail":{...}}. `demo` prints them just before its
    "Execution <status>" line.
    Exit status: 0 succeeded, 1 failed (or timed out / aborted, or nothing started), 2 usage error.

Everything runs in this process: moto stands in for AWS (CloudFormation, Step Functions, Lambda, EventBridge,
Secrets Manager) and the Lambda handlers in functions/ run in-process (see local_tools/engine/).
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_tools.cli import put_events
from local_tools.cli.progress import execute, hms, print_events_put, result_json, summary_line

TEMPLATE_URL_PATTERN = re.compile(r"^https?://\S+[^/]$")  # template.yaml's AirbyteApiUrl AllowedPattern
MACHINES = {"sync": "SyncStateMachineArn", "sync-connections": "SyncConnectionsStateMachineArn"}  # stack outputs
BUILT_INPUT_OPTIONS = (
    "connection_id",
    "job_type",
    "deadline_seconds",
    "poll_initial_seconds",
    "poll_elapsed_fraction",
    "poll_max_seconds",
)  # exclusive with --input


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
    with AirbyteEmulator(
        base_path="/v1", auth="client_credentials", client_id=client_id, client_secret=client_secret, clock=clock
    ) as emu:
        emu.add_connection(connection_id, script=script)
        print(f"  airbyte    {emu.base_url}  (emulator, virtual clock; job {DEMO_SCRIPT_NOTE})")
        with product.engine(clock) as engine:
            stack = product.deploy(
                engine,
                emu.base_url,
                {"client_id": client_id, "client_secret": client_secret},
                template=root / "template.yaml",
            )
            skipped = ", ".join(sorted(set(stack.not_created)))
            print(
                f"  stack      {stack.stack_name}: {len(stack.resources)} resources in moto"
                + (f" (not emulated, not needed here: {skipped})" if skipped else "")
            )
            print(f"  execution  input from events/console-input.json: {json.dumps(execution_input)}")
            print()
            result, progress = execute(
                engine,
                stack.outputs[product.STATE_MACHINE_OUTPUT],
                execution_input,
                name=f"demo-{uuid.uuid4().hex[:8]}",
                out=sys.stdout,
            )
            print()
            print_events_put(engine, [result.execution_arn], sys.stdout)

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


def credentials_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The secret's JSON for the handlers (see functions/airbyte_client/auth.py): client credentials, a token,
    or {} for no auth. Raises ValueError (a usage error) for an incomplete or ambiguous environment."""
    client_id, client_secret = environ.get("AIRBYTE_CLIENT_ID"), environ.get("AIRBYTE_CLIENT_SECRET")
    token = environ.get("AIRBYTE_TOKEN")
    if (client_id or client_secret) and token:
        raise ValueError("set either AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET or AIRBYTE_TOKEN, not both")
    if bool(client_id) != bool(client_secret):
        raise ValueError("AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET go together")
    if client_id and client_secret:  # both or neither (checked above)
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
            f"{text!r} is not an http(s) URL, e.g. https://api.airbyte.com/v1 or http://host:8000/api/public/v1"
        )
    return url


def read_input(source: str) -> str:
    """--input: the JSON text of FILE (or stdin for -), unchanged; ValueError when it is unreadable or not JSON
    (the console and StartExecution refuse those too)."""
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(source).read_text()
        except OSError as error:
            raise ValueError(f"cannot read --input {source}: {error.strerror}") from None
    try:
        json.loads(text)
    except ValueError as error:
        raise ValueError(f"--input {source} is not JSON: {error}") from None
    return text


def built_input(args: argparse.Namespace) -> dict[str, Any]:
    execution_input: dict[str, Any] = {"connectionId": args.connection_id, "jobType": args.job_type or "sync"}
    for option, key in (
        ("deadline_seconds", "deadlineSeconds"),
        ("poll_initial_seconds", "pollInitialSeconds"),
        ("poll_elapsed_fraction", "pollElapsedFraction"),
        ("poll_max_seconds", "pollMaxSeconds"),
    ):
        if getattr(args, option) is not None:
            execution_input[key] = getattr(args, option)
    return execution_input


def usage_error(command: str, message: str) -> int:
    """Reported the way argparse reports one: stderr, exit 2, nothing on stdout."""
    print(f"airbyte-sync {command}: error: {message}", file=sys.stderr)
    return 2


def with_deployed_product(
    args: argparse.Namespace, command: str, body: Callable[[Any, dict[str, str], Any], int]
) -> int:
    """Deploy template.yaml against --airbyte-url with the environment's credentials, then
    `body(engine, stack_outputs, log)`; a broken local engine still answers with one JSON line."""
    try:
        secret_value = credentials_from_env(os.environ)
    except ValueError as error:
        return usage_error(command, str(error))

    from local_tools import product
    from local_tools.clock import RealClock, VirtualClock

    root = project_root()
    local_aws()
    clock = VirtualClock() if args.fast else RealClock()
    auth = {"client_id": "client credentials", "token": "bearer token"}.get(next(iter(secret_value), ""), "no auth")
    log = sys.stderr
    try:
        with product.engine(clock) as engine:
            stack = product.deploy(
                engine,
                args.airbyte_url,
                secret_value,
                template=root / "template.yaml",
                parameters=dict(args.parameter or []),
            )
            print(
                f"airbyte-sync: {args.airbyte_url} ({auth}); {'virtual' if args.fast else 'real'} waits",
                file=log,
                flush=True,
            )
            return body(engine, stack.outputs, log)
    except Exception as error:  # the local engine itself broke
        print(f"airbyte-sync: {type(error).__name__}: {error}", file=log)
        print(json.dumps({"status": "ERROR", "error": type(error).__name__, "cause": str(error)}))
        return 1


def run(args: argparse.Namespace) -> int:
    if args.input is not None:
        given = [f"--{option.replace('_', '-')}" for option in BUILT_INPUT_OPTIONS if getattr(args, option) is not None]
        if given:
            return usage_error("run", f"--input is the whole execution input: it excludes {', '.join(given)}")
        try:
            execution_input: Any = read_input(args.input)  # the text itself: passed on exactly
        except ValueError as error:
            return usage_error("run", str(error))
        shown = json.dumps(json.loads(execution_input))
    elif args.machine != "sync":
        return usage_error(
            "run",
            f"--machine {args.machine} takes its input from --input FILE (e.g. events/sync-connections-input.json)",
        )
    elif args.connection_id is None:
        return usage_error("run", "give --input FILE, or --connection-id UUID (with the other input options)")
    else:
        execution_input = built_input(args)
        shown = json.dumps(execution_input)

    def start(engine: Any, outputs: dict[str, str], log: Any) -> int:
        print(f"airbyte-sync: input {shown}", file=log, flush=True)
        many = args.machine == "sync-connections"
        result, progress = execute(
            engine,
            outputs[MACHINES[args.machine]],
            execution_input,
            name=f"cli-{uuid.uuid4().hex[:12]}",
            out=log,
            children_of=outputs[MACHINES["sync"]] if many else None,
        )
        print(f"airbyte-sync: {summary_line(result, progress)}", file=log, flush=True)
        # sync-connections puts no event itself: each connection's sync puts its completion event.
        children = [
            execution["executionArn"]
            for execution in engine.sfn.list_executions(stateMachineArn=outputs[MACHINES["sync"]])["executions"]
            if progress.children and execution["executionArn"].startswith(progress.children)
        ]
        print_events_put(engine, [result.execution_arn, *children], sys.stdout)
        print(json.dumps(result_json(result)), flush=True)
        return 0 if result.status == "SUCCEEDED" else 1

    return with_deployed_product(args, "run", start)


def put_events_command(args: argparse.Namespace) -> int:
    try:
        entries = put_events.read_and_check(args.entries)
    except ValueError as error:
        return usage_error("put-events", str(error))
    return with_deployed_product(
        args,
        "put-events",
        lambda engine, outputs, log: put_events.deliver_and_follow(engine, entries, args.repeat, log),
    )


# ------------------------------------------------------------------------------------------------------- main


def add_airbyte_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--airbyte-url",
        required=True,
        type=airbyte_url,
        help="Airbyte public API base URL, e.g. https://api.airbyte.com/v1 or http://localhost:8000/api/public/v1",
    )
    parser.add_argument(
        "--fast", action="store_true", help="waits on a virtual clock (poll without waiting; for emulators and tests)"
    )
    parser.add_argument(
        "--parameter",
        action="append",
        type=template_parameter,
        metavar="NAME=VALUE",
        help="a template.yaml parameter for the local deployment, e.g. MinPollSeconds=1 or "
        "EventJobTypes=sync,reset (repeatable)",
    )


def template_parameter(text: str) -> tuple[str, str]:
    """argparse type: NAME=VALUE."""
    name, sep, value = text.partition("=")
    if not sep or not name.isalnum():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airbyte-sync", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{demo,run,put-events}")
    commands.add_parser(
        "demo",
        help="run the whole product locally against an Airbyte emulator (seconds)",
        description="Run the whole product locally against an Airbyte emulator, poll by poll; each "
        "event the execution put on EventBridge is one JSON line (as a rule's target "
        "receives it) just before the 'Execution <status>' line.",
    )

    run_parser = commands.add_parser(
        "run",
        help="start the state machine locally against an Airbyte API, as the console does",
        description="Run the state machine (deployed from template.yaml into the local engine) against an Airbyte "
        "API. The input: --input FILE (exactly that JSON, any value; - for stdin), or built from "
        "--connection-id and the other input options. Credentials: AIRBYTE_CLIENT_ID + "
        "AIRBYTE_CLIENT_SECRET, or AIRBYTE_TOKEN, or none. The last stdout line is the result as JSON; "
        "each line before it is one event the execution put on EventBridge, as a rule's target receives "
        "it. Exit 0 succeeded, 1 failed, 2 usage error.",
    )
    run_parser.add_argument(
        "--input",
        metavar="FILE",
        help="the whole execution input, as the console takes it (- for stdin); excludes the options below",
    )
    run_parser.add_argument(
        "--machine",
        choices=sorted(MACHINES),
        default="sync",
        help="sync (default): one connection; sync-connections: many (--input only)",
    )
    run_parser.add_argument("--connection-id", help="the Airbyte connection UUID")
    run_parser.add_argument("--job-type", help="sync (default), reset, refresh or clear")
    add_airbyte_options(run_parser)
    run_parser.add_argument("--deadline-seconds", type=int, help="give up (cancel the job) after this long")
    run_parser.add_argument("--poll-initial-seconds", type=int, help="first wait and shortest wait between polls")
    run_parser.add_argument("--poll-elapsed-fraction", type=float, help="each wait >= this fraction of the elapsed")
    run_parser.add_argument("--poll-max-seconds", type=int, help="longest wait between polls")

    put_events.add_parser(commands, add_airbyte_options)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    if args.command == "put-events":
        return put_events_command(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
