"""examples/pipeline-state-machine: a user's own state machine syncs a connection with the sync machine
(startExecution.sync:2) and runs its next step only when the sync succeeded, deployed beside the product."""
import json

import pytest

from local_tools.emulator import JobScript
from local_tools.sam import deploy_sam_template
from machine_harness import ROOT

EXAMPLE = ROOT / "examples" / "pipeline-state-machine" / "template.yaml"


@pytest.fixture
def pipeline(fresh):
    h = fresh()
    stack = deploy_sam_template(h.engine, EXAMPLE, parameters={"SyncStateMachineArn": h.machine},
                                stack_name="my-pipeline")
    return h, stack.outputs["PipelineStateMachineArn"]


def entered(result):
    return [e["stateEnteredEventDetails"]["name"] for e in result.events if "stateEnteredEventDetails" in e]


def test_the_next_step_runs_after_a_successful_sync(pipeline):
    h, machine = pipeline
    connection = h.connection(JobScript.polls("pending", "running", "succeeded", rows=5, bytes=50))
    result = h.engine.run(machine, {"connectionId": connection})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert entered(result) == ["Sync the connection", "Next step"]
    assert result.output["nextStep"] == "ran"
    assert result.output["sync"]["finalStatus"] == "succeeded" and result.output["sync"]["rowsSynced"] == 5
    [child] = [e for e in h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]]
    sync_input = json.loads(h.engine.sfn.describe_execution(executionArn=child["executionArn"])["input"])
    assert sync_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == result.execution_arn, "linked in the console"
    assert h.posts() == 1


def test_the_pipeline_stops_before_its_next_step_when_the_sync_fails(pipeline):
    h, machine = pipeline
    connection = h.connection(JobScript.polls("pending", "running", "failed"))
    result = h.engine.run(machine, {"connectionId": connection})

    assert (result.status, result.error) == ("FAILED", "PipelineStopped")
    assert "Next step" not in entered(result)
    assert "Airbyte.SyncFailed" in result.cause, "the sync's own error is in the pipeline's cause"
