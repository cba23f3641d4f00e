"""The deployed template against other Airbyte set-ups: self-managed base path, a static token, basic auth,
template parameters as defaults, and a base URL the functions must refuse. Each test deploys its own stack."""
import json

import boto3

from local_tools.emulator import JobScript
from machine_harness import SENTINEL

DONE = JobScript.polls("pending", "running", "succeeded", rows=12, bytes=34)


def assert_synced_once(h, result):
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["finalStatus"] == "succeeded"
    assert result.output["rowsSynced"] == 12 and result.output["bytesSynced"] == 34
    assert h.posts() == 1


def test_self_managed_base_path(fresh):
    h = fresh(base_path="/api/public/v1")
    assert h.emu.base_url.endswith("/api/public/v1")
    result = h.run_console(h.connection(DONE))

    assert_synced_once(h, result)
    assert h.token_requests() == 1, "the token endpoint is derived from the same base URL"
    assert all(r.operation is not None for r in h.emu.requests), "every request used a path under the base URL"


def test_static_token_secret(fresh):
    h = fresh(auth="bearer", secret={"token": SENTINEL})
    result = h.run_eventbridge(h.connection(DONE))

    assert_synced_once(h, result)
    assert h.token_requests() == 0
    assert {r.credential for r in h.emu.requests} == {"static-token"}


def test_basic_auth_secret_on_self_managed(fresh):
    h = fresh(base_path="/api/public/v1", auth="basic", secret={"username": "u", "password": SENTINEL})
    result = h.run_console(h.connection(DONE))

    assert_synced_once(h, result)
    assert {r.credential for r in h.emu.requests} == {"basic"}


def test_plain_http_to_a_remote_host_is_refused(fresh):
    h = fresh(api_url="http://airbyte.example.com/api/public/v1")
    result = h.run_console(h.connection(DONE))

    assert result.status == "FAILED"
    assert result.error == "Airbyte.ConfigError"
    assert "https" in result.cause_json["errorMessage"]
    assert h.airbyte_calls() == 0


def test_secret_of_unknown_shape_is_a_config_error_that_names_keys_not_values(fresh):
    h = fresh(secret={"client_id": "machine-tests-client", "api_secret": SENTINEL})
    result = h.run_console(h.connection(DONE))

    assert (result.status, result.error) == ("FAILED", "Airbyte.ConfigError")
    assert "api_secret" in result.cause and SENTINEL not in result.cause
    assert h.airbyte_calls() == 0


def test_template_parameters_are_the_defaults_an_execution_may_override(fresh):
    h = fresh(parameters={"PollInitialSeconds": 30, "PollElapsedFraction": 0, "PollMaxSeconds": 60,
                          "FailOnUnsuccessfulSync": "false", "DeadlineSeconds": 3600})
    failing = h.connection(JobScript.polls("running", ("running", 2), "failed", rows=1, bytes=2))

    result = h.run_console(failing)
    assert result.status == "SUCCEEDED", "FailOnUnsuccessfulSync false: the status is reported, not raised"
    assert result.output["finalStatus"] == "failed"
    assert result.waits == [30, 30, 30]

    result = h.run_console(h.connection(JobScript.polls("running", ("running", 2), "failed")),
                           failOnUnsuccessfulSync=True, pollInitialSeconds=5)
    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncFailed")
    assert result.waits == [5, 5, 5]

    forever = h.connection(JobScript.polls("running"))
    result = h.run_console(forever)
    assert (result.status, result.error) == ("FAILED", "Airbyte.SyncTimedOut")
    assert sum(result.waits) == 3600 and set(result.waits) == {30}, "PollElapsedFraction 0: fixed interval"
    assert json.loads(result.cause)["limit"] == "deadline passed"


def test_monitoring_resources_and_the_completion_bus_follow_their_parameters(fresh):
    h = fresh(parameters={"AlarmEmail": "data-team@example.com", "CreateDashboard": "true",
                          "CompletionEventBusName": "data-platform", "MetricsNamespace": "Team/AirbyteSync"})
    # moto's CloudFormation evaluated the template's conditions: the topic, its subscription and the dashboard.
    # (It creates no AWS::CloudWatch::Alarm; tests/template/test_template_monitoring.py checks their conditions.)
    sns = boto3.client("sns", region_name=h.engine.region)
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert h.stack.outputs["AlarmTopicArn"] == topic
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "data-team@example.com")
    [dashboard] = h.engine.cloudwatch.list_dashboards()["DashboardEntries"]
    assert dashboard["DashboardName"] == h.stack.outputs["DashboardName"]
    body = json.loads(h.engine.cloudwatch.get_dashboard(DashboardName=dashboard["DashboardName"])["DashboardBody"])
    assert "Team/AirbyteSync" in json.dumps(body) and h.machine in json.dumps(body)

    # The user's bus, with a rule that copies the completion events to a queue.
    sqs = boto3.client("sqs", region_name=h.engine.region)
    queue = sqs.create_queue(QueueName="completed-syncs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    h.engine.events.create_event_bus(Name="data-platform")
    h.engine.events.put_rule(Name="completed", EventBusName="data-platform", EventPattern=json.dumps(
        {"source": ["airbyte-sync"], "detail-type": ["Airbyte Sync Completed"]}))
    h.engine.events.put_targets(Rule="completed", EventBusName="data-platform", Targets=[{"Id": "q", "Arn": queue_arn}])
    result = h.run_console(h.connection(DONE))
    assert_synced_once(h, result)
    [delivery] = [d for d in h.engine.deliveries if d.rule == "completed"]
    assert delivery.wait(30)  # EventBridge delivers asynchronously
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"]) == h.engine.machine_events.put_by(result.execution_arn)[0]
    assert json.loads(message["Body"])["detail"]["finalStatus"] == "succeeded"
    metrics = h.engine.cloudwatch.list_metrics(Namespace="Team/AirbyteSync")["Metrics"]
    assert {metric["MetricName"] for metric in metrics} == {"Syncs", "DurationSeconds", "Polls", "RowsSynced",
                                                           "BytesSynced"}
    assert h.engine.cloudwatch.list_metrics(Namespace="AirbyteSync")["Metrics"] == []


def test_without_monitoring_parameters_there_is_no_topic_and_no_dashboard(fresh):
    h = fresh()
    assert "AlarmTopicArn" not in h.stack.outputs and "DashboardName" not in h.stack.outputs
    assert h.engine.cloudwatch.list_dashboards()["DashboardEntries"] == []
    assert boto3.client("sns", region_name=h.engine.region).list_topics()["Topics"] == []
