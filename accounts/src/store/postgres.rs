//! The PostgreSQL backend: one token vault for replicas on several
//! machines, with the SQLite backend's guarantees across all of them.
//!
//! - **One refresh per expiring token.** A refresh (or revoke) takes the
//!   key's lease: a row in `discord_refresh_leases` whose expiry is
//!   computed by the database's clock (`clock_timestamp()`), never a
//!   replica's, and taken by one atomic `INSERT … ON CONFLICT DO UPDATE …
//!   WHERE expired OR same holder`. A row lease rather than `SELECT … FOR
//!   UPDATE SKIP LOCKED` because a refresh spans an HTTP call to Discord: a
//!   row lock lives as long as its transaction, so it would tie up a pooled
//!   connection for the whole call, and if that replica's connection to the
//!   database dropped while its refresh was still in flight, the server
//!   would end the transaction and free the lock, and a second replica would
//!   spend the same single-use refresh token. A lease row outlives a dropped
//!   connection and frees the key only when its holder releases it or after
//!   its lifetime (60 s at most), longer than any refresh call; a replica
//!   that dies holding it blocks the key that long.
//! - **Rotated pairs by compare-and-swap.** `replace_if` updates the row
//!   only while it still holds the refresh token it replaces, in one
//!   statement (PostgreSQL re-checks the condition after waiting for a
//!   concurrent writer), so a revoked row is never brought back and a pair
//!   rotated elsewhere is never overwritten.
//! - **Schema by the library, versioned.** Each migration runs once, in the
//!   transaction that records its version in `discord_schema_versions`,
//!   under a transaction-scoped advisory lock, so replicas starting together
//!   wait for one another instead of racing to create the tables. The role
//!   needs only to own its database (no superuser).
//! - **Bounded pool, bounded waits.** At most 8 connections per store; a
//!   call waits at most 5 s for a free one; opening one gives up after 5 s
//!   to reach the server (the URL's `connect_timeout` overrides that) and
//!   5 s more for TLS and authentication; the server cancels a statement
//!   that runs 10 s (`statement_timeout`: a lock someone holds), and a
//!   statement with no answer within 15 s (a network gone silent) fails
//!   and its connection is dropped. A pooled connection the server dropped
//!   (a restart) is replaced on its next use, and the statement sent again
//!   when it cannot have run. An unreachable database is thus an error
//!   within seconds, which the [`Authorizer`](crate::Authorizer) answers
//!   by keeping a rotated pair in memory until the database is back.
//! - **TLS** as libpq's `sslmode` says: none given, `disable`, `allow` or
//!   `prefer` connect in the clear (`prefer` does not try TLS first: a
//!   server that needs TLS must be asked for it); `require` encrypts without
//!   checking the certificate (libpq's meaning: protection from eavesdropping,
//!   not from an impostor), though the handshake's signatures are still
//!   checked; `verify-ca` checks the chain against the Mozilla roots
//!   (webpki-roots), and `verify-full` the host name too. `sslrootcert=PATH`
//!   (PEM) replaces those roots with the file's, for a private CA (a cloud
//!   provider's, a company's); as with libpq, `require` with a root file
//!   checks the chain as `verify-ca` does, and `sslrootcert=system` names
//!   the Mozilla roots.
//! - **No password, no token in messages.** Errors name the database as
//!   `postgres://user@host:port/db`; what the client library or the server
//!   says is reduced to the error's kind or the server's message (never its
//!   `DETAIL`, which can quote a row) and then scrubbed of the password and
//!   of the tokens the call carried.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls, Row};

use super::{ConnectionKey, StoreFuture, StoredToken, TokenBackend};
use crate::error::{Error, ErrorKind};
use crate::redact::redact_url;

/// The most connections one store opens.
const MAX_CONNECTIONS: usize = 8;

