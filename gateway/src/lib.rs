//! The gateway component: REST and MCP over `wasi:http`, turned into calls
//! of the connector's contract. It knows nothing of Discord.
//!
//! - [`contract`] is the connector's contract as the gateway imports it (the
//!   generated bindings), behind the [`contract::Contract`] trait so that the
//!   rest is tested natively with a fake;
//! - [`http`] holds requests and answers as plain values;
//! - [`rest`] routes `/health`, `/v1/tools`, `/v1/proxy`, `/v1/oauth`;
//! - [`mcp`] answers MCP's JSON-RPC on `/mcp` (Streamable HTTP, stateless,
//!   JSON responses);
//! - on `wasm32`, `component` is the waki handler that reads the request,
//!   calls [`rest::handle`] and writes the answer.

#![deny(missing_docs)]

pub mod contract;
pub mod http;
pub mod mcp;
pub mod rest;

#[cfg(target_arch = "wasm32")]
mod component;

/// The gateway's version, as `/health` and MCP's `serverInfo` give it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
