"""One HTTP exchange with Airbyte (or, for the generic operation handler, any HTTP API), its retries, and the
credentials it carries.

Every path, the token endpoint included, is derived from ONE configured base URL. Transient faults (connection
errors, timeouts, 5xx, 429, unreadable bodies) are retried with jittered backoff inside the invocation's time
budget (retry.Budget); a 401 re-reads the credentials once. Answers the product names are left to the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from . import auth, redaction, retry
from .config import ClientConfig
from .errors import AuthError, ConfigError, InvalidRequest, Unavailable
from .jobs import problem_message

# What of a response's headers reaches the state machine (and so the execution history): only what it needs.
ALLOWED_RESPONSE_HEADERS = frozenset({"content-type", "retry-after"})


@dataclass
class ApiResponse:
    status_code: int | None  # None when the handler decided without asking Airbyte
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    def to_contract(self) -> dict:
        """The handler contract's response object, scrubbed of every credential value."""
        return redaction.scrub_data({"statusCode": self.status_code, "headers": dict(self.headers), "body": self.body})


class TransientFault(Exception):
    """One failed attempt worth retrying; ``what`` is safe to show (operation, status or exception type).
    ``maybe_done`` is True when the request may have reached Airbyte and taken effect."""

    def __init__(
        self, what: str, retry_after: float | None = None, maybe_done: bool = False, status: int | None = None
    ):
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after
        self.maybe_done = maybe_done
        self.status = status  # the HTTP status, when the API answered one


