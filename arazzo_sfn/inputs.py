"""Workflow inputs: defaults and checks generated from the inputs JSON Schema, as JSONata.

Defaults come from `default`, or from the deployment when the property names a DefinitionSubstitutions key with
`x-definitionSubstitution` (the template parameter then supplies the value). A property marked `x-fixed: true`
keeps that value: an execution input that sets it is refused (`fixed_checks`). Checks cover type, required, enum,
const, format (uuid, date-time, date, email, uri, int32, int64), numeric and length bounds, pattern and
additionalProperties: false, for nested objects too. Messages name the field and the rule, never the value (it may
be sensitive).
"""
from __future__ import annotations

import re

from .jsonata import literal, name

_FORMATS = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "date-time": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$",
}
_TYPE_TESTS = {
    "string": "$type({v}) = 'string'",
    "number": "$type({v}) = 'number'",
    "integer": "($type({v}) = 'number' and $floor({v}) = {v})",
    "boolean": "$type({v}) = 'boolean'",
    "object": "$type({v}) = 'object'",
    "array": "$type({v}) = 'array'",
    "null": "$type({v}) = 'null'",
}


def substitution_placeholder(key: str, schema: dict) -> str:
    """A DefinitionSubstitutions placeholder as a JSONata literal of the property's type."""
    if not re.fullmatch(r"[A-Za-z0-9]+", key):
        raise ValueError(f"x-definitionSubstitution {key!r} must be letters and digits (a CloudFormation name)")
    if schema.get("type") in ("integer", "number", "boolean", "array"):
        # Inserted raw: the deployment substitutes the value's JSON text (a number, true/false, a JSON array).
        return "${" + key + "}"
    return "'${" + key + "}'"


def defaults(schema: dict) -> str:
    """JSONata object of the top-level defaults."""
    parts = []
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if isinstance(prop.get("x-definitionSubstitution"), str):
            parts.append(f"{literal(key)}: {substitution_placeholder(prop['x-definitionSubstitution'], prop)}")
        elif "default" in prop:
            parts.append(f"{literal(key)}: {literal(prop['default'])}")
    return "{" + ", ".join(parts) + "}"


def checks(schema: dict, value: str = "$inputs", label: str = "") -> list[str]:
    """JSONata expressions, each yielding an error message when its rule is broken (and nothing otherwise)."""
    out: list[str] = []
    where = label or "input"
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if types:
        test = " or ".join(_TYPE_TESTS[t].format(v=value) for t in types if t in _TYPE_TESTS)
        article = "an" if types[0][0] in "aeiou" else "a"
        out.append(f"($exists({value}) and $not({test})) ? {literal(f'{where}: must be {article} {types[0]}')}")
    if "enum" in schema and isinstance(schema["enum"], list):
        allowed = ", ".join(str(v) for v in schema["enum"])
        out.append(f"($exists({value}) and $not({value} in {literal(schema['enum'])})) "
                   f"? {literal(f'{where}: must be one of {allowed}')}")
    if "const" in schema:
        const = schema["const"]
        out.append(f"($exists({value}) and {value} != {literal(const)}) ? {literal(f'{where}: must be {const}')}")
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt.lower() in _FORMATS:
        pattern = _FORMATS[fmt.lower()].replace("/", "\\/")
        out.append(f"($type({value}) = 'string' and $not($contains({value}, /{pattern}/))) "
                   f"? {literal(f'{where}: must be a {fmt.lower()}')}")
    if fmt in ("int32", "int64"):
        bound = 2 ** 31 if fmt == "int32" else 2 ** 63
        out.append(f"($type({value}) = 'number' and ({value} < {-bound} or {value} >= {bound})) "
                   f"? {literal(f'{where}: must fit in {fmt}')}")
    for keyword, op, text in (("minimum", "<", "at least"), ("maximum", ">", "at most"),
                              ("exclusiveMinimum", "<=", "more than"), ("exclusiveMaximum", ">=", "less than")):
        bound = schema.get(keyword)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            out.append(f"($type({value}) = 'number' and {value} {op} {literal(bound)}) "
                       f"? {literal(f'{where}: must be {text} {bound}')}")
    for keyword, op, text in (("minLength", "<", "at least"), ("maxLength", ">", "at most")):
        bound = schema.get(keyword)
        if isinstance(bound, int):
            out.append(f"($type({value}) = 'string' and $length({value}) {op} {bound}) "
                       f"? {literal(f'{where}: must have {text} {bound} characters')}")
    for keyword, op, text in (("minItems", "<", "at least"), ("maxItems", ">", "at most")):
        bound = schema.get(keyword)
        if isinstance(bound, int):
            out.append(f"($type({value}) = 'array' and $count({value}) {op} {bound}) "
                       f"? {literal(f'{where}: must have {text} {bound} items')}")
    if isinstance(schema.get("pattern"), str):
        pattern = schema["pattern"].replace("/", "\\/")
        out.append(f"($type({value}) = 'string' and $not($contains({value}, /{pattern}/))) "
                   f"? {literal(f'{where}: must match the pattern ' + schema['pattern'])}")
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for key in schema.get("required") or []:
        out.append(f"($type({value}) = 'object' and $not($exists({value}.{name(key)}))) "
                   f"? {literal(f'{_join(label, key)}: required')}")
    for key, prop in properties.items():
        if isinstance(prop, dict):
            out.extend(checks(prop, f"{value}.{name(key)}", _join(label, key)))
    if schema.get("additionalProperties") is False:
        known = literal(list(properties))
        out.append(f"($type({value}) = 'object' and $count($filter($keys({value}), function($k) "
                   f"{{ $not($k in {known}) }})) > 0) ? {literal(f'{where}: unknown field(s) ')} & "
                   f"$join($filter($keys({value}), function($k) {{ $not($k in {known}) }}), ', ')")
    return out


def _join(label: str, key: str) -> str:
    return f"{label}.{key}" if label else key


def fixed_checks(names: list[str], given: str) -> list[str]:
    """JSONata messages for `x-fixed` inputs that the execution input (`given`) tries to set."""
    return [f"($type({given}) = 'object' and $exists($lookup({given}, {literal(key)}))) "
            f"? {literal(f'{key}: set by the deployment')}" for key in names]
