"""EventBridge pattern matching and target input (the local engine's own routing)."""
import json

import pytest

from local_tools.engine.event_routing import matches, target_input

EVENT = {
    "source": "aws.states", "detail-type": "Step Functions Execution Status Change", "account": "123456789012",
    "detail": {"status": "ABORTED", "name": "run-1", "startDate": 100, "tags": ["a", "b"], "error": None},
}


@pytest.mark.parametrize("pattern, expected", [
    ({"source": ["aws.states"]}, True),
    ({"source": ["aws.other", "aws.states"]}, True),
    ({"source": ["aws.other"]}, False),
    ({"detail": {"status": ["ABORTED", "TIMED_OUT"]}}, True),
    ({"detail": {"status": ["SUCCEEDED"]}}, False),
    ({"detail": {"name": [{"prefix": "run-"}]}}, True),
    ({"detail": {"name": [{"suffix": "-2"}]}}, False),
    ({"detail": {"name": [{"equals-ignore-case": "RUN-1"}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"name": [{"exists": True}]}}, True),
    ({"detail": {"missing": [{"exists": True}]}}, False),
    ({"detail": {"status": [{"anything-but": ["SUCCEEDED"]}]}}, True),
    ({"detail": {"startDate": [{"numeric": [">", 10, "<=", 100]}]}}, True),
    ({"detail": {"startDate": [100.0]}}, True),
    ({"detail": {"startDate": ["100"]}}, False),
    ({"detail": {"tags": ["b"]}}, True),
    ({"detail": {"error": [None]}}, True),
    ({"detail": {"status": {"nested": ["x"]}}}, False),
])
def test_pattern_matching(pattern, expected):
    assert matches(pattern, EVENT) is expected


def test_target_input_variants():
    assert json.loads(target_input({"Arn": "x"}, EVENT)) == EVENT
    assert json.loads(target_input({"Arn": "x", "InputPath": "$.detail"}, EVENT)) == EVENT["detail"]
    assert target_input({"Arn": "x", "Input": '{"fixed": 1}'}, EVENT) == '{"fixed": 1}'
    transformed = target_input({"Arn": "x", "InputTransformer": {
        "InputPathsMap": {"status": "$.detail.status", "start": "$.detail.startDate"},
        "InputTemplate": '{"s": "<status>", "t": <start>, "quote": "<quoted>"}'}},
        {**EVENT, "detail": {**EVENT["detail"], "quoted": 'say "x"'}})
    assert json.loads(transformed) == {"s": "ABORTED", "t": 100, "quote": "<quoted>"}
