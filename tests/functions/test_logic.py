"""Plain logic: error names, validation, secret shapes, backoff, time parsing, job selection."""
from __future__ import annotations

import pytest

from airbyte_client import auth, errors, redaction, retry
from airbyte_client.config import ClientConfig
from airbyte_client.jobs import (
    is_unknown_outcome_conflict,
    newest_active,
    newest_created_since,
    parse_airbyte_time,
    problem_kind,
    problem_message,
)
from airbyte_client.validation import normalize_base_url, require_connection_id, require_job_id, require_job_type


@pytest.mark.parametrize("cls, name", [
    (errors.InvalidRequest, "Airbyte.InvalidRequest"), (errors.AuthError, "Airbyte.AuthError"),
    (errors.Conflict, "Airbyte.Conflict"), (errors.Unprocessable, "Airbyte.Unprocessable"),
    (errors.JobUnreadable, "Airbyte.JobUnreadable"), (errors.Unavailable, "Airbyte.Unavailable"),
    (errors.ConfigError, "Airbyte.ConfigError"), (errors.MalformedResponse, "Airbyte.MalformedResponse"),
    (errors.CleanupFailed, "Airbyte.CleanupFailed"),
])
def test_error_classes_carry_the_step_functions_error_name(cls, name):
    assert cls.__name__ == name
    assert type(cls("x")).__name__ == name
    assert issubclass(cls, errors.AirbyteError)


def test_registered_secrets_and_their_encodings_are_scrubbed_everywhere():
    import base64

    redaction.register("abc123xyz")
    redaction.register_basic("someone", "pa55word")
    basic = base64.b64encode(b"someone:pa55word").decode()
    assert redaction.scrub("token abc123xyz leaked") == "token *** leaked"
    assert redaction.scrub(f"Authorization: Basic {basic}") == "Authorization: Basic ***"
    assert redaction.scrub(base64.b64encode(b"abc123xyz").decode()) == "***"
    assert redaction.scrub_data({"data": {"echo": ["Bearer abc123xyz"]}, "abc123xyz": 1}) == {
        "data": {"echo": ["Bearer ***"]}, "***": 1}
    assert "abc123xyz" not in str(errors.Conflict("Airbyte said: Bearer abc123xyz"))


def test_secret_values_registered_when_parsed():
    auth.parse_secret({"client_id": "an-id", "client_secret": "the-client-secret-1"})
    assert redaction.scrub("x the-client-secret-1 y") == "x *** y"
    assert redaction.scrub("an-id") == "an-id"  # an identifier, not a secret


@pytest.mark.parametrize("secret, key", [
    ({"token": "Xq7-tok-9f\n"}, "token"), ({"token": " Xq7-tok-9f"}, "token"), ({"token": "Xq7-tök-9f"}, "token"),
    ({"token": "Xq7 tok 9f"}, "token"), ({"username": "u", "password": "Xq7-pässwörd€"}, "password"),
    ({"client_id": "id", "client_secret": "Xq7-secret\r\n"}, "client_secret"),
])
def test_credentials_a_header_cannot_carry_are_a_config_error(secret, key):
    with pytest.raises(errors.ConfigError) as caught:
        auth.parse_secret(secret)
    assert f"secret's {key} " in str(caught.value)
    assert "Xq7" not in str(caught.value), "the message names the key, never the value"


@pytest.mark.parametrize("value", [None, "", 0, False, "full-refresh", "SYNC"])
def test_job_type_must_be_given_and_known(value):
    with pytest.raises(errors.InvalidRequest):
        require_job_type(value)


@pytest.mark.parametrize("value", [1, 0, 1234, 2**63 - 1])
def test_job_id_accepts_integers(value):
    assert require_job_id(value) == value


@pytest.mark.parametrize("value", [True, False, "12", 1.0, None, -1, 2**63, "1; DROP", {"id": 1}])
def test_job_id_refuses_anything_else(value):
    with pytest.raises(errors.InvalidRequest):
        require_job_id(value)


def test_connection_id_must_be_a_uuid():
    assert require_connection_id("E735894A-E773-4938-969F-45F53957B75B") == "e735894a-e773-4938-969f-45f53957b75b"
    for bad in ["", "not-a-uuid", "../jobs", 42, None, "e735894a-e773-4938-969f-45f53957b75b/../x"]:
        with pytest.raises(errors.InvalidRequest):
            require_connection_id(bad)


@pytest.mark.parametrize("url", [
    "https://api.airbyte.com/v1", "https://airbyte.example.com/api/public/v1/",
    "http://localhost:8000/api/public/v1", "http://127.0.0.1:8000/v1", "http://127.3.4.5/v1", "http://[::1]:8000/v1",
])
def test_base_url_accepted(url):
    assert normalize_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", [
    "http://airbyte.example.com/api/public/v1", "http://10.0.0.5:8000/api/public/v1", "ftp://host/v1", "",
    "api.airbyte.com/v1", "https://user:pw@api.airbyte.com/v1", "https://host:99999/v1",
    "http://localhost:8000/api/v1",  # the legacy config API
])
def test_base_url_refused(url):
    with pytest.raises(errors.ConfigError):
        normalize_base_url(url)


def test_token_url_derives_from_the_base_url():
    assert ClientConfig(base_url="https://api.airbyte.com/v1").token_url == "https://api.airbyte.com/v1/applications/token"
    assert (ClientConfig(base_url="http://localhost:8000/api/public/v1").token_url
            == "http://localhost:8000/api/public/v1/applications/token")


