"""Fixtures for the Lambda code: functions/ on sys.path, instant recorded retry sleeps, the emulator, moto secrets."""
from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest

from functions_testkit import SENTINEL_SECRET  # noqa: E402  (puts functions/ on sys.path)

from airbyte_client import auth, retry  # noqa: E402
from local_tools.emulator import AirbyteEmulator  # noqa: E402


@pytest.fixture(autouse=True)
def recorded_sleeps(monkeypatch):
    """Retry waits are recorded, not slept; jitter is fixed at its ceiling so waits are predictable."""
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "sleep", sleeps.append)
    monkeypatch.setattr(retry, "random", lambda: 1.0)
    return sleeps


@pytest.fixture(autouse=True)
def fresh_token_cache():
    auth.TOKENS.clear()
    yield
    auth.TOKENS.clear()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("AIRBYTE_API_URL", "AIRBYTE_SECRET_ARN", "AIRBYTE_READ_TIMEOUT_SECONDS",
                 "AIRBYTE_CREATE_READ_TIMEOUT_SECONDS", "AIRBYTE_RETRY_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")


@pytest.fixture
def emulator():
    """A client-credentials emulator on the Cloud path shape, with the sentinel as its client secret."""
    with AirbyteEmulator(base_path="/v1", auth="client_credentials", client_id="client-1",
                         client_secret=SENTINEL_SECRET) as emu:
        yield emu


@pytest.fixture
def aws():
    """moto for everything boto3 does; Powertools' secret cache starts empty."""
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    from airbyte_client import secrets

    parameters.clear_caches()
    secrets.forget()
    with mock_aws():
        yield
    parameters.clear_caches()
    secrets.forget()


@pytest.fixture
def secret_arn(aws, monkeypatch):
    """Put a secret into moto Secrets Manager and point AIRBYTE_SECRET_ARN at it: call with the secret dict."""
    import boto3

    client = boto3.client("secretsmanager")

    def put(secret: dict, name: str | None = None) -> str:
        arn = client.create_secret(Name=name or f"airbyte-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(secret))["ARN"]
        monkeypatch.setenv("AIRBYTE_SECRET_ARN", arn)
        return arn

    return put


@pytest.fixture
def handler_logs():
    """The handlers' Powertools log lines (JSON), captured through the logger's own formatter."""
    from airbyte_handlers.common import logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(capture)

    class Logs:
        @property
        def text(self) -> str:
            return stream.getvalue()

        @property
        def lines(self) -> list[dict]:
            return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield Logs()
    logger._logger.removeHandler(capture)


@pytest.fixture(autouse=True)
def fresh_redaction():
    """Each test registers its own secrets (a process keeps them for its life, as a Lambda container does)."""
    from airbyte_client import redaction

    redaction.forget_all()
    yield
    redaction.forget_all()
