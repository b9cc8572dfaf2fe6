"""The tools in the shapes agent SDKs take, and the running of a model's
tool call. Plain dicts and strings only: no agent SDK is imported.

- :func:`openai_tools`: OpenAI function tools (Chat Completions, or the
  Responses API's flat shape with ``api="responses"``).
- :func:`mcp_tools`: MCP ``tools/list`` entries.
- :func:`dispatch`: runs a tool call (name and JSON arguments string) and
  returns a JSON string for the model.
- :func:`run_tool_call`: the same for an OpenAI tool call object or dict,
  returning the message to send back.
- :func:`mcp_call`: runs a tool and returns an MCP ``tools/call`` result.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union

from ._errors import ConnectorError
from ._types import Blob, Credential

if TYPE_CHECKING:
    from ._connector import Connector

CredentialChoice = Union[Credential, None, Callable[[str], Optional[Credential]]]


def _credential_for(credential: CredentialChoice, name: str) -> Optional[Credential]:
    if credential is None or isinstance(credential, Credential):
        return credential
    return credential(name)


def title_of(name: str) -> str:
    """A human title from a tool's name, as the REST/MCP component makes it: the
    provider prefix dropped, words spaced, the first capitalised
    (``discord_get_my_user`` -> ``"Get my user"``)."""
    words = (name.split("_", 1)[1] if "_" in name else name).replace("_", " ")
    return words[:1].upper() + words[1:]


def _schema(tool: Dict[str, Any]) -> Dict[str, Any]:
    schema = tool["input_schema"]
    return schema if isinstance(schema, dict) else {"type": "object"}


def openai_tools(connector: "Connector", *, api: str = "chat") -> List[Dict[str, Any]]:
    """The tools as OpenAI function tools.

    ``api="chat"`` (Chat Completions, the default) gives
    ``{"type": "function", "function": {"name", "description", "parameters"}}``;
    ``api="responses"`` gives the Responses API's flat
    ``{"type": "function", "name", "description", "parameters", "strict": False}``
    (the schemas have optional fields, which strict mode does not allow).
    """
    tools = connector.list_tools()
    if api == "chat":
        return [
            {
                "type": "function",
                "function": {"name": t["name"], "description": t["description"], "parameters": _schema(t)},
            }
            for t in tools
        ]
    if api == "responses":
        return [
            {
                "type": "function",
                "name": t["name"],
                "description": t["description"],
                "parameters": _schema(t),
                "strict": False,
            }
            for t in tools
        ]
    raise ValueError('api is "chat" or "responses"')


def mcp_tools(connector: "Connector") -> List[Dict[str, Any]]:
    """The tools as MCP ``tools/list`` entries, as the REST/MCP component lists them:
    ``name``, ``title``, ``description``, ``inputSchema`` and annotations
    (every tool reads: ``readOnlyHint`` and ``openWorldHint`` are true)."""
    entries = []
    for tool in connector.list_tools():
        title = title_of(tool["name"])
        entries.append(
            {
                "name": tool["name"],
                "title": title,
                "description": tool["description"],
                "inputSchema": _schema(tool),
                "annotations": {"title": title, "readOnlyHint": True, "openWorldHint": True},
            }
        )
    return entries


def _blob_json(blob: Blob) -> Dict[str, Any]:
    return {
        "content_type": blob.content_type,
        "size": len(blob.data),
        "data_base64": base64.b64encode(blob.data).decode("ascii"),
    }


def dispatch(
    connector: "Connector",
    name: str,
    arguments: Union[str, Dict[str, Any], None],
    credential: CredentialChoice = None,
) -> str:
    """Runs a model's tool call and returns the result as a JSON string.

    ``arguments`` is the model's JSON arguments string, passed to the
    component as is (it checks it against the tool's schema). A JSON answer
    comes back as that JSON; binary content as
    ``{"content_type", "size", "data_base64"}``; a :class:`ConnectorError`
    as ``{"error": {"kind", "message", "status", "code", "details",
    "retry_after_ms"}}``, so the model can correct its arguments, wait or
    ask for a connection. A :class:`HostError` is raised: it is not the
    model's to handle. ``credential`` may be a function of the tool name.
    """
    try:
        result = connector.execute_tool(name, arguments if arguments is not None else "{}",
                                        _credential_for(credential, name))
    except ConnectorError as error:
        return json.dumps({"error": error.to_dict()})
    if isinstance(result, Blob):
        return json.dumps(_blob_json(result))
    return json.dumps(result)


def _get(item: Any, key: str) -> Any:
    if isinstance(item, dict):
        return item.get(key)
    return getattr(item, key, None)


def run_tool_call(
    connector: "Connector", tool_call: Any, credential: CredentialChoice = None
) -> Dict[str, Any]:
    """Runs an OpenAI tool call and returns the item to send back.

    ``tool_call`` is a Chat Completions tool call (``id`` and
    ``function.name``/``function.arguments``; an SDK object or a dict),
    answered with ``{"role": "tool", "tool_call_id", "content"}``, or a
    Responses API ``function_call`` item (``call_id``, ``name``,
    ``arguments``), answered with ``{"type": "function_call_output",
    "call_id", "output"}``.
    """
    function = _get(tool_call, "function")
    if function is not None:
        output = dispatch(connector, _get(function, "name"), _get(function, "arguments"), credential)
        return {"role": "tool", "tool_call_id": _get(tool_call, "id"), "content": output}
    if _get(tool_call, "call_id") is not None:
        output = dispatch(connector, _get(tool_call, "name"), _get(tool_call, "arguments"), credential)
        return {"type": "function_call_output", "call_id": _get(tool_call, "call_id"), "output": output}
    raise TypeError("tool_call is a Chat Completions tool call or a Responses API function_call item")


def mcp_call(
    connector: "Connector",
    name: str,
    arguments: Union[str, Dict[str, Any], None],
    credential: CredentialChoice = None,
) -> Dict[str, Any]:
    """Runs a tool and returns an MCP ``tools/call`` result, as the REST/MCP component
    shapes it: JSON as a text block plus ``structuredContent`` (an array as
    ``{"items": [...]}``), binary content as an image block, a
    :class:`ConnectorError` as ``isError`` with the kind, status, code and
    wait in its text."""
    try:
        result = connector.execute_tool(name, arguments, _credential_for(credential, name))
    except ConnectorError as error:
        return {"content": [{"type": "text", "text": str(error)}], "isError": True}
    if isinstance(result, Blob):
        data = base64.b64encode(result.data).decode("ascii")
        return {"content": [{"type": "image", "data": data, "mimeType": result.content_type}], "isError": False}
    if isinstance(result, dict):
        structured: Dict[str, Any] = result
    elif isinstance(result, list):
        structured = {"items": result}
    else:
        structured = {"value": result}
    return {
        "content": [{"type": "text", "text": json.dumps(result)}],
        "structuredContent": structured,
        "isError": False,
    }
