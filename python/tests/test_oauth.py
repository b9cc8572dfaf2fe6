"""OAuth 2.0 with PKCE through the component, against the sandbox's
authorization server: link, approve, exchange, refresh, revoke."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse

import pytest

from discord_connector import AuthorizationLink, Bearer, Connector, InvalidArguments, Token, Unauthorized
from support import REDIRECT_URI, Sandbox, follow_authorization


def test_the_whole_flow(connector: Connector, sandbox: Sandbox) -> None:
    link = connector.authorization_link(
        client_id=sandbox.client_id,
        redirect_uri=REDIRECT_URI,
        scopes=["identify", "guilds"],
        prompt="consent",
    )
    assert isinstance(link, AuthorizationLink)
    assert link.url.startswith(sandbox.authorize_url + "?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link.url).query))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(link.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == challenge
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == sandbox.client_id
    assert query["scope"] == "identify guilds"
    assert query["state"] == link.state
    assert query["prompt"] == "consent"
    assert query["redirect_uri"] == REDIRECT_URI
    assert link.code_verifier not in link.url
    assert 43 <= len(link.code_verifier) <= 128

    # The user approves; the sandbox redirects with a code and the state.
    redirect = follow_authorization(link.url)
    assert redirect["state"] == link.state
    code = redirect["code"]

    token = connector.exchange_code(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=link.code_verifier,
    )
    assert isinstance(token, Token)
    assert token.token_type == "Bearer"
    assert token.scopes == ["identify", "guilds"]
    assert token.expires_in_seconds == 604_800
    assert token.access_token.startswith("sbx-at.")
    assert token.refresh_token is not None and token.refresh_token.startswith("sbx-rt.")
    assert token.access_token not in repr(token) and token.refresh_token not in repr(token)
    me = connector.execute_tool("discord_get_my_user", {}, token.bearer())
    assert me["username"] == "nelly"

    # A code works once.
    with pytest.raises(Unauthorized) as reused:
        connector.exchange_code(
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            code=code,
            redirect_uri=REDIRECT_URI,
            code_verifier=link.code_verifier,
        )
    assert reused.value.status == 400
    assert "invalid_grant" in reused.value.message
    for secret in (code, link.code_verifier, sandbox.client_secret):
        assert secret not in str(reused.value)

    # The reused code revoked its grant (RFC 6749 4.1.2): start again.
    link = connector.authorization_link(client_id=sandbox.client_id, redirect_uri=REDIRECT_URI, scopes=["identify"])
    redirect = follow_authorization(link.url)
    first = connector.exchange_code(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code=redirect["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=link.code_verifier,
    )
    second = connector.refresh_token(
        client_id=sandbox.client_id, client_secret=sandbox.client_secret, refresh_token=first.refresh_token
    )
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert second.scopes == ["identify"]
    assert connector.execute_tool("discord_get_my_user", {}, second.bearer())["id"] == "80351110224678912"
    with pytest.raises(Unauthorized) as stale:
        connector.refresh_token(
            client_id=sandbox.client_id, client_secret=sandbox.client_secret, refresh_token=first.refresh_token
        )
    assert "invalid_grant" in stale.value.message
    assert first.refresh_token not in str(stale.value)

    revoked_result = connector.revoke_token(
        client_id=sandbox.client_id, client_secret=sandbox.client_secret, token=second.access_token
    )
    assert revoked_result is None
    with pytest.raises(Unauthorized) as revoked:
        connector.execute_tool("discord_get_my_user", {}, second.bearer())
    assert revoked.value.status == 401
    with pytest.raises(Unauthorized) as ended:
        connector.refresh_token(
            client_id=sandbox.client_id, client_secret=sandbox.client_secret, refresh_token=second.refresh_token
        )
    assert "invalid_grant" in ended.value.message


def test_a_public_client_relies_on_pkce(connector: Connector, sandbox: Sandbox) -> None:
    link = connector.authorization_link(
        client_id=sandbox.client_id, redirect_uri=REDIRECT_URI, scopes=["identify"], state="my-own-state",
        extra={"guild_id": "613425648685547541"},
    )
    assert link.state == "my-own-state"
    assert "&guild_id=613425648685547541" in link.url
    redirect = follow_authorization(link.url)
    assert redirect["state"] == "my-own-state"
    token = connector.exchange_code(
        client_id=sandbox.client_id, code=redirect["code"], redirect_uri=REDIRECT_URI, code_verifier=link.code_verifier
    )
    assert connector.execute_tool("discord_get_my_user", {}, Bearer(token.access_token))["username"] == "nelly"


def test_a_wrong_verifier_or_secret_is_unauthorized(connector: Connector, sandbox: Sandbox) -> None:
    link = connector.authorization_link(client_id=sandbox.client_id, redirect_uri=REDIRECT_URI, scopes=["identify"])
    code = follow_authorization(link.url)["code"]
    with pytest.raises(Unauthorized) as wrong_verifier:
        connector.exchange_code(
            client_id=sandbox.client_id, client_secret=sandbox.client_secret, code=code,
            redirect_uri=REDIRECT_URI, code_verifier="w" * 43,
        )
    assert "invalid_grant" in wrong_verifier.value.message
    assert code not in str(wrong_verifier.value)
    with pytest.raises(Unauthorized) as wrong_secret:
        connector.exchange_code(
            client_id=sandbox.client_id, client_secret="not-the-secret", code=code,
            redirect_uri=REDIRECT_URI, code_verifier=link.code_verifier,
        )
    assert "invalid_client" in wrong_secret.value.message
    assert "not-the-secret" not in str(wrong_secret.value)
    with pytest.raises(InvalidArguments):
        connector.exchange_code(
            client_id=sandbox.client_id, client_secret=sandbox.client_secret, code=code,
            redirect_uri=REDIRECT_URI, code_verifier="short",
        )


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"client_id": ""}, "client_id"),
        ({"redirect_uri": "http://example.com/callback"}, "plain http"),
        ({"scopes": []}, "scopes may not be empty"),
        ({"scopes": ["identify", "admin"]}, '"admin"'),
        ({"prompt": "login"}, "prompt"),
        ({"extra": [("redirect_uri", "x")]}, '"redirect_uri"'),
    ],
)
def test_bad_link_requests_are_invalid_arguments(connector: Connector, sandbox: Sandbox, change, expected) -> None:
    request = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT_URI, "scopes": ["identify"], **change}
    with pytest.raises(InvalidArguments) as caught:
        connector.authorization_link(**request)
    assert expected in caught.value.message