/// How long a call waits for a pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// How long reaching the server may take, unless the URL's
/// `connect_timeout` says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long TLS and authentication may take once the server is reached.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the server lets one statement run (waiting for a lock
/// included) before cancelling it: `statement_timeout`, unless the URL's
/// `options` set it.
const SERVER_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement may go unanswered before its connection is
/// dropped (a network gone silent): longer than the server's own limit,
/// which answers first when the server is there.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long bringing the schema up to date may take (it may wait for
/// another replica's migration).
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The advisory lock migrations run under (any constant no other
/// application of the database uses: "discord" in ASCII).
const MIGRATION_LOCK: i64 = 0x0064_6973_636f_7264;

/// The schema, one migration per version, in order.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE discord_tokens (
        connection text NOT NULL,
        identifier text NOT NULL,
        access_token text NOT NULL,
        refresh_token text,
        scopes text NOT NULL,
        expires_at timestamptz NOT NULL,
        needs_reauthorization boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection, identifier)
    );
    CREATE TABLE discord_refresh_leases (
        connection text NOT NULL,
        identifier text NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (connection, identifier)
    );",
)];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Tokens in a PostgreSQL database: the [`TokenBackend`] of
/// [`TokenStore::connect`](super::TokenStore::connect) for `postgres://`
/// URLs. `Debug` shows the database without its password.
pub struct PostgresBackend {
    pool: Pool,
    /// `postgres://user@host:port/db`.
    shown: String,
    /// The password, as written in the URL and decoded: scrubbed from
    /// every message.
    secrets: Vec<String>,
}

impl fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PostgresBackend").field(&self.shown).finish()
    }
}

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tls {
    Plain,
    /// Encrypted, certificate unchecked (`require`).
    EncryptOnly,
    /// Encrypted, the chain checked, and the host name when `check_name`.
    Verify {
        check_name: bool,
    },
}

/// A parsed `postgres://` URL.
struct Location {
    config: Config,
    tls: Tls,
    /// `sslrootcert`'s file, when it names one.
    root_file: Option<PathBuf>,
    shown: String,
    secrets: Vec<String>,
}

