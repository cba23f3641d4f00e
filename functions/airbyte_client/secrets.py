"""Reading the Airbyte secret's text from Secrets Manager, fastest path first, with a 300 s in-process cache.

Most of a handler's cold start is imports, and boto3 alone costs more than the rest of the handler. So:

1. **The AWS Parameters and Secrets Lambda Extension**, when the function has its layer
   (``AIRBYTE_SECRETS_EXTENSION=true``, set by the template's SecretsExtensionLayerArn): one local HTTP GET to
   ``localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`` (2773) with the ``X-Aws-Parameters-Secrets-Token``
   header (the function's AWS_SESSION_TOKEN). The extension keeps its own cache, so a forced re-read (after
   Airbyte refused the credentials: a rotation) skips it.
2. **A direct, SigV4-signed GetSecretValue** (requests-aws4auth over the shared ``requests``) with the function's
   environment credentials, on the standard endpoint of the ARN's region (or AWS_ENDPOINT_URL_SECRETS_MANAGER /
   AWS_ENDPOINT_URL). The default in production: no layer needed, no boto3.
3. **Powertools Parameters (boto3)**: the fallback where 2 cannot work (no environment credentials, a partition
   whose endpoint this module does not know).

Errors name the Secrets Manager error code and the ARN, never the secret's value. ``path_used`` tells the bench
and the tests which path answered last.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

import requests

from . import retry
from .errors import ConfigError, Unavailable

PERMANENT_SECRET_ERRORS = (
    "ResourceNotFound",
    "AccessDenied",
    "InvalidParameter",
    "InvalidRequest",
    "DecryptionFailure",
    "ValidationException",
    "UnrecognizedClient",
    "InvalidSignature",
    "IncompleteSignature",
    "MissingAuthenticationToken",
)
EXTENSION_DEFAULT_PORT = "2773"
TIMEOUTS = (3.05, 10.0)  # connect, read
_ARN = re.compile(r"^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$")
_DOMAINS = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}

_cache: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
path_used: str | None = None  # extension | direct | boto3 (the path of the last read that reached AWS)


def secret_text(secret_arn: str, max_age: float, force: bool = False) -> str:
    """The secret's SecretString, from the cache unless it is older than ``max_age`` or ``force``."""
    now = retry.monotonic()
    with _lock:
        cached = _cache.get(secret_arn)
    if cached is not None and not force and now - cached[1] < max_age:
        return cached[0]
    text = _read(secret_arn, max_age, force)
    with _lock:
        _cache[secret_arn] = (text, now)
    return text


def forget() -> None:
    """Empty the cache (tests; a new container starts empty anyway)."""
    with _lock:
        _cache.clear()


def _read(secret_arn: str, max_age: float, force: bool) -> str:
    global path_used
    env = os.environ
    if not force and env.get("AIRBYTE_SECRETS_EXTENSION", "").lower() == "true" and env.get("AWS_SESSION_TOKEN"):
        text = _from_extension(secret_arn, env)
        if text is not None:
            path_used = "extension"
            return text
    endpoint = _endpoint(secret_arn, env)
    if endpoint is not None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        path_used = "direct"
        return _direct(secret_arn, endpoint, env)
    path_used = "boto3"
    return _with_boto3(secret_arn, max_age, force)


def _from_extension(secret_arn: str, env: Any) -> str | None:
    """The extension's answer, or None when it cannot give one (not running yet, its own error): then the direct
    call decides, so an error is always Secrets Manager's own."""
    port = env.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT") or EXTENSION_DEFAULT_PORT
    try:
        answer = requests.get(
            f"http://localhost:{port}/secretsmanager/get",
            params={"secretId": secret_arn},
            headers={"X-Aws-Parameters-Secrets-Token": env["AWS_SESSION_TOKEN"]},
            timeout=TIMEOUTS,
            allow_redirects=False,
        )
    except requests.RequestException:
        return None
    if answer.status_code != 200:
        return None
    return _secret_string(answer, secret_arn)


def _endpoint(secret_arn: str, env: Any) -> tuple[str, str] | None:
    """(URL, region) for GetSecretValue, or None when this module cannot tell (boto3 can)."""
    match = _ARN.match(secret_arn)
    if match is None:
        return None
    partition, region = match.groups()
    configured = env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or env.get("AWS_ENDPOINT_URL")
    if configured:
        return configured.rstrip("/") + "/", region
    domain = _DOMAINS.get(partition)
    return (f"https://secretsmanager.{region}.{domain}/", region) if domain else None


def _direct(secret_arn: str, endpoint: tuple[str, str], env: Any) -> str:
    from requests_aws4auth import AWS4Auth  # small (hashlib, hmac); only when a secret is read

    url, region = endpoint
    signer = AWS4Auth(
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
        region,
        "secretsmanager",
        session_token=env.get("AWS_SESSION_TOKEN") or None,
    )
    try:
        answer = requests.post(
            url,
            data=json.dumps({"SecretId": secret_arn}),
            auth=signer,
            timeout=TIMEOUTS,
            allow_redirects=False,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
        )
    except requests.RequestException as exc:
        raise Unavailable(
            f"Cannot read the Airbyte secret (transient): {type(exc).__name__} reaching Secrets Manager"
        ) from None
    if answer.status_code == 200:
        return _secret_string(answer, secret_arn)
    code, message = _aws_error(answer)
    reason = f"{code} ({answer.status_code}) for {secret_arn}" + (f": {message}" if message else "")
    if answer.status_code < 500 and any(name in code for name in PERMANENT_SECRET_ERRORS):
        raise ConfigError(f"Cannot read the Airbyte secret: {reason}")
    raise Unavailable(f"Cannot read the Airbyte secret (transient): {reason}")


def _with_boto3(secret_arn: str, max_age: float, force: bool) -> str:
    from aws_lambda_powertools.utilities import parameters  # lazy: pulls in boto3

    try:
        value = parameters.get_secret(secret_arn, max_age=int(max_age), force_fetch=force)
    except parameters.exceptions.GetParameterError as exc:
        # botocore's message names the error code and the ARN, never the secret's value.
        reason = str(exc)
        if any(code in reason for code in PERMANENT_SECRET_ERRORS):
            raise ConfigError(f"Cannot read the Airbyte secret: {reason}") from None
        raise Unavailable(f"Cannot read the Airbyte secret (transient): {reason}") from None
    if not isinstance(value, str):
        raise ConfigError("The Airbyte secret has no SecretString (a binary secret is not supported)")
    return value


def _secret_string(answer: requests.Response, secret_arn: str) -> str:
    try:
        body = answer.json()
    except ValueError:
        raise Unavailable(
            f"Cannot read the Airbyte secret (transient): an unreadable answer for {secret_arn}"
        ) from None
    text = body.get("SecretString") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise ConfigError("The Airbyte secret has no SecretString (a binary secret is not supported)")
    return text


def _aws_error(answer: requests.Response) -> tuple[str, str]:
    """(code, message) of an AWS JSON error; the message is AWS's own text (it never carries the value)."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}", ""
    if not isinstance(body, dict):
        return f"HTTP {answer.status_code}", ""
    code = str(body.get("__type") or answer.headers.get("x-amzn-ErrorType") or f"HTTP {answer.status_code}")
    message = body.get("message") or body.get("Message") or ""
    return code.split("#")[-1].split(":")[0], str(message)[:300]
