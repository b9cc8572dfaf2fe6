//! The SQLite backend: tokens in a file only its owner can read (or in
//! memory), for the processes of one machine. Its lease and
//! compare-and-swap rely on SQLite's file locks, so they order processes
//! sharing the file, not replicas on other machines (that is what the
//! PostgreSQL backend is for).
//!
//! Calls run on the caller's thread, as they always have: a write waits at
//! most the busy timeout (5 s) for another process's lock.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use super::{ConnectionKey, StoreFuture, StoredToken, TokenBackend};
use crate::error::{Error, ErrorKind};

/// Creates `path` with mode 0600, or checks the existing file: a regular
/// file (never followed through a link) owned by this user, tightened to
/// 0600 when others could read it. Either way its directory must be one no
/// other user can replace the file in (see
/// [`discord_host::private_dir::check_parent`]).
#[cfg(unix)]
fn private_file(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

    use discord_host::private_dir::{ParentAccess, check_parent, open_own_file};

    let refuse = |error: std::io::Error| {
        Error::with_source(
            ErrorKind::Store,
            format!("refusing the token store: {error}"),
        )
    };
    let directory = match path.parent() {
        Some(directory) if !directory.as_os_str().is_empty() => directory,
        _ => Path::new("."),
    };
    if check_parent(directory).map_err(refuse)? == ParentAccess::Sticky {
        tracing::warn!(path = %path.display(), "the token store's directory is shared (others may add files to it): keep the store in a private directory, as another user could plant SQLite's journal files beside it");
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = open_own_file(path).map_err(refuse)?;
            let mode = file.metadata().map_err(refuse)?.mode();
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(refuse)?;
                tracing::warn!(path = %path.display(), "the token store was readable by others; its mode is now 0600");
            }
            Ok(())
        }
        Err(error) => Err(refuse(std::io::Error::new(
            error.kind(),
            format!("{} cannot be created ({error})", path.display()),
        ))),
    }
}

fn store_error(error: rusqlite::Error) -> Error {
    Error::with_source(ErrorKind::Store, error)
}

/// Tokens in SQLite: the [`TokenBackend`] of
/// [`TokenStore::open`](super::TokenStore::open) and its siblings.
pub struct SqliteBackend {
    connection: Mutex<Connection>,
    /// The file's path as given, or `:memory:`.
    shown: String,
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
);
CREATE TABLE IF NOT EXISTS refresh_leases (
    connection TEXT NOT NULL,
    identifier TEXT NOT NULL,
    holder TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (connection, identifier)
)";

/// How long a writer waits for another process's lock on the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

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

/// The default store's file name, in the user's data directory.
const DEFAULT_FILE: &str = "tokens.sqlite3";

