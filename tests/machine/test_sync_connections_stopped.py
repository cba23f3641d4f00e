"""Issue 14: one connection's sync stopped by hand while the many-sync runs (its own execution of the single-sync
machine): its job is cancelled by the template's cleanup, as for any stopped sync, the other syncs go on, and the
many-sync reports the stopped one and fails Airbyte.SomeSyncsFailed. Its own module: it needs a harness on real
time (one engine per process)."""
import json
import uuid

from local_tools.clock import RealClock
from local_tools.emulator import JobScript
from machine_harness import wait_for_history_event


def test_a_sync_stopped_by_hand_is_cleaned_up_and_reported_the_others_go_on(fresh):
    h = fresh(clock=RealClock())
    forever, quick = str(uuid.uuid4()), str(uuid.uuid4())
    h.emu.add_connection(forever, script=JobScript.polls("running"), name="forever")
    h.emu.add_connection(quick, script=JobScript.timed(3.0, rows=7, bytes=70), name="quick")
    machine = h.stack.outputs["SyncConnectionsStateMachineArn"]
    execution = h.engine.start_execution(machine, {"connectionIds": [forever, quick], "pollInitialSeconds": 5,
                                                   "pollMaxSeconds": 5})
    h.executions.append(execution)

    def child_of(connection_id):
        for listed in h.engine.sfn.list_executions(stateMachineArn=h.machine)["executions"]:
            described = h.engine.sfn.describe_execution(executionArn=listed["executionArn"])
            if f'"{connection_id}"' in described["input"]:
                return listed["executionArn"]
        return None

    wait_for_history_event(h.engine, execution, lambda e: child_of(forever) is not None)
    stopped = child_of(forever)
    wait_for_history_event(h.engine, stopped, lambda e: e["type"] == "WaitStateEntered")
    h.engine.stop_execution(stopped, error="Operator.Stopped", cause="stopped from the console")

    result = h.engine.wait(execution, timeout=60)
    assert (result.status, result.error) == ("FAILED", "Airbyte.SomeSyncsFailed")
    cause = json.loads(result.cause)
    # The stopped sync has no outputs (its Task failed; the error's name is Step Functions' for a child that did
    # not succeed), the other one succeeded.
    assert cause["byFinalStatus"] == {"null": 1, "succeeded": 1}
    assert cause["byOutcome"]["SUCCEEDED"] == 1 and sum(cause["byOutcome"].values()) == 2
    assert h.engine.sfn.describe_execution(executionArn=stopped)["status"] == "ABORTED"
    [cleanup] = h.wait_for_cleanups(1)
    job = next(job for job in h.emu.jobs.values() if job.connection_id == forever)
    assert cleanup["outcome"] == "cancelled" and h.emu.cancelled_job_ids == [job.job_id]
    assert next(j for j in h.emu.jobs.values() if j.connection_id == quick).status == "succeeded"
    assert h.posts() == 2
