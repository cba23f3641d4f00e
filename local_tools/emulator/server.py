"""The HTTP side: routes requests to operations, checks credentials first (as the security filter does), applies
queued faults, runs answer hooks, echoes credentials when asked, and records every request (redacted)."""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .auth import FORM, media_type
from .faults import Fault
from .operations import parse_java_long
from .problems import Answer, echo_credentials_into, micronaut_error, problem

if TYPE_CHECKING:
    from .emulator import AirbyteEmulator

__all__ = ["EmulatorHandler", "RecordedRequest", "route"]

ECHO_AUTHORIZATION_HEADER = "X-Echo-Authorization"
ECHO_CLIENT_SECRET_HEADER = "X-Echo-Client-Secret"
ROUTES: dict[str, dict[str, str]] = {
    "/applications/token": {"POST": "createAccessToken"},
    "/connections": {"GET": "listConnections"},
    "/jobs": {"GET": "listJobs", "POST": "createJob"},
    "/jobs/{jobId}": {"GET": "getJob", "DELETE": "cancelJob"},
}


@dataclass
class RecordedRequest:
    """One request as the emulator saw it (Authorization and client_secret redacted)."""

    method: str
    path: str  # relative to the base path, without the query string
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    operation: str | None  # operationId, None when the path matched nothing
    job_id: int | None = None  # the path's job id, when it is one
    credential: str | None = None  # which credential authenticated it: "token#N", "static-token", "basic"
    fault: str | None = None  # the kind of fault applied to the answer, if any
    status_code: int | None = None  # what the emulator answered (None when the connection was reset)
    at: float = 0.0  # emulator clock time

    def __getitem__(self, key: str) -> Any:  # dict-style access for convenience
        return getattr(self, key)


