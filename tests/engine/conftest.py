from pathlib import Path

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import FunctionSpec, LocalEngine

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FUNCTIONS = FIXTURES / "functions"
POLL_MACHINE = FIXTURES / "poll-machine.asl.json"


@pytest.fixture
def engine():
    with LocalEngine(clock=VirtualClock(start=1_800_000_000.0)) as running:
        yield running


@pytest.fixture
def poll_machine(engine):
    """The fixture poll machine, created directly from its definition (no template)."""
    return engine.create_state_machine(
        POLL_MACHINE,
        substitutions={"PollSeconds": 30, "MachineLabel": "-", "ModeLabel": "-", "JoinedLabel": "-"},
        functions={
            "CreateJobFunctionArn": FunctionSpec(FIXTURE_FUNCTIONS, "engine_fixture_handlers.jobs.create",
                                                 environment={"FIXTURE_MODE": "direct", "FIXTURE_SECRET_ARN": "s3cr3t-arn"}),
            "GetJobFunctionArn": FunctionSpec(FIXTURE_FUNCTIONS, "engine_fixture_handlers.jobs.status"),
        },
    )
