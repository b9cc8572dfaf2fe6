//! A native host for the Discord connector component.
//!
//! - [`connector`] loads the component in wasmtime and calls its exports;
//! - [`sandbox`] is a local HTTP server that answers like Discord does;
//! - [`demo`] runs every tool through the component against the sandbox.
//!
//! The `discord-host` binary is a thin CLI over these.

#![deny(missing_docs)]

pub mod connector;
pub mod demo;
pub mod sandbox;
