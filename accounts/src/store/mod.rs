//! The host's token store: OAuth tokens keyed by (connection, identifier),
//! behind one trait, [`TokenBackend`], with two backends:
//!
//! - SQLite (the embedded default): a file only its owner can read, for
//!   the processes of one machine;
//! - PostgreSQL (feature `postgres`): one database shared by replicas on
//!   several machines.
//!
//! [`TokenStore`] is the facade the rest of the crate uses; which backend
//! it wraps is chosen by [`TokenStore::connect`]'s location. Every data
//! method is async because the PostgreSQL backend talks to a server; the
//! SQLite backend answers from its file (it blocks at most its busy
//! timeout, as it always has).
//!
//! ```
//! use discord_accounts::{ConnectionKey, StoredToken, TokenStore};
//! use std::time::{Duration, SystemTime};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = TokenStore::in_memory()?;
//! let key = ConnectionKey::new("discord", "user-42");
//! store.put(&key, &StoredToken {
//!     access_token: "at".into(),
//!     refresh_token: Some("rt".into()),
//!     scopes: vec!["identify".into()],
//!     expires_at: SystemTime::now() + Duration::from_secs(3600),
//!     needs_reauthorization: false,
//! }).await?;
//! assert_eq!(store.get(&key).await?.unwrap().scopes, ["identify"]);
//! # Ok::<(), discord_accounts::Error>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use crate::error::{Error, ErrorKind};
use crate::redact::redact_url;

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresBackend;
pub use sqlite::SqliteBackend;

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

/// What a [`TokenBackend`] method returns: a boxed future, so the trait
/// can be used as `dyn TokenBackend`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Where tokens are kept. Implementations must give the guarantees the
/// [`Authorizer`](crate::Authorizer) rests on, for every process that
/// shares the store: [`replace_if`](Self::replace_if) and
/// [`mark_needs_reauthorization_if`](Self::mark_needs_reauthorization_if)
/// are atomic compare-and-swaps, and [`try_lease`](Self::try_lease) gives a
/// key's lease to one holder at a time until it expires. No error may
/// contain a token or a password.
pub trait TokenBackend: Send + Sync {
    /// Which store this is, for messages: never a password.
    fn describe(&self) -> String;

    /// Saves `token` for `key`, replacing what was there.
    fn put<'a>(&'a self, key: &'a ConnectionKey, token: &'a StoredToken) -> StoreFuture<'a, ()>;

    /// The token of `key`, if there is one.
    fn get<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, Option<StoredToken>>;

    /// Every stored key with its token, ordered by connection and identifier.
    fn list(&self) -> StoreFuture<'_, Vec<(ConnectionKey, StoredToken)>>;

    /// Flags `key` as needing a new authorization.
    fn mark_needs_reauthorization<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()>;

    /// Forgets `key`'s tokens.
    fn remove<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()>;

    /// Replaces `key`'s tokens with `fresh` only while the row still holds
    /// `expected_refresh` (compare and swap), clearing the
    /// needs-reauthorization flag: a row revoked or rotated by someone else
    /// meanwhile is left as it is. Whether it was replaced.
    fn replace_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        expected_refresh: &'a str,
        fresh: &'a StoredToken,
    ) -> StoreFuture<'a, bool>;

    /// Flags `key` as needing a new authorization only while it still
    /// holds `failed_refresh`, the refresh token Discord refused.
    fn mark_needs_reauthorization_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        failed_refresh: &'a str,
    ) -> StoreFuture<'a, bool>;

    /// Takes `key`'s refresh lease for `holder` until `ttl` from now, if no
    /// other holder has an unexpired one (the same holder may take it
    /// again): the lock that orders refreshes and revokes of one
    /// connection across processes sharing the store.
    fn try_lease<'a>(
        &'a self,
        key: &'a ConnectionKey,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Gives up `holder`'s lease on `key` (another holder's is left alone).
    fn release_lease<'a>(&'a self, key: &'a ConnectionKey, holder: &'a str) -> StoreFuture<'a, ()>;

    /// How long a write waits for another writer's lock, where the backend
    /// has such a setting (SQLite's busy timeout); others ignore it.
    fn set_busy_timeout(&self, timeout: Duration) -> Result<(), Error> {
        let _ = timeout;
        Ok(())
    }
}

