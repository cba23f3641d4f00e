"""What every seam shares: the pinned moto version, the checks that an internal is still what we expect, and
the patch helper that returns an undo."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import moto

PINNED_MOTO_VERSION = "5.2.5"

Undo = Callable[[], None]


class SeamMoved(RuntimeError):
    """A moto internal the local engine relies on is missing or changed."""

    def __init__(self, seam: str, detail: str):
        super().__init__(
            f"moto seam '{seam}' moved: {detail}. The local engine is written against moto=={PINNED_MOTO_VERSION} "
            f"(installed: {moto.__version__}); re-check local_tools/engine/seams against the new moto source."
        )
        self.seam = seam


def require_attr(seam: str, owner: Any, name: str) -> Any:
    if not hasattr(owner, name):
        raise SeamMoved(seam, f"{getattr(owner, '__name__', owner)!r} has no attribute {name!r}")
    return getattr(owner, name)


def require_params(seam: str, func: Any, expected: list[str]) -> None:
    actual = list(inspect.signature(func).parameters)
    if actual != expected:
        raise SeamMoved(seam, f"{func.__qualname__} takes {actual}, expected {expected}")


def require_source(seam: str, func: Any, fragments: tuple[str, ...]) -> None:
    source = inspect.getsource(func)
    for fragment in fragments:
        if fragment not in source:
            raise SeamMoved(seam, f"{func.__qualname__} no longer contains {fragment!r}")


def patch(owner: Any, name: str, replacement: Any) -> Undo:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

    def undo() -> None:
        setattr(owner, name, original)

    setattr(owner, name, replacement)
    return undo


def undo_all(*undos: Undo) -> Undo:
    """One undo for several patches: undoes them in reverse order (the last patch first)."""

    def undo() -> None:
        for each in reversed(undos):
            each()

    return undo


def require_inherited(seam: str, owner: type, name: str) -> None:
    """`owner` does not define `name` itself (it inherits it), so patch_new may give it one."""
    if name in owner.__dict__:
        raise SeamMoved(seam, f"{owner.__name__} now defines {name} itself")


def patch_new(owner: type, name: str, replacement: Any) -> Undo:
    """Give `owner` an attribute of its own that it now inherits (check require_inherited first); undo removes it."""
    setattr(owner, name, replacement)

    def undo() -> None:
        if owner.__dict__.get(name) is replacement:
            delattr(owner, name)

    return undo


def execution_arn_of(env: Any) -> str | None:
    """The execution ARN an evaluation environment (or a Map/Parallel frame of it) belongs to."""
    try:
        return env.states.context_object.context_object_data["Execution"]["Id"]
    except (AttributeError, KeyError, TypeError):
        return None


def is_virtual(clock: Any) -> bool:
    from local_tools.clock import RealClock

    return not isinstance(clock, RealClock)


def check_moto_version() -> None:
    """Fail early (and clearly) when moto is not the version these seams were written against."""
    if moto.__version__ != PINNED_MOTO_VERSION:
        raise SeamMoved("moto version", f"installed moto is {moto.__version__}")
