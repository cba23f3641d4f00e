"""Load: many executions at once in one local engine, against one emulator (short syncs, fixed 10 s polling)."""

from __future__ import annotations

import time
import uuid
from typing import Any


def measure(executions: int = 100, sync_seconds: int = 60) -> dict[str, Any]:
    from local_tools import product
    from local_tools.clock import VirtualClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    clock = VirtualClock()
    with AirbyteEmulator(auth="client_credentials", client_id="cid", client_secret="csecret", clock=clock) as emu:
        with product.engine(clock) as engine:
            stack = product.deploy(engine, emu.base_url, {"client_id": "cid", "client_secret": "csecret"})
            machine = stack.outputs[product.STATE_MACHINE_OUTPUT]
            connections = [str(uuid.uuid4()) for _ in range(executions)]
            for connection in connections:
                emu.add_connection(connection, script=JobScript.timed(sync_seconds, final="succeeded", rows=1, bytes=1))
            started = time.perf_counter()
            arns = [
                engine.start_execution(
                    machine,
                    {
                        "connectionId": connection,
                        "pollInitialSeconds": 10,
                        "pollElapsedFraction": 0,
                        "pollMaxSeconds": 10,
                    },
                    name=f"load-{index}",
                )
                for index, connection in enumerate(connections)
            ]
            results = [engine.wait(arn, timeout=600) for arn in arns]
            wall = time.perf_counter() - started
            statuses: dict[str, int] = {}
            for result in results:
                statuses[result.status] = statuses.get(result.status, 0) + 1
            job_ids = {result.output.get("jobId") for result in results if isinstance(result.output, dict)}
            jobs_by_connection = {job.connection_id for job in emu.jobs.values()}
            return {
                "executions": executions,
                "sync_seconds": sync_seconds,
                "wall_seconds": round(wall, 2),
                "statuses": statuses,
                "distinct_job_ids": len(job_ids),
                "create_job_posts": emu.count("createJob"),
                "get_job_calls": emu.count("getJob"),
                "connections_with_a_job": len(jobs_by_connection),
                "ok": (
                    statuses == {"SUCCEEDED": executions}
                    and len(job_ids) == executions
                    and emu.count("createJob") == executions
                    and len(jobs_by_connection) == executions
                ),
            }