impl PostgresBackend {
    /// Connects to the database `url` names (`postgres://user:password@host:port/db`,
    /// with libpq's `sslmode` and connection parameters), creating or
    /// migrating the schema, and keeps a pool of at most 8 connections.
    /// Fails when the URL is malformed, the server cannot be reached, the
    /// role is refused, or the database's schema is newer than this build.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let location = parse(url)?;
        let create_timeout = location
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT)
            + HANDSHAKE_TIMEOUT;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match location.tls {
            Tls::Plain => Manager::from_config(location.config, NoTls, manager_config),
            tls => Manager::from_config(
                location.config,
                tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(
                    tls,
                    location.root_file.as_deref(),
                    &location.shown,
                )?),
                manager_config,
            ),
        };
        let pool = Pool::builder(manager)
            .max_size(MAX_CONNECTIONS)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(create_timeout))
            .recycle_timeout(Some(POOL_WAIT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|error| {
                Error::with_source(
                    ErrorKind::Store,
                    format!("{}: no connection pool ({error})", location.shown),
                )
            })?;
        let backend = Self {
            pool,
            shown: location.shown,
            secrets: location.secrets,
        };
        match tokio::time::timeout(MIGRATION_TIMEOUT, backend.migrate()).await {
            Ok(migrated) => migrated?,
            Err(_) => {
                return Err(Error::with_source(
                    ErrorKind::Store,
                    format!(
                        "{}: the token schema could not be brought up to date within {} s",
                        backend.shown,
                        MIGRATION_TIMEOUT.as_secs()
                    ),
                ));
            }
        }
        Ok(backend)
    }

    /// Brings the schema to [`SCHEMA_VERSION`]: the migrations not recorded
    /// yet, in one transaction under the advisory lock.
    async fn migrate(&self) -> Result<(), Error> {
        let mut client = self.client().await?;
        let fail = |error: tokio_postgres::Error| self.failure("creating the schema", &error, &[]);
        let transaction = client.transaction().await.map_err(fail)?;
        // Waiting for another replica's migration may take longer than a
        // statement usually may.
        transaction
            .batch_execute(&format!(
                "SET LOCAL statement_timeout = {}",
                MIGRATION_TIMEOUT.as_millis()
            ))
            .await
            .map_err(fail)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(fail)?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS discord_schema_versions (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await
            .map_err(fail)?;
        let current: i32 = transaction
            .query_one(
                "SELECT coalesce(max(version), 0) FROM discord_schema_versions",
                &[],
            )
            .await
            .map_err(fail)?
            .get(0);
        if current > SCHEMA_VERSION {
            return Err(Error::with_source(
                ErrorKind::Store,
                format!(
                    "{}: the token schema is at version {current}, newer than this build's {SCHEMA_VERSION}: upgrade discord-host",
                    self.shown
                ),
            ));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
            transaction.batch_execute(sql).await.map_err(fail)?;
            transaction
                .execute(
                    "INSERT INTO discord_schema_versions (version) VALUES ($1)",
                    &[version],
                )
                .await
                .map_err(fail)?;
            tracing::info!(store = %self.shown, version, "migrated the token schema");
        }
        transaction.commit().await.map_err(fail)
    }

    /// A pooled connection.
    async fn client(&self) -> Result<Object, Error> {
        self.pool.get().await.map_err(|error| {
            let why = match error {
                PoolError::Timeout(TimeoutType::Wait) => format!(
                    "all {MAX_CONNECTIONS} pooled connections stayed busy for {} s",
                    POOL_WAIT.as_secs()
                ),
                PoolError::Timeout(TimeoutType::Create) => {
                    "the server did not accept a connection in time".to_owned()
                }
                PoolError::Timeout(TimeoutType::Recycle) => {
                    "a pooled connection did not answer in time".to_owned()
                }
                PoolError::Backend(error) => return self.failure("connecting", &error, &[]),
                PoolError::Closed => "the connection pool is closed".to_owned(),
                PoolError::NoRuntimeSpecified => "the pool has no runtime".to_owned(),
                PoolError::PostCreateHook(_) => "a new connection was refused".to_owned(),
            };
            Error::with_source(ErrorKind::Store, format!("{}: {why}", self.shown))
        })
    }

    /// The store error for `error` while `doing`, scrubbed of the password
    /// and of `tokens`.
    fn failure(&self, doing: &str, error: &tokio_postgres::Error, tokens: &[&str]) -> Error {
        let mut why = describe_error(error);
        for secret in self
            .secrets
            .iter()
            .map(String::as_str)
            .chain(tokens.iter().copied())
        {
            if !secret.is_empty() {
                why = why.replace(secret, "***");
            }
        }
        Error::with_source(
            ErrorKind::Store,
            format!("{}: {doing} failed: {why}", self.shown),
        )
    }

    /// Runs `sql` (prepared once per connection) and says how many rows it
    /// changed.
    async fn execute(
        &self,
        doing: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        tokens: &[&str],
    ) -> Result<u64, Error> {
        match self.run(doing, sql, params, tokens, false).await? {
            Answer::Changed(changed) => Ok(changed),
            Answer::Rows(_) => unreachable!("an execute answers with a count"),
        }
    }

    /// Runs the query `sql` and returns its rows.
    async fn query(
        &self,
        doing: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        match self.run(doing, sql, params, &[], true).await? {
            Answer::Rows(rows) => Ok(rows),
            Answer::Changed(_) => unreachable!("a query answers with rows"),
        }
    }

    /// Runs `sql` on a pooled connection. A connection the server dropped
    /// while it sat in the pool (a restart) fails before the statement
    /// runs; the statement is then sent once more on a new connection, so
    /// the first call after the database comes back succeeds. A statement
    /// that may have run is never sent twice.
    async fn run(
        &self,
        doing: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        tokens: &[&str],
        rows: bool,
    ) -> Result<Answer, Error> {
        let mut retried = false;
        loop {
            let client = self.client().await?;
            let attempt = async {
                match client.prepare_cached(sql).await {
                    Ok(statement) if rows => client
                        .query(&statement, params)
                        .await
                        .map(Answer::Rows)
                        .map_err(|error| (error, false)),
                    Ok(statement) => client
                        .execute(&statement, params)
                        .await
                        .map(Answer::Changed)
                        .map_err(|error| (error, false)),
                    Err(error) => Err((error, true)),
                }
            };
            let Ok(answer) = tokio::time::timeout(STATEMENT_TIMEOUT, attempt).await else {
                // It may still run: closing its connection makes the
                // server roll it back unless it committed already, and the
                // callers' compare-and-swaps take either outcome.
                drop(Object::take(client));
                return Err(Error::with_source(
                    ErrorKind::Store,
                    format!(
                        "{}: {doing} had no answer within {} s",
                        self.shown,
                        STATEMENT_TIMEOUT.as_secs()
                    ),
                ));
            };
            match answer {
                Ok(answer) => return Ok(answer),
                Err((error, in_prepare)) if !retried && dropped_unused(&error, in_prepare) => {
                    tracing::debug!(store = %self.shown, "a pooled connection was dropped by the server; retrying on a new one");
                    drop(Object::take(client));
                    retried = true;
                }
                Err((error, _)) => return Err(self.failure(doing, &error, tokens)),
            }
        }
    }

    /// The token in the first five columns of `row`.
    fn token(&self, row: &Row) -> Result<StoredToken, Error> {
        let read = || -> Result<StoredToken, tokio_postgres::Error> {
            let scopes: String = row.try_get(2)?;
            Ok(StoredToken {
                access_token: row.try_get(0)?,
                refresh_token: row.try_get(1)?,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                expires_at: row.try_get::<_, SystemTime>(3)?,
                needs_reauthorization: row.try_get(4)?,
            })
        };
        read().map_err(|error| self.failure("reading a token", &error, &[]))
    }
}

