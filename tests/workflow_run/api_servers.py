"""Small real HTTP APIs on 127.0.0.1 for the generic-handler and `arazzo-sfn run` tests (a uniquely named module:
test directories are not packages). Each answers through a `route(request) -> (status, body, headers)` function
and records every request as it arrived (raw path, headers, body)."""
from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))


@dataclass
class Request:
    method: str
    raw_path: str  # the path as sent, still percent-encoded, without the query
    query: list[tuple[str, str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def segments(self) -> list[str]:
        """The path's segments, each decoded on its own (as a router matching `{param}` does)."""
        return [unquote(part) for part in self.raw_path.split("/")[1:]]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Answer = tuple[int, Any] | tuple[int, Any, dict[str, str]]


@dataclass
class ApiServer:
    """A real HTTP server on 127.0.0.1 whose answers `route` decides; use as a context manager."""

    route: Callable[[Request], Answer]
    base_path: str = ""
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> ApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                path = parts.path
                if server.base_path and path.startswith(server.base_path):
                    path = path[len(server.base_path) :]
                request = Request(
                    self.command,
                    path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                server.requests.append(request)
                status, body, *rest = server.route(request)
                headers = rest[0] if rest else {}
                text = body if isinstance(body, (bytes, str)) else json.dumps(body)
                data = text.encode() if isinstance(text, str) else text
                self.send_response(status)
                if not any(k.lower() == "content-type" for k in headers):
                    self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.base_path}"


def not_found(request: Request) -> Answer:
    return 404, {"message": f"no route for {request.method} {request.raw_path}"}