/// The token store: a [`TokenBackend`] (SQLite or PostgreSQL) behind one
/// type. `Debug` shows [`describe`](Self::describe), never a password.
pub struct TokenStore {
    backend: Box<dyn TokenBackend>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenStore")
            .field(&self.backend.describe())
            .finish()
    }
}

impl TokenStore {
    /// Opens (or creates) the SQLite store at `path`. A new file is created
    /// with mode 0600 before SQLite writes a byte to it; an existing file
    /// that others may read is tightened to 0600. A file that another user
    /// owns or that is a link, or a directory that another user owns or
    /// that others may write without the sticky bit, is refused
    /// ([`ErrorKind::Store`]): its owner could read the tokens or swap the
    /// file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(Self::from_backend(Box::new(SqliteBackend::open(
            path.as_ref(),
        )?)))
    }

    /// Where the default store lives: `tokens.sqlite3` in the user's data
    /// directory, `$XDG_DATA_HOME/discord-host`, else
    /// `~/.local/share/discord-host`. `None` when neither variable is set
    /// (or the system is not Unix).
    pub fn default_path() -> Option<PathBuf> {
        SqliteBackend::default_path()
    }

    /// Opens (or creates) the default store at [`default_path`](Self::default_path):
    /// its directory is made with mode 0700 when missing, and refused when
    /// another user owns it or group or others may write it.
    pub fn open_default() -> Result<Self, Error> {
        Ok(Self::from_backend(Box::new(SqliteBackend::open_default()?)))
    }

    /// A store that lives in memory, for tests and one-off runs.
    pub fn in_memory() -> Result<Self, Error> {
        Ok(Self::from_backend(Box::new(SqliteBackend::in_memory()?)))
    }

    /// Opens the store `location` names:
    ///
    /// - `postgres://…` or `postgresql://…`: a PostgreSQL database (feature
    ///   `postgres`), its schema created or migrated on the way (see
    ///   `PostgresBackend::connect`: libpq's `sslmode`, `sslrootcert` and
    ///   connection parameters, a pool of at most 8 connections);
    /// - `sqlite:PATH` (`sqlite:///abs/path` works too) or a plain path: a
    ///   SQLite file, with [`open`](Self::open)'s checks.
    ///
    /// Any other `scheme://` is refused. Errors name the location with its
    /// password replaced by `***` ([`redact_url`]).
    pub async fn connect(location: &str) -> Result<Self, Error> {
        if let Some(scheme) = postgres_scheme(location) {
            #[cfg(feature = "postgres")]
            {
                let _ = scheme;
                return Ok(Self::from_backend(Box::new(
                    PostgresBackend::connect(location).await?,
                )));
            }
            #[cfg(not(feature = "postgres"))]
            return Err(Error::with_source(
                ErrorKind::Store,
                format!(
                    "{scheme}:// stores need the `postgres` feature of discord-accounts, which this build lacks ({})",
                    redact_url(location)
                ),
            ));
        }
        if let Some(path) = location.strip_prefix("sqlite:") {
            let path = match path.strip_prefix("//") {
                Some(rest) => rest,
                None => path,
            };
            if path.is_empty() {
                return Err(Error::with_source(
                    ErrorKind::Store,
                    "the store location `sqlite:` names no file",
                ));
            }
            return Self::open(path);
        }
        if location.to_ascii_lowercase().contains("password=") {
            // A libpq `key=value` string taken for a path would become a
            // file named after the password.
            return Err(Error::with_source(
                ErrorKind::Store,
                format!(
                    "{} looks like a connection string: name a PostgreSQL store by a postgres:// URL",
                    redact_url(location)
                ),
            ));
        }
        if let Some((scheme, _)) = location.split_once("://") {
            return Err(Error::with_source(
                ErrorKind::Store,
                format!(
                    "unknown token store scheme `{scheme}://` in {}: use postgres://, sqlite:PATH or a file path",
                    redact_url(location)
                ),
            ));
        }
        Self::open(location)
    }

    /// A store over `backend`, such as one of the host's own.
    pub fn from_backend(backend: Box<dyn TokenBackend>) -> Self {
        Self { backend }
    }

    /// Which store this is: `postgres://user@host:port/db` (never the
    /// password) or the SQLite file's path (`:memory:` in memory).
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// The backend underneath.
    pub fn backend(&self) -> &dyn TokenBackend {
        &*self.backend
    }

    /// Saves `token` for `key`, replacing what was there.
    pub async fn put(&self, key: &ConnectionKey, token: &StoredToken) -> Result<(), Error> {
        self.backend.put(key, token).await
    }

    /// The token of `key`, if there is one.
    pub async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredToken>, Error> {
        self.backend.get(key).await
    }

    /// Every stored key with its token, ordered by connection and identifier.
    pub async fn list(&self) -> Result<Vec<(ConnectionKey, StoredToken)>, Error> {
        self.backend.list().await
    }

    /// Flags `key` as needing a new authorization.
    pub async fn mark_needs_reauthorization(&self, key: &ConnectionKey) -> Result<(), Error> {
        self.backend.mark_needs_reauthorization(key).await
    }

    /// Forgets `key`'s tokens.
    pub async fn remove(&self, key: &ConnectionKey) -> Result<(), Error> {
        self.backend.remove(key).await
    }

    /// How long writes wait for another process's lock on a SQLite file
    /// (5 s by default). PostgreSQL stores ignore it: their wait is the
    /// pool's.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), Error> {
        self.backend.set_busy_timeout(timeout)
    }

    /// Replaces `key`'s tokens with `fresh` only while the row still holds
    /// `expected_refresh` (compare and swap): a row revoked or rotated by
    /// someone else meanwhile is left as it is. Whether it was replaced.
    pub async fn replace_if(
        &self,
        key: &ConnectionKey,
        expected_refresh: &str,
        fresh: &StoredToken,
    ) -> Result<bool, Error> {
        self.backend.replace_if(key, expected_refresh, fresh).await
    }

    /// Flags `key` as needing a new authorization only while it still
    /// holds `failed_refresh`, the refresh token Discord refused.
    pub async fn mark_needs_reauthorization_if(
        &self,
        key: &ConnectionKey,
        failed_refresh: &str,
    ) -> Result<bool, Error> {
        self.backend
            .mark_needs_reauthorization_if(key, failed_refresh)
            .await
    }

    /// Takes `key`'s refresh lease for `holder` until `ttl` from now, if no
    /// other holder has an unexpired one: the lock that orders refreshes
    /// and revokes of one connection across processes sharing the store.
    pub async fn try_lease(
        &self,
        key: &ConnectionKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, Error> {
        self.backend.try_lease(key, holder, ttl).await
    }

    /// Gives up `holder`'s lease on `key`.
    pub async fn release_lease(&self, key: &ConnectionKey, holder: &str) -> Result<(), Error> {
        self.backend.release_lease(key, holder).await
    }
}