impl SqliteBackend {
    /// Opens (or creates) the store at `path`. A new file is created with
    /// mode 0600 before SQLite writes a byte to it; an existing file that
    /// others may read is tightened to 0600. A file that another user owns
    /// or that is a link, or a directory that another user owns or that
    /// others may write without the sticky bit, is refused
    /// ([`ErrorKind::Store`]): its owner could read the tokens or swap the
    /// file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        #[cfg(unix)]
        private_file(path)?;
        Self::with(
            Connection::open(path).map_err(store_error)?,
            path.display().to_string(),
        )
    }

    /// Where the default store lives: `tokens.sqlite3` in the user's data
    /// directory, `$XDG_DATA_HOME/discord-host`, else
    /// `~/.local/share/discord-host`. `None` when neither variable is set
    /// (or the system is not Unix).
    pub fn default_path() -> Option<PathBuf> {
        #[cfg(unix)]
        return discord_host::private_dir::data_dir().map(|dir| dir.join(DEFAULT_FILE));
        #[cfg(not(unix))]
        None
    }

    /// Opens (or creates) the default store at [`default_path`](Self::default_path):
    /// its directory is made with mode 0700 when missing, and refused when
    /// another user owns it or group or others may write it.
    pub fn open_default() -> Result<Self, Error> {
        let path = Self::default_path().ok_or_else(|| {
            Error::with_source(
                ErrorKind::Store,
                "no data directory for the token store: set XDG_DATA_HOME or HOME, or name a file",
            )
        })?;
        #[cfg(unix)]
        if let Some(directory) = path.parent() {
            discord_host::private_dir::PrivateDir::create(directory).map_err(|error| {
                Error::with_source(
                    ErrorKind::Store,
                    format!("refusing the token store {}: {error}", path.display()),
                )
            })?;
        }
        Self::open(path)
    }

    /// A store that lives in memory, for tests and one-off runs.
    pub fn in_memory() -> Result<Self, Error> {
        Self::with(
            Connection::open_in_memory().map_err(store_error)?,
            ":memory:".to_owned(),
        )
    }

    fn with(connection: Connection, shown: String) -> Result<Self, Error> {
        connection.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
        connection.execute_batch(SCHEMA).map_err(store_error)?;
        Ok(Self {
            connection: Mutex::new(connection),
            shown,
        })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Saves `token` for `key`, replacing what was there.
    fn put_now(&self, key: &ConnectionKey, token: &StoredToken) -> Result<(), Error> {
        self.connection()
            .execute(
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
            )
            .map_err(store_error)?;
        Ok(())
    }

    /// The token of `key`, if there is one.
    fn get_now(&self, key: &ConnectionKey) -> Result<Option<StoredToken>, Error> {
        self.connection()
            .query_row(
                "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization
                 FROM tokens WHERE connection = ?1 AND identifier = ?2",
                params![key.connection, key.identifier],
                token_from_row,
            )
            .optional()
            .map_err(store_error)
    }

    /// Every stored key with its token, ordered by connection and identifier.
    fn list_now(&self) -> Result<Vec<(ConnectionKey, StoredToken)>, Error> {
        let connection = self.connection();
        let mut statement = connection
            .prepare(
                "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization,
                    connection, identifier
             FROM tokens ORDER BY connection, identifier",
            )
            .map_err(store_error)?;
        statement
            .query_map([], |row| {
                let key = ConnectionKey::new(row.get::<_, String>(5)?, row.get::<_, String>(6)?);
                Ok((key, token_from_row(row)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(store_error)
    }

    /// Flags `key` as needing a new authorization.
    fn mark_needs_reauthorization_now(&self, key: &ConnectionKey) -> Result<(), Error> {
        self.connection().execute(
            "UPDATE tokens SET needs_reauthorization = 1 WHERE connection = ?1 AND identifier = ?2",
            params![key.connection, key.identifier],
        )
        .map_err(store_error)?;
        Ok(())
    }

    /// Forgets `key`'s tokens.
    fn remove_now(&self, key: &ConnectionKey) -> Result<(), Error> {
        self.connection()
            .execute(
                "DELETE FROM tokens WHERE connection = ?1 AND identifier = ?2",
                params![key.connection, key.identifier],
            )
            .map_err(store_error)?;
        Ok(())
    }

    /// Replaces `key`'s tokens with `fresh` only while the row still holds
    /// `expected_refresh` (compare and swap): a row revoked or rotated by
    /// someone else meanwhile is left as it is. Whether it was replaced.
    fn replace_if_now(
        &self,
        key: &ConnectionKey,
        expected_refresh: &str,
        fresh: &StoredToken,
    ) -> Result<bool, Error> {
        let changed = self
            .connection()
            .execute(
                "UPDATE tokens SET access_token = ?3, refresh_token = ?4, scopes = ?5,
                        expires_at = ?6, needs_reauthorization = 0
                 WHERE connection = ?1 AND identifier = ?2 AND refresh_token = ?7",
                params![
                    key.connection,
                    key.identifier,
                    fresh.access_token,
                    fresh.refresh_token,
                    fresh.scopes.join(" "),
                    unix_seconds(fresh.expires_at),
                    expected_refresh,
                ],
            )
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    /// Flags `key` as needing a new authorization only while it still
    /// holds `failed_refresh`, the refresh token Discord refused.
    fn mark_needs_reauthorization_if_now(
        &self,
        key: &ConnectionKey,
        failed_refresh: &str,
    ) -> Result<bool, Error> {
        let changed = self
            .connection()
            .execute(
                "UPDATE tokens SET needs_reauthorization = 1
                 WHERE connection = ?1 AND identifier = ?2 AND refresh_token = ?3",
                params![key.connection, key.identifier, failed_refresh],
            )
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    /// Takes `key`'s refresh lease for `holder` until `ttl` from now, if no
    /// other holder has an unexpired one: the lock that orders refreshes
    /// and revokes of one connection across processes sharing the file.
    fn try_lease_now(
        &self,
        key: &ConnectionKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, Error> {
        let now = unix_millis(SystemTime::now());
        let until = now.saturating_add(ttl.as_millis() as i64);
        let changed = self
            .connection()
            .execute(
                "INSERT INTO refresh_leases VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connection, identifier) DO UPDATE
                 SET holder = excluded.holder, until_ms = excluded.until_ms
                 WHERE refresh_leases.until_ms < ?5 OR refresh_leases.holder = excluded.holder",
                params![key.connection, key.identifier, holder, until, now],
            )
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    /// Gives up `holder`'s lease on `key`.
    fn release_lease_now(&self, key: &ConnectionKey, holder: &str) -> Result<(), Error> {
        self.connection()
            .execute(
                "DELETE FROM refresh_leases WHERE connection = ?1 AND identifier = ?2 AND holder = ?3",
                params![key.connection, key.identifier, holder],
            )
            .map_err(store_error)?;
        Ok(())
    }
}

/// Each call runs when its future is first polled, on that thread.
impl TokenBackend for SqliteBackend {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn put<'a>(&'a self, key: &'a ConnectionKey, token: &'a StoredToken) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.put_now(key, token) })
    }

    fn get<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move { self.get_now(key) })
    }

    fn list(&self) -> StoreFuture<'_, Vec<(ConnectionKey, StoredToken)>> {
        Box::pin(async move { self.list_now() })
    }

    fn mark_needs_reauthorization<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.mark_needs_reauthorization_now(key) })
    }

    fn remove<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.remove_now(key) })
    }

    fn replace_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        expected_refresh: &'a str,
        fresh: &'a StoredToken,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.replace_if_now(key, expected_refresh, fresh) })
    }

    fn mark_needs_reauthorization_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        failed_refresh: &'a str,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.mark_needs_reauthorization_if_now(key, failed_refresh) })
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a ConnectionKey,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { self.try_lease_now(key, holder, ttl) })
    }

    fn release_lease<'a>(&'a self, key: &'a ConnectionKey, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.release_lease_now(key, holder) })
    }

    /// SQLite's busy timeout: how long writes wait for another process's
    /// lock on the file (5 s by default).
    fn set_busy_timeout(&self, timeout: Duration) -> Result<(), Error> {
        self.connection().busy_timeout(timeout).map_err(store_error)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;
    use crate::store::TokenStore;

    /// The uid that plays another user (`nobody`).
    const ANOTHER_USER: u32 = 65534;

    /// A fresh directory of this user's, mode 0700, for one test.
    fn private_scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("discord-accounts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    /// Whether this process can give files away: only root can.
    fn is_root(scratch: &Path) -> bool {
        std::fs::metadata(scratch).unwrap().uid() == 0
    }

    /// The error's whole text: what a user reads.
    fn shown(error: &Error) -> String {
        format!(
            "{error}: {}",
            std::error::Error::source(error).map_or(String::new(), |source| source.to_string())
        )
    }

    #[test]
    fn a_store_file_another_user_owns_is_refused() {
        let dir = private_scratch("foreign-file");
        if !is_root(&dir) {
            eprintln!(
                "SKIPPED a_store_file_another_user_owns_is_refused: only root can give a file to uid {ANOTHER_USER}"
            );
            return;
        }
        let path = dir.join("tokens.sqlite3");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::os::unix::fs::chown(&path, Some(ANOTHER_USER), Some(ANOTHER_USER)).unwrap();
        let error = TokenStore::open(&path).expect_err("refused");
        assert!(matches!(error.kind(), ErrorKind::Store));
        let shown = shown(&error);
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        assert!(shown.contains("owned by another user"), "{shown}");
        let file = std::fs::metadata(&path).unwrap();
        assert_eq!(file.len(), 0, "nothing was written to it");
        assert_eq!(file.mode() & 0o777, 0o666, "nor its mode changed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_store_directory_another_user_owns_is_refused() {
        let dir = private_scratch("foreign-dir");
        if !is_root(&dir) {
            eprintln!(
                "SKIPPED a_store_directory_another_user_owns_is_refused: only root can give a directory to uid {ANOTHER_USER}"
            );
            return;
        }
        std::os::unix::fs::chown(&dir, Some(ANOTHER_USER), Some(ANOTHER_USER)).unwrap();
        let path = dir.join("tokens.sqlite3");
        let error = TokenStore::open(&path).expect_err("refused");
        assert!(matches!(error.kind(), ErrorKind::Store));
        let shown = shown(&error);
        assert!(shown.contains("owned by another user"), "{shown}");
        assert!(!path.exists(), "no store is made in it");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_store_directory_others_may_write_is_refused() {
        let dir = private_scratch("loose-dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = TokenStore::open(dir.join("tokens.sqlite3")).expect_err("refused");
        assert!(matches!(error.kind(), ErrorKind::Store));
        assert!(
            shown(&error).contains("writable by group or others"),
            "{}",
            shown(&error)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_link_at_the_store_path_is_refused_and_not_followed() {
        let dir = private_scratch("link");
        let target = dir.join("target");
        std::fs::write(&target, b"").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.join("tokens.sqlite3");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let error = TokenStore::open(&path).expect_err("refused");
        assert!(shown(&error).contains("symbolic link"), "{}", shown(&error));
        let target = std::fs::metadata(&target).unwrap();
        assert_eq!(target.len(), 0);
        assert_eq!(target.mode() & 0o777, 0o644);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_store_is_in_the_data_directory() {
        let path = TokenStore::default_path().expect("HOME or XDG_DATA_HOME is set");
        assert_eq!(
            Some(path.clone()),
            discord_host::private_dir::data_dir().map(|dir| dir.join("tokens.sqlite3"))
        );
        assert!(path.is_absolute(), "{}", path.display());
        assert!(path.ends_with("discord-host/tokens.sqlite3"));
    }

    #[test]
    fn an_existing_store_file_others_can_read_is_made_private() {
        let path = std::env::temp_dir().join(format!(
            "discord-accounts-loose-{}.sqlite3",
            std::process::id()
        ));
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = TokenStore::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(store);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn a_failed_write_shows_no_token() {
        let path = std::env::temp_dir().join(format!(
            "discord-accounts-broken-{}.sqlite3",
            std::process::id()
        ));
        let store = TokenStore::open(&path).unwrap();
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE tokens")
            .unwrap();
        let key = ConnectionKey::new("discord", "user-42");
        let token = StoredToken {
            access_token: "access-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            scopes: vec!["identify".into()],
            expires_at: SystemTime::now(),
            needs_reauthorization: false,
        };
        let failures = [
            store.put(&key, &token).await.unwrap_err(),
            store
                .replace_if(&key, "expected-refresh-secret", &token)
                .await
                .unwrap_err(),
        ];
        for error in failures {
            assert!(matches!(error.kind(), ErrorKind::Store));
            let shown = format!(
                "{error} {error:?} {}",
                std::error::Error::source(&error).unwrap()
            );
            assert!(!shown.contains("secret"), "{shown}");
        }
        drop(store);
        std::fs::remove_file(&path).unwrap();
    }
}
