"""`arazzo-sfn run`: corpus workflows of three providers, each against a small API behaving like the provider's
for the operations it calls, and the product's seed workflow against the Airbyte emulator (the installed command,
in its own process). Every run is the real compiled definition in the local engine, with the generic operation
handler behind every step, over real HTTP."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from api_servers import ApiServer, Request, not_found
from arazzo_sfn.cli import main
from local_tools.emulator import AirbyteEmulator, JobScript

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"
TOKEN = "SENTINEL-temporal-key-9c2e71"
SEED_SETTINGS = ["--set", "CompletionEventBusName=default", "--set", "MetricsNamespace=AirbyteSyncLocal"]


def run(capsys, *arguments: str) -> tuple[int, list[str], dict]:
    """The command in this process: exit status, the step lines, and the last line's JSON."""
    status = main(["run", *arguments, "--fast"])
    lines = capsys.readouterr().out.splitlines()
    return status, lines[:-1], json.loads(lines[-1])


# --------------------------------------------------------------------------------------- Temporal Cloud ops API


def temporal_api(states: list[dict]):
    """GET /api/v1/async-operations/{id}: the operation's next state on each read; 401 without the API key."""
    answers = iter(states)

    def route(request: Request):
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"code": 16, "message": "Request unauthenticated"}
        if request.method == "GET" and request.segments[:3] == ["api", "v1", "async-operations"]:
            return 200, {"id": request.segments[3], "operationType": "UpdateNamespace", **next(answers)}
        return not_found(request)

    return ApiServer(route)


def test_temporal_polls_an_async_operation_until_it_leaves_pending(capsys):
    done = {"state": "fulfilled", "finishedTime": "2026-12-01T10:00:05Z"}
    with temporal_api([{"state": "pending"}, {"state": "pending"}, done]) as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "temporal/arazzo/track-async-operation.yml"),
            "--inputs", json.dumps({"bearerToken": TOKEN, "asyncOperationId": "op/1 2"}),
            "--server", f"cloudOpsApi={api.base_url}",
        )
    assert status == 0, result
    assert result == {"status": "SUCCEEDED", "output": {
        "state": "fulfilled", "operationType": "UpdateNamespace", "failureReason": None,
        "finishedTime": "2026-12-01T10:00:05Z"}}
    assert steps == ["step pollOperation  getAsyncOperation  GET /api/v1/async-operations/{asyncOperationId}"
                     "  -> HTTP 200"] * 3
    # The id is one path segment, encoded; the key from the inputs is the Authorization header and nothing shows it.
    assert [r.raw_path for r in api.requests] == ["/api/v1/async-operations/op%2F1%202"] * 3
    assert TOKEN not in "\n".join(steps) + json.dumps(result)


def test_temporal_with_a_wrong_key_fails_with_the_named_auth_error(capsys):
    with temporal_api([]) as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "temporal/arazzo/track-async-operation.yml"),
            "--inputs", json.dumps({"bearerToken": "wrong-key-123", "asyncOperationId": "op-1"}),
            "--server", f"cloudOpsApi={api.base_url}",
        )
    assert status == 1
    assert result["status"] == "FAILED" and result["error"] == "Http.AuthError"
    assert steps and all(line.endswith("-> error Http.AuthError") for line in steps)
    assert "wrong-key-123" not in json.dumps(result)


# ------------------------------------------------------------------------------------ AWS Entity Resolution API


def entity_resolution_api(job_statuses: list[str]):
    """A matching workflow `crm-dedupe`; StartMatchingJob makes job `j-1`, whose status advances on each read."""
    statuses = iter(job_statuses)
    arn = "arn:aws:entityresolution:us-east-1:123456789012:matchingworkflow/crm-dedupe"

    def route(request: Request):
        parts = request.segments
        if parts[:2] != ["matchingworkflows", "crm-dedupe"]:
            return 404, {"message": "Resource not found"}, {"x-amzn-ErrorType": "ResourceNotFoundException"}
        if request.method == "GET" and len(parts) == 2:
            return 200, {"workflowName": "crm-dedupe", "workflowArn": arn}
        if request.method == "POST" and parts[2:] == ["jobs"]:
            return 200, {"jobId": "j-1"}
        if request.method == "GET" and parts[2:] == ["jobs", "j-1"]:
            status = next(statuses)
            body = {"jobId": "j-1", "status": status, "startTime": 1764583200}
            if status == "SUCCEEDED":
                body.update(endTime=1764583260, metrics={"inputRecords": 120, "matchIDs": 37})
            if status == "FAILED":
                body.update(endTime=1764583230, errorDetails={"errorMessage": "input table is missing"})
            return 200, body
        return not_found(request)

    return ApiServer(route)


