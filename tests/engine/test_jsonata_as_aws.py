"""JSONata in the local engine evaluates as AWS Step Functions does (npm jsonata 2.0.6, JavaScript semantics, and
Step Functions' own functions), where a Python JSONata (jsonata-python, the engine's evaluator before) differs.

The expected values are what the JavaScript reference implementation gives (and, for the Step Functions functions,
what executions recorded on AWS gave: LocalStack's AWS-validated snapshots of $partition, $range and $parse).
"""
import re
import uuid

import pytest

from arazzo_sfn import inputs as input_rules
from arazzo_sfn import jsonata as js
from local_tools.clock import VirtualClock
from local_tools.engine import LocalEngine
from local_tools.engine.jsonata_bridge import JsonataBridge, JsonataError

UUID_CHECK = re.sub(r"^\(\$type\(\$v\) = 'string' and \$not\(\$contains\(\$v, (/.*/)\)\)\).*$", r"\1",
                    js.render(input_rules.checks({"format": "uuid"}, js.Var("v"))[0]))
A_UUID = "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"


@pytest.fixture(scope="module")
def bridge():
    with JsonataBridge() as running:
        yield running


# (id, expression, bindings, what AWS answers)
DIFFERENCES = [
    # JavaScript's `$` (no m flag) matches only at the very end; Python's also before a final "\n".
    ("uuid followed by a newline fails a ^...$ check", f"$contains($v, {UUID_CHECK})", {"v": A_UUID + "\n"}, False),
    ("a plain uuid passes it", f"$contains($v, {UUID_CHECK})", {"v": A_UUID}, True),
    # JavaScript's \d is [0-9]; Python's matches any Unicode decimal digit.
    ("\\d is ASCII digits only", "$contains($v, /^\\d+$/)", {"v": "\u0661\u0662\u0663"}, False),
    # Named groups are JavaScript syntax (Python spells them (?P<name>...)).
    ("named groups", "$match('2024-06', /(?<year>\\d{4})-(?<month>\\d{2})/).groups", {}, ["2024", "06"]),
    # Without the u flag (JSONata sets only i and m) \p is an identity escape: /\p{L}/ matches the text "p{L}".
    ("\\p{L} is the literal p{L}", "[$contains('\u00e9', /\\p{L}/), $contains('p{L}', /\\p{L}/)]", {}, [False, True]),
    # $string keeps non-ASCII characters as they are and prints numbers with 15 significant digits.
    ("$string keeps non-ASCII", "$string({'street': $v})", {"v": "Stra\u00dfe"}, '{"street":"Stra\u00dfe"}'),
    ("$string rounds to 15 digits", "[$string({'a': 0.1 + 0.2}), $string([1 / 3]), $string(123456789012345678)]",
     {}, ['{"a":0.3}', "[0.333333333333333]", "123456789012346000"]),
    # $lowercase is JavaScript's toLowerCase (not a case fold): ß stays ß, a final sigma is ς.
    ("$lowercase is toLowerCase", "[$lowercase('Stra\u00dfe'), $lowercase('\u039f\u0394\u039f\u03a3')]", {},
     ["stra\u00dfe", "\u03bf\u03b4\u03bf\u03c2"]),
    # $parse reads JSON (Step Functions' replacement for $eval), it does not evaluate JSONata.
    ("$parse reads JSON", "$parse($v).a", {"v": '{"a": [1, "two"]}'}, [1, "two"]),
]


@pytest.mark.parametrize("expression, bindings, expected", [case[1:] for case in DIFFERENCES],
                         ids=[case[0] for case in DIFFERENCES])
def test_evaluates_as_the_javascript_reference(bridge, expression, bindings, expected):
    assert bridge.evaluate(expression, bindings) == expected


@pytest.mark.parametrize("expression", ["$parse('1 + 1')", "$eval('1 + 1')"])
def test_parse_is_not_eval_and_eval_is_unavailable(bridge, expression):
    with pytest.raises(JsonataError):
        bridge.evaluate(expression)


# --- Step Functions' functions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("array, size, expected", [
    ([0], 1, [[0]]), ([0], 5, [[0]]), ([0, 1], 2, [[0, 1]]), ([0, 1, 2], 2, [[0, 1], [2]]),
    ([0, 1, 2, 3], 1, [[0], [1], [2], [3]]), ([0, 1, 2, 3], 3, [[0, 1, 2], [3]]),
])
def test_partition_as_recorded_on_aws(bridge, array, size, expected):
    assert bridge.evaluate("$partition($a, $n)", {"a": array, "n": size}) == expected


