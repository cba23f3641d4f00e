"""The handler contract's event (docs/handler-contract.md) checked and turned into one HTTP request.

Plain functions, no I/O. Everything that decides where the request goes is checked here: the path is the OpenAPI
path template from the compiled definition (relative, no query, no dot segments), each path parameter is
percent-encoded as ONE segment (`a/b` and `../x` cannot change the path), and the base URL is never part of the
event. Errors are the client's InvalidRequest (the handler raises it as `Http.InvalidRequest`), naming the field,
never quoting a header's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from airbyte_client import INSTRUCTION_PREFIX, InvalidRequest, redaction

METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
# Repeating these cannot do the work twice (RFC 9110 9.2.2); POST and PATCH are sent once unless refused with 429.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Headers the HTTP layer itself writes: a parameter may not set them.
TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-type", "cookie"})
_TEMPLATE_VARIABLE = re.compile(r"\{([^{}/]+)\}")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP header name (RFC 9110 token)
NO_BODY = object()  # the request has no body (a JSON null payload is a body)


@dataclass(frozen=True)
class HttpRequest:
    operation_id: str
    method: str
    path: str  # relative to the base URL, path parameters encoded
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = NO_BODY  # a JSON body
    data: Any = None  # a form (dict) or text body, when not JSON

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS


def build_request(event: Any, *, deployment_authorizes: bool) -> HttpRequest:
    """The request the event describes. `deployment_authorizes`: the deployment has credentials, so it (and not
    a parameter) writes the Authorization header."""
    if not isinstance(event, dict):
        raise InvalidRequest("The event must be a JSON object")
    operation_id = event.get("operationId")
    if not isinstance(operation_id, str) or not operation_id:
        raise InvalidRequest("The event has no operationId")
    method = event.get("method")
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidRequest(f"{operation_id}: method must be one of {', '.join(sorted(METHODS))}")
    parameters = event.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InvalidRequest(f"{operation_id}: parameters must be an object")
    unknown = sorted(set(parameters) - {"path", "query", "header", "cookie"})
    if unknown:
        raise InvalidRequest(f"{operation_id}: unknown parameter location(s) {', '.join(map(str, unknown))}")
    path_values = _location(parameters, "path", operation_id)
    headers = header_values(_location(parameters, "header", operation_id), operation_id, deployment_authorizes)
    cookies = _location(parameters, "cookie", operation_id)
    if cookies:
        headers["Cookie"] = "; ".join(
            f"{quote(str(name), safe='')}={quote(scalar_text(value, f'cookie {name}', operation_id), safe='')}"
            for name, value in cookies.items()
            if value is not None
        )
    json_body, data, content_type = encode_body(event.get("body"), event.get("contentType"), operation_id)
    if content_type:
        headers["Content-Type"] = content_type
    return HttpRequest(
        operation_id=operation_id,
        method=method,
        path=expand_path(event.get("path"), path_values, operation_id),
        query=query_pairs(_location(parameters, "query", operation_id), operation_id),
        headers=headers,
        json=json_body,
        data=data,
    )


def _location(parameters: dict, location: str, operation_id: str) -> dict:
    values = parameters.get(location) or {}
    if not isinstance(values, dict):
        raise InvalidRequest(f"{operation_id}: {location} parameters must be an object")
    return values


def scalar_text(value: Any, where: str, operation_id: str) -> str:
    """A parameter value as it travels in a URL or header: JSON's text for true/false/numbers, strings as they
    are; objects, lists and null are refused (`where` names the parameter)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return value
    raise InvalidRequest(f"{operation_id}: {where} must be a string, number or boolean, got a {_json_type(value)}")


def _json_type(value: Any) -> str:
    return {dict: "object", list: "list", type(None): "null"}.get(type(value), type(value).__name__)


