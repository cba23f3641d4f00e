"""The product's named errors.

Step Functions names a failed Lambda invocation after the exception class's ``__name__``, so each class carries the
dotted public name (``Airbyte.AuthError``) that the state machine's Retry/Catch rules match.

Messages are built only from operation names, HTTP statuses, exception type names and Airbyte's own error text:
never from request headers, request bodies or the secret. ``scrub`` is a second line of defence.
"""
from __future__ import annotations


class AirbyteError(Exception):
    """Base class; subclasses are renamed ``Airbyte.<ClassName>``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__name__ = "Airbyte." + cls.__name__
        cls.__qualname__ = cls.__name__


class InvalidRequest(AirbyteError):
    """The event breaks the handler contract, or a value is unsafe to send."""


class AuthError(AirbyteError):
    """401 after one token refresh, or 403."""


class Conflict(AirbyteError):
    """409 state-conflict; the message is Airbyte's."""


class Unprocessable(AirbyteError):
    """422, e.g. refresh jobs on the public API. Never retried."""


class JobNotFound(AirbyteError):
    """getJob/cancelJob answered 404."""


class Unavailable(AirbyteError):
    """Transient faults still failing after the bounded retries."""


class ConfigError(AirbyteError):
    """The function's configuration is wrong (base URL, secret format)."""


REDACTED = "***"


def scrub(text: str, secrets) -> str:
    """Replace every known secret value in ``text`` (defence in depth for messages and logs)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text
