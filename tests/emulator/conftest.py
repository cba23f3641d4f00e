"""Fixtures for the Airbyte emulator tests: the emulator itself on a virtual clock, a client, the schema checker."""
from __future__ import annotations

import uuid

import pytest
from emulator_testkit import Client, SpecChecker, load_spec

from local_tools.clock import VirtualClock
from local_tools.emulator import AirbyteEmulator


@pytest.fixture(scope="session")
def spec() -> dict:
    return load_spec()


@pytest.fixture(scope="session")
def checker(spec) -> SpecChecker:
    return SpecChecker(spec)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_790_000_000.0)


@pytest.fixture
def emu(clock):
    with AirbyteEmulator(base_path="/v1", auth="client_credentials", client_id="cid", client_secret="csecret",
                         clock=clock) as emulator:
        yield emulator


@pytest.fixture
def client(emu) -> Client:
    return Client(emu.base_url)


@pytest.fixture
def make_client():
    """Client(base_url, client_id=..., client_secret=...) for emulators a test starts itself."""
    return Client


@pytest.fixture
def connection_id() -> str:
    return str(uuid.uuid4())
