"""x-onEnd run in the local engine (the real compiled definition, a scripted handler, moto's EventBridge, SQS and
CloudWatch): the workflow's end tasks run exactly once however the workflow ends, in the execution its caller
started only, with the right `$end`, and a task that fails never changes how the execution ends."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from finish_deployment import Finish
from local_tools.clock import VirtualClock
from local_tools.engine import LocalEngine

START = 1_800_000_000.0  # the engine clock's start: 2027-01-15T08:00:00Z


@pytest.fixture(scope="module")
def deployed():
    with LocalEngine(clock=VirtualClock(start=START)) as engine:
        yield Finish(engine)


@pytest.fixture
def finish(deployed):
    deployed.events()  # none left over from another test
    return deployed


def step_functions_time(moment: datetime) -> str:
    """A time as Step Functions writes it: ISO-8601, UTC, milliseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def started(finish: Finish, execution_arn: str) -> datetime:
    return finish.engine.sfn.describe_execution(executionArn=execution_arn)["startDate"]


def executions(finish: Finish) -> list[dict]:
    listed = finish.engine.sfn.list_executions(stateMachineArn=finish.machine)["executions"]
    return sorted(listed, key=lambda e: e["startDate"])


def only_event(finish: Finish, result) -> dict:
    """The one event of the execution; its detail."""
    [event] = finish.events()
    assert (event["source"], event["detail-type"]) == ("pets", "Pet Watch Ended")
    assert result.execution_arn in event["resources"]   # the integration adds the execution, as on AWS
    return event["detail"]


def operations(pets) -> list[str]:
    return [call["operationId"] for call in pets.CALLS]


def test_a_workflow_that_succeeds_announces_it_once_with_its_outputs_and_times(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 7}}],
                        "getPet": [{"body": {"state": "preparing"}}, {"body": {"state": "ready"}}]})
    result = finish.engine.run(finish.machine, {"name": "Rex"}, name="rex-ready")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"petId": 7, "state": "ready"}
    detail = only_event(finish, result)
    start_time, end_time = detail.pop("startTime"), detail.pop("endTime")
    assert detail == {"name": "Rex", "petId": 7, "state": "ready", "status": "SUCCEEDED", "error": None,
                      "cause": None, "executionArn": result.execution_arn, "durationSeconds": 60,
                      "checks": 1, "summary": "Rex: SUCCEEDED"}
    # ISO-8601 UTC with milliseconds, as Step Functions writes times; one 60-second wait between them.
    start = started(finish, result.execution_arn)
    assert (start_time, end_time) == (step_functions_time(start), step_functions_time(start + timedelta(seconds=60)))
    assert finish.ended_count("Rex", "SUCCEEDED") == 1


@pytest.mark.parametrize("given, cause", [
    ({"name": ""}, "name: must have at least 1 characters"),
    ({"name": "nobody"}, "name: nobody is nobody's name"),
    ({"name": "Rex", "colour": "red"}, "input: unknown field(s) colour"),
])
def test_invalid_input_is_announced_before_any_call(pets, finish, given, cause):
    result = finish.engine.run(finish.machine, given, name=f"bad-{len(given)}-{len(given['name'])}")
    assert (result.status, result.error, result.cause) == ("FAILED", "Arazzo.InvalidInput", cause)
    assert pets.CALLS == []
    detail = only_event(finish, result)
    assert (detail["status"], detail["error"], detail["cause"]) == ("FAILED", "Arazzo.InvalidInput", cause)
    assert (detail["petId"], detail["state"], detail["checks"]) == (None, None, 0)  # missing values are null
    if given["name"]:
        assert finish.ended_count(given["name"], "Arazzo.InvalidInput") == 1


@pytest.mark.parametrize("script, error, cause", [
    # A success criterion: createPet answered 500.
    ({"createPet": [{"statusCode": 500}]}, "Arazzo.SuccessCriteriaFailed",
     "step create: success criterion not met: $statusCode == 200 (HTTP status 500)"),
    # The step's x-failWhen.
    ({"createPet": [{"statusCode": 409}]}, "Pets.NameTaken", {"name": "{pet}"}),
    # The workflow's x-failWhen, once the outputs are known.
    ({"createPet": [{"body": {"id": 3}}], "getPet": [{"body": {"state": "sick"}}]}, "Pets.Sick", {"petId": 3}),
    # A Task that fails for good without x-onError ends through the ending sequence too.
    ({"createPet": [{"raise": "Pets.Unavailable"}]}, "Pets.Unavailable", None),
])
def test_each_failure_is_announced_once_with_its_error_and_cause(pets, finish, script, error, cause):
    pet = f"pet-{error}"
    pets.SCRIPT.update(script)
    result = finish.engine.run(finish.machine, {"name": pet}, name=f"fails-{error}".replace(".", "-"))
    assert (result.status, result.error) == ("FAILED", error)
    if isinstance(cause, dict):
        assert json.loads(result.cause) == json.loads(json.dumps(cause).replace("{pet}", pet))
    elif cause:
        assert result.cause == cause
    else:
        assert json.loads(result.cause)["errorMessage"] == "the pet store is down"
    detail = only_event(finish, result)
    assert (detail["status"], detail["error"], detail["cause"]) == ("FAILED", error, result.cause)
    assert detail["summary"] == f"{pet}: {error}"
    assert finish.ended_count(pet, error) == 1


