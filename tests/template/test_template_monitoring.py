"""Completion events, metrics, alarms and the dashboard in the translated template: least privilege, and each
optional resource only when its parameter asks for it. (moto's CloudFormation creates the topic and the dashboard
but no alarm: tests/machine/test_deployments.py deploys both ways.)"""

from __future__ import annotations

from sam_template_support import as_list, policy_statements, resources_of_type

BUS_ARN = {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${CompletionEventBusName}"}
TOPICS = [{"Fn::If": ["HasAlarmEmail", {"Ref": "AlarmTopic"}, {"Ref": "AWS::NoValue"}]},
          {"Fn::If": ["HasAlarmTopicArn", {"Ref": "AlarmTopicArn"}, {"Ref": "AWS::NoValue"}]}]


def test_the_machine_may_put_events_on_the_chosen_bus_only(translated):
    put = [s for role in resources_of_type(translated, "AWS::IAM::Role").values() for s in policy_statements(role)
           if "events:PutEvents" in as_list(s["Action"])]
    [statement] = put  # only the state machine's role
    assert as_list(statement["Action"]) == ["events:PutEvents"] and as_list(statement["Resource"]) == [BUS_ARN]
    assert statement in policy_statements(translated["Resources"]["SyncStateMachineRole"])


def test_the_bus_and_the_namespace_reach_the_definition_as_parameters(template):
    substitutions = template["Resources"]["SyncStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert substitutions["CompletionEventBusName"] == {"Ref": "CompletionEventBusName"}
    assert substitutions["MetricsNamespace"] == {"Ref": "MetricsNamespace"}
    assert template["Parameters"]["CompletionEventBusName"]["Default"] == "default"


def test_alarms_exist_only_with_an_email_or_a_topic_and_notify_it(translated):
    conditions = translated["Conditions"]
    assert conditions["HasAlarms"] == {"Fn::Or": [{"Condition": "HasAlarmEmail"}, {"Condition": "HasAlarmTopicArn"}]}
    assert conditions["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert conditions["HasAlarmTopicArn"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    assert translated["Resources"]["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    alarms = resources_of_type(translated, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"SyncExecutionsAlarm", "CleanupFailuresAlarm", "FailedDeliveriesAlarm"}
    for name in ("SyncExecutionsAlarm", "CleanupFailuresAlarm"):
        assert alarms[name]["Condition"] == "HasAlarms" and alarms[name]["Properties"]["AlarmActions"] == TOPICS
    # The dead-letter alarm always exists (its queue does); it notifies only when there is somewhere to notify.
    failed = alarms["FailedDeliveriesAlarm"]
    assert "Condition" not in failed
    assert failed["Properties"]["AlarmActions"] == {"Fn::If": ["HasAlarms", TOPICS, {"Ref": "AWS::NoValue"}]}


def test_the_executions_alarm_counts_failed_timed_out_and_aborted_executions_of_this_machine(translated):
    metrics = translated["Resources"]["SyncExecutionsAlarm"]["Properties"]["Metrics"]
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in metrics if "MetricStat" in m}
    assert {metric["MetricName"] for metric in stats.values()} == {
        "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for metric in stats.values():
        assert metric["Namespace"] == "AWS/States"
        assert metric["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "SyncStateMachine"}}]
    [expression] = [m for m in metrics if "Expression" in m]
    assert all(metric_id in expression["Expression"] for metric_id in stats) and expression["ReturnData"] is True


def test_the_dashboard_exists_only_when_asked_and_shows_the_machine_s_metrics(translated):
    assert translated["Conditions"]["HasDashboard"] == {"Fn::Equals": [{"Ref": "CreateDashboard"}, "true"]}
    dashboard = translated["Resources"]["SyncDashboard"]
    assert dashboard["Condition"] == "HasDashboard"
    body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ("Syncs", "RowsSynced", "BytesSynced", "DurationSeconds", "Polls"):
        assert f'MetricName=\\"{metric}\\"' in body or f'"{metric}"' in body, metric
    assert variables == {"Namespace": {"Ref": "MetricsNamespace"}, "Machine": {"Ref": "SyncStateMachine"}}
