//! The REST/MCP component: REST and MCP over `wasi:http`, turned into calls
//! of the connector's contract. It knows nothing of Discord.
//!
//! Modules only use modules listed before them:
//!
//! - [`contract`] is the connector's contract as the REST/MCP component
//!   imports it (the generated bindings), behind the [`contract::Contract`]
//!   trait so that the rest is tested natively with a fake;
//! - [`http`] holds requests and answers as plain values;
//! - [`settings`] is what the component reads from its environment;
//! - [`tools`] writes a contract's tool as JSON, for REST and MCP alike;
//! - `rest` answers `/health`, `/v1/tools`, `/v1/proxy` and `/v1/oauth`;
//! - [`mcp`] answers MCP's JSON-RPC on `/mcp` (Streamable HTTP, stateless,
//!   JSON responses);
//! - [`router`] checks a request's `Origin` and size and routes it to one
//!   of the two;
//! - on `wasm32`, `component` is the waki handler that reads the request,
//!   calls [`router::handle`] and writes the answer.

#![deny(missing_docs)]

pub mod contract;
pub mod http;
pub mod mcp;
mod rest;
pub mod router;
pub mod settings;
pub mod tools;

#[cfg(target_arch = "wasm32")]
mod component;

/// The REST/MCP component's version, as `/health` and MCP's `serverInfo` give it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
