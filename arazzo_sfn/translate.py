"""Arazzo runtime expressions, templates and criteria (their parsed trees) as JSONata trees.

Conventions of the generated machine, which every expression relies on:
- `$inputs` holds the workflow inputs (defaults applied), `$steps` the step outputs as Arazzo names them
  (`$steps.<stepId>.outputs.<name>`), `$outputs` the workflow outputs once computed, `$end` how the workflow
  ended (x-onEnd arguments only).
- The HTTP response of the step being judged is given by the Scope (inside a Task's Assign it is
  `$states.result.Payload`; in the Choice after it, `$states.input`): `{statusCode, headers, body}`.

Arazzo semantics encoded here: string comparisons are case-insensitive; a missing value compares as null.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import condition_tree as c
from . import jsonata as js
from .expressions import Expr, MessageRef, Method, NamedRef, StatusCode, Template, Url


class UnsupportedExpression(ValueError):
    """A runtime expression that has no meaning where it is used (e.g. $response in workflow outputs)."""


@dataclass
class Scope:
    """What runtime expressions mean at one place of the machine."""

    response: js.Node | None = None  # the step's response object, or None outside a step
    request: Callable[[MessageRef], js.Node] | None = None  # resolves $request.* against the step's own request
    method: str | None = None
    url: str | None = None
    source_urls: dict[str, str] = field(default_factory=dict)
    outputs_available: bool = False  # $outputs: after the workflow outputs are computed
    # The variables of the workflow being compiled; a workflow run by another workflow's step has its own.
    inputs: js.Node = js.Var("inputs")
    steps: js.Node = js.Var("steps")
    outputs: js.Node = js.Var("outputs")
    end: js.Node | None = None  # the ending record ($end.*): in x-onEnd arguments, and an x-forEach item's
    end_fields: tuple[str, ...] = ()  # the $end fields known there
    item: js.Node | None = None  # $item: the current item of an x-forEach step


# `$end.<field>` (x-onEnd): how the workflow ended; `iterations` is an object of step ids.
END_FIELDS = (
    "status",
    "error",
    "cause",
    "outcome",
    "executionArn",
    "startTime",
    "endTime",
    "durationSeconds",
    "iterations",
)


def pointer_path(base: js.Node, keys: tuple[str, ...]) -> js.Node:
    """A JSON pointer's tokens as a path; a token of digits is an array index (or an object key of digits)."""
    for key in keys:
        if re.fullmatch(r"\d+", key):
            value = js.Var("v")
            base = js.block(
                js.Bind("v", base),
                js.If(
                    js.op("=", js.call("type", value), js.Sq("array")),
                    js.Index(value, js.Lit(int(key))),
                    js.call("lookup", value, js.Lit(key)),
                ),
            )
        else:
            base = js.Field(base, key)
    return base


def _response(scope: Scope, what: str) -> js.Node:
    if scope.response is None:
        raise UnsupportedExpression(f"{what} is only meaningful where a step's response is known")
    return scope.response


def _status_code(expr: StatusCode, scope: Scope) -> js.Node:
    return js.Field(_response(scope, "$statusCode"), "statusCode")


def _method(expr: Method, scope: Scope) -> js.Node:
    if scope.method is None:
        raise UnsupportedExpression("$method is only meaningful inside a step")
    return js.Lit(scope.method)


def _url(expr: Url, scope: Scope) -> js.Node:
    if scope.url is None:
        raise UnsupportedExpression("$url is only meaningful inside a step")
    return js.Lit(scope.url)


def _message(expr: MessageRef, scope: Scope) -> js.Node:
    if expr.message == "request":
        if scope.request is None:
            raise UnsupportedExpression("$request is only meaningful inside a step")
        return scope.request(expr)
    response = _response(scope, f"$response.{expr.source}")
    if expr.source == "body":
        return pointer_path(js.Field(response, "body"), expr.pointer)
    if expr.source == "header":
        # The handler contract lower-cases header names; HTTP header names are case-insensitive.
        return js.call("lookup", js.Field(response, "headers"), js.Lit(expr.name.lower()))
    raise UnsupportedExpression(f"$response.{expr.source} is not part of an HTTP response")


