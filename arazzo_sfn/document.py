"""Load Arazzo and OpenAPI documents (YAML or JSON) keeping the line of every value, for error messages.

Documents are untrusted input, so loading is bounded: only regular files of at most MAX_BYTES, UTF-8 text, the
YAML core schema's tags (no `!!python/...`, no application tags), at most MAX_DEPTH levels of nesting and
MAX_VALUES values after aliases and merge keys are expanded (a few hundred bytes of aliases can otherwise expand to
gigabytes). Every refusal is a DocumentError naming the file and, where there is one, the line.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 200_000
# The YAML 1.1 core tags SafeLoader resolves plain values to; anything else is refused.
ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "value")
}


class DocumentError(ValueError):
    """A file that cannot be read or parsed, or that is beyond the loader's bounds: its file, line and what."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}" + (f":{line}" if line else "") + f": {message}")


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


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting while composing and oversized merges while flattening."""

    def __init__(self, text: str):
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.YAMLError(_Refusal(f"more than {MAX_DEPTH} levels of nesting", self.peek_event()))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        super().flatten_mapping(node)
        # Merge keys copy the merged pairs into each mapping: bound them where they are copied.
        if len(node.value) > MAX_VALUES:
            raise yaml.YAMLError(
                _Refusal(f"more than {MAX_VALUES} values (aliases or merge keys expand to more)", node)
            )


class _Refusal:
    """What a bounded loader refused, and where."""

    def __init__(self, message: str, where: object):
        self.message = message
        mark = getattr(where, "start_mark", None)
        self.line = mark.line + 1 if mark is not None else None


class _Builder:
    """Plain values from composed nodes, with the line of each, counting values as aliases expand."""

    def __init__(self, loader: _BoundedLoader):
        self.loader = loader
        self.lines: dict[tuple, int] = {}
        self.count = 0

    def build(self, node: yaml.Node, location: tuple) -> object:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _Refused(f"more than {MAX_VALUES} values (aliases or merge keys expand to more)", node)
        if node.tag not in ALLOWED_TAGS:
            raise _Refused(f"tag {node.tag!r} is not allowed (plain YAML values only)", node)
        self.lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<:` merge keys
            result = {}
            for key_node, value_node in node.value:
                key = (
                    self.build(key_node, location + ("<key>",))
                    if not isinstance(key_node, yaml.ScalarNode)
                    else self.scalar(key_node)
                )
                key = key if isinstance(key, str) else json.dumps(key) if isinstance(key, (dict, list)) else str(key)
                result[key] = self.build(value_node, location + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, location + (index,)) for index, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> object:
        if node.tag not in ALLOWED_TAGS:
            raise _Refused(f"tag {node.tag!r} is not allowed (plain YAML values only)", node)
        value = self.loader.construct_object(node, deep=True)
        # YAML turns unquoted dates into date objects; Arazzo and OpenAPI values are JSON, so keep the text.
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = node.value
        return value


class _Refused(Exception):
    def __init__(self, message: str, node: yaml.Node):
        super().__init__(message)
        self.line = node.start_mark.line + 1


def read_text(path: Path) -> str:
    """The text of a regular file of at most MAX_BYTES, as UTF-8."""
    try:
        status = path.stat()
    except OSError as error:
        raise DocumentError(path, None, f"cannot read: {error.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise DocumentError(path, None, "not a regular file")
    if status.st_size > MAX_BYTES:
        raise DocumentError(path, None, f"{status.st_size} bytes, more than the {MAX_BYTES} a document may have")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after the check, opening it must not hang.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise DocumentError(path, None, f"cannot read: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise DocumentError(path, None, f"more than the {MAX_BYTES} bytes a document may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DocumentError(path, line, f"not UTF-8 text (byte {error.start})") from None


def load(path: str | Path) -> Loaded:
    path = Path(path)
    text = read_text(path)
    loader = _BoundedLoader(text)
    try:
        try:
            root = loader.get_single_node()
            if root is None:
                raise DocumentError(path, None, "the document is empty")
            builder = _Builder(loader)
            data = builder.build(root, ())
        finally:
            loader.dispose()
    except _Refused as refused:
        raise DocumentError(path, refused.line, str(refused)) from None
    except yaml.YAMLError as error:
        refusal = error.args[0] if error.args and isinstance(error.args[0], _Refusal) else None
        if refusal is not None:
            raise DocumentError(path, refusal.line, refusal.message) from None
        if text.lstrip().startswith(("{", "[")):
            return _load_json(path, text)
        mark = getattr(error, "problem_mark", None)
        raise DocumentError(
            path, mark.line + 1 if mark else None, f"invalid YAML: {getattr(error, 'problem', None) or error}"
        ) from None
    return Loaded(path=path, data=data, lines=builder.lines)


def _load_json(path: Path, text: str) -> Loaded:
    """JSON that YAML rejects (tab indentation, say): parsed as JSON, without a line map, depth bounded."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (character == "\\", character != '"')
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise DocumentError(path, None, f"more than {MAX_DEPTH} levels of nesting")
    try:
        return Loaded(path=path, data=json.loads(text))
    except json.JSONDecodeError as json_error:
        raise DocumentError(path, json_error.lineno, f"invalid JSON: {json_error.msg}") from None