def test_entity_resolution_starts_a_job_and_polls_it_to_success(capsys):
    with entity_resolution_api(["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"]) as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "entity-resolution/arazzo/start-and-await-job.yml"),
            "--inputs", '{"workflowName": "crm-dedupe"}', "--server", f"entityResolutionApi={api.base_url}",
        )
    assert status == 0, result
    assert result["output"] == {"jobId": "j-1", "finalStatus": "SUCCEEDED",
                                "metrics": {"inputRecords": 120, "matchIDs": 37}}
    assert [line.split("  ")[0] for line in steps] == ["step confirmWorkflow", "step startJob"] + ["step pollJob"] * 4
    assert [(r.method, r.raw_path) for r in api.requests][:2] == [
        ("GET", "/matchingworkflows/crm-dedupe"), ("POST", "/matchingworkflows/crm-dedupe/jobs")]


def test_entity_resolution_records_a_failed_job(capsys):
    with entity_resolution_api(["RUNNING", "FAILED", "FAILED"]) as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "entity-resolution/arazzo/start-and-await-job.yml"),
            "--inputs", '{"workflowName": "crm-dedupe"}', "--server", f"entityResolutionApi={api.base_url}",
        )
    assert status == 0, result  # the workflow ends after its captureFailure step
    assert result["output"]["finalStatus"] == "FAILED"
    assert steps[-1].startswith("step captureFailure  GetMatchingJob")
    assert len(api.requests) == 5


def test_entity_resolution_for_an_unknown_workflow_fails_its_success_criteria(capsys):
    with entity_resolution_api([]) as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "entity-resolution/arazzo/start-and-await-job.yml"),
            "--inputs", '{"workflowName": "no-such"}', "--server", f"entityResolutionApi={api.base_url}",
        )
    assert status == 1 and result["status"] == "FAILED"
    assert steps == ["step confirmWorkflow  GetMatchingWorkflow  GET /matchingworkflows/{workflowName}  -> HTTP 404"]


# --------------------------------------------------------------------------------- the OAI pet-coupons example


def test_petstore_buys_an_available_pet_and_leaves_out_the_inputs_it_was_not_given(capsys):
    # buy-available-pet calls place-order without its optional quantity and coupon_code: the order leaves them out.
    def route(request: Request):
        if request.method == "GET" and request.raw_path == "/pet/findByStatus":
            return 200, [{"id": 12, "name": "Rex", "status": "available"}]
        if request.method == "POST" and request.raw_path == "/store/order":
            return 200, {"id": 9002, **request.json()}
        return not_found(request)

    with ApiServer(route, base_path="/api/v3") as api:
        status, _, result = run(
            capsys, str(FIXTURES / "petstore/arazzo/pet-coupons.arazzo.yaml"), "--workflow", "buy-available-pet",
            "--inputs", "{}", "--server", f"pet-coupons={api.base_url}",
        )
    assert status == 0, result
    assert result == {"status": "SUCCEEDED", "output": {"buy_pet_order_id": 9002}}
    find, order = api.requests
    assert sorted(find.query) == [("page", "1"), ("pageSize", "10"), ("status", "available")]
    assert order.json() == {"petId": 12, "status": "placed", "complete": False}


