"""EventBridge rule matching and target input, for the local engine (moto's put_events cannot route to rules).

Supported event-pattern syntax: exact values (strings, numbers, booleans, null) in lists, nested objects,
`prefix`, `suffix`, `equals-ignore-case`, `exists`, `anything-but` (value, list or {prefix}), `numeric`
(comparisons). Not supported: `wildcard`, `cidr`, `$or`. Target input: `Input`, `InputPath` (dotted JSONPath
like `$.detail`), `InputTransformer` (InputPathsMap + InputTemplate), or the whole event.
"""
from __future__ import annotations

import json
import operator
import re
from typing import Any

_MISSING = object()


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether `event` matches an EventBridge event `pattern` (both already parsed)."""
    for key, expected in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if value is _MISSING or not isinstance(value, dict) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _matches_any(expected, value):
                return False
        else:
            raise ValueError(f"event pattern field {key!r} must be a list or an object, got {expected!r}")
    return True


def _matches_any(conditions: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]  # an array in the event matches if any element does
    return any(_matches_one(condition, candidate) for condition in conditions for candidate in values)


def _matches_one(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):  # an exact value
        if value is _MISSING:
            return False
        if _is_number(condition) and _is_number(value):
            return value == condition
        return type(value) is type(condition) and value == condition
    (kind, argument), = condition.items()
    if kind == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return kind == "anything-but"
    if kind == "prefix":
        return isinstance(value, str) and _string_test(argument, value, str.startswith)
    if kind == "suffix":
        return isinstance(value, str) and _string_test(argument, value, str.endswith)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == argument.lower()
    if kind == "anything-but":
        if isinstance(argument, list):
            return value not in argument
        if isinstance(argument, dict):
            return not _matches_one(argument, value)
        return value != argument
    if kind == "numeric":
        return _numeric(argument, value)
    raise ValueError(f"event pattern operator {kind!r} is not supported by the local engine")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _string_test(argument: Any, value: str, test: Any) -> bool:
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        return test(value.lower(), argument["equals-ignore-case"].lower())
    return test(value, argument)


_NUMERIC_OPERATORS = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">": operator.gt, ">=": operator.ge}


def _numeric(argument: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    pairs = zip(argument[0::2], argument[1::2])
    return all(_NUMERIC_OPERATORS[symbol](value, bound) for symbol, bound in pairs)


# --- target input ------------------------------------------------------------------------------------------------

def select_path(document: Any, path: str) -> Any:
    """A dotted JSONPath (`$`, `$.detail`, `$.detail.items[0]`) applied to `document`; None when absent."""
    if path in ("$", ""):
        return document
    if not path.startswith("$."):
        raise ValueError(f"unsupported JSONPath {path!r} (the local engine supports $.a.b[0])")
    current = document
    for name, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:]):
        try:
            current = current[int(index)] if index else current[name]
        except (KeyError, IndexError, TypeError):
            return None
    return current


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The JSON text a rule target receives for `event`."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        return json.dumps(select_path(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if transformer:
        return _apply_input_transformer(transformer, event)
    return json.dumps(event)


def _apply_input_transformer(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    values = {name: select_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.setdefault("aws.events.event.json", event)
    template: str = transformer["InputTemplate"]

    def replace(match: re.Match) -> str:
        quoted, name = match.group(1), match.group(2)
        if name not in values:
            return match.group(0)
        value = values[name]
        if quoted:  # "<name>": the value's text goes inside the quotes
            text = value if isinstance(value, str) else json.dumps(value)
            return '"' + json.dumps(text)[1:-1] + '"'
        return json.dumps(value)

    return re.sub(r'("?)<([A-Za-z0-9_.\-]+)>\1', replace, template)
