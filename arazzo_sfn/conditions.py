"""Parse Arazzo Criterion conditions into one condition tree (condition_tree.py), whatever their dialect.

Three dialects meet here and leave as the same tree (the generator in jsonata.py never sees the dialect):

- simple:   `$statusCode == 200 && $response.body#/status != 'failed'` (runtime expressions, literals,
            == != < <= > >= && || ! and parentheses)
- jsonpath: RFC 9535 queries rooted at the criterion's context, which pass when they select at least one node
            (`$[?@.status == 'running']`, `$[?count(@.pets) > 0]`, `$.items[?@.ok]`), and the comparison dialect
            the seed and the public catalog use (`$.status == 'running' || $.status == 'pending'`,
            `$.data.length > 0`, `$.failureReason != null`)
- regex:    an ECMA-262 pattern matched against the context (compiled to a Match node)
"""

from __future__ import annotations

import re

from .condition_tree import (
    QUERY_NODES,
    And,
    Compare,
    Context,
    Count,
    Current,
    Descendant,
    Exists,
    Field,
    Filter,
    Index,
    LengthOf,
    Literal,
    Match,
    Node,
    Not,
    Or,
    Runtime,
    Truthy,
    Wildcard,
)
from .expressions import ExpressionError, parse_expression


class ConditionError(ValueError):
    """A condition this compiler cannot parse; the message says where."""


# Bounds on untrusted conditions: the parser recurses once per nesting level.
MAX_CONDITION_LENGTH = 4096
MAX_NESTING = 32


# ---- tokens -----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<op>==|!=|<=|>=|&&|\|\||<|>|!|\(|\)|\[|\]|,|\.\.|\.|\*|\?|:)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<runtime>\$(?:url|method|statusCode|request\.|response\.|inputs\.|outputs\.|steps\.|workflows\.
                  |sourceDescriptions\.|components\.|end\.)[^\s()\[\],=!<>&|]*)
  | (?P<root>\$)
  | (?P<current>@)
  | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
