"""State machine definition text as the engine takes it: a path, JSON text or a mapping, with DefinitionSubstitutions
applied; and the placeholder code moto wants for a function whose handler runs in-process."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def substitute_definition(text: str, values: Mapping[str, str]) -> str:
    """Replace `${Key}` with values[key] in definition text, as DefinitionSubstitutions does; unknown keys stay."""
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    return text


def substitution_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def definition_text(definition: str | os.PathLike | Mapping[str, Any]) -> str:
    if isinstance(definition, Mapping):
        return json.dumps(definition, ensure_ascii=False)  # moto keeps a \u escape in a key as written
    if isinstance(definition, str) and definition.lstrip().startswith("{"):
        return definition
    return Path(definition).read_text()


def placeholder_zip() -> bytes:
    """moto wants deployable code; the engine runs the registered local directory instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "code runs in-process from the local code directory\n")
    return buffer.getvalue()
