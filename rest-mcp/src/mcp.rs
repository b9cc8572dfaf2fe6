//! MCP over Streamable HTTP on `POST /mcp`: stateless (no session id), one
//! JSON-RPC message per request, answered with a JSON body (no SSE).
//!
//! Tools are the contract's: `tools/list` from `list-tools`, `tools/call`
//! through `execute-tool` with the HTTP request's `Authorization` as the
//! credential. A contract error of a known tool is a result with
//! `isError: true` whose text names the kind, status, code and wait, so an
//! agent can decide to retry or to re-authorize.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::contract::{Contract, ErrorKind, Output, Tool, kind_name};
use crate::http::{Request, Response};
use crate::tool_methods::method_of;
use crate::tools::schema_of;

/// The protocol revisions the REST/MCP component speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];

/// JSON-RPC's error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

fn rpc_error(status: u16, id: Value, code: i64, message: &str) -> Response {
    Response::json(
        status,
        &json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}),
    )
}

fn rpc_result(id: Value, result: Value) -> Response {
    Response::json(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// Answers one MCP message.
pub fn handle(request: &Request, contract: &mut impl Contract) -> Response {
    if let Some(version) = request.header("mcp-protocol-version")
        && !PROTOCOL_VERSIONS.contains(&version.trim())
    {
        return Response::refusal(
            400,
            ErrorKind::InvalidArguments,
            &format!(
                "MCP-Protocol-Version {version:?} is not supported; this server speaks {}",
                PROTOCOL_VERSIONS.join(", ")
            ),
        );
    }
    let media_type = request.header("content-type").unwrap_or_default();
    if !media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return Response::refusal(
            415,
            crate::contract::ErrorKind::InvalidArguments,
            "MCP messages must be application/json",
        );
    }
    let message: Value = match serde_json::from_slice(&request.body) {
        Ok(message) => message,
        Err(error) => {
            return rpc_error(400, Value::Null, PARSE_ERROR, &format!("not JSON: {error}"));
        }
    };
    let Some(object) = message.as_object() else {
        return rpc_error(
            400,
            Value::Null,
            INVALID_REQUEST,
            "a message must be one JSON-RPC object",
        );
    };
    let id = object.get("id").cloned();
    let valid_id = id
        .as_ref()
        .is_none_or(|id| id.is_string() || id.is_i64() || id.is_u64());
    if object.get("jsonrpc") != Some(&json!("2.0")) || !valid_id {
        return rpc_error(
            400,
            Value::Null,
            INVALID_REQUEST,
            "not a JSON-RPC 2.0 message",
        );
    }
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        if object.contains_key("result") || object.contains_key("error") {
            // A response to a request of ours: there are none, so nothing to do.
            return Response::empty(202);
        }
        return rpc_error(
            400,
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "a request needs a method",
        );
    };
    let Some(id) = id else {
        // Notifications (`notifications/initialized`, cancellations) need no answer.
        return Response::empty(202);
    };
    let params = match object.get("params") {
        None => Map::new(),
        Some(Value::Object(params)) => params.clone(),
        Some(_) => return rpc_error(200, id, INVALID_PARAMS, "params must be an object"),
    };
    match method {
        "initialize" => rpc_result(id, initialize(&params)),
        "ping" => rpc_result(id, json!({})),
        "tools/list" => rpc_result(
            id,
            json!({"tools": contract.list_tools().iter().map(tool_json).collect::<Vec<_>>()}),
        ),
        "tools/call" => call_tool(id, &params, request, contract),
        _ => rpc_error(200, id, METHOD_NOT_FOUND, &format!("no method {method:?}")),
    }
}

fn initialize(params: &Map<String, Value>) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|asked| PROTOCOL_VERSIONS.contains(asked))
        .unwrap_or(PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "discord-rest-mcp", "title": "Discord connector", "version": crate::VERSION},
        "instructions": "Tools of the Discord connector. Send the user's or bot's Discord token as the HTTP Authorization header (Bearer or Bot).",
    })
}

