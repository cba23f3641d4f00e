"""Job lifecycles over HTTP: polls and timed scripts, progress, and which answers carry stats."""
from __future__ import annotations

import pytest

from local_tools.emulator import JobScript


def test_spec_is_valid_openapi_with_airbytes_operation_ids(spec):
    from openapi_spec_validator import validate as validate_openapi

    validate_openapi(spec)
    operation_ids = {op["operationId"] for item in spec["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "operationId" in op}
    assert operation_ids == {"createJob", "getJob", "cancelJob", "listJobs", "listConnections", "createAccessToken"}
    assert [server["url"] for server in spec["servers"]] == ["https://api.airbyte.com/v1", "{host}/api/public/v1"]
    assert spec["components"]["schemas"]["JobStatusEnum"]["enum"] == [
        "pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"]
    token_url = spec["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"]
    assert token_url == "/applications/token"


def test_polls_script_advances_one_entry_per_get_job(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls(
        "pending", "queued", ("running", 3), "succeeded", rows=1200, bytes=340000))
    created = checker.check("createJob", client.create_job(connection_id))
    assert created["status"] == "pending" and created["connectionId"] == connection_id
    job_id = created["jobId"]

    seen = []
    for _ in range(7):
        body = checker.check("getJob", client.get_job(job_id))
        seen.append(body["status"])
        assert ("duration" in body) == (body["status"] != "pending")
        assert ("lastUpdatedAt" in body) == (body["status"] == "succeeded")
    assert seen == ["pending", "queued", "running", "running", "running", "succeeded", "succeeded"]
    assert (body["rowsSynced"], body["bytesSynced"]) == (1200, 340000)
    assert emu.jobs[job_id].status == "succeeded"
    assert emu.count("getJob") == 7


def test_running_job_reports_partial_progress(emu, client, checker, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls(("running", 3), "failed", rows=100, bytes=1000))
    job_id = client.create_job(connection_id).json()["jobId"]
    first = checker.check("getJob", client.get_job(job_id))
    assert first["status"] == "running" and 0 < first["bytesSynced"] < 1000
    for _ in range(3):
        last = checker.check("getJob", client.get_job(job_id))
    assert last["status"] == "failed" and last["bytesSynced"] == 1000


def test_stats_only_where_the_server_hydrates_them(emu, client, checker, connection_id):
    """getJob and listJobs carry bytesSynced/rowsSynced; createJob and cancelJob answers do not."""
    emu.add_connection(connection_id, script=JobScript.polls("running", rows=10, bytes=20))
    created = checker.check("createJob", client.create_job(connection_id))
    polled = checker.check("getJob", client.get_job(created["jobId"]))
    listed = checker.check("listJobs", client.list_jobs(connectionId=connection_id))["data"][0]
    cancelled = checker.check("cancelJob", client.cancel_job(created["jobId"]))
    assert "bytesSynced" not in created and "rowsSynced" not in created
    assert "bytesSynced" not in cancelled and "rowsSynced" not in cancelled
    assert {"bytesSynced", "rowsSynced"} <= set(polled) and {"bytesSynced", "rowsSynced"} <= set(listed)
    assert cancelled["status"] == "cancelled"


def test_timed_script_follows_the_clock(emu, client, checker, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.timed(duration_seconds=3600, final="succeeded",
                                                             rows=500, bytes=5000))
    job_id = checker.check("createJob", client.create_job(connection_id))["jobId"]
    assert client.get_job(job_id).json()["status"] == "pending"

    clock.sleep(1800)
    client.fetch_token()  # the first token expired meanwhile
    halfway = checker.check("getJob", client.get_job(job_id))
    assert halfway["status"] == "running"
    assert halfway["duration"] == "PT1S"  # it started running 1 s after creation: the last status change
    assert "lastUpdatedAt" not in halfway
    assert 2000 < halfway["bytesSynced"] < 3000

    clock.sleep(1800)
    client.fetch_token()
    done = checker.check("getJob", client.get_job(job_id))
    assert done["status"] == "succeeded"
    assert done["duration"] == "PT1H"
    assert (done["rowsSynced"], done["bytesSynced"]) == (500, 5000)
    assert "lastUpdatedAt" in done

    clock.sleep(600)  # a finished job keeps its end time
    client.fetch_token()
    assert client.get_job(job_id).json()["duration"] == "PT1H"


def test_timed_failure(emu, client, clock, connection_id):
    emu.add_connection(connection_id, script=JobScript.timed(duration_seconds=60, final="failed"))
    job_id = client.create_job(connection_id).json()["jobId"]
    clock.sleep(61)
    assert client.get_job(job_id).json()["status"] == "failed"


def test_a_status_a_future_server_may_add_is_shown_and_never_terminal(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("warming-up", "succeeded"))
    job_id = client.create_job(connection_id).json()["jobId"]
    assert client.create_job(connection_id).json()["title"] == "try-again-later"  # not an ended job
    assert [client.get_job(job_id).json()["status"] for _ in range(2)] == ["warming-up", "succeeded"]


def test_scripts_refuse_what_cannot_be_a_lifecycle():
    with pytest.raises(ValueError, match="non-empty text"):
        JobScript.polls("pending", "")
    with pytest.raises(ValueError, match="terminal status"):
        JobScript.timed(60, final="running")
    timed = JobScript.parse("timed:3600:failed,rows=5,bytes=9")
    assert (timed.kind, timed.duration_seconds, timed.final, timed.rows, timed.bytes) == ("timed", 3600, "failed", 5, 9)
    assert JobScript.parse("pending,running*3,succeeded").statuses == (
        "pending", "running", "running", "running", "succeeded")
