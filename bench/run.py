"""`make bench` / `python -m bench.run`: polling cost and latency, cold start, load. See bench/README.md.

Writes bench/results/polling.md (all tables), bench/results/polling.json (raw numbers), bench/results/polling.png
(chart), and prints the tables. Options: --workers N (default 2), --skip-coldstart, --skip-load,
--only "fixed 10 s / 1 h" (repeatable; cells by key).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import polling
from bench.polling import DURATIONS, Task, all_cells, estimated_polls, tasks_of
from bench.report import chart, coldstart_table, lag_bound

RESULTS = Path(__file__).resolve().parent / "results"


def _worker(tasks: list[Task]) -> list[dict[str, Any]]:
    import logging

    logging.disable(logging.WARNING)  # moto's "No Moto CloudFormation support for ..." lines, once per worker
    return polling.run_tasks(tasks)


def split(tasks: list[Task], workers: int) -> list[list[Task]]:
    """Longest first, each to the least loaded worker (by estimated polls)."""
    buckets: list[tuple[int, list[Task]]] = [(0, []) for _ in range(workers)]
    for task in sorted(tasks, key=estimated_polls, reverse=True):
        index = min(range(workers), key=lambda i: buckets[i][0])
        load, members = buckets[index]
        buckets[index] = (load + estimated_polls(task), members + [task])
    return [members for _, members in buckets if members]


def run_polling(tasks: list[Task], workers: int) -> list[dict[str, Any]]:
    groups = split(tasks, max(1, workers))
    if len(groups) == 1:
        return _worker(groups[0])
    with multiprocessing.get_context("spawn").Pool(len(groups)) as pool:
        return [row for rows in pool.map(_worker, groups) for row in rows]


# --- report ------------------------------------------------------------------------------------------------------


def _calls(row: dict[str, Any]) -> str:
    calls = row["get_job_calls"]
    return f"{calls:,.0f}" if row["runs"] == 1 else f"{calls:,.1f} (max {row['max_get_job_calls']:,})"


def polling_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| policy | sync | status | getJob calls | transitions | max events / execution | executions | "
        "lag mean (s) | lag p95 (s) | lag max (s) | cost (USD) | wall (s) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lag = r["lag"]
        status = r["status"] if r["runs"] == 1 else f"{r['status']} x{r['runs']}"
        lines.append(
            f"| {r['policy']} | {r['duration_name']}{'' if r['ends'] in ('nominal', 'in range') else ', ' + r['ends']} "
            f"| {status} | {_calls(r)} | {r['transitions']:,.0f} | {r['max_history_events']:,} | "
            f"{r['executions']} | {lag['mean']:.1f} | {lag['p95']:.0f} | {lag['max']:.0f} | "
            f"{r['cost_usd']:.4f} | {_wall(r)} |"
        )
    return "\n".join(lines)


def _wall(row: dict[str, Any]) -> str:
    if row.get("derived_from"):
        return f"derived from {row['derived_from'].split(' / ')[1]}"
    return f"{row['wall_seconds']:.1f}"


def derivation_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Which rows are derived, and the check of the derivation on a cell that was also measured."""
    from bench.derived import CannotDerive, derivation_check

    derived_keys = [r["key"] for r in rows if r.get("derived_from")]
    if not derived_keys:
        return []
    lines = [
        f"Derived, not run (bench/derived.py: a fixed schedule's cost is linear in the sync's duration): "
        f"{', '.join(derived_keys)}."
    ]
    by = {r["key"]: r for r in rows}
    basis, measured = polling.DERIVATION_CHECK
    if basis in by and measured in by:
        try:
            text, ok = derivation_check(by[basis], by[measured])
        except CannotDerive as error:
            text, ok = f"derivation check: {error}", False
        lines.append(f"- {'PASS' if ok else 'FAIL'}: {text}")
    return lines


