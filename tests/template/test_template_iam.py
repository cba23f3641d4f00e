"""Least privilege, checked on the translated CloudFormation (what IAM will actually get)."""

from __future__ import annotations

import json

import pytest

from sam_template_support import as_list, policy_statements, resources_of_type

FUNCTIONS = {"CreateJobFunction", "GetJobFunction", "CancelJobFunction", "ExecutionStoppedFunction",
             "ListConnectionsFunction"}  # Airbyte callers
SECRET = {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": "AirbyteSecretArn"}}]}  # AWSSecretsManagerGetSecretValuePolicy
# The only actions allowed on "*": vended-logs delivery has no resource-level permissions.
LOG_DELIVERY = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                "xray:GetSamplingRules", "xray:GetSamplingTargets"}


def _roles(translated) -> dict[str, dict]:
    return resources_of_type(translated, "AWS::IAM::Role")


def _actions(statement) -> set[str]:
    return set(as_list(statement["Action"]))


def test_state_machine_invokes_each_function_by_exact_arn(translated):
    statements = policy_statements(translated["Resources"]["SyncStateMachineRole"])
    invoke = [s for s in statements if any(a.startswith("lambda:") or a == "*" for a in _actions(s))]
    targets = []
    for s in invoke:
        assert _actions(s) == {"lambda:InvokeFunction"}, s
        resource = s["Resource"]
        # Exactly one ARN, from GetAtt: no list, no string, so no `*` (LambdaInvokePolicy would give `name*`).
        assert isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"] and resource["Fn::GetAtt"][1] == "Arn", s
        targets.append(resource["Fn::GetAtt"][0])
    assert sorted(targets) == ["CancelJobFunction", "CreateJobFunction", "GetJobFunction"]


def test_state_machine_may_only_start_and_follow_itself(translated):
    statements = policy_statements(translated["Resources"]["SyncStateMachineRole"])
    states = [s for s in statements if any(a.startswith("states:") for a in _actions(s))]
    start = [s for s in states if _actions(s) == {"states:StartExecution"}]
    assert len(start) == 1
    assert start[0]["Resource"]["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-airbyte-sync")
    # Following a continued execution (.sync:2), and a continuation reading its parent: only this machine's.
    follow = [s for s in states if s not in start]
    assert len(follow) == 1 and _actions(follow[0]) == {"states:DescribeExecution", "states:StopExecution",
                                                        "states:GetExecutionHistory"}
    assert follow[0]["Resource"]["Fn::Sub"].endswith(":execution:${AWS::StackName}-airbyte-sync:*")


def test_sync_connections_invokes_list_connections_and_starts_only_single_syncs(translated):
    """The sync-connections machine invokes ListConnectionsFunction, and starts, reads and stops executions of the
    single-sync machine only (startExecution.sync:2); nothing of itself, no Airbyte function."""
    statements = policy_statements(translated["Resources"]["SyncConnectionsStateMachineRole"])
    invoke = [s for s in statements if any(a.startswith("lambda:") for a in _actions(s))]
    assert [(_actions(s), s["Resource"]) for s in invoke] == [
        ({"lambda:InvokeFunction"}, {"Fn::GetAtt": ["ListConnectionsFunction", "Arn"]})]
    states = [s for s in statements if any(a.startswith("states:") for a in _actions(s))]
    assert [(_actions(s), s["Resource"]) for s in states] == [
        ({"states:StartExecution"}, {"Ref": "SyncStateMachine"}),
        ({"states:DescribeExecution", "states:StopExecution"},
         {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                     "${AWS::StackName}-airbyte-sync:*"})]
    events = [s for s in statements if any(a.startswith("events:") for a in _actions(s))]
    assert [_actions(s) for s in events] == [{"events:PutTargets", "events:PutRule", "events:DescribeRule"}]
    assert events[0]["Resource"]["Fn::Sub"].endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")


def test_start_sync_may_only_start_the_two_machines(translated):
    statements = policy_statements(translated["Resources"]["StartSyncFunctionRole"])
    states = [s for s in statements if any(a.startswith("states:") for a in _actions(s))]
    assert [_actions(s) for s in states] == [{"states:StartExecution"}, {"states:StartExecution"}]
    # StepFunctionsExecutionPolicy: one state machine's ARN each, by its name.
    assert [s["Resource"]["Fn::Sub"][1]["stateMachineName"] for s in states] == [
        {"Fn::GetAtt": ["SyncStateMachine", "Name"]}, {"Fn::GetAtt": ["SyncConnectionsStateMachine", "Name"]}]
    assert all(s["Resource"]["Fn::Sub"][0].endswith(":stateMachine:${stateMachineName}") for s in states)
    assert not any(a.startswith(("secretsmanager:", "lambda:")) for s in statements for a in _actions(s)), \
        "the admission function never talks to Airbyte"


