//! MCP with a client nobody here wrote: the official Python SDK connects to
//! the served REST/MCP component over Streamable HTTP with a bearer header,
//! on both hosts (`discord-host serve` and `wasmtime serve`).
//! (`discord-host mcp` is tested the same way in the CLI's tests.)

use discord_sandbox::tokens::USER_TOKEN;
use host_test::mcp_sdk::{check_http_report, http_report};

use crate::rest_mcp::{Host, on_both_hosts, serve};

on_both_hosts!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    the_official_python_sdk_lists_and_calls_tools,
);

async fn the_official_python_sdk_lists_and_calls_tools(host: Host) {
    let served = serve(host).await;
    check_http_report(&http_report(&format!("{}/mcp", served.url()), USER_TOKEN).await);
}
