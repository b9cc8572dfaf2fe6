//! A contract's tool as JSON, shared by the REST routes and MCP.

use serde_json::{Value, json};

use crate::contract::{Tool, credential_kind_name};

/// A tool as JSON: its schema as an object, its credential kinds by name.
pub fn tool_json(tool: &Tool) -> Value {
    json!({
        "name": tool.name,
        "description": tool.description,
        "input_schema": schema_of(tool),
        "scopes": tool.scopes,
        "accepts": tool.accepts.iter().map(|kind| credential_kind_name(*kind)).collect::<Vec<_>>(),
    })
}

/// A tool's input schema as a JSON object (an empty object schema if the
/// component sent something else).
pub fn schema_of(tool: &Tool) -> Value {
    serde_json::from_str::<Value>(&tool.input_schema)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"type": "object"}))
}