def expand_path(template: Any, values: dict, operation_id: str) -> str:
    """The path template with each `{name}` replaced by its value, percent-encoded as one path segment."""
    if not isinstance(template, str) or not template.startswith("/") or template.startswith("//"):
        raise InvalidRequest(f"{operation_id}: path must be a path template starting with one '/'")
    if any(ch in template for ch in "?#\\") or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in template):
        raise InvalidRequest(f"{operation_id}: path must be a bare path template (no query, fragment or spaces)")
    names = _TEMPLATE_VARIABLE.findall(template)
    missing = [name for name in names if values.get(name) is None]
    if missing:
        raise InvalidRequest(f"{operation_id}: missing path parameter(s) {', '.join(missing)}")
    extra = sorted(set(values) - set(names))
    if extra:
        raise InvalidRequest(f"{operation_id}: path parameter(s) {', '.join(extra)} not in {template}")

    def segment_value(match: re.Match) -> str:
        name = match.group(1)
        text = scalar_text(values[name], f"path parameter {name}", operation_id)
        if text == "":
            raise InvalidRequest(f"{operation_id}: path parameter {name} is empty")
        return quote(text, safe="")  # '/', '?', '#', '%' and the rest all encoded: the value stays one segment

    path = _TEMPLATE_VARIABLE.sub(segment_value, template)
    if any(segment in (".", "..") for segment in path.split("/")):
        # A whole segment of dots would climb the path however it is encoded (servers normalise dot segments).
        raise InvalidRequest(f"{operation_id}: a path segment may not be '.' or '..'")
    return path


def query_pairs(values: dict, operation_id: str) -> list[tuple[str, str]]:
    """Query parameters in order; a list is the parameter repeated (OpenAPI's default form, explode), null is left
    out."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is not None:
                pairs.append((str(name), scalar_text(item, f"query parameter {name}", operation_id)))
    return pairs


def header_values(values: dict, operation_id: str, deployment_authorizes: bool) -> dict[str, str]:
    """The header parameters to send: the state machine's instructions left out, names and values checked, an
    Authorization value registered for scrubbing (it is a credential)."""
    headers: dict[str, str] = {}
    for name, value in values.items():
        lower = str(name).lower()
        if lower.startswith(INSTRUCTION_PREFIX) or value is None:
            continue
        if not _TOKEN.match(str(name)):
            raise InvalidRequest(f"{operation_id}: {str(name)[:60]!r} is not a valid header name")
        if lower in TRANSPORT_HEADERS:
            raise InvalidRequest(f"{operation_id}: the header parameter {name} is written by the HTTP layer")
        text = scalar_text(value, f"header {name}", operation_id)
        if lower in ("authorization", "proxy-authorization"):
            if deployment_authorizes:
                raise InvalidRequest(
                    f"{operation_id}: the header parameter {name} conflicts with the deployment's credentials"
                )
            redaction.register(text, *text.split(" ", 1)[1:])  # the whole value and the token after the scheme
        if any(ord(ch) < 0x20 and ch != "\t" or ord(ch) == 0x7F for ch in text):
            raise InvalidRequest(f"{operation_id}: header {name} contains control characters")
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidRequest(f"{operation_id}: header {name} has characters a header cannot carry") from None
        headers[str(name)] = text
    return headers


def encode_body(body: Any, content_type: Any, operation_id: str) -> tuple[Any, Any, str | None]:
    """(json, data, Content-Type) for the request body: JSON (the default), a form of scalars, or text."""
    if content_type is None and body is None:
        return NO_BODY, None, None
    if content_type is not None and not isinstance(content_type, str):
        raise InvalidRequest(f"{operation_id}: contentType must be a string")
    media = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return body, None, content_type or "application/json"
    if media == "application/x-www-form-urlencoded":
        if not isinstance(body, dict):
            raise InvalidRequest(f"{operation_id}: a form body must be an object")
        form = [(str(k), scalar_text(v, f"form field {k}", operation_id)) for k, v in body.items() if v is not None]
        return NO_BODY, form, content_type
    if media.startswith("text/"):
        if not isinstance(body, str):
            raise InvalidRequest(f"{operation_id}: a {media} body must be a string")
        return NO_BODY, body.encode("utf-8"), content_type
    raise InvalidRequest(
        f"{operation_id}: contentType {media[:60]!r} is not supported (JSON, form-urlencoded or text/*)"
    )
