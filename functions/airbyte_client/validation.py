"""Checks applied before a value goes into a URL or a request body."""

from __future__ import annotations

import ipaddress
import re
import uuid
from urllib.parse import urlsplit

from .errors import ConfigError, InvalidRequest

JOB_TYPES = ("sync", "reset", "refresh", "clear")
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
INT64_MAX = 2**63 - 1


def require_job_id(value: object) -> int:
    """A jobId is an int64; bools (a subclass of int) and strings are refused rather than coerced."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidRequest(f"jobId must be a non-negative integer, got a {type(value).__name__}")
    return value


def require_connection_id(value: object) -> str:
    """A connectionId must be a UUID; returned in canonical form."""
    if not isinstance(value, str):
        raise InvalidRequest(f"connectionId must be a UUID string, got a {type(value).__name__}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidRequest("connectionId is not a UUID") from None


def require_job_type(value: object) -> str:
    """A jobType must be given and be one of Airbyte's; nothing falsy silently becomes `sync`."""
    if not isinstance(value, str) or value not in JOB_TYPES:
        raise InvalidRequest(f"jobType must be one of {', '.join(JOB_TYPES)}")
    return value


# RFC 6750 b64token: what a bearer token may contain so that it travels unchanged in a header.
_BEARER_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def header_safe_credential(key: str, value: str, *, bearer: bool = False) -> str:
    """A credential value that an HTTP header (or Airbyte's token endpoint) can carry as it is.

    A trailing newline, surrounding spaces or characters outside Latin-1 are a configuration error (the request
    would fail on every attempt), reported by key, never by value.
    """
    if value != value.strip():
        raise ConfigError(f"The Airbyte secret's {key} has leading or trailing whitespace (a newline?)")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ConfigError(f"The Airbyte secret's {key} contains control characters")
    if bearer and not _BEARER_TOKEN.match(value):
        raise ConfigError(f"The Airbyte secret's {key} has characters a bearer token cannot contain")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError(f"The Airbyte secret's {key} has characters an HTTP header cannot carry") from None
    return value


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: object, variable: str = "AIRBYTE_API_URL", airbyte: bool = True) -> str:
    """The one configured base URL (`https://api.airbyte.com/v1`, `<host>/api/public/v1`) every path derives from.

    https is required, except on a loopback host (local emulator, port-forwarded self-managed Airbyte). `variable`
    names the setting in messages; `airbyte` adds Airbyte's own check (not the legacy configuration API).
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{variable} is not set")
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{variable} is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{variable} must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ConfigError(f"{variable} must not carry credentials; put them in the secret")
    if parts.query or parts.fragment:
        raise ConfigError(f"{variable} must not have a query or fragment")
    if airbyte and parts.path.rstrip("/").endswith("/api/v1"):
        # The legacy configuration API: its token endpoint answers differently and it has no public /jobs.
        raise ConfigError(
            "AIRBYTE_API_URL points at the legacy /api/v1; self-managed Airbyte's public API is <host>/api/public/v1"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigError(f"{variable} must use https (plain http is allowed only on a loopback host)")
    return url
