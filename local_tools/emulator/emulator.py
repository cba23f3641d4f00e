"""AirbyteEmulator: the public face of the emulator (scenario set-up, faults, records) and its server lifecycle."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from local_tools.clock import RealClock

from .auth import JSON, Credentials, media_type
from .connections import DEFAULT_WORKSPACE_ID, list_connections
from .faults import Fault
from .jobs import EmulatedConnection, EmulatedJob
from .listing import list_jobs
from .operations import JobOperations, canonical_uuid
from .problems import Answer, micronaut_error, problem
from .scripts import DEFAULT_SCRIPT, JOB_TYPES, JobScript
from .server import EmulatorHandler, RecordedRequest

__all__ = ["AirbyteEmulator", "AnswerHook"]

AnswerHook = Callable[[RecordedRequest], None]


class AirbyteEmulator:
    """Airbyte's public API (jobs, connections, token) on 127.0.0.1; see the package docstring."""

    def __init__(
        self,
        base_path: str = "/v1",
        auth: str = "client_credentials",
        client_id: str = "cid",
        client_secret: str = "csecret",
        token: str = "static-token",
        username: str = "u",
        password: str = "p",
        token_lifetime_seconds: int = 900,
        clock: Any = None,
        first_job_id: int = 1001,
        host: str = "127.0.0.1",
        port: int = 0,
        reject_form_token_requests: bool = False,
        application_service: str = "keycloak",
        echo_credentials: bool = False,
    ):
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.clock = clock or RealClock()
        self.echo_credentials = echo_credentials  # copy the caller's secrets into errors (scrubbing tests)
        self._credentials = Credentials(
            auth,
            client_id,
            client_secret,
            token,
            username,
            password,
            token_lifetime_seconds,
            self.clock,
            application_service,
            reject_form_token_requests,
        )
        self._lock = threading.RLock()
        self._operations = JobOperations(self.clock, self._lock, first_job_id)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._host, self._port = host, port
        self._faults: dict[str, list[Fault]] = {}
        self._hooks: dict[str, list[AnswerHook]] = {}
        self.requests: list[RecordedRequest] = []
        self._base_url: str | None = None

    # --- state the tests read

    @property
    def base_url(self) -> str:
        """The emulated API's base URL, once the server is started."""
        if self._base_url is None:
            raise RuntimeError("the Airbyte emulator is not started: call start() or use it in a `with` block")
        return self._base_url

    @property
    def auth(self) -> str:
        return self._credentials.mode

    @property
    def jobs(self) -> dict[int, EmulatedJob]:
        """Every job by id, also one a slow createJob left to appear later."""
        return self._operations.jobs

    @property
    def connections(self) -> dict[str, EmulatedConnection]:
        return self._operations.connections

    @property
    def cancelled_job_ids(self) -> list[int]:
        """The jobs that got cancelled, in order (cancelJob cancels the connection's current job)."""
        return self._operations.cancelled_job_ids

    @property
    def issued_tokens(self) -> list[str]:
        """Every access token issued so far (to prove none leaks into a log)."""
        with self._lock:
            return list(self._credentials.tokens)

    # --- lifecycle of the server

    def start(self) -> str:
        handler = type("AirbyteEmulatorHandler", (EmulatorHandler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True  # a delayed answer must not block stop()
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address is (host, port)
        self._base_url = f"http://{host}:{port}{self.base_path}"
        # A short poll interval keeps stop() quick (it waits for the serving loop to notice).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="airbyte-emulator", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AirbyteEmulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # --- scenario set-up

    def add_connection(
        self,
        connection_id: str,
        script: JobScript | None = None,
        active: bool = True,
        *,
        name: str | None = None,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        tags: tuple[str, ...] = (),
        deleted: bool = False,
    ) -> None:
        """A connection its jobs run on, listed by listConnections in `workspace_id` (its name defaults to one
        made from its id)."""
        key = _connection_key(connection_id)
        with self._lock:
            self.connections[key] = EmulatedConnection(
                key,
                script or DEFAULT_SCRIPT,
                active,
                name=name if name is not None else f"connection {key[:8]}",
                workspace_id=_connection_key(workspace_id),
                tags=tuple(tags),
                deleted=deleted,
                created_at=int(self.clock.now()),
            )

    def start_running_job(self, connection_id: str, script: JobScript | None = None, job_type: str = "sync") -> int:
        """A job already in progress (as if started by Airbyte's scheduler); it runs until cancelled by default."""
        if job_type not in JOB_TYPES:
            raise ValueError(f"job_type must be one of {JOB_TYPES}")
        with self._lock:
            return self._operations.start_running_job(_connection_key(connection_id), script, job_type)

    def inject(self, operation: str, fault: Fault, times: int = 1) -> None:
        fault.check_operation(operation)
        with self._lock:
            self._faults.setdefault(operation, []).extend([fault] * times)

    def on_answer(self, operation: str, hook: AnswerHook) -> None:
        """Call ``hook(request)`` once each request of ``operation`` has taken effect, before its answer goes out
        (e.g. expire the tokens after the second poll). Hooks last until clear_faults()."""
        Fault.status(500).check_operation(operation)
        with self._lock:
            self._hooks.setdefault(operation, []).append(hook)

    def clear_faults(self) -> None:
        """Drop the queued faults and the answer hooks."""
        with self._lock:
            self._faults.clear()
            self._hooks.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is now rejected with 401 invalid-api-key."""
        with self._lock:
            self._credentials.expire_all()

    def rotate_credentials(
        self, *, client_secret: str | None = None, token: str | None = None, password: str | None = None
    ) -> None:
        """An administrator rotated the credentials: the old values are refused from now on (access tokens
        already issued stay valid until they expire, as on the server)."""
        with self._lock:
            self._credentials.rotate(client_secret=client_secret, token=token, password=password)

    def forget_requests(self) -> None:
        """Start the request records and the cancelled job ids afresh (between scenarios on one emulator)."""
        with self._lock:
            self.requests.clear()
            self.cancelled_job_ids.clear()

    def count(self, operation: str) -> int:
        with self._lock:
            return sum(1 for request in self.requests if request.operation == operation)

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.operation == operation]

    # --- called from the server threads

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(record)

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(operation)
            return queue.pop(0) if queue else None

    def _run_hooks(self, operation: str, record: RecordedRequest) -> None:
        with self._lock:
            hooks = list(self._hooks.get(operation, ()))
        for hook in hooks:
            hook(record)

    def _answer(
        self,
        operation: str,
        job_id_text: str | None,
        query: dict[str, list[str]],
        body: Any,
        content_type: str,
        authorization: str | None,
        request_uri: str,
        slow_create: Fault | None = None,
    ) -> tuple[Answer, str | None]:
        """The answer the API gives (faults aside), and the credential used."""
        if operation == "createAccessToken":
            with self._lock:
                return self._credentials.issue(body, content_type, request_uri), None
        with self._lock:
            credential = self._credentials.authenticate(authorization)
        if credential is None:
            return Answer(401, problem(401, "Invalid or expired credentials.")), None
        if operation == "createJob":
            if content_type and media_type(content_type) != JSON:
                return micronaut_error(
                    415,
                    "Unsupported Media Type",
                    request_uri,
                    f"Content Type [{media_type(content_type)}] not allowed. Allowed types: [{JSON}]",
                ), credential
            return self._operations.create_job(body, request_uri, slow_create), credential
        if operation == "listConnections":
            return list_connections(self._operations, query, request_uri, f"{self.base_url}/connections"), credential
        if operation == "listJobs":
            return list_jobs(self._operations, query, request_uri, f"{self.base_url}/jobs"), credential
        if operation == "getJob":
            return self._operations.get_job(job_id_text or "", request_uri), credential
        return self._operations.cancel_job(job_id_text or "", request_uri), credential


def _connection_key(connection_id: str) -> str:
    key = canonical_uuid(str(connection_id))
    if key is None:
        raise ValueError(f"a connection id is a UUID, got {connection_id!r}")
    return key
