//! The sandbox's token table: which token is whose, with which scopes.

use std::collections::HashMap;
use std::time::SystemTime;

/// A user's OAuth token with every scope the tools need.
pub const USER_TOKEN: &str = "sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.all-scopes";
/// A user's OAuth token with only the `identify` scope.
pub const IDENTIFY_ONLY_TOKEN: &str = "sbx-user.MTc4NzY1MjYxNjQwOTUzODU2.identify-only";
/// A bot token for the sandbox application's bot user.
pub const BOT_TOKEN: &str = "sbx-bot.MTE3ODc2NTI2MTY0MDk1Mzg1Ng.GhJkLm.bot-secret";

/// The sandbox's signed-in human user.
pub const USER_ID: &str = "80351110224678912";
/// The sandbox application, whose bot user has the same id.
pub const APPLICATION_ID: &str = "1178765261640953856";

/// Every scope a sandbox user token can carry.
pub const ALL_SCOPES: &[&str] = &[
    "identify",
    "email",
    "guilds",
    "guilds.members.read",
    "connections",
    "openid",
    "applications.entitlements",
];

/// Who is calling with a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bearer {
    /// A user's OAuth token (`Authorization: Bearer …`).
    User,
    /// A bot token (`Authorization: Bot …`).
    Bot,
}

/// What a token grants.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Whether it is a user or a bot token.
    pub kind: Bearer,
    /// The user it acts as (the bot's user id for a bot).
    pub user_id: String,
    /// The OAuth scopes granted (empty for a bot).
    pub scopes: Vec<String>,
    /// When it stops working, if ever.
    pub expires_at: Option<SystemTime>,
}

impl Grant {
    /// A user token for [`USER_ID`] with `scopes`, never expiring.
    pub fn user(scopes: &[&str]) -> Self {
        Self {
            kind: Bearer::User,
            user_id: USER_ID.to_owned(),
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            expires_at: None,
        }
    }

    /// The bot token of the sandbox application.
    pub fn bot() -> Self {
        Self {
            kind: Bearer::Bot,
            user_id: APPLICATION_ID.to_owned(),
            scopes: Vec::new(),
            expires_at: None,
        }
    }

    /// Whether the grant carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    pub(crate) fn is_live(&self) -> bool {
        self.expires_at
            .is_none_or(|expiry| SystemTime::now() < expiry)
    }
}

/// The tokens the sandbox knows: the fixed ones above, and any a test adds.
pub(crate) fn initial_tokens() -> HashMap<String, Grant> {
    HashMap::from([
        (USER_TOKEN.to_owned(), Grant::user(ALL_SCOPES)),
        (IDENTIFY_ONLY_TOKEN.to_owned(), Grant::user(&["identify"])),
        (BOT_TOKEN.to_owned(), Grant::bot()),
    ])
}
