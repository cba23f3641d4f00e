"""Cold start on the production path: each handler imported and first invoked in a fresh interpreter, with its
secret read from Secrets Manager, next to the official Airbyte SDK plus boto3 reading the same secret.

Every probe is a new `python` process (nothing imported beforehand but the standard library's startup), run
REPEATS times after one uncounted warm-up (disk cache, __pycache__); the tables show the median. The handlers call
a live emulator with client credentials (the secret's), so a first invocation reads the secret, gets an access
token and reads the job; the second one reuses all of it (the 300 s cache).

Secrets Manager is moto, in this process, behind a small local HTTP endpoint (SecretsEndpoint) that answers
GetSecretValue as the service does (the direct signed call and boto3 both reach it through
AWS_ENDPOINT_URL_SECRETS_MANAGER) and /secretsmanager/get as the Parameters and Secrets Lambda Extension does
(checking X-Aws-Parameters-Secrets-Token). Plain HTTP on 127.0.0.1 for every path: TLS and AWS's latency are not
in these figures, for any path. Paths of the getJob handler: direct (the production default), extension (with
the layer), boto3 (the fallback: here forced by giving boto3 its credentials in a file instead of the
environment). execution_stopped also creates a boto3 Step Functions client, reads the stopped execution's history
from the same endpoint (its createJob result) and cancels that job.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
HANDLERS = ["create_job", "get_job", "cancel_job", "execution_stopped"]
PATHS = ["direct", "extension", "boto3"]
REPEATS = 5
SESSION_TOKEN = "bench-session-token"

_HANDLER_PROBE = r"""
import json, sys, time
sys.path.insert(0, {functions!r})
t0 = time.perf_counter()
import airbyte_handlers.{module} as module
t1 = time.perf_counter()
class Context:
    function_name = "{module}"; invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:{module}"
    memory_limit_in_mb = 256; aws_request_id = "cold-start"; log_group_name = "/aws/lambda/x"; log_stream_name = "s"
    def get_remaining_time_in_millis(self): return 60000
event = json.loads({event!r})
result = module.handler(event, Context())
t2 = time.perf_counter()
module.handler(event, Context())
t3 = time.perf_counter()
from airbyte_client import secrets
heavy = [m for m in ("boto3", "botocore.client") if m in sys.modules]
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "result": str(result)[:200],
                  "path": secrets.path_used, "boto3": heavy}}))
"""

_SDK_PROBE = r"""
import json, os, time
t0 = time.perf_counter()
import boto3
import airbyte_api
from airbyte_api import api, models
t1 = time.perf_counter()
secret_value = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["AIRBYTE_SECRET_ARN"])
secret = json.loads(secret_value["SecretString"])
client = airbyte_api.AirbyteAPI(security=models.Security(client_credentials=models.SchemeClientCredentials(
    client_id=secret["client_id"], client_secret=secret["client_secret"], token_url={token_url!r})),
    server_url={url!r})
job = client.jobs.get_job(request=api.GetJobRequest(job_id={job_id}))
t2 = time.perf_counter()
client.jobs.get_job(request=api.GetJobRequest(job_id={job_id}))
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2,
                  "status": str(job.job_response.status if job.job_response else job.status_code)}}))
