"""template.yaml is valid SAM, translates offline, and its CloudFormation passes cfn-lint."""

from __future__ import annotations

import json
import os
import subprocess

from sam_template_support import REGION, ROOT, TEMPLATE, cfn_lint, resources_of_type

# Rules ignored on the translated template, each with its reason. Empty today: keep it that way if possible.
IGNORED_RULES: dict[str, str] = {}

MACHINE_NAME = {"Fn::Sub": "${AWS::StackName}-airbyte-sync"}


def test_sam_validate_lint(sam_cli):
    # `sam validate --lint` is offline with a region; it does not look inside the ASL file (see test_template_asl).
    result = subprocess.run(
        [str(sam_cli), "validate", "--lint", "--template-file", str(TEMPLATE), "--region", REGION],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_translated_template_passes_cfn_lint(translated):
    # cfn-lint on the SAM template itself skips what the transform generates; the translation shows GetAtt/Ref
    # typos (E1010), bad property values and IAM mistakes in the generated roles.
    problems = [m for m in cfn_lint(translated) if m.rule.id not in IGNORED_RULES and m.rule.id[0] in "EW"]
    assert not problems, "\n".join(f"{m.rule.id} {m.message} at {m.path}" for m in problems)


def test_parameters(template):
    params = template["Parameters"]
    assert params["AirbyteApiUrl"]["Default"] == "https://api.airbyte.com/v1"
    assert "/api/public/v1" in params["AirbyteApiUrl"]["Description"]
    assert "Default" not in params["AirbyteSecretArn"], "the secret must be the user's own"
    for fmt in ('"client_id"', '"client_secret"', '"token"', '"username"', '"password"'):
        assert fmt in params["AirbyteSecretArn"]["Description"]
    defaults = {"DeadlineSeconds": 86400, "PollInitialSeconds": 10, "PollElapsedFraction": 0.1, "PollMaxSeconds": 300,
                "FailOnUnsuccessfulSync": "true", "ScheduleConnectionId": "", "ScheduleExpression": "rate(1 day)",
                "LogLevel": "INFO", "MaxDeadlineSeconds": 604800, "MinPollSeconds": 5, "EventJobTypes": "sync",
                "AllowedConnectionIds": "", "LogRetentionDays": 90}
    assert {k: params[k]["Default"] for k in defaults} == defaults


def test_parameter_ranges_match_the_workflow_inputs(template):
    """The template's parameters are the workflow's defaults: the same bounds, so a deploy cannot pick a value the
    workflow input schema would reject."""
    import yaml

    from sam_template_support import WORKFLOW

    inputs = yaml.safe_load(WORKFLOW.read_text())["workflows"][0]["inputs"]["properties"]
    for prop in inputs.values():
        name = prop.get("x-definitionSubstitution")
        if not name:
            continue
        param = template["Parameters"][name]
        if prop["type"] == "array":  # a comma-separated parameter, substituted as a JSON array's text
            assert param["Default"] == "" and prop["default"] == [], name
        else:
            assert str(param["Default"]).lower() == str(prop["default"]).lower(), name
        if prop["type"] == "boolean":
            assert param["AllowedValues"] == ["true", "false"], name
        elif "enum" in prop:
            assert param["AllowedValues"] == prop["enum"], name
        elif "minimum" in prop:
            assert (param["MinValue"], param["MaxValue"]) == (prop["minimum"], prop["maximum"]), name
    # The deployment's bound on deadlines allows at most what the workflow's own schema allows.
    assert template["Parameters"]["MaxDeadlineSeconds"]["MaxValue"] == inputs["deadlineSeconds"]["maximum"]
    assert inputs["deadlineSeconds"]["maximum"] < 365 * 86400, "a deadline must end before the execution limit"


def test_functions(template):
    glob = template["Globals"]["Function"]
    assert (glob["CodeUri"], glob["Runtime"], glob["Architectures"]) == ("functions/", "python3.13", ["arm64"])
    env = glob["Environment"]["Variables"]
    assert env["AIRBYTE_API_URL"] == {"Ref": "AirbyteApiUrl"}
    assert env["AIRBYTE_SECRET_ARN"] == {"Ref": "AirbyteSecretArn"}
    assert env["POWERTOOLS_SERVICE_NAME"] == "airbyte-sync"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    # The secrets extension only with its layer: the flag and the layer come from the same parameter.
    assert env["AIRBYTE_SECRETS_EXTENSION"] == {"Fn::If": ["HasSecretsExtension", "true", "false"]}
    assert glob["Layers"] == {"Fn::If": ["HasSecretsExtension", [{"Ref": "SecretsExtensionLayerArn"}],
                                         {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasSecretsExtension"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SecretsExtensionLayerArn"}, ""]}]}
    expected = {
        "CreateJobFunction": ("airbyte_handlers.create_job.handler", 180),
        "GetJobFunction": ("airbyte_handlers.get_job.handler", 60),
        "CancelJobFunction": ("airbyte_handlers.cancel_job.handler", 90),
        "ExecutionStoppedFunction": ("airbyte_handlers.execution_stopped.handler", 120),
        "StartSyncFunction": ("airbyte_handlers.start_sync.handler", 30),
        "ListConnectionsFunction": ("airbyte_handlers.list_connections.handler", 120),
    }
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert {k: (f["Properties"]["Handler"], f["Properties"]["Timeout"]) for k, f in functions.items()} == expected