def _named(expr: NamedRef, scope: Scope) -> js.Node:
    if expr.root == "inputs":
        return pointer_path(scope.inputs, expr.path)
    if expr.root == "steps":
        step = js.Field(scope.steps, expr.path[0])
        if len(expr.path) > 1 and expr.path[1] != "outputs":
            # `$steps.<id>.<name>`: some published documents leave out `.outputs`; that is what they mean.
            return pointer_path(js.Field(step, "outputs"), expr.path[1:])
        return pointer_path(step, expr.path[1:])
    if expr.root == "outputs":
        if not scope.outputs_available:
            raise UnsupportedExpression("$outputs is only meaningful after the workflow's outputs are known")
        return pointer_path(scope.outputs, expr.path)
    if expr.root == "end":
        return _end(expr, scope)
    if expr.root == "item":
        if scope.item is None:
            raise UnsupportedExpression(
                f"${'.'.join(('item',) + expr.path)} is only meaningful in an x-forEach step's parameters, "
                "outputs and x-summary"
            )
        return pointer_path(scope.item, expr.path)
    if (
        expr.root == "sourceDescriptions"
        and len(expr.path) == 2
        and expr.path[1] == "url"
        and expr.path[0] in scope.source_urls
    ):
        return js.Lit(scope.source_urls[expr.path[0]])
    raise UnsupportedExpression(f"${expr.root}.{'.'.join(expr.path)} is not supported in a compiled workflow")


def _end(expr: NamedRef, scope: Scope) -> js.Node:
    if scope.end is None:
        raise UnsupportedExpression(f"${expr.root}.{'.'.join(expr.path)} is only meaningful in x-onEnd arguments")
    field, depth = expr.path[0], 2 if expr.path[0] == "iterations" else 1
    fields = scope.end_fields
    if field not in fields or len(expr.path) > depth:
        known = ", ".join(f for f in fields if f != "iterations")
        raise UnsupportedExpression(
            f"${expr.root}.{'.'.join(expr.path)}: $end has {known}"
            + (" and iterations.<stepId>" if "iterations" in fields else " here")
        )
    return js.path(scope.end, *expr.path)


_RUNTIME: dict[type, Callable] = {
    StatusCode: _status_code,
    Method: _method,
    Url: _url,
    MessageRef: _message,
    NamedRef: _named,
}


def runtime(expr: Expr, scope: Scope) -> js.Node:
    """An Arazzo runtime expression as JSONata."""
    return _RUNTIME[type(expr)](expr, scope)


def template(value: Template, scope: Scope) -> js.Node:
    """A string with embedded {$expressions}: concatenation, objects and arrays as JSON text."""
    parts = [js.Lit(part) if isinstance(part, str) else js.call("string", runtime(part, scope)) for part in value.parts]
    return js.group(js.Op("&", tuple(parts))) if len(parts) > 1 else parts[0]


# ---- conditions ---------------------------------------------------------------------------------------------------


def _eq(a: js.Node, b: js.Node) -> js.Node:
    return js.op("=", a, b)


def is_type(value: js.Node, type_name: str) -> js.Node:
    return _eq(js.call("type", value), js.Sq(type_name))


def _member() -> js.Function:
    return js.Function(("member",), js.Var("member"))


