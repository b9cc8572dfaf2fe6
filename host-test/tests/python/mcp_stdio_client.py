"""The official MCP Python SDK starting `discord-host mcp` over stdio.

Lists the tools, calls a JSON tool and the PNG tool and, when
REVOKED_BEARER_TOKEN is set, starts a second server with that token and calls
a tool that fails with 401. Prints what it got as one JSON object (the wire
names of the SDK's parsed models). The server's settings (API base, token,
store) come from this process's environment.
Usage: mcp_stdio_client.py COMMAND [ARG ...]
"""

import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters


def wire(model):
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


async def main(command: str, args: list[str]) -> None:
    env = dict(os.environ)
    revoked = env.pop("REVOKED_BEARER_TOKEN", None)
    report = {}
    async with Client(StdioServerParameters(command=command, args=args, env=env)) as client:
        tools = await client.list_tools()
        report["tools"] = [wire(tool) for tool in tools.tools]
        report["json"] = wire(await client.call_tool("discord_list_my_guilds", {"limit": 2}))
        report["png"] = wire(
            await client.call_tool(
                "discord_get_guild_widget_png", {"guild_id": "1144100424245366835"}
            )
        )
    if revoked:
        env["DISCORD_BEARER_TOKEN"] = revoked
        async with Client(StdioServerParameters(command=command, args=args, env=env)) as client:
            report["failed"] = wire(await client.call_tool("discord_get_my_user", {}))
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
