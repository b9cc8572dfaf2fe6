"""The Discord connector, a WebAssembly component, run in-process with wasmtime.

>>> from discord_connector import Connector, Bearer
>>> connector = Connector(api_base="https://discord.com/api/v10")
>>> me = connector.execute_tool("discord_get_my_user", {}, Bearer(token))  # doctest: +SKIP

See :class:`Connector` for the calls, :mod:`discord_connector.adapters` for
OpenAI and MCP tool lists, and :class:`ConnectorError` for the errors.
"""

from ._connector import Connector
from ._errors import (
    ComponentTrap,
    ConnectorError,
    Forbidden,
    HostError,
    InvalidArguments,
    MissingCredential,
    NotFound,
    RateLimited,
    Transport,
    Unauthorized,
    UnknownTool,
    Upstream,
)
from ._types import AuthorizationLink, Bearer, Blob, Bot, Credential, ProxyResponse, Token
from .adapters import dispatch, mcp_call, mcp_tools, openai_tools, run_tool_call

__version__ = "0.1.0"

__all__ = [
    "AuthorizationLink",
    "Bearer",
    "Blob",
    "Bot",
    "ComponentTrap",
    "Connector",
    "ConnectorError",
    "Credential",
    "Forbidden",
    "HostError",
    "InvalidArguments",
    "MissingCredential",
    "NotFound",
    "ProxyResponse",
    "RateLimited",
    "Token",
    "Transport",
    "Unauthorized",
    "UnknownTool",
    "Upstream",
    "dispatch",
    "mcp_call",
    "mcp_tools",
    "openai_tools",
    "run_tool_call",
]