"""


class SecretsEndpoint:
    """GetSecretValue (the service's JSON protocol) and the extension's GET, answered from moto in this process."""

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        import boto3

        self.client = boto3.client("secretsmanager", region_name="us-east-1")
        self.extension_calls = 0
        self.service_calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _value(self, secret_id: str) -> tuple[int, dict]:
                try:
                    answer = outer.client.get_secret_value(SecretId=secret_id)
                except outer.client.exceptions.ResourceNotFoundException:
                    return 400, {"__type": "ResourceNotFoundException", "message": "not found"}
                return 200, {k: answer[k] for k in ("ARN", "Name", "VersionId", "SecretString") if k in answer}

            def do_POST(self) -> None:  # noqa: N802 (the service)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.headers.get("X-Amz-Target") == "AWSStepFunctions.GetExecutionHistory":
                    self._send(200, outer.history(body.get("executionArn", "")))
                    return
                if self.headers.get("X-Amz-Target") != "secretsmanager.GetSecretValue":
                    self._send(400, {"__type": "UnknownOperationException"})
                    return
                outer.service_calls += 1
                self._send(*self._value(body.get("SecretId", "")))

            def do_GET(self) -> None:  # noqa: N802 (the extension)
                url = urlparse(self.path)
                if (
                    url.path != "/secretsmanager/get"
                    or self.headers.get("X-Aws-Parameters-Secrets-Token") != SESSION_TOKEN
                ):
                    self._send(401, {"message": "missing or wrong X-Aws-Parameters-Secrets-Token"})
                    return
                outer.extension_calls += 1
                self._send(*self._value((parse_qs(url.query).get("secretId") or [""])[0]))

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @staticmethod
    def history(execution_arn: str) -> dict:
        """A stopped execution's history as Step Functions returns it: its createJob result (the job and the
        connection are in the execution's name, `job-<id>-<connection>`)."""
        _, job_id, connection = execution_arn.rsplit(":", 1)[-1].split("-", 2)
        payload = {
            "statusCode": 200,
            "headers": {"x-airbyte-sync-attached": False},
            "body": {"jobId": int(job_id), "connectionId": connection, "status": "running"},
        }
        return {
            "events": [
                {
                    "timestamp": 1_800_000_000,
                    "type": "TaskSucceeded",
                    "id": 5,
                    "previousEventId": 4,
                    "taskSucceededEventDetails": {
                        "resourceType": "lambda",
                        "resource": "invoke",
                        "output": json.dumps({"Payload": payload}),
                    },
                }
            ]
        }

    def create(self, value: dict) -> str:
        return self.client.create_secret(Name=f"airbyte-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(value))["ARN"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._mock.stop()


def _contract(operation: str, method: str, path: str, *, job_id: Any = None, body: Any = None) -> dict:
    return {
        "operationId": operation,
        "method": method,
        "path": path,
        "parameters": {"path": {"jobId": job_id} if job_id is not None else {}, "query": {}, "header": {}},
        "body": body,
        "contentType": "application/json" if body is not None else None,
        "context": {
            "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:cold",
            "stepId": operation,
            "stateEnteredTime": "2026-01-01T00:00:00Z",
            "retryCount": 0,
        },
    }


def _run(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(samples: list[dict], key: str) -> float:
    return statistics.median(s[key] for s in samples)


def measure() -> dict[str, Any]:
    from local_tools.clock import RealClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    base_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "AIRBYTE_", "POWERTOOLS_", "PYTHON", "PARAMETERS_"))
    }
    results: dict[str, Any] = {"handlers": {}, "paths": {}, "sdk": None, "package": None}
    endpoint = SecretsEndpoint()
    workdir = Path(tempfile.mkdtemp())
    try:
        with AirbyteEmulator(
            auth="client_credentials", client_id="bench-client", client_secret="bench-secret", clock=RealClock()
        ) as emu:
            arn = endpoint.create({"client_id": "bench-client", "client_secret": "bench-secret"})
            aws = {
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint.url,
                "AWS_MAX_ATTEMPTS": "1",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
            keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": SESSION_TOKEN}
            credentials_file = workdir / "credentials"
            credentials_file.write_text("[default]\naws_access_key_id = bench\naws_secret_access_key = bench\n")
            handler_env = {
                **base_env,
                **aws,
                "AIRBYTE_API_URL": emu.base_url,
                "AIRBYTE_SECRET_ARN": arn,
                "POWERTOOLS_SERVICE_NAME": "airbyte-sync",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "AWS_ENDPOINT_URL_SFN": endpoint.url,
            }
            path_env = {
                "direct": {**handler_env, **keys},
                "extension": {
                    **handler_env,
                    **keys,
                    "AIRBYTE_SECRETS_EXTENSION": "true",
                    "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(endpoint.port),
                },
                "boto3": {**handler_env, "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file)},
            }

            def event_for(module: str) -> dict:
                connection = str(uuid.uuid4())
                emu.add_connection(connection, script=JobScript.polls("running"))
                if module == "create_job":
                    return _contract("createJob", "POST", "/jobs", body={"connectionId": connection, "jobType": "sync"})
                job_id = emu.start_running_job(connection)
                if module == "get_job":
                    return _contract("getJob", "GET", "/jobs/{jobId}", job_id=job_id)
                if module == "cancel_job":
                    event = _contract("cancelJob", "DELETE", "/jobs/{jobId}", job_id=job_id)
                    event["parameters"]["header"] = {
                        "X-Airbyte-Sync-Connection-Id": connection,
                        "X-Airbyte-Sync-Attached": False,
                    }
                    return event
                return {
                    "detail-type": "Step Functions Execution Status Change",
                    "source": "aws.states",
                    "detail": {
                        "executionArn": f"arn:aws:states:us-east-1:123456789012:execution:m:job-{job_id}-{connection}",
                        "status": "ABORTED",
                        "input": "{}",
                    },
                }

            def probe(module: str, env: dict[str, str]) -> dict:
                samples = []
                for attempt in range(REPEATS + 1):  # the first one warms the disk cache: not counted
                    sample = _run(
                        _HANDLER_PROBE.format(
                            functions=str(FUNCTIONS), module=module, event=json.dumps(event_for(module))
                        ),
                        env,
                    )
                    if attempt:
                        samples.append(sample)
                return {
                    "import": _median(samples, "import"),
                    "first": _median(samples, "first"),
                    "second": _median(samples, "second"),
                    "result": samples[-1]["result"],
                    "path": samples[-1]["path"],
                    "boto3_imported": samples[-1]["boto3"],
                }

            for module in HANDLERS:
                results["handlers"][module] = probe(module, path_env["direct"])
            for path in PATHS:
                results["paths"][path] = probe("get_job", path_env[path])
            try:
                sdk = []
                for attempt in range(REPEATS + 1):
                    job_id = emu.start_running_job(str(uuid.uuid4()))
                    sample = _run(
                        _SDK_PROBE.format(
                            url=emu.base_url, token_url=emu.base_url + "/applications/token", job_id=job_id
                        ),
                        {**base_env, **aws, **keys, "AIRBYTE_SECRET_ARN": arn},
                    )
                    if attempt:
                        sdk.append(sample)
                results["sdk"] = {
                    "import": _median(sdk, "import"),
                    "first": _median(sdk, "first"),
                    "second": _median(sdk, "second"),
                    "status": sdk[-1]["status"],
                }
            except Exception as error:  # the SDK is installed by `make bench` (requirements/bench.txt)
                results["sdk_error"] = f"{type(error).__name__}: {str(error)[-300:]}"
            results["secrets_calls"] = {"service": endpoint.service_calls, "extension": endpoint.extension_calls}
    finally:
        endpoint.close()
        shutil.rmtree(workdir, ignore_errors=True)
    try:
        results["package"] = package_size()
    except Exception as error:
        results["package_error"] = f"{type(error).__name__}: {str(error)[-300:]}"
    return results


def package_size() -> dict[str, float]:
    """The deployment package as `sam build` makes it for this template (python3.13, arm64): the requirements
    installed into the code directory, zipped with the code. All four functions share CodeUri functions/, so
    they ship the same package."""
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        shutil.copytree(FUNCTIONS, build, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(FUNCTIONS / "requirements.txt"),
                "--target",
                str(build),
                "--platform",
                "manylinux2014_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                "3.13",
                "--only-binary=:all:",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        archive = Path(tmp) / "function.zip"
        unzipped = 0
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(build.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(build))
                    unzipped += path.stat().st_size
        code = sum(p.stat().st_size for p in FUNCTIONS.rglob("*.py"))
        return {"zip_mb": archive.stat().st_size / 1e6, "unzipped_mb": unzipped / 1e6, "code_kb": code / 1e3}