def test_handler_modules_exist(template):
    """Each Handler names a module under functions/ (fails until the handlers land)."""
    for name, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        module = fn["Properties"]["Handler"].rsplit(".", 1)[0]
        assert (ROOT / "functions" / (module.replace(".", "/") + ".py")).is_file(), f"{name}: {module}"


def test_state_machine(template):
    machine = template["Resources"]["SyncStateMachine"]["Properties"]
    assert machine["Type"] == "STANDARD"
    assert machine["Name"] == MACHINE_NAME
    assert machine["Tracing"] == {"Enabled": True}
    assert machine["Logging"]["IncludeExecutionData"] is False
    assert machine["Logging"]["Level"] in ("ALL", "ERROR")
    assert (ROOT / machine["DefinitionUri"]).is_file()
    subs = machine["DefinitionSubstitutions"]
    for fn in ("CreateJob", "GetJob", "CancelJob"):
        assert subs[f"{fn}FunctionArn"] == {"Fn::GetAtt": [f"{fn}Function", "Arn"]}
    for param in ("DeadlineSeconds", "PollInitialSeconds", "PollElapsedFraction", "PollMaxSeconds", "PollPolicy",
                  "FailOnUnsuccessfulSync", "MaxDeadlineSeconds", "MinPollSeconds"):
        assert subs[param] == {"Ref": param}
    assert machine["Role"] == {"Fn::GetAtt": ["SyncStateMachineRole", "Arn"]}
    assert "Events" not in machine, "events and schedules go through StartSyncFunction, which names executions"


def test_machine_name_is_spelled_once(template):
    """Policies name the machine by its fixed name (a Ref would be circular): every spelling must agree."""
    res = template["Resources"]
    props = res["SyncStateMachine"]["Properties"]
    name = MACHINE_NAME["Fn::Sub"]
    assert props["Name"] == MACHINE_NAME
    statements = {s["Sid"]: s for s in res["SyncStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"]}
    assert statements["ContinueAsNew"]["Resource"]["Fn::Sub"].endswith(f":stateMachine:{name}")
    assert statements["FollowContinuedExecution"]["Resource"]["Fn::Sub"].endswith(f":execution:{name}:*")
    trusted = res["SyncStateMachineRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert [arn["Fn::Sub"].split("${AWS::AccountId}:", 1)[1] for arn in trusted["ArnLike"]["aws:SourceArn"]] == [
        f"stateMachine:{name}", f"execution:{name}:*"]
    stopped = res["ExecutionStoppedFunction"]["Properties"]["Policies"][1]["Statement"][0]
    assert stopped["Resource"]["Fn::Sub"].endswith(f":execution:{name}:*")
    assert res["StartSyncFunction"]["Properties"]["Events"]["Schedule"]["Properties"]["Name"] == MACHINE_NAME


