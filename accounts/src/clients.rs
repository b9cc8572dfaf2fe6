//! Which OAuth client each connection uses, from a TOML file and the
//! environment.

use std::collections::HashMap;
use std::path::Path;

use discord_host::Client;
use serde::Deserialize;

use crate::error::{Error, ErrorKind};

/// One connection's OAuth client, from configuration. `Debug` leaves out
/// the secret.
#[derive(Clone, Deserialize)]
pub struct ClientConfig {
    /// The application's client id.
    pub client_id: String,
    /// The client secret, if written in the file (prefer `client_secret_env`).
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The scopes to ask for when the caller names none.
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
    /// The client as the component's OAuth calls take it, with the secret
    /// read from the environment when the file names a variable.
    pub fn client(&self) -> Client {
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
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        let mut registry: Self = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    Error::with_source(
                        ErrorKind::ClientConfig,
                        format!("reading the client config {}: {error}", path.display()),
                    )
                })?;
                toml::from_str(&text)
                    .map_err(|error| Error::with_source(ErrorKind::ClientConfig, error))?
            }
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

    /// The client configured for `connection`.
    pub fn get(&self, connection: &str) -> Result<&ClientConfig, Error> {
        self.connections
            .get(connection)
            .or(self.fallback.as_ref())
            .ok_or_else(|| {
                Error::new(ErrorKind::NoClient {
                    connection: connection.to_owned(),
                })
            })
    }
}