_session: requests.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> requests.Session:
    """One pooled session per process, reused across warm invocations."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
        return _session


class Transport:
    def __init__(
        self,
        config: ClientConfig,
        *,
        credentials: auth.Credentials | None = None,
        session: requests.Session | None = None,
        logger: Any = None,
        lambda_remaining_seconds: Callable[[], float] | None = None,
    ):
        self.config = config
        self._credentials = credentials
        self._credentials_reread = False  # at most one forced re-read of the secret per invocation
        self._session = session or shared_session()
        self.log = logger or logging.getLogger("airbyte_client")
        self._lambda_remaining_seconds = lambda_remaining_seconds
        self.api = config.api_name

    # ------------------------------------------------------------------ budget

    def budget(self, seconds: float | None = None) -> retry.Budget:
        remaining = None
        if self._lambda_remaining_seconds is not None:
            try:
                remaining = float(self._lambda_remaining_seconds())
            except Exception:  # a local context without the method: no Lambda limit
                remaining = None
        return retry.Budget(
            seconds if seconds is not None else self.config.retry_policy.budget_seconds,
            remaining,
            self.config.lambda_margin_seconds,
        )

    # ------------------------------------------------------------------ requests

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        budget: retry.Budget,
        params: dict[str, Any] | None = None,
        json: Any = None,
        read_timeout: float | None = None,
    ) -> ApiResponse:
        """One request, retried on transient faults; 401 re-reads the credentials once."""
        return self.with_retries(
            operation,
            lambda: self.exchange(
                operation, method, path, budget=budget, params=params, json=json, read_timeout=read_timeout
            ),
            budget,
        )

    def with_retries(self, operation: str, attempt: Callable[[], ApiResponse], budget: retry.Budget) -> ApiResponse:
        policy = self.config.retry_policy
        refreshed = False
        failures = 0
        while True:
            try:
                response = attempt()
            except TransientFault as fault:
                failures += 1
                wait = policy.wait_before_next(failures, fault.retry_after)
                if failures >= policy.max_attempts or not budget.allows(wait + retry.MIN_EXCHANGE_SECONDS):
                    raise Unavailable(
                        f"{self.api} {operation} still failing after {failures} attempt(s); last fault: {fault.what}"
                    ) from None
                self.log.warning(
                    f"Transient {self.api} fault; retrying",
                    extra={
                        "operation": operation,
                        "fault": fault.what,
                        "attempt": failures,
                        "wait_seconds": round(wait, 3),
                    },
                )
                retry.sleep(wait)
                continue
            if response.status_code == 401:
                if refreshed:
                    raise AuthError(f"{self.api} {operation} answered 401 again after re-reading the credentials")
                refreshed = True
                self.log.info(
                    f"{self.api} answered 401; re-reading the credentials once", extra={"operation": operation}
                )
                self.refresh_credentials()
                continue
            return response

    def exchange(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        budget: retry.Budget,
        params: Any = None,
        json: Any = None,
        read_timeout: float | None = None,
        keep: float = 0.0,
        headers: dict[str, str] | None = None,
        data: Any = None,
        any_body: bool = False,
    ) -> ApiResponse:
        """One HTTP exchange (the access token first, when needed). Raises TransientFault.

        `headers` are sent too (never Authorization: the credentials own it); `data` is a form (dict) or raw body;
        `any_body`: a 2xx answer may have any body (a JSON array, text), as a generic API's may."""
        headers = {"Accept": "application/json", **(headers or {})}
        authorization = self._authorization(budget)
        if authorization:
            headers["Authorization"] = authorization
        timeouts = budget.timeouts(self.config.connect_timeout, read_timeout or self.config.read_timeout, keep)
        if timeouts is None:
            raise TransientFault(f"{operation}: no time left in this invocation")
        try:
            raw = self._session.request(
                method,
                self.config.base_url + path,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=timeouts,
                allow_redirects=False,  # a redirect would mean a misconfigured base URL; never resend credentials
            )
        except requests.RequestException as exc:
            # The type name only: some exception texts quote request details. Once a request may have left (even a
            # refused connection is not proven harmless), its effect is unknown.
            raise TransientFault(f"{operation}: {type(exc).__name__}", maybe_done=True) from None
        return self.read_response(operation, raw, any_body)

    def read_response(self, operation: str, raw: requests.Response, any_body: bool = False) -> ApiResponse:
        status = raw.status_code
        headers: dict[str, Any] = {
            k.lower(): v for k, v in raw.headers.items() if k.lower() in ALLOWED_RESPONSE_HEADERS
        }
        if status == 429 or status >= 500:
            raise TransientFault(
                f"{operation}: HTTP {status}",
                maybe_done=True,
                retry_after=retry.parse_retry_after(raw.headers.get("Retry-After")),
                status=status,
            )
        if 300 <= status < 400:
            raise ConfigError(f"{self.api} {operation} answered a redirect ({status}); configure the final base URL")
        body: Any = None
        if raw.content:
            try:
                body = raw.json()
            except ValueError:
                if 200 <= status < 300 and not any_body:
                    raise TransientFault(
                        f"{operation}: HTTP {status} with an unreadable (non-JSON) body", maybe_done=True
                    ) from None
                # An error's text is kept short; a generic API's 2xx text is its answer, kept whole.
                body = raw.text if any_body and 200 <= status < 300 else raw.text[:2000]
        if 200 <= status < 300 and not isinstance(body, dict) and not any_body:
            raise TransientFault(f"{operation}: HTTP {status} without a JSON object body", maybe_done=True)
        return ApiResponse(status, headers, redaction.scrub_data(body))

    def unexpected(self, operation: str, response: ApiResponse) -> Exception:
        message = problem_message(response.body, "no detail")
        return InvalidRequest(f"{self.api} {operation} answered {response.status_code}: {message}")

    # ------------------------------------------------------------------ credentials

    def credentials(self, force: bool = False) -> auth.Credentials:
        if self._credentials is None or (force and self.config.secret_arn):
            if not self.config.secret_arn:
                self._credentials = auth.Credentials("none")
            else:
                self._credentials = auth.fetch_secret(self.config.secret_arn, self.config.secret_max_age, force=force)
        return self._credentials

    def refresh_credentials(self) -> bool:
        """Forget the cached access token and re-read the secret (once per invocation: it may have been
        rotated). True when the secret changed."""
        credentials = self.credentials()
        if credentials.kind == "client_credentials":
            auth.TOKENS.drop(auth.TokenCache.key(self.config.token_url, credentials))
        if self._credentials_reread or not self.config.secret_arn:
            return False
        self._credentials_reread = True
        return self.credentials(force=True).fingerprint != credentials.fingerprint

    def _authorization(self, budget: retry.Budget) -> str | None:
        credentials = self.credentials()
        if credentials.kind != "client_credentials":
            return credentials.authorization()
        return credentials.authorization(self._access_token(budget))

    def _access_token(self, budget: retry.Budget) -> str:
        credentials = self.credentials()
        token = auth.TOKENS.get(auth.TokenCache.key(self.config.token_url, credentials))
        if token:
            return token
        while True:
            raw = self._request_token(credentials, budget)
            if raw.status_code in (400, 401, 403):
                # A rotated secret: the cached copy is refused. Re-read it once before calling this an auth error.
                if self.refresh_credentials():
                    credentials = self.credentials()
                    continue
                raise AuthError(f"Airbyte's token endpoint refused the client credentials ({raw.status_code})")
            if raw.status_code >= 500:
                # Some deployments (applications.type=database) answer 500 to wrong client credentials.
                if self.refresh_credentials():
                    credentials = self.credentials()
                    continue
                raise TransientFault(
                    f"createAccessToken: HTTP {raw.status_code} (some Airbyte deployments answer "
                    "500 to wrong client credentials)",
                    retry_after=retry.parse_retry_after(raw.headers.get("Retry-After")),
                )
            response = self.read_response("createAccessToken", raw)
            if not 200 <= (response.status_code or 0) < 300:
                raise self.unexpected("createAccessToken", response)
            token = response.body.get("access_token")
            if not isinstance(token, str) or not token:
                raise TransientFault("createAccessToken: answer without an access_token")
            auth.TOKENS.put(
                auth.TokenCache.key(self.config.token_url, credentials), token, response.body.get("expires_in")
            )
            return token

    def _request_token(self, credentials: auth.Credentials, budget: retry.Budget) -> requests.Response:
        values = credentials.values
        body = {
            "client_id": values["client_id"],
            "client_secret": values["client_secret"],
            # Airbyte documents the hyphenated name; its published schema requires grant_type.
            "grant-type": "client_credentials",
            "grant_type": "client_credentials",
        }
        timeouts = budget.timeouts(self.config.connect_timeout, self.config.read_timeout)
        if timeouts is None:
            raise TransientFault("createAccessToken: no time left in this invocation")
        try:
            return self._session.post(
                self.config.token_url,
                json=body,
                headers={"Accept": "application/json"},
                timeout=timeouts,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise TransientFault(f"createAccessToken: {type(exc).__name__}") from None