def test_petstore_places_an_order_with_the_coupon(capsys):
    # place-order on its own, with every input.
    def route(request: Request):
        if request.method == "POST" and request.raw_path == "/store/order":
            order = request.json()
            if not isinstance(order.get("petId"), int) or order.get("status") not in ("placed", "approved"):
                return 400, {"code": 400, "message": "Invalid input"}
            return 200, {"id": 9001, **order, "complete": False}
        return not_found(request)

    with ApiServer(route, base_path="/api/v3") as api:
        status, steps, result = run(
            capsys, str(FIXTURES / "petstore/arazzo/pet-coupons.arazzo.yaml"), "--workflow", "place-order",
            "--inputs", json.dumps({"pet_id": 12, "quantity": 2, "coupon_code": "SPRING-10"}),
            "--server", f"pet-coupons={api.base_url}",
        )
    assert status == 0, result
    assert result == {"status": "SUCCEEDED", "output": {"workflow_order_id": 9001}}
    assert steps == ["step place-order  placeOrder  POST /store/order  -> HTTP 200"]
    [order] = api.requests
    assert order.headers["content-type"] == "application/json"
    assert order.json() == {"petId": 12, "quantity": 2, "couponCode": "SPRING-10", "status": "placed",
                            "complete": False}


def test_only_the_workflow_run_must_be_valid(capsys):
    # apply-coupon calls operations this cut-down description leaves out: running place-order still works, and
    # running apply-coupon names what is wrong.
    assert main(["run", str(FIXTURES / "petstore/arazzo/pet-coupons.arazzo.yaml"), "--workflow", "apply-coupon",
                 "--server", "pet-coupons=http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "findPetsByTags" in err


# ------------------------------------------------------------------------------------------------ usage errors


def test_every_source_the_workflow_calls_needs_a_server_and_names_are_checked(capsys):
    document = str(FIXTURES / "entity-resolution/arazzo/start-and-await-job.yml")
    assert main(["run", document, "--inputs", "{}"]) == 2
    assert "--server entityResolutionApi=URL (its OpenAPI servers list http://entityresolution" in (
        capsys.readouterr().err)
    assert main(["run", document, "--server", "entityApi=http://127.0.0.1:9"]) == 2
    assert "--server entityApi: no step of the workflow calls an operation of that source" in capsys.readouterr().err
    assert main(["run", document, "--server", "entityResolutionApi=http://api.example.com"]) == 2
    assert "must use https" in capsys.readouterr().err


def test_placeholders_without_a_value_are_named(capsys):
    assert main(["run", str(SEED), "--server", "airbyteApi=http://127.0.0.1:9", "--inputs", "{}"]) == 2
    err = capsys.readouterr().err
    assert "CompletionEventBusName, MetricsNamespace (give each with --set NAME=VALUE)" in err
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------- the seed, against the emulator


def test_the_seed_polls_the_emulator_until_the_job_ends():
    connection_id = str(uuid.uuid4())
    token = "SENTINEL-airbyte-token-5d0c3b"
    script = JobScript.polls("pending", ("running", 4), "succeeded", rows=1200, bytes=4096)
    with AirbyteEmulator(base_path="/api/public/v1", auth="bearer", token=token) as emu:
        emu.add_connection(connection_id, script=script)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRBYTE_")}
        completed = subprocess.run(
            [str(Path(sys.executable).parent / "arazzo-sfn"), "run", str(SEED),
             "--inputs", json.dumps({"connectionId": connection_id}),
             "--server", f"airbyteApi={emu.base_url}", *SEED_SETTINGS, "--fast"],
            env={**env, "AIRBYTE_TOKEN": token}, cwd="/", capture_output=True, text=True, timeout=300,
        )
        polls = emu.count("getJob")
    assert completed.returncode == 0, completed.stderr
    *steps, last = completed.stdout.splitlines()
    result = json.loads(last)
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["finalStatus"] == "succeeded" and result["output"]["rowsSynced"] == 1200
    assert steps[0] == "step triggerJob  createJob  POST /jobs  -> HTTP 200"
    assert steps[1:] == ["step pollJob  getJob  GET /jobs/{jobId}  -> HTTP 200"] * polls and polls == 6
    assert token not in completed.stdout + completed.stderr
