"""`airbyte-sync put-events`: deliver `aws events put-events --entries` entries through the deployed template's own
EventBridge rules, then follow every execution those deliveries started, directly or through a Lambda target.

Output (stdout; progress and delivery lines go to stderr):
  one execution      one line, exactly `run`'s: {"status": "SUCCEEDED", "output": {...}} or
                     {"status": "FAILED", "error": "...", "cause": "..."}
  several            one line per execution, oldest first: {"executionArn": "...", "status": ..., ...as run};
                     then a summary line: {"status": "SUCCEEDED" | "FAILED", "executions": N,
                     "statuses": {"SUCCEEDED": n, ...}} ("SUCCEEDED" only if every execution succeeded)
  none started       {"status": "NOT_STARTED", "error": "NoExecutionStarted", "cause": "<each delivery>"}
  an entry no rule matches (nothing is delivered then)
                     {"status": "NOT_DELIVERED", "error": "NoMatchingRule", "cause": "<the entries>"}
Before the first result line: one line per event the followed executions put on EventBridge (events:putEvents,
e.g. the completion event), oldest first, as a rule's target receives it (EventBridge's envelope, minified JSON).
The last stdout line is always one JSON object. Exit status: 0 every execution succeeded; 1 otherwise; 2 usage
error (unreadable file, an entry PutEvents would refuse: its ErrorCode is named).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from local_tools.cli.progress import follow, print_events_put, result_json, summary_line

ACCOUNT_FOR_CHECKS = "000000000000"  # entries are checked before the engine (and its account) exists


def read_entries(source: str, stdin: TextIO) -> list[Any]:
    """The JSON list of entries from a file (`file://` prefix accepted, as the AWS CLI takes it) or `-` (stdin);
    ValueError names what is wrong."""
    if source == "-":
        text = stdin.read()
    else:
        path = Path(source[len("file://") :] if source.startswith("file://") else source)
        try:
            text = path.read_text()
        except OSError as error:
            raise ValueError(f"cannot read --entries {source}: {error.strerror}") from None
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise ValueError(f"--entries {source} is not JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError(f"--entries {source} must be a JSON list of entries, not {type(entries).__name__}")
    return entries


def check_entries(entries: list[Any]) -> None:
    """What `aws events put-events` and PutEvents refuse, before anything is deployed: ValueError."""
    from local_tools.engine.event_entries import EntryError, check_request, event_from_entry

    try:
        check_request(entries)
    except EntryError as error:
        raise ValueError(str(error)) from None
    for number, entry in enumerate(entries, 1):
        if isinstance(entry, dict) and "Detail" in entry and not isinstance(entry["Detail"], str):
            raise ValueError(
                f"entry {number}: Detail must be JSON text (a string), as the AWS CLI requires, "
                f"not {type(entry['Detail']).__name__}"
            )
        try:
            event_from_entry(entry, account=ACCOUNT_FOR_CHECKS, region="us-east-1", now=0.0)
        except EntryError as error:
            raise ValueError(f"entry {number}: {error}") from None


def deliver_and_follow(engine: Any, entries: list[dict], repeat: int, log: TextIO) -> int:
    """Deliver every entry `repeat` times (each entry is one event: its redeliveries keep its id), then follow
    the executions started; prints the result lines; returns the exit status."""
    events = [engine.event_from_entry(entry) for entry in entries]
    unmatched = []
    for number, bus_event in enumerate(events, 1):
        rules = _rules_or_error(engine, bus_event)
        event = bus_event.event
        where = f"entry {number} (Source {event['source']!r}, DetailType {event['detail-type']!r}, bus {bus_event.bus})"
        if isinstance(rules, str) or not rules:
            unmatched.append(f"{where} {rules or 'matches no rule'}")
            print(f"airbyte-sync: {unmatched[-1]}", file=log, flush=True)
        else:
            print(
                f"event {number}  id {event['id']}  -> rule(s) {', '.join(rule['Name'] for rule in rules)}",
                file=log,
                flush=True,
            )
    if unmatched:
        print(
            json.dumps(
                {
                    "status": "NOT_DELIVERED",
                    "error": "NoMatchingRule",
                    "cause": "; ".join(unmatched) + "; nothing was delivered",
                }
            ),
            flush=True,
        )
        return 1

    publication = engine.publish([bus_event for _ in range(repeat) for bus_event in events])
    for delivery in publication.deliveries:
        print(
            f"delivered event {delivery.event_id} to {_short(delivery.target_arn)}: {_outcome(delivery)}",
            file=log,
            flush=True,
        )
    if not publication.execution_arns:
        cause = "; ".join(f"{_short(d.target_arn)}: {_outcome(d)}" for d in publication.deliveries)
        print("airbyte-sync: the deliveries started no execution", file=log, flush=True)
        print(json.dumps({"status": "NOT_STARTED", "error": "NoExecutionStarted", "cause": cause}), flush=True)
        return 1
    for arn in publication.execution_arns:
        print(f"execution {arn.rsplit(':', 1)[-1]} started", file=log, flush=True)
    print(file=log, flush=True)

    followed = follow(engine, publication.execution_arns, log)
    for result, progress in followed:
        name = result.execution_arn.rsplit(":", 1)[-1]
        print(f"airbyte-sync: {name} {summary_line(result, progress)}", file=log, flush=True)
    print_events_put(engine, publication.execution_arns, sys.stdout)
    if len(followed) == 1:
        print(json.dumps(result_json(followed[0][0])), flush=True)
    else:
        statuses: dict[str, int] = {}
        for result, _ in followed:
            print(json.dumps({"executionArn": result.execution_arn, **result_json(result)}), flush=True)
            statuses[result.status] = statuses.get(result.status, 0) + 1
        overall = "SUCCEEDED" if set(statuses) == {"SUCCEEDED"} else "FAILED"
        print(json.dumps({"status": overall, "executions": len(followed), "statuses": statuses}), flush=True)
    return 0 if all(result.status == "SUCCEEDED" for result, _ in followed) else 1


def _rules_or_error(engine: Any, bus_event: Any) -> list[dict] | str:
    try:
        return engine.rules_matching(bus_event.event, bus_event.bus)
    except Exception as error:  # e.g. ResourceNotFoundException: no such bus
        return f"cannot be delivered: {getattr(error, 'response', {}).get('Error', {}).get('Message') or error}"


def _short(arn: str) -> str:
    """`stateMachine:<name>` or `function:<name>` from a target ARN."""
    parts = arn.split(":")
    return ":".join(parts[5:7]) if len(parts) >= 7 else arn


def _outcome(delivery: Any) -> str:
    if delivery.error:
        return f"failed: {delivery.error}"
    if delivery.execution_arn:
        return f"started execution {delivery.execution_arn.rsplit(':', 1)[-1]}"
    payload = delivery.lambda_payload
    tries = f" after {delivery.attempts} attempts" if delivery.attempts > 1 else ""
    if delivery.lambda_errored:
        error = payload.get("errorType") if isinstance(payload, dict) else None
        message = str(payload.get("errorMessage", ""))[:160] if isinstance(payload, dict) else ""
        return f"function error {error or 'unknown'}{tries}: {message}"
    return f"invoked asynchronously{tries}, answered {json.dumps(payload)[:160]}"


def add_parser(commands: Any, add_airbyte_options: Any) -> None:
    parser = commands.add_parser(
        "put-events",
        help="send EventBridge entries through the template's own rules, follow the executions",
        description=__doc__.split("\n\n")[0] + " Entries: the `aws events put-events --entries` format, a JSON "
        "list of {Source, DetailType, Detail (JSON text), EventBusName?, Resources?, Time?}; the "
        "local-only `Id` pins the event id (EventBridge delivers at least once: a redelivery keeps "
        "it).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument(
        "--entries", required=True, metavar="FILE", help="the entries file (file://FILE works too), or - for stdin"
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=1,
        metavar="N",
        help="deliver each entry N times, with the same event id (default 1)",
    )
    add_airbyte_options(parser)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def read_and_check(source: str) -> list[dict]:
    entries = read_entries(source, sys.stdin)
    check_entries(entries)
    return entries
