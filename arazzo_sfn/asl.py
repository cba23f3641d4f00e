"""Amazon States Language as typed states, and the one way they become JSON.

lower.py builds these with every transition known when a state is built; `Definition.to_json()` writes them in
the order they were reserved, deterministically (same definition, same bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

Json = object


@dataclass(frozen=True)
class Retrier:
    errors: list[str]
    interval_seconds: float | None = None
    max_attempts: float | None = None
    backoff_rate: float | None = None
    max_delay_seconds: float | None = None
    jitter: str | None = "FULL"

    def to_json(self) -> dict:
        out: dict[str, Json] = {"ErrorEquals": self.errors}
        for key, value in (
            ("IntervalSeconds", self.interval_seconds),
            ("MaxAttempts", self.max_attempts),
            ("BackoffRate", self.backoff_rate),
            ("MaxDelaySeconds", self.max_delay_seconds),
            ("JitterStrategy", self.jitter),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Catcher:
    errors: list[str]
    next: str
    assign: dict | None = None
    output: str | None = None  # the next state's input (default: the error output)

    def to_json(self) -> dict:
        return {
            "ErrorEquals": self.errors,
            **({"Assign": self.assign} if self.assign else {}),
            **({"Output": self.output} if self.output is not None else {}),
            "Next": self.next,
        }


@dataclass(frozen=True)
class ChoiceRule:
    condition: str
    next: str
    assign: dict | None = None

    def to_json(self) -> dict:
        return {"Condition": self.condition, **({"Assign": self.assign} if self.assign else {}), "Next": self.next}


@dataclass(frozen=True)
class Pass:
    assign: dict
    next: str

    def to_json(self) -> dict:
        return {"Type": "Pass", "Assign": self.assign, "Next": self.next}


@dataclass(frozen=True)
class Choice:
    choices: list[ChoiceRule]
    default: str

    def to_json(self) -> dict:
        return {"Type": "Choice", "Choices": [rule.to_json() for rule in self.choices], "Default": self.default}


@dataclass(frozen=True)
class Wait:
    seconds: str
    next: str

    def to_json(self) -> dict:
        return {"Type": "Wait", "Seconds": self.seconds, "Next": self.next}


@dataclass(frozen=True)
class Fail:
    error: str
    cause: str

    def to_json(self) -> dict:
        return {"Type": "Fail", "Error": self.error, "Cause": self.cause}


@dataclass(frozen=True)
class Succeed:
    output: str

    def to_json(self) -> dict:
        return {"Type": "Succeed", "Output": self.output}


@dataclass(frozen=True)
class Task:
    """A Task; `next` None ends the execution. `catch_first` writes Catch before Next (the service-integration
    Tasks' layout), else after it."""

    resource: str
    arguments: dict
    next: str | None
    timeout_seconds: int | None = None
    retry: list[Retrier] = field(default_factory=list)
    assign: dict | None = None
    output: str | None = None
    catch: list[Catcher] = field(default_factory=list)
    catch_first: bool = False

    def to_json(self) -> dict:
        out: dict[str, Json] = {"Type": "Task", "Resource": self.resource, "Arguments": self.arguments}
        if self.timeout_seconds:
            out["TimeoutSeconds"] = self.timeout_seconds
        if self.retry:
            out["Retry"] = [retrier.to_json() for retrier in self.retry]
        if self.assign:
            out["Assign"] = self.assign
        if self.output is not None:
            out["Output"] = self.output
        catch = {"Catch": [catcher.to_json() for catcher in self.catch]} if self.catch else {}
        end = {"Next": self.next} if self.next else {"End": True}
        out.update({**catch, **end} if self.catch_first else {**end, **catch})
        return out


@dataclass(frozen=True)
class Map:
    """An Inline Map state: each item of `items` through the processor's states, at most `max_concurrency` at a
    time (0: no limit); the result is the list of each iteration's output, in item order."""

    items: str
    item_selector: dict
    max_concurrency: int | str
    processor: States
    start_at: str
    assign: dict
    next: str

    def to_json(self) -> dict:
        return {
            "Type": "Map",
            "Items": self.items,
            "ItemSelector": self.item_selector,
            **({"MaxConcurrency": self.max_concurrency} if self.max_concurrency else {}),
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": self.start_at,
                "States": self.processor.to_json(),
            },
            "Assign": self.assign,
            "Next": self.next,
        }


State = Pass | Choice | Wait | Fail | Succeed | Task | Map


class States:
    """The states of a machine in order: a name is reserved where it belongs, and filled once when built."""

    def __init__(self) -> None:
        self._states: dict[str, State | None] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._states

    def reserve(self, name: str) -> str:
        self._states.setdefault(name, None)
        return name

    def put(self, name: str, state: State) -> str:
        self._states[name] = state
        return name

    def names(self) -> list[str]:
        """Every state name, those inside Map processors too (names are unique across the machine)."""
        names = []
        for name, state in self._states.items():
            names.append(name)
            if isinstance(state, Map):
                names.extend(state.processor.names())
        return names

    def to_json(self) -> dict:
        missing = [name for name, state in self._states.items() if state is None]
        assert not missing, f"states reserved but never built: {missing}"
        return {name: state.to_json() for name, state in self._states.items() if state is not None}


@dataclass
class Definition:
    comment: str
    start_at: str
    states: States

    def to_dict(self) -> dict:
        return {
            "Comment": self.comment,
            "QueryLanguage": "JSONata",
            "StartAt": self.start_at,
            "States": self.states.to_json(),
        }

    def to_json(self) -> str:
        """Deterministic text: same definition, same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
