"""Credentials: the token endpoint (POST /applications/token) and the check of every other request's
Authorization header, in the four ways deployments authenticate (client credentials, static bearer, basic, none).

The token endpoint reads only ``client_id`` and ``client_secret`` (ApplicationsController.kt), from JSON or a
form; a ``grant-type`` that is present must be ``client_credentials`` (the enum Jackson binds), ``grant_type`` is
ignored. It always answers ``expires_in`` (AirbyteConfig.kt: 15 minutes). Wrong credentials are answered as
the deployment's ApplicationService does (``application_service``):

- ``keycloak`` (OIDC, Cloud and most self-managed): 401 ``{"errorId"}`` (InvalidClientCredentialsException);
- ``simple`` (AuthMode.SIMPLE, ApplicationServiceMicronautImpl): 400, a JAX-RS BadRequestException, no body;
- ``database`` (airbyte.applications.type=database): 500 ``{"errorId"}`` (an IllegalArgumentException that
  reaches UncaughtExceptionHandler).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from .jobs import Clock
from .problems import Answer, conversion_error, error_id, micronaut_error

__all__ = ["Credentials", "AUTH_MODES", "APPLICATION_SERVICES", "FORM", "JSON", "media_type"]

AUTH_MODES = ("client_credentials", "bearer", "basic", "none")
APPLICATION_SERVICES = ("keycloak", "simple", "database")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TOKEN_REQUEST = "applicationTokenRequestWithGrant"  # the argument Micronaut binds the body to


def media_type(content_type: str) -> str:
    """``application/json`` of ``application/json; charset=utf-8``."""
    return content_type.split(";")[0].strip().lower()


@dataclass
class IssuedToken:
    number: int
    expires_at: float
    revoked: bool = False


class Credentials:
    """What the emulator accepts, and the tokens it issued."""

    def __init__(
        self,
        mode: str,
        client_id: str,
        client_secret: str,
        token: str,
        username: str,
        password: str,
        token_lifetime_seconds: int,
        clock: Clock,
        application_service: str,
        reject_form_token_requests: bool,
    ):
        if mode not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}")
        if application_service not in APPLICATION_SERVICES:
            raise ValueError(f"application_service must be one of {APPLICATION_SERVICES}")
        self.mode = mode
        self.application_service = application_service
        self.token_lifetime_seconds = token_lifetime_seconds
        # Some Airbyte versions answer 401 to form-encoded token requests (apache/airflow#46542).
        self.reject_form_token_requests = reject_form_token_requests
        self._client_id, self._client_secret = client_id, client_secret
        self._static_token, self._username, self._password = token, username, password
        self._clock = clock
        self.tokens: dict[str, IssuedToken] = {}

    def authenticate(self, authorization: str | None) -> str | None:
        """The credential's label when the Authorization header is good for this auth mode, else None."""
        if self.mode == "none":
            return "none"
        scheme, _, value = (authorization or "").partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if self.mode == "basic":
            expected = base64.b64encode(f"{self._username}:{self._password}".encode()).decode()
            return "basic" if scheme == "basic" and secrets.compare_digest(value, expected) else None
        if scheme != "bearer":
            return None
        if self.mode == "bearer":
            return "static-token" if secrets.compare_digest(value, self._static_token) else None
        issued = self.tokens.get(value)
        if issued is None or issued.revoked or self._clock.now() >= issued.expires_at:
            return None
        return f"token#{issued.number}"

    def expire_all(self) -> None:
        for issued in self.tokens.values():
            issued.revoked = True

    def rotate(self, client_secret: str | None = None, token: str | None = None, password: str | None = None) -> None:
        """Replace the secret values an administrator rotated; the old ones are refused from now on."""
        if client_secret is not None:
            self._client_secret = client_secret
        if token is not None:
            self._static_token = token
        if password is not None:
            self._password = password

    def issue(self, body: Any, content_type: str, request_uri: str) -> Answer:
        """The token endpoint's answer to one request (``body`` already parsed from JSON or a form)."""
        kind = media_type(content_type)
        if kind == FORM and self.reject_form_token_requests:
            return error_id(401)
        if kind not in (JSON, FORM):
            return micronaut_error(
                415,
                "Unsupported Media Type",
                request_uri,
                f"Content Type [{kind or 'none'}] not allowed. Allowed types: [{JSON}, {FORM}]",
            )
        if not isinstance(body, dict):
            return conversion_error(request_uri, TOKEN_REQUEST, None, "the body is not a JSON object")
        for name in ("client_id", "client_secret"):
            if body.get(name) is None or isinstance(body[name], (dict, list)):
                return conversion_error(request_uri, TOKEN_REQUEST, None, f"missing or not a text value: {name}")
        if body.get("grant-type", "client_credentials") != "client_credentials":
            return conversion_error(request_uri, TOKEN_REQUEST, None, "grant-type must be client_credentials")
        client_id, client_secret = str(body["client_id"]), str(body["client_secret"])
        if not (
            client_id
            and secrets.compare_digest(client_id, self._client_id)
            and secrets.compare_digest(client_secret, self._client_secret)
        ):
            return self._wrong_credentials()
        access_token = "emu_" + secrets.token_urlsafe(24)
        self.tokens[access_token] = IssuedToken(
            number=len(self.tokens) + 1, expires_at=self._clock.now() + self.token_lifetime_seconds
        )
        return Answer(
            200, {"access_token": access_token, "token_type": "Bearer", "expires_in": self.token_lifetime_seconds}
        )

    def _wrong_credentials(self) -> Answer:
        if self.application_service == "simple":
            return Answer(400)
        return error_id(500 if self.application_service == "database" else 401)
