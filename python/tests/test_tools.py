"""The tool catalogue and tool calls against the sandbox."""

from __future__ import annotations

import re
import struct
import urllib.request
from pathlib import Path

from discord_connector import Blob, Connector
from support import APPLICATION_ID, USER_ID, Sandbox

# The catalogue's names, as `cargo xtask generate` lists them for the component.
EXPECTED_TOOLS = set(
    re.findall(
        r'^\s+"(discord_\w+)",$',
        (Path(__file__).resolve().parents[2] / "src" / "input_schemas.rs").read_text(),
        re.MULTILINE,
    )
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_list_tools_gives_every_tool_with_parsed_schemas(connector: Connector) -> None:
    tools = connector.list_tools()
    assert len(tools) == len(EXPECTED_TOOLS)
    assert {tool["name"] for tool in tools} == EXPECTED_TOOLS
    for tool in tools:
        assert set(tool) == {"name", "description", "input_schema", "scopes", "accepts"}
        assert isinstance(tool["input_schema"], dict), tool["name"]
        assert tool["input_schema"]["type"] == "object", tool["name"]
        assert isinstance(tool["input_schema"].get("properties", {}), dict)
        assert tool["description"].strip(), tool["name"]
        assert tool["accepts"] and set(tool["accepts"]) <= {"none", "bearer", "bot"}, tool["name"]
        assert all(isinstance(scope, str) for scope in tool["scopes"])
    by_name = {tool["name"]: tool for tool in tools}
    me = by_name["discord_get_my_user"]
    assert me["accepts"] == ["bearer", "bot"]
    assert me["scopes"] == ["identify"]
    assert me["input_schema"]["additionalProperties"] is False
    entitlements = by_name["discord_get_current_user_application_entitlements"]
    assert entitlements["input_schema"]["required"] == ["application_id"]
    assert entitlements["scopes"] == ["applications.entitlements"]
    assert "none" in by_name["discord_get_gateway"]["accepts"]


def test_a_bearer_gets_my_user(connector: Connector, user) -> None:
    me = connector.execute_tool("discord_get_my_user", {}, user)
    assert isinstance(me, dict)
    assert me["id"] == USER_ID
    assert me["username"] == "nelly"
    assert me["email"] == "nelly@example.com"


def test_arguments_may_be_a_json_string(connector: Connector, user) -> None:
    as_dict = connector.execute_tool("discord_list_my_guilds", {"limit": 2, "after": "81384788765712384"}, user)
    as_text = connector.execute_tool("discord_list_my_guilds", '{"limit": 2, "after": "81384788765712384"}', user)
    assert isinstance(as_dict, list)
    assert [guild["id"] for guild in as_dict] == ["613425648685547541", "1144100424245366835"]
    assert as_text == as_dict


def test_a_bot_credential_runs_bot_tools(connector: Connector, bot) -> None:
    me = connector.execute_tool("discord_get_my_user", {}, bot)
    assert me["bot"] is True
    assert me["id"] == APPLICATION_ID
    assert me["username"] == "sandbox-bot"
    other = connector.execute_tool("discord_get_user", {"user_id": "41771983423143937"}, bot)
    assert other["username"] == "discord-dev"


def test_a_tool_without_credential(connector: Connector) -> None:
    assert connector.execute_tool("discord_get_gateway") == {"url": "wss://gateway.discord.gg"}
    invite = connector.execute_tool(
        "discord_resolve_invite",
        {"invite_code": "https://discord.gg/wasm-workshop", "with_counts": True,
         "guild_scheduled_event_id": "1200000000000000001"},
    )
    assert invite["code"] == "wasm-workshop"
    assert invite["approximate_member_count"] > 0
    assert invite["guild_scheduled_event"]["id"] == "1200000000000000001"


def test_the_widget_png_is_a_blob_byte_for_byte(connector: Connector, sandbox: Sandbox, bot) -> None:
    blob = connector.execute_tool(
        "discord_get_guild_widget_png", {"guild_id": "1144100424245366835", "style": "banner4"}, bot
    )
    assert isinstance(blob, Blob)
    assert blob.content_type == "image/png"
    assert isinstance(blob.data, bytes)
    assert blob.data.startswith(PNG_SIGNATURE)
    # IHDR: width and height, big-endian, after the signature and chunk header.
    assert blob.data[12:16] == b"IHDR"
    assert struct.unpack(">II", blob.data[16:24]) == (320, 160)
    served = urllib.request.urlopen(
        f"{sandbox.api_base}/guilds/1144100424245366835/widget.png?style=banner4", timeout=10
    ).read()
    assert blob.data == served
    assert "bytes" in repr(blob) and str(len(blob.data)) in repr(blob)
