"""Continue-as-new is budgeted in history events: a loop over two Tasks runs past the iteration where a budget of
2,000 iterations per execution reached AWS's 25,000-event limit (about iteration 1,560), and no execution's history
comes near it."""
from pathlib import Path


from arazzo_sfn import events
from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower
from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
FUNCTIONS = FIXTURES / "functions"
ITERATIONS = 1_600  # past about 1,560: where 2,000 iterations x 16 events reached 25,000


def test_a_two_step_loop_continues_before_any_history_nears_the_limit(pets):
    document, problems = validate(FIXTURES / "feed.arazzo.yml")
    assert problems == []
    definition = lower(document, "feed", "feed.arazzo.yml").to_dict()
    pets.SCRIPT["getPet"] = [{"body": {"state": "preparing"}}] * ITERATIONS + [{"body": {"state": "ready"}}]
    pets.SCRIPT["placeOrder"] = [{"body": {}}]
    spec = FunctionSpec(FUNCTIONS, "compiler_fixture_handlers.pets.handler")
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        machine = engine.create_state_machine(definition, functions={"GetPetFunctionArn": spec,
                                                                     "PlaceOrderFunctionArn": spec})
        result = engine.run(machine, {}, name="hungry", timeout=600)
        executions = engine.sfn.list_executions(stateMachineArn=machine)["executions"]
        lengths = [len(engine.history(e["executionArn"])) for e in executions]
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"state": "ready"}
    assert [c["operationId"] for c in pets.CALLS].count("getPet") == ITERATIONS + 1
    assert len(executions) >= 2
    # Each execution's own history, counted: well below the limit, with the room kept for retries.
    assert max(lengths) < events.HISTORY_LIMIT - events.RESERVE, lengths
    assert sum(lengths) > 16 * ITERATIONS        # the loop really ran: about 16 events per two-Task iteration


def test_a_continue_as_new_after_that_does_not_fit_is_a_problem(tmp_path):
    (tmp_path / "pets.openapi.yml").write_text((FIXTURES / "pets.openapi.yml").read_text())
    path = tmp_path / "feed.arazzo.yml"
    path.write_text((FIXTURES / "feed.arazzo.yml").read_text().replace(
        "maxIterations: 5000}", "maxIterations: 5000, continueAsNewAfter: 2000}"))
    _, problems = validate(path)
    assert [(p.line, p.step_id) for p in problems] == [(20, "feed")]
    assert "continueAsNewAfter 2000: an iteration of this loop can write" in problems[0].message
    assert "history events, so at most" in problems[0].message
