"""Large answers under wasmtime-py: a `list<u8>` (a proxy body) is lifted
one value at a time, and wasmtime stops copying past about 2.6 MiB, so the
package states a 2 MiB body cap to the component unless told otherwise."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from discord_connector import ComponentTrap, Connector, ConnectorError, Transport


@pytest.fixture(scope="module")
def big_server() -> Iterator[tuple[str, dict]]:
    """A stand-in for Discord whose /gateway answer is `size` bytes of JSON."""
    size = {"bytes": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            filler = max(0, size["bytes"] - len('{"url":""}'))
            body = b'{"url":"' + b"x" * filler + b'"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the component stops reading at its cap

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/v10", size
    server.shutdown()
    server.server_close()


def test_the_body_cap_is_stated_unless_set() -> None:
    assert Connector().env == {"DISCORD_MAX_BODY_BYTES": "2097152"}
    assert Connector(env={"DISCORD_MAX_BODY_BYTES": "1000"}).env["DISCORD_MAX_BODY_BYTES"] == "1000"


def test_an_answer_over_the_cap_is_a_typed_transport_error(big_server) -> None:
    base, size = big_server
    size["bytes"] = 3 << 20
    connector = Connector(api_base=base)
    for call in (lambda: connector.proxy("GET", "/gateway"), lambda: connector.execute_tool("discord_get_gateway")):
        with pytest.raises(Transport) as caught:
            call()
        assert caught.value.details == {"class": "too-large"}
        assert "2097152" in caught.value.message


def test_a_json_answer_under_the_cap_comes_back(big_server) -> None:
    base, size = big_server
    size["bytes"] = 1 << 20
    connector = Connector(api_base=base)
    assert len(connector.execute_tool("discord_get_gateway")["url"]) == (1 << 20) - len('{"url":""}')
    started = time.monotonic()
    answer = connector.proxy("GET", "/gateway")
    assert len(answer.body) == 1 << 20
    assert answer.body.startswith(b'{"url":"xxx')
    print(f"a 1 MiB proxy body took {time.monotonic() - started:.2f} s to lift")


def test_a_body_wasmtime_py_cannot_copy_is_a_trap_that_says_so(big_server) -> None:
    base, size = big_server
    size["bytes"] = 4 << 20
    connector = Connector(api_base=base, env={"DISCORD_MAX_BODY_BYTES": str(8 << 20)})
    # A JSON tool's answer is a string, copied at once: fine.
    assert len(connector.execute_tool("discord_get_gateway")["url"]) > 4_000_000
    with pytest.raises(ComponentTrap) as caught:
        connector.proxy("GET", "/gateway")
    assert not isinstance(caught.value, ConnectorError)
    assert "more data than wasmtime-py can copy" in str(caught.value)