impl TokenBackend for PostgresBackend {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn put<'a>(&'a self, key: &'a ConnectionKey, token: &'a StoredToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let scopes = token.scopes.join(" ");
            self.execute(
                "saving a token",
                "INSERT INTO discord_tokens (connection, identifier, access_token, refresh_token,
                        scopes, expires_at, needs_reauthorization, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, now())
                 ON CONFLICT (connection, identifier) DO UPDATE
                 SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                     scopes = excluded.scopes, expires_at = excluded.expires_at,
                     needs_reauthorization = excluded.needs_reauthorization, updated_at = now()",
                &[
                    &key.connection,
                    &key.identifier,
                    &token.access_token,
                    &token.refresh_token,
                    &scopes,
                    &token.expires_at,
                    &token.needs_reauthorization,
                ],
                &[
                    &token.access_token,
                    token.refresh_token.as_deref().unwrap_or_default(),
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move {
            let rows = self
                .query(
                    "reading a token",
                    "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization
                     FROM discord_tokens WHERE connection = $1 AND identifier = $2",
                    &[&key.connection, &key.identifier],
                )
                .await?;
            rows.first().map(|row| self.token(row)).transpose()
        })
    }

    fn list(&self) -> StoreFuture<'_, Vec<(ConnectionKey, StoredToken)>> {
        Box::pin(async move {
            // Byte order (collation "C"), as SQLite orders them.
            let rows = self
                .query(
                    "listing tokens",
                    "SELECT access_token, refresh_token, scopes, expires_at, needs_reauthorization,
                        connection, identifier
                     FROM discord_tokens
                     ORDER BY connection COLLATE \"C\", identifier COLLATE \"C\"",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    let key = ConnectionKey::new(row.get::<_, String>(5), row.get::<_, String>(6));
                    Ok((key, self.token(row)?))
                })
                .collect()
        })
    }

    fn mark_needs_reauthorization<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.execute(
                "flagging a token",
                "UPDATE discord_tokens SET needs_reauthorization = true, updated_at = now()
                 WHERE connection = $1 AND identifier = $2",
                &[&key.connection, &key.identifier],
                &[],
            )
            .await?;
            Ok(())
        })
    }

    fn remove<'a>(&'a self, key: &'a ConnectionKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.execute(
                "removing a token",
                "DELETE FROM discord_tokens WHERE connection = $1 AND identifier = $2",
                &[&key.connection, &key.identifier],
                &[],
            )
            .await?;
            Ok(())
        })
    }

    fn replace_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        expected_refresh: &'a str,
        fresh: &'a StoredToken,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let scopes = fresh.scopes.join(" ");
            let changed = self
                .execute(
                    "saving a rotated token",
                    "UPDATE discord_tokens SET access_token = $3, refresh_token = $4, scopes = $5,
                            expires_at = $6, needs_reauthorization = false, updated_at = now()
                     WHERE connection = $1 AND identifier = $2 AND refresh_token = $7",
                    &[
                        &key.connection,
                        &key.identifier,
                        &fresh.access_token,
                        &fresh.refresh_token,
                        &scopes,
                        &fresh.expires_at,
                        &expected_refresh,
                    ],
                    &[
                        &fresh.access_token,
                        fresh.refresh_token.as_deref().unwrap_or_default(),
                        expected_refresh,
                    ],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    fn mark_needs_reauthorization_if<'a>(
        &'a self,
        key: &'a ConnectionKey,
        failed_refresh: &'a str,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let changed = self
                .execute(
                    "flagging a token",
                    "UPDATE discord_tokens SET needs_reauthorization = true, updated_at = now()
                     WHERE connection = $1 AND identifier = $2 AND refresh_token = $3",
                    &[&key.connection, &key.identifier, &failed_refresh],
                    &[failed_refresh],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    /// The expiry is the database's clock plus `ttl`, and "expired" is
    /// judged by the same clock: replicas' clocks play no part.
    fn try_lease<'a>(
        &'a self,
        key: &'a ConnectionKey,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let seconds = ttl.as_secs_f64();
            let changed = self
                .execute(
                    "taking a refresh lease",
                    "INSERT INTO discord_refresh_leases (connection, identifier, holder, expires_at)
                     VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))
                     ON CONFLICT (connection, identifier) DO UPDATE
                     SET holder = excluded.holder, expires_at = excluded.expires_at
                     WHERE discord_refresh_leases.expires_at < clock_timestamp()
                        OR discord_refresh_leases.holder = excluded.holder",
                    &[&key.connection, &key.identifier, &holder, &seconds],
                    &[],
                )
                .await?;
            Ok(changed == 1)
        })
    }

    fn release_lease<'a>(&'a self, key: &'a ConnectionKey, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.execute(
                "releasing a refresh lease",
                "DELETE FROM discord_refresh_leases
                 WHERE connection = $1 AND identifier = $2 AND holder = $3",
                &[&key.connection, &key.identifier, &holder],
                &[],
            )
            .await?;
            Ok(())
        })
    }
}

