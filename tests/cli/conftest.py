"""Fixtures for tests/cli: Airbyte emulators running as separate processes (the CLI talks to them over HTTP)."""
from __future__ import annotations

import pytest

from cli_harness import CLIENT_ID, SENTINEL_SECRET, SENTINEL_TOKEN, emulator_process


@pytest.fixture(scope="module")
def emulator_url():
    """A self-managed-style Airbyte (base path /api/public/v1) taking client credentials; secret via env."""
    yield from emulator_process(["--auth", "client_credentials", "--client-id", CLIENT_ID],
                                {"AIRBYTE_EMULATOR_CLIENT_SECRET": SENTINEL_SECRET})


@pytest.fixture(scope="module")
def bearer_emulator_url():
    """An Airbyte taking one static bearer token (an API key)."""
    yield from emulator_process(["--auth", "bearer"], {"AIRBYTE_EMULATOR_TOKEN": SENTINEL_TOKEN})
