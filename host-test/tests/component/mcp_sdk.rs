//! MCP with a client nobody here wrote: the official Python SDK (`mcp` from
//! PyPI, pinned in `tests/python/requirements.txt`) connects to the served
//! gateway over Streamable HTTP with a bearer header.

use std::path::{Path, PathBuf};
use std::process::Command;

use host_test::sandbox::tokens::USER_TOKEN;
use serde_json::Value;

use crate::gateway::serve;

/// The virtual environment with the SDK: `target/mcp-venv`, made here when
/// `.ci/run` has not made it already.
fn sdk_python() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    let venv = workspace.join("target").join("mcp-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        assert!(
            made.is_ok_and(|status| status.success()),
            "python3 -m venv failed"
        );
        let requirements =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/requirements.txt");
        let installed = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "-r"])
            .arg(requirements)
            .status();
        assert!(
            installed.is_ok_and(|status| status.success()),
            "installing the MCP SDK failed"
        );
    }
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_lists_and_calls_tools() {
    let served = serve().await;
    let python = tokio::task::spawn_blocking(sdk_python).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mcp_sdk_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(format!("{}/mcp", served.url()))
        .arg(USER_TOKEN)
        .output()
        .await
        .expect("the SDK client runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("the client's JSON report");

    let tools = report["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 16);
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
        assert_eq!(tool["annotations"]["openWorldHint"], true, "{tool}");
        assert!(
            tool["title"]
                .as_str()
                .is_some_and(|title| !title.is_empty()),
            "{tool}"
        );
    }

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