/// What a statement answered.
enum Answer {
    Changed(u64),
    Rows(Vec<Row>),
}

/// Whether `error` says the connection was gone before the statement ran:
/// the server ended the session (shutdown, crash, starting up: it answers
/// such a statement with that instead of running it), or the connection
/// failed while the statement was being prepared.
fn dropped_unused(error: &tokio_postgres::Error, in_prepare: bool) -> bool {
    match error.code() {
        Some(code) => matches!(code.code(), "57P01" | "57P02" | "57P03"),
        None => in_prepare,
    }
}

/// What went wrong, without what could quote data: the server's severity,
/// message and code (not its `DETAIL` or `HINT`), else the client's error
/// kinds down the chain (an I/O or TLS failure, a timeout).
fn describe_error(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {} ({})", db.severity(), db.message(), db.code().code());
    }
    let mut shown = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(": ");
        shown.push_str(&cause.to_string());
        source = cause.source();
    }
    shown
}

/// Reads a `postgres://` URL: libpq's parameters, `sslmode` (which the
/// client library does not fully know) taken out and applied here.
fn parse(url: &str) -> Result<Location, Error> {
    let redacted = redact_url(url);
    let invalid = |why: String| {
        Error::with_source(
            ErrorKind::Store,
            format!("{redacted} is not a usable PostgreSQL URL: {why}"),
        )
    };
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut sslmode = None;
    let mut root_file = None;
    let mut kept = Vec::new();
    for parameter in query.into_iter().flat_map(|query| query.split('&')) {
        match parameter.split_once('=') {
            Some(("sslmode", value)) => sslmode = Some(value.to_ascii_lowercase()),
            Some(("sslrootcert", "system")) => root_file = None,
            Some(("sslrootcert", value)) => {
                root_file = Some(PathBuf::from(percent_decoded(value).map_err(|()| {
                    invalid("sslrootcert is not percent-encoded UTF-8".to_owned())
                })?))
            }
            _ => kept.push(parameter),
        }
    }
    let without_sslmode = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };

    let mut secrets = Vec::new();
    if let Some(written) = url_password(url) {
        secrets.push(written.to_owned());
    }
    let mut config = match Config::from_str(&without_sslmode) {
        Ok(config) => config,
        Err(error) => {
            let mut why = describe_error(&error);
            for secret in &secrets {
                why = why.replace(secret.as_str(), "***");
            }
            return Err(invalid(why));
        }
    };
    if let Some(password) = config.get_password() {
        let decoded = String::from_utf8_lossy(password).into_owned();
        if !secrets.contains(&decoded) {
            secrets.push(decoded);
        }
    }
    secrets.retain(|secret| !secret.is_empty());

    let tls = match sslmode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => Tls::Plain,
        Some("require") if root_file.is_some() => Tls::Verify { check_name: false },
        Some("require") => Tls::EncryptOnly,
        Some("verify-ca") => Tls::Verify { check_name: false },
        Some("verify-full") => Tls::Verify { check_name: true },
        Some(other) => {
            return Err(invalid(format!(
                "unknown sslmode `{other}` (disable, allow, prefer, require, verify-ca, verify-full)"
            )));
        }
    };
    config.ssl_mode(if tls == Tls::Plain {
        SslMode::Disable
    } else {
        SslMode::Require
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // First, so that a statement_timeout in the URL's options wins.
    let options = match config.get_options() {
        Some(theirs) => format!(
            "-c statement_timeout={} {theirs}",
            SERVER_STATEMENT_TIMEOUT.as_millis()
        ),
        None => format!(
            "-c statement_timeout={}",
            SERVER_STATEMENT_TIMEOUT.as_millis()
        ),
    };
    config.options(&options);
    if config.get_application_name().is_none() {
        config.application_name("discord-host");
    }
    if config.get_hosts().is_empty() {
        return Err(invalid("it names no host".to_owned()));
    }

    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(index, host)| {
            let port = config
                .get_ports()
                .get(index)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let mut shown = format!(
        "postgres://{}{}/{}",
        config
            .get_user()
            .map_or_else(String::new, |user| format!("{user}@")),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    );
    if let Some(mode) = &sslmode {
        shown.push_str("?sslmode=");
        shown.push_str(mode);
    }
    for secret in &secrets {
        shown = shown.replace(secret.as_str(), "***");
    }
    Ok(Location {
        config,
        tls,
        root_file,
        shown,
        secrets,
    })
}

/// The password as written in `url`'s user information, if any.
fn url_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
    let at = rest[..query_start].rfind('@')?;
    rest[..at].split_once(':').map(|(_, password)| password)
}

/// `%XX` escapes decoded.
fn percent_decoded(value: &str) -> Result<String, ()> {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = value.get(index + 1..index + 3).ok_or(())?;
            decoded.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| ())
}

