"""The condition tree every criterion dialect is parsed into (conditions.py parses, translate.py generates)."""

from __future__ import annotations

from dataclasses import dataclass

from .expressions import Expr


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Literal(Node):
    value: object  # str, int, float, bool or None


@dataclass(frozen=True)
class Runtime(Node):
    """An Arazzo runtime expression used as a value."""

    expr: Expr


@dataclass(frozen=True)
class Context(Node):
    """The criterion's context value (`$` in a jsonpath condition)."""


@dataclass(frozen=True)
class Current(Node):
    """The node a filter is testing (`@`); depth tells nested filters apart."""

    depth: int


@dataclass(frozen=True)
class Field(Node):
    base: Node
    name: str


@dataclass(frozen=True)
class Index(Node):
    base: Node
    index: int


@dataclass(frozen=True)
class Wildcard(Node):
    base: Node


@dataclass(frozen=True)
class Descendant(Node):
    base: Node
    name: str


@dataclass(frozen=True)
class Filter(Node):
    """Nodes of `base` (array elements, or the object itself and its member values) for which `test` holds."""

    base: Node
    test: Node
    depth: int


@dataclass(frozen=True)
class LengthOf(Node):
    """`.length` in the comparison dialect, and RFC 9535 length(): string length, array size, object size."""

    base: Node


@dataclass(frozen=True)
class Count(Node):
    base: Node


@dataclass(frozen=True)
class Match(Node):
    """Regex test: whole-string (RFC 9535 match(), Arazzo regex criteria use search=True for a partial match)."""

    subject: Node
    pattern: str
    search: bool


@dataclass(frozen=True)
class Exists(Node):
    """A query used as a test: passes when it selects at least one node."""

    query: Node


@dataclass(frozen=True)
class Truthy(Node):
    operand: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]


QUERY_NODES = (Context, Current, Field, Index, Wildcard, Descendant, Filter)


def runtime_expressions(node: Node) -> list[Expr]:
    """The runtime expressions a condition tree reads."""
    if isinstance(node, Runtime):
        return [node.expr]
    found: list[Expr] = []
    for value in vars(node).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Node):
                found += runtime_expressions(item)
    return found
