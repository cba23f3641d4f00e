"""Cold start: the handler modules must not import boto3 (or Powertools Parameters) at import time.

(Powertools itself imports the bare `botocore` package for its user agent: under a millisecond.) How long imports
take is a speed claim: `make bench` measures it, not this test.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from functions_testkit import FUNCTIONS_DIR

PROBE = """
import json, sys
sys.path.insert(0, {functions!r})
import airbyte_handlers.{module}
heavy = [m for m in ("boto3", "botocore.client", "botocore.session", "aws_lambda_powertools.utilities.parameters") if m in sys.modules]
print(json.dumps({{"heavy": heavy}}))
"""


@pytest.mark.parametrize("module", ["create_job", "get_job", "cancel_job", "execution_stopped", "start_sync"])
def test_handler_import_is_light(module):
    out = subprocess.run([sys.executable, "-c", PROBE.format(functions=str(FUNCTIONS_DIR), module=module)],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["heavy"] == []


FIRST_INVOCATION = """
import json, sys
sys.path.insert(0, {functions!r})
from airbyte_handlers import get_job
event = {{"operationId": "getJob", "method": "GET", "path": "/jobs/{{jobId}}",
          "parameters": {{"path": {{"jobId": {job_id}}}, "query": {{}}, "header": {{}}}}, "body": None,
          "context": {{"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e", "stepId": "pollJob",
                      "stateEnteredTime": "2026-01-01T00:00:00Z", "retryCount": 0}}}}
status = get_job.handler(event, None)["body"]["status"]
from airbyte_client import secrets
heavy = [m for m in ("boto3", "botocore.client", "aws_lambda_powertools.utilities.parameters") if m in sys.modules]
print(json.dumps({{"status": status, "path": secrets.path_used, "heavy": heavy}}))
"""


def test_the_first_invocation_reads_the_secret_without_boto3(tmp_path):
    """Production: the secret is read by a signed request, not through boto3 (the larger part of a cold start)."""
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from local_tools.emulator import AirbyteEmulator

    class SecretsManager(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"SecretString": json.dumps({"token": "static-token"})}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SecretsManager)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with AirbyteEmulator(auth="bearer", token="static-token") as emu:
            job_id = emu.start_running_job("0b8e5bd4-5b6b-4d43-9c5e-a0f3d2b5d0f1")
            env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIRBYTE_"))},
                   "AIRBYTE_API_URL": emu.base_url, "AWS_REGION": "us-east-1",
                   "AIRBYTE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:airbyte-AbCdEf",
                   "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{server.server_address[1]}",
                   "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
            out = subprocess.run([sys.executable, "-c", FIRST_INVOCATION.format(functions=str(FUNCTIONS_DIR),
                                                                                job_id=job_id)],
                                 capture_output=True, text=True, env=env, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": "running", "path": "direct", "heavy": []}
