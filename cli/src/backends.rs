//! Where the state replicas share lives: the token store (`--store URL`)
//! and Discord's rate limits (`--limiter URL`), each chosen by its URL's
//! scheme, and the hook that lets `serve` act as a connected account.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use discord_accounts::{Authorizer, ConnectionKey, ErrorKind, TokenStore};
use discord_host::limiter::RateLimiter;
use discord_host::serve::{HookRefusal, RequestHook};
use discord_host::{ComponentErrorKind, DiscordLimiter};
use discord_redis_limiter::{RedisLimiter, RedisLimiterOptions};

/// Opens the token store at `url` (`postgres://…`, `sqlite:PATH` or a
/// path), or the default SQLite file. An error names the store without
/// its password.
pub async fn token_store(url: Option<&str>) -> anyhow::Result<TokenStore> {
    match url {
        Some(url) => TokenStore::connect(url).await.with_context(|| {
            format!(
                "opening the token store {}",
                discord_accounts::redact_url(url)
            )
        }),
        None => TokenStore::open_default().context("opening the default token store"),
    }
}

/// The rate limiter for `url`: shared through Redis (`redis://…`), or
/// this process's own when there is none. `secret` keys the hashes that
/// stand for credentials in Redis.
pub fn limiter(url: Option<&str>, secret: Option<&str>) -> anyhow::Result<Arc<dyn RateLimiter>> {
    let Some(url) = url else {
        return Ok(Arc::new(DiscordLimiter::default()));
    };
    let mut options = RedisLimiterOptions::default();
    if let Some(secret) = secret {
        options.secret = Some(secret.as_bytes().to_vec());
    }
    let limiter = RedisLimiter::open(url, options).context("the --limiter URL")?;
    Ok(Arc::new(limiter))
}

/// The header a `serve` caller names a connected account with,
/// `CONNECTION/IDENTIFIER`, instead of sending a token.
pub const ACCOUNT_HEADER: &str = "x-discord-account";

/// Puts a connected account's token (refreshed as needed, once across
/// every replica sharing the store) on requests that name the account in
/// [`ACCOUNT_HEADER`], so agents behind `serve` never hold tokens.
pub struct AccountHook {
    /// Where the tokens come from; `None` when `serve` was given no store,
    /// and then a request naming an account is refused, not sent without
    /// a credential.
    authorizer: Option<Arc<Authorizer>>,
}

impl AccountHook {
    /// A hook that takes tokens from `authorizer`, or refuses every
    /// request naming an account without one.
    pub fn new(authorizer: Option<Arc<Authorizer>>) -> Self {
        Self { authorizer }
    }

    async fn authorize(&self, head: &mut http::request::Parts) -> Result<(), HookRefusal> {
        let Some(named) = head.headers.remove(ACCOUNT_HEADER) else {
            return Ok(());
        };
        let refuse = |status: u16, kind: &'static str, message: String| HookRefusal {
            status,
            kind,
            message,
        };
        let Some(authorizer) = &self.authorizer else {
            return Err(refuse(
                400,
                "invalid-arguments",
                format!(
                    "{ACCOUNT_HEADER} needs a token store: start serve with --store (or DISCORD_STORE_URL)"
                ),
            ));
        };
        if head.headers.contains_key(http::header::AUTHORIZATION) {
            return Err(refuse(
                400,
                "invalid-arguments",
                format!("send either {ACCOUNT_HEADER} or Authorization, not both"),
            ));
        }
        let key = named
            .to_str()
            .ok()
            .and_then(|value| value.split_once('/'))
            .filter(|(connection, identifier)| !connection.is_empty() && !identifier.is_empty())
            .map(|(connection, identifier)| ConnectionKey::new(connection, identifier))
            .ok_or_else(|| {
                refuse(
                    400,
                    "invalid-arguments",
                    format!("{ACCOUNT_HEADER} must be CONNECTION/IDENTIFIER"),
                )
            })?;
        let token = authorizer.access_token(&key).await.map_err(|error| {
            let (status, kind) = match error.kind() {
                ErrorKind::NotConnected { .. } | ErrorKind::NeedsReauthorization { .. } => {
                    (401, "unauthorized")
                }
                _ if error.component_kind() == Some(ComponentErrorKind::Unauthorized) => {
                    (401, "unauthorized")
                }
                _ => (503, "transport"),
            };
            refuse(status, kind, error.to_string())
        })?;
        let value = http::HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
            refuse(
                502,
                "transport",
                "the stored token is not a valid header value".to_owned(),
            )
        })?;
        head.headers.insert(http::header::AUTHORIZATION, value);
        Ok(())
    }
}

impl RequestHook for AccountHook {
    fn prepare<'a>(
        &'a self,
        head: &'a mut http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Result<(), HookRefusal>> + Send + 'a>> {
        Box::pin(self.authorize(head))
    }
}
