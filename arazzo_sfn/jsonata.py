"""JSONata expressions as a tree, rendered to text in one place (the `QueryLanguage: JSONata` of the machine).

The generators (translate, inputs, lower) build these nodes and never glue expression text together; `render`
has one entry per node type. Rendering is deterministic: the same tree gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class Node:
    """Base of the JSONata tree."""

    def __str__(self) -> str:
        return render(self)


@dataclass(frozen=True)
class Lit(Node):
    """A JSON value, written as JSON (strings double-quoted)."""

    value: object


@dataclass(frozen=True)
class Sq(Node):
    """A string written single-quoted (the text holds no quote or backslash)."""

    text: str


@dataclass(frozen=True)
class Placeholder(Node):
    """A DefinitionSubstitutions `${Key}`, raw (its substituted text is JSONata) or single-quoted (a string)."""

    key: str
    quoted: bool


@dataclass(frozen=True)
class Var(Node):
    name: str  # without the `$`; dotted names (`states.input`) are paths from a variable


@dataclass(frozen=True)
class Name(Node):
    """A bare field name: a path from the current context (`Type` inside `Events[Type = 'x']`)."""

    name: str


@dataclass(frozen=True)
class Field(Node):
    base: Node
    name: str  # rendered backtick-quoted unless it is a plain identifier


@dataclass(frozen=True)
class Step(Node):
    """`base.step`: a path step that is itself an expression (`**`, `*`, a filter of the base)."""

    base: Node
    step: Node | str


@dataclass(frozen=True)
class Index(Node):
    base: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...] = ()


@dataclass(frozen=True)
class Op(Node):
    """Binary operators, n-ary for and/or/& : `a and b and c`."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class If(Node):
    test: Node
    then: Node
    otherwise: Node | None = None


@dataclass(frozen=True)
class Bind(Node):
    name: str
    value: Node


@dataclass(frozen=True)
class Block(Node):
    """`(a; b; c)`; a one-item block is plain grouping parentheses."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Obj(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class Arr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Function(Node):
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True)
class Regex(Node):
    """`/body/`: `body` is the pattern with its slashes already escaped (see regex())."""

    body: str


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = ("and", "or", "in", "true", "false", "null", "function")


class UnsupportedName(ValueError):
    """A field name JSONata cannot quote (it contains a backtick)."""


def literal(value: object) -> str:
    """A JSON value as JSONata text (JSON is valid JSONata for these)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def field_name(key: str) -> str:
    """A field name in a JSONata path, backtick-quoted unless it is a plain identifier."""
    if _IDENTIFIER.match(key) and key not in _RESERVED:
        return key
    if "`" in key:
        raise UnsupportedName(f"field name {key!r} contains a backtick")
    return f"`{key}`"


def regex(pattern: str) -> Regex:
    """A regex literal for a pattern: a slash not already escaped is escaped."""
    return Regex(re.sub(r"(?<!\\)/", r"\\/", pattern))


def group(node: Node) -> Block:
    return Block((node,))


def obj(pairs: dict[str, Node] | Sequence[tuple[str, Node]], quote: Callable[[str], Node] = Sq) -> Obj:
    """An object constructor with string keys (single-quoted by default, `quote=Lit` for JSON keys)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return Obj(tuple((quote(key), value) for key, value in items))


def call(function: str, *args: Node) -> Call:
    return Call(function, tuple(args))


def op(operator: str, *operands: Node) -> Op:
    return Op(operator, tuple(operands))


def path(base: Node, *names: str) -> Node:
    for name in names:
        base = Field(base, name)
    return base


def block(*items: Node) -> Block:
    return Block(tuple(items))


def _render_if(node: If) -> str:
    text = f"{render(node.test)} ? {render(node.then)}"
    return text if node.otherwise is None else f"{text} : {render(node.otherwise)}"


def _render_step(node: Step) -> str:
    step = node.step if isinstance(node.step, str) else render(node.step)
    return f"{render(node.base)}.{step}"


_RENDER: dict[type, Callable] = {
    Lit: lambda n: literal(n.value),
    Sq: lambda n: f"'{n.text}'",
    Placeholder: lambda n: ("'${%s}'" if n.quoted else "${%s}") % n.key,
    Var: lambda n: f"${n.name}",
    Name: lambda n: field_name(n.name),
    Field: lambda n: f"{render(n.base)}.{field_name(n.name)}",
    Step: _render_step,
    Index: lambda n: f"{render(n.base)}[{render(n.index)}]",
    Call: lambda n: f"${n.function}({', '.join(render(a) for a in n.args)})",
    Op: lambda n: f" {n.op} ".join(render(o) for o in n.operands),
    If: _render_if,
    Bind: lambda n: f"${n.name} := {render(n.value)}",
    Block: lambda n: "(" + "; ".join(render(i) for i in n.items) + ")",
    Obj: lambda n: "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in n.pairs) + "}",
    Arr: lambda n: "[" + ", ".join(render(i) for i in n.items) + "]",
    Function: lambda n: f"function({', '.join('$' + p for p in n.params)}) {{ {render(n.body)} }}",
    Regex: lambda n: f"/{n.body}/",
}


def render(node: Node) -> str:
    """The JSONata text of a tree."""
    return str(_RENDER[type(node)](node))


def template(node: Node) -> str:
    """An ASL field value: `{% expression %}`."""
    return "{% " + render(node) + " %}"
