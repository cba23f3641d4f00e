"""Arazzo runtime expressions (spec section "Runtime Expressions") parsed into a small tree.

    $url  $method  $statusCode
    $request.header.X   $request.query.x   $request.path.x   $request.body#/json/pointer
    $response.header.X  $response.query.x  $response.path.x  $response.body#/json/pointer
    $inputs.a.b   $outputs.a   $steps.<stepId>.outputs.<name>...   $workflows.<id>.outputs.<name>
    $sourceDescriptions.<name>.<field>   $components.<kind>.<name>
    $end.<field>   (an extension, in x-onEnd arguments only: how the workflow ended; translate.py checks the field)
    $item  $item.<field>   (an extension, in an x-forEach step only: the current item)

Strings may also embed expressions in braces: "Bearer {$steps.login.outputs.token}".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ExpressionError(ValueError):
    """A runtime expression that does not follow the Arazzo grammar."""


@dataclass(frozen=True)
class Expr:
    """Base of the runtime-expression tree."""


@dataclass(frozen=True)
class Url(Expr):
    pass


@dataclass(frozen=True)
class Method(Expr):
    pass


@dataclass(frozen=True)
class StatusCode(Expr):
    pass


@dataclass(frozen=True)
class MessageRef(Expr):
    """$request.* or $response.*: `source` is header, query, path or body.

    For header/query/path `name` is the parameter name; for body `pointer` is the JSON pointer tokens (empty = the
    whole body)."""

    message: str  # "request" | "response"
    source: str
    name: str = ""
    pointer: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedRef(Expr):
    """$inputs.a.b, $outputs.a, $steps.s.outputs.x, $workflows.w.outputs.x, $sourceDescriptions.n.url, $components...

    `path` is the dotted names after the root; a trailing `#/pointer` (allowed after outputs) is appended as further
    path tokens."""

    root: str  # inputs | outputs | steps | workflows | sourceDescriptions | components | end | item
    path: tuple[str, ...]


@dataclass(frozen=True)
class Template(Expr):
    """A string with embedded `{$expression}` parts: a mix of str and Expr."""

    parts: tuple[str | Expr, ...]


_NAMED_ROOTS = ("inputs", "outputs", "steps", "workflows", "sourceDescriptions", "components", "end", "item")
# RFC 9110 token characters, the grammar's `header-reference`.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_EMBEDDED = re.compile(r"\{(\$[^{}]+)\}")


def is_expression(value: object) -> bool:
    """True for a string that is meant as a runtime expression (starts with `$` followed by a known root)."""
    return isinstance(value, str) and bool(
        re.match(
            r"^\$(url|method|statusCode|request\.|response\.|" + "|".join(r + r"\b" for r in _NAMED_ROOTS) + ")", value
        )
    )


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """RFC 6901 JSON pointer ("" or "/a/0/b~1c") into unescaped tokens."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ExpressionError(f"JSON pointer must start with '/': {pointer!r}")
    tokens = pointer[1:].split("/")
    for token in tokens:
        if re.search(r"~[^01]|~$", token):
            raise ExpressionError(f"bad escape in JSON pointer: {pointer!r}")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)


def parse_expression(text: str) -> Expr:
    """Parse one runtime expression (the whole string)."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ExpressionError(f"a runtime expression starts with '$': {text!r}")
    if text in ("$url", "$method", "$statusCode"):
        return {"$url": Url(), "$method": Method(), "$statusCode": StatusCode()}[text]
    for message in ("request", "response"):
        prefix = f"${message}."
        if text.startswith(prefix):
            return _parse_message_ref(message, text[len(prefix) :], text)
    root, _, rest = text[1:].partition(".")
    if root not in _NAMED_ROOTS:
        raise ExpressionError(f"unknown runtime expression {text!r}")
    if text in ("$inputs", "$item"):
        return NamedRef(text[1:], ())  # all the inputs (a criterion's context), the whole item
    if not rest:
        raise ExpressionError(f"{text!r} needs a name after '${root}.'")
    names, _, pointer = rest.partition("#")
    path = tuple(names.split("."))
    if any(p == "" for p in path):
        raise ExpressionError(f"empty name in {text!r}")
    if pointer:
        path += parse_pointer(pointer)
    if root == "steps" and len(path) < 2:
        raise ExpressionError(f"{text!r}: step references read outputs: $steps.<stepId>.outputs.<name>")
    if root == "workflows" and (len(path) < 2 or path[1] not in ("outputs", "inputs")):
        raise ExpressionError(f"{text!r}: workflow references read $workflows.<workflowId>.outputs.<name>")
    return NamedRef(root, path)


def _parse_message_ref(message: str, rest: str, text: str) -> MessageRef:
    if rest == "body" or rest.startswith("body#"):
        return MessageRef(message, "body", pointer=parse_pointer(rest[len("body#") :]) if "#" in rest else ())
    source, _, name = rest.partition(".")
    if source not in ("header", "query", "path") or not name:
        raise ExpressionError(f"{text!r}: expected ${message}.header.<name>, .query.<name>, .path.<name> or .body")
    if source == "header" and not _TOKEN.match(name):
        raise ExpressionError(f"{text!r}: {name!r} is not a valid header name")
    return MessageRef(message, source, name=name)


def parse_value(value: str) -> Expr | str:
    """A string field that may hold an expression, a template with `{$...}` parts, or plain text."""
    if is_expression(value):
        return parse_expression(value)
    if "{$" in value:
        parts: list[str | Expr] = []
        position = 0
        for match in _EMBEDDED.finditer(value):
            if match.start() > position:
                parts.append(value[position : match.start()])
            parts.append(parse_expression(match.group(1)))
            position = match.end()
        if position < len(value):
            parts.append(value[position:])
        return Template(tuple(parts))
    return value


def references(expr: object) -> list[Expr]:
    """Every runtime expression inside a parsed value (Template parts included)."""
    if isinstance(expr, Template):
        return [p for p in expr.parts if isinstance(p, Expr)]
    return [expr] if isinstance(expr, Expr) else []


def parse_values(value: object) -> object:
    """Strings that are expressions or templates become Expr/Template; everything else stays a literal."""
    if isinstance(value, str):
        return parse_value(value)
    if isinstance(value, list):
        return [parse_values(v) for v in value]
    if isinstance(value, dict):
        return {k: parse_values(v) for k, v in value.items()}
    return value


def expressions_in(value: object) -> list[Expr]:
    """Every runtime expression in a parsed value tree."""
    if isinstance(value, (Expr, Template)):
        return references(value)
    if isinstance(value, list):
        return [e for v in value for e in expressions_in(v)]
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions_in(v)]
    return []


def describe(expression: Expr) -> str:
    """A short name of a runtime expression for messages: $steps.x, $response.body, $statusCode."""
    if isinstance(expression, NamedRef):
        return f"${expression.root}" + "".join(f".{name}" for name in expression.path[:1])
    if isinstance(expression, MessageRef):
        return f"${expression.message}.{expression.source}"
    return "$" + type(expression).__name__[:1].lower() + type(expression).__name__[1:]
