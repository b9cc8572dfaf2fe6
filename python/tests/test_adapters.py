"""The OpenAI and MCP shapes, and running a model's tool call."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from types import SimpleNamespace

from discord_connector import Bearer, Bot, Connector, dispatch, mcp_call, mcp_tools, openai_tools, run_tool_call
from discord_connector.adapters import title_of
from support import USER_TOKEN
from test_tools import EXPECTED_TOOLS, PNG_SIGNATURE

OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_openai_chat_tools(connector: Connector) -> None:
    tools = openai_tools(connector)
    schemas = {tool["name"]: tool["input_schema"] for tool in connector.list_tools()}
    assert len(tools) == len(EXPECTED_TOOLS)
    assert {tool["function"]["name"] for tool in tools} == EXPECTED_TOOLS
    for tool in tools:
        assert set(tool) == {"type", "function"} and tool["type"] == "function"
        function = tool["function"]
        assert set(function) == {"name", "description", "parameters"}
        assert OPENAI_NAME.match(function["name"]), function["name"]
        assert function["parameters"] == schemas[function["name"]]
        assert function["parameters"]["type"] == "object"
        assert function["description"]
    json.dumps(tools)  # plain data


def test_openai_responses_tools(connector: Connector) -> None:
    tools = openai_tools(connector, api="responses")
    assert len(tools) == len(EXPECTED_TOOLS)
    for tool in tools:
        assert set(tool) == {"type", "name", "description", "parameters", "strict"}
        assert tool["type"] == "function" and tool["strict"] is False
        assert tool["parameters"]["type"] == "object"


def test_mcp_tools(connector: Connector) -> None:
    tools = mcp_tools(connector)
    assert len(tools) == len(EXPECTED_TOOLS)
    assert {tool["name"] for tool in tools} == EXPECTED_TOOLS
    for tool in tools:
        assert set(tool) == {"name", "title", "description", "inputSchema", "annotations"}
        assert tool["inputSchema"]["type"] == "object"
        assert tool["annotations"] == {"title": tool["title"], "readOnlyHint": True, "openWorldHint": True}
    me = next(tool for tool in tools if tool["name"] == "discord_get_my_user")
    assert me["title"] == "Get my user"
    assert title_of("discord_list_my_guilds") == "List my guilds"


def test_dispatch_returns_json_for_the_model(connector: Connector) -> None:
    user = Bearer(USER_TOKEN)
    assert json.loads(dispatch(connector, "discord_get_my_user", "{}", user))["username"] == "nelly"
    guilds = json.loads(dispatch(connector, "discord_list_my_guilds", '{"limit": 1}', user))
    assert isinstance(guilds, list) and len(guilds) == 1
    refused = json.loads(dispatch(connector, "discord_get_user", '{"user_id": 1}', user))
    assert refused["error"]["kind"] == "invalid-arguments"
    assert set(refused["error"]) == {"kind", "message", "status", "code", "details", "retry_after_ms"}
    unauthorized = json.loads(dispatch(connector, "discord_get_my_user", "{}", Bearer("bad")))
    assert (unauthorized["error"]["kind"], unauthorized["error"]["status"]) == ("unauthorized", 401)
    png = json.loads(dispatch(connector, "discord_get_guild_widget_png", '{"guild_id": "613425648685547541"}'))
    assert png["content_type"] == "image/png"
    data = base64.b64decode(png["data_base64"])
    assert data.startswith(PNG_SIGNATURE) and len(data) == png["size"]
    # The credential may be chosen per tool.
    chosen = json.loads(dispatch(connector, "discord_get_my_user", "{}", lambda name: Bot(
        "sbx-bot.MTE3ODc2NTI2MTY0MDk1Mzg1Ng.GhJkLm.bot-secret")))
    assert chosen["bot"] is True


def test_run_tool_call_answers_chat_and_responses_calls(connector: Connector) -> None:
    user = Bearer(USER_TOKEN)
    chat_call = SimpleNamespace(
        id="call_1", type="function", function=SimpleNamespace(name="discord_get_my_user", arguments="{}")
    )
    message = run_tool_call(connector, chat_call, user)
    assert message["role"] == "tool" and message["tool_call_id"] == "call_1"
    assert json.loads(message["content"])["id"] == "80351110224678912"
    as_dict = run_tool_call(
        connector, {"id": "call_2", "function": {"name": "discord_get_gateway", "arguments": "{}"}}
    )
    assert json.loads(as_dict["content"]) == {"url": "wss://gateway.discord.gg"}
    item = {"type": "function_call", "call_id": "fc_1", "name": "discord_get_my_user", "arguments": "{}"}
    output = run_tool_call(connector, item, user)
    assert output["type"] == "function_call_output" and output["call_id"] == "fc_1"
    assert json.loads(output["output"])["username"] == "nelly"


def test_mcp_call_results(connector: Connector) -> None:
    user = Bearer(USER_TOKEN)
    me = mcp_call(connector, "discord_get_my_user", {}, user)
    assert me["isError"] is False
    assert me["structuredContent"]["username"] == "nelly"
    assert json.loads(me["content"][0]["text"]) == me["structuredContent"]
    guilds = mcp_call(connector, "discord_list_my_guilds", {"limit": 2}, user)
    assert len(guilds["structuredContent"]["items"]) == 2
    image = mcp_call(connector, "discord_get_guild_widget_png", {"guild_id": "613425648685547541"})
    assert image["content"][0]["type"] == "image" and image["content"][0]["mimeType"] == "image/png"
    assert base64.b64decode(image["content"][0]["data"]).startswith(PNG_SIGNATURE)
    error = mcp_call(connector, "discord_get_my_user", {}, Bearer("bad"))
    assert error["isError"] is True
    assert error["content"][0]["text"].startswith("unauthorized: ")
    assert "(status 401, code 0)" in error["content"][0]["text"]


def test_no_agent_sdk_is_imported() -> None:
    code = (
        "import sys, discord_connector, discord_connector.adapters\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'openai', 'mcp', 'anthropic', 'langchain', 'langchain_core', 'agents', 'pydantic'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
