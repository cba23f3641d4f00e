"""The client's configuration, from the function's environment.

The same configuration serves the Airbyte handlers (variables `AIRBYTE_*`) and the generic operation handler
(functions/http_operation, variables `HTTP_*`, any HTTP API): `env_prefix` names the variables, `api_name` names
the API in messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import retry
from .errors import ConfigError
from .validation import normalize_base_url

AIRBYTE = "AIRBYTE"  # the Airbyte handlers' variables; the generic operation handler's are HTTP_*


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
    api_name: str = "Airbyte"  # the API, in messages
    env_prefix: str = AIRBYTE  # the environment variables' prefix (AIRBYTE_API_URL, ...)

    def __post_init__(self) -> None:
        url = normalize_base_url(self.base_url, f"{self.env_prefix}_API_URL", airbyte=self.env_prefix == AIRBYTE)
        object.__setattr__(self, "base_url", url)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, prefix: str = AIRBYTE, api_name: str = "Airbyte"
    ) -> ClientConfig:
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            return _env_number(env, f"{prefix}_{name}", default)

        policy = retry.RetryPolicy(
            max_attempts=int(number("RETRY_MAX_ATTEMPTS", 5)),
            base_seconds=number("RETRY_BASE_SECONDS", 1.0),
            max_wait_seconds=number("RETRY_MAX_WAIT_SECONDS", 20.0),
            budget_seconds=number("RETRY_BUDGET_SECONDS", 170.0),
        )
        return cls(
            base_url=env.get(f"{prefix}_API_URL", ""),
            secret_arn=env.get(f"{prefix}_SECRET_ARN") or None,
            connect_timeout=number("CONNECT_TIMEOUT_SECONDS", 5.0),
            read_timeout=number("READ_TIMEOUT_SECONDS", 30.0),
            create_read_timeout=number("CREATE_READ_TIMEOUT_SECONDS", 75.0),
            retry_policy=policy,
            secret_max_age=int(number("SECRET_MAX_AGE_SECONDS", 300)),
            clock_skew_seconds=number("CLOCK_SKEW_SECONDS", 30.0),
            conflict_lookup_seconds=number("CONFLICT_LOOKUP_SECONDS", 45.0),
            api_name=api_name,
            env_prefix=prefix,
        )

    @property
    def token_url(self) -> str:
        return self.base_url + "/applications/token"
