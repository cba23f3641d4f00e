"""Fixtures for the generic operation handler and `arazzo-sfn run`: functions/ on sys.path, instant retry sleeps."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest

import api_servers  # noqa: E402,F401  (puts functions/ on sys.path)

from airbyte_client import retry  # noqa: E402


@pytest.fixture
def recorded_sleeps(monkeypatch):
    """Retry waits are recorded, not slept."""
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "sleep", sleeps.append)
    return sleeps
