"""One connector, many threads: each call in its own instance; the
component compiled once per process."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from discord_connector import Bearer, Connector, _runtime
from support import USER_TOKEN
from test_tools import EXPECTED_TOOLS


def test_concurrent_calls_from_threads(connector: Connector) -> None:
    def call(n: int):
        if n % 2:
            return n, connector.execute_tool("discord_get_gateway")
        return n, connector.execute_tool("discord_get_my_user", {}, Bearer(USER_TOKEN))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(32)))
    assert len(results) == 32
    for n, result in results:
        if n % 2:
            assert result == {"url": "wss://gateway.discord.gg"}
        else:
            assert result["username"] == "nelly"


def test_the_component_is_compiled_once_under_concurrent_first_use(monkeypatch) -> None:
    loads = []
    original = _runtime._load

    def counting(path):
        loads.append(path)
        return original(path)

    monkeypatch.setattr(_runtime, "_RUNTIMES", {})
    monkeypatch.setattr(_runtime, "_DEFAULT", None)
    monkeypatch.setattr(_runtime, "_load", counting)
    barrier = threading.Barrier(6)
    fresh = Connector()

    def first_use(_: int) -> int:
        barrier.wait()
        return len(fresh.list_tools())

    with ThreadPoolExecutor(max_workers=6) as pool:
        counts = list(pool.map(first_use, range(6)))
    assert counts == [len(EXPECTED_TOOLS)] * 6
    assert len(loads) == 1
    assert len(_runtime._RUNTIMES) == 1
