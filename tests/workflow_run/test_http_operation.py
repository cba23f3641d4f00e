"""The generic operation handler's logic (functions/http_operation) against a real HTTP server on 127.0.0.1:
where the request goes, how its parameters travel, credentials and scrubbing, retries and named errors."""
from __future__ import annotations

import json

import pytest

from airbyte_client import auth
from airbyte_client.transport import Transport
from api_servers import ApiServer, Request
from http_operation import handler as handler_module
from http_operation.errors import AuthError, ConfigError, InvalidRequest, Unavailable
from http_operation.operation import config_from_env, perform

TOKEN = "SENTINEL-api-token-4b1d9e"


def event(operation_id="getThing", method="GET", path="/things/{id}", *, path_params=None, query=None, header=None,
          body=None, content_type=None, **extra):
    return {
        "operationId": operation_id,
        "method": method,
        "path": path,
        "parameters": {"path": path_params if path_params is not None else {"id": 7}, "query": query or {},
                       "header": header or {}},
        "body": body,
        "contentType": content_type,
        "context": {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e", "stepId": "s"},
        **extra,
    }


def transport(server: ApiServer, credentials: dict | None = None, **env) -> Transport:
    config = config_from_env({"HTTP_API_URL": server.base_url, "HTTP_RETRY_BASE_SECONDS": "0.01", **env})
    return Transport(config, credentials=auth.parse_secret(credentials or {}))


def echo(request: Request):
    return 200, {"segments": request.segments, "query": request.query, "headers": request.headers,
                 "body": request.body.decode()}


@pytest.fixture
def api():
    with ApiServer(echo, base_path="/api/v2") as server:
        yield server


@pytest.mark.parametrize("value", ["../x", "a/b", "x?admin=1#frag", "%2e%2e", "50% off"])
def test_a_path_parameter_stays_one_segment_of_the_template(api, value):
    response = perform(transport(api), event(path="/things/{id}/detail", path_params={"id": value}))
    [request] = api.requests
    assert request.raw_path.count("/") == 3  # /things/<one segment>/detail, under the base path
    assert request.segments == ["things", value, "detail"]
    assert request.query == []
    assert response["statusCode"] == 200


@pytest.mark.parametrize("value", ["..", "."])
def test_a_dot_segment_value_is_refused_before_anything_is_sent(api, value):
    with pytest.raises(InvalidRequest, match="may not be '.' or '..'"):
        perform(transport(api), event(path_params={"id": value}))
    assert api.requests == []


def test_requests_go_to_the_deployments_base_url_and_the_event_cannot_change_it(api):
    with ApiServer(echo) as other:
        # Fields that are no part of the contract are ignored; a path that is not a bare template is refused.
        perform(transport(api), event(baseUrl=other.base_url, url=other.base_url, server=other.base_url))
        for path in ("//127.0.0.1:1/x", f"{other.base_url}/x", "/things/{id}?x=1", "things/{id}"):
            with pytest.raises(InvalidRequest, match="path"):
                perform(transport(api), event(path=path))
        assert other.requests == []
    assert [r.raw_path for r in api.requests] == ["/things/7"]


def test_query_header_and_json_body_travel_as_json_values_say(api):
    response = perform(transport(api), event(
        method="POST", query={"tags": ["a b", "c"], "limit": 10, "active": True, "missing": None},
        header={"X-Request-Id": 42, "X-Airbyte-Sync-Attached": False}, body={"name": "n", "n": 1.5},
        content_type="application/json"))
    body = response["body"]
    assert body["query"] == [["tags", "a b"], ["tags", "c"], ["limit", "10"], ["active", "true"]]
    assert body["headers"]["x-request-id"] == "42"
    assert not any(name.startswith("x-airbyte-sync-") for name in body["headers"])  # instructions are never sent
    assert json.loads(body["body"]) == {"name": "n", "n": 1.5}
    assert body["headers"]["content-type"] == "application/json"


def test_form_and_text_bodies(api):
    form = perform(transport(api), event(method="POST", body={"grant_type": "x y", "n": 2},
                                         content_type="application/x-www-form-urlencoded"))
    assert form["body"]["body"] == "grant_type=x+y&n=2"
    text = perform(transport(api), event(method="PUT", body="plain words", content_type="text/plain"))
    assert text["body"]["body"] == "plain words"


def test_the_deployments_credentials_authorize_every_request_and_never_reach_the_machine():
    def leaky(request: Request):  # an API that echoes the credential in its answer
        return 400, {"error": f"bad request from {request.headers.get('authorization')}"}

    with ApiServer(leaky) as server:
        response = perform(transport(server, {"token": TOKEN}), event())
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert response["statusCode"] == 400  # an answer for the workflow to judge, not an error
    assert TOKEN not in json.dumps(response) and "***" in response["body"]["error"]


def test_an_authorization_parameter_is_sent_without_deployment_credentials_and_scrubbed(api):
    response = perform(transport(api), event(header={"Authorization": f"Bearer {TOKEN}"}))
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in json.dumps(response)


def test_an_authorization_parameter_conflicts_with_deployment_credentials(api):
    with pytest.raises(InvalidRequest, match="conflicts with the deployment's credentials") as caught:
        perform(transport(api, {"token": TOKEN}), event(header={"Authorization": "Bearer other-token"}))
    assert "other-token" not in str(caught.value)
    assert api.requests == []


def test_a_get_is_retried_on_transient_faults(recorded_sleeps):
    answers = iter([(503, {"m": "busy"}), (429, {}, {"Retry-After": "2"}), (200, {"ok": True})])
    with ApiServer(lambda request: next(answers)) as server:
        response = perform(transport(server), event())
    assert response == {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": {"ok": True}}
    assert len(server.requests) == 3 and recorded_sleeps[-1] == 2.0


def test_a_post_is_not_repeated_after_a_fault_that_may_have_done_the_work(recorded_sleeps):
    with ApiServer(lambda request: (502, {"m": "gateway"})) as server:
        with pytest.raises(Unavailable, match="not repeated"):
            perform(transport(server), event(method="POST", body={"a": 1}))
    assert len(server.requests) == 1


def test_a_post_refused_with_429_is_sent_again(recorded_sleeps):
    answers = iter([(429, {}), (201, {"id": 5})])
    with ApiServer(lambda request: next(answers)) as server:
        response = perform(transport(server), event(method="POST", body={"a": 1}))
    assert response["statusCode"] == 201 and len(server.requests) == 2


def test_faults_still_failing_after_the_retries_are_unavailable(recorded_sleeps):
    with ApiServer(lambda request: (500, "oops")) as server:
        with pytest.raises(Unavailable, match="The API getThing still failing after 3 attempt"):
            perform(transport(server, HTTP_RETRY_MAX_ATTEMPTS="3"), event())
    assert len(server.requests) == 3


def test_401_twice_is_an_auth_error():
    with ApiServer(lambda request: (401, {"m": "no"})) as server:
        with pytest.raises(AuthError, match="answered 401 again"):
            perform(transport(server, {"token": TOKEN}), event())


def test_any_answer_body_reaches_the_workflow():
    bodies = iter([(200, [{"id": 1}, {"id": 2}]), (200, "just text"), (404, {"message": "no such thing"}),
                   (204, b"")])
    with ApiServer(lambda request: next(bodies)) as server:
        answers = [perform(transport(server), event()) for _ in range(4)]
    assert [a["statusCode"] for a in answers] == [200, 200, 404, 204]
    assert [a["body"] for a in answers] == [[{"id": 1}, {"id": 2}], "just text", {"message": "no such thing"}, None]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "FETCH"}, "method must be one of"),
        ({"operationId": None}, "no operationId"),
        ({"path_params": {}}, "missing path parameter"),
        ({"path_params": {"id": 1, "other": 2}}, "other not in /things/{id}"),
        ({"path_params": {"id": ""}}, "path parameter id is empty"),
        ({"path_params": {"id": {"a": 1}}}, "path parameter id must be a string, number or boolean, got a object"),
        ({"query": {"filter": {"a": 1}}}, "query parameter filter must be"),
        ({"header": {"Host": "evil.example"}}, "Host is written by the HTTP layer"),
        ({"header": {"X-Note": "a\r\nInjected: 1"}}, "X-Note contains control characters"),
        ({"body": {"a": 1}, "content_type": "application/xml"}, "'application/xml' is not supported"),
    ],
)
def test_invalid_requests_are_named_errors_and_nothing_is_sent(api, changes, message):
    arguments = {k: v for k, v in changes.items() if k in ("path_params", "query", "header", "body", "content_type")}
    built = event(**arguments)
    built.update({k: v for k, v in changes.items() if k not in arguments})
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace("?", r"\?")):
        perform(transport(api), built)
    assert api.requests == []


def test_the_lambda_handler_reads_its_base_url_from_its_environment(api, monkeypatch):
    monkeypatch.delenv("HTTP_API_URL", raising=False)
    with pytest.raises(ConfigError, match="HTTP_API_URL is not set"):
        handler_module.handler(event(), None)
    monkeypatch.setenv("HTTP_API_URL", "http://api.example.com")
    with pytest.raises(ConfigError, match="HTTP_API_URL must use https"):
        handler_module.handler(event(), None)
    monkeypatch.setenv("HTTP_API_URL", api.base_url)
    assert handler_module.handler(event(), None)["body"]["segments"] == ["things", "7"]
