"""Values AWS would reject are problems with the document's line, and values that come at run time are clamped:
Retry fields, wait bounds, state-name length, loop deadlines below the Standard execution's year."""
from pathlib import Path

import pytest

from arazzo_sfn.check import validate
from arazzo_sfn.lower import lower

from reference_jsonata import evaluate as evaluate_jsonata

FIXTURES = Path(__file__).parent / "fixtures"
WATCH = FIXTURES / "watch.arazzo.yml"
ROOT = Path(__file__).resolve().parents[2]


def problems_of(tmp_path: Path, old: str, new: str, source: Path = WATCH,
                more: tuple[tuple[str, str], ...] = ()) -> list[tuple[int | None, str]]:
    (tmp_path / "pets.openapi.yml").write_text((FIXTURES / "pets.openapi.yml").read_text())
    text = source.read_text()
    for before, after in ((old, new),) + more:
        assert before in text, before
        text = text.replace(before, after)
    path = tmp_path / source.name
    path.write_text(text)
    _, problems = validate(path)
    return [(p.line, p.message) for p in problems]


@pytest.mark.parametrize("field, value, message", [
    ("intervalSeconds", "0", "intervalSeconds must be an integer from 1 to 99999999, found 0"),
    ("intervalSeconds", "1.5", "intervalSeconds must be an integer from 1 to 99999999, found 1.5"),
    ("maxAttempts", "2.5", "maxAttempts must be an integer from 0 to 99999999, found 2.5"),
    ("backoffRate", "0.5", "backoffRate must be a number from 1 to 99999999, found 0.5"),
    ("maxDelaySeconds", "0", "maxDelaySeconds must be an integer from 1 to 99999999, found 0"),
])
def test_retry_fields_aws_rejects_are_problems(tmp_path, field, value, message):
    found = problems_of(tmp_path, "    x-timeoutSeconds: 20\n",
                        f"    x-timeoutSeconds: 20\n    x-retry:\n    - {{errors: [Pets.Busy], {field}: {value}}}\n")
    assert (45, message) in found, found


@pytest.mark.parametrize("old, new, line, message", [
    ("        initialWaitSeconds: 2\n", "        initialWaitSeconds: 100000000\n", 61,
     "initialWaitSeconds must be at most 99999999, found 100000000"),
    ("        maxWaitSeconds: 2\n", "        maxWaitSeconds: 100000000\n", 63,
     "maxWaitSeconds must be at most 99999999, found 100000000"),
    ("        maxWaitSeconds: 2\n", "        maxWaitSeconds: 2\n        deadlineSeconds: 31536000\n", 64,
     "deadlineSeconds must be at most 31449600 (a Standard execution runs at most a year; a day is left to cancel), "
     "found 31536000"),
])
def test_wait_and_deadline_bounds_are_problems(tmp_path, old, new, line, message):
    assert (line, message) in problems_of(tmp_path, old, new)


def test_a_deadline_that_leaves_a_day_is_accepted(tmp_path):
    assert problems_of(tmp_path, "        maxWaitSeconds: 2\n", "        maxWaitSeconds: 2\n        deadlineSeconds: 31449600\n") == []


def test_retry_after_literal_beyond_a_wait_is_a_problem(tmp_path):
    adopt = FIXTURES / "adopt.arazzo.yml"
    found = problems_of(tmp_path, "retryAfter: 3,", "retryAfter: 100000000,", adopt)
    assert (24, "retryAfter must be a number of seconds from 0 to 99999999") in found, found


def test_state_names_over_80_characters_are_problems_naming_the_step(tmp_path):
    long_id = "x" * 70
    found = problems_of(tmp_path, "  - stepId: create\n", f"  - stepId: {long_id}\n",
                        more=(("$steps.create.", f"$steps.{long_id}."),))
    assert found, "a 70-character step id makes state names of more than 80 characters"
    assert all(line == 29 and "Step Functions allows 80" in m for line, m in found), found
    assert any(f"'{long_id} failed: Pets.NameTaken' has 93 characters" in m for _, m in found), found


def evaluate(template: str, **variables) -> object:
    assert template.startswith("{% ") and template.endswith(" %}"), template
    return evaluate_jsonata(template[3:-3], **variables)


def test_a_huge_retry_after_header_is_clamped_to_a_valid_wait():
    document, _ = validate(FIXTURES / "adopt.arazzo.yml")
    wait = lower(document, "adopt", "adopt.arazzo.yml").to_dict()["States"]["busy wait"]["Seconds"]
    assert evaluate(wait, states={"input": {"headers": {"retry-after": "99999999999"}}}) == 99999999
    assert evaluate(wait, states={"input": {"headers": {"retry-after": "7"}}}) == 7


def test_waits_and_deadlines_from_inputs_are_clamped():
    """The product's loop reads its policy from the inputs: a wait never exceeds what a Wait state accepts, and a
    deadline never outlives the Standard execution's year."""
    document, _ = validate(ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml")
    states = lower(document, None, "product").to_dict()["States"]
    loop = {"startedAt": 0, "iteration": 1, "executionIterations": 1}
    inputs = {"pollInitialSeconds": 10**12, "pollElapsedFraction": 0, "pollMaxSeconds": 10**12,
              "deadlineSeconds": 10**12}
    wait = states["pollJob loop wait"]["Seconds"].replace("$millis()", "0").replace("$random()", "0")
    # The wait stops at the (clamped) deadline: a year less a day, within what a Wait state accepts.
    assert evaluate(wait, loop_pollJob=loop, inputs=inputs) == 31449600
    deadline = next(rule["Condition"] for rule in states["pollJob outcome"]["Choices"] if rule["Next"] ==
                    "pollJob loop deadline")
    year_less_a_day = 31449600 * 1000
    running = {"input": {"statusCode": 200, "body": {"status": "running"}}}
    for now, passed in ((year_less_a_day - 1, False), (year_less_a_day, True)):
        assert evaluate(deadline.replace("$millis()", str(now)), loop_pollJob=loop, inputs=inputs,
                        states=running) is passed
