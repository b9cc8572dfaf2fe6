//! The connector's test harness: everything that is not for embedders.
//!
//! - [`sandbox`] is a local HTTP server that answers like Discord does;
//! - [`demo`] runs every tool, and the OAuth flow, against the sandbox;
//! - [`load`] is a bounded load test against it with random faults;
//! - [`bench`] measures a call through the component against a native
//!   client in the same run;
//! - [`mcp`] is `discord-host mcp`, the connector as a stdio MCP server;
//! - [`BUILT_COMPONENT`], [`BUILT_GATEWAY`] and [`BUILT_TOOLS`] are the components
//!   `build.rs` built from this workspace's source, so the tests and the
//!   demo run them as they are now.
//!
//! The `discord-host` binary is a thin CLI over these and the host crates.

#![deny(missing_docs)]

pub mod bench;
pub mod demo;
pub mod load;
pub mod mcp;
pub mod sandbox;

/// The component built from this workspace's source by `build.rs`.
pub const BUILT_COMPONENT: &str = env!("CONNECTOR_WASM");

/// The gateway, with the connector plugged in, built by `build.rs` as
/// `cargo xtask dist` builds it.
pub const BUILT_GATEWAY: &str = env!("GATEWAY_WASM");

/// The typed-tools world built from this source (`dist/discord_tools.wasm`):
/// one typed export per tool, the connector plugged in.
pub const BUILT_TOOLS: &str = env!("TOOLS_WASM");
