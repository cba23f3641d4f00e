"""Airbyte public API client used by the Lambda handlers (see client.AirbyteClient)."""
from .client import ATTACHED_HEADER, AirbyteClient, ApiResponse, ClientConfig
from .errors import (
    AirbyteError,
    AuthError,
    ConfigError,
    Conflict,
    InvalidRequest,
    JobNotFound,
    Unavailable,
    Unprocessable,
)

__all__ = [
    "ATTACHED_HEADER", "AirbyteClient", "ApiResponse", "ClientConfig", "AirbyteError", "AuthError", "ConfigError",
    "Conflict", "InvalidRequest", "JobNotFound", "Unavailable", "Unprocessable",
]
