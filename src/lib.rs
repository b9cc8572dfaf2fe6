//! Discord tools for AI agents, as a WebAssembly component.
//!
//! The crate is a sans-IO core and a thin component shell:
//!
//! - [`catalogue`] declares the tools, each as an argument struct (whose
//!   JSON Schema is derived outside the component and kept, [`packed`] with
//!   the descriptions, in the generated `input_schemas`) and a
//!   [`tool::Tool`] impl;
//! - [`arguments`] checks a call's arguments against that schema, naming
//!   the refused field;
//! - [`route`] writes Discord's paths and knows each one's method, and
//!   carries a call's JSON body and audit-log reason; `query` encodes every
//!   query string and form body, [`http`] holds requests and answers,
//!   [`response`] maps answers to outputs and typed [`error::Error`]s;
//! - [`config`] holds every default and the rule for base URLs, which
//!   `uri` reads;
//! - [`execute`] runs one call over any [`http::Transport`], retrying as
//!   `retry` decides; [`proxy`] confines raw requests to the API base;
//! - [`oauth`] builds PKCE authorization links and token endpoint requests;
//! - in the component itself (`cfg(component)`: `wasm32` with the default
//!   `component` feature), `component` exports the WIT contract in `wit/`,
//!   `wasi_http` is the one module that touches the network, and `runtime`
//!   gives the component, which is built without `std`, its allocator and
//!   panic handler.
//!
//! Modules only use modules of lower layers, so the graph has no cycle:
//!
//! 1. `query`, `credential`, `uri`, `input_schemas`, `packed`, `base64_encoder`
//! 2. `error` (query)
//! 3. `http` (credential, error), `arguments` (error)
//! 4. `config` (error, http, uri), `route` (base64_encoder, error, http,
//!    query), `response` (error, http)
//! 5. `tool` (arguments, credential, error, http, input_schemas, packed,
//!    response, route), `retry` (config, http, response), `proxy` (config,
//!    credential, error, http, query), `oauth` (base64_encoder, config,
//!    credential, error, http, query, response, route)
//! 6. `catalogue` (arguments, config, credential, error, http, response,
//!    route, tool)
//! 7. `execute` (catalogue, config, credential, error, http, oauth, proxy,
//!    response, retry, route)
//! 8. the shell: `wasi_http` (config, http, response, uri), `component` (any),
//!    `runtime`
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
//!     fn fill_random(&mut self, bytes: &mut [u8]) { bytes.fill(4) }
//! }
//!
//! assert_eq!(CATALOGUE.len(), 37);
//! let config = Config::from_vars([]).unwrap();
//! let error = execute_tool("discord_get_my_user", "{}", &Credential::None, &config, &mut Offline)
//!     .unwrap_err();
//! assert_eq!(error.kind, ErrorKind::MissingCredential);
//! ```

#![deny(missing_docs)]
// The component is built without `std`, whose panic machinery and C
// library (stdio, environment, allocator) would be about 50 KB of it:
// `runtime` gives it what it needs instead. Natively, in tests, and as a
// library on wasm32 (without the `component` feature), `std` is there.
#![cfg_attr(all(component, not(test)), no_std)]

extern crate alloc;

pub mod arguments;
pub mod catalogue;
pub mod config;
pub mod credential;
pub mod error;
pub mod execute;
pub mod http;
mod input_schemas;
pub mod oauth;
pub mod packed;
pub mod proxy;
// Internal: `uri`, `query` and `base64_encoder` stand in for the `http`,
// `form_urlencoded` and `base64` crates only as far as the connector needs,
// and `retry` is `execute`'s.
mod base64_encoder;
mod query;
pub mod response;
mod retry;
pub mod route;
pub mod tool;
mod uri;

#[cfg(component)]
mod component;
#[cfg(all(component, not(test)))]
mod runtime;
#[cfg(component)]
mod wasi_http;