/// `postgres` or `postgresql` when `location` is such a URL.
fn postgres_scheme(location: &str) -> Option<&'static str> {
    let (scheme, _) = location.split_once("://")?;
    if scheme.eq_ignore_ascii_case("postgres") {
        Some("postgres")
    } else if scheme.eq_ignore_ascii_case("postgresql") {
        Some("postgresql")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_its_password() {
        let error = TokenStore::connect("mysql://ada:hunter2@db.example/tokens")
            .await
            .unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Store));
        let shown = format!(
            "{error} {error:?} {}",
            std::error::Error::source(&error).unwrap()
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("mysql://ada:***@db.example/tokens"),
            "{shown}"
        );
    }

    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn postgres_urls_need_the_feature() {
        let error = TokenStore::connect("postgresql://ada:hunter2@db/tokens")
            .await
            .unwrap_err();
        let shown = std::error::Error::source(&error).unwrap().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("`postgres` feature"), "{shown}");
    }

    #[tokio::test]
    async fn a_connection_string_is_not_taken_for_a_path() {
        let location = "host=db user=ada password=hunter2 dbname=tokens";
        let error = TokenStore::connect(location).await.unwrap_err();
        let shown = std::error::Error::source(&error).unwrap().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("password=***"), "{shown}");
        assert!(!Path::new(location).exists());
    }

    #[tokio::test]
    async fn sqlite_locations_open_files() {
        let path = std::env::temp_dir().join(format!(
            "discord-accounts-connect-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        for location in [
            format!("sqlite:{}", path.display()),
            format!("sqlite://{}", path.display()),
            path.display().to_string(),
        ] {
            let store = TokenStore::connect(&location).await.unwrap();
            assert_eq!(store.describe(), path.display().to_string());
            assert!(store.list().await.unwrap().is_empty());
        }
        let store = TokenStore::in_memory().unwrap();
        assert_eq!(format!("{store:?}"), "TokenStore(\":memory:\")");
        std::fs::remove_file(&path).unwrap();
    }
}
