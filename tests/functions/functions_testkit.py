"""Helpers shared by the function tests (a uniquely named module: test directories are not packages)."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

from airbyte_client import auth  # noqa: E402
from airbyte_client.client import AirbyteClient, ClientConfig  # noqa: E402

SENTINEL_SECRET = "SENTINEL-client-secret-7f3a9c"


def new_connection_id() -> str:
    return str(uuid.uuid4())


def make_client(emu, credentials: dict | None = None, **config) -> AirbyteClient:
    """A client with explicit credentials (the handler tests read them from moto instead)."""
    if credentials is None:
        credentials = {"client_id": "client-1", "client_secret": SENTINEL_SECRET}
    config.setdefault("read_timeout", 2.0)
    config.setdefault("create_read_timeout", 2.0)
    return AirbyteClient(ClientConfig(base_url=emu.base_url, **config), credentials=auth.parse_secret(credentials))