/// A human title from a tool's name: the provider prefix dropped, words
/// spaced, the first capitalised (`discord_get_my_user` -> "Get my user").
fn title_of(name: &str) -> String {
    let words = name
        .split_once('_')
        .map_or(name, |(_, rest)| rest)
        .replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// MCP's tool annotations for a tool whose route uses `method`
/// ([`method_of`]): `readOnlyHint` for `GET`; `destructiveHint` for `DELETE`
/// and `PATCH`, and stated `false` for `POST` and `PUT`, since MCP reads a
/// missing one as true; `idempotentHint` for `GET`, `PUT` and `DELETE`;
/// always `openWorldHint`. A tool of unknown method (a component newer
/// than this table) gets no hint but the title and `openWorldHint`, so a
/// client assumes the worst of it.
pub fn annotations(title: &str, method: Option<&str>) -> Value {
    let mut annotations = json!({"title": title, "openWorldHint": true});
    if let Some(method) = method {
        let read_only = method == "GET";
        annotations["readOnlyHint"] = json!(read_only);
        if !read_only {
            annotations["destructiveHint"] = json!(matches!(method, "DELETE" | "PATCH"));
        }
        annotations["idempotentHint"] = json!(matches!(method, "GET" | "PUT" | "DELETE"));
    }
    annotations
}

/// A tool as MCP lists it, from the contract's name, description and
/// schema: a human title and the [`annotations`] of `method`.
pub fn tool_entry(
    name: &str,
    description: &str,
    input_schema: Value,
    method: Option<&str>,
) -> Value {
    let title = title_of(name);
    json!({
        "name": name,
        "title": title,
        "description": description,
        "inputSchema": input_schema,
        "annotations": annotations(&title, method),
    })
}

fn tool_json(tool: &Tool) -> Value {
    tool_entry(
        &tool.name,
        &tool.description,
        schema_of(tool),
        method_of(&tool.name),
    )
}

/// The `tools/call` result of a JSON answer: an object is
/// `structuredContent` as is, an array `{"items": [...]}`, plus the JSON as
/// a text block.
pub fn json_result(text: &str) -> Value {
    let structured = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Value::Object(object),
        Ok(Value::Array(items)) => json!({"items": items}),
        Ok(other) => json!({"value": other}),
        Err(_) => json!({}),
    };
    json!({"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": false})
}

/// The `tools/call` result of binary content: an image block, base64.
pub fn image_result(content_type: &str, data: &[u8]) -> Value {
    json!({"content": [{"type": "image", "data": STANDARD.encode(data), "mimeType": content_type}], "isError": false})
}

/// The `tools/call` result of a failed call: `isError` with a text that
/// names the kind and, where present, `status N`, `code N` and
/// `retry_after_ms N`, so an agent can decide to wait or re-authorize.
pub fn error_result(
    kind: &str,
    message: &str,
    status: Option<u16>,
    code: Option<u32>,
    retry_after_ms: Option<u64>,
) -> Value {
    let mut text = format!("{kind}: {message}");
    let mut facts = Vec::new();
    if let Some(status) = status {
        facts.push(format!("status {status}"));
    }
    if let Some(code) = code {
        facts.push(format!("code {code}"));
    }
    if let Some(wait) = retry_after_ms {
        facts.push(format!("retry_after_ms {wait}"));
    }
    if !facts.is_empty() {
        text = format!("{text} ({})", facts.join(", "));
    }
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

fn call_tool(
    id: Value,
    params: &Map<String, Value>,
    request: &Request,
    contract: &mut impl Contract,
) -> Response {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return rpc_error(200, id, INVALID_PARAMS, "tools/call needs a tool name");
    };
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(arguments @ Value::Object(_)) => arguments.clone(),
        Some(_) => return rpc_error(200, id, INVALID_PARAMS, "arguments must be an object"),
    };
    let credential = match request.credential() {
        Ok(credential) => credential,
        Err(_) => {
            return rpc_error(
                200,
                id,
                INVALID_PARAMS,
                "the Authorization header must be Bearer or Bot",
            );
        }
    };
    match contract.execute_tool(name, &arguments.to_string(), &credential) {
        Ok(Output::Json(text)) => rpc_result(id, json_result(&text)),
        Ok(Output::Binary(blob)) => rpc_result(id, image_result(&blob.content_type, &blob.data)),
        Err(error) if error.kind == ErrorKind::UnknownTool => {
            rpc_error(200, id, INVALID_PARAMS, &error.message)
        }
        Err(error) => rpc_result(
            id,
            error_result(
                kind_name(error.kind),
                &error.message,
                error.status,
                error.code,
                error.retry_after_ms,
            ),
        ),
    }
}
