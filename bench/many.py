"""Many connections: one sync-connections execution syncing N connections (default 50, maxConcurrency 5) in one
local engine against one emulator, on a virtual clock. Wall time, transitions (the many-sync's and every
single sync's), Step Functions cost, and the checks: every sync SUCCEEDED, one createJob POST per connection, never
more than maxConcurrency jobs at once. `python -m bench.many` writes bench/results/many.md."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
USD_PER_TRANSITION = 0.025 / 1000  # Standard workflows


def measure(connections: int = 50, max_concurrency: int = 5, sync_seconds: int = 600) -> dict[str, Any]:
    from local_tools import product
    from local_tools.clock import VirtualClock
    from local_tools.emulator import AirbyteEmulator, JobScript

    clock = VirtualClock()
    with AirbyteEmulator(auth="client_credentials", client_id="cid", client_secret="csecret", clock=clock) as emu:
        with product.engine(clock) as engine:
            stack = product.deploy(engine, emu.base_url, {"client_id": "cid", "client_secret": "csecret"})
            ids = [str(uuid.uuid4()) for _ in range(connections)]
            for index, connection in enumerate(ids):
                emu.add_connection(
                    connection,
                    name=f"bench {index:03d}",
                    tags=("bench",),
                    script=JobScript.timed(sync_seconds, final="succeeded", rows=1000, bytes=10_000),
                )
            started = time.perf_counter()
            result = engine.run(
                stack.outputs["SyncConnectionsStateMachineArn"],
                {"tag": "bench", "maxConcurrency": max_concurrency},
                name="bench-many",
                timeout=1800,
            )
            wall = time.perf_counter() - started
            single = stack.outputs["SyncStateMachineArn"]
            children = [
                engine.wait(e["executionArn"])
                for e in engine.sfn.list_executions(stateMachineArn=single, maxResults=1000)["executions"]
            ]
            transitions = result.transitions + sum(child.transitions for child in children)
            unfinished = sum(1 for job in emu.jobs.values() if job.finished_at is None)
            moments = sorted(
                (moment, step)
                for job in emu.jobs.values()
                for moment, step in ((job.created_at, 1), (job.finished_at or float("inf"), -1))
            )
            running = most = 0
            for _, step in moments:
                running += step
                most = max(most, running)
            totals = result.output.get("totals", {}) if isinstance(result.output, dict) else {}
            return {
                "connections": connections,
                "max_concurrency": max_concurrency,
                "sync_seconds": sync_seconds,
                "status": result.status,
                "wall_seconds": round(wall, 1),
                "simulated_seconds": round(result.duration_seconds or 0),
                "transitions": transitions,
                "many_sync_transitions": result.transitions,
                "single_syncs": len(children),
                "cost_usd": round(transitions * USD_PER_TRANSITION, 4),
                "create_job_posts": emu.count("createJob"),
                "get_job_calls": emu.count("getJob"),
                "list_connections_calls": emu.count("listConnections"),
                "most_jobs_at_once": most,
                "succeeded": totals.get("succeeded"),
                "unfinished_jobs": unfinished,
                "error": result.error,
                "ok": (
                    result.status == "SUCCEEDED"
                    and unfinished == 0
                    and totals.get("succeeded") == connections
                    and len(children) == connections
                    and emu.count("createJob") == connections
                    and most <= max_concurrency
                ),
            }


def paragraph(m: dict[str, Any]) -> str:
    return (
        f"One sync-connections execution, {m['connections']} connections by tag, maxConcurrency "
        f"{m['max_concurrency']}, {m['sync_seconds']} s syncs (default polling): {m['status']}, "
        f"{m['succeeded']} succeeded, {m['single_syncs']} single-sync executions, {m['create_job_posts']} createJob "
        f"POSTs, {m['get_job_calls']} getJob calls, {m['list_connections_calls']} listConnections page(s), at most "
        f"{m['most_jobs_at_once']} jobs at once; {m['transitions']:,} state transitions "
        f"({m['many_sync_transitions']:,} in the many-sync itself) = ${m['cost_usd']:.4f} of Step Functions; "
        f"{m['simulated_seconds']:,} s on the engine clock, {m['wall_seconds']:.1f} s wall "
        f"-> {'OK' if m['ok'] else 'NOT OK'}."
    )


def main() -> int:
    import logging

    logging.disable(logging.WARNING)
    measured = measure()
    text = "# Many connections (`python -m bench.many`)\n\n" + paragraph(measured) + "\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "many.md").write_text(text)
    return 0 if measured["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
