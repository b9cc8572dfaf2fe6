//! What the REST/MCP component reads from its environment.

use crate::contract::Client;

/// What the REST/MCP component reads from its environment. No `Debug`: it holds the
/// client secret.
#[derive(Clone, Default)]
pub struct Settings {
    /// `REST_MCP_ALLOWED_ORIGINS`: the browser origins that may call; unset,
    /// a request with any `Origin` is refused.
    pub allowed_origins: Vec<String>,
    /// `DISCORD_CLIENT_ID` and `DISCORD_CLIENT_SECRET`, for the OAuth routes.
    pub client: Option<Client>,
}

/// The settings the REST/MCP component reads, for manifests and documentation.
pub const SETTINGS: &[&str] = &[
    "REST_MCP_ALLOWED_ORIGINS",
    "DISCORD_CLIENT_ID",
    "DISCORD_CLIENT_SECRET",
];

impl Settings {
    /// Reads the settings from `vars` (name, value pairs).
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut settings = Self::default();
        let mut client_id = None;
        let mut client_secret = None;
        for (name, value) in vars {
            match name {
                "REST_MCP_ALLOWED_ORIGINS" => {
                    settings.allowed_origins = value
                        .split(',')
                        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                        .filter(|origin| !origin.is_empty())
                        .collect();
                }
                "DISCORD_CLIENT_ID" if !value.is_empty() => client_id = Some(value.to_owned()),
                "DISCORD_CLIENT_SECRET" if !value.is_empty() => {
                    client_secret = Some(value.to_owned());
                }
                _ => {}
            }
        }
        settings.client = client_id.map(|client_id| Client {
            client_id,
            client_secret,
        });
        settings
    }

    /// Whether a request with `origin` may be served: no `Origin` header
    /// (not a browser) always; a browser's only from a listed origin.
    pub(crate) fn allows(&self, origin: Option<&str>) -> bool {
        origin.is_none_or(|origin| {
            self.allowed_origins
                .iter()
                .any(|allowed| allowed == origin.trim_end_matches('/'))
        })
    }
}
