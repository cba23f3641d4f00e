"""x-loop `suggestedWaitSeconds` in the local engine: a number the step sets is the next wait (at least
initialWaitSeconds, never past the deadline, not capped by maxWaitSeconds); null or absent: the loop's formula."""
from pathlib import Path


from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower
from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTIONS = FIXTURES / "functions"


def run(pets, answers: list[dict]) -> tuple[str, list[float]]:
    """The execution's status and its waits (the Wait states sleep on the virtual clock; nothing else does)."""
    document, problems = validate(FIXTURES / "suggest.arazzo.yml")
    assert problems == []
    pets.SCRIPT.update({"createPet": [{"body": {"id": 7}}], "getPet": [{"body": body} for body in answers]})
    spec = FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
    clock = VirtualClock(start=1_800_000_000.0)
    with LocalEngine(clock=clock) as engine:
        machine = engine.create_state_machine(lower(document, "suggest", "suggest.arazzo.yml").to_dict(),
                                              functions={"CreatePetFunctionArn": spec, "GetPetFunctionArn": spec})
        result = engine.run(machine, {}, name="suggest")
    return result.status, [round(seconds) for seconds in clock.sleeps]  # the Wait states' seconds, in order


def test_a_suggested_number_is_the_wait_and_null_is_the_formula(pets):
    status, waits = run(pets, [{"state": "preparing", "nextCheckSeconds": 40},   # above maxWaitSeconds: kept
                               {"state": "preparing", "nextCheckSeconds": None},  # the formula: 3 s
                               {"state": "preparing"},                            # absent: the formula
                               {"state": "preparing", "nextCheckSeconds": 1},     # below initialWaitSeconds: 3 s
                               {"state": "preparing", "nextCheckSeconds": "9"},   # not a number: the formula
                               {"state": "ready"}])
    assert status == "SUCCEEDED"
    assert waits == [40, 3, 3, 3, 3]


def test_a_suggested_wait_never_runs_past_the_deadline(pets):
    status, waits = run(pets, [{"state": "preparing", "nextCheckSeconds": 30},
                               {"state": "preparing", "nextCheckSeconds": 500}])
    assert waits[0] == 30
    assert 65 <= waits[1] <= 70, "the deadline (100 s from the start) bounds the suggested 500 s"
    assert (status, len(waits)) == ("FAILED", 2)  # the deadline passed while the pet was still preparing
