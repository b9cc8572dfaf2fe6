//! The typed-tools world (`wit/world.wit`, generated from the catalogue by
//! `cargo xtask generate`): each export builds the tool's JSON arguments
//! from its typed parameters ([`generated`]) and calls the connector's
//! `execute-tool`, which still checks every bound the WIT cannot express.
//! `cargo xtask dist` plugs the connector in and writes
//! `dist/discord_typed_tools.wasm`.
//!
//! Only the component is built: natively the crate is empty.
#![cfg(target_arch = "wasm32")]
// A tool's parameters are its arguments, and wit-bindgen's export shims
// take one per flattened value: long lists are the point here.
#![allow(clippy::too_many_arguments)]

wit_bindgen::generate!({
    path: ["../wit", "wit"],
    world: "agent-tools:discord-typed-tools/discord-typed-tools",
    generate_all,
});

mod generated;

use agent_tools::connector::tools::{Output, execute_tool};
use agent_tools::connector::types::{self as contract, Credential, CredentialKind};

struct Component;

export!(Component);

/// Runs tool `name` with `arguments` and the credential from the
/// environment that the tool accepts.
fn call(
    name: &str,
    arguments: serde_json::Value,
    accepts: &[CredentialKind],
) -> Result<Output, Error> {
    execute_tool(name, &arguments.to_string(), &credential(accepts)).map_err(Error::from)
}

/// `DISCORD_BEARER_TOKEN` if the tool accepts a bearer and it is set, else
/// `DISCORD_BOT_TOKEN` likewise, else none (a tool that needs one then
/// answers `missing-credential`, naming the kinds it accepts).
fn credential(accepts: &[CredentialKind]) -> Credential {
    let token = |name: &str| std::env::var(name).ok().filter(|token| !token.is_empty());
    if accepts.contains(&CredentialKind::Bearer)
        && let Some(token) = token("DISCORD_BEARER_TOKEN")
    {
        return Credential::Bearer(token);
    }
    if accepts.contains(&CredentialKind::Bot)
        && let Some(token) = token("DISCORD_BOT_TOKEN")
    {
        return Credential::Bot(token);
    }
    Credential::None
}

fn json(result: Result<Output, Error>) -> Result<String, Error> {
    match result? {
        Output::Json(text) => Ok(text),
        Output::Binary(_) => Err(unexpected("binary content")),
    }
}

fn binary(result: Result<Output, Error>) -> Result<Blob, Error> {
    match result? {
        Output::Binary(blob) => Ok(Blob {
            content_type: blob.content_type,
            data: blob.data,
        }),
        Output::Json(_) => Err(unexpected("JSON")),
    }
}

/// The catalogue and the world disagree on a tool's output: a build bug
/// the drift test guards against, reported rather than trapped on.
fn unexpected(what: &str) -> Error {
    Error {
        kind: ErrorKind::Upstream,
        message: format!(
            "the connector answered with {what} where the typed world expects the other"
        ),
        status: None,
        code: None,
        details: None,
        retry_after_ms: None,
    }
}

impl From<contract::Error> for Error {
    fn from(error: contract::Error) -> Self {
        Self {
            kind: match error.kind {
                contract::ErrorKind::UnknownTool => ErrorKind::UnknownTool,
                contract::ErrorKind::InvalidArguments => ErrorKind::InvalidArguments,
                contract::ErrorKind::MissingCredential => ErrorKind::MissingCredential,
                contract::ErrorKind::Unauthorized => ErrorKind::Unauthorized,
                contract::ErrorKind::Forbidden => ErrorKind::Forbidden,
                contract::ErrorKind::NotFound => ErrorKind::NotFound,
                contract::ErrorKind::RateLimited => ErrorKind::RateLimited,
                contract::ErrorKind::Upstream => ErrorKind::Upstream,
                contract::ErrorKind::Transport => ErrorKind::Transport,
            },
            message: error.message,
            status: error.status,
            code: error.code,
            details: error.details,
            retry_after_ms: error.retry_after_ms,
        }
    }
}
