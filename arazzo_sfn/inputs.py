"""Workflow inputs: defaults and checks generated from the inputs JSON Schema, as JSONata trees.

Defaults come from `default`, or from the deployment when the property names a DefinitionSubstitutions key with
`x-definitionSubstitution` (the template parameter then supplies the value). A property marked `x-fixed: true`
keeps that value: an execution input that sets it is refused (`fixed_checks`). Checks cover type, required, enum,
const, format (uuid, date-time, date, email, uri, int32, int64), numeric and length bounds, pattern and
additionalProperties: false, for nested objects too. Messages name the field and the rule, never the value (it may
be sensitive). Each check is an expression that yields its message when its rule is broken, and nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from . import jsonata as js

_FORMATS = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "date-time": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$",
}
# Placeholders of these types are inserted raw: the deployment substitutes the value's JSONata text.
RAW_PLACEHOLDER_TYPES = ("integer", "number", "boolean", "array")
_NUMERIC_BOUNDS = (
    ("minimum", "<", "at least"),
    ("maximum", ">", "at most"),
    ("exclusiveMinimum", "<=", "more than"),
    ("exclusiveMaximum", ">=", "less than"),
)


def _type_is(value: js.Node, name: str) -> js.Node:
    return js.op("=", js.call("type", value), js.Sq(name))


def _integer(value: js.Node) -> js.Node:
    return js.group(js.op("and", _type_is(value, "number"), js.op("=", js.call("floor", value), value)))


_TYPE_TESTS: dict[str, Callable[[js.Node], js.Node]] = {
    "string": lambda v: _type_is(v, "string"),
    "number": lambda v: _type_is(v, "number"),
    "integer": _integer,
    "boolean": lambda v: _type_is(v, "boolean"),
    "object": lambda v: _type_is(v, "object"),
    "array": lambda v: _type_is(v, "array"),
    "null": lambda v: _type_is(v, "null"),
}


def substitution_placeholder(key: str, schema: dict) -> js.Placeholder:
    """A DefinitionSubstitutions placeholder of the property's type (the key is checked by check.py)."""
    return js.Placeholder(key, quoted=schema.get("type") not in RAW_PLACEHOLDER_TYPES)


def defaults(schema: dict) -> js.Obj:
    """The object of the top-level defaults."""
    pairs: list[tuple[str, js.Node]] = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if isinstance(prop.get("x-definitionSubstitution"), str):
            pairs.append((key, substitution_placeholder(prop["x-definitionSubstitution"], prop)))
        elif "default" in prop:
            pairs.append((key, js.Lit(prop["default"])))
    return js.obj(pairs, quote=js.Lit)


def _rule(broken: js.Node, message: js.Node | str) -> js.Node:
    return js.If(js.group(broken), js.Lit(message) if isinstance(message, str) else message)


def _and(*operands: js.Node) -> js.Node:
    return js.Op("and", operands)


INPUTS = js.Var("inputs")


def checks(schema: dict, value: js.Node = INPUTS, label: str = "") -> list[js.Node]:
    """One expression per rule of the schema (nested objects included)."""
    out: list[js.Node] = []
    where = label or "input"
    raw_types = schema.get("type")
    types = [raw_types] if isinstance(raw_types, str) else raw_types if isinstance(raw_types, list) else []
    if types:
        test = js.Op("or", tuple(_TYPE_TESTS[t](value) for t in types if t in _TYPE_TESTS))
        article = "an" if types[0][0] in "aeiou" else "a"
        out.append(
            _rule(_and(js.call("exists", value), js.call("not", test)), f"{where}: must be {article} {types[0]}")
        )
    if "enum" in schema and isinstance(schema["enum"], list):
        allowed = ", ".join(str(v) for v in schema["enum"])
        out.append(
            _rule(
                _and(js.call("exists", value), js.call("not", js.op("in", value, js.Lit(schema["enum"])))),
                f"{where}: must be one of {allowed}",
            )
        )
    if "const" in schema:
        out.append(
            _rule(
                _and(js.call("exists", value), js.op("!=", value, js.Lit(schema["const"]))),
                f"{where}: must be {schema['const']}",
            )
        )
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt.lower() in _FORMATS:
        pattern = js.Regex(_FORMATS[fmt.lower()].replace("/", "\\/"))
        out.append(
            _rule(
                _and(_type_is(value, "string"), js.call("not", js.call("contains", value, pattern))),
                f"{where}: must be a {fmt.lower()}",
            )
        )
    if fmt in ("int32", "int64"):
        bound = 2**31 if fmt == "int32" else 2**63
        outside = js.group(js.op("or", js.op("<", value, js.Lit(-bound)), js.op(">=", value, js.Lit(bound))))
        out.append(_rule(_and(_type_is(value, "number"), outside), f"{where}: must fit in {fmt}"))
    for keyword, operator, text in _NUMERIC_BOUNDS:
        limit = schema.get(keyword)
        if isinstance(limit, (int, float)) and not isinstance(limit, bool):
            out.append(
                _rule(
                    _and(_type_is(value, "number"), js.op(operator, value, js.Lit(limit))),
                    f"{where}: must be {text} {limit}",
                )
            )
    for keyword, operator, text, kind, size, unit in (
        ("minLength", "<", "at least", "string", "length", "characters"),
        ("maxLength", ">", "at most", "string", "length", "characters"),
        ("minItems", "<", "at least", "array", "count", "items"),
        ("maxItems", ">", "at most", "array", "count", "items"),
    ):
        limit = schema.get(keyword)
        if isinstance(limit, int):
            out.append(
                _rule(
                    _and(_type_is(value, kind), js.op(operator, js.call(size, value), js.Lit(limit))),
                    f"{where}: must have {text} {limit} {unit}",
                )
            )
    if isinstance(schema.get("pattern"), str):
        pattern = js.Regex(schema["pattern"].replace("/", "\\/"))
        out.append(
            _rule(
                _and(_type_is(value, "string"), js.call("not", js.call("contains", value, pattern))),
                f"{where}: must match the pattern " + schema["pattern"],
            )
        )
    properties: dict = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    for key in schema.get("required") or []:
        out.append(
            _rule(
                _and(_type_is(value, "object"), js.call("not", js.call("exists", js.Field(value, key)))),
                f"{_join(label, key)}: required",
            )
        )
    for key, prop in properties.items():
        if isinstance(prop, dict):
            out.extend(checks(prop, js.Field(value, key), _join(label, key)))
    if schema.get("additionalProperties") is False:
        unknown = js.call(
            "filter",
            js.call("keys", value),
            js.Function(("k",), js.call("not", js.op("in", js.Var("k"), js.Lit(list(properties))))),
        )
        out.append(
            _rule(
                _and(_type_is(value, "object"), js.op(">", js.call("count", unknown), js.Lit(0))),
                js.op("&", js.Lit(f"{where}: unknown field(s) "), js.call("join", unknown, js.Sq(", "))),
            )
        )
    return out


def fixed_checks(names: list[str], given: js.Node) -> list[js.Node]:
    """Messages for `x-fixed` inputs that the execution input (`given`) tries to set."""
    return [
        _rule(
            _and(_type_is(given, "object"), js.call("exists", js.call("lookup", given, js.Lit(key)))),
            f"{key}: set by the deployment",
        )
        for key in names
    ]


def _join(label: str, key: str) -> str:
    return f"{label}.{key}" if label else key
