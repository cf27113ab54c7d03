#!/usr/bin/env python3
"""Plots post latency (p50, p99) and throughput against concurrency from `sns bench post --json FILE`
(or `all --json FILE`), with raw echo as the reference, into a PNG (default post-latency.png).

Needs matplotlib:  python3 -m venv /tmp/plotenv && /tmp/plotenv/bin/pip install matplotlib
Usage:            /tmp/plotenv/bin/python scripts/plot-post-latency.py bench.json [out.png]
"""
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(metrics, prefix, field):
    points = []
    for key, value in metrics.items():
        match = re.fullmatch(rf"{prefix}\.c(\d+)\.{field}", key)
        if match:
            points.append((int(match.group(1)), value))
    return sorted(points)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    run = json.load(open(sys.argv[1]))
    out = sys.argv[2] if len(sys.argv) > 2 else "post-latency.png"
    report = next((r for r in run["reports"] if r["scenario"] == "post"), None)
    if report is None:
        sys.exit("no post report in " + sys.argv[1])
    metrics = report["metrics"]
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.2))
    for prefix, label, style in [("post", "post (acked)", "-o"), ("echo", "raw echo", "--s")]:
        for field, name in [("p50_ms", "p50"), ("p99_ms", "p99")]:
            points = series(metrics, prefix, field)
            if points:
                xs, ys = zip(*points)
                latency.plot(xs, ys, style, label=f"{label} {name}")
        points = series(metrics, prefix, "ops_per_s")
        if points:
            xs, ys = zip(*points)
            throughput.plot(xs, ys, style, label=label)
    for axis in (latency, throughput):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("concurrency (requests in flight)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    latency.set_yscale("log")
    latency.set_ylabel("latency (ms)")
    latency.set_title("latency vs concurrency")
    throughput.set_yscale("log")
    throughput.set_ylabel("operations / s")
    throughput.set_title("throughput vs concurrency")
    figure.suptitle(f"sns bench post — {run['started']} — {run['machine']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
