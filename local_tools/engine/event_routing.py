"""EventBridge as the local engine runs it: PutEvents entries become events, moto decides which rules they match,
and each target gets its input and its delivery the way EventBridge does it (moto's put_events cannot deliver
to state machine or Lambda targets).

Entries: event_entries.py.

Matching: moto's own EventPattern (seams/event_patterns.py).

Target input (AWS EventBridge user guide, "Amazon EventBridge input transformation"):
  Input             the constant text
  InputPath         the JSONPath's value as JSON (null when it matches nothing: undocumented)
  InputTransformer  InputPathsMap variables (JSONPath by jsonpath-ng) and the predefined aws.events.rule-arn,
                    aws.events.rule-name, aws.events.event (the event without detail), aws.events.event.json
                    (the whole event) and aws.events.event.ingestion-time, placed in InputTemplate:
                    - outside a JSON string a placeholder becomes the value as JSON (a string gets quotes);
                    - inside a string it becomes the value's text NOT escaped ("EventBridge doesn't escape values
                      extracted by Input Path"), objects and arrays with their quotes removed;
                    - a variable whose path matches nothing "isn't created and won't appear in the output":
                      its placeholder becomes nothing;
                    - a `<name>` that is no variable stays as written.
  (none)            the whole event
A state machine or Lambda target needs JSON: an input that is not JSON fails the delivery. moto has an
InputTransformer (moto.events.utils.EventTemplateParser) that breaks these rules ({"a": <s>} with a string s is
invalid JSON, a missing path stays "<name>", false becomes False), so the engine keeps this one.

Delivery: a state machine target starts an execution (named like EventBridge's, a fresh UUID: a redelivered
event starts another one); a Lambda target is invoked asynchronously, in its own thread, and a function error
is retried twice, 60 s and 120 s later on the engine clock (Lambda's defaults for asynchronous invocation).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from local_tools.engine.event_entries import BusEvent, iso_time
from local_tools.engine.seams import event_pattern_matcher

if TYPE_CHECKING:
    from local_tools.engine.engine import LocalEngine

ASYNC_RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous invocation: two retries of a function error
_ABSENT = object()


@dataclass
class Delivery:
    """One event delivered to one rule target. Lambda deliveries finish in the background: wait() for them."""

    rule: str
    target_arn: str
    event_id: str
    input: str = ""
    execution_arn: str | None = None  # when the target is a state machine
    lambda_payload: Any = None  # when the target is a Lambda function: its last answer
    lambda_errored: bool = False
    attempts: int = 0  # Lambda invocations (1 + retries of a function error)
    error: str | None = None  # a delivery that failed
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


@dataclass
class Publication:
    """What publishing some events did: every delivery, the events no rule matched, and the executions started
    while the deliveries ran (by a state machine target, or by a Lambda target calling StartExecution)."""

    deliveries: list[Delivery]
    unmatched: list[BusEvent]
    execution_arns: list[str]  # oldest first


# --- matching --------------------------------------------------------------------------------------------------

_matcher = None


def matches(pattern: str | Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether `event` matches an EventBridge event pattern (its JSON text, or parsed), by moto's matcher."""
    global _matcher
    if _matcher is None:
        _matcher = event_pattern_matcher()
    return _matcher(pattern if isinstance(pattern, str) else json.dumps(pattern), event)


# --- target input ----------------------------------------------------------------------------------------------


def select_path(document: Any, path: str) -> Any:
    """A JSONPath's value in `document`: one value, a list for a wildcard, _ABSENT when nothing matches."""
    from jsonpath_ng import parse

    try:
        found = [match.value for match in parse(path).find(document)]
    except Exception as error:  # jsonpath-ng raises its own lexer/parser exceptions
        raise ValueError(f"invalid JSONPath {path!r}: {error}") from None
    if not found:
        return _ABSENT
    return found if "*" in path else found[0]


