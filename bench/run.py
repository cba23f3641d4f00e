"""`make bench` / `python -m bench.run`: polling cost and latency, cold start, load. See bench/README.md.

Writes bench/results/polling.md (all tables), bench/results/polling.json (raw numbers), bench/results/polling.png
(chart), and prints the tables. Options: --workers N (default 2), --skip-coldstart, --skip-load,
--only "fixed 10 s / 1 h" (repeatable; cells by key).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from bench import polling
from bench.polling import DURATIONS, POLICIES, Cell, all_cells, estimated_polls

RESULTS = Path(__file__).resolve().parent / "results"


def _worker(cells: list[Cell]) -> list[dict[str, Any]]:
    import logging

    logging.disable(logging.WARNING)  # moto's "No Moto CloudFormation support for ..." lines, once per worker
    return polling.run_cells(cells)


def split(cells: list[Cell], workers: int) -> list[list[Cell]]:
    """Longest first, each to the least loaded worker (by estimated polls)."""
    buckets: list[tuple[int, list[Cell]]] = [(0, []) for _ in range(workers)]
    for cell in sorted(cells, key=estimated_polls, reverse=True):
        index = min(range(workers), key=lambda i: buckets[i][0])
        load, members = buckets[index]
        buckets[index] = (load + estimated_polls(cell), members + [cell])
    return [members for _, members in buckets if members]


def run_polling(cells: list[Cell], workers: int) -> list[dict[str, Any]]:
    groups = split(cells, max(1, workers))
    if len(groups) == 1:
        return _worker(groups[0])
    with multiprocessing.get_context("spawn").Pool(len(groups)) as pool:
        return [row for rows in pool.map(_worker, groups) for row in rows]


# --- report ------------------------------------------------------------------------------------------------------

def _lag_bound(seconds: int) -> float:
    return min(300.0, max(30.0, 0.1 * seconds))


def polling_table(rows: list[dict[str, Any]]) -> str:
    order = {(p, d): i for i, (p, d) in enumerate((p, d) for p in POLICIES for d in DURATIONS)}
    rows = sorted(rows, key=lambda r: order.get((r["policy"], r["duration_name"]), 999))
    lines = ["| policy | sync | status | getJob calls | transitions | max events / execution | executions | "
             "detection lag (s) | cost (USD) | wall (s) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['policy']} | {r['duration_name']} | {r['status']} | {r['get_job_calls']:,} | "
                     f"{r['transitions']:,} | {r['max_history_events']:,} | {r['executions']} | "
                     f"{r['detection_lag_seconds']:.0f} | {r['cost_usd']:.4f} | {r['wall_seconds']:.1f} |")
    return "\n".join(lines)


def engine_cost_line(rows: list[dict[str, Any]]) -> str:
    """The local engine's real seconds per getJob poll, on the cell with the most polls."""
    if not rows:
        return ""
    busiest = max(rows, key=lambda r: r["get_job_calls"])
    return (f"Local engine cost: {busiest['wall_ms_per_poll']:.1f} ms real per getJob poll "
            f"({busiest['policy']} / {busiest['duration_name']}: {busiest['wall_seconds']:.1f} s wall / "
            f"{busiest['get_job_calls']:,} polls; JSONata by npm jsonata 2.0.6 in one Node process per engine).")