def test_sync_requests_go_through_the_admission_function(template):
    function = template["Resources"]["StartSyncFunction"]["Properties"]
    assert function["Environment"]["Variables"]["SYNC_STATE_MACHINE_ARN"] == {"Ref": "SyncStateMachine"}
    assert function["Environment"]["Variables"]["EVENT_JOB_TYPES"] == {"Fn::Join": [",", {"Ref": "EventJobTypes"}]}
    rule = function["Events"]["SyncRequested"]["Properties"]
    assert rule["Pattern"] == {"source": ["airbyte-sync"], "detail-type": ["Airbyte Sync Requested"],
                               "account": [{"Ref": "AWS::AccountId"}]}
    assert "InputPath" not in rule and "InputTransformer" not in rule, "the function picks the documented fields"
    assert rule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailedDeliveriesQueue", "Arn"]}}
    schedule = function["Events"]["Schedule"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["State"] == {"Fn::If": ["HasSchedule", "ENABLED", "DISABLED"]}
    assert json.loads(schedule["Properties"]["Input"]["Fn::Sub"]) == {
        "connectionId": "${ScheduleConnectionId}", "scheduledTime": "<aws.scheduler.scheduled-time>",
        "scheduleArn": "<aws.scheduler.schedule-arn>"}
    assert template["Conditions"]["HasSchedule"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ScheduleConnectionId"}, ""]}]}
    # Many connections: their own rule and schedule, to the other machine (the function picks it per request).
    assert function["Environment"]["Variables"]["SYNC_CONNECTIONS_STATE_MACHINE_ARN"] == {
        "Ref": "SyncConnectionsStateMachine"}
    many = function["Events"]["SyncsRequested"]["Properties"]
    assert many["Pattern"] == {"source": ["airbyte-sync"], "detail-type": ["Airbyte Syncs Requested"],
                               "account": [{"Ref": "AWS::AccountId"}]}
    assert "InputPath" not in many and "InputTransformer" not in many
    assert many["DeadLetterConfig"] == rule["DeadLetterConfig"] and many["RetryPolicy"] == rule["RetryPolicy"]
    many_schedule = function["Events"]["SyncsSchedule"]["Properties"]
    assert function["Events"]["SyncsSchedule"]["Type"] == "ScheduleV2"
    assert many_schedule["State"] == {"Fn::If": ["HasSyncsSchedule", "ENABLED", "DISABLED"]}
    assert many_schedule["Name"] == {"Fn::Sub": "${AWS::StackName}-airbyte-sync-connections"}
    assert template["Conditions"]["HasSyncsSchedule"] == {"Fn::Or": [
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "ScheduleSyncsTag"}, ""]}]}, {"Condition": "HasSyncsScheduleConnectionIds"}]}
    for name in ("StartSyncFunction", "ExecutionStoppedFunction"):
        failures = template["Resources"][name]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert failures == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedDeliveriesQueue", "Arn"]}}, name


def test_dead_letters_are_encrypted_and_alarmed(template):
    queue = template["Resources"]["FailedDeliveriesQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    alarm = template["Resources"]["FailedDeliveriesAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedDeliveriesQueue", "QueueName"]}}]
    assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")


def test_every_function_logs_to_a_log_group_that_expires(template):
    for name, function in resources_of_type(template, "AWS::Serverless::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_execution_stopped_rule(template):
    event = template["Resources"]["ExecutionStoppedFunction"]["Properties"]["Events"]["SyncExecutionEnded"]
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "account": [{"Ref": "AWS::AccountId"}],
        "detail": {"status": ["ABORTED", "TIMED_OUT", "FAILED"], "stateMachineArn": [{"Ref": "SyncStateMachine"}]},
    }


def test_outputs(template):
    outputs = template["Outputs"]
    for key in ("SyncStateMachineArn", "SyncStateMachineName", "CreateJobFunctionName", "GetJobFunctionName",
                "CancelJobFunctionName", "ExecutionStoppedFunctionName", "StartSyncFunctionName",
                "FailedDeliveriesQueueUrl", "FailedDeliveriesAlarmName"):
        assert key in outputs
    assert outputs["SyncRequestEventSource"]["Value"] == "airbyte-sync"
    assert outputs["SyncRequestEventDetailType"]["Value"] == "Airbyte Sync Requested"
    assert outputs["SyncsRequestEventDetailType"]["Value"] == "Airbyte Syncs Requested"


def test_no_secrets_in_the_template():
    """Credentials live in Secrets Manager only (checkov CKV_AWS_45): no credential-looking keys or values."""
    text = TEMPLATE.read_text()
    for needle in ("client_secret:", "password:", "token:", "NoEcho", "AWS::SecretsManager::Secret"):
        assert needle not in text, needle
