"""A small Airbyte public API client: createJob, getJob, cancelJob, listJobs.

Every path, the token endpoint included, is derived from ONE configured base URL. Transient faults are retried
with bounded, jittered backoff; the answers the product names become the exceptions in ``errors``.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import requests

from . import auth, retry
from .errors import (
    AuthError,
    ConfigError,
    Conflict,
    InvalidRequest,
    JobNotFound,
    Unavailable,
    Unprocessable,
    scrub,
)
from .validation import (
    TERMINAL_STATUSES,
    normalize_base_url,
    require_connection_id,
    require_job_id,
    require_job_type,
)

ATTACHED_HEADER = "x-airbyte-sync-attached"
RECOVERED_HEADER = "x-airbyte-sync-recovered"
# Response headers not worth carrying into the state machine's history.
DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "authorization", "proxy-authorization"})


def _env_number(environ, name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    secret_arn: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # createJob waits server-side for a job id (up to 60 s): its read timeout must be well above that.
    create_read_timeout: float = 75.0
    retry_policy: retry.RetryPolicy = field(default_factory=retry.RetryPolicy)
    secret_max_age: int = 300
    # Tolerated difference between our clock and Airbyte's when matching a job's startTime to our attempt.
    clock_skew_seconds: float = 30.0
    list_limit: int = 20

    def __post_init__(self):
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))

    @classmethod
    def from_env(cls, environ=None) -> "ClientConfig":
        env = os.environ if environ is None else environ
        policy = retry.RetryPolicy(
            max_attempts=int(_env_number(env, "AIRBYTE_RETRY_MAX_ATTEMPTS", 5)),
            base_seconds=_env_number(env, "AIRBYTE_RETRY_BASE_SECONDS", 1.0),
            max_wait_seconds=_env_number(env, "AIRBYTE_RETRY_MAX_WAIT_SECONDS", 20.0),
            budget_seconds=_env_number(env, "AIRBYTE_RETRY_BUDGET_SECONDS", 120.0),
        )
        return cls(
            base_url=env.get("AIRBYTE_API_URL", ""),
            secret_arn=env.get("AIRBYTE_SECRET_ARN") or None,
            connect_timeout=_env_number(env, "AIRBYTE_CONNECT_TIMEOUT_SECONDS", 5.0),
            read_timeout=_env_number(env, "AIRBYTE_READ_TIMEOUT_SECONDS", 30.0),
            create_read_timeout=_env_number(env, "AIRBYTE_CREATE_READ_TIMEOUT_SECONDS", 75.0),
            retry_policy=policy,
            secret_max_age=int(_env_number(env, "AIRBYTE_SECRET_MAX_AGE_SECONDS", 300)),
            clock_skew_seconds=_env_number(env, "AIRBYTE_CLOCK_SKEW_SECONDS", 30.0),
        )

    @property
    def token_url(self) -> str:
        return self.base_url + "/applications/token"


@dataclass
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: Any

    def to_contract(self) -> dict:
        """The handler contract's response object."""
        return {"statusCode": self.status_code, "headers": dict(self.headers), "body": self.body}


class _TransientFault(Exception):
    """One failed attempt worth retrying; ``what`` is safe to show (operation, status or exception type)."""

    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


