"""The product's named errors.

Step Functions names a failed Lambda invocation after the exception class's ``__name__``, so each class carries the
dotted public name (``Airbyte.AuthError``) that the state machine's Retry/Catch rules match.

Messages are built from operation names, HTTP statuses, exception type names and Airbyte's own error text, and
every message is scrubbed of known credential values when the error is made (Airbyte may echo a request header
in its error body).
"""

from __future__ import annotations

from . import redaction


class AirbyteError(Exception):
    """Base class; subclasses are renamed ``Airbyte.<ClassName>``."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__name__ = "Airbyte." + cls.__name__
        cls.__qualname__ = cls.__name__

    def __init__(self, message: str):
        super().__init__(redaction.scrub(message))


class InvalidRequest(AirbyteError):
    """The event breaks the handler contract, a value is unsafe to send, or Airbyte refused the request (400/404)."""


class AuthError(AirbyteError):
    """Airbyte refused the credentials (401 after re-reading them, 403 on a request that is not about one job)."""


class Conflict(AirbyteError):
    """409 state-conflict with no job to adopt (e.g. an inactive connection); the message is Airbyte's."""


class Unprocessable(AirbyteError):
    """422, e.g. refresh jobs on the public API. Never retried."""


class JobUnreadable(AirbyteError):
    """A job this execution knows can no longer be read: 403 (today's servers) or 404, after one re-read."""


class MalformedResponse(AirbyteError):
    """Airbyte answered 200 without what the operation must return (createJob without an integer jobId)."""


class Unavailable(AirbyteError):
    """Transient faults still failing after the bounded retries, or no time left in this invocation."""


class ConfigError(AirbyteError):
    """The function's configuration is wrong (base URL, secret format, a credential unusable in a header)."""


class CleanupFailed(AirbyteError):
    """The cleanup of a stopped execution could not find out whether its job still runs, or could not cancel it."""
