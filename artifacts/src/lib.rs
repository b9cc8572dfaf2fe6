//! The connector's release components, built from this workspace's source
//! by `build.rs` (as `cargo xtask dist` builds them) and embedded, so a
//! program that depends on this crate carries them and needs no file at
//! run time: the `discord-host` CLI, and the harness's tests.

#![deny(missing_docs)]

/// `discord_connector.wasm`: the connector, the contract's library component.
pub const CONNECTOR: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dist/discord_connector.wasm"));

/// `discord_rest_mcp.wasm`: REST and MCP over `wasi:http/incoming-handler`,
/// with the connector plugged in; it imports only WASI.
pub const REST_MCP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dist/discord_rest_mcp.wasm"));

/// `discord_typed_tools.wasm`: one typed export per tool, with the
/// connector plugged in; for wasmtime-based MCP runtimes such as wassette.
pub const TYPED_TOOLS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dist/discord_typed_tools.wasm"));

/// Each component with the file name `cargo xtask dist` gives it.
pub const ALL: [(&str, &[u8]); 3] = [
    ("discord_connector.wasm", CONNECTOR),
    ("discord_rest_mcp.wasm", REST_MCP),
    ("discord_typed_tools.wasm", TYPED_TOOLS),
];
