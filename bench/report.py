"""The bench report's cold-start table and chart (bench/run.py writes the rest of bench/results/polling.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.polling import DURATIONS


def lag_bound(seconds: int) -> float:
    """The default policy's lag target for a sync of `seconds`: max(30 s, 10 %), never over 5 minutes."""
    return min(300.0, max(30.0, 0.1 * seconds))


def coldstart_table(cold: dict[str, Any]) -> str:
    sdk = cold.get("sdk")
    sdk_total = (sdk["import"] + sdk["first"]) if sdk else None

    def ms(value: float) -> str:
        return f"{value * 1000:.0f}" if value >= 0.01 else f"{value * 1000:.1f}"

    def row(name: str, m: dict[str, Any]) -> str:
        total = m["import"] + m["first"]
        ratio = f"{total / sdk_total:.2f}" if sdk_total else "n/a"
        boto3 = "yes" if m.get("boto3_imported") else "no"
        return (
            f"| {name} | {ms(m['import'])} | {ms(m['first'])} | {ms(total)} | {ms(m['second'])} | {boto3} | {ratio} |"
        )

    header = [
        "| probe | import (ms) | first invocation (ms) | import + first (ms) | second invocation (ms) | "
        "boto3 imported | (import + first) / SDK's |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    lines = ["Each handler on the production path (secret read by a direct signed call, the default):", ""] + header
    for module, m in cold["handlers"].items():
        lines.append(row(f"airbyte_handlers.{module}", m))
    lines += ["", "The getJob handler by secret path, next to the official SDK:", ""] + header
    labels = {
        "direct": "getJob, direct signed GetSecretValue (default)",
        "extension": "getJob, Parameters and Secrets Lambda Extension (SecretsExtensionLayerArn)",
        "boto3": "getJob, boto3 / Powertools Parameters (fallback; the path before this change)",
    }
    for path, m in cold.get("paths", {}).items():
        lines.append(row(labels.get(path, path), m))
    if sdk and sdk_total is not None:  # sdk_total is None only without sdk
        lines.append(
            f"| airbyte-api 1.0.1 + boto3 (import; boto3 get_secret_value + AirbyteAPI(client credentials) + "
            f"get_job) | {ms(sdk['import'])} | {ms(sdk['first'])} | {ms(sdk_total)} | {ms(sdk['second'])} | "
            f"yes | 1.00 |"
        )
    else:
        lines.append(f"| airbyte-api 1.0.1 | not measured: {cold.get('sdk_error')} | | | | | |")
    direct = cold.get("paths", {}).get("direct")
    if direct and sdk_total:
        ratio = (direct["import"] + direct["first"]) / sdk_total
        lines += [
            "",
            f"- {'PASS' if ratio <= 0.6 else 'FAIL'}: the production path's first invocation (getJob, "
            f"import + first call) is {ratio:.2f}x the SDK + boto3 path's (target: at most 0.6x)",
        ]
    package = cold.get("package")
    if package:
        lines.append("")
        lines.append(
            f"Function package (each of the 4 functions; shared CodeUri functions/, requirements for "
            f"python3.13 arm64, zipped as sam build would): {package['zip_mb']:.2f} MB zipped, "
            f"{package['unzipped_mb']:.2f} MB unzipped (handler code {package['code_kb']:.0f} kB)."
        )
    else:
        lines.append(f"\nFunction package: not measured: {cold.get('package_error')}")
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (calls_ax, lag_ax) = plt.subplots(1, 2, figsize=(13, 5))
    policies = list(dict.fromkeys(r["policy"] for r in rows if r["ends"] in ("nominal", "in range")))
    for policy in policies:
        points = sorted(
            (r["duration_seconds"], r) for r in rows if r["policy"] == policy and r["ends"] in ("nominal", "in range")
        )
        xs = [seconds / 3600 for seconds, _ in points]
        (line,) = calls_ax.plot(xs, [r["get_job_calls"] for _, r in points], marker="o", label=policy)
        colour = line.get_color()
        means = [max(r["lag"]["mean"], 0.5) for _, r in points]
        highs = [max(r["lag"]["max"], 0.5) for _, r in points]
        lows = [0.5 for _ in points]
        lag_ax.fill_between(xs, lows, highs, color=colour, alpha=0.12)
        lag_ax.plot(xs, means, color=colour, label=f"{policy} (mean; band: 0 to max)")
        lag_ax.plot(xs, [max(r["lag"]["p95"], 0.5) for _, r in points], color=colour, linestyle=":", linewidth=1)
    bound_x = sorted(DURATIONS.values())
    lag_ax.plot([s / 3600 for s in bound_x], [lag_bound(s) for s in bound_x], "k--", label="default's lag target")
    for ax, title, ylabel in (
        (calls_ax, "getJob calls per sync (= Lambda invocations)", "calls"),
        (lag_ax, "Detection lag: mean (line), p95 (dotted), 0..max (band)", "seconds"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("sync duration (hours)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
