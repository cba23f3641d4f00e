"""Find the HTTP method and path of an Arazzo step's operation in its OpenAPI source description."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .document import DocumentError, Loaded, load
from .expressions import ExpressionError, parse_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    source: str  # the source description's name
    operation_id: str  # operationId, or a name made from method and path when the operation has none
    method: str  # upper case
    path: str  # the path template, relative to the server URL


class OpenAPISource:
    """One `type: openapi` source description, loaded."""

    def __init__(self, name: str, url: str, document: Loaded):
        self.name = name
        self.url = url
        self.document = document
        self.operations: dict[str, Operation] = {}
        paths = document.data.get("paths") if isinstance(document.data, dict) else None
        for path, item in (paths or {}).items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                operation = item.get(method)
                if isinstance(operation, dict) and isinstance(operation.get("operationId"), str):
                    self.operations[operation["operationId"]] = Operation(
                        name, operation["operationId"], method.upper(), path
                    )

    def by_pointer(self, pointer: str) -> Operation:
        """An operationPath's JSON pointer, e.g. `#/paths/~1pets~1{petId}/get`."""
        tokens = parse_pointer(pointer.lstrip("#"))
        if len(tokens) != 3 or tokens[0] != "paths" or tokens[2].lower() not in HTTP_METHODS:
            raise ExpressionError(f"operationPath must point at #/paths/<path>/<method>: {pointer!r}")
        paths = self.document.data.get("paths") if isinstance(self.document.data, dict) else None
        item = (paths or {}).get(tokens[1])
        if not isinstance(item, dict) or not isinstance(item.get(tokens[2].lower()), dict):
            raise ExpressionError(f"no operation at {pointer!r} in {self.document.path.name}")
        operation = item[tokens[2].lower()]
        operation_id = operation.get("operationId") or _name_from(tokens[2], tokens[1])
        return Operation(self.name, operation_id, tokens[2].upper(), tokens[1])


def _name_from(method: str, path: str) -> str:
    words = [w for w in path.replace("{", "/").replace("}", "/").split("/") if w]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


def source_root(arazzo_path: Path) -> Path:
    """The folder a document's source descriptions must lie in, by default: the parent of the document's folder,
    so `arazzo/x.yml` may name `../openapi/y.yml` and nothing above the project."""
    return Path(os.path.abspath(arazzo_path)).parent.parent


def resolve_source(arazzo_path: Path, url: str, root: Path | None = None) -> Path:
    """Where a source description's URL points on disk: a relative path inside `root`.

    Nothing is fetched and no path outside `root` is followed (a document is untrusted input): absolute paths,
    `file:` URLs and `..` past the root are refused. A remote URL (http, https) stands for a file of the same
    name beside the Arazzo document. The path is checked as written and once more with its symbolic links
    resolved (a link inside the root must not lead out of it); the file it names must be a regular file, which
    load() checks."""
    root = Path(os.path.abspath(root)) if root is not None else source_root(arazzo_path)
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        candidate = Path(os.path.abspath(arazzo_path)).parent / Path(parsed.path).name
        if Path(parsed.path).name and candidate.is_file():
            return candidate
        raise DocumentError(
            arazzo_path,
            None,
            f"source description {url!r} is remote and is not fetched; place "
            f"a copy named {Path(parsed.path).name!r} beside {arazzo_path.name}",
        )
    if parsed.scheme and len(parsed.scheme) > 1:  # (one letter: a Windows drive, refused below as absolute)
        raise DocumentError(
            arazzo_path,
            None,
            f"source description {url!r}: {parsed.scheme}: URLs are not "
            "followed; use a path relative to the Arazzo document",
        )
    if os.path.isabs(url) or (parsed.scheme and len(parsed.scheme) == 1):
        raise DocumentError(
            arazzo_path,
            None,
            f"source description {url!r}: absolute paths are not followed; use a path relative to the Arazzo document",
        )
    candidate = Path(os.path.normpath(Path(os.path.abspath(arazzo_path)).parent / url))
    if candidate != root and root not in candidate.parents:
        raise DocumentError(
            arazzo_path,
            None,
            f"source description {url!r} is outside {root} (source "
            "descriptions must lie in the document's project: its folder's "
            "parent, or --source-root)",
        )
    real_root, real = Path(os.path.realpath(root)), Path(os.path.realpath(candidate))
    if real != real_root and real_root not in real.parents:
        raise DocumentError(
            arazzo_path,
            None,
            f"source description {url!r} leads outside {root} through a symbolic link; links are followed only "
            "within the document's project",
        )
    return candidate


def load_source(arazzo_path: Path, name: str, url: str, root: Path | None = None) -> OpenAPISource:
    return OpenAPISource(name, url, load(resolve_source(arazzo_path, url, root)))