@pytest.mark.parametrize("secret, kind", [
    ({"client_id": "a", "client_secret": "b"}, "client_credentials"), ({"token": "t"}, "bearer"),
    ({"username": "u", "password": "p"}, "basic"), ({}, "none"),
])
def test_secret_shapes(secret, kind):
    assert auth.parse_secret(secret).kind == kind


def test_unknown_secret_shape_names_keys_never_values():
    with pytest.raises(errors.ConfigError) as caught:
        auth.parse_secret({"client_id": "a", "password": "hunter2-value"})
    message = str(caught.value)
    assert "hunter2-value" not in message
    assert "client_secret" in message and "token" in message and "username" in message
    assert "hunter2" not in repr(auth.parse_secret({"token": "hunter2"}))


def test_full_jitter_backoff_is_bounded(monkeypatch):
    policy = retry.RetryPolicy(base_seconds=1, max_wait_seconds=10)
    monkeypatch.setattr(retry, "random", lambda: 1.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    monkeypatch.setattr(retry, "random", lambda: 0.0)
    assert policy.backoff(5) == 0
    assert policy.wait_before_next(1, retry_after=3) == 3
    assert policy.wait_before_next(1, retry_after=3600) == 10  # capped


def test_retry_after_parsing():
    assert retry.parse_retry_after("2") == 2
    assert retry.parse_retry_after(" 1.5 ") == 1.5
    assert retry.parse_retry_after(None) is None
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert retry.parse_retry_after("-1") is None


def test_budget_ends_before_the_lambda_times_out_and_clips_timeouts(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(retry, "monotonic", lambda: now[0])
    budget = retry.Budget(120, lambda_remaining_seconds=60, margin_seconds=5)
    assert budget.left() == 55
    assert budget.timeouts(5, 30) == (5, 30)
    now[0] += 40  # 15 s left: connect + read must fit in them
    connect, read = budget.timeouts(5, 30)
    assert connect + read <= 15
    assert budget.timeouts(5, 75, keep=14.5) is None  # nothing fits once 14.5 s are kept for afterwards
    now[0] += 15
    assert budget.left() == 0 and budget.timeouts(5, 30) is None


def test_airbyte_time_parsing():
    assert parse_airbyte_time("2026-11-24T10:00:00Z") == 1795514400.0
    assert parse_airbyte_time("2026-11-24T10:00Z") == 1795514400.0  # Java's OffsetDateTime drops zero seconds
    assert parse_airbyte_time("2026-11-24T10:00:07.123456789Z") == pytest.approx(1795514407.123456)
    assert parse_airbyte_time("2026-11-24T10:00:00+00:00") == 1795514400.0
    assert parse_airbyte_time(1795514400000) == 1795514400.0
    assert parse_airbyte_time("1795514400") == 1795514400.0
    assert parse_airbyte_time("yesterday") is None
    assert parse_airbyte_time(None) is None


def test_problem_kind_and_message():
    body = {"type": "https://reference.airbyte.com/reference/errors#try-again-later", "title": "try-again-later",
            "data": {"message": "A sync is already running for: x"}}
    assert problem_kind(body) == "try-again-later"
    assert problem_kind({"type": "https://x/errors#409-state-conflict"}) == "state-conflict"
    assert problem_message(body, "d") == "A sync is already running for: x"
    assert problem_message(None, "d") == "d"
    assert is_unknown_outcome_conflict(409, {"title": "state-conflict", "data": {"message": "Could not fulfill request"}})
    assert not is_unknown_outcome_conflict(409, {"title": "state-conflict", "data": {"message": "inactive"}})


def test_job_selection_for_adoption():
    jobs = [  # newest first, as listed with orderBy createdAt|DESC
        {"jobId": 5, "status": "succeeded", "jobType": "sync", "startTime": "2026-11-24T10:05:00Z"},
        {"jobId": 4, "status": "running", "jobType": "reset", "startTime": "2026-11-24T10:04:00Z"},
        {"jobId": 3, "status": "running", "jobType": "sync", "startTime": "2026-11-24T10:03:00Z"},
    ]
    assert newest_active(jobs)["jobId"] == 4, "any type: Airbyte's 'already running' is per connection"
    assert newest_active(jobs[:1]) is None
    assert newest_active([{"jobId": 9, "status": "a-status-added-later"}])["jobId"] == 9
    assert newest_active([{"jobId": True, "status": "running"}]) is None
    since = parse_airbyte_time("2026-11-24T10:04:30Z")
    assert newest_created_since(jobs, "sync", since)["jobId"] == 5
    assert newest_created_since(jobs, "reset", since) is None


def test_token_cache_keeps_tokens_until_a_minute_before_expiry(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(retry, "wall_time", lambda: now[0])
    cache = auth.TokenCache()
    cache.put(("u", "c"), "tok-1234", 900)
    now[0] += 839
    assert cache.get(("u", "c")) == "tok-1234"
    now[0] += 1
    assert cache.get(("u", "c")) is None
    assert redaction.scrub("Bearer tok-1234") == "Bearer ***", "an access token is a secret too"


def test_a_rotated_secret_gets_its_own_token():
    old = auth.parse_secret({"client_id": "id", "client_secret": "secret-one"})
    new = auth.parse_secret({"client_id": "id", "client_secret": "secret-two"})
    assert auth.TokenCache.key("u", old) != auth.TokenCache.key("u", new)
