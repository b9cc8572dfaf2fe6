"""Per-call latency of one JSON tool through the component, against the sandbox.

    python python/bench.py [--calls 500] [--sandbox-bin PATH | --api-base URL]

Starts the sandbox (``$DISCORD_SANDBOX_BIN``, default
``<repo>/target/debug/discord-sandbox``) unless ``--api-base`` names a running
one, warms up (the component is compiled once per process: that time is
reported apart), then times ``--calls`` calls of ``discord_get_my_user``
with a bearer, one after another. Each call is a fresh store and instance,
the component's JSON Schema check, one HTTP request on loopback and the
answer lifted back into Python.

The sandbox allows 50 calls a second per route and caller, so the calls
rotate over fresh grants (made through the OAuth flow first) to stay under
it: what is timed is the call, never a 429 wait.

Prints one line, then the figures as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path


from discord_connector import Connector, _runtime

REPO = Path(__file__).resolve().parent.parent
TOOL = "discord_get_my_user"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


def start_sandbox(binary: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    process = subprocess.Popen(
        [str(binary), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    settings: dict[str, str] = {}
    assert process.stdout is not None
    while len(settings) < 4:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"the sandbox exited (status {process.wait()}) before printing its settings")
        name, _, value = line.strip().partition("=")
        if name.startswith("DISCORD_"):
            settings[name] = value
    return process, settings


def grant(connector: Connector, client_id: str, client_secret: str):
    """A fresh bearer through the link flow (the sandbox approves at once)."""
    link = connector.authorization_link(client_id=client_id, redirect_uri=REDIRECT_URI, scopes=["identify"])
    parts = urllib.parse.urlsplit(link.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request("GET", f"{parts.path}?{parts.query}")
    answer = connection.getresponse()
    answer.read()
    connection.close()
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.getheader("location")).query))["code"]
    token = connector.exchange_code(
        client_id=client_id, client_secret=client_secret, code=code,
        redirect_uri=REDIRECT_URI, code_verifier=link.code_verifier,
    )
    return token.bearer()


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, min(len(sorted_values), round(share * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--grants", type=int, default=32, help="fresh bearers to rotate over (rate limit)")
    parser.add_argument("--sandbox-bin", type=Path,
                        default=Path(os.environ.get("DISCORD_SANDBOX_BIN", REPO / "target" / "debug" / "discord-sandbox")))
    parser.add_argument("--api-base", help="a running sandbox's DISCORD_API_BASE (with --authorize-url, --client-*)")
    parser.add_argument("--authorize-url")
    parser.add_argument("--client-id", default="1178765261640953856")
    parser.add_argument("--client-secret", default="sbx-client-secret.7f3a9c2e51d84b06")
    options = parser.parse_args()

    process = None
    if options.api_base:
        settings = {
            "DISCORD_API_BASE": options.api_base,
            "DISCORD_AUTHORIZE_URL": options.authorize_url
            or options.api_base.split("/api/")[0] + "/oauth2/authorize",
            "DISCORD_CLIENT_ID": options.client_id,
            "DISCORD_CLIENT_SECRET": options.client_secret,
        }
    else:
        process, settings = start_sandbox(options.sandbox_bin)
    try:
        connector = Connector(
            api_base=settings["DISCORD_API_BASE"], env={"DISCORD_AUTHORIZE_URL": settings["DISCORD_AUTHORIZE_URL"]}
        )
        started = time.perf_counter()
        _runtime.runtime()
        compile_ms = (time.perf_counter() - started) * 1000
        bearers = [
            grant(connector, settings["DISCORD_CLIENT_ID"], settings["DISCORD_CLIENT_SECRET"])
            for _ in range(options.grants)
        ]
        for bearer in bearers[:5]:
            connector.execute_tool(TOOL, {}, bearer)  # warm-up
        time.sleep(1.1)  # a fresh rate limit window for every grant

        timings = []
        failures = 0
        for n in range(options.calls):
            bearer = bearers[n % len(bearers)]
            started = time.perf_counter()
            try:
                result = connector.execute_tool(TOOL, {}, bearer)
                ok = result.get("username") == "nelly"
            except Exception:  # noqa: BLE001 - counted, not raised
                ok = False
            timings.append((time.perf_counter() - started) * 1000)
            failures += not ok
    finally:
        if process is not None:
            process.kill()
            process.wait()

    ordered = sorted(timings)
    figures = {
        "tool": TOOL,
        "calls": options.calls,
        "failures": failures,
        "p50_ms": round(percentile(ordered, 0.50), 3),
        "p90_ms": round(percentile(ordered, 0.90), 3),
        "p99_ms": round(percentile(ordered, 0.99), 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "compile_ms": round(compile_ms, 1),
        "python": platform.python_version(),
        "wasmtime": importlib.metadata.version("wasmtime"),
    }
    print(
        f"{TOOL}: {options.calls} calls, p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
        f"max {figures['max_ms']:.2f} ms, {failures} failures (component compiled in {compile_ms:.0f} ms)"
    )
    print(json.dumps(figures))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
