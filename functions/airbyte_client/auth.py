"""Credentials from Secrets Manager, and the bearer token cache.

The secret (JSON) takes one of four shapes:
  {"client_id", "client_secret"}  client credentials, exchanged at <base>/applications/token
  {"token"}                       a static bearer token (API key)
  {"username", "password"}        basic auth (legacy self-managed)
  {}                              no auth (self-managed with auth off)

Every value is registered with ``redaction`` as soon as it is read, so it can never be printed. The secret's
text comes from secrets.py, which avoids importing boto3 where it can: most of a handler's cold start is imports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from . import redaction, retry
from .errors import ConfigError
from .validation import header_safe_credential

SECRET_SHAPES = {
    "client_credentials": ("client_id", "client_secret"),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "none": (),
}
TOKEN_REFRESH_MARGIN_SECONDS = 60
# Old servers answer without expires_in; their tokens lived 180 s.
DEFAULT_TOKEN_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class Credentials:
    kind: str  # client_credentials | bearer | basic | none
    values: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never print the values
        return f"Credentials(kind={self.kind!r})"

    @property
    def fingerprint(self) -> str:
        """Tells two versions of the secret apart (after a rotation) without keeping the values around."""
        text = "\0".join(f"{k}={v}" for k, v in sorted(self.values.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def authorization(self, access_token: str | None = None) -> str | None:
        """The Authorization header value (client credentials need the access token obtained with them)."""
        if self.kind == "bearer":
            return "Bearer " + self.values["token"]
        if self.kind == "basic":
            pair = f"{self.values['username']}:{self.values['password']}"
            return "Basic " + base64.b64encode(pair.encode("latin-1")).decode("ascii")
        if self.kind == "client_credentials":
            return "Bearer " + (access_token or "")
        return None


def parse_secret(secret: object) -> Credentials:
    """Turn the secret's JSON into Credentials; an unknown shape names the expected keys, never the values."""
    if not isinstance(secret, dict):
        raise ConfigError("The Airbyte secret must be a JSON object")
    keys = {k for k, v in secret.items() if v not in (None, "")}
    for kind, shape in SECRET_SHAPES.items():
        if keys != set(shape):
            continue
        if not all(isinstance(secret[k], str) for k in shape):
            raise ConfigError(f"The Airbyte secret's values must be strings (keys {', '.join(shape)})")
        values = {k: secret[k] for k in shape}
        # Register before checking: a check that fails must not be the way a value gets printed.
        redaction.register(*(v for k, v in values.items() if k != "username" and k != "client_id"))
        if kind == "basic":
            redaction.register_basic(values["username"], values["password"])
        for key, value in values.items():
            header_safe_credential(key, value, bearer=(kind == "bearer"))
        return Credentials(kind, values)
    expected = "; ".join("{" + ", ".join(shape) + "}" for shape in SECRET_SHAPES.values())
    raise ConfigError(f"The Airbyte secret has keys {sorted(keys)}; expected one of: {expected}")


def fetch_secret(secret_arn: str, max_age: int, force: bool = False) -> Credentials:
    """The secret, from the cache unless ``force`` (after Airbyte refused the cached credentials); secrets.py reads
    it (the Lambda extension, a direct signed call, or boto3)."""
    from .secrets import secret_text

    try:
        secret = json.loads(secret_text(secret_arn, max_age, force=force))
    except ValueError:
        raise ConfigError("The Airbyte secret is not valid JSON") from None
    return parse_secret(secret)


class TokenCache:
    """Access tokens in module scope, keyed by (token URL, client id, secret fingerprint), kept until 60 s before
    expiry. A rotated secret has another fingerprint, so it never reuses a token of the old one."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(token_url: str, credentials: Credentials) -> tuple[str, ...]:
        return (token_url, credentials.values["client_id"], credentials.fingerprint)

    def get(self, key: tuple[str, ...]) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
        if entry and retry.wall_time() < entry[1]:
            return entry[0]
        return None

    def put(self, key: tuple[str, ...], token: str, expires_in: Any) -> None:
        redaction.register(token)
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME_SECONDS
        margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2)  # short-lived tokens: keep half their life
        valid_until = retry.wall_time() + max(0.0, lifetime - margin)
        with self._lock:
            self._tokens[key] = (token, valid_until)

    def drop(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()
