"""Shared set-up: the Discord sandbox (the repository's `discord-sandbox`
binary), started once per session, and connectors pointed at it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from discord_connector import Bearer, Bot, Connector
from support import BOT_TOKEN, REPO, USER_TOKEN, Sandbox, read_settings


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox binary (``$DISCORD_SANDBOX_BIN``, default
    ``<repo>/target/debug/discord-sandbox``) on a free port, killed at the end."""
    binary = Path(os.environ.get("DISCORD_SANDBOX_BIN", REPO / "target" / "debug" / "discord-sandbox"))
    if not binary.is_file():
        pytest.fail(
            f"the sandbox binary {binary} does not exist: build it with `cargo build -p discord-sandbox` "
            "or point DISCORD_SANDBOX_BIN at it"
        )
    process = subprocess.Popen(
        [str(binary), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        settings = read_settings(process, timeout=30)
        yield Sandbox(
            api_base=settings["DISCORD_API_BASE"],
            authorize_url=settings["DISCORD_AUTHORIZE_URL"],
            client_id=settings["DISCORD_CLIENT_ID"],
            client_secret=settings["DISCORD_CLIENT_SECRET"],
            process=process,
        )
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def connector(sandbox: Sandbox) -> Connector:
    """A connector that knows the sandbox's API and its authorization page."""
    return Connector(api_base=sandbox.api_base, env={"DISCORD_AUTHORIZE_URL": sandbox.authorize_url})


@pytest.fixture
def user() -> Bearer:
    return Bearer(USER_TOKEN)


@pytest.fixture
def bot() -> Bot:
    return Bot(BOT_TOKEN)
