"""What a step or an input schema refers to, resolved while reading (a mixin of reader.Reader): `$ref` in input
schemas, Reusable Objects in components, the step's operation in its source descriptions, its parameters and its
request body with payload replacements."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .expressions import ExpressionError, parse_pointer
from .model import Parameter
from .openapi import OpenAPISource, Operation

if TYPE_CHECKING:
    from .document import Loaded


class ReferenceReader:
    if TYPE_CHECKING:
        loaded: Loaded
        components: dict
        sources: dict[str, OpenAPISource]

        def problem(self, location: tuple, message: str) -> None: ...
        def read_value(self, raw: object, location: tuple) -> object: ...

    def resolve_schema(self, schema: object, location: tuple, depth: int = 0) -> Any:
        """Inline `$ref: '#/components/inputs/x'` references of an inputs schema."""
        if depth > 20:
            self.problem(location, "inputs schema references nest too deeply (a cycle?)")
            return {}
        if isinstance(schema, dict):
            if isinstance(schema.get("$ref"), str):
                ref = schema["$ref"]
                target = self.follow_ref(ref, location)
                return self.resolve_schema(target, location, depth + 1) if target is not None else {}
            return {
                k: self.resolve_schema(v, location + (k,), depth + 1) if isinstance(v, (dict, list)) else v
                for k, v in schema.items()
            }
        if isinstance(schema, list):
            return [
                self.resolve_schema(v, location + (i,), depth + 1) if isinstance(v, (dict, list)) else v
                for i, v in enumerate(schema)
            ]
        if schema is not None:
            self.problem(location, "inputs must be a JSON Schema object")
        return {}

    def follow_ref(self, ref: str, location: tuple) -> object:
        if not ref.startswith("#/"):
            self.problem(location, f"only local references (#/...) are supported: {ref!r}")
            return None
        node: object = self.loaded.data
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                self.problem(location, f"reference {ref!r} does not resolve")
                return None
            node = node[token]
        return node

    def component(self, reference: str, kind: str, location: tuple) -> object:
        """A Reusable Object `{reference: $components.<kind>.<name>}`."""
        prefix = f"$components.{kind}."
        if not isinstance(reference, str) or not reference.startswith(prefix):
            self.problem(location, f"reference must be {prefix}<name>, found {reference!r}")
            return None
        name = reference[len(prefix) :]
        found = (self.components.get(kind) or {}).get(name)
        if found is None:
            self.problem(location, f"{reference} is not defined in components")
        return found

    # -- step -----------------------------------------------------------------------------------------------------
    def resolve_operation(self, kind: str, value: object, location: tuple) -> Operation | None:
        if not isinstance(value, str):
            self.problem(location, f"{kind} must be a string")
            return None
        if kind == "operationPath":
            # {$sourceDescriptions.<name>.url}#/paths/~1pets/get
            match = re.match(r"^\{\$sourceDescriptions\.([A-Za-z0-9_\-]+)\.url\}(#.*)$", value)
            if not match or match.group(1) not in self.sources:
                self.problem(
                    location, f"operationPath must be {{$sourceDescriptions.<name>.url}}#/paths/...: {value!r}"
                )
                return None
            try:
                return self.sources[match.group(1)].by_pointer(match.group(2))
            except ExpressionError as error:
                self.problem(location, str(error))
                return None
        # operationId, optionally qualified: $sourceDescriptions.<name>.<operationId>
        qualified = re.match(r"^\$sourceDescriptions\.([A-Za-z0-9_\-]+)\.(.+)$", value)
        candidates = (
            [self.sources[qualified.group(1)]]
            if qualified and qualified.group(1) in self.sources
            else list(self.sources.values())
        )
        operation_id = qualified.group(2) if qualified else value
        found = [s.operations[operation_id] for s in candidates if operation_id in s.operations]
        if not found:
            self.problem(
                location,
                f"operationId {operation_id!r} is not in "
                + (", ".join(repr(s.document.path.name) for s in candidates) or "any source description"),
            )
            return None
        if len(found) > 1:
            self.problem(
                location,
                f"operationId {operation_id!r} is in several source descriptions; "
                "qualify it as $sourceDescriptions.<name>.<operationId>",
            )
        return found[0]

    def read_parameters(self, raw: list, location: tuple, operation: Operation | None) -> list[Parameter]:
        by_key: dict[tuple, Parameter] = {}
        for index, item in enumerate(raw):
            item_location = location + (index,)
            if isinstance(item, dict) and "reference" in item:
                base = self.component(item["reference"], "parameters", item_location)
                if not isinstance(base, dict):
                    continue
                item = {**base, **({"value": item["value"]} if "value" in item else {})}
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
                self.problem(item_location, "a parameter needs 'name' and 'value'")
                continue
            where = item.get("in")
            if operation is not None and where not in ("path", "query", "header", "cookie"):
                self.problem(
                    item_location + ("in",), f"parameter {item['name']!r} needs 'in': path, query, header or cookie"
                )
                continue
            value = self.read_value(item["value"], item_location + ("value",))
            # A step parameter replaces a workflow parameter of the same name and location.
            by_key[(item["name"], where)] = Parameter(item["name"], where, value)
        if operation is not None:
            for name in re.findall(r"\{([^}]+)\}", operation.path):
                if (name, "path") not in by_key:
                    self.problem(
                        location, f"path parameter {name!r} of {operation.method} {operation.path} has no value"
                    )
        return list(by_key.values())

    def read_request_body(self, raw: object, location: tuple) -> tuple[str | None, object]:
        if not isinstance(raw, dict):
            self.problem(location, "requestBody must be a mapping")
            return None, None
        content_type = raw.get("contentType")
        payload = raw.get("payload")
        if isinstance(payload, str) and (content_type or "application/json").endswith("json"):
            # A JSON document written as text, often with "{$inputs.x}" placeholders: read it as JSON so the
            # placeholders keep their types.
            try:
                payload = json.loads(payload)
            except json.JSONDecodeError:
                pass
        tree = self.read_value(payload, location + ("payload",))
        for index, replacement in enumerate(raw.get("replacements") or []):
            replacement_location = location + ("replacements", index)
            if not isinstance(replacement, dict) or "target" not in replacement or "value" not in replacement:
                self.problem(replacement_location, "a payload replacement needs 'target' and 'value'")
                continue
            tree = self.replace_at(
                tree,
                replacement["target"],
                self.read_value(replacement["value"], replacement_location + ("value",)),
                replacement_location,
            )
        return content_type, tree

    def replace_at(self, tree: object, target: str, value: object, location: tuple) -> object:
        try:
            tokens = parse_pointer(target)
        except ExpressionError as error:
            self.problem(location + ("target",), f"{error} (only JSON pointers are supported as targets)")
            return tree
        if not tokens:
            return value
        node = tree
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node.get(token) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[tokens[-1]] = value
        elif isinstance(node, list) and tokens[-1].isdigit() and int(tokens[-1]) < len(node):
            node[int(tokens[-1])] = value
        else:
            self.problem(location + ("target",), f"replacement target {target!r} is not in the payload")
        return tree
