//! OAuth connections: obtaining a user's tokens, keeping them, refreshing
//! them before they expire, and running tools with them.
//!
//! The component does the protocol work over wasi:http; this module does
//! the keeping. An agent passes only a connection name and a user
//! identifier; [`Authorizer::execute_tool`] finds the token, refreshes it
//! when it expires within the margin (or once after a 401), and calls.
//!
//! Discord's refresh tokens are single-use: two refreshes with the same
//! one would lose the connection. Every refresh of a key therefore runs
//! under that key's async mutex, and a caller that waited re-reads the
//! store and uses the token the first one obtained (single flight).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::connector::{
    Client, Connector, Credential, Error, ErrorKind, LinkRequest, Output, Token,
};
use crate::store::{ConnectionKey, StoredToken, TokenStore};

/// Why an OAuth operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No client id is configured for the connection.
    #[error(
        "no OAuth client is configured for connection {0:?}: set DISCORD_CLIENT_ID (and DISCORD_CLIENT_SECRET) or add it to the config file"
    )]
    NoClient(String),
    /// The user has never authorized this connection (or revoked it).
    #[error("{0} has no stored token: authorize it first (`discord-host auth link`)")]
    NotConnected(ConnectionKey),
    /// The refresh token no longer works: only a new authorization helps.
    #[error("{0} needs re-authorization ({1}): run `discord-host auth link` again")]
    NeedsReauthorization(ConnectionKey, String),
    /// The redirect's state is not the link's.
    #[error(
        "the redirect's state does not match the link's (possible forgery); nothing was exchanged"
    )]
    StateMismatch,
    /// The redirect carried an error instead of a code.
    #[error("the authorization did not complete: {0}")]
    Refused(String),
    /// Discord (through the component) refused.
    #[error("{}", .0.message)]
    Discord(Error),
    /// The token store failed.
    #[error("token store: {0}")]
    Store(#[from] rusqlite::Error),
    /// The host failed to run the component.
    #[error("host: {0:#}")]
    Host(wasmtime::Error),
}

/// One connection's OAuth client, from configuration.
#[derive(Clone, Deserialize)]
pub struct ClientConfig {
    /// The application's client id.
    pub client_id: String,
    /// The client secret, if written in the file (prefer `client_secret_env`).
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The scopes to ask for when the command line names none.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    fn client(&self) -> Client {
        let secret = self
            .client_secret
            .clone()
            .or_else(|| std::env::var(self.client_secret_env.as_deref()?).ok())
            .filter(|secret| !secret.is_empty());
        Client {
            client_id: self.client_id.clone(),
            client_secret: secret,
        }
    }
}

/// OAuth clients per connection: from a TOML file
/// (`[connections.NAME] client_id = "…"`, `client_secret_env = "…"`,
/// `scopes = […]`), with `DISCORD_CLIENT_ID` / `DISCORD_CLIENT_SECRET`
/// serving any connection the file does not name.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClientRegistry {
    #[serde(default)]
    connections: HashMap<String, ClientConfig>,
    #[serde(skip)]
    fallback: Option<ClientConfig>,
}

impl ClientRegistry {
    /// Reads `file` (if given) and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut registry: Self = match file {
            Some(path) => toml::from_str(&std::fs::read_to_string(path)?)?,
            None => Self::default(),
        };
        registry.fallback = std::env::var("DISCORD_CLIENT_ID")
            .ok()
            .map(|client_id| ClientConfig {
                client_id,
                client_secret: None,
                client_secret_env: Some("DISCORD_CLIENT_SECRET".to_owned()),
                scopes: Vec::new(),
            });
        Ok(registry)
    }

    /// A registry where `connection` uses `client`.
    pub fn with(mut self, connection: impl Into<String>, client: &Client, scopes: &[&str]) -> Self {
        self.connections.insert(
            connection.into(),
            ClientConfig {
                client_id: client.client_id.clone(),
                client_secret: client.client_secret.clone(),
                client_secret_env: None,
                scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            },
        );
        self
    }

    fn get(&self, connection: &str) -> Result<&ClientConfig, AuthError> {
        self.connections
            .get(connection)
            .or(self.fallback.as_ref())
            .ok_or_else(|| AuthError::NoClient(connection.to_owned()))
    }
}

