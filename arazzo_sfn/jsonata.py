"""Generate JSONata (the expression language of `QueryLanguage: JSONata` state machines) from the compiler's trees.

Conventions of the generated machine, which every expression relies on:
- `$inputs` holds the workflow inputs (defaults applied), `$steps` the step outputs as Arazzo names them
  (`$steps.<stepId>.outputs.<name>`), `$outputs` the workflow outputs once computed.
- The HTTP response of the step being judged is a JSONata expression given by the Scope (inside a Task's Assign
  it is `$states.result.Payload`; in the Choice after it, `$states.input`): `{statusCode, headers, body}`.

Arazzo semantics encoded here: string comparisons are case-insensitive; a missing value compares as null.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

from . import conditions as c
from .expressions import Expr, MessageRef, Method, NamedRef, StatusCode, Template, Url


class UnsupportedExpression(ValueError):
    """A runtime expression that has no meaning where it is used (e.g. $response in workflow outputs)."""


@dataclass
class Scope:
    """What runtime expressions mean at one place of the machine."""

    response: str | None = None          # JSONata for the step's response object, or None outside a step
    request: Callable[[MessageRef], str] | None = None  # resolves $request.* against the step's own request
    method: str | None = None
    url: str | None = None
    source_urls: dict[str, str] = field(default_factory=dict)
    outputs_available: bool = False      # $outputs: after the workflow outputs are computed
    # The variables of the workflow being compiled; a workflow run by another workflow's step has its own.
    inputs_var: str = "$inputs"
    steps_var: str = "$steps"
    outputs_var: str = "$outputs"


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def literal(value: object) -> str:
    """A JSON value as a JSONata literal (JSON is valid JSONata for these)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def name(key: str) -> str:
    """A field name in a JSONata path, backtick-quoted unless it is a plain identifier."""
    if _IDENTIFIER.match(key) and key not in ("and", "or", "in", "true", "false", "null", "function"):
        return key
    if "`" in key:
        raise UnsupportedExpression(f"field name {key!r} contains a backtick")
    return f"`{key}`"


def path(base: str, keys: tuple[str, ...] | list[str]) -> str:
    out = base
    for key in keys:
        if re.fullmatch(r"\d+", key):
            # A JSON-pointer token of digits is an array index (or an object key made of digits).
            out = f"($v := {out}; $type($v) = 'array' ? $v[{key}] : $lookup($v, {literal(key)}))"
        else:
            out = f"{out}.{name(key)}"
    return out


def runtime(expr: Expr, scope: Scope) -> str:
    """An Arazzo runtime expression as JSONata."""
    if isinstance(expr, StatusCode):
        return f"{_response(scope, '$statusCode')}.statusCode"
    if isinstance(expr, Method):
        if scope.method is None:
            raise UnsupportedExpression("$method is only meaningful inside a step")
        return literal(scope.method)
    if isinstance(expr, Url):
        if scope.url is None:
            raise UnsupportedExpression("$url is only meaningful inside a step")
        return literal(scope.url)
    if isinstance(expr, MessageRef):
        if expr.message == "request":
            if scope.request is None:
                raise UnsupportedExpression("$request is only meaningful inside a step")
            return scope.request(expr)
        response = _response(scope, f"$response.{expr.source}")
        if expr.source == "body":
            return path(f"{response}.body", expr.pointer)
        if expr.source == "header":
            # The handler contract lower-cases header names; HTTP header names are case-insensitive.
            return f"$lookup({response}.headers, {literal(expr.name.lower())})"
        raise UnsupportedExpression(f"$response.{expr.source} is not part of an HTTP response")
    if isinstance(expr, NamedRef):
        if expr.root == "inputs":
            return path(scope.inputs_var, expr.path)
        if expr.root == "steps":
            if len(expr.path) > 1 and expr.path[1] != "outputs":
                # `$steps.<id>.<name>`: some published documents leave out `.outputs`; that is what they mean.
                return path(f"{scope.steps_var}.{name(expr.path[0])}.outputs", expr.path[1:])
            return path(f"{scope.steps_var}.{name(expr.path[0])}", expr.path[1:])
        if expr.root == "outputs":
            if not scope.outputs_available:
                raise UnsupportedExpression("$outputs is only meaningful after the workflow's outputs are known")
            return path(scope.outputs_var, expr.path)
        if expr.root == "sourceDescriptions" and len(expr.path) == 2 and expr.path[1] == "url" \
                and expr.path[0] in scope.source_urls:
            return literal(scope.source_urls[expr.path[0]])
        raise UnsupportedExpression(f"${expr.root}.{'.'.join(expr.path)} is not supported in a compiled workflow")
    raise UnsupportedExpression(f"unknown expression {expr!r}")


def _response(scope: Scope, what: str) -> str:
    if scope.response is None:
        raise UnsupportedExpression(f"{what} is only meaningful where a step's response is known")
    return scope.response


def template(value: Template, scope: Scope) -> str:
    """A string with embedded {$expressions}: concatenation, objects and arrays as JSON text."""
    parts = []
    for part in value.parts:
        if isinstance(part, str):
            parts.append(literal(part))
        else:
            parts.append(f"$string({runtime(part, scope)})")
    return "(" + " & ".join(parts) + ")" if len(parts) > 1 else parts[0]


