"""Send one HttpRequest through the client's Transport and answer the handler contract's response.

Every answer the API gives (2xx, and 4xx other than 401) is returned for the workflow to judge with its
successCriteria; transient faults (connection errors, timeouts, 5xx, 429) are retried inside the invocation's
budget, but a POST or PATCH is sent again only after a 429 (the API said it did nothing): otherwise it may have
taken effect, and a second one could do the work twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airbyte_client import AirbyteError, ApiResponse, ClientConfig, Unavailable
from airbyte_client.transport import TransientFault, Transport

from .errors import renamed
from .request import NO_BODY, HttpRequest, build_request

ENV_PREFIX = "HTTP"  # HTTP_API_URL, HTTP_SECRET_ARN, HTTP_RETRY_MAX_ATTEMPTS, ... (airbyte_client/config.py)
API_NAME = "The API"


def config_from_env(environ: Any = None) -> ClientConfig:
    return ClientConfig.from_env(environ, prefix=ENV_PREFIX, api_name=API_NAME)


def perform(transport: Transport, event: Any) -> dict[str, Any]:
    """The event's request sent to the deployment's base URL; the contract's response, scrubbed. Errors are
    raised under their `Http.` names (errors.py)."""
    try:
        request = build_request(event, deployment_authorizes=transport.credentials().kind != "none")
        return send(transport, request).to_contract()
    except AirbyteError as error:
        raise renamed(error) from None


def send(transport: Transport, request: HttpRequest) -> ApiResponse:
    budget = transport.budget()

    def attempt() -> ApiResponse:
        return transport.exchange(
            request.operation_id,
            request.method,
            request.path,
            budget=budget,
            params=request.query,
            json=None if request.json is NO_BODY else request.json,
            data=request.data,
            headers=request.headers,
            any_body=True,
        )

    return transport.with_retries(
        request.operation_id, attempt if request.idempotent else _sent_once(request, attempt), budget
    )


def _sent_once(request: HttpRequest, attempt: Callable[[], ApiResponse]) -> Callable[[], ApiResponse]:
    def once() -> ApiResponse:
        try:
            return attempt()
        except TransientFault as fault:
            if fault.maybe_done and fault.status != 429:
                raise Unavailable(
                    f"{request.method} {request.operation_id} failed ({fault.what}) and is not repeated: "
                    "it may have taken effect"
                ) from None
            raise

    return once
