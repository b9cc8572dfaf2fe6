//! What a call authenticates with, and the `Authorization` header it becomes.

use alloc::format;
use alloc::string::String;
use core::fmt;

/// A kind of credential, as the contract's `credential-kind` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// No credential at all.
    None,
    /// A user's OAuth 2.0 access token.
    Bearer,
    /// A bot token.
    Bot,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Bearer => "bearer",
            Self::Bot => "bot",
        })
    }
}

/// Credential kinds for tools anyone may call.
pub const ANYONE: &[CredentialKind] = &[
    CredentialKind::None,
    CredentialKind::Bearer,
    CredentialKind::Bot,
];
/// Credential kinds for tools that act as a user or a bot.
pub const USER_OR_BOT: &[CredentialKind] = &[CredentialKind::Bearer, CredentialKind::Bot];
/// Credential kinds for tools that act as a bot only.
pub const BOT_ONLY: &[CredentialKind] = &[CredentialKind::Bot];
/// Credential kinds for tools that only a user's OAuth token can call.
pub const USER_ONLY: &[CredentialKind] = &[CredentialKind::Bearer];

/// A call's credential. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credential: no `Authorization` header is sent.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Bot <token>`.
    Bot(String),
}

impl Credential {
    /// Which kind of credential this is.
    pub fn kind(&self) -> CredentialKind {
        match self {
            Self::None => CredentialKind::None,
            Self::Bearer(_) => CredentialKind::Bearer,
            Self::Bot(_) => CredentialKind::Bot,
        }
    }

    /// The token, for redacting it from anything that leaves the component.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Bearer(token) | Self::Bot(token) => Some(token),
        }
    }

    /// The `Authorization` header value, or `None` for [`Credential::None`].
    pub fn authorization(&self) -> Option<String> {
        match self {
            Self::None => None,
            Self::Bearer(token) => Some(format!("Bearer {token}")),
            Self::Bot(token) => Some(format!("Bot {token}")),
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
            Self::Bot(_) => f.write_str("Bot([redacted])"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_kind() {
        assert_eq!(Credential::None.authorization(), None);
        assert_eq!(
            Credential::Bearer("t".into()).authorization().unwrap(),
            "Bearer t"
        );
        assert_eq!(
            Credential::Bot("t".into()).authorization().unwrap(),
            "Bot t"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let shown = format!("{:?}", Credential::Bot("secret-token".into()));
        assert!(!shown.contains("secret-token"));
    }
}
