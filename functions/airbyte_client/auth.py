"""Credentials from Secrets Manager, and the bearer token cache.

The secret (JSON) takes one of four shapes:
  {"client_id", "client_secret"}  client credentials, exchanged at <base>/applications/token
  {"token"}                       a static bearer token (API key)
  {"username", "password"}        basic auth (legacy self-managed)
  {}                              no auth (self-managed with auth off)

Powertools Parameters (and so boto3) are imported only when a secret is actually fetched: most of a handler's
cold start is imports.
"""
from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field

from . import retry
from .errors import ConfigError, Unavailable

SECRET_SHAPES = (
    ("client_id", "client_secret"),
    ("token",),
    ("username", "password"),
    (),
)
PERMANENT_SECRET_ERRORS = (
    "ResourceNotFound", "AccessDenied", "InvalidParameter", "InvalidRequest", "DecryptionFailure", "ValidationException",
)
TOKEN_REFRESH_MARGIN_SECONDS = 60
# Old servers answer without expires_in; their tokens lived 180 s.
DEFAULT_TOKEN_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class Credentials:
    kind: str                                   # client_credentials | bearer | basic | none
    values: dict = field(default_factory=dict, repr=False)

    def secret_values(self) -> list[str]:
        return [v for v in self.values.values() if isinstance(v, str)]

    def __repr__(self) -> str:  # never print the values
        return f"Credentials(kind={self.kind!r})"


def parse_secret(secret) -> Credentials:
    """Turn the secret's JSON into Credentials; an unknown shape names the expected keys, never the values."""
    if not isinstance(secret, dict):
        raise ConfigError("The Airbyte secret must be a JSON object")
    keys = {k for k, v in secret.items() if v not in (None, "")}
    expected = "; ".join("{" + ", ".join(shape) + "}" for shape in SECRET_SHAPES)
    for shape, kind in zip(SECRET_SHAPES, ("client_credentials", "bearer", "basic", "none")):
        if keys == set(shape):
            if not all(isinstance(secret[k], str) for k in shape):
                raise ConfigError(f"The Airbyte secret's values must be strings (keys {', '.join(shape)})")
            return Credentials(kind, {k: secret[k] for k in shape})
    raise ConfigError(
        f"The Airbyte secret has keys {sorted(keys)}; expected one of: {expected}"
    )


def fetch_secret(secret_arn: str, max_age: int, force: bool = False) -> Credentials:
    from aws_lambda_powertools.utilities import parameters  # lazy: pulls in boto3

    try:
        secret = parameters.get_secret(secret_arn, transform="json", max_age=max_age, force_fetch=force)
    except parameters.exceptions.TransformParameterError:
        raise ConfigError("The Airbyte secret is not valid JSON") from None
    except parameters.exceptions.GetParameterError as exc:
        # botocore's message names the error code and the ARN, never the secret's value.
        reason = str(exc)
        if any(code in reason for code in PERMANENT_SECRET_ERRORS):
            raise ConfigError(f"Cannot read the Airbyte secret: {reason}") from None
        raise Unavailable(f"Cannot read the Airbyte secret (transient): {reason}") from None
    return parse_secret(secret)


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class TokenCache:
    """Access tokens in module scope, keyed by (token URL, client id), kept until 60 s before expiry."""

    def __init__(self):
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
        if entry and retry.wall_time() < entry[1]:
            return entry[0]
        return None

    def put(self, key, token: str, expires_in) -> None:
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME_SECONDS
        margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2)  # short-lived tokens: keep half their life
        valid_until = retry.wall_time() + max(0.0, lifetime - margin)
        with self._lock:
            self._tokens[key] = (token, valid_until)

    def drop(self, key) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()
