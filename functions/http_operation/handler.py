"""The Lambda handler for every operation without an Airbyte-specific one: the event's request, sent."""

from __future__ import annotations

from typing import Any

from airbyte_client import AirbyteError
from airbyte_client.transport import Transport
from airbyte_handlers.common import logger, remaining_seconds, start_invocation

from .errors import renamed
from .operation import config_from_env, perform


def handler(event: Any, context: Any) -> dict[str, Any]:
    start_invocation(event, context)
    try:
        config = config_from_env()
    except AirbyteError as error:
        raise renamed(error) from None
    transport = Transport(config, logger=logger, lambda_remaining_seconds=remaining_seconds(context))
    response = perform(transport, event)
    logger.info("operation done", extra={"operation": event.get("operationId"), "status_code": response["statusCode"]})
    return response