def test_roles_services_assume_name_this_stack(translated):
    """Roles assumed by Step Functions and Scheduler carry aws:SourceAccount and aws:SourceArn (confused deputy)."""
    checked = set()
    for name, role in _roles(translated).items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            services = set(as_list(statement["Principal"].get("Service")))
            if services & {"states.amazonaws.com", "scheduler.amazonaws.com", "events.amazonaws.com"}:
                condition = statement["Condition"]
                assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, name
                if name == "ScheduleRole":  # the stack's two schedules, by name
                    assert [arn["Fn::Sub"].split("${AWS::AccountId}:", 1)[1] for arn in condition["ArnLike"]["aws:SourceArn"]] == [
                        "schedule-group/default", "schedule/default/${AWS::StackName}-airbyte-sync",
                        "schedule/default/${AWS::StackName}-airbyte-sync-connections"]
                    checked.add(name)
                    continue
                machine = "-airbyte-sync-connections" if name == "SyncConnectionsStateMachineRole" else "-airbyte-sync"
                assert all(arn["Fn::Sub"].endswith((machine, machine + ":*", "schedule-group/default"))
                           for arn in condition["ArnLike"]["aws:SourceArn"]), name
                checked.add(name)
    assert checked == {"SyncStateMachineRole", "SyncConnectionsStateMachineRole", "ScheduleRole"}


def test_wildcards_only_for_log_delivery_tracing_and_metrics_of_our_namespace(translated):
    for name, role in _roles(translated).items():
        for s in policy_statements(role):
            assert "*" not in _actions(s), (name, s)
            if "*" in as_list(s.get("Resource")):
                if _actions(s) == {"cloudwatch:PutMetricData"}:  # no resource-level permissions: a condition instead
                    assert s["Condition"] == {"StringEquals": {"cloudwatch:namespace": {"Ref": "MetricsNamespace"}}}
                    continue
                assert _actions(s) <= LOG_DELIVERY, (name, s)
    # AWSLambdaRole would allow invoking every function in the account.
    for role in _roles(translated).values():
        assert not any("AWSLambdaRole" in str(arn) for arn in role["Properties"].get("ManagedPolicyArns", []))


def test_secret_only_for_the_functions_and_only_the_given_arn(translated):
    readers = set()
    for name, role in _roles(translated).items():
        for s in policy_statements(role):
            if any(a.startswith("secretsmanager:") or a.startswith("kms:") for a in _actions(s)):
                assert _actions(s) == {"secretsmanager:GetSecretValue"}, (name, s)
                assert s["Resource"] == SECRET, (name, s)
                readers.add(name)
    assert readers == {f"{fn}Role" for fn in FUNCTIONS}


def test_execution_stopped_reads_only_this_machines_executions(translated):
    statements = policy_statements(translated["Resources"]["ExecutionStoppedFunctionRole"])
    states = [s for s in statements if any(a.startswith("states:") for a in _actions(s))]
    assert len(states) == 1
    assert _actions(states[0]) == {"states:GetExecutionHistory"}
    assert states[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                                                ":execution:${AWS::StackName}-airbyte-sync:*"}


def test_no_credentials_in_environment(translated):
    for name, fn in resources_of_type(translated, "AWS::Lambda::Function").items():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            assert not any(word in key.upper() for word in ("PASSWORD", "TOKEN", "CLIENT_SECRET", "API_KEY")), key
            assert key == "AIRBYTE_SECRET_ARN" or "secretsmanager" not in json.dumps(value), key


@pytest.mark.parametrize("machine", ["SyncStateMachine", "SyncConnectionsStateMachine"])
def test_logging_and_tracing(translated, machine):
    properties = translated["Resources"][machine]["Properties"]
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False
    statements = policy_statements(translated["Resources"][f"{machine}Role"])
    granted = set().union(*(_actions(s) for s in statements))
    assert LOG_DELIVERY <= granted
