#!/usr/bin/env python3
"""Plots a `discord-host bench` run: the latency distribution of one call
on each path (native, and through the component reused, from a spare,
fresh) on each tokio runtime, and throughput against calls in flight.

    python3 scripts/plot-bench.py target/bench.json docs/bench.svg

Needs matplotlib (scripts/requirements-plot.txt).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    with open(source) as file:
        report = json.load(file)
    runtimes = report["runtimes"]
    figure, axes = plt.subplots(1, len(runtimes) + 1, figsize=(16, 4.4))
    percent = list(range(1, 100))
    for axis, runtime in zip(axes, runtimes):
        for path in runtime["paths"]:
            label = f"{path['path']} (p50 {path['latency']['p50_us']} µs, {path['ratio_p50']}x)"
            axis.plot(path["latency"]["percentiles_us"], percent, label=label)
        axis.set_xscale("log")
        axis.set_xlabel("latency of one GET (µs, log scale)")
        axis.set_ylabel("percentile")
        axis.set_title(runtime["runtime"])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="lower right", fontsize="small")

    throughput = axes[-1]
    width = 0.2
    levels = runtimes[0]["throughput"]
    positions = range(len(levels))
    for offset, runtime in enumerate(runtimes):
        short = runtime["runtime"].split(" ")[0]
        rows = runtime["throughput"]
        shift = (offset * 2 - 1.5) * width
        throughput.bar([p + shift for p in positions], [r["component_calls_per_s"] for r in rows], width, label=f"component, {short}")
        throughput.bar([p + shift + width for p in positions], [r["native_calls_per_s"] for r in rows], width, label=f"native, {short}")
    throughput.set_xticks(list(positions), [str(level["concurrency"]) for level in levels])
    throughput.set_xlabel("calls in flight")
    throughput.set_ylabel("calls per second")
    throughput.set_title("Throughput (component: default reuse)")
    throughput.grid(True, axis="y", alpha=0.3)
    throughput.legend(fontsize="small")
    load = report["machine"]["load_average_before"]
    figure.suptitle(
        f"discord-host bench: connector {report['component_bytes']:,} bytes, "
        f"{report['machine']['cpus']} CPUs, load average {load} at the start"
    )
    figure.tight_layout()
    figure.savefig(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
