"""Credentials and tokens never show their secrets."""

from __future__ import annotations

import pickle

import pytest

from discord_connector import AuthorizationLink, Bearer, Blob, Bot, Token
from support import BOT_TOKEN, USER_TOKEN


def test_credentials_redact_their_token() -> None:
    bearer, bot = Bearer(USER_TOKEN), Bot(BOT_TOKEN)
    assert repr(bearer) == str(bearer) == "Bearer([redacted])"
    assert repr(bot) == str(bot) == "Bot([redacted])"
    assert f"{bearer} {bot!r}" == "Bearer([redacted]) Bot([redacted])"
    assert USER_TOKEN not in repr([bearer, {"c": bearer}])
    assert bearer.token == USER_TOKEN and bot.token == BOT_TOKEN
    assert bearer == Bearer(USER_TOKEN) and bearer != Bot(USER_TOKEN) and bearer != Bearer("other")
    assert len({bearer, Bearer(USER_TOKEN)}) == 1
    assert pickle.loads(pickle.dumps(bearer)) == bearer
    with pytest.raises(AttributeError):
        bearer.other = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        Bearer(None)  # type: ignore[arg-type]


def test_tokens_links_and_blobs_redact_in_repr() -> None:
    token = Token(
        access_token="secret-access", token_type="Bearer", expires_in_seconds=60,
        refresh_token="secret-refresh", scopes=["identify"],
    )
    shown = repr(token)
    assert "secret-access" not in shown and "secret-refresh" not in shown
    assert "expires_in_seconds=60" in shown and "[redacted]" in shown
    assert token.bearer() == Bearer("secret-access")
    link = AuthorizationLink(url="https://x/?state=s", state="s", code_verifier="verifier-secret")
    assert "verifier-secret" not in repr(link)
    assert repr(Blob("image/png", b"\x89PNG")) == "Blob(content_type='image/png', data=<4 bytes>)"


def test_a_connectors_repr_shows_no_userinfo() -> None:
    from discord_connector import Connector

    shown = repr(Connector("https://user:pass@discord.com/api/v10", env={"DISCORD_TIMEOUT_MS": "900"}))
    assert shown == "Connector(api_base='https://discord.com/api/v10', env=<3 settings>)"