/// A link handed to a user, and what completing it needs. `Debug` hides
/// the PKCE verifier.
#[derive(Clone)]
pub struct PendingLink {
    /// The connection it is for.
    pub connection: String,
    /// The URL to send the user to.
    pub url: String,
    /// The state the redirect must carry back.
    pub state: String,
    /// Where Discord redirects.
    pub redirect_uri: String,
    code_verifier: String,
}

impl std::fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLink")
            .field("connection", &self.connection)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Obtains, keeps, refreshes and uses users' OAuth tokens.
pub struct Authorizer {
    connector: Connector,
    store: Arc<TokenStore>,
    clients: ClientRegistry,
    refresh_margin: Duration,
    flights: Mutex<HashMap<ConnectionKey, Arc<tokio::sync::Mutex<()>>>>,
}

impl Authorizer {
    /// The default refresh margin: a token expiring within it is refreshed
    /// before use.
    pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

    /// An authorizer over `connector`, keeping tokens in `store`.
    pub fn new(connector: Connector, store: Arc<TokenStore>, clients: ClientRegistry) -> Self {
        Self {
            connector,
            store,
            clients,
            refresh_margin: Self::DEFAULT_REFRESH_MARGIN,
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Refresh tokens expiring within `margin` before using them.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The store the tokens are kept in.
    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    /// A PKCE authorization link for `connection`, redirecting to
    /// `redirect_uri`, asking for `scopes` (or the configured ones).
    pub async fn link(
        &self,
        connection: &str,
        redirect_uri: &str,
        scopes: &[String],
    ) -> Result<PendingLink, AuthError> {
        let config = self.clients.get(connection)?;
        let scopes = if scopes.is_empty() {
            config.scopes.clone()
        } else {
            scopes.to_vec()
        };
        let request = LinkRequest {
            client_id: config.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state: None,
            prompt: Some("consent".to_owned()),
            extra: Vec::new(),
        };
        let link = self
            .connector
            .authorization_link(&request)
            .await
            .map_err(AuthError::Host)?
            .map_err(AuthError::Discord)?;
        Ok(PendingLink {
            connection: connection.to_owned(),
            url: link.url,
            state: link.state,
            redirect_uri: redirect_uri.to_owned(),
            code_verifier: link.code_verifier,
        })
    }

    /// Completes `pending` with the redirect's `code` and `state`: checks
    /// the state, exchanges the code, stores the tokens for `identifier`.
    pub async fn complete(
        &self,
        pending: &PendingLink,
        identifier: &str,
        code: &str,
        state: &str,
    ) -> Result<StoredToken, AuthError> {
        if state != pending.state {
            return Err(AuthError::StateMismatch);
        }
        let client = self.clients.get(&pending.connection)?.client();
        let token = self
            .connector
            .exchange_code(&client, code, &pending.redirect_uri, &pending.code_verifier)
            .await
            .map_err(AuthError::Host)?
            .map_err(AuthError::Discord)?;
        let stored = stored(token);
        self.store.put(
            &ConnectionKey::new(&pending.connection, identifier),
            &stored,
        )?;
        Ok(stored)
    }

    /// A usable access token for `key`, refreshed first if it expires
    /// within the margin.
    pub async fn access_token(&self, key: &ConnectionKey) -> Result<String, AuthError> {
        let token = self.current(key)?;
        if token.expires_within(self.refresh_margin) {
            return self.refresh(key, &token.access_token).await;
        }
        Ok(token.access_token)
    }

    fn current(&self, key: &ConnectionKey) -> Result<StoredToken, AuthError> {
        let token = self
            .store
            .get(key)?
            .ok_or_else(|| AuthError::NotConnected(key.clone()))?;
        if token.needs_reauthorization {
            return Err(AuthError::NeedsReauthorization(
                key.clone(),
                "an earlier refresh failed".to_owned(),
            ));
        }
        Ok(token)
    }

    fn flight(&self, key: &ConnectionKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self
            .flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(flights.entry(key.clone()).or_default())
    }

    /// Replaces `stale` (an access token that expired or got a 401) with a
    /// fresh one. Only one refresh per key runs at a time; whoever waited
    /// finds the new token in the store and does not refresh again.
    async fn refresh(&self, key: &ConnectionKey, stale: &str) -> Result<String, AuthError> {
        let flight = self.flight(key);
        let _only_one = flight.lock().await;
        let token = self.current(key)?;
        if token.access_token != stale {
            return Ok(token.access_token);
        }
        let Some(refresh_token) = token.refresh_token.as_deref() else {
            self.store.mark_needs_reauthorization(key)?;
            return Err(AuthError::NeedsReauthorization(
                key.clone(),
                "no refresh token".to_owned(),
            ));
        };
        let client = self.clients.get(&key.connection)?.client();
        let answer = self
            .connector
            .refresh_token(&client, refresh_token)
            .await
            .map_err(AuthError::Host)?;
        match answer {
            Ok(token) => {
                let fresh = stored(token);
                self.store.put(key, &fresh)?;
                tracing::info!(connection = %key, "refreshed an access token");
                Ok(fresh.access_token)
            }
            Err(error) if is_dead_grant(&error) => {
                self.store.mark_needs_reauthorization(key)?;
                Err(AuthError::NeedsReauthorization(key.clone(), error.message))
            }
            Err(error) => Err(AuthError::Discord(error)),
        }
    }

    /// Runs `tool` as the user `key` names, refreshing as needed and once
    /// more after a 401.
    pub async fn execute_tool(
        &self,
        key: &ConnectionKey,
        tool: &str,
        arguments: &str,
    ) -> Result<Result<Output, Error>, AuthError> {
        let access_token = self.access_token(key).await?;
        let result = self.call(tool, arguments, &access_token).await?;
        match result {
            Err(error) if error.kind == ErrorKind::Unauthorized => {
                let fresh = self.refresh(key, &access_token).await?;
                self.call(tool, arguments, &fresh).await
            }
            result => Ok(result),
        }
    }

    async fn call(
        &self,
        tool: &str,
        arguments: &str,
        access_token: &str,
    ) -> Result<Result<Output, Error>, AuthError> {
        let credential = Credential::Bearer(access_token.to_owned());
        self.connector
            .execute_tool(tool, arguments, &credential)
            .await
            .map_err(AuthError::Host)
    }

    /// Revokes `key`'s grant at Discord and forgets its tokens.
    pub async fn revoke(&self, key: &ConnectionKey) -> Result<(), AuthError> {
        let token = self
            .store
            .get(key)?
            .ok_or_else(|| AuthError::NotConnected(key.clone()))?;
        let client = self.clients.get(&key.connection)?.client();
        let revoked = token
            .refresh_token
            .as_deref()
            .unwrap_or(&token.access_token);
        self.connector
            .revoke_token(&client, revoked)
            .await
            .map_err(AuthError::Host)?
            .map_err(AuthError::Discord)?;
        self.store.remove(key)?;
        Ok(())
    }
}

/// Whether a refresh error means the grant is gone (`invalid_grant`), not
/// a passing fault or a misconfigured client.
fn is_dead_grant(error: &Error) -> bool {
    let oauth_error = error
        .details
        .as_deref()
        .and_then(|details| serde_json::from_str::<serde_json::Value>(details).ok())
        .and_then(|details| details["error"].as_str().map(str::to_owned));
    oauth_error.as_deref() == Some("invalid_grant")
}

fn stored(token: Token) -> StoredToken {
    StoredToken {
        access_token: token.access_token,
        refresh_token: token.refresh_token,
        scopes: token.scopes,
        expires_at: SystemTime::now() + Duration::from_secs(token.expires_in_seconds),
        needs_reauthorization: false,
    }
}
