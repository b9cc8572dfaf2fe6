//! Connected accounts: an agent names a connection and a user, the host
//! keeps, refreshes and uses the token.
//!
//! - [`TokenStore`] keeps users' OAuth tokens in SQLite, in a file only its
//!   owner can read, or in PostgreSQL for replicas on several machines
//!   (feature `postgres`), chosen by [`TokenStore::connect`]'s location;
//! - [`Authorizer`] obtains tokens through the component's OAuth exports,
//!   refreshes them (single flight per user) and runs tools with them;
//! - [`ClientRegistry`] says which OAuth client each connection uses;
//! - [`CallbackListener`] is the RFC 8252 loopback redirect listener.
//!
//! Every fallible call returns this crate's [`Error`]: the host's own error
//! ([`ErrorKind::Host`]) or one of the accounts' (the token store, the
//! client configuration, a user's grant, the OAuth redirect).

#![deny(missing_docs)]

mod authorizer;
mod callback;
mod clients;
mod error;
mod redact;
mod store;

pub use authorizer::{Authorizer, PendingLink};
pub use callback::{Callback, CallbackListener};
pub use clients::{ClientConfig, ClientRegistry};
pub use error::{Error, ErrorKind};
pub use redact::redact_url;
#[cfg(feature = "postgres")]
pub use store::PostgresBackend;
pub use store::{ConnectionKey, SqliteBackend, StoreFuture, StoredToken, TokenBackend, TokenStore};
