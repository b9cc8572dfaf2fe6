"""Helpers for the tests: the sandbox's fixed tokens and ids, starting the
sandbox, and getting a fresh grant through the OAuth flow."""

from __future__ import annotations

import http.client
import queue
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from discord_connector import Connector, Token

REPO = Path(__file__).resolve().parents[2]

# The sandbox's fixed tokens and ids (sandbox/src/tokens.rs).
USER_TOKEN = "sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.all-scopes"
IDENTIFY_ONLY_TOKEN = "sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.identify-only"
BOT_TOKEN = "sbx-bot.MTE3ODc2NTI2MTY0MDk1Mzg1Ng.GhJkLm.bot-secret"
USER_ID = "80351110224678912"
APPLICATION_ID = "1178765261640953856"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class Sandbox:
    """A running sandbox: what it printed on start."""

    api_base: str
    authorize_url: str
    client_id: str
    client_secret: str
    process: subprocess.Popen

    @property
    def origin(self) -> str:
        parts = urllib.parse.urlsplit(self.api_base)
        return f"{parts.scheme}://{parts.netloc}"


def read_settings(process: subprocess.Popen, timeout: float) -> dict[str, str]:
    lines: "queue.Queue[Optional[str]]" = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    wanted = {"DISCORD_API_BASE", "DISCORD_AUTHORIZE_URL", "DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET"}
    settings: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while not wanted <= settings.keys():
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"the sandbox printed no settings within {timeout} s") from None
        if line is None:
            raise RuntimeError(f"the sandbox exited (status {process.wait()}) before printing its settings")
        name, _, value = line.strip().partition("=")
        if name in wanted:
            settings[name] = value
    return settings


def follow_authorization(url: str) -> dict[str, str]:
    """Opens an authorization link as the user's browser would: the sandbox
    approves at once and redirects; returns the redirect's query (``code``
    and ``state``) without following it."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        answer = connection.getresponse()
        answer.read()
        location = answer.getheader("location")
        if answer.status != 302 or not location:
            raise AssertionError(f"the sandbox answered {answer.status} without a redirect")
    finally:
        connection.close()
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def fresh_token(connector: Connector, sandbox: Sandbox, scopes: tuple[str, ...] = ("identify", "guilds")) -> Token:
    """A new grant through the whole link flow: a token no other test uses."""
    link = connector.authorization_link(client_id=sandbox.client_id, redirect_uri=REDIRECT_URI, scopes=list(scopes))
    redirect = follow_authorization(link.url)
    return connector.exchange_code(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code=redirect["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=link.code_verifier,
    )
