//! A native host for the Discord connector component.
//!
//! - [`connector`] loads the component in wasmtime and calls its exports;
//! - [`limiter`] is the host-wide Discord rate limiter in the egress hook;
//! - [`sandbox`] is a local HTTP server that answers like Discord does;
//! - [`store`] keeps users' OAuth tokens in SQLite; [`auth`] obtains,
//!   refreshes (single flight) and uses them; [`callback`] is the loopback
//!   redirect listener;
//! - [`demo`] runs every tool, and the OAuth flow, against the sandbox;
//!   [`load`] is a bounded load test against it with random faults.
//!
//! The `discord-host` binary is a thin CLI over these.

#![deny(missing_docs)]

pub mod auth;
pub mod callback;
pub mod connector;
pub mod demo;
pub mod limiter;
pub mod load;
pub mod sandbox;
pub mod store;
