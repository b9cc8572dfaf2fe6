"""``Connector(tools=...)``: ``DISCORD_TOOLS`` limits what the component
lists and runs; any other tool is refused before anything is sent."""

from __future__ import annotations

import pytest

from discord_connector import Connector, Transport, UnknownTool
from support import USER_ID, Sandbox


def read_only_names(connector: Connector) -> list:
    """The read-only tools of the full list, selected as the globs below do."""
    return [
        tool["name"]
        for tool in connector.list_tools()
        if tool["name"].startswith(("discord_get_", "discord_list_"))
    ]


@pytest.mark.parametrize("tools", ["discord_get_*,discord_list_*", ["discord_get_*", "discord_list_*"]])
def test_only_the_selected_tools_are_listed_and_run(connector: Connector, sandbox: Sandbox, user, bot, tools) -> None:
    expected = read_only_names(connector)
    assert 10 < len(expected) < len(connector.list_tools())
    selected = Connector(api_base=sandbox.api_base, tools=tools)
    assert selected.env["DISCORD_TOOLS"] == "discord_get_*,discord_list_*"
    assert [tool["name"] for tool in selected.list_tools()] == expected
    assert selected.execute_tool("discord_get_my_user", {}, user)["id"] == USER_ID
    with pytest.raises(UnknownTool):
        selected.execute_tool("discord_send_message", {"channel_id": "1", "content": "hi"}, bot)


def test_tools_wins_over_env_and_env_alone_works(connector: Connector, sandbox: Sandbox) -> None:
    via_env = Connector(api_base=sandbox.api_base, env={"DISCORD_TOOLS": "discord_get_*,discord_list_*"})
    assert [tool["name"] for tool in via_env.list_tools()] == read_only_names(connector)
    both = Connector(env={"DISCORD_TOOLS": "discord_list_*"}, tools="discord_get_my_user")
    assert both.env["DISCORD_TOOLS"] == "discord_get_my_user"
    with pytest.raises(TypeError):
        Connector(tools=["discord_get_*", 7])  # type: ignore[list-item]


def test_a_value_the_component_refuses_fails_every_call_naming_it(sandbox: Sandbox) -> None:
    misspelt = Connector(api_base=sandbox.api_base, tools="discord_get_mi_user")
    assert misspelt.list_tools() == []
    with pytest.raises(Transport, match="discord_get_mi_user"):
        misspelt.execute_tool("discord_get_gateway")
