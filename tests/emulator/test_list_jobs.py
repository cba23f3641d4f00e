"""listJobs: filters, order and pages as the server builds them, and its answers to bad parameters
(JobsController.kt, JobsHelper.kt, PaginationMapper.kt; Micronaut binding and bean validation)."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from emulator_testkit import conversion_failure

from local_tools.emulator import JobScript, format_offset_date_time


@pytest.fixture
def six_jobs(emu, client, clock):
    """Five syncs on two connections a minute apart (scripts that start terminal), then a reset."""
    first_conn, second_conn = str(uuid.uuid4()), str(uuid.uuid4())
    emu.add_connection(first_conn, script=JobScript.polls("succeeded"))
    emu.add_connection(second_conn, script=JobScript.polls("failed"))
    ids = []
    for conn in (first_conn, second_conn, first_conn, second_conn, first_conn):
        ids.append(client.create_job(conn).json()["jobId"])
        clock.sleep(60)
    ids.append(client.create_job(first_conn, job_type="reset").json()["jobId"])
    return first_conn, second_conn, ids


def test_list_jobs_filters_and_order(emu, client, checker, six_jobs):
    first_conn, _, ids = six_jobs
    everything = checker.check("listJobs", client.list_jobs())
    assert [job["jobId"] for job in everything["data"]] == ids  # ascending by default

    for order_by, expected in (("createdAt|DESC", ids[::-1]), ("createdAt|ASC", ids), ("CREATEDAT|DESC", ids[::-1]),
                               ("updatedAt|ASC", ids), (" createdAt|DESC ", ids[::-1])):
        listed = checker.check("listJobs", client.list_jobs(orderBy=order_by))
        assert [job["jobId"] for job in listed["data"]] == expected, order_by

    by_conn = checker.check("listJobs", client.list_jobs(connectionId=first_conn))
    assert {job["connectionId"] for job in by_conn["data"]} == {first_conn} and len(by_conn["data"]) == 4
    assert [job["jobId"] for job in client.list_jobs(jobType="reset").json()["data"]] == [ids[5]]
    assert client.list_jobs(status="pending").json()["data"] == []
    assert [job["jobId"] for job in client.list_jobs(status="failed").json()["data"]] == [ids[1], ids[3]]
    assert [job["jobId"] for job in client.list_jobs(status="FAILED").json()["data"]] == [ids[1], ids[3]]
    assert client.list_jobs(connectionId=first_conn, limit="").status_code == 200  # an empty value is absent


def test_date_filters_compare_the_precise_creation_time(emu, client, clock, six_jobs):
    _, _, ids = six_jobs
    third = emu.jobs[ids[2]].created_at
    since = client.list_jobs(createdAtStart=format_offset_date_time(int(third))).json()["data"]
    assert [job["jobId"] for job in since] == ids[2:]
    offset_text = format_offset_date_time(int(third) + 7200).replace("Z", "+02:00")
    assert client.list_jobs(createdAtStart=offset_text).json()["data"] == since  # the same instant, at +02:00
    until = client.list_jobs(createdAtEnd=format_offset_date_time(int(third))).json()["data"]
    assert [job["jobId"] for job in until] == ids[:3]


def test_date_filters_keep_sub_second_precision(emu, client, clock, connection_id):
    """The filter compares the stored time (sub-second), while startTime shows whole seconds."""
    clock.sleep(0.6)
    emu.add_connection(connection_id, script=JobScript.polls("succeeded"))
    job = client.create_job(connection_id).json()
    whole = int(emu.jobs[job["jobId"]].created_at)
    assert job["startTime"] == format_offset_date_time(whole)
    for nanos, expected in ((500_000_000, [job["jobId"]]), (700_000_000, [])):
        listed = client.list_jobs(createdAtStart=format_offset_date_time(whole, nanos=nanos)).json()["data"]
        assert [j["jobId"] for j in listed] == expected, nanos


def test_pages_as_the_server_builds_them(emu, client, checker, six_jobs):
    first_conn, _, ids = six_jobs
    page = checker.check("listJobs", client.list_jobs(limit=2, offset=2, status="succeeded"))
    assert [job["jobId"] for job in page["data"]] == [ids[4], ids[5]]
    # next/previous carry only jobType, connectionId, limit and offset; previous repeats limit (one UriBuilder).
    assert parse_qsl(urlsplit(page["next"]).query) == [("limit", "2"), ("offset", "4")]
    assert parse_qsl(urlsplit(page["previous"]).query) == [("limit", "2"), ("limit", "2"), ("offset", "0")]
    assert page["next"].startswith(f"{emu.base_url}/jobs?")

    filtered = checker.check("listJobs", client.list_jobs(connectionId=first_conn, jobType="sync", limit=3))
    assert parse_qsl(urlsplit(filtered["next"]).query) == [
        ("jobType", "sync"), ("connectionId", first_conn), ("limit", "3"), ("offset", "3")]
    assert filtered["previous"] == ""

    last = checker.check("listJobs", client.list_jobs(limit=3, offset=3))
    assert [job["jobId"] for job in last["data"]] == ids[3:]
    assert "offset=6" in last["next"]  # set on the last page too: only an empty page ends the walk
    empty = checker.check("listJobs", requests.get(last["next"], headers=client.headers(), timeout=5))
    assert empty["data"] == [] and empty["next"] == ""
    assert parse_qsl(urlsplit(empty["previous"]).query) == [("limit", "3"), ("offset", "3")]


@pytest.mark.parametrize("order_by", ["nonsense|ASC", "createdAt|desc", "createdAt", "created_at|DESC", "|DESC"])
def test_order_by_the_server_cannot_read_is_400_bad_request(emu, client, checker, order_by):
    response = client.list_jobs(orderBy=order_by)
    assert response.status_code == 400
    body = checker.check("listJobs", response)
    assert body["title"] == "bad-request"
    assert body["data"]["message"] == f"Invalid order by clause provided: {order_by}"


@pytest.mark.parametrize("params, argument", [
    ({"limit": "ten"}, "limit"), ({"offset": "1.5"}, "offset"), ({"limit": "9999999999"}, "limit"),
    ({"status": "mysterious"}, "status"), ({"jobType": "backfill"}, "jobType"),
    ({"createdAtStart": "1790000000000"}, "createdAtStart"), ({"updatedAtEnd": "2026-12-01T01:30:00"}, "updatedAtEnd"),
    ({"createdAtEnd": "yesterday"}, "createdAtEnd"),
])
def test_values_that_do_not_convert_are_micronauts_400(emu, client, checker, params, argument):
    response = client.list_jobs(**params)
    (value,) = params.values()
    assert conversion_failure(response).startswith(f"Failed to convert argument [{argument}] for value [{value}]")
    checker.check("listJobs", response)


def test_epoch_milliseconds_fail_with_javas_parse_message(emu, client):
    message = conversion_failure(client.list_jobs(createdAtStart="1790000000000"))
    assert message.endswith("due to: Text '1790000000000' could not be parsed at index 0")


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}])
def test_out_of_range_pages_fail_bean_validation(emu, client, checker, params):
    response = client.list_jobs(**params)
    assert response.status_code == 400
    assert set(checker.check("listJobs", response)) == {"errorId"}


def test_a_connection_the_caller_cannot_see_is_403_before_order_by_is_read(emu, client, checker):
    for connection in (str(uuid.uuid4()), "not-a-uuid"):
        response = client.list_jobs(connectionId=connection, orderBy="nonsense")
        assert response.status_code == 403
        assert checker.check("listJobs", response)["data"]["message"] == (
            "Caller does not have the required WORKSPACE_READER permissions to access the resource(s).")


def test_list_jobs_shows_failed_status_once_polled(emu, client, connection_id):
    emu.add_connection(connection_id, script=JobScript.polls("running", "failed"))
    job_id = client.create_job(connection_id).json()["jobId"]
    client.get_job(job_id)
    client.get_job(job_id)
    assert [job["jobId"] for job in client.list_jobs(status="failed").json()["data"]] == [job_id]
