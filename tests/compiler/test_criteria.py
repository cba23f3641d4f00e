"""Every criterion form the compiler accepts, compiled to JSONata and evaluated as AWS evaluates it (npm jsonata).

The generated expression runs with the same variables the state machine has at that point: the step's response as
`$states.input`, `$steps` and `$inputs`.
"""
import pytest

from arazzo_sfn import conditions as c
from arazzo_sfn import jsonata as js
from arazzo_sfn import translate as tr
from arazzo_sfn.expressions import parse_expression

from reference_jsonata import evaluate as evaluate_jsonata

RESPONSE = {
    "statusCode": 200,
    "headers": {"content-type": "application/json", "x-rate-remaining": "7"},
    "body": {"jobId": 7, "status": "Running", "data": [{"id": 1, "ok": True}, {"id": 2, "ok": False}],
             "products": [], "failureReason": None, "name": "Nightly Sync", "count": 3,
             "nested": {"state": "HEALTHY"}},
}
STEPS = {"login": {"outputs": {"token": "abc", "eligible": True}}}
INPUTS = {"connectionId": "C-1", "limit": 5}


def evaluate(condition: str, kind: str = "simple", context: str | None = None, response=RESPONSE) -> bool:
    scope = tr.Scope(response=js.Var("states.input"))
    context_js = tr.runtime(parse_expression(context), scope) if context else None
    expression = js.render(tr.condition(c.parse_criterion(condition, kind), scope, context_js))
    result = evaluate_jsonata(expression, states={"input": response}, steps=STEPS, inputs=INPUTS)
    assert isinstance(result, bool), f"{condition!r} gave {result!r}, not a boolean"
    return result


@pytest.mark.parametrize("condition, expected", [
    ("$statusCode == 200", True),
    ("$statusCode != 200", False),
    ("$statusCode == 200 || $statusCode == 201", True),
    ("$statusCode >= 200 && $statusCode < 300", True),
    ("$statusCode > 200", False),
    ("$response.body#/status == 'running'", True),          # case-insensitive
    ("$response.body#/status == 'RUNNING'", True),
    ("$response.body#/status != 'running'", False),
    ("$response.body#/jobId == 7", True),
    ("$response.body#/data/1/id == 2", True),
    ("$response.body#/nested/state == \"healthy\"", True),
    ("$response.body#/failureReason == null", True),
    ("$response.body#/failureReason != null", False),
    ("$response.body#/missing == null", True),                # absent compares as null
    ("$response.body#/missing != null", False),
    ("$response.body#/missing != 'x'", True),
    ("$response.body#/missing == 'x'", False),
    ("$response.header.X-Rate-Remaining == '7'", True),       # header names are case-insensitive
    ("$steps.login.outputs.eligible == true", True),
    ("$steps.login.outputs.eligible == false", False),
    ("$steps.login.outputs.token == 'ABC'", True),
    ("$steps.login.token == 'abc'", True),                 # `.outputs` left out, as some documents do
    ("$inputs.limit < 10", True),
    ("$inputs.connectionId == 'c-1'", True),
    ("!($statusCode == 404)", True),
    ("!$steps.login.outputs.eligible", False),
    ("($statusCode == 404 || $statusCode == 200) && $inputs.limit == 5", True),
    ("$response.body#/name < 'o'", True),                     # string ordering, case-insensitive
    ("$response.body#/count > 'a'", False),                   # mixed types never compare
])
def test_simple_conditions(condition, expected):
    assert evaluate(condition) is expected


@pytest.mark.parametrize("condition, expected", [
    # The comparison dialect of the seed and the public catalog.
    ("$.status == 'running' || $.status == 'pending' || $.status == 'incomplete'", True),
    ("$.status == 'succeeded' || $.status == 'failed' || $.status == 'cancelled'", False),
    ("$.status == \"RUNNING\"", True),
    ("$.data.length > 0", True),
    ("$.data.length == 2", True),
    ("$.products.length == 0", True),
    ("$.name.length == 12", True),
    ("$.failureReason != null", False),
    ("$.nested.state == 'healthy'", True),
    ("$.data[0].ok == true", True),
    ("$.data[1].ok == true", False),
    ("!($.status == 'failed')", True),
    # RFC 9535 queries: pass when they select at least one node.
    ("$[?@.status == 'running']", True),
    ("$[?@.status == 'failed']", False),
    ("$[?count(@.data) > 0]", True),
    ("$[?count(@.products) > 0]", False),
    ("$[?@.failureReason != null]", False),
    ("$.data[?@.ok == true]", True),
    ("$.data[?@.id > 5]", False),
    ("$.data[?@.ok == true && @.id == 1]", True),
    ("$.nested", True),
    ("$.absent", False),
    ("$[?length(@.name) == 12]", True),
    ("$[?match(@.name, 'Nightly.*')]", True),
    ("$[?match(@.name, 'Nightly')]", False),                  # match() is whole-string
    ("$[?search(@.name, 'Sync')]", True),
    ("$..state", True),
])
def test_jsonpath_conditions(condition, expected):
    assert evaluate(condition, "jsonpath", "$response.body") is expected


def test_jsonpath_filter_on_an_array_context():
    assert evaluate("$[?@.ok == true]", "jsonpath", "$response.body#/data") is True
    assert evaluate("$[?@.id == 3]", "jsonpath", "$response.body#/data") is False


@pytest.mark.parametrize("pattern, context, expected", [
    ("^Nightly", "$response.body#/name", True),
    ("^nightly", "$response.body#/name", False),   # a regex says its own case rules
    ("Sync$", "$response.body#/name", True),
    ("^\\d+$", "$response.header.x-rate-remaining", True),
    ("^a/b$", "$response.body#/name", False),      # a slash in the pattern is escaped in JSONata
    ("x", "$response.body#/jobId", False),         # a number is not a string
])
def test_regex_criteria(pattern, context, expected):
    assert evaluate(pattern, "regex", context) is expected


def test_seed_loop_condition_on_unknown_and_queued_statuses():
    condition = "$.status == 'running' || $.status == 'pending' || $.status == 'incomplete'"
    for status, expected in [("queued", False), ("mysterious", False), ("PENDING", True), ("incomplete", True)]:
        response = {**RESPONSE, "body": {"status": status}}
        assert evaluate(condition, "jsonpath", "$response.body", response) is expected, status


@pytest.mark.parametrize("condition, kind, message", [
    ("$statusCode ==", "simple", "expected a value"),
    ("$.status == 'x'", "simple", "jsonpath root"),
    ("$statusCode === 200", "simple", "unexpected"),
    ("@.x == 1", "jsonpath", "only valid inside a filter"),
    ("$[1:2]", "jsonpath", "slices"),
    ("$[?foo(@.x)]", "jsonpath", "unsupported function"),
    ("(unclosed", "regex", "invalid regular expression"),
    ("$steps.login == 1", "simple", "outputs"),
    ("//x", "xpath", "not supported"),
])
def test_unsupported_or_broken_conditions_are_named(condition, kind, message):
    with pytest.raises((c.ConditionError, ValueError)) as error:
        c.parse_criterion(condition, kind)
    assert message in str(error.value)
