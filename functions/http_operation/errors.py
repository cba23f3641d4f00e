"""The generic handler's named errors: the client's errors under the `Http.` prefix.

The transport and the request checks raise airbyte_client's errors (`Airbyte.Unavailable`, ...); an execution
of a workflow that calls some other API fails with `Http.Unavailable` instead, which its Retry/Catch rules (and
the person reading the execution) can match without knowing the transport is shared with the Airbyte handlers.
"""

from __future__ import annotations

from airbyte_client import AirbyteError


class HttpError(Exception):
    """Base class; subclasses are renamed `Http.<ClassName>` (Step Functions names the error after it)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__name__ = "Http." + cls.__name__
        cls.__qualname__ = cls.__name__


class InvalidRequest(HttpError):
    """The event breaks the handler contract, or a value cannot be sent as it is; nothing was sent."""


class AuthError(HttpError):
    """401 again after re-reading the credentials, or the token endpoint refused them."""


class Unavailable(HttpError):
    """Transient faults still failing after the retries, a POST/PATCH fault that may have taken effect, or no
    time left in the function's timeout."""


class ConfigError(HttpError):
    """The function's configuration is wrong (HTTP_API_URL, the secret)."""


class Failed(HttpError):
    """Any other failure the client names (its `Airbyte.` name is in the message)."""


_BY_NAME: dict[str, type[HttpError]] = {
    cls.__name__.split(".", 1)[1]: cls for cls in (InvalidRequest, AuthError, Unavailable, ConfigError)
}


def renamed(error: AirbyteError) -> HttpError:
    """The same error (its message is already scrubbed) under its `Http.` name."""
    short = type(error).__name__.split(".", 1)[-1]
    cls = _BY_NAME.get(short)
    return cls(str(error)) if cls is not None else Failed(f"{type(error).__name__}: {error}")
