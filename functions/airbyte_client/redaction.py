"""Every value derived from the Airbyte secret is removed from whatever leaves a handler.

The credentials (client secret, static token, password), the access tokens obtained with them and the header
values built from them (``Bearer <token>``, ``Basic <base64>``) are registered here the moment they are known.
Error messages (errors.AirbyteError), log records (``RedactingFilter``) and the responses handed to the state
machine (``scrub_data``) all pass through ``scrub``. Airbyte, or a proxy in front of it, may echo a request header
in an error body; this keeps that echo out of the execution history too.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

REDACTED = "***"
# Shorter values would scrub ordinary words; the secret parser refuses credentials this short anyway.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: list[str] = []  # longest first, so that a value containing another is replaced whole


def _forms(value: str) -> set[str]:
    """The value and the encodings in which it travels (a header, JSON, base64)."""
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return {value, encoded, encoded.rstrip("=")}


def register(*values: str | None) -> None:
    """Remember secret values (and their base64 forms) to scrub from now on, for the life of the process."""
    added = set()
    for value in values:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            added |= {form for form in _forms(value) if len(form) >= MIN_SECRET_LENGTH}
    if not added:
        return
    global _ordered
    with _lock:
        if added <= _secrets:
            return
        _secrets.update(added)
        _ordered = sorted(_secrets, key=len, reverse=True)


def register_basic(username: str, password: str) -> None:
    """Basic auth travels as base64("user:password"): register that pair too."""
    register(password, f"{username}:{password}")


def scrub(text: str) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    if not isinstance(text, str) or not text:
        return text
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_data(value: Any) -> Any:
    """A JSON-like value with every string in it (keys included) scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_data(item) for item in value]
    return value


def forget_all() -> None:
    """For tests: start with nothing registered."""
    global _ordered
    with _lock:
        _secrets.clear()
        _ordered = []


class RedactingFilter(logging.Filter):
    """Scrubs a log record's message, arguments and extra fields before any handler formats it."""

    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ordered:
            return True
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        elif not isinstance(record.msg, (int, float)):
            record.msg = scrub_data(record.msg)
        if record.args:
            record.args = (
                tuple(scrub_data(arg) for arg in record.args)
                if isinstance(record.args, tuple)
                else scrub_data(record.args)
            )
        for key, value in list(record.__dict__.items()):
            if key not in self._STANDARD and isinstance(value, (str, dict, list)):
                setattr(record, key, scrub_data(value))
        return True
