"""Fixtures for the template tests: tool paths, the parsed SAM template and its offline translation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sam_template_support import ROOT, load_template, translate

# SAM CLI asks about telemetry on first use; keep the tests quiet and offline.
os.environ.setdefault("SAM_CLI_TELEMETRY", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs `sam build` (about a minute; installs from the package registry)")


def _tool(env_var: str, fallback: str) -> Path:
    """A tool from `make tools`. When `make test` names it, it must exist; a missing fallback skips."""
    if os.environ.get(env_var):
        path = Path(os.environ[env_var])
        path = path if path.is_absolute() else ROOT / path
        assert path.exists(), f"{env_var}={path} does not exist"
        return path
    path = ROOT / fallback
    if not path.exists():
        pytest.skip(f"{fallback} missing: run `make tools` (or set {env_var})")
    return path


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    return _tool("SAM_CLI", ".tools/sam/bin/sam")


@pytest.fixture(scope="session")
def asl_validator() -> Path:
    return _tool("ASL_VALIDATOR", ".tools/node_modules/.bin/asl-validator")


@pytest.fixture(scope="session")
def checkov() -> Path:
    return _tool("CHECKOV", ".tools/checkov/bin/checkov")


@pytest.fixture(scope="session")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="session")
def translated(template) -> dict:
    return translate(template)