def parse_airbyte_time(value) -> float | None:
    """Epoch seconds from Airbyte's startTime/createdAt: ISO-8601 text, or epoch seconds/milliseconds."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value / 1000.0 if value > 1e11 else float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return parse_airbyte_time(float(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    return None


def problem_kind(body) -> str:
    """The problem type of an Airbyte error body: its title (`try-again-later`, `state-conflict`, ...)."""
    if not isinstance(body, dict):
        return ""
    title = body.get("title")
    if isinstance(title, str) and title:
        return title.strip().lower()
    kind = body.get("type")
    if isinstance(kind, str) and kind:
        # e.g. ".../reference/errors#409-state-conflict"
        fragment = re.split(r"[#/]", kind.rstrip("/"))[-1].lower()
        return re.sub(r"^\d+-", "", fragment)
    return ""


def problem_message(body, default: str) -> str:
    """Airbyte's human message from a problem body (data.message, detail or message)."""
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return data["message"]
        for key in ("detail", "message", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return default


def is_sync_already_running(response: ApiResponse) -> bool:
    if response.status_code != 409:
        return False
    if problem_kind(response.body) == "try-again-later":
        return True
    return "already running" in problem_message(response.body, "").lower()


def newest_active_job(jobs: list, job_type: str) -> dict | None:
    """The newest job of ``job_type`` not in a terminal state; ``jobs`` is listed newest first."""
    for job in jobs:
        if isinstance(job, dict) and job.get("jobType", job_type) == job_type and job.get("status") not in TERMINAL_STATUSES:
            return job
    return None


def newest_job_started_since(jobs: list, job_type: str, since_epoch: float) -> dict | None:
    """The newest job of ``job_type`` whose startTime is at or after ``since_epoch`` (listed newest first)."""
    for job in jobs:
        if not isinstance(job, dict) or job.get("jobType", job_type) != job_type:
            continue
        started = parse_airbyte_time(job.get("startTime", job.get("createdAt")))
        if started is not None and started >= since_epoch:
            return job
    return None


def _iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_session: requests.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> requests.Session:
    """One pooled session per process, reused across warm invocations."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
        return _session


class AirbyteClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        credentials: auth.Credentials | None = None,
        session: requests.Session | None = None,
        logger=None,
        lambda_remaining_seconds: Callable[[], float] | None = None,
    ):
        self.config = config
        self._credentials = credentials
        self._session = session or shared_session()
        self.log = logger or logging.getLogger("airbyte_client")
        self._lambda_remaining_seconds = lambda_remaining_seconds

    # ----------------------------------------------------------------- operations

    def create_job(self, connection_id, job_type="sync", *, look_for_job_since: float | None = None) -> ApiResponse:
        """Trigger one job, never two.

        - 409 try-again-later: a sync is already running: adopt it (``x-airbyte-sync-attached: true``).
        - After a POST whose outcome is unknown (timeout, broken connection, 5xx, 429, unreadable body), list the
          connection's jobs started since the attempt began and adopt ours before ever POSTing again.
        - ``look_for_job_since`` (epoch seconds): an earlier invocation may already have created the job (Step
          Functions retried the Lambda); look for it first.
        """
        connection_id = require_connection_id(connection_id)
        job_type = require_job_type(job_type)
        deadline = self._deadline(self.config.create_read_timeout)
        began = retry.wall_time()
        skew = self.config.clock_skew_seconds

        if look_for_job_since is not None:
            earlier = self._job_started_since(connection_id, job_type, look_for_job_since - skew, deadline)
            if earlier is not None:
                self.log.info("Adopting the job an earlier attempt created", extra={"job_id": earlier.get("jobId")})
                return self._adopted(earlier, attached=False, recovered=True)

        body = {"connectionId": connection_id, "jobType": job_type}
        outcome_unknown = False

        def attempt() -> ApiResponse:
            nonlocal outcome_unknown
            if outcome_unknown:
                # The previous POST may have created the job: look before posting again.
                ours = self._job_started_since(connection_id, job_type, began - skew, deadline)
                if ours is not None:
                    self.log.info("The earlier POST did create a job; adopting it", extra={"job_id": ours.get("jobId")})
                    return self._adopted(ours, attached=False, recovered=True)
            sent = []
            try:
                response = self._send(
                    "createJob", "POST", "/jobs", json=body, read_timeout=self.config.create_read_timeout,
                    before_send=lambda: sent.append(True),
                )
            except _TransientFault:
                # Once the request may have left (even a refused connection is not proven harmless), the job may exist.
                outcome_unknown = outcome_unknown or bool(sent)
                raise
            if is_sync_already_running(response):
                running = newest_active_job(self._list_for_adoption(connection_id, job_type, deadline), job_type)
                if running is None:
                    # It finished between Airbyte's answer and our listing; a new POST is safe (409 created nothing).
                    raise _TransientFault("createJob: HTTP 409 try-again-later but no running job to adopt")
                self.log.info("A sync is already running; attaching to it", extra={"job_id": running.get("jobId")})
                return self._adopted(running, attached=True)
            return response

        response = self._with_retries("createJob", attempt, deadline)
        status = response.status_code
        if 200 <= status < 300:
            response.headers.setdefault(ATTACHED_HEADER, False)
            return response
        if status == 409:
            raise Conflict(problem_message(response.body, "Airbyte answered 409 state-conflict"))
        if status == 422:
            raise Unprocessable(
                "Airbyte cannot run this job (422): "
                + problem_message(response.body, f"jobType {job_type!r} is not supported on the public API")
            )
        raise self._unexpected("createJob", response)

    def get_job(self, job_id) -> ApiResponse:
        job_id = require_job_id(job_id)
        response = self._call("getJob", "GET", f"/jobs/{job_id}")
        if response.status_code == 404:
            raise JobNotFound(f"Airbyte has no job {job_id}")
        if not 200 <= response.status_code < 300:
            raise self._unexpected("getJob", response)
        job = response.body
        if job.get("status") == "succeeded" and job.get("bytesSynced") == 0:
            # Airbyte reports some launch failures as a success that moved nothing.
            self.log.warning("Job succeeded with 0 bytes synced; it may not have run", extra={"job_id": job_id})
        return response

    def cancel_job(self, job_id) -> ApiResponse:
        """Cancel a job; 409 (the job is not running any more) is an answer, not an error."""
        job_id = require_job_id(job_id)
        response = self._call("cancelJob", "DELETE", f"/jobs/{job_id}")
        if response.status_code == 404:
            raise JobNotFound(f"Airbyte has no job {job_id}")
        if response.status_code == 409 or 200 <= response.status_code < 300:
            return response
        raise self._unexpected("cancelJob", response)

    def list_jobs(
        self,
        connection_id,
        status: str | None = None,
        job_type: str | None = None,
        limit: int | None = None,
        order_by: str = "createdAt|DESC",
        created_at_start: float | None = None,
        *,
        deadline: retry.Deadline | None = None,
    ) -> list[dict]:
        """The connection's jobs (one page, newest first by default)."""
        params = {
            "connectionId": require_connection_id(connection_id),
            "limit": limit or self.config.list_limit,
            "orderBy": order_by,
        }
        if status is not None:
            params["status"] = status
        if job_type is not None:
            params["jobType"] = require_job_type(job_type)
        if created_at_start is not None:
            params["createdAtStart"] = _iso_utc(created_at_start)
        response = self._call("listJobs", "GET", "/jobs", params=params, deadline=deadline)
        if not 200 <= response.status_code < 300:
            raise self._unexpected("listJobs", response)
        return [job for job in response.body.get("data") or [] if isinstance(job, dict)]

    # ----------------------------------------------------------------- createJob helpers

    def _list_for_adoption(self, connection_id, job_type, deadline) -> list[dict]:
        return self.list_jobs(connection_id, job_type=job_type, order_by="createdAt|DESC", deadline=deadline)

    def _job_started_since(self, connection_id, job_type, since_epoch, deadline) -> dict | None:
        # Filtered here on startTime rather than with createdAtStart, whose format servers disagree on.
        jobs = self._list_for_adoption(connection_id, job_type, deadline)
        return newest_job_started_since(jobs, job_type, since_epoch)

    @staticmethod
    def _adopted(job: dict, *, attached: bool, recovered: bool = False) -> ApiResponse:
        headers = {"content-type": "application/json", ATTACHED_HEADER: attached}
        if recovered:
            headers[RECOVERED_HEADER] = True
        return ApiResponse(200, headers, job)

    # ----------------------------------------------------------------- transport

    def _deadline(self, attempt_seconds: float) -> retry.Deadline:
        remaining = None
        if self._lambda_remaining_seconds is not None:
            try:
                remaining = float(self._lambda_remaining_seconds())
            except Exception:  # a local context without the method: no Lambda limit
                remaining = None
        # Keep room for one more full attempt plus a margin before the Lambda itself times out.
        reserve = self.config.connect_timeout + attempt_seconds + 5
        return retry.Deadline(self.config.retry_policy.budget_seconds, remaining, reserve)

    def _call(self, operation, method, path, *, params=None, json=None, deadline=None) -> ApiResponse:
        deadline = deadline or self._deadline(self.config.read_timeout)
        return self._with_retries(
            operation,
            lambda: self._send(operation, method, path, params=params, json=json, read_timeout=self.config.read_timeout),
            deadline,
        )

    def _with_retries(self, operation: str, attempt: Callable[[], ApiResponse], deadline: retry.Deadline) -> ApiResponse:
        """Run ``attempt`` until it answers, retrying transient faults; one token refresh on a 401."""
        policy = self.config.retry_policy
        refreshed = False
        failures = 0
        while True:
            try:
                response = attempt()
            except _TransientFault as fault:
                failures += 1
                wait = policy.wait_before_next(failures, fault.retry_after)
                if failures >= policy.max_attempts or not deadline.allows_wait(wait):
                    raise Unavailable(self._scrub(
                        f"Airbyte {operation} still failing after {failures} attempt(s); last fault: {fault.what}"
                    )) from None
                self.log.warning(
                    "Transient Airbyte fault; retrying",
                    extra={"operation": operation, "fault": self._scrub(fault.what), "attempt": failures,
                           "wait_seconds": round(wait, 3)},
                )
                retry.sleep(wait)
                continue
            if response.status_code == 401:
                if refreshed:
                    raise AuthError(f"Airbyte {operation} answered 401 again after refreshing the credentials")
                refreshed = True
                self.log.info("Airbyte answered 401; refreshing the credentials once", extra={"operation": operation})
                self._refresh_credentials()
                continue
            if response.status_code == 403:
                raise AuthError(f"Airbyte {operation} answered 403: the credentials may not do this")
            return response

    def _send(self, operation, method, path, *, params=None, json=None, read_timeout, before_send=None) -> ApiResponse:
        """One HTTP exchange. Raises _TransientFault for anything worth retrying."""
        headers = {"Accept": "application/json", **self._auth_headers()}
        if before_send is not None:
            before_send()
        try:
            raw = self._session.request(
                method,
                self.config.base_url + path,
                params=params,
                json=json,
                headers=headers,
                timeout=(self.config.connect_timeout, read_timeout),
                allow_redirects=False,  # a redirect would mean a misconfigured base URL; never resend credentials
            )
        except requests.RequestException as exc:
            # The type name only: some exception texts quote request details.
            raise _TransientFault(f"{operation}: {type(exc).__name__}") from None
        return self._read_response(operation, raw)

    def _read_response(self, operation: str, raw: requests.Response) -> ApiResponse:
        status = raw.status_code
        headers = {k.lower(): v for k, v in raw.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}
        if status == 429 or status >= 500:
            raise _TransientFault(
                f"{operation}: HTTP {status}", retry_after=retry.parse_retry_after(raw.headers.get("Retry-After"))
            )
        if 300 <= status < 400:
            raise ConfigError(f"Airbyte {operation} answered a redirect ({status}); configure the final base URL")
        body: Any = None
        if raw.content:
            try:
                body = raw.json()
            except ValueError:
                if 200 <= status < 300:
                    raise _TransientFault(f"{operation}: HTTP {status} with an unreadable (non-JSON) body") from None
                body = raw.text
        if 200 <= status < 300 and not isinstance(body, dict):
            raise _TransientFault(f"{operation}: HTTP {status} without a JSON object body")
        return ApiResponse(status, headers, body)

    def _unexpected(self, operation: str, response: ApiResponse) -> Exception:
        message = problem_message(response.body, "no detail")
        return InvalidRequest(self._scrub(f"Airbyte {operation} answered {response.status_code}: {message}"))

    # ----------------------------------------------------------------- credentials

    def _current_credentials(self, force: bool = False) -> auth.Credentials:
        if self._credentials is None or force:
            if not self.config.secret_arn:
                self._credentials = auth.Credentials("none")
            else:
                self._credentials = auth.fetch_secret(self.config.secret_arn, self.config.secret_max_age, force=force)
        return self._credentials

    def _auth_headers(self) -> dict[str, str]:
        credentials = self._current_credentials()
        values = credentials.values
        if credentials.kind == "bearer":
            return {"Authorization": "Bearer " + values["token"]}
        if credentials.kind == "basic":
            return {"Authorization": auth.basic_header(values["username"], values["password"])}
        if credentials.kind == "client_credentials":
            return {"Authorization": "Bearer " + self._access_token(credentials)}
        return {}

    def _token_key(self, credentials: auth.Credentials):
        # A digest, not the secret itself: a rotated secret gets its own token.
        digest = hashlib.sha256(credentials.values["client_secret"].encode()).hexdigest()[:16]
        return (self.config.token_url, credentials.values["client_id"], digest)

    def _refresh_credentials(self) -> None:
        credentials = self._current_credentials()
        if credentials.kind == "client_credentials":
            auth.TOKENS.drop(self._token_key(credentials))
        elif credentials.kind in ("bearer", "basic") and self.config.secret_arn:
            self._current_credentials(force=True)  # the secret may have been rotated

    def _access_token(self, credentials: auth.Credentials) -> str:
        key = self._token_key(credentials)
        token = auth.TOKENS.get(key)
        if token:
            return token
        values = credentials.values
        body = {
            "client_id": values["client_id"],
            "client_secret": values["client_secret"],
            # Airbyte documents the hyphenated name; some versions read grant_type.
            "grant-type": "client_credentials",
            "grant_type": "client_credentials",
        }
        try:
            raw = self._session.post(
                self.config.token_url,
                json=body,
                headers={"Accept": "application/json"},
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _TransientFault(f"createAccessToken: {type(exc).__name__}") from None
        if raw.status_code in (400, 401, 403):
            raise AuthError(f"Airbyte's token endpoint refused the client credentials ({raw.status_code})")
        response = self._read_response("createAccessToken", raw)
        if not 200 <= response.status_code < 300:
            raise self._unexpected("createAccessToken", response)
        token = response.body.get("access_token")
        if not isinstance(token, str) or not token:
            raise _TransientFault("createAccessToken: answer without an access_token")
        auth.TOKENS.put(key, token, response.body.get("expires_in"))
        return token

    def _scrub(self, text: str) -> str:
        secrets = self._credentials.secret_values() if self._credentials else []
        return scrub(text, secrets)
