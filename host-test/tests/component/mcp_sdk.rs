//! MCP with a client nobody here wrote: the official Python SDK connects to
//! the served REST/MCP component over Streamable HTTP with a bearer header,
//! on both hosts (`discord-host serve` and `wasmtime serve`), with every
//! tool and with a `DISCORD_TOOLS` selection, which the connector plugged
//! into the component reads from the environment they share.
//! (`discord-host mcp` is tested the same way in the CLI's tests.)

use discord_connector::catalogue::CATALOGUE;
use discord_sandbox::tokens::USER_TOKEN;
use host_test::mcp_sdk::{check_annotations, check_http_report, http_report};

use crate::rest_mcp::{Host, on_both_hosts, serve, serve_with};

on_both_hosts!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    the_official_python_sdk_lists_and_calls_tools,
    discord_tools_in_the_environment_selects_what_mcp_lists,
);

async fn the_official_python_sdk_lists_and_calls_tools(host: Host) {
    let served = serve(host).await;
    check_http_report(&http_report(&format!("{}/mcp", served.url()), USER_TOKEN).await);
}

async fn discord_tools_in_the_environment_selects_what_mcp_lists(host: Host) {
    let served = serve_with(
        host,
        &[("DISCORD_TOOLS", "discord_get_*,discord_add_reaction")],
    )
    .await;
    let report = http_report(&format!("{}/mcp", served.url()), USER_TOKEN).await;
    let tools = report["tools"].as_array().expect("tools");
    let listed: Vec<&str> = tools
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    let selected: Vec<&str> = CATALOGUE
        .iter()
        .map(|tool| tool.name)
        .filter(|name| name.starts_with("discord_get_") || *name == "discord_add_reaction")
        .collect();
    assert_eq!(listed, selected);
    check_annotations(tools);
    assert_eq!(report["me"]["structuredContent"]["username"], "nelly");
}
