//! The error of every fallible call in this crate: the host's own error
//! (the component's typed error, a stopped instance, setup), or a failure
//! of the accounts around it (the token store, the client configuration,
//! a user's grant, the OAuth redirect).
//!
//! No variant holds a token: accounts are named as `connection/identifier`,
//! and stored tokens never reach a message or a source.

use std::error::Error as StdError;
use std::fmt;

use discord_host::{ComponentError, ComponentErrorKind};

/// A failed call. Its [`kind`](Error::kind) says what failed; its
/// [`source`](StdError::source) says why, when something underneath failed.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// What failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host failed: the component ended the call with its typed error,
    /// the host stopped the instance, or the component could not be set
    /// up. The error reads as the host's own: its `Display` and `source`
    /// are the host error's.
    Host(discord_host::Error),
    /// The OAuth client configuration file could not be read or parsed.
    ClientConfig,
    /// The token store failed.
    Store,
    /// No OAuth client is configured for this connection.
    NoClient {
        /// The connection's name.
        connection: String,
    },
    /// This user has no stored token for the connection.
    NotConnected {
        /// `connection/identifier`.
        account: String,
    },
    /// The stored grant no longer works: only a new authorization helps.
    NeedsReauthorization {
        /// `connection/identifier`.
        account: String,
        /// Why, in a few words.
        reason: String,
    },
    /// A redirect's `state` is not the link's: nothing was exchanged.
    StateMismatch,
    /// The redirect carried an OAuth error instead of a code.
    AuthorizationRefused {
        /// The OAuth error name, sanitised.
        error: String,
    },
    /// The loopback redirect listener could not listen, or no redirect
    /// with the link's state reached it in time.
    Redirect,
}

impl Error {
    /// An error of `kind` with nothing underneath.
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// An error of `kind` caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// What failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The kind and the cause, to take apart.
    pub fn into_parts(self) -> (ErrorKind, Option<Box<dyn StdError + Send + Sync>>) {
        (self.kind, self.source)
    }

    /// The host's error, when the host failed.
    pub fn host(&self) -> Option<&discord_host::Error> {
        match &self.kind {
            ErrorKind::Host(error) => Some(error),
            _ => None,
        }
    }

    /// The component's typed error, when the component ended the call.
    pub fn component(&self) -> Option<&ComponentError> {
        self.host()?.component()
    }

    /// The contract's error kind, when the component ended the call.
    pub fn component_kind(&self) -> Option<ComponentErrorKind> {
        self.host()?.component_kind()
    }

    /// The field `name` of the component error's `details` JSON object,
    /// when it is a string (see [`discord_host::Error::detail`]).
    pub fn detail(&self, name: &str) -> Option<String> {
        self.host()?.detail(name)
    }
}

impl From<discord_host::Error> for Error {
    fn from(error: discord_host::Error) -> Self {
        Self::new(ErrorKind::Host(error))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Host(error) => error.fmt(f),
            ErrorKind::ClientConfig => {
                f.write_str("the OAuth client configuration could not be read")
            }
            ErrorKind::Store => f.write_str("the token store failed"),
            ErrorKind::NoClient { connection } => write!(
                f,
                "no OAuth client is configured for connection {connection:?}: set DISCORD_CLIENT_ID (and DISCORD_CLIENT_SECRET) or name it in the config file"
            ),
            ErrorKind::NotConnected { account } => write!(
                f,
                "{account} has no stored token: authorize it first (`discord-host auth link`)"
            ),
            ErrorKind::NeedsReauthorization { account, reason } => write!(
                f,
                "{account} needs re-authorization ({reason}): run `discord-host auth link` again"
            ),
            ErrorKind::StateMismatch => f.write_str(
                "the redirect's state does not match the link's (possible forgery); nothing was exchanged",
            ),
            ErrorKind::AuthorizationRefused { error } => {
                write!(f, "the authorization did not complete: {error}")
            }
            ErrorKind::Redirect => {
                f.write_str("the authorization redirect did not reach the loopback listener")
            }
        }
    }
}

impl StdError for Error {
    /// A host error's own source (the error reads as the host's), else the
    /// cause this error was made with.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            ErrorKind::Host(error) => error.source(),
            _ => self
                .source
                .as_deref()
                .map(|source| source as &(dyn StdError + 'static)),
        }
    }
}

#[cfg(test)]
mod tests {
    use discord_host::ErrorKind as HostErrorKind;

    use super::*;

    fn refused_refresh() -> discord_host::Error {
        ComponentError {
            kind: ComponentErrorKind::Unauthorized,
            message: "Discord refused the refresh token".into(),
            status: Some(400),
            code: None,
            details: Some(r#"{"error":"invalid_grant"}"#.into()),
            retry_after_ms: None,
        }
        .into()
    }

    #[test]
    fn a_host_error_reads_as_the_hosts_own() {
        let host = refused_refresh();
        let shown = host.to_string();
        let error = Error::from(host);
        assert_eq!(error.to_string(), shown);
        assert!(error.source().is_none(), "no repeat of the host's message");
        assert_eq!(
            error.component_kind(),
            Some(ComponentErrorKind::Unauthorized)
        );
        assert_eq!(error.detail("error").as_deref(), Some("invalid_grant"));
        assert!(matches!(
            error.host().map(discord_host::Error::kind),
            Some(HostErrorKind::Component(_))
        ));
    }

    #[test]
    fn an_accounts_error_has_no_component_error() {
        let error = Error::new(ErrorKind::NeedsReauthorization {
            account: "discord/user-42".into(),
            reason: "no refresh token".into(),
        });
        assert!(error.host().is_none());
        assert!(error.component().is_none());
        assert_eq!(error.detail("error"), None);
        assert_eq!(
            error.to_string(),
            "discord/user-42 needs re-authorization (no refresh token): run `discord-host auth link` again"
        );
        let stored = Error::with_source(ErrorKind::Store, "disk I/O error");
        assert_eq!(stored.to_string(), "the token store failed");
        assert_eq!(stored.source().unwrap().to_string(), "disk I/O error");
    }
}
