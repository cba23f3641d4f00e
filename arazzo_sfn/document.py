"""Load Arazzo and OpenAPI documents (YAML or JSON) keeping the line of every value, for error messages."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class DocumentError(ValueError):
    """A file that cannot be read or parsed."""


@dataclass
class Loaded:
    """A parsed document: `data` as plain Python values, `lines[path]` = 1-based line of the value at `path`."""

    path: Path
    data: object
    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, location: tuple) -> int | None:
        """The line of the value at `location`, or of its nearest parent that has one."""
        location = tuple(location)
        while location:
            if location in self.lines:
                return self.lines[location]
            location = location[:-1]
        return self.lines.get(())


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose nodes remember where they started."""


def _construct(node: yaml.Node, location: tuple, lines: dict, loader: _LineLoader) -> object:
    lines.setdefault(location, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<:` merge keys
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            key = str(key) if not isinstance(key, str) else key
            result[key] = _construct(value_node, location + (key,), lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, location + (index,), lines, loader) for index, item in enumerate(node.value)]
    value = loader.construct_object(node, deep=True)
    # YAML turns unquoted dates into date objects; Arazzo and OpenAPI values are JSON, so keep the text.
    if not isinstance(value, (str, int, float, bool, type(None))):
        value = node.value
    return value


def load(path: str | Path) -> Loaded:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DocumentError(f"{path}: cannot read: {error.strerror}") from None
    try:
        loader = _LineLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        if text.lstrip().startswith(("{", "[")):
            # JSON that YAML rejects (tab indentation, say): parse it as JSON, without a line map.
            try:
                return Loaded(path=path, data=json.loads(text))
            except json.JSONDecodeError as json_error:
                raise DocumentError(f"{path}:{json_error.lineno}: invalid JSON: {json_error.msg}") from None
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise DocumentError(f"{path}{where}: invalid YAML: {getattr(error, 'problem', error)}") from None
    if root is None:
        raise DocumentError(f"{path}: the document is empty")
    lines: dict = {}
    loader = _LineLoader("")
    data = _construct(root, (), lines, loader)
    return Loaded(path=path, data=data, lines=lines)
