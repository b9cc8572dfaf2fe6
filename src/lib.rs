//! Discord tools for AI agents, as a WebAssembly component.
//!
//! The crate is a sans-IO core and a thin component shell:
//!
//! - [`catalogue`] declares the 16 tools, each as an argument struct (whose
//!   JSON Schema is derived) and a [`tool::Tool`] impl;
//! - [`arguments`] checks a call's arguments against that schema;
//! - [`route`] writes Discord's paths, [`http`] holds requests and answers,
//!   [`response`] maps answers to outputs and typed [`error::Error`]s;
//! - [`execute`] runs one call over any [`http::Transport`], retrying as
//!   [`retry`] decides; [`proxy`] confines raw requests to the API base;
//! - [`oauth`] builds PKCE authorization links and token endpoint requests;
//! - on `wasm32`, `component` exports the WIT contract in `wit/` and
//!   `wasi_http` is the one module that touches the network.
//!
//! ```
//! use discord_connector::{catalogue::CATALOGUE, config::Config, credential::Credential};
//! use discord_connector::{execute::execute_tool, error::{Error, ErrorKind}};
//! use discord_connector::http::{Request, Response, Transport};
//!
//! use discord_connector::http::{TransportError, TransportFailure};
//! use std::time::Duration;
//!
//! struct Offline;
//! impl Transport for Offline {
//!     fn send(&mut self, _: &Request) -> Result<Response, TransportError> {
//!         Err(TransportError::new(TransportFailure::Unreachable, "offline"))
//!     }
//!     fn sleep(&mut self, _: Duration) {}
//!     fn elapsed(&self) -> Duration { Duration::ZERO }
//!     fn jitter(&mut self) -> f64 { 0.0 }
//! }
//!
//! assert_eq!(CATALOGUE.len(), 16);
//! let config = Config::from_vars([]).unwrap();
//! let error = execute_tool("discord_get_my_user", "{}", &Credential::None, &config, &mut Offline)
//!     .unwrap_err();
//! assert_eq!(error.kind, ErrorKind::MissingCredential);
//! ```

#![deny(missing_docs)]

pub mod arguments;
pub mod catalogue;
pub mod config;
pub mod credential;
pub mod error;
pub mod execute;
pub mod http;
pub mod oauth;
pub mod proxy;
pub mod response;
pub mod retry;
pub mod route;
pub mod tool;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;