/// The roots a certificate must lead to: `root_file`'s (PEM), else the
/// Mozilla roots.
fn roots(root_file: Option<&Path>) -> Result<rustls::RootCertStore, String> {
    use rustls::pki_types::pem::PemObject;

    let Some(path) = root_file else {
        return Ok(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let pem = std::fs::read(path)
        .map_err(|error| format!("sslrootcert {} cannot be read: {error}", path.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        let certificate = certificate
            .map_err(|error| format!("sslrootcert {} is not PEM: {error}", path.display()))?;
        roots.add(certificate).map_err(|error| {
            format!(
                "sslrootcert {} holds an unusable certificate: {error}",
                path.display()
            )
        })?;
    }
    if roots.is_empty() {
        return Err(format!(
            "sslrootcert {} holds no certificate",
            path.display()
        ));
    }
    Ok(roots)
}

/// The TLS client configuration for `tls` (never [`Tls::Plain`]), with
/// ring's algorithms.
fn tls_config(
    tls: Tls,
    root_file: Option<&Path>,
    shown: &str,
) -> Result<rustls::ClientConfig, Error> {
    let unusable = |why: String| {
        Error::with_source(
            ErrorKind::Store,
            format!("{shown}: no TLS configuration ({why})"),
        )
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| unusable(error.to_string()))?;
    Ok(match tls {
        Tls::Plain | Tls::EncryptOnly => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly { provider }))
            .with_no_client_auth(),
        Tls::Verify { check_name: true } => builder
            .with_root_certificates(roots(root_file).map_err(unusable)?)
            .with_no_client_auth(),
        Tls::Verify { check_name: false } => {
            let roots = Arc::new(roots(root_file).map_err(unusable)?);
            let chain =
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|error| unusable(error.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly { chain }))
                .with_no_client_auth()
        }
    })
}

