"""The product as the local engine runs it: template.yaml deployed against one Airbyte base URL and credentials."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local_tools.engine import LocalEngine
from local_tools.sam import DeployedStack, deploy_sam_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINE_OUTPUT = "SyncStateMachineArn"
# The handlers' retry sleeps and clocks follow the engine clock (a virtual day of polling takes seconds).
SLEEP_MODULES = ("airbyte_client.retry",)


def engine(clock: Any = None) -> LocalEngine:
    """A LocalEngine set up for this product's handlers."""
    return LocalEngine(clock=clock, sleep_modules=SLEEP_MODULES)


def deploy(
    engine: LocalEngine,
    airbyte_url: str,
    credentials: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    template: Path = TEMPLATE,
    secret_name: str = "airbyte-sync/credentials",
) -> DeployedStack:
    """Put the credentials in a (moto) secret and deploy the template; returns the DeployedStack.

    The state machine's ARN is `stack.outputs[STATE_MACHINE_OUTPUT]`."""
    secret_arn = engine.create_secret(secret_name, dict(credentials))
    return deploy_sam_template(
        engine,
        Path(template),
        parameters={"AirbyteApiUrl": airbyte_url, "AirbyteSecretArn": secret_arn, **(parameters or {})},
        stack_name="airbyte-sync-local",
    )
