"""The product as the local engine runs it: template.yaml deployed against one Airbyte base URL and credentials."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINE_OUTPUT = "SyncStateMachineArn"


def deploy(engine: Any, airbyte_url: str, credentials: Mapping[str, Any], parameters: Mapping[str, Any] | None = None,
           template: Path = TEMPLATE, secret_name: str = "airbyte-sync/credentials") -> Any:
    """Put the credentials in a (moto) secret and deploy the template; returns the DeployedStack.

    The state machine's ARN is `stack.outputs[STATE_MACHINE_OUTPUT]`."""
    secret_arn = engine.create_secret(secret_name, dict(credentials))
    return engine.deploy_template(template, parameters={"AirbyteApiUrl": airbyte_url, "AirbyteSecretArn": secret_arn,
                                                        **(parameters or {})})
