"""Date-time text as Airbyte's JVM writes it (OffsetDateTime/Duration.toString) and reads it (ISO_OFFSET_DATE_TIME),
and what a job's times look like over HTTP."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from emulator_testkit import JAVA_INSTANT

from local_tools.emulator import JobScript, format_duration, format_offset_date_time, parse_offset_date_time
from local_tools.emulator.timefmt import DateTimeParseError

AT_0130 = int(datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("seconds, nanos, text", [
    (AT_0130, 0, "2026-12-01T01:30Z"),  # zero seconds are dropped
    (AT_0130 + 7, 0, "2026-12-01T01:30:07Z"),
    (AT_0130, 5_000_000, "2026-12-01T01:30:00.005Z"),  # a fraction brings the seconds back
    (AT_0130 + 7, 123_000_000, "2026-12-01T01:30:07.123Z"),
    (AT_0130 + 7, 123_456_000, "2026-12-01T01:30:07.123456Z"),
    (AT_0130 + 7, 123_456_789, "2026-12-01T01:30:07.123456789Z"),
    (AT_0130 + 7, 100, "2026-12-01T01:30:07.000000100Z"),
    (0, 0, "1970-01-01T00:00Z"),
])
def test_offset_date_time_text_is_javas(seconds, nanos, text):
    assert format_offset_date_time(seconds, nanos) == text
    assert parse_offset_date_time(text) == pytest.approx(seconds + nanos / 1e9, abs=1e-6)


def test_duration_text_is_javas():
    assert [format_duration(s) for s in (0, 59, 3600, 3723, 29172, 90000)] == [
        "PT0S", "PT59S", "PT1H", "PT1H2M3S", "PT8H6M12S", "PT25H"]


@pytest.mark.parametrize("text, epoch", [
    ("2026-12-01T01:30:00Z", AT_0130),
    ("2026-12-01T01:30Z", AT_0130),
    ("2026-12-01t01:30z", AT_0130),  # the formatter parses case-insensitively
    ("2026-12-01T03:30:00+02:00", AT_0130),
    ("2026-11-30T20:30:00-05:00", AT_0130),
    ("2026-12-01T01:30:00.250Z", AT_0130 + 0.25),
])
def test_date_filters_accept_iso_offset_date_times(text, epoch):
    assert parse_offset_date_time(text) == pytest.approx(epoch)


@pytest.mark.parametrize("text, message", [
    ("1790000000000", "Text '1790000000000' could not be parsed at index 0"),  # epoch milliseconds
    ("yesterday", "Text 'yesterday' could not be parsed at index 0"),
    ("2026-12-01", "Text '2026-12-01' could not be parsed at index 10"),
    ("2026-12-01T01:30:00", "Text '2026-12-01T01:30:00' could not be parsed at index 19"),  # no offset
    ("2026-12-01T01:30:00 02:00", "Text '2026-12-01T01:30:00 02:00' could not be parsed at index 19"),  # '+' unescaped
    ("2026-12-01T01:30:00Zjunk", "Text '2026-12-01T01:30:00Zjunk' could not be parsed, unparsed text found at index 20"),
])
def test_date_filters_refuse_what_java_refuses(text, message):
    with pytest.raises(DateTimeParseError) as raised:
        parse_offset_date_time(text)
    assert str(raised.value) == message


def test_out_of_range_fields_are_refused():
    with pytest.raises(DateTimeParseError, match=r"^Text '2026-13-01T00:00Z' could not be parsed: "):
        parse_offset_date_time("2026-13-01T00:00Z")


def test_job_times_over_http_are_whole_seconds_in_javas_text(emu, client, clock, checker, connection_id):
    """The server renders createdAt/updatedAt from epoch seconds: the sub-second part never shows, zero seconds
    drop, lastUpdatedAt comes only with a terminal status, and duration is updatedAt - createdAt."""
    clock.sleep(AT_0130 + 0.75 - clock.now())
    emu.add_connection(connection_id, script=JobScript.polls("pending", "queued", ("running", 2), "succeeded"))
    created = checker.check("createJob", client.create_job(connection_id))
    assert created["startTime"] == "2026-12-01T01:30Z"
    assert "lastUpdatedAt" not in created and "duration" not in created
    assert emu.jobs[created["jobId"]].created_at == AT_0130 + 0.75  # kept precisely, shown in whole seconds

    seen = []
    for _ in range(5):
        clock.sleep(61)
        body = checker.check("getJob", client.get_job(created["jobId"]))
        assert re.match(JAVA_INSTANT, body["startTime"]) and body["startTime"] == "2026-12-01T01:30Z"
        seen.append((body["status"], body.get("duration"), body.get("lastUpdatedAt")))
    # Each status change happened at the poll that showed it, 61 s apart; a running job's duration is the time
    # it took to start (the jobs table's updated_at), not how long it has run.
    assert seen == [("pending", None, None), ("queued", "PT2M2S", None), ("running", "PT3M3S", None),
                    ("running", "PT3M3S", None), ("succeeded", "PT5M5S", "2026-12-01T01:35:05Z")]
