"""Errors: the contract's kinds as exceptions, and host failures apart."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

import discord_connector
from discord_connector import (
    Bearer,
    ComponentTrap,
    Connector,
    ConnectorError,
    Forbidden,
    HostError,
    InvalidArguments,
    MissingCredential,
    NotFound,
    RateLimited,
    Transport,
    Unauthorized,
    UnknownTool,
)
from discord_connector import _runtime
from support import IDENTIFY_ONLY_TOKEN, REPO, Sandbox, fresh_token


def contract_error_kinds() -> list[str]:
    wit = (REPO / "wit" / "connector.wit").read_text()
    body = re.search(r"enum error-kind \{(.*?)\}", wit, re.S).group(1)
    body = re.sub(r"//[^\n]*", "", body)
    return [kind.strip() for kind in body.split(",") if kind.strip()]


def test_every_contract_kind_has_its_own_subclass() -> None:
    kinds = contract_error_kinds()
    assert len(kinds) == 9
    classes = {cls.kind: cls for cls in ConnectorError.__subclasses__()}
    assert set(classes) == set(kinds)
    for cls in classes.values():
        assert getattr(discord_connector, cls.__name__) is cls
        assert not issubclass(cls, HostError)
    assert not issubclass(HostError, ConnectorError)
    assert not issubclass(ComponentTrap, ConnectorError)


def test_a_bad_token_is_unauthorized_with_status_401(connector: Connector) -> None:
    secret = "sbx-user.revoked-token-value"
    with pytest.raises(Unauthorized) as caught:
        connector.execute_tool("discord_get_my_user", {}, Bearer(secret))
    error = caught.value
    assert isinstance(error, ConnectorError)
    assert error.kind == "unauthorized"
    assert (error.status, error.code) == (401, 0)
    assert error.retry_after_ms is None
    assert "401" in error.message
    for text in (str(error), repr(error), error.message, str(error.args)):
        assert secret not in text
    assert str(error) == f"unauthorized: {error.message} (status 401, code 0)"


def test_a_missing_scope_is_forbidden(connector: Connector) -> None:
    with pytest.raises(Forbidden) as caught:
        connector.execute_tool("discord_retrieve_user_connections", {}, Bearer(IDENTIFY_ONLY_TOKEN))
    assert (caught.value.status, caught.value.code) == (403, 50001)


def test_an_unknown_object_is_not_found(connector: Connector, user) -> None:
    with pytest.raises(NotFound) as caught:
        connector.execute_tool("discord_get_user", {"user_id": "3"}, user)
    assert (caught.value.status, caught.value.code) == (404, 10013)


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ({"user_id": 5}, "user_id"),
        ({"user_id": "41771983423143937", "extra": 1}, "extra"),
        ("[]", ""),
        ("{not json", ""),
        ({}, "user_id"),
    ],
)
def test_invalid_arguments_are_refused_before_sending(connector: Connector, user, arguments, expected) -> None:
    with pytest.raises(InvalidArguments) as caught:
        connector.execute_tool("discord_get_user", arguments, user)
    assert caught.value.kind == "invalid-arguments"
    assert caught.value.status is None
    assert expected in caught.value.message


def test_an_unknown_tool(connector: Connector) -> None:
    with pytest.raises(UnknownTool) as caught:
        connector.execute_tool("discord_delete_everything", {})
    assert "discord_delete_everything" in caught.value.message
    assert caught.value.kind == "unknown-tool"


def test_a_missing_credential(connector: Connector) -> None:
    with pytest.raises(MissingCredential) as caught:
        connector.execute_tool("discord_get_my_user", {})
    assert "bearer" in caught.value.message


def test_a_rate_limit_not_waited_out_says_how_long_to_wait(connector: Connector, sandbox: Sandbox) -> None:
    # A fresh grant is a caller of its own: the sandbox allows 50 calls a
    # second per route and caller. With a 1 ms retry budget the component
    # does not sit out the 429.
    token = fresh_token(connector, sandbox).bearer()
    impatient = Connector(api_base=sandbox.api_base, env={"DISCORD_MAX_RETRY_WAIT_MS": "1"})
    error = None
    for call in range(60):
        try:
            impatient.execute_tool("discord_get_my_user", {}, token)
        except RateLimited as limited:
            error = limited
            break
    assert error is not None, "no 429 in 60 calls"
    assert call == 50, "the 51st call in the window is the first refused"
    assert error.status == 429
    assert 0 < error.retry_after_ms <= 1000
    assert error.details["scope"] == "user"
    assert error.details["global"] is False
    assert f"retry_after_ms {error.retry_after_ms}" in str(error)


def test_a_refused_setting_is_a_transport_error_naming_it() -> None:
    with pytest.raises(Transport) as caught:
        Connector(api_base="http://example.com/api/v10").execute_tool("discord_get_gateway")
    assert "DISCORD_API_BASE" in caught.value.message
    assert caught.value.details == {"class": "broken"}


def test_a_stalled_upstream_is_a_transport_timeout_at_the_components_deadline() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    try:
        stalled = Connector(api_base=f"http://127.0.0.1:{port}/api/v10", env={"DISCORD_TIMEOUT_MS": "300"})
        started = time.monotonic()
        with pytest.raises(Transport) as caught:
            stalled.execute_tool("discord_get_gateway")
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        for connection in held:
            connection.close()
    assert caught.value.details == {"class": "timeout"}
    assert 0.25 <= elapsed < 1.5, elapsed
    assert held, "the request reached the server"


def test_a_trap_is_a_host_error_not_a_contract_error(connector: Connector, user) -> None:
    # Arguments larger than the instance's 64 MiB memory cap: the guest
    # cannot allocate them and aborts.
    huge = "{" + " " * (70 << 20) + "}"
    with pytest.raises(ComponentTrap) as caught:
        connector.execute_tool("discord_get_my_user", huge, user)
    assert not isinstance(caught.value, ConnectorError)
    assert "trapped in tools.execute-tool" in str(caught.value)
    assert user.token not in str(caught.value)
    # The next call gets a fresh instance and works.
    assert connector.execute_tool("discord_get_my_user", {}, user)["username"] == "nelly"


def test_a_call_past_the_hosts_deadline_is_stopped(connector: Connector, monkeypatch) -> None:
    monkeypatch.setattr(_runtime, "call_deadline_ms", lambda env: 0)
    with pytest.raises(ComponentTrap) as caught:
        connector.list_tools()
    assert "past the host's deadline of 0 ms" in str(caught.value)


def test_the_host_deadline_follows_the_components_timeout() -> None:
    assert _runtime.call_deadline_ms(()) == 15_000 + 2_000
    assert _runtime.call_deadline_ms((("DISCORD_TIMEOUT_MS", "900"),)) == 2_900
    assert _runtime.call_deadline_ms((("DISCORD_TIMEOUT_MS", "9999999"),)) == 602_000
    assert _runtime.call_deadline_ms((("DISCORD_TIMEOUT_MS", "soon"),)) == 17_000


def test_a_file_that_is_not_a_component_is_a_host_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.wasm"
    bogus.write_bytes(b"\x00asm\x01\x00\x00\x00")  # an empty core module, not a component
    with pytest.raises(HostError) as caught:
        Connector(wasm=bogus).list_tools()
    assert not isinstance(caught.value, ConnectorError)
    assert str(bogus) in str(caught.value)
    with pytest.raises(HostError, match="does not load"):
        Connector(wasm=tmp_path / "missing.wasm").list_tools()


def test_python_type_mistakes_are_type_errors(connector: Connector) -> None:
    with pytest.raises(TypeError):
        connector.execute_tool("discord_get_my_user", {}, "a-raw-token-string")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        connector.execute_tool("discord_get_my_user", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Connector(env={"DISCORD_TIMEOUT_MS": 300})  # type: ignore[dict-item]
