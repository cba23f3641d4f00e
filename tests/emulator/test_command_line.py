"""The emulator as a subprocess (python -m local_tools.emulator), as the demo and manual runs use it."""
from __future__ import annotations

import re
import subprocess
import sys
import uuid

import requests


def _start(*arguments: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "local_tools.emulator", "--port", "0", *arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base_url = process.stdout.readline().strip()
    assert re.match(r"^http://127\.0\.0\.1:\d+/", base_url), process.stderr.read()
    return process, base_url


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    assert process.wait(timeout=5) == 0
    process.stdout.close()
    process.stderr.close()


def test_cli_scripts_connections_and_faults(checker, make_client):
    conn, busy, idle, slow = (str(uuid.uuid4()) for _ in range(4))
    process, base_url = _start(
        "--base-path", "/api/public/v1", "--auth", "client_credentials", "--client-id", "X", "--client-secret", "Y",
        "--connection", f"{conn}:pending,running*2,succeeded,rows=7,bytes=70", "--connection", f"{slow}:running",
        "--running-job", busy, "--inactive-connection", idle,
        "--fault", "createJob:500:created", "--fault", "getJob:429:retry-after=1:times=2",
        "--fault", "createJob:slow-create")
    try:
        assert base_url.endswith("/api/public/v1")
        client = make_client(base_url, client_id="X", client_secret="Y")
        assert client.create_job(conn).status_code == 500
        job_id = client.list_jobs(connectionId=conn).json()["data"][0]["jobId"]
        statuses = [client.get_job(job_id) for _ in range(6)]
        assert [r.status_code for r in statuses[:2]] == [429, 429] and statuses[0].headers["Retry-After"] == "1"
        assert [r.json()["status"] for r in statuses[2:]] == ["pending", "running", "running", "succeeded"]
        assert checker.check("getJob", statuses[-1])["rowsSynced"] == 7
        slow_answer = client.create_job(slow).json()
        assert (slow_answer["title"], slow_answer["data"]["message"]) == ("state-conflict", "Could not fulfill request")
        assert [job["status"] for job in client.list_jobs(connectionId=slow).json()["data"]] == ["running"]
        assert client.create_job(busy).json()["title"] == "try-again-later"
        assert client.create_job(idle).json()["data"]["message"] == "Could not fulfill request"
    finally:
        _stop(process)


def test_cli_echo_and_application_service():
    process, base_url = _start("--echo-credentials", "--application-service", "database")
    try:
        wrong = requests.post(f"{base_url}/applications/token", timeout=5,
                              json={"client_id": "cid", "client_secret": "wrong-Secret"})
        assert wrong.status_code == 500 and "wrong-Secret" in wrong.text
        unknown = requests.get(f"{base_url}/jobs/7", headers={"Authorization": "Bearer bad-Token"}, timeout=5)
        assert unknown.status_code == 401 and "Bearer bad-Token" in unknown.text
        assert unknown.headers["X-Echo-Authorization"] == "Bearer bad-Token"
    finally:
        _stop(process)
