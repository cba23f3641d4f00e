"""The client's configuration, from the function's environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import retry
from .errors import ConfigError
from .validation import normalize_base_url


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    secret_arn: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # createJob waits server-side for a job id (up to 60 s): its read timeout must be well above that.
    create_read_timeout: float = 75.0
    retry_policy: retry.RetryPolicy = field(default_factory=retry.RetryPolicy)
    secret_max_age: int = 300
    # Tolerated difference between our clock and Airbyte's when matching a job's startTime to our attempt.
    clock_skew_seconds: float = 30.0
    # How long createJob keeps looking for the job a 409 state-conflict ("Could not fulfill request") created.
    conflict_lookup_seconds: float = 45.0
    # Kept free before the Lambda function's own timeout, to return an answer instead of being cut off.
    lambda_margin_seconds: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientConfig:
        env = os.environ if environ is None else environ
        policy = retry.RetryPolicy(
            max_attempts=int(_env_number(env, "AIRBYTE_RETRY_MAX_ATTEMPTS", 5)),
            base_seconds=_env_number(env, "AIRBYTE_RETRY_BASE_SECONDS", 1.0),
            max_wait_seconds=_env_number(env, "AIRBYTE_RETRY_MAX_WAIT_SECONDS", 20.0),
            budget_seconds=_env_number(env, "AIRBYTE_RETRY_BUDGET_SECONDS", 170.0),
        )
        return cls(
            base_url=env.get("AIRBYTE_API_URL", ""),
            secret_arn=env.get("AIRBYTE_SECRET_ARN") or None,
            connect_timeout=_env_number(env, "AIRBYTE_CONNECT_TIMEOUT_SECONDS", 5.0),
            read_timeout=_env_number(env, "AIRBYTE_READ_TIMEOUT_SECONDS", 30.0),
            create_read_timeout=_env_number(env, "AIRBYTE_CREATE_READ_TIMEOUT_SECONDS", 75.0),
            retry_policy=policy,
            secret_max_age=int(_env_number(env, "AIRBYTE_SECRET_MAX_AGE_SECONDS", 300)),
            clock_skew_seconds=_env_number(env, "AIRBYTE_CLOCK_SKEW_SECONDS", 30.0),
            conflict_lookup_seconds=_env_number(env, "AIRBYTE_CONFLICT_LOOKUP_SECONDS", 45.0),
        )

    @property
    def token_url(self) -> str:
        return self.base_url + "/applications/token"
