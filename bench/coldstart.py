"""Cold start: each handler module imported and first invoked in a fresh interpreter, next to the Airbyte SDK.

Every probe is a new `python` process (nothing imported beforehand but the standard library's startup), run
REPEATS times after one uncounted warm-up (disk cache, __pycache__); the table shows the median. The handlers
call a live emulator (RealClock, auth "none", so AIRBYTE_SECRET_ARN is unset and no Secrets Manager call is made:
the first invocation is import-free HTTP work).
execution_stopped is invoked with an ABORTED event whose input carries the job id (a continued execution's
`arazzoResume`); its Step Functions client points at the emulator (AWS_ENDPOINT_URL_SFN), which answers 404, so
the handler pays boto3's import and client creation plus one failed history call, then falls back on the input
and cancels the job: its real path, minus AWS's latency.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
HANDLERS = ["create_job", "get_job", "cancel_job", "execution_stopped"]
REPEATS = 5

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
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "result": str(result)[:200]}}))
"""

_SDK_PROBE = r"""
import json, time
t0 = time.perf_counter()
import airbyte_api
from airbyte_api import models
t1 = time.perf_counter()
client = airbyte_api.AirbyteAPI(security=models.Security(bearer_auth="token"), server_url={url!r})
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "construct": t2 - t1, "version": getattr(airbyte_api, "__version__", "")}}))
"""


def _contract(operation: str, method: str, path: str, *, job_id: Any = None, body: Any = None) -> dict:
    return {"operationId": operation, "method": method, "path": path,
            "parameters": {"path": {"jobId": job_id} if job_id is not None else {}, "query": {}, "header": {}},
            "body": body, "contentType": "application/json" if body is not None else None,
            "context": {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:cold", "stepId": operation,
                        "stateEnteredTime": "2026-01-01T00:00:00Z", "retryCount": 0}}


def _run(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure() -> dict[str, Any]:
    from local_tools.clock import RealClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    base_env = {key: value for key, value in os.environ.items()
                if not key.startswith(("AWS_", "AIRBYTE_", "POWERTOOLS_", "PYTHON"))}
    results: dict[str, Any] = {"handlers": {}, "sdk": None, "package": None}
    with AirbyteEmulator(auth="none", clock=RealClock()) as emu:
        env = {**base_env, "AIRBYTE_API_URL": emu.base_url, "POWERTOOLS_SERVICE_NAME": "airbyte-sync",
               "POWERTOOLS_LOG_LEVEL": "WARNING", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_ENDPOINT_URL_SFN": emu.base_url.rsplit("/", 1)[0] + "/no-such-service",
               "AWS_MAX_ATTEMPTS": "1"}
        for module in HANDLERS:
            samples = []
            for attempt in range(REPEATS + 1):  # the first one warms the disk cache and __pycache__: not counted
                connection = str(uuid.uuid4())
                emu.add_connection(connection, script=JobScript.polls("running"))
                if module == "create_job":
                    event = _contract("createJob", "POST", "/jobs",
                                      body={"connectionId": connection, "jobType": "sync"})
                else:
                    job_id = emu.start_running_job(connection)
                    if module == "get_job":
                        event = _contract("getJob", "GET", "/jobs/{jobId}", job_id=job_id)
                    elif module == "cancel_job":
                        event = _contract("cancelJob", "DELETE", "/jobs/{jobId}", job_id=job_id)
                    else:
                        resume = {"arazzoResume": {"steps": {"triggerJob": {"outputs": {"jobId": job_id}}}}}
                        event = {"detail-type": "Step Functions Execution Status Change", "source": "aws.states",
                                 "detail": {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:x",
                                            "status": "ABORTED", "input": json.dumps(resume)}}
                sample = _run(_HANDLER_PROBE.format(functions=str(FUNCTIONS), module=module,
                                                    event=json.dumps(event)), env)
                if attempt:
                    samples.append(sample)
            results["handlers"][module] = {
                "import": statistics.median(s["import"] for s in samples),
                "first": statistics.median(s["first"] for s in samples),
                "second": statistics.median(s["second"] for s in samples),
                "result": samples[-1]["result"],
            }
        try:
            sdk = [_run(_SDK_PROBE.format(url=emu.base_url), base_env) for _ in range(REPEATS + 1)][1:]
            results["sdk"] = {"import": statistics.median(s["import"] for s in sdk),
                              "construct": statistics.median(s["construct"] for s in sdk)}
        except Exception as error:  # the SDK is installed by `make bench` (requirements/bench.txt)
            results["sdk_error"] = f"{type(error).__name__}: {str(error)[-300:]}"
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
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-r", str(FUNCTIONS / "requirements.txt"), "--target", str(build),
                        "--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.13",
                        "--only-binary=:all:"], check=True, capture_output=True, text=True, timeout=300)
        archive = Path(tmp) / "function.zip"
        unzipped = 0
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(build.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(build))
                    unzipped += path.stat().st_size
        code = sum(p.stat().st_size for p in FUNCTIONS.rglob("*.py"))
        return {"zip_mb": archive.stat().st_size / 1e6, "unzipped_mb": unzipped / 1e6, "code_kb": code / 1e3}
