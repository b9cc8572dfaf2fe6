//! The connector's test harness: everything that is not for embedders.
//!
//! - [`sandbox`] is a local HTTP server that answers like Discord does;
//! - [`demo`] runs every tool, and the OAuth flow, against the sandbox;
//! - [`load`] is a bounded load test against it with random faults;
//! - [`BUILT_COMPONENT`] is the component `build.rs` built from this
//!   workspace's source, so the tests and the demo run it as it is now.
//!
//! The `discord-host` binary is a thin CLI over these and the host crates.

#![deny(missing_docs)]

pub mod demo;
pub mod load;
pub mod sandbox;

/// The component built from this workspace's source by `build.rs`.
pub const BUILT_COMPONENT: &str = env!("CONNECTOR_WASM");
