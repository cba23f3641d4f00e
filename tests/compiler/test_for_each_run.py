"""x-forEach run in the local engine (the real compiled definitions, a scripted handler): several items, at most
x-maxConcurrency at a time, an item that fails never stops the others, the step's outputs and totals, the
workflow's x-failWhen after every item ended; x-execution children, each its own execution (named after its
parent, linked to it, with its own continue-as-new and its own x-onEnd)."""
import json

import pytest

from finish_deployment import Finish
from local_tools.clock import VirtualClock
from local_tools.engine import LocalEngine


class Many(Finish):
    """The finish machine (each watch-all item's) and the many.arazzo.yml workflows, deployed."""

    def __init__(self, engine: LocalEngine):
        super().__init__(engine)
        self.adopt_all = self.deploy_workflow("many.arazzo.yml", "adopt-all", "adopt-all", {})
        self.watch_all = self.deploy_workflow("many.arazzo.yml", "watch-all", "watch-all",
                                              {"FinishStateMachineArn": self.machine})


@pytest.fixture(scope="module")
def deployed():
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        yield Many(engine)


@pytest.fixture
def many(deployed):
    deployed.events()
    return deployed


def calls(pets, operation: str) -> list:
    return [call for call in pets.CALLS if call["operationId"] == operation]


def script_four(pets) -> None:
    """Rex is ready on the second look, Kit's name is taken, Bo is ready, Max never is (the loop's limit)."""
    pets.SCRIPT.update({
        "createPet:Rex": [{"body": {"id": 1}}], "createPet:Kit": [{"statusCode": 409}],
        "createPet:Bo": [{"body": {"id": 3}}], "createPet:Max": [{"body": {"id": 4}}],
        "getPet:1": [{"body": {"state": "preparing"}}, {"body": {"state": "ready"}}],
        "getPet:3": [{"body": {"state": "ready"}}], "getPet:4": [{"body": {"state": "preparing"}}]})


def test_inline_items_run_two_at_a_time_and_a_failure_stops_none(pets, many):
    script_four(pets)
    result = many.engine.run(many.adopt_all, {"names": ["Rex", "Kit", "Bo", "Max"]}, name="four")
    # Every item ended; then the workflow's x-failWhen read the totals.
    assert (result.status, result.error) == ("FAILED", "Pets.SomeNotAdopted")
    assert json.loads(result.cause) == {"byStatus": {"SUCCEEDED": 2, "FAILED": 2},
                                        "errors": [None, "Pets.NameTaken", None, "Arazzo.LoopLimitExceeded"]}
    assert sorted(call["body"]["name"] for call in calls(pets, "createPet")) == ["Bo", "Kit", "Max", "Rex"]
    assert len(calls(pets, "getPet")) == 2 + 1 + 4   # Rex twice, Bo once, Max to its maxIterations (3) + 1
    assert result.most_map_iterations_at_once == 2


def test_inline_outputs_are_lists_in_item_order(pets, many):
    pets.SCRIPT.update({"createPet:Bo": [{"body": {"id": 3}}], "createPet:Rex": [{"body": {"id": 1}}],
                        "getPet": [{"body": {"state": "ready"}}]})
    result = many.engine.run(many.adopt_all, {"names": ["Bo", "Rex"], "maxConcurrency": 1}, name="two")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"names": ["Bo", "Rex"], "petIds": [3, 1], "errors": [None, None],
                             "byStatus": {"SUCCEEDED": 2}, "petIdTotal": 4}
    assert result.most_map_iterations_at_once == 1
    assert [call["body"]["name"] for call in calls(pets, "createPet")] == ["Bo", "Rex"]   # one after the other


@pytest.mark.parametrize("names, status, error", [([], "SUCCEEDED", None),
                                                  ([f"pet{i}" for i in range(11)], "FAILED", "Arazzo.TooManyItems")])
def test_no_item_and_too_many_items(pets, many, names, status, error):
    result = many.engine.run(many.adopt_all, {"names": names}, name=f"items-{len(names)}")
    assert (result.status, result.error) == (status, error)
    assert pets.CALLS == []
    if status == "SUCCEEDED":
        assert result.output == {"names": [], "petIds": [], "errors": [], "byStatus": {}, "petIdTotal": 0}
    else:
        assert result.cause == "x-forEach of step adoptEach: 11 items, at most 10 in one execution (x-maxItems)"


def test_x_execution_items_are_child_executions_with_their_own_guarantees(pets, many):
    pets.SCRIPT.update({
        "createPet:Rex": [{"body": {"id": 1}}], "createPet:Kit": [{"statusCode": 409}],
        "createPet:Bo": [{"body": {"id": 3}}],
        # Rex's child polls five times: it continues as new (two polls per execution) on its own.
        "getPet:1": [{"body": {"state": "preparing"}}] * 4 + [{"body": {"state": "ready"}}],
        "getPet:3": [{"body": {"state": "ready"}}]})
    result = many.engine.run(many.watch_all, {"names": ["Rex", "Kit", "Bo"]}, name="nightly", timeout=120)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"petIds": [1, None, 3], "states": ["ready", None, "ready"],
                             "errors": [None, "Pets.NameTaken", None],
                             "byOutcome": {"SUCCEEDED": 2, "Pets.NameTaken": 1}}
    assert result.most_map_iterations_at_once == 2
    children = many.engine.sfn.list_executions(stateMachineArn=many.machine)["executions"]
    mine = {e["name"]: e for e in children if e["name"].startswith("nightly-")}
    checksum = next(iter(mine)).split("-")[1]
    firsts = {f"nightly-{checksum}-{index}": status for index, status in enumerate(["SUCCEEDED", "FAILED", "SUCCEEDED"])}
    assert {name: mine[name]["status"] for name in firsts} == firsts
    assert len(mine) == 4   # and Rex's continuation, named after its own first execution
    for name, index in ((f"nightly-{checksum}-{i}", i) for i in range(3)):
        given = json.loads(many.engine.sfn.describe_execution(executionArn=mine[name]["executionArn"])["input"])
        assert given == {"name": ["Rex", "Kit", "Bo"][index],
                         "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": result.execution_arn}
    # Each child ran its own x-onEnd once (its continuation did not): one announcement per pet.
    announced = sorted((event["detail"]["name"], event["detail"]["status"], event["detail"]["checks"])
                       for event in many.events())
    assert announced == [("Bo", "SUCCEEDED", 0), ("Kit", "FAILED", 0), ("Rex", "SUCCEEDED", 4)]
    # The parent's own history holds one Task per item, not the children's polling.
    assert len(result.events) < 60, len(result.events)
