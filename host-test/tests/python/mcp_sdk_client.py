"""The official MCP Python SDK as a client of the served REST/MCP component.

Connects over Streamable HTTP with a bearer header, lists the tools, calls a
JSON tool, the PNG tool and a tool that fails, and prints what it got as one
JSON object (the wire names of the SDK's own parsed models) for the Rust test
to check. Usage: mcp_sdk_client.py URL TOKEN
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def wire(model):
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


async def main(url: str, token: str) -> None:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            tools = await client.list_tools()
            me = await client.call_tool("discord_get_my_user", {})
            png = await client.call_tool(
                "discord_get_guild_widget_png", {"guild_id": "1144100424245366835"}
            )
            failed = await client.call_tool("discord_get_user", {"user_id": "1"})
    print(
        json.dumps(
            {
                "tools": [wire(tool) for tool in tools.tools],
                "me": wire(me),
                "png": wire(png),
                "failed": wire(failed),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
