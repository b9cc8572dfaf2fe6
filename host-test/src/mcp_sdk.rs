//! The official MCP Python SDK (`mcp` from PyPI, pinned in
//! `tests/python/requirements.txt`) as a client of our MCP servers: the
//! served REST/MCP component over Streamable HTTP, and `discord-host mcp`
//! over stdio or Streamable HTTP. Each client script prints a JSON report of
//! what it saw.

use std::ffi::OsStr;
use std::path::Path;

use discord_connector::catalogue::CATALOGUE;
use discord_connector::http::Method;
use serde_json::{Value, json};

use crate::python;

/// Runs the SDK's Streamable HTTP client against `url` with a bearer header
/// of `token`, and returns its report: the tools, a JSON result (`me`), the
/// PNG (`png`) and a failing call (`failed`).
///
/// # Panics
/// When the client fails or prints no JSON.
pub async fn http_report(url: &str, token: &str) -> Value {
    report(
        tokio::process::Command::new(sdk().await)
            .arg(python::script("mcp_sdk_client.py"))
            .arg(url)
            .arg(token),
    )
    .await
}

/// Runs the SDK's stdio client, which starts `server ARGS` with `env` (and
/// no token from this process's environment), and returns its report: the
/// tools, a JSON result (`json`), the PNG (`png`) and a failing call
/// (`failed`).
///
/// # Panics
/// When the client fails or prints no JSON.
pub async fn stdio_report(server: &Path, args: &[&str], env: &[(&str, String)]) -> Value {
    let mut command = tokio::process::Command::new(sdk().await);
    command
        .arg(python::script("mcp_stdio_client.py"))
        .arg(server)
        .args(args)
        .env_remove("DISCORD_BEARER_TOKEN")
        .env_remove("DISCORD_BOT_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    report(&mut command).await
}

async fn sdk() -> impl AsRef<OsStr> {
    tokio::task::spawn_blocking(python::mcp_sdk)
        .await
        .expect("the environment is made")
}

async fn report(command: &mut tokio::process::Command) -> Value {
    let output = command.output().await.expect("the SDK client runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client's JSON report")
}

/// Checks what the SDK's HTTP client saw: every tool with annotations, a
/// JSON result, the PNG and a contract error with its status and code.
///
/// # Panics
/// When any of it is not so.
pub fn check_http_report(report: &Value) {
    let tools = report["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), CATALOGUE.len());
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    check_annotations(tools);

    let me = &report["me"];
    assert_eq!(me["isError"], false);
    assert_eq!(me["structuredContent"]["username"], "nelly");
    let text: Value = serde_json::from_str(me["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        text["username"], "nelly",
        "the text block holds the same JSON"
    );

    let png = &report["png"];
    assert_eq!(png["content"][0]["type"], "image");
    assert_eq!(png["content"][0]["mimeType"], "image/png");
    assert!(
        png["content"][0]["data"]
            .as_str()
            .unwrap()
            .starts_with("iVBORw0KGgo"),
        "base64 of a PNG"
    );

    let failed = &report["failed"];
    assert_eq!(failed["isError"], true);
    let text = failed["content"][0]["text"].as_str().unwrap();
    for part in ["not-found", "status 404", "code 10013"] {
        assert!(text.contains(part), "{text}");
    }
}

/// Checks that every tool of the catalogue among `tools` (as the SDK read
/// them) carries the annotations of its method, read from the catalogue
/// itself rather than from the servers' generated table: a title, and
/// exactly the hints MCP defines for its method.
///
/// # Panics
/// When a tool of the catalogue has other annotations.
pub fn check_annotations(tools: &[Value]) {
    for tool in tools {
        let name = tool["name"].as_str().expect("a name");
        let Some(spec) = CATALOGUE.iter().find(|spec| spec.name == name) else {
            continue;
        };
        let (read_only, destructive, idempotent) = match spec.method {
            Method::Get => (true, None, true),
            Method::Post => (false, Some(false), false),
            Method::Put => (false, Some(false), true),
            Method::Patch => (false, Some(true), false),
            Method::Delete => (false, Some(true), true),
        };
        let title = tool["title"].as_str().expect("a title");
        assert!(!title.is_empty(), "{tool}");
        let mut expected = json!({
            "title": title,
            "readOnlyHint": read_only,
            "idempotentHint": idempotent,
            "openWorldHint": true,
        });
        if let Some(destructive) = destructive {
            expected["destructiveHint"] = json!(destructive);
        }
        assert_eq!(tool["annotations"], expected, "{name} ({})", spec.method);
    }
}
