//! The host's token store: OAuth tokens keyed by (connection, identifier),
//! kept in SQLite, in a file only its owner can read.
//!
//! ```
//! use discord_host::store::{ConnectionKey, StoredToken, TokenStore};
//! use std::time::{Duration, SystemTime};
//!
//! let store = TokenStore::in_memory()?;
//! let key = ConnectionKey::new("discord", "user-42");
//! store.put(&key, &StoredToken {
//!     access_token: "at".into(),
//!     refresh_token: Some("rt".into()),
//!     scopes: vec!["identify".into()],
//!     expires_at: SystemTime::now() + Duration::from_secs(3600),
//!     needs_reauthorization: false,
//! })?;
//! assert_eq!(store.get(&key)?.unwrap().scopes, ["identify"]);
//! # Ok::<(), rusqlite::Error>(())
//! ```

use std::fmt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

/// Which user of which connection a token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    /// The connection's name, such as `discord`.
    pub connection: String,
    /// The host's identifier for the user.
    pub identifier: String,
}

impl ConnectionKey {
    /// The key of `identifier` on `connection`.
    pub fn new(connection: impl Into<String>, identifier: impl Into<String>) -> Self {
        Self {
            connection: connection.into(),
            identifier: identifier.into(),
        }
    }
}

impl fmt::Display for ConnectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.connection, self.identifier)
    }
}

/// A user's tokens. `Debug` shows neither token.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The access token.
    pub access_token: String,
    /// The single-use refresh token, if Discord gave one.
    pub refresh_token: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// Set when a refresh failed: only a new authorization helps.
    pub needs_reauthorization: bool,
}

impl StoredToken {
    /// Whether the access token expires within `margin` from now.
    pub fn expires_within(&self, margin: Duration) -> bool {
        SystemTime::now() + margin >= self.expires_at
    }
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("needs_reauthorization", &self.needs_reauthorization)
            .finish_non_exhaustive()
    }
}

/// Tokens in SQLite.
pub struct TokenStore {
    connection: Mutex<Connection>,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS tokens (
    connection TEXT NOT NULL,
    identifier TEXT NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    scopes TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    needs_reauthorization INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (connection, identifier)
)";

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// The token in the first five columns of `row`: access token, refresh
/// token, scopes, expiry, needs-reauthorization.
fn token_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredToken> {
    let scopes: String = row.get(2)?;
    let expires_at: i64 = row.get(3)?;
    Ok(StoredToken {
        access_token: row.get(0)?,
        refresh_token: row.get(1)?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        expires_at: UNIX_EPOCH + Duration::from_secs(expires_at.max(0) as u64),
        needs_reauthorization: row.get(4)?,
    })
}

impl TokenStore {
    /// Opens (or creates) the store at `path`. A new file is created with
    /// mode 0600 before SQLite writes a byte to it.
    pub fn open(path: impl AsRef<Path>) -> rusqlite::Result<Self> {
        let path = path.as_ref();
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Creating it ourselves fixes the mode; an existing file is left as it is.
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
        }
        Self::with(Connection::open(path)?)
    }

    /// A store that lives in memory, for tests and one-off runs.
    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::with(Connection::open_in_memory()?)
    }

    fn with(connection: Connection) -> rusqlite::Result<Self> {
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Saves `token` for `key`, replacing what was there.
    pub fn put(&self, key: &ConnectionKey, token: &StoredToken) -> rusqlite::Result<()> {
        self.connection().execute(
            "INSERT OR REPLACE INTO tokens VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key.connection,
                key.identifier,
                token.access_token,
                token.refresh_token,
                token.scopes.join(" "),
                unix_seconds(token.expires_at),
                token.needs_reauthorization,
            ],
        )?;
        Ok(())
    }

    /// The token of `key`, if there is one.
    pub fn get(&self, key: &ConnectionKey) -> rusqlite::Result<Option<StoredToken>> {
        self.connection()
            .query_row(
                "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization
                 FROM tokens WHERE connection = ?1 AND identifier = ?2",
                params![key.connection, key.identifier],
                token_from_row,
            )
            .optional()
    }

    /// Every stored key with its token, ordered by connection and identifier.
    pub fn list(&self) -> rusqlite::Result<Vec<(ConnectionKey, StoredToken)>> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization,
                    connection, identifier
             FROM tokens ORDER BY connection, identifier",
        )?;
        statement
            .query_map([], |row| {
                let key = ConnectionKey::new(row.get::<_, String>(5)?, row.get::<_, String>(6)?);
                Ok((key, token_from_row(row)?))
            })?
            .collect()
    }

    /// Flags `key` as needing a new authorization.
    pub fn mark_needs_reauthorization(&self, key: &ConnectionKey) -> rusqlite::Result<()> {
        self.connection().execute(
            "UPDATE tokens SET needs_reauthorization = 1 WHERE connection = ?1 AND identifier = ?2",
            params![key.connection, key.identifier],
        )?;
        Ok(())
    }

    /// Forgets `key`'s tokens.
    pub fn remove(&self, key: &ConnectionKey) -> rusqlite::Result<()> {
        self.connection().execute(
            "DELETE FROM tokens WHERE connection = ?1 AND identifier = ?2",
            params![key.connection, key.identifier],
        )?;
        Ok(())
    }
}