class ConditionGenerator:
    """Condition trees to JSONata booleans (`test`) and values (`value`). `context`: the criterion's context."""

    def __init__(self, scope: Scope, context: js.Node | None):
        self.scope = scope
        self.context = context
        self.tests: dict[type, Callable] = {
            c.Or: lambda n: js.group(js.Op("or", tuple(self.test(i) for i in n.items))),
            c.And: lambda n: js.group(js.Op("and", tuple(self.test(i) for i in n.items))),
            c.Not: lambda n: js.call("not", self.test(n.operand)),
            c.Compare: self.compare,
            c.Exists: self.exists,
            c.Truthy: self.truthy,
            c.Match: self.value,
        }
        self.values: dict[type, Callable] = {
            c.Literal: lambda n: js.Lit(n.value),
            c.Runtime: lambda n: runtime(n.expr, self.scope),
            c.Context: self.context_value,
            c.Current: lambda n: js.Var(f"node{n.depth}"),
            c.Field: lambda n: js.Field(self.value(n.base), n.name),
            c.Index: lambda n: js.Index(self.value(n.base), js.Lit(n.index)),
            c.Wildcard: self.wildcard,
            c.Descendant: lambda n: js.Step(
                js.Step(self.value(n.base), "**"), "*" if n.name == "*" else js.field_name(n.name)
            ),
            c.Filter: self.filter,
            c.LengthOf: self.length,
            c.Count: lambda n: js.call("count", self.value(n.base)),
            c.Match: self.match,
        }

    def test(self, node: c.Node) -> js.Node:
        generate = self.tests.get(type(node))
        if generate is None:
            raise UnsupportedExpression(f"cannot use {type(node).__name__} as a condition")
        return generate(node)

    def value(self, node: c.Node) -> js.Node:
        generate = self.values.get(type(node)) or self.tests.get(type(node))
        if generate is None:
            raise UnsupportedExpression(f"unknown condition node {node!r}")
        return generate(node)

    def context_value(self, node: c.Context) -> js.Node:
        if self.context is None:
            raise UnsupportedExpression("'$' needs a criterion context")
        return self.context

    def exists(self, node: c.Exists) -> js.Node:
        if _has_filter(node.query):
            # A filter that keeps nothing may leave an empty array, which $exists would count.
            return js.group(js.op(">", js.call("count", self.value(node.query)), js.Lit(0)))
        return js.call("exists", self.value(node.query))

    def truthy(self, node: c.Truthy) -> js.Node:
        if isinstance(node.operand, c.Match):
            return self.value(node.operand)
        t = js.Var("t")
        return js.block(
            js.Bind("t", self.value(node.operand)), js.op("and", js.call("exists", t), js.call("boolean", t))
        )

    def wildcard(self, node: c.Wildcard) -> js.Node:
        if isinstance(node.base, c.Filter):
            return self.value(node.base)
        return js.call("each", self.value(node.base), _member())

    def filter(self, node: c.Filter) -> js.Node:
        # RFC 9535 tests the children of an array or object; on an object, authors of Arazzo documents mean
        # the object itself ($[?@.status == 'x'] on a response body), so both are tested.
        base, select = js.Var(f"base{node.depth}"), js.Var(f"select{node.depth}")
        return js.block(
            js.Bind(base.name, self.value(node.base)),
            js.Bind(select.name, js.Function((f"node{node.depth}",), self.test(node.test))),
            js.If(
                is_type(base, "object"),
                js.call(
                    "append",
                    js.call("filter", js.Arr((base,)), select),
                    js.call("filter", js.call("each", base, _member()), select),
                ),
                js.call("filter", base, select),
            ),
        )

    def length(self, node: c.LengthOf) -> js.Node:
        value = js.Var("l")
        return js.block(
            js.Bind("l", self.value(node.base)),
            js.If(
                is_type(value, "string"),
                js.call("length", value),
                js.If(
                    is_type(value, "array"),
                    js.call("count", value),
                    js.If(is_type(value, "object"), js.call("count", js.call("keys", value)), js.Lit(None)),
                ),
            ),
        )

    def match(self, node: c.Match) -> js.Node:
        pattern = node.pattern if node.search else f"^(?:{node.pattern})$"
        subject = js.Var("m")
        return js.block(
            js.Bind("m", self.value(node.subject)),
            js.op("and", is_type(subject, "string"), js.call("contains", subject, js.regex(pattern))),
        )

    def compare(self, node: c.Compare) -> js.Node:
        # Missing values compare as null, so `$.reason != null` is false when reason is absent, and
        # `$.status != 'failed'` is true.
        a, b = js.Var("a"), js.Var("b")
        prelude = (
            js.Bind("a", self.value(node.left)),
            js.Bind("a", js.If(js.call("exists", a), a, js.Lit(None))),
            js.Bind("b", self.value(node.right)),
            js.Bind("b", js.If(js.call("exists", b), b, js.Lit(None))),
        )
        strings = js.group(js.op("and", is_type(a, "string"), is_type(b, "string")))
        lower = (js.call("lowercase", a), js.call("lowercase", b))
        body: js.Node
        if node.op in ("==", "!="):
            equal = js.group(js.If(strings, _eq(*lower), _eq(a, b)))
            body = equal if node.op == "==" else js.call("not", equal)
        else:
            numbers = js.group(js.op("and", is_type(a, "number"), is_type(b, "number")))
            body = js.group(js.If(numbers, js.op(node.op, a, b), js.If(strings, js.op(node.op, *lower), js.Lit(False))))
        return js.Block(prelude + (body,))


def _has_filter(node: c.Node | None) -> bool:
    while node is not None:
        if isinstance(node, c.Filter):
            return True
        node = getattr(node, "base", None)
    return False


def condition(node: c.Node, scope: Scope, context: js.Node | None) -> js.Node:
    return ConditionGenerator(scope, context).test(node)


def not_reserved(error: js.Node, fallback: str) -> js.Node:
    """A Fail state may not raise a `States.` error of its own: such an error passed on is renamed (Cause kept)."""
    e = js.Var("e")
    return js.block(
        js.Bind("e", error),
        js.If(
            js.op(
                "and",
                is_type(e, "string"),
                js.op("!=", js.call("substring", e, js.Lit(0), js.Lit(7)), js.Sq("States.")),
            ),
            e,
            js.Lit(fallback),
        ),
    )
