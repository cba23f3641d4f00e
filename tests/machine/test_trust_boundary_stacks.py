"""Issue "Trust boundary", the tests that need a stack of their own (template parameters, an Airbyte that echoes
credentials, a parent execution that waits in real time)."""
import json
import uuid

import pytest

from local_tools.clock import RealClock
from local_tools.emulator import Fault, JobScript
from machine_harness import wait_for_history_event
from test_trust_boundary import DONE, forged_resume, jobs_of, sync_request


def test_a_forged_resume_naming_a_real_running_execution_as_its_parent_is_refused(fresh):
    # The parent waits in real time: on virtual time it would go on polling in the background.
    h = fresh(clock=RealClock())
    legit = h.connection(JobScript.polls("running"))
    parent = h.engine.start_execution(h.machine, {"connectionId": legit, "pollInitialSeconds": 3600})
    h.executions.append(parent)
    wait_for_history_event(h.engine, parent, lambda e: e["type"] == "WaitStateEntered")
    [victim] = jobs_of(h, legit)
    h.emu.forget_requests()

    result = h.run({"connectionId": legit, **forged_resume(victim.job_id, parent=parent)})

    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert "arazzoResume" in result.cause
    assert h.airbyte_calls() == 0 and victim.status == "running"
    h.engine.stop_execution(parent)
    h.engine.wait(parent)


def test_a_deployment_can_allow_resets_from_events_and_pin_its_connections(fresh):
    allowed = str(uuid.uuid4())
    h = fresh(parameters={"EventJobTypes": "sync,reset", "AllowedConnectionIds": allowed})
    h.emu.add_connection(allowed, script=DONE)
    [reset] = h.put_events(sync_request({"connectionId": allowed, "jobType": "reset"}))
    assert h.engine.wait(reset).status == "SUCCEEDED"

    other = h.connection(DONE)
    result = h.run({"connectionId": other})
    assert (result.status, result.error) == ("FAILED", "Arazzo.InvalidInput")
    assert "connectionId: not one of the deployment's AllowedConnectionIds" in result.cause
    assert jobs_of(h, other) == []


# --- credentials never leave ------------------------------------------------------------------------------------

@pytest.mark.parametrize("auth, secret", [
    ("client_credentials", None), ("bearer", {"token": "SENTINEL-SECRET-7f3a"}),
    ("basic", {"username": "u", "password": "SENTINEL-SECRET-7f3a"}),
], ids=["client-credentials", "bearer", "basic"])
def test_an_airbyte_that_echoes_credentials_leaks_none_of_them(fresh, auth, secret):
    h = fresh(auth=auth, secret=secret, echo_credentials=True)
    inactive = h.connection(DONE, active=False)  # 409 whose body echoes the Authorization header
    conflict = h.run({"connectionId": inactive})
    assert (conflict.status, conflict.error) == ("FAILED", "Airbyte.Conflict")
    assert "***" in conflict.cause_json["errorMessage"], "Airbyte's echo reached the message, scrubbed"

    connection = h.connection(DONE)
    h.emu.inject("getJob", Fault.status(500), times=2)  # error bodies with the echo, while polling
    result = h.run({"connectionId": connection})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    for event in result.events:
        if event["type"] == "TaskSucceeded" and event["taskSucceededEventDetails"]["resourceType"] == "lambda":
            headers = json.loads(event["taskSucceededEventDetails"]["output"])["Payload"]["headers"]
            assert set(headers) <= {"content-type", "retry-after", "x-airbyte-sync-attached",
                                    "x-airbyte-sync-recovered", "x-airbyte-sync-cancel-outcome"}, headers
    h.assert_no_sentinel()  # the history, outputs, causes, logs and deliveries (also checked at teardown)