@pytest.mark.parametrize("start, end, step, expected", [
    (0, 9, 3, [0, 3, 6, 9]), (0, 10, 3, [0, 3, 6, 9]), (1, 9, 9, 1), (1, 9, 2, [1, 3, 5, 7, 9]),
    (10, 0, -5, [10, 5, 0]),
])
def test_range_as_recorded_on_aws(bridge, start, end, step, expected):
    assert bridge.evaluate(f"$range({start}, {end}, {step})") == expected


@pytest.mark.parametrize("algorithm, digest", [
    ("MD5", "8b1a9953c4611296a827abf8c47804d7"),
    ("SHA-1", "f7ff9e8b7bb2e09b70935a5d785e0cc5d9d0abf0"),
    ("SHA-256", "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969"),
    ("SHA-384", "3519fe5ad2c596efe3e276a6f351b8fc0b03db861782490d45f7598ebd0ab5fd5520ed102f38c4a5ec834e98668035fc"),
    ("SHA-512", "3615f80c9d293ed7402687f94b22d58e529b8cc7916f8fac7fddf7fbd5af4cf777d3d795a7a00a16bf7e7f3fb9561ee9"
                "baae480da9fe7a18769e71886b03f315"),
])
def test_hash(bridge, algorithm, digest):
    assert bridge.evaluate("$hash('Hello', $algorithm)", {"algorithm": algorithm}) == digest


def test_hash_names_an_unsupported_algorithm(bridge):
    with pytest.raises(JsonataError, match="SHA-256"):
        bridge.evaluate("$hash('Hello', 'sha256')")


def test_random_with_and_without_a_seed(bridge):
    seeded = [bridge.evaluate("$random(42)") for _ in range(2)]
    assert seeded[0] == seeded[1] and 0 <= seeded[0] < 1, "the same seed gives the same number"
    assert bridge.evaluate("$random(43)") != seeded[0]
    unseeded = {bridge.evaluate("$random()") for _ in range(5)}
    assert len(unseeded) == 5 and all(0 <= value < 1 for value in unseeded)


def test_uuid_is_a_fresh_version_4_uuid(bridge):
    first, second = bridge.evaluate("$uuid()"), bridge.evaluate("$uuid()")
    assert uuid.UUID(first).version == 4 and first != second


@pytest.mark.parametrize("text, expected", [
    ("-0", 0), ("1.1", 1.1), ("true", True), ('"HelloWorld"', "HelloWorld"), ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
])
def test_parse_as_recorded_on_aws(bridge, text, expected):
    assert bridge.evaluate("$parse($v)", {"v": text}) == expected


# --- in an execution: the input check the compiler emits ---------------------------------------------------------

INPUT_SCHEMA = {"type": "object", "required": ["connectionId"],
                "properties": {"connectionId": {"type": "string", "format": "uuid"}}}


def _input_check_machine() -> dict:
    """The compiler's input check (arazzo_sfn.compiler add_start), in front of a stand-in for the first step."""
    errors = "[" + ", ".join(js.render(check) for check in input_rules.checks(INPUT_SCHEMA)) + "]"
    return {"QueryLanguage": "JSONata", "StartAt": "Read inputs", "States": {
        "Read inputs": {"Type": "Pass", "Assign": {"inputs": "{% $states.input %}"}, "Next": "Check inputs"},
        "Check inputs": {"Type": "Choice", "Default": "createJob", "Choices": [
            {"Condition": "{% $count(" + errors + ") > 0 %}", "Assign": {"inputErrors": "{% " + errors + " %}"},
             "Next": "Invalid input"}]},
        "Invalid input": {"Type": "Fail", "Error": "Arazzo.InvalidInput", "Cause": "{% $join($inputErrors, '; ') %}"},
        "createJob": {"Type": "Pass", "End": True},
    }}


@pytest.mark.parametrize("connection_id, status", [(A_UUID + "\n", "FAILED"), (A_UUID, "SUCCEEDED")],
                         ids=["uuid and newline", "uuid"])
def test_input_check_refuses_a_uuid_followed_by_a_newline(connection_id, status):
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as engine:
        result = engine.run(engine.create_state_machine(_input_check_machine()), {"connectionId": connection_id})
    entered = [event["stateEnteredEventDetails"]["name"] for event in result.events
               if "stateEnteredEventDetails" in event]
    assert result.status == status, (result.error, result.cause, entered)
    if status == "FAILED":
        assert result.error == "Arazzo.InvalidInput" and result.cause == "connectionId: must be a uuid"
        assert "createJob" not in entered
    else:
        assert entered[-1] == "createJob"