def target_input(
    target: Mapping[str, Any],
    event: Mapping[str, Any],
    *,
    rule_name: str = "",
    rule_arn: str = "",
    ingestion_time: float | None = None,
) -> str:
    """The text a rule target receives for `event` (see the module docstring for the rules)."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        value = select_path(event, target["InputPath"])
        return _json(None if value is _ABSENT else value)
    transformer = target.get("InputTransformer")
    if not transformer:
        return event_json(event)
    variables: dict[str, Any] = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event": {key: value for key, value in event.items() if key != "detail"},
        "aws.events.event.json": dict(event),
        "aws.events.event.ingestion-time": iso_time(ingestion_time, milliseconds=True) if ingestion_time else _ABSENT,
    }
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        variables[name] = select_path(event, path)
    return render_template(transformer["InputTemplate"], variables)


_PLACEHOLDER = re.compile(r"<([^<>\s\"]+)>")


def render_template(template: str, variables: Mapping[str, Any]) -> str:
    """InputTemplate with its placeholders filled; which rule applies depends on being inside a JSON string."""
    out: list[str] = []
    in_string, index = False, 0
    while index < len(template):
        char = template[index]
        if in_string and char == "\\":
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, index)
            if match and match.group(1) in variables:
                value = variables[match.group(1)]
                out.append("" if value is _ABSENT else _string_text(value) if in_string else _json(value))
                index = match.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _string_text(value: Any) -> str:
    if isinstance(value, str):
        return value  # not escaped, as EventBridge does
    text = _json(value)
    return text.replace('"', "") if isinstance(value, (dict, list)) else text


def event_json(event: Mapping[str, Any]) -> str:
    """The text a rule target without Input, InputPath or InputTransformer receives: the whole event."""
    return _json(event)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)  # EventBridge sends minified JSON


# --- delivery --------------------------------------------------------------------------------------------------


class EventRouter:
    """Delivers events to the rules and targets in the engine's (moto's) EventBridge."""

    def __init__(self, engine: LocalEngine):
        self.engine = engine
        self._lock = threading.Lock()

    def publish(self, events: Iterable[BusEvent], timeout: float | None = None) -> Publication:
        """Route each event, wait (real seconds; None: as long as it takes) until every delivery is done, and find
        the executions started meanwhile by listing executions before and after."""
        before = self._execution_starts()
        deliveries, unmatched = [], []
        for bus_event in events:
            routed = self.route_event(bus_event.event, bus_event.bus)
            deliveries.extend(routed)
            if not routed:
                unmatched.append(bus_event)
        give_up_at = None if timeout is None else time.monotonic() + timeout
        for delivery in deliveries:
            delivery.wait(None if give_up_at is None else max(0.0, give_up_at - time.monotonic()))
        after = self._execution_starts()
        started = sorted((start, arn) for arn, start in after.items() if arn not in before)
        return Publication(deliveries=deliveries, unmatched=unmatched, execution_arns=[arn for _, arn in started])

    def rules_matching(self, event: Mapping[str, Any], bus: str = "default") -> list[dict[str, Any]]:
        """The bus's enabled pattern rules `event` matches (schedule rules never fire locally)."""
        return [
            rule
            for rule in self._rules(bus)
            if rule.get("State", "ENABLED") == "ENABLED"
            and rule.get("EventPattern")
            and matches(rule["EventPattern"], event)
        ]

    def route_event(self, event: Mapping[str, Any], bus: str = "default") -> list[Delivery]:
        deliveries: list[Delivery] = []
        for rule in self.rules_matching(event, bus):
            targets = self.engine.events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
            deliveries.extend(self._deliver(rule, target, dict(event)) for target in targets)
        return deliveries

    def _deliver(self, rule: Mapping[str, Any], target: Mapping[str, Any], event: dict[str, Any]) -> Delivery:
        arn = target["Arn"]
        delivery = Delivery(rule=rule["Name"], target_arn=arn, event_id=str(event.get("id", "")))
        with self._lock:
            self.engine.deliveries.append(delivery)
        try:
            delivery.input = target_input(
                target,
                event,
                rule_name=rule["Name"],
                rule_arn=rule.get("Arn", ""),
                ingestion_time=self.engine.clock.now(),
            )
            json.loads(delivery.input)
        except ValueError as error:
            delivery.error = f"the target input is not JSON: {error} (input {delivery.input[:200]!r})"
            delivery.done.set()
            return delivery
        if ":states:" in arn and ":stateMachine:" in arn:
            try:
                delivery.execution_arn = self.engine.start_execution(arn, delivery.input, name=str(uuid.uuid4()))
            except Exception as error:  # EventBridge records a failed delivery; PutEvents still succeeded
                delivery.error = f"{type(error).__name__}: {error}"
            delivery.done.set()
        elif ":lambda:" in arn and ":function:" in arn:
            threading.Thread(
                target=self._invoke_async, args=(delivery,), daemon=True, name=f"event-{delivery.event_id[:8]}"
            ).start()
        elif arn.startswith("arn:aws:sqs:"):
            self._send_to_queue(delivery)
        else:
            delivery.error = f"target type not supported by the local engine: {arn}"
            delivery.done.set()
        return delivery

    def _send_to_queue(self, delivery: Delivery) -> None:
        """An SQS target: the event (or the target's input) is the message body, as EventBridge sends it."""
        _, _, _, region, account, name = delivery.target_arn.split(":", 5)
        try:
            sqs = boto3.client("sqs", region_name=region)
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=delivery.input)
        except Exception as error:  # EventBridge records a failed delivery; PutEvents still succeeded
            delivery.error = f"{type(error).__name__}: {error}"
        delivery.done.set()

    def _invoke_async(self, delivery: Delivery) -> None:
        try:
            for delay in (0.0, *ASYNC_RETRY_DELAYS):
                self.engine.clock.sleep(delay)
                delivery.attempts += 1
                response = self.engine.lambda_.invoke(FunctionName=delivery.target_arn, Payload=delivery.input.encode())
                delivery.lambda_errored = "FunctionError" in response
                delivery.lambda_payload = json.loads(response["Payload"].read() or b"null")
                if not delivery.lambda_errored:
                    break
        except Exception as error:  # the invocation itself failed (not the function): recorded, never raised
            delivery.error = f"{type(error).__name__}: {error}"
        finally:
            delivery.done.set()

    def _rules(self, bus: str) -> list[dict[str, Any]]:
        rules, token = [], None
        while True:
            page = self.engine.events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
            rules.extend(page["Rules"])
            token = page.get("NextToken")
            if not token:
                return rules

    def _execution_starts(self) -> dict[str, float]:
        """Every execution of every state machine -> its start (epoch seconds)."""
        sfn, starts = self.engine.sfn, {}
        for machine in _pages(sfn.list_state_machines, "stateMachines"):
            for execution in _pages(sfn.list_executions, "executions", stateMachineArn=machine["stateMachineArn"]):
                starts[execution["executionArn"]] = execution["startDate"].timestamp()
        return starts


def _pages(operation: Any, key: str, **arguments: Any) -> list[dict[str, Any]]:
    items, token = [], None
    while True:
        page = operation(**arguments, **({"nextToken": token} if token else {}))
        items.extend(page[key])
        token = page.get("nextToken")
        if not token:
            return items