def default_checks(rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    by = {(r["policy"], r["duration_name"]): r for r in rows}
    checks = []
    for name, seconds in DURATIONS.items():
        r = by.get(("default", name))
        if r:
            bound = _lag_bound(seconds)
            checks.append((f"default, {name}: detection lag {r['detection_lag_seconds']:.0f} s <= {bound:.0f} s "
                           f"(max(30 s, 10% of the sync), never over 5 min)",
                           r["status"] == "SUCCEEDED" and r["detection_lag_seconds"] <= bound))
    for name, ratio in (("1 h", 5), ("24 h", 20)):
        d, f = by.get(("default", name)), by.get(("fixed 10 s", name))
        if d and f:
            checks.append((f"default, {name}: {d['get_job_calls']} getJob calls <= 1/{ratio} of fixed 10 s "
                           f"({f['get_job_calls']} / {ratio} = {f['get_job_calls'] / ratio:.0f})",
                           d["get_job_calls"] * ratio <= f["get_job_calls"]))
    return checks


def coldstart_table(cold: dict[str, Any]) -> str:
    sdk = cold.get("sdk")
    sdk_total = (sdk["import"] + sdk["construct"]) if sdk else None
    lines = ["| module | import (ms) | first invocation (ms) | second invocation (ms) | import / SDK's |",
             "|---|---:|---:|---:|---:|"]
    for module, m in cold["handlers"].items():
        ratio = f"{m['import'] / sdk_total:.2f}" if sdk_total else "n/a"
        lines.append(f"| airbyte_handlers.{module} | {m['import'] * 1000:.0f} | {m['first'] * 1000:.1f} | "
                     f"{m['second'] * 1000:.1f} | {ratio} |")
    if sdk:
        lines.append(f"| airbyte_api 1.0.1 (import + AirbyteAPI(...)) | {sdk_total * 1000:.0f} "
                     f"(import {sdk['import'] * 1000:.0f} + client {sdk['construct'] * 1000:.0f}) | | | 1.00 |")
    else:
        lines.append(f"| airbyte_api 1.0.1 | not measured: {cold.get('sdk_error')} | | | |")
    package = cold.get("package")
    if package:
        lines.append("")
        lines.append(f"Function package (each of the 4 functions; shared CodeUri functions/, requirements for "
                     f"python3.13 arm64, zipped as sam build would): {package['zip_mb']:.2f} MB zipped, "
                     f"{package['unzipped_mb']:.2f} MB unzipped (handler code {package['code_kb']:.0f} kB).")
    else:
        lines.append(f"\nFunction package: not measured: {cold.get('package_error')}")
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (calls_ax, lag_ax) = plt.subplots(1, 2, figsize=(12, 4.8))
    for policy in POLICIES:
        points = sorted((r["duration_seconds"], r) for r in rows if r["policy"] == policy)
        if not points:
            continue
        xs = [seconds / 3600 for seconds, _ in points]
        calls_ax.plot(xs, [r["get_job_calls"] for _, r in points], marker="o", label=policy)
        lag_ax.plot(xs, [max(r["detection_lag_seconds"], 0.5) for _, r in points], marker="o", label=policy)
    bound_x = sorted(seconds for seconds in DURATIONS.values())
    lag_ax.plot([s / 3600 for s in bound_x], [_lag_bound(s) for s in bound_x], "k--", label="lag target")
    for ax, title, ylabel in ((calls_ax, "getJob calls per sync (= Lambda invocations)", "calls"),
                              (lag_ax, "Detection lag (job end -> execution end)", "seconds")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sync duration (hours)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--skip-coldstart", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)
    cells = [c for c in all_cells() if not args.only or c.key in args.only]
    print(f"polling: {len(cells)} cells, {sum(map(estimated_polls, cells)):,} polls (estimated), "
          f"{args.workers} worker processes ...", flush=True)
    started = time.perf_counter()
    rows = run_polling(cells, args.workers)
    polling_wall = time.perf_counter() - started

    cold = None
    if not args.skip_coldstart:
        from bench import coldstart

        print("cold start ...", flush=True)
        cold = coldstart.measure()
    load = None
    if not args.skip_load:
        from bench import load as load_module

        print("load ...", flush=True)
        load = load_module.measure()

    total = time.perf_counter() - began
    sections = ["# Polling cost and latency (`make bench`)", "",
                f"Virtual time, local engine + Airbyte emulator; every number below comes from this run "
                f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). How to read it: bench/README.md.", "",
                "## Polling", "", polling_table(rows), "",
                f"Polling cells: {polling_wall:.0f} s wall in {args.workers} processes; Step Functions cost at "
                f"$0.025 per 1,000 state transitions.", "", engine_cost_line(rows), "",
                "### Product default vs. targets", ""]
    for text, ok in default_checks(rows):
        sections.append(f"- {'PASS' if ok else 'FAIL'}: {text}")
    if cold:
        sections += ["", "## Cold start (fresh process each; median)", "", coldstart_table(cold)]
    if load:
        sections += ["", "## Load", "",
                     f"{load['executions']} executions started at once ({load['sync_seconds']} s syncs, fixed 10 s "
                     f"polling, one engine, one emulator): {load['statuses']}, {load['distinct_job_ids']} distinct "
                     f"job ids, {load['create_job_posts']} createJob POSTs, {load['get_job_calls']} getJob calls, "
                     f"{load['wall_seconds']:.1f} s wall -> {'OK' if load['ok'] else 'NOT OK'}."]
    sections += ["", f"Total bench wall time: {total:.0f} s."]
    report = "\n".join(sections) + "\n"
    print(report)
    if args.only or args.skip_coldstart or args.skip_load:
        # A partial run must not replace the full results the README quotes.
        print(f"partial run: {RESULTS} left as it was")
    else:
        (RESULTS / "polling.md").write_text(report)
        (RESULTS / "polling.json").write_text(json.dumps({"polling": rows, "coldstart": cold, "load": load,
                                                          "polling_wall_seconds": polling_wall,
                                                          "total_wall_seconds": total}, indent=1))
        chart(rows, RESULTS / "polling.png")
        print(f"wrote {RESULTS / 'polling.md'}, {RESULTS / 'polling.png'}")
    failed = [r for r in rows if r["status"] != "SUCCEEDED"]
    return 1 if failed or (load and not load["ok"]) else 0


if __name__ == "__main__":
    sys.exit(main())
