//! Embed the Discord connector component in a wasmtime host.
//!
//! - [`Connector`] loads the component once and runs each call in an
//!   [`Instance`], with a memory cap, a deadline derived from the component's
//!   own `DISCORD_TIMEOUT_MS`, and a cap on live instances; `execute_tool`
//!   reuses a warm instance of the same credential ([`ReuseLimits`],
//!   [`ConnectorStats`]), every other call gets a fresh one;
//! - [`add_to_linker_async`] and [`Instance::instantiate`] do the same for a host
//!   that brings its own `Store<T>` and `Linker<T>`; [`bindings`] are the
//!   contract's Rust types and generated exports;
//! - [`Loaded`] is the builder [`Connector`] and `serve::Server` share:
//!   each instance's environment, [`InstanceLimits`], limiter and pool;
//! - [`limiter`] is the host-wide Discord rate limiter, behind the
//!   [`RateLimiter`] trait so replicas can share one (as
//!   `discord-redis-limiter` does), and [`EgressHooks`] puts it in the
//!   wasi-http egress hook, in front of the keep-alive [`EgressPool`]
//!   instances share;
//! - [`engine`] makes the engine (the pooling allocator) and keeps compiled
//!   components in an on-disk cache;
//! - every call returns [`Error`]: the component's typed error, or the host
//!   stopping the instance, each an [`ErrorKind`].
//!
//! # Layers
//!
//! Each module uses only those in the layers before it, so no two modules
//! depend on each other:
//!
//! 1. `bindings` (the contract), `limiter` (the rate limiter) and
//!    `private_dir` (folders and files only this user can write), which use
//!    nothing of this crate;
//! 2. `error`: the host's [`Error`], over the contract's error record;
//! 3. `egress`: the wasi-http hook, the limiter and the connection pool;
//! 4. `instance`: the instance runtime (each instance's state, limits,
//!    environment and slot, its deadline, the epoch ticker, the linker);
//! 5. `engine`: the engine and the cache of compiled components;
//! 6. `loaded`: a compiled component (loaded the same way for any
//!    [`Exports`]) and the options builder its instances share;
//! 7. `reuse`: the pool of warm instances, by a keyed hash of the
//!    credential (generic over what it keeps; uses only `bindings`);
//! 8. `connector` (the contract's facade) and `serve` (an HTTP
//!    component's server), side by side.
//!
//! ```no_run
//! # async fn run() -> Result<(), discord_host::Error> {
//! use discord_host::{Connector, Credential, Output};
//!
//! let connector = Connector::from_file("discord_connector.wasm")?
//!     .with_env("DISCORD_API_BASE", "https://discord.com/api/v10");
//! match connector.execute_tool("discord_get_gateway", "{}", &Credential::None).await {
//!     Ok(Output::Json(json)) => println!("{json}"),
//!     Ok(Output::Binary(blob)) => println!("{} bytes of {}", blob.data.len(), blob.content_type),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod bindings;
mod connector;
mod egress;
pub mod engine;
mod error;
mod instance;
pub mod limiter;
mod loaded;
#[cfg(unix)]
pub mod private_dir;
mod reuse;
#[cfg(feature = "serve")]
pub mod serve;

pub use bindings::exports::agent_tools::connector::oauth::{Client, Link, LinkRequest, Token};
pub use bindings::exports::agent_tools::connector::proxy::{
    Request as ProxyRequest, Response as ProxyResponse,
};
pub use bindings::exports::agent_tools::connector::tools::{Blob, Output, Tool};
pub use bindings::types::{
    Credential, CredentialKind, Error as ComponentError, ErrorKind as ComponentErrorKind,
};
pub use connector::{Connector, Instance, Linked};
pub use egress::{EgressHooks, EgressPool, PoolSettings};
pub use error::{Error, ErrorKind};
pub use instance::{
    BODY_CAP_SETTING, DEFAULT_BODY_CAP, DEFAULT_CALL_TIMEOUT, InstanceLimits, InstanceState,
    MAX_CALL_TIMEOUT, TIMEOUT_SETTING, add_to_linker_async, call_deadline,
};
pub use limiter::{DiscordLimiter, IntoRateLimiter, RateLimiter, RatePermit};
pub use loaded::{Exports, Loaded};
pub use reuse::{ConnectorStats, ReuseLimits};

/// The README's and the embedding guide's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
#[doc = include_str!("../../docs/embedding.md")]
struct ReadmeDoctests;