""",
    re.VERBOSE,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", "'": "'", '"': '"'}


def _unquote(token: str) -> str:
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 5 < len(body) + 1:
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ConditionError(f"unexpected {text[position : position + 12]!r} at column {position + 1}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, match.group(), position))
        position = match.end()
    return tokens


# ---- parser -----------------------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens of one condition.

    `allow_query`: a bare `$` is the criterion's context (jsonpath) or an error (simple conditions)."""

    def __init__(self, text: str, allow_query: bool):
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0
        self.allow_query = allow_query
        self.filter_depth = 0
        self.nesting = 0

    # helpers
    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] == value

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ConditionError(
                f"unexpected end of condition {self.text!r}" + (f", expected {value!r}" if value else "")
            )
        if value is not None and not (token[0] == "op" and token[1] == value):
            raise ConditionError(f"expected {value!r} at column {token[2] + 1}, found {token[1]!r}")
        self.position += 1
        return token

    def fail(self, message: str) -> ConditionError:
        token = self.peek()
        where = f" at column {token[2] + 1}" if token else " at the end"
        shown = self.text if len(self.text) <= 120 else self.text[:100] + "..."
        return ConditionError(f"{message}{where} in {shown!r}")

    # grammar
    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise self.fail(f"unexpected {token[1]!r}")
        return node

    def parse_or(self) -> Node:
        self.enter()
        items = [self.parse_and()]
        while self.at("||"):
            self.take()
            items.append(self.parse_and())
        self.nesting -= 1
        return items[0] if len(items) == 1 else Or(tuple(items))

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.fail(f"more than {MAX_NESTING} levels of nesting")

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while self.at("&&"):
            self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        if self.at("!"):
            self.take()
            self.enter()
            operand = self.parse_unary()
            self.nesting -= 1
            return Not(operand)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        if self.at("("):
            # A parenthesised sub-condition, possibly followed by a comparison: (a || b) == true is not worth
            # supporting; plain grouping is.
            self.take("(")
            inner = self.parse_or()
            self.take(")")
            return inner
        left = self.parse_operand()
        token = self.peek()
        if token and token[0] == "op" and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.parse_operand()
            return Compare(token[1], left, right)
        if isinstance(left, Literal):
            return Truthy(left)
        if isinstance(left, QUERY_NODES):
            return Exists(left)
        return Truthy(left)

    def parse_operand(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("expected a value")
        kind, value, _ = token
        if kind == "number":
            self.take()
            return Literal(float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "string":
            self.take()
            return Literal(_unquote(value))
        if kind == "name" and value in ("true", "false", "null"):
            self.take()
            return Literal({"true": True, "false": False, "null": None}[value])
        following = self.peek(1)
        if kind == "name" and following is not None and following[1] == "(":
            return self.parse_function()
        if kind == "runtime":
            self.take()
            try:
                node: Node = Runtime(parse_expression(value))
            except ExpressionError as error:
                raise ConditionError(str(error)) from None
            return self.parse_postfix(node)
        if kind == "root":
            if not self.allow_query:
                raise self.fail("'$' alone is a jsonpath root; use type: jsonpath with a context")
            self.take()
            return self.parse_postfix(Context())
        if kind == "current":
            if self.filter_depth == 0:
                raise self.fail("'@' is only valid inside a filter [?...]")
            self.take()
            return self.parse_postfix(Current(self.filter_depth))
        raise self.fail(f"unexpected {value!r}")

    def parse_function(self) -> Node:
        name = self.take()[1]
        self.take("(")
        args = [self.parse_function_argument()]
        while self.at(","):
            self.take(",")
            args.append(self.parse_function_argument())
        self.take(")")
        if name == "count" and len(args) == 1:
            return Count(args[0])
        if name == "length" and len(args) == 1:
            return LengthOf(args[0])
        if name == "value" and len(args) == 1:
            return args[0]
        if (
            name in ("match", "search")
            and len(args) == 2
            and isinstance(args[1], Literal)
            and isinstance(args[1].value, str)
        ):
            _check_regex(args[1].value)
            return Match(args[0], args[1].value, search=(name == "search"))
        raise ConditionError(f"unsupported function {name}() with {len(args)} argument(s) in {self.text!r}")

    def parse_function_argument(self) -> Node:
        # An argument is a value (a query, a literal) or a logical expression; parse_or wraps a lone value in
        # Exists/Truthy, which an argument must not have.
        node = self.parse_or()
        if isinstance(node, Exists):
            return node.query
        if isinstance(node, Truthy):
            return node.operand
        return node

    def parse_postfix(self, node: Node) -> Node:
        while True:
            if self.at(".") or self.at(".."):
                descendant = self.take()[1] == ".."
                token = self.peek()
                if token and token[0] == "op" and token[1] == "*":
                    self.take()
                    node = Wildcard(node) if not descendant else Descendant(node, "*")
                    continue
                if not token or token[0] != "name":
                    raise self.fail("expected a member name after '.'")
                self.take()
                name = token[1]
                if descendant:
                    node = Descendant(node, name)
                elif name == "length":
                    # The catalog's dialect: `$.data.length` is the size of the array (or string) at $.data.
                    node = LengthOf(node)
                else:
                    node = Field(node, name)
                continue
            if self.at("["):
                self.take("[")
                node = self.parse_bracket(node)
                self.take("]")
                continue
            return node

    def parse_bracket(self, base: Node) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("unclosed '['")
        kind, value, _ = token
        if kind == "op" and value == "?":
            self.take()
            self.filter_depth += 1
            depth = self.filter_depth
            test = self.parse_or()
            self.filter_depth -= 1
            return Filter(base, test, depth)
        if kind == "op" and value == "*":
            self.take()
            return Wildcard(base)
        if kind == "number" and re.fullmatch(r"-?\d+", value):
            self.take()
            if self.at(":") or self.at(","):
                raise self.fail("slices and unions are not supported")
            return Index(base, int(value))
        if kind == "string":
            self.take()
            if self.at(","):
                raise self.fail("unions are not supported")
            return Field(base, _unquote(value))
        raise self.fail(f"unsupported selector {value!r}")


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ConditionError(f"invalid regular expression {pattern!r}: {error}") from None


# ---- entry points -----------------------------------------------------------------------------------------------


def parse_simple(condition: str) -> Node:
    """A simple condition: runtime expressions and literals."""
    return _Parser(condition, allow_query=False).parse()


def parse_jsonpath(condition: str) -> Node:
    """A jsonpath criterion: an RFC 9535 query (passes when it selects a node) or the comparison dialect."""
    return _Parser(condition, allow_query=True).parse()


def parse_regex(pattern: str) -> Node:
    _check_regex(pattern)
    return Match(Context(), pattern, search=True)


def parse_criterion(condition: str, kind: str) -> Node:
    if not isinstance(condition, str) or not condition.strip():
        raise ConditionError("condition must be a non-empty string")
    if len(condition) > MAX_CONDITION_LENGTH:
        raise ConditionError(f"condition longer than {MAX_CONDITION_LENGTH} characters")
    if kind == "simple":
        return parse_simple(condition)
    if kind == "jsonpath":
        return parse_jsonpath(condition)
    if kind == "regex":
        return parse_regex(condition)
    raise ConditionError(f"criterion type {kind!r} is not supported (supported: simple, regex, jsonpath)")
