"""The answers Airbyte's server sends, error bodies above all, in the three shapes its layers produce.

- Problem JSON (api-problems.yaml, thrown by the public API code): ``{status, type, title, detail, data}``.
- Micronaut's JsonError, for requests the framework refuses before Airbyte's code runs (a path or query value
  that does not convert, a body that does not bind): ``{message: "Bad Request", _links, _embedded: {errors}}``.
- ``{"errorId": "<uuid>"}`` from Airbyte's exception handlers that hide details (UncaughtExceptionHandler: 500,
  InvalidClientCredentialsExceptionHandler: 401, InvalidInputExceptionHandler: 400 for bean-validation failures).

Also here: the credential echo (``echo_credentials``), which copies the caller's secrets into every error body so
tests can prove the product scrubs whatever Airbyte sends back.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Answer",
    "problem",
    "micronaut_error",
    "conversion_error",
    "error_id",
    "forbidden",
    "state_conflict",
    "try_again_later",
    "echo_credentials_into",
    "RATE_LIMITED_BODY",
    "COULD_NOT_FULFILL",
    "TRY_AGAIN_LATER",
]

ERRORS_URL = "https://reference.airbyte.com/reference/errors"
RATE_LIMITED_BODY = {"message": "You are being rate limited."}
COULD_NOT_FULFILL = "Could not fulfill request"  # ConfigClientErrorHandler.DEFAULT_CONFLICT_MESSAGE

# (type, title, detail) per HTTP status, as in Airbyte's api-problems.yaml.
PROBLEM_KINDS: dict[int, tuple[str, str, str]] = {
    400: (
        f"{ERRORS_URL}#bad-request",
        "bad-request",
        "The request could not be understood by the server due to malformed syntax.",
    ),
    401: (f"{ERRORS_URL}#invalid-api-key", "invalid-api-key", "The API key in the Authorization header is invalid."),
    403: (f"{ERRORS_URL}#forbidden", "forbidden", "The request is forbidden."),
    404: (f"{ERRORS_URL}#resource-not-found", "resource-not-found", "The requested resource could not be found."),
    409: (f"{ERRORS_URL}#409-state-conflict", "state-conflict", "State conflict"),
    422: (f"{ERRORS_URL}#unprocessable-entity", "unprocessable-entity", "The body of the request was not understood"),
    500: (
        ERRORS_URL,
        "unexpected-problem",
        "An unexpected problem has occurred. If this is an error that needs to "
        "be addressed, please submit a pull request or github issue.",
    ),
    503: (f"{ERRORS_URL}#service-unavailable", "service-unavailable", "The service is unavailable."),
    504: (f"{ERRORS_URL}#request-timeout", "request-timeout", "The request timed out."),
}
TRY_AGAIN_LATER = (f"{ERRORS_URL}#try-again-later", "try-again-later", "Please try again later.")


@dataclass
class Answer:
    """One HTTP answer: status, body (dict/list -> JSON, str -> as is, None -> empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def problem(
    status: int, message: str | None = None, kind: tuple[str, str, str] | None = None, **data: Any
) -> dict[str, Any]:
    """A problem-JSON body; ``data`` holds ``message`` (ProblemMessageData) or resource fields."""
    type_url, title, detail = kind or PROBLEM_KINDS.get(status, (ERRORS_URL, "error", "An error occurred."))
    body: dict[str, Any] = {"status": status, "type": type_url, "title": title, "detail": detail}
    payload = ({"message": message} if message is not None else {}) | data
    if payload:
        body["data"] = payload
    return body


def forbidden(role: str | None = None) -> Answer:
    """RoleResolver's ForbiddenProblem: the caller has no role on the job's or connection's workspace, which is
    also what an id of no job or connection gets (its workspace cannot be resolved)."""
    if role is None:
        message = "Caller does not have the required permissions to access the resource(s)."
    else:
        message = f"Caller does not have the required {role} permissions to access the resource(s)."
    return Answer(403, problem(403, message))


def state_conflict(message: str = COULD_NOT_FULFILL) -> Answer:
    return Answer(409, problem(409, message))


def try_again_later(message: str) -> Answer:
    return Answer(409, problem(409, message, kind=TRY_AGAIN_LATER))


def micronaut_error(status: int, reason: str, request_uri: str, message: str, path: str | None = None) -> Answer:
    """Micronaut 4's JsonError (errors always serialized as a list), e.g. for a failed argument conversion."""
    error: dict[str, Any] = {"message": message}
    if path is not None:
        error["path"] = path
    body = {
        "_links": {"self": [{"href": request_uri, "templated": False}]},
        "_embedded": {"errors": [error]},
        "message": reason,
    }
    return Answer(status, body)


def conversion_error(request_uri: str, argument: str, value: Any, reason: str) -> Answer:
    """400 for an argument Micronaut could not convert (ConversionErrorException)."""
    shown = "null" if value is None else value
    return micronaut_error(
        400,
        "Bad Request",
        request_uri,
        f"Failed to convert argument [{argument}] for value [{shown}] due to: {reason}",
        path=f"/{argument}",
    )


def error_id(status: int) -> Answer:
    """``{"errorId": ...}``: what Airbyte's detail-hiding exception handlers answer."""
    return Answer(status, {"errorId": str(uuid.uuid4())})


def echo_credentials_into(answer: Answer, authorization: str | None, client_secret: str | None) -> Answer:
    """The same error answer with the caller's Authorization value and client_secret written into its body."""
    echoed = {
        name: value for name, value in (("authorization", authorization), ("client_secret", client_secret)) if value
    }
    if not echoed:
        return answer
    note = " ".join(f"[{name}: {value}]" for name, value in echoed.items())
    body = answer.body
    if isinstance(body, dict):
        body = json.loads(json.dumps(body))  # a deep copy: bodies may be shared (fault bodies)
        data = body.get("data")
        if isinstance(data, dict):
            data["message"] = f"{data.get('message', '')} {note}".strip()
        if isinstance(body.get("message"), str):
            body["message"] = f"{body['message']} {note}"
        body["echo"] = echoed
    elif isinstance(body, str):
        body = f"{body} {note}"
    else:
        body = {"message": note, "echo": echoed}
        return Answer(answer.status, body, dict(answer.headers))
    return Answer(answer.status, body, dict(answer.headers), answer.content_type)