/// `sslmode=require`: any certificate is taken (libpq does the same), but
/// the handshake's signatures are still checked with ring, so the session
/// is encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct EncryptOnly {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the host
/// name is not compared.
#[derive(Debug)]
struct ChainOnly {
    chain: Arc<rustls::client::WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        match self.chain.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // The name is checked only once the chain was found good.
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_shown_without_their_password() {
        let location = parse(
            "postgresql://ada:s3cr%40t@db.example:6543/tokens?sslmode=verify-full&connect_timeout=2",
        )
        .unwrap();
        assert_eq!(
            location.shown,
            "postgres://ada@db.example:6543/tokens?sslmode=verify-full"
        );
        assert_eq!(location.tls, Tls::Verify { check_name: true });
        assert_eq!(location.config.get_password(), Some(&b"s3cr@t"[..]));
        assert_eq!(location.secrets, ["s3cr%40t", "s3cr@t"]);
        assert_eq!(
            location.config.get_connect_timeout(),
            Some(&Duration::from_secs(2))
        );

        let plain = parse("postgres://ada:pw@127.0.0.1/tokens?sslmode=prefer").unwrap();
        assert_eq!(plain.tls, Tls::Plain);
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(plain.config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(parse("postgres://h/d").unwrap().tls, Tls::Plain);
        assert_eq!(
            parse("postgres://h/d").unwrap().config.get_options(),
            Some("-c statement_timeout=10000")
        );
        assert_eq!(
            parse("postgres://h/d?options=-c%20statement_timeout%3D500")
                .unwrap()
                .config
                .get_options(),
            Some("-c statement_timeout=10000 -c statement_timeout=500"),
            "the URL's own setting comes last, and wins"
        );
        let private_ca =
            parse("postgres://h/d?sslmode=require&sslrootcert=/etc/my%20ca.pem").unwrap();
        assert_eq!(
            private_ca.tls,
            Tls::Verify { check_name: false },
            "require with a root file checks the chain, as libpq does"
        );
        assert_eq!(
            private_ca.root_file.as_deref(),
            Some(Path::new("/etc/my ca.pem"))
        );
        assert_eq!(
            parse("postgres://h/d?sslmode=verify-full&sslrootcert=system")
                .unwrap()
                .root_file,
            None
        );
        assert_eq!(
            parse("postgres://h/d?sslmode=require").unwrap().tls,
            Tls::EncryptOnly
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_its_password() {
        for url in [
            "postgres://ada:hunter2@host:notaport/db",
            "postgres://ada:hunter2@host/db?sslmode=sometimes",
            "postgres://ada:hunter2@host/db?frobnicate=1",
        ] {
            let error = parse(url).err().expect("refused");
            let shown = format!(
                "{error} {error:?} {}",
                std::error::Error::source(&error).unwrap()
            );
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("postgres://ada:***@host"), "{shown}");
        }
    }
}