# ---- conditions ---------------------------------------------------------------------------------------------------

class ConditionGenerator:
    """Condition trees to JSONata booleans. `context` is the JSONata of the criterion's context value."""

    def __init__(self, scope: Scope, context: str | None):
        self.scope = scope
        self.context = context

    def test(self, node: c.Node) -> str:
        if isinstance(node, c.Or):
            return "(" + " or ".join(self.test(i) for i in node.items) + ")"
        if isinstance(node, c.And):
            return "(" + " and ".join(self.test(i) for i in node.items) + ")"
        if isinstance(node, c.Not):
            return f"$not({self.test(node.operand)})"
        if isinstance(node, c.Compare):
            return self.compare(node)
        if isinstance(node, c.Exists):
            if _has_filter(node.query):
                # A filter that keeps nothing may leave an empty array, which $exists would count.
                return f"($count({self.value(node.query)}) > 0)"
            return f"$exists({self.value(node.query)})"
        if isinstance(node, c.Truthy):
            if isinstance(node.operand, c.Match):
                return self.value(node.operand)
            return f"($t := {self.value(node.operand)}; $exists($t) and $boolean($t))"
        if isinstance(node, c.Match):
            return self.value(node)
        raise UnsupportedExpression(f"cannot use {type(node).__name__} as a condition")

    def value(self, node: c.Node) -> str:
        if isinstance(node, c.Literal):
            return literal(node.value)
        if isinstance(node, c.Runtime):
            return runtime(node.expr, self.scope)
        if isinstance(node, c.Context):
            if self.context is None:
                raise UnsupportedExpression("'$' needs a criterion context")
            return self.context
        if isinstance(node, c.Current):
            return f"$node{node.depth}"
        if isinstance(node, c.Field):
            return f"{self.value(node.base)}.{name(node.name)}"
        if isinstance(node, c.Index):
            return f"{self.value(node.base)}[{node.index}]"
        if isinstance(node, c.Wildcard):
            return f"$each({self.value(node.base)}, function($member) {{ $member }})" \
                if not isinstance(node.base, c.Filter) else self.value(node.base)
        if isinstance(node, c.Descendant):
            return f"{self.value(node.base)}.**.{'*' if node.name == '*' else name(node.name)}"
        if isinstance(node, c.Filter):
            # RFC 9535 tests the children of an array or object; on an object, authors of Arazzo documents mean
            # the object itself ($[?@.status == 'x'] on a response body), so both are tested.
            test = self.test(node.test)
            var = f"$node{node.depth}"
            base = self.value(node.base)
            return (f"($base{node.depth} := {base}; $select{node.depth} := function({var}) {{ {test} }}; "
                    f"$type($base{node.depth}) = 'object' "
                    f"? $append($filter([$base{node.depth}], $select{node.depth}), "
                    f"$filter($each($base{node.depth}, function($member) {{ $member }}), $select{node.depth})) "
                    f": $filter($base{node.depth}, $select{node.depth}))")
        if isinstance(node, c.LengthOf):
            return (f"($l := {self.value(node.base)}; $type($l) = 'string' ? $length($l) "
                    f": $type($l) = 'array' ? $count($l) : $type($l) = 'object' ? $count($keys($l)) : null)")
        if isinstance(node, c.Count):
            return f"$count({self.value(node.base)})"
        if isinstance(node, c.Match):
            pattern = node.pattern if node.search else f"^(?:{node.pattern})$"
            return (f"($m := {self.value(node.subject)}; $type($m) = 'string' "
                    f"and $contains($m, {regex_literal(pattern)}))")
        if isinstance(node, (c.Compare, c.And, c.Or, c.Not, c.Exists, c.Truthy)):
            return self.test(node)
        raise UnsupportedExpression(f"unknown condition node {node!r}")

    def compare(self, node: c.Compare) -> str:
        left, right = self.value(node.left), self.value(node.right)
        # Missing values compare as null, so `$.reason != null` is false when reason is absent, and
        # `$.status != 'failed'` is true.
        a, b = "$a", "$b"
        prelude = f"$a := {left}; $a := $exists($a) ? $a : null; $b := {right}; $b := $exists($b) ? $b : null"
        if node.op in ("==", "!="):
            equal = (f"(($type({a}) = 'string' and $type({b}) = 'string') "
                     f"? $lowercase({a}) = $lowercase({b}) : {a} = {b})")
            body = equal if node.op == "==" else f"$not({equal})"
        else:
            op = node.op
            body = (f"(($type({a}) = 'number' and $type({b}) = 'number') ? {a} {op} {b} "
                    f": ($type({a}) = 'string' and $type({b}) = 'string') ? $lowercase({a}) {op} $lowercase({b}) "
                    f": false)")
        return f"({prelude}; {body})"


def _has_filter(node: c.Node) -> bool:
    while node is not None:
        if isinstance(node, c.Filter):
            return True
        node = getattr(node, "base", None)
    return False


def regex_literal(pattern: str) -> str:
    """A JSONata regex literal /.../ (a slash in the pattern is escaped)."""
    escaped = re.sub(r"(?<!\\)/", r"\\/", pattern)
    return f"/{escaped}/"


def condition(node: c.Node, scope: Scope, context: str | None) -> str:
    return ConditionGenerator(scope, context).test(node)