def engine_cost_line(rows: list[dict[str, Any]]) -> str:
    """The local engine's real seconds per getJob poll, on the schedule cell with the most polls."""
    single = [r for r in rows if r["runs"] == 1 and not r.get("derived_from")]
    if not single:
        return ""
    busiest = max(single, key=lambda r: r["get_job_calls"])
    return (
        f"Local engine cost: {busiest['wall_ms_per_poll']:.1f} ms real per getJob poll "
        f"({busiest['policy']} / {busiest['duration_name']}: {busiest['wall_seconds']:.1f} s wall / "
        f"{busiest['get_job_calls']:,.0f} polls; JSONata by npm jsonata 2.0.6 in one Node process per engine)."
    )


def default_checks(rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    by = {r["key"]: r for r in rows}
    checks = []
    for name, seconds in DURATIONS.items():
        r = by.get(f"default / {name}")
        if r:
            bound = lag_bound(seconds)
            checks.append(
                (
                    f"default, {name}: detection lag max {r['lag']['max']:.0f} s <= {bound:.0f} s "
                    f"(max(30 s, 10% of the sync), never over 5 min)",
                    r["ok"] and r["lag"]["max"] <= bound,
                )
            )
    for name, ratio in (("1 h", 5), ("24 h", 20)):
        d, f = by.get(f"default / {name}"), by.get(f"fixed 10 s / {name}")
        if d and f:
            checks.append(
                (
                    f"default, {name}: {d['get_job_calls']:.0f} getJob calls <= 1/{ratio} of fixed 10 s "
                    f"({f['get_job_calls']:.0f} / {ratio} = {f['get_job_calls'] / ratio:.0f})",
                    d["get_job_calls"] * ratio <= f["get_job_calls"],
                )
            )
    return checks


def predictive_checks(rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """The issue's targets for the predictive policy, one line each, in each scenario."""
    from bench.scenarios import DOUBLE_DURATIONS, SCENARIOS, TARGET_DURATIONS, policy_name

    by = {r["key"]: r for r in rows}
    checks = []
    for scenario in SCENARIOS:
        name_of = policy_name(scenario)
        for duration in dict.fromkeys(TARGET_DURATIONS + DOUBLE_DURATIONS):
            p, d = by.get(f"{name_of} / {duration}"), by.get(f"default / {duration}")
            if p and d and duration in TARGET_DURATIONS:
                budget = d["get_job_calls"] / 3
                checks.append(
                    (
                        f"{name_of}, {duration}, ends within the usual range: lag mean {p['lag']['mean']:.1f} s "
                        f"<= 15 s, max {p['lag']['max']:.0f} s <= 30 s, {p['get_job_calls']:.1f} getJob calls "
                        f"(max {p['max_get_job_calls']}) <= 1/3 of the default's {d['get_job_calls']:.0f} "
                        f"= {budget:.1f}; cost ${p['cost_usd']:.4f} vs the default's ${d['cost_usd']:.4f}",
                        p["ok"]
                        and p["lag"]["mean"] <= 15
                        and p["lag"]["max"] <= 30
                        and p["max_get_job_calls"] <= budget,
                    )
                )
            for ends in ("half", "double"):
                p, d = by.get(f"{name_of} / {duration}, {ends}"), by.get(f"default / {duration}, {ends}")
                if p and d:
                    checks.append(
                        (
                            f"{name_of}, {duration}, ends at {ends} the usual time: lag max "
                            f"{p['lag']['max']:.0f} s <= the default's max {d['lag']['max']:.0f} s + 60 s "
                            f"(mean {p['lag']['mean']:.0f} s vs {d['lag']['mean']:.0f} s; calls "
                            f"{p['get_job_calls']:.0f} vs {d['get_job_calls']:.0f})",
                            p["ok"] and p["lag"]["max"] <= d["lag"]["max"] + 60,
                        )
                    )
    for duration in TARGET_DURATIONS:
        p = by.get(f"{policy_name('stable')} / {duration}, fails at half")
        if p:
            checks.append(
                (
                    f"(not a target) {policy_name('stable')}, {duration}, the job FAILS at half its usual time: "
                    f"lag mean {p['lag']['mean']:.0f} s, max {p['lag']['max']:.0f} s (a sparse wait is at most "
                    f"30 min)",
                    True,
                )
            )
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--skip-coldstart", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    load_at_start = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    cells = [c for c in all_cells() if not args.only or c.key in args.only]
    tasks = tasks_of(cells)
    print(
        f"polling: {len(cells)} cells, {len(tasks)} executions, {sum(map(estimated_polls, tasks)):,} polls "
        f"(estimated), {args.workers} worker processes ...",
        flush=True,
    )
    started = time.perf_counter()
    rows = polling.aggregate(cells, run_polling(tasks, args.workers))
    polling_wall = time.perf_counter() - started
    main_keys = {c.key for c in polling.main_cells()}
    main_rows = [r for r in rows if r["key"] in main_keys]
    derivation = derivation_lines(main_rows)
    target_rows = [r for r in rows if r["key"] not in main_keys]

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
    sections = [
        "# Polling cost and latency (`make bench`)",
        "",
        f"Virtual time, local engine + Airbyte emulator; every number below comes from this run "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). How to read it: bench/README.md.",
        "",
        "## Polling",
        "",
        polling_table(main_rows),
        "",
        f"Polling cells: {polling_wall:.0f} s wall in {args.workers} processes ({len(tasks)} executions); "
        f"Step Functions cost at $0.025 per 1,000 state transitions. Lag: exact over the polling phase for "
        f"the fixed and default policies (one run each), over {polling.scenarios.ENDPOINTS} job ends within "
        f"the usual range (+/-10 %) for predictive (one execution each; calls, transitions and cost are "
        f"their means).",
        "",
        *derivation,
        "",
        engine_cost_line(main_rows),
        "",
        "### Product default vs. targets",
        "",
    ]
    for text, ok in default_checks(main_rows):
        sections.append(f"- {'PASS' if ok else 'FAIL'}: {text}")
    sections += [
        "",
        "## Predictive policy: ends far outside the usual range",
        "",
        "Each predictive row: one execution per job end (20, +/-5 % around half or twice the usual time); "
        "the default's row: its (job-independent) polls over the same ends.",
        "",
        polling_table(target_rows),
        "",
        "### Predictive policy vs. targets",
        "",
    ]
    for text, ok in predictive_checks(rows):
        sections.append(f"- {'PASS' if ok else 'FAIL'}: {text}")
    if cold:
        sections += [
            "",
            "## Cold start on the production path (fresh process each; median of 5)",
            "",
            coldstart_table(cold),
        ]
    if load:
        sections += [
            "",
            "## Load",
            "",
            f"{load['executions']} executions started at once ({load['sync_seconds']} s syncs, fixed 10 s "
            f"polling, one engine, one emulator): {load['statuses']}, {load['distinct_job_ids']} distinct "
            f"job ids, {load['create_job_posts']} createJob POSTs, {load['get_job_calls']} getJob calls, "
            f"{load['wall_seconds']:.1f} s wall -> {'OK' if load['ok'] else 'NOT OK'}.",
        ]
    load_now = os.getloadavg()
    sections += [
        "",
        f"Total bench wall time: {total:.0f} s (load average at the start {load_at_start[0]:.1f}, at "
        f"the end {load_now[0]:.1f} / {load_now[2]:.1f} over 1 / 15 min, on {os.cpu_count()} cores: "
        f"other work on the machine stretches the wall times, not the virtual-time figures).",
    ]
    report = "\n".join(sections) + "\n"
    print(report)
    if args.only or args.skip_coldstart or args.skip_load:
        # A partial run must not replace the full results the README quotes.
        print(f"partial run: {RESULTS} left as it was")
    else:
        (RESULTS / "polling.md").write_text(report)
        (RESULTS / "polling.json").write_text(
            json.dumps(
                {
                    "polling": rows,
                    "coldstart": cold,
                    "load": load,
                    "polling_wall_seconds": polling_wall,
                    "total_wall_seconds": total,
                },
                indent=1,
            )
        )
        chart(main_rows, RESULTS / "polling.png")
        print(f"wrote {RESULTS / 'polling.md'}, {RESULTS / 'polling.png'}")
    failed = [r for r in rows if not r["ok"]] + [line for line in derivation if line.startswith("- FAIL")]
    return 1 if failed or (load and not load["ok"]) else 0


if __name__ == "__main__":
    sys.exit(main())