def route(method: str, path: str) -> tuple[str | None, str | None, list[str]]:
    """(operationId, jobId text, allowed methods) of a path relative to the base path."""
    template, job_id_text = path, None
    if path.startswith("/jobs/") and path.count("/") == 2 and len(path) > len("/jobs/"):
        template, job_id_text = "/jobs/{jobId}", path[len("/jobs/") :]
    methods = ROUTES.get(template, {})
    return methods.get(method), job_id_text, sorted(methods)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Turns HTTP requests into emulator calls. HTTP/1.0: one request per connection, so a reset is clean."""

    emulator: AirbyteEmulator  # set on the subclass made by AirbyteEmulator.start()
    server_version = "AirbyteEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet: the recorded requests are the log, and URLs could carry tokens

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        emu = self.emulator
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        content_type = self.headers.get("Content-Type", "")
        body = _parse_body(self.rfile.read(int(self.headers.get("Content-Length") or 0)), content_type)
        self._authorization = self.headers.get("Authorization")
        self._client_secret = None
        relative = url.path[len(emu.base_path) :] if url.path.startswith(emu.base_path + "/") else None
        operation, job_id_text, allowed = route(self.command, relative) if relative is not None else (None, None, [])
        if operation == "createAccessToken" and isinstance(body, dict) and body.get("client_secret") is not None:
            self._client_secret = str(body["client_secret"])
        record = RecordedRequest(
            method=self.command,
            path=relative if relative is not None else url.path,
            query={name: values[0] if len(values) == 1 else values for name, values in query.items()},
            headers=_redacted_headers(self.headers),
            body=_redacted_body(body),
            operation=operation,
            job_id=parse_java_long(job_id_text) if job_id_text else None,
            at=emu.clock.now(),
        )
        emu._record(record)
        if operation is None:
            self._send(record, _no_route(self.command, self.path, url.path, allowed))
            return

        fault = emu._take_fault(operation)
        record.fault = fault.kind if fault else None
        if fault and not fault.job_created:
            self._send_fault_without_effect(record, fault)
            return
        answer, record.credential = emu._answer(
            operation,
            job_id_text,
            query,
            body,
            content_type,
            self._authorization,
            self.path,
            slow_create=fault if fault and fault.kind == "slow_create" else None,
        )
        if record.credential is not None or operation == "createAccessToken":  # past the credential check
            emu._run_hooks(operation, record)
        if fault is None or fault.kind == "slow_create":
            self._send(record, answer)
        elif fault.kind == "status":
            self._send(record, Answer(fault.status_code or 500, _fault_body(fault), dict(fault.headers or {})))
        elif fault.kind == "reset":
            self._reset()
        elif fault.kind == "delay":
            emu._stopping.wait(fault.seconds)
            self._send(record, answer, tolerate_gone_client=True)
        elif fault.kind == "truncated_json":
            text = json.dumps(answer.body)
            self._send(record, Answer(answer.status, text[: len(text) // 2], answer.headers))
        elif fault.kind == "not_json":
            self._send(record, _html_answer(fault.status_code or 200))
        elif fault.kind == "status_value":
            if isinstance(answer.body, dict) and "status" in answer.body and answer.status == 200:
                answer.body = {**answer.body, "status": fault.value}
            self._send(record, answer)

    def _send_fault_without_effect(self, record: RecordedRequest, fault: Fault) -> None:
        if fault.kind == "status":
            self._send(record, Answer(fault.status_code or 500, _fault_body(fault), dict(fault.headers or {})))
        elif fault.kind == "reset":
            self._reset()
        elif fault.kind == "delay":
            self.emulator._stopping.wait(fault.seconds)
            self._send(record, Answer(504, problem(504, "The request timed out.")), tolerate_gone_client=True)
        elif fault.kind == "not_json":
            self._send(record, _html_answer(fault.status_code or 200))
        else:  # truncated_json without effect: a cut problem body
            text = json.dumps(problem(500, "Emulated error 500."))
            self._send(record, Answer(500, text[: len(text) // 2]))

    def _send(self, record: RecordedRequest, answer: Answer, tolerate_gone_client: bool = False) -> None:
        headers = dict(answer.headers)
        if self.emulator.echo_credentials:
            if answer.status >= 400:
                answer = echo_credentials_into(answer, self._authorization, self._client_secret)
            if self._authorization:
                headers[ECHO_AUTHORIZATION_HEADER] = self._authorization
            if self._client_secret:
                headers[ECHO_CLIENT_SECRET_HEADER] = self._client_secret
        record.status_code = answer.status
        if answer.body is None:
            payload = b""
        elif isinstance(answer.body, str):
            payload = answer.body.encode()
        else:
            payload = json.dumps(answer.body).encode()
        try:
            self.send_response(answer.status)
            if answer.body is not None:
                self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            if not tolerate_gone_client:
                raise

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _no_route(method: str, request_uri: str, path: str, allowed: list[str]) -> Answer:
    """Micronaut's answers for a path it has no route for, or a method the path does not take."""
    if allowed:
        return micronaut_error(
            405,
            "Method Not Allowed",
            request_uri,
            f"Method [{method}] not allowed for URI [{path}]. Allowed methods: {allowed}",
        )
    return micronaut_error(404, "Not Found", request_uri, "Page Not Found")


def _fault_body(fault: Fault) -> Any:
    if fault.body is not None:
        return fault.body
    code = fault.status_code or 500
    if code == 429:
        return {"message": "You are being rate limited."}
    if code == 404:
        return problem(404, resourceType="job", resourceId="unknown")
    return problem(code, "Could not fulfill request" if code == 409 else f"Emulated error {code}.")


def _html_answer(status: int) -> Answer:
    page = "<html><head><title>Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    return Answer(status, page, content_type="text/html")


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if media_type(content_type) == FORM:
        return {name: values[0] for name, values in parse_qs(text).items()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _redacted_headers(headers: Any) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if value else ""
            value = f"{scheme} <redacted>"
        redacted[name] = value
    return redacted


def _redacted_body(body: Any) -> Any:
    if isinstance(body, dict) and "client_secret" in body:
        return {**body, "client_secret": "<redacted>"}
    return body
