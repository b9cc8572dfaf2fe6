"""The raw proxy: any answer is a response; a refused request raises."""

from __future__ import annotations

import pytest

from discord_connector import Connector, InvalidArguments, ProxyResponse


def test_get_users_me(connector: Connector, user) -> None:
    answer = connector.proxy("GET", "/users/@me", credential=user)
    assert isinstance(answer, ProxyResponse)
    assert answer.status == 200
    assert isinstance(answer.body, bytes)
    me = answer.json()
    assert me["id"] == "80351110224678912" and me["username"] == "nelly"
    assert answer.header("Content-Type") == "application/json"
    assert answer.header("x-ratelimit-bucket") is not None
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in answer.headers)
    assert '"nelly"' in answer.text


def test_query_pairs_and_error_statuses_are_answers(connector: Connector, user, bot) -> None:
    guilds = connector.proxy("GET", "/users/@me/guilds", query={"limit": "1", "with_counts": "true"}, credential=user)
    assert guilds.status == 200
    assert len(guilds.json()) == 1
    assert "approximate_member_count" in guilds.json()[0]
    assert connector.proxy("GET", "/users/1", credential=bot).status == 404
    unauthorized = connector.proxy("GET", "/users/@me")
    assert unauthorized.status == 401
    assert unauthorized.json()["code"] == 0
    patched = connector.proxy("PATCH", "/users/@me", body={"username": "nelly"}, credential=user)
    assert patched.status == 405, "the sandbox serves GETs only; the answer still comes back"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("TRACE", "/gateway", None),
        ("GET", "gateway", None),
        ("GET", "/users/../oauth2/token", None),
        ("GET", "/https://evil.example/x", None),
        ("GET", "/gateway", "{}"),
        ("POST", "/gateway", "not json"),
    ],
)
def test_refused_requests_raise(connector: Connector, user, method, path, body) -> None:
    with pytest.raises(InvalidArguments):
        connector.proxy(method, path, body=body, credential=user)
