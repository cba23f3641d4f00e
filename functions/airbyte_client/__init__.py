"""The Airbyte public API client the Lambda handlers use: one base URL, bounded retries inside the invocation's
time budget, credentials re-read after a rotation, and nothing derived from the secret in any output."""

from .client import (
    ACTIVE_JOB_ID_HEADER,
    ACTIVE_JOB_TYPE_HEADER,
    ATTACHED_HEADER,
    CANCEL_OUTCOME_HEADER,
    INSTRUCTION_PREFIX,
    JOB_HISTORY_HEADER,
    NEXT_POLL_HEADER,
    POLL_PLAN_HEADER,
    RECOVERED_HEADER,
    AirbyteClient,
)
from .config import ClientConfig
from .errors import (
    AirbyteError,
    AuthError,
    CleanupFailed,
    ConfigError,
    Conflict,
    InvalidRequest,
    JobUnreadable,
    MalformedResponse,
    Unavailable,
    Unprocessable,
)
from .transport import ApiResponse

__all__ = [
    "ACTIVE_JOB_ID_HEADER",
    "ACTIVE_JOB_TYPE_HEADER",
    "ATTACHED_HEADER",
    "CANCEL_OUTCOME_HEADER",
    "INSTRUCTION_PREFIX",
    "JOB_HISTORY_HEADER",
    "NEXT_POLL_HEADER",
    "POLL_PLAN_HEADER",
    "RECOVERED_HEADER",
    "AirbyteClient",
    "ApiResponse",
    "ClientConfig",
    "AirbyteError",
    "AuthError",
    "CleanupFailed",
    "ConfigError",
    "Conflict",
    "InvalidRequest",
    "JobUnreadable",
    "MalformedResponse",
    "Unavailable",
    "Unprocessable",
]
