#!/usr/bin/env python3
"""Plots a `host-test bench` run: the latency distribution of one call
through the component against the native keep-alive client, and calls per
second against calls in flight.

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
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.2))
    percent = list(range(1, 100))
    for key, label in [
        ("call_native", "native hyper keep-alive"),
        ("call_warm_instance", "component, warm instance"),
        ("call_component", "component, fresh instance per call"),
    ]:
        latency.plot(report[key]["percentiles_us"], percent, label=label)
    latency.set_xscale("log")
    latency.set_xlabel("latency of one GET (µs, log scale)")
    latency.set_ylabel("percentile")
    latency.set_title("One call at concurrency 1")
    latency.grid(True, which="both", alpha=0.3)
    latency.legend(loc="lower right")

    levels = report["throughput"]
    positions = range(len(levels))
    width = 0.38
    throughput.bar([p - width / 2 for p in positions], [l["component_calls_per_s"] for l in levels], width, label="component")
    throughput.bar([p + width / 2 for p in positions], [l["native_calls_per_s"] for l in levels], width, label="native")
    throughput.set_xticks(list(positions), [str(l["concurrency"]) for l in levels])
    throughput.set_xlabel("calls in flight")
    throughput.set_ylabel("calls per second")
    throughput.set_title("Throughput")
    throughput.grid(True, axis="y", alpha=0.3)
    throughput.legend()
    figure.suptitle(f"host-test bench: component {report['component_bytes']:,} bytes, p50 ratio {report['ratio_p50']}x")
    figure.tight_layout()
    figure.savefig(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
