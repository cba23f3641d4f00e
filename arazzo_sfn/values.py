"""Parsed value trees (literals, runtime expressions, templates) as JSONata and ASL values, and the Scope each
place of the machine gives runtime expressions (translate.py translates the expressions themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import jsonata as js
from .expressions import Expr, MessageRef, Template
from .translate import END_FIELDS, Scope, condition, runtime, template


def value(tree: object, scope: Scope) -> js.Node:
    """A parsed value tree (literals, expressions, templates, nested objects) as one JSONata expression."""
    if isinstance(tree, Template):
        return template(tree, scope)
    if isinstance(tree, Expr):
        return runtime(tree, scope)
    if isinstance(tree, dict):
        return js.obj([(k, value(v, scope)) for k, v in tree.items()], quote=js.Lit)
    if isinstance(tree, list):
        return js.Arr(tuple(value(v, scope) for v in tree))
    return js.Lit(tree)


def asl_value(tree: object, scope: Scope, absent_as_null: bool = False) -> object:
    """A parsed value tree as an ASL JSONata template: literals stay JSON, expressions become {% %} strings
    (`absent_as_null`: an expression that finds nothing is null, where a Task must run whatever is missing)."""
    if isinstance(tree, (Expr, Template)):
        node = value(tree, scope)
        return js.template(nullable(node) if absent_as_null else node)
    if isinstance(tree, dict):
        return {k: asl_value(v, scope, absent_as_null) for k, v in tree.items()}
    if isinstance(tree, list):
        return [asl_value(v, scope, absent_as_null) for v in tree]
    if isinstance(tree, str) and tree.lstrip().startswith("{%"):
        return js.template(js.Lit(tree))  # a literal that would otherwise read as an expression
    return tree


def payload_value(tree: object, scope: Scope) -> object:
    """A request body as an ASL JSONata template. A body object or array holding expressions becomes one JSONata
    constructor, in which a field whose expression finds nothing (an optional input not given) is left out, as a
    request leaves out what it does not have; field by field, each `{% %}` that finds nothing would fail the Task
    with States.QueryEvaluationError. A body that is one expression stays one (nothing found: that error)."""
    if isinstance(tree, (dict, list)) and _holds_expression(tree):
        return js.template(value(tree, scope))
    return asl_value(tree, scope)


def _holds_expression(tree: object) -> bool:
    if isinstance(tree, (Expr, Template)):
        return True
    if isinstance(tree, dict):
        return any(_holds_expression(v) for v in tree.values())
    if isinstance(tree, list):
        return any(_holds_expression(v) for v in tree)
    return False


def nullable(node: js.Node) -> js.Node:
    """Absent values become null, so an output key is always there."""
    x = js.Var("x")
    return js.block(js.Bind("x", node), js.If(js.call("exists", x), x, js.Lit(None)))


def outputs_object(outputs: dict, scope: Scope) -> js.Node:
    """The object of a step's or workflow's outputs."""
    return js.obj([(k, nullable(value(v, scope))) for k, v in outputs.items()], quote=js.Lit)


@dataclass(frozen=True)
class Variables:
    """The JSONata variables of one workflow frame (a called workflow has prefixed ones)."""

    prefix: str = ""

    def name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def var(self, name: str) -> js.Var:
        return js.Var(self.name(name))


def step_scope(
    step: Any,
    response: js.Node | None,
    source_urls: dict[str, str],
    variables: Variables,
    outputs_available: bool = False,
) -> Scope:
    """What expressions mean inside a step (step None: at workflow level). `$request.*` reads the step's own
    request: its payload or a parameter."""
    operation = step.operation if step is not None else None

    def request(ref: MessageRef) -> js.Node:
        own = step_scope(step, None, source_urls, variables)
        if ref.source == "body":
            node: object = step.payload
            for token in ref.pointer:
                node = (
                    node[int(token)] if isinstance(node, list) else node.get(token) if isinstance(node, dict) else None
                )
            return value(node, own)
        for parameter in step.parameters:
            if parameter.location_in == ref.source and (
                parameter.name == ref.name or (ref.source == "header" and parameter.name.lower() == ref.name.lower())
            ):
                return value(parameter.value, own)
        return js.Lit(None)

    return Scope(
        response=response,
        request=request if operation else None,
        method=operation.method if operation else None,
        url=operation.path if operation else None,
        source_urls=source_urls,
        outputs_available=outputs_available,
        inputs=variables.var("inputs"),
        steps=variables.var("steps"),
        outputs=variables.var("outputs"),
    )


def end_scope(source_urls: dict[str, str]) -> Scope:
    """What expressions mean in x-onEnd arguments: the workflow's inputs, steps and outputs, and `$end`."""
    scope = step_scope(None, None, source_urls, Variables(), outputs_available=True)
    scope.end, scope.end_fields = END, END_FIELDS
    return scope


def criterion(rule: Any, scope: Scope) -> js.Node:
    """A model Criterion as a JSONata boolean."""
    context = runtime(rule.context, scope) if rule.context is not None else None
    return condition(rule.tree, scope, context)


def all_of(criteria: list, scope: Scope) -> js.Node:
    if not criteria:
        return js.Lit(True)
    return js.Op("and", tuple(js.group(criterion(c, scope)) for c in criteria))


# Where a step's response is, in the Task (its Assign) and in the outcome Choice after it.
TASK_RESPONSE = js.Var("states.result.Payload")
JUDGED_RESPONSE = js.Var("states.input")
# How the workflow ended (x-onEnd): set once its ending sequence starts.
END = js.Var("end")