def test_x_on_error_cleans_up_then_announces(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 4}}], "getPet": [{"raise": "Pets.Unavailable"}]})
    result = finish.engine.run(finish.machine, {"name": "Kit"}, name="kit-unavailable")
    assert (result.status, result.error) == ("FAILED", "Pets.Unavailable")
    assert operations(pets) == ["createPet", "getPet", "releasePet"]
    detail = only_event(finish, result)
    assert (detail["status"], detail["error"], detail["petId"], detail["state"]) == (
        "FAILED", "Pets.Unavailable", 4, None)


@pytest.mark.parametrize("inputs, polls, limit", [
    ({"maxChecks": 1}, 2, "iteration limit reached"),
    ({"deadlineSeconds": 90}, 3, "deadline passed"),    # polls at 0, 60 and 90 seconds: the wait stops at it
])
def test_a_loop_limit_cleans_up_then_announces_with_the_loop_count(pets, finish, inputs, polls, limit):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 5}}], "getPet": [{"body": {"state": "preparing"}}]})
    result = finish.engine.run(finish.machine, {"name": "Tom", **inputs}, name=f"tom-{polls}")
    assert (result.status, result.error) == ("FAILED", "Pets.NotReady")
    assert json.loads(result.cause) == {"petId": 5, "limit": limit}
    assert operations(pets) == ["createPet"] + ["getPet"] * polls + ["releasePet"]
    detail = only_event(finish, result)
    assert (detail["error"], detail["state"], detail["checks"]) == ("Pets.NotReady", "preparing", polls - 1)
    assert len(executions_named(finish, f"tom-{polls}")) == 1


def executions_named(finish: Finish, first: str) -> list[dict]:
    """The first execution and its continuations (named after it), oldest first."""
    return [e for e in executions(finish) if e["name"] == first or e["name"].startswith(f"{first}-")]


def test_a_continued_workflow_is_announced_once_by_its_first_execution(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 8}}],
                        "getPet": [{"body": {"state": "preparing"}}] * 7 + [{"body": {"state": "ready"}}]})
    result = finish.engine.run(finish.machine, {"name": "Max"}, name="max")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"petId": 8, "state": "ready"}
    runs = executions_named(finish, "max")
    assert [e["status"] for e in runs] == ["SUCCEEDED"] * 3   # two polls per execution, then a continuation
    detail = only_event(finish, result)      # one event, from the first execution, for the whole sync
    assert (detail["status"], detail["state"], detail["checks"]) == ("SUCCEEDED", "ready", 7)
    assert detail["executionArn"] == runs[0]["executionArn"] == result.execution_arn
    assert detail["startTime"] == step_functions_time(started(finish, result.execution_arn))
    assert detail["durationSeconds"] == 7 * 60   # the whole sync: seven 60-second waits over three executions
    assert finish.ended_count("Max", "SUCCEEDED") == 1


def test_a_continuation_that_fails_is_announced_once_with_its_own_ending(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 9}}],
                        "getPet": [{"body": {"state": "preparing"}}] * 3 + [{"body": {"state": "sick"}}]})
    result = finish.engine.run(finish.machine, {"name": "Bo"}, name="bo")
    # The continuation failed with the workflow's x-failWhen; the first execution passes its error and cause on.
    assert (result.status, result.error) == ("FAILED", "Pets.Sick")
    assert json.loads(result.cause) == {"petId": 9}
    assert [e["status"] for e in executions_named(finish, "bo")] == ["FAILED", "FAILED"]
    assert operations(pets)[-1] == "releasePet"   # the loop's cleanup, after the continuation failed
    detail = only_event(finish, result)
    # The continuation's outputs and loop count, not the first execution's when it continued.
    assert (detail["error"], detail["cause"], detail["state"], detail["checks"]) == (
        "Pets.Sick", result.cause, "sick", 3)


def test_a_forged_continuation_runs_no_end_task(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 1}}], "getPet": [{"body": {"state": "ready"}}]})
    real = finish.engine.run(finish.machine, {"name": "Ann"}, name="ann")
    assert real.status == "SUCCEEDED"
    finish.events()
    forged = {"name": "Ann", "arazzoResume": {"at": "watch loop wait", "steps": {"create": {"outputs": {"id": 6}}}},
              "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": real.execution_arn}
    for name, given in (("forged", forged), ("orphan", {"name": "Ann", "arazzoResume": {}})):
        result = finish.engine.run(finish.machine, given, name=name)
        assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
        assert result.cause.startswith("arazzoResume: ")
    assert finish.events() == []


def test_an_end_task_that_fails_does_not_change_the_ending(pets, finish):
    pets.SCRIPT.update({"createPet": [{"body": {"id": 2}}], "getPet": [{"body": {"state": "sick"}}]})
    # EventBridge refuses an aws.* source from anyone but AWS: every attempt fails EventBridge.FailedEntry.
    machine = finish.deploy("finish-refused-source", "pets", source="aws.pets")
    result = finish.engine.run(machine, {"name": "Lou"}, name="lou")
    assert (result.status, result.error, json.loads(result.cause)) == ("FAILED", "Pets.Sick", {"petId": 2})
    failed = [e for e in result.events if e["type"] == "TaskFailed"
              and e["taskFailedEventDetails"]["error"] == "EventBridge.FailedEntry"]
    # The announcement was tried three times (two retries), then the metrics were still put.
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["EventBridge.FailedEntry"] * 3, failed
    assert finish.events() == []
    assert finish.ended_count("Lou", "Pets.Sick") == 1
