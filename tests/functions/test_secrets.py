"""The secret's read paths (airbyte_client/secrets.py): the Lambda extension's local endpoint, a direct SigV4-signed
GetSecretValue, and boto3 as the fallback; the 300 s cache and the forced re-read on every path; no value in any
error. A local HTTP server stands in for the extension and records what a direct call sends."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from airbyte_client import errors, retry, secrets
from functions_testkit import SENTINEL_SECRET

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:airbyte-AbCdEf"
VALUE = json.dumps({"client_id": "c", "client_secret": SENTINEL_SECRET})


class Recorder(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict]]
    seen: list[dict]

    def _answer(self, body: bytes = b"") -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}  # names are case-insensitive
        self.seen.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
        status, payload = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._answer()

    def do_POST(self):  # noqa: N802
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """start(answers) -> (port, requests seen); answers are (status, JSON body), the last one sticks."""
    started = []

    def start(answers: list[tuple[int, dict]]):
        handler = type("R", (Recorder,), {"answers": list(answers), "seen": []})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        return httpd.server_address[1], handler.seen

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    secrets.forget()
    for name in ("AIRBYTE_SECRETS_EXTENSION", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
                 "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    yield
    secrets.forget()


def test_the_extension_answers_with_the_session_token_and_a_forced_read_bypasses_its_cache(server, monkeypatch):
    extension_port, extension_seen = server([(200, {"ARN": ARN, "SecretString": VALUE})])
    aws_port, aws_seen = server([(200, {"ARN": ARN, "SecretString": VALUE.replace("c", "d", 1)})])
    monkeypatch.setenv("AIRBYTE_SECRETS_EXTENSION", "true")
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(extension_port))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{aws_port}")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-1")

    assert secrets.secret_text(ARN, 300) == VALUE and secrets.path_used == "extension"
    [asked] = extension_seen
    assert urlparse(asked["path"]).path == "/secretsmanager/get"
    assert parse_qs(urlparse(asked["path"]).query) == {"secretId": [ARN]}
    assert asked["headers"]["x-aws-parameters-secrets-token"] == "session-token-1"
    assert secrets.secret_text(ARN, 300) == VALUE and len(extension_seen) == 1, "cached for max_age"
    # After a refusal the extension's own cache could hand back the old value: ask Secrets Manager itself.
    assert secrets.secret_text(ARN, 300, force=True) != VALUE and secrets.path_used == "direct"
    assert len(extension_seen) == 1 and len(aws_seen) == 1


def test_without_the_extension_running_the_direct_call_answers(server, monkeypatch):
    aws_port, aws_seen = server([(200, {"SecretString": VALUE})])
    monkeypatch.setenv("AIRBYTE_SECRETS_EXTENSION", "true")
    monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "1")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{aws_port}")
    assert secrets.secret_text(ARN, 300) == VALUE and secrets.path_used == "direct"


def test_the_direct_call_is_signed_as_botocore_signs_it(server, monkeypatch):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    port, seen = server([(200, {"SecretString": VALUE})])
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-2")
    assert secrets.secret_text(ARN, 300) == VALUE
    [sent] = seen
    assert sent["method"] == "POST" and json.loads(sent["body"]) == {"SecretId": ARN}
    assert sent["headers"]["x-amz-target"] == "secretsmanager.GetSecretValue"
    assert sent["headers"]["x-amz-security-token"] == "session-token-2"

    fields = dict(part.split("=", 1) for part in sent["headers"]["authorization"].split(" ", 1)[1].split(", "))
    date = sent["headers"]["x-amz-date"]
    assert fields["Credential"] == f"AKIDEXAMPLE/{date[:8]}/us-east-1/secretsmanager/aws4_request"
    signed = fields["SignedHeaders"].split(";")
    assert {"host", "x-amz-date", "x-amz-target", "x-amz-security-token"} <= set(signed)
    # botocore signs the same request (the headers ours signed, at its date): the signatures must agree.
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=sent["body"],
                         headers={name: sent["headers"][name] for name in signed if name != "host"})
    request.context["timestamp"] = date
    signer = SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-2"),
                       "secretsmanager", "us-east-1")
    assert signer.signed_headers(signer.headers_to_sign(request)) == fields["SignedHeaders"]
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    assert fields["Signature"] == signer.signature(string_to_sign, request)


@pytest.mark.parametrize("status, error, named", [
    (400, {"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."},
     errors.ConfigError),
    (400, {"__type": "AccessDeniedException", "message": "not authorized"}, errors.ConfigError),
    (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}, errors.Unavailable),
    (503, {"__type": "InternalServiceError", "message": "try again"}, errors.Unavailable),
])
def test_direct_errors_are_named_and_never_carry_the_value(server, monkeypatch, status, error, named):
    port, _ = server([(status, error)])
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{port}")
    with pytest.raises(named) as caught:
        secrets.secret_text(ARN, 300)
    assert error["__type"] in str(caught.value) and ARN in str(caught.value)
    assert SENTINEL_SECRET not in str(caught.value)


def test_an_unreachable_secrets_manager_is_transient(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:1")
    with pytest.raises(errors.Unavailable, match="ConnectionError"):
        secrets.secret_text(ARN, 300)


def test_the_cache_keeps_the_value_for_max_age(server, monkeypatch):
    port, seen = server([(200, {"SecretString": VALUE})])
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{port}")
    now = [1000.0]
    monkeypatch.setattr(retry, "monotonic", lambda: now[0])
    secrets.secret_text(ARN, 300)
    now[0] += 299
    secrets.secret_text(ARN, 300)
    assert len(seen) == 1
    now[0] += 2
    secrets.secret_text(ARN, 300)
    assert len(seen) == 2


def test_boto3_reads_what_the_direct_call_cannot(aws, monkeypatch):
    import boto3

    boto3.client("secretsmanager").create_secret(Name="by-name", SecretString=VALUE)
    assert secrets.secret_text("by-name", 300) == VALUE and secrets.path_used == "boto3"
    with pytest.raises(errors.ConfigError, match="ResourceNotFound"):
        secrets.secret_text("no-such-secret", 300)


def test_moto_answers_the_direct_call(aws):
    """The handlers' tests and the local engine read secrets from moto this way (its requests mock)."""
    import boto3

    arn = boto3.client("secretsmanager").create_secret(Name="direct", SecretString=VALUE)["ARN"]
    assert secrets.secret_text(arn, 300) == VALUE and secrets.path_used == "direct"
