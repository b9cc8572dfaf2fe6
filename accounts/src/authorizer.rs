//! Obtaining a user's tokens, keeping them, refreshing them before they
//! expire, and running tools with them.
//!
//! The component does the protocol work over wasi:http; this module does
//! the keeping. An agent passes only a connection name and a user
//! identifier; [`Authorizer::execute_tool`] finds the token, refreshes it
//! when it expires within the margin (or once after a 401), and calls.
//!
//! Discord's refresh tokens are single-use: two refreshes with the same
//! one would lose the connection. Every refresh of a key therefore runs
//! under that key's async mutex (within the process) and its lease in the
//! store (across processes sharing the file), and a caller that waited
//! re-reads the store and uses the token the first one obtained (single
//! flight). Revokes take the same lease, so a refresh in flight can never
//! bring a revoked connection back; the rotated pair is written with a
//! compare-and-swap on the refresh token it replaces, and a pair the store
//! could not take (a busy SQLite file, an unreachable PostgreSQL) is kept
//! in memory and written on the key's next use: no pair Discord issued is
//! dropped.
//!
//! The lease is given back explicitly when a refresh or revoke ends; a
//! call cancelled while holding it gives it back from a spawned task, and
//! a process that dies holding it blocks others until it expires
//! ([`Authorizer::with_lease_ttl`], 60 s at most). Each lease taken has a
//! holder name of its own, so a late release never drops a newer lease; a
//! lease the store could not take back (it was down) is taken again under
//! its old name by this authorizer's next refresh of the key.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime};

use discord_host::{ComponentErrorKind, Connector, Credential, LinkRequest, Output, Token};

use crate::callback::Callback;
use crate::clients::ClientRegistry;
use crate::error::{Error, ErrorKind};
use crate::store::{ConnectionKey, StoredToken, TokenStore};

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

type Flight = Arc<tokio::sync::Mutex<()>>;

/// How long a refresh lease lasts by default, and at most: longer than any
/// refresh call takes, so a holder that crashed keeps others waiting at
/// most this long.
const LEASE_TTL: Duration = Duration::from_secs(60);

/// The shortest lease [`Authorizer::with_lease_ttl`] takes.
const MIN_LEASE_TTL: Duration = Duration::from_millis(100);

/// How much longer than the lease's lifetime a caller waits for it: the
/// holder's lease has expired by then, unless it is being renewed.
const LEASE_WAIT_GRACE: Duration = Duration::from_secs(5);

/// How often a caller checks whether another process's lease ended.
const LEASE_POLL: Duration = Duration::from_millis(25);

/// How often a rotated pair is written before it is kept in memory.
const WRITE_ATTEMPTS: u32 = 3;

/// The pause between two of those attempts.
const WRITE_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// No attempt starts after this long: the pair is kept in memory instead.
const WRITE_BUDGET: Duration = Duration::from_secs(10);

/// How long after a try to write a kept pair the next one waits.
const UNSAVED_RETRY: Duration = Duration::from_secs(2);

/// A rotated pair the store has not taken yet, with the refresh token it
/// replaces (for the compare-and-swap).
struct Unsaved {
    replaces: String,
    token: StoredToken,
    /// No write is tried before then: an unreachable database fails each
    /// write only after its timeouts, which one call in a while pays, not
    /// every call.
    next_try: Instant,
}

/// The holder names of leases the store could not take back (it was busy
/// or unreachable), by key: the next lease of the key reuses the name, so
/// this authorizer takes its own stale lease again at once instead of
/// waiting for it to expire.
type Unreleased = Arc<Mutex<HashMap<ConnectionKey, String>>>;

/// The refresh lease of one key. [`release`](Lease::release) gives it
/// back; dropped without that (its call was cancelled), it is given back
/// from a spawned task, since `drop` cannot wait for the store.
struct Lease {
    store: Arc<TokenStore>,
    key: ConnectionKey,
    holder: String,
    unreleased: Unreleased,
    released: bool,
}

impl Lease {
    /// Runs `work` while renewing the lease every third of `ttl`, so a
    /// refresh or revoke that takes longer than the lease (a slow Discord,
    /// a long `DISCORD_TIMEOUT_MS`) keeps it: only a holder that stopped
    /// renewing (it died) loses the lease at expiry.
    async fn renewed_during<T>(&self, ttl: Duration, work: impl Future<Output = T>) -> T {
        let renew = async {
            loop {
                tokio::time::sleep(ttl / 3).await;
                match self.store.try_lease(&self.key, &self.holder, ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(connection = %self.key, "a refresh lease expired before it could be renewed; another holder has it");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(connection = %self.key, %error, "could not renew a refresh lease");
                    }
                }
            }
        };
        let mut work = std::pin::pin!(work);
        tokio::select! {
            output = &mut work => return output,
            () = renew => {}
        }
        // Someone else holds the lease now: nothing to renew, the work ends
        // as it would (its pair is written by compare-and-swap).
        work.await
    }

    async fn release(mut self) {
        self.released = true;
        give_back(&self.store, &self.key, &self.holder, &self.unreleased).await;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to release it on: it expires by itself
        };
        let store = Arc::clone(&self.store);
        let key = self.key.clone();
        let holder = std::mem::take(&mut self.holder);
        let unreleased = Arc::clone(&self.unreleased);
        runtime.spawn(async move { give_back(&store, &key, &holder, &unreleased).await });
    }
}

async fn give_back(store: &TokenStore, key: &ConnectionKey, holder: &str, unreleased: &Unreleased) {
    if let Err(error) = store.release_lease(key, holder).await {
        tracing::warn!(connection = %key, %error, "could not release a refresh lease; it expires by itself");
        lock(unreleased).insert(key.clone(), holder.to_owned());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Obtains, keeps, refreshes and uses users' OAuth tokens.
pub struct Authorizer {
    connector: Connector,
    store: Arc<TokenStore>,
    clients: ClientRegistry,
    refresh_margin: Duration,
    flights: Mutex<HashMap<ConnectionKey, Weak<tokio::sync::Mutex<()>>>>,
    /// This authorizer's name on the leases it takes (each lease adds a
    /// number of its own).
    holder: String,
    leases_taken: AtomicU64,
    unreleased: Unreleased,
    lease_ttl: Duration,
    unsaved: Arc<Mutex<HashMap<ConnectionKey, Unsaved>>>,
}

impl Authorizer {
    /// The default refresh margin: a token expiring within it is refreshed
    /// before use.
    pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

    /// The default lifetime of a refresh lease, and the longest one.
    pub const DEFAULT_LEASE_TTL: Duration = LEASE_TTL;

    /// An authorizer over `connector`, keeping tokens in `store`.
    pub fn new(connector: Connector, store: Arc<TokenStore>, clients: ClientRegistry) -> Self {
        Self {
            connector,
            store,
            clients,
            refresh_margin: Self::DEFAULT_REFRESH_MARGIN,
            flights: Mutex::new(HashMap::new()),
            holder: format!(
                "{}-{:016x}",
                std::process::id(),
                std::hash::RandomState::new().hash_one(Instant::now())
            ),
            leases_taken: AtomicU64::new(0),
            unreleased: Unreleased::default(),
            lease_ttl: LEASE_TTL,
            unsaved: Arc::default(),
        }
    }

    /// Refresh tokens expiring within `margin` before using them.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Take refresh leases for `ttl` (60 s by default), clamped to between
    /// 100 ms and 60 s: how long a replica that died holding one blocks the
    /// others. A holder renews its lease every third of `ttl` while its
    /// refresh or revoke runs, so a call to Discord slower than `ttl` keeps
    /// it; only a holder that stopped (it died) loses it.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.clamp(MIN_LEASE_TTL, LEASE_TTL);
        self
    }

    /// The store the tokens are kept in.
    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    /// How many per-user refresh locks exist now (held or awaited ones only).
    pub fn refresh_locks(&self) -> usize {
        let mut flights = self.flights();
        flights.retain(|_, flight| flight.strong_count() > 0);
        flights.len()
    }

    /// A PKCE authorization link for `connection`, redirecting to
    /// `redirect_uri`, asking for `scopes` (or the configured ones).
    pub async fn link(
        &self,
        connection: &str,
        redirect_uri: &str,
        scopes: &[String],
    ) -> Result<PendingLink, Error> {
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
        let link = self.connector.authorization_link(&request).await?;
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
    ) -> Result<StoredToken, Error> {
        if state != pending.state {
            return Err(Error::new(ErrorKind::StateMismatch));
        }
        let client = self.clients.get(&pending.connection)?.client();
        let token = self
            .connector
            .exchange_code(&client, code, &pending.redirect_uri, &pending.code_verifier)
            .await?;
        let stored = stored(token);
        self.store
            .put(
                &ConnectionKey::new(&pending.connection, identifier),
                &stored,
            )
            .await?;
        Ok(stored)
    }

    /// Completes `pending` with what the loopback redirect carried (see
    /// [`CallbackListener::wait`](crate::CallbackListener::wait)): its code,
    /// or [`ErrorKind::AuthorizationRefused`] when it carried an OAuth error
    /// instead.
    pub async fn complete_redirect(
        &self,
        pending: &PendingLink,
        identifier: &str,
        callback: &Callback,
    ) -> Result<StoredToken, Error> {
        let Some(code) = callback.code.as_deref() else {
            return Err(Error::new(ErrorKind::AuthorizationRefused {
                error: callback
                    .error
                    .clone()
                    .unwrap_or_else(|| "no code".to_owned()),
            }));
        };
        let state = callback.state.as_deref().unwrap_or_default();
        self.complete(pending, identifier, code, state).await
    }

    /// A usable access token for `key`, refreshed first if it expires
    /// within the margin.
    pub async fn access_token(&self, key: &ConnectionKey) -> Result<String, Error> {
        let token = self.current(key).await?;
        if token.expires_within(self.refresh_margin) {
            return self.refresh(key, &token.access_token).await;
        }
        Ok(token.access_token)
    }

    /// `key`'s token: the store's, or a rotated pair it could not take yet
    /// (written now if it can be).
    async fn current(&self, key: &ConnectionKey) -> Result<StoredToken, Error> {
        if let Some(token) = self.flush_unsaved(key, false).await {
            return Ok(token);
        }
        let token = self.store.get(key).await?.ok_or_else(|| {
            Error::new(ErrorKind::NotConnected {
                account: key.to_string(),
            })
        })?;
        if token.needs_reauthorization {
            return Err(needs_reauthorization(key, "an earlier refresh failed"));
        }
        Ok(token)
    }

    fn unsaved(&self) -> MutexGuard<'_, HashMap<ConnectionKey, Unsaved>> {
        lock(&self.unsaved)
    }

    /// Tries again to store `key`'s pair kept in memory; returns it while
    /// the store still cannot take it.
    /// Unless `now`, a pair tried less than [`UNSAVED_RETRY`] ago is not
    /// tried again yet.
    async fn flush_unsaved(&self, key: &ConnectionKey, now: bool) -> Option<StoredToken> {
        let (replaces, token) = {
            let mut unsaved = self.unsaved();
            let pending = unsaved.get_mut(key)?;
            if !now && Instant::now() < pending.next_try {
                return Some(pending.token.clone());
            }
            // Claimed: calls meanwhile use the pair without writing it.
            pending.next_try = Instant::now() + UNSAVED_RETRY;
            (pending.replaces.clone(), pending.token.clone())
        };
        match self.store.replace_if(key, &replaces, &token).await {
            Ok(_) => {
                // Written, or the row moved on (revoked, or written by an
                // earlier flush): either way the store now has the say.
                if still_kept(&self.unsaved, key, &replaces, &token) {
                    self.unsaved().remove(key);
                }
                None
            }
            Err(_) => Some(token),
        }
    }

    /// Stores the pair that replaced `replaced`, retrying a busy store and
    /// keeping the pair in memory if it still cannot be written.
    async fn save_rotated(
        &self,
        key: &ConnectionKey,
        replaced: &str,
        fresh: &StoredToken,
    ) -> Result<(), Error> {
        let mut last_error = None;
        let started = Instant::now();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                if started.elapsed() > WRITE_BUDGET {
                    break;
                }
                tokio::time::sleep(WRITE_RETRY_PAUSE).await;
            }
            match self.store.replace_if(key, replaced, fresh).await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    return Err(Error::new(ErrorKind::NotConnected {
                        account: key.to_string(),
                    }));
                }
                Err(error) => last_error = Some(error),
            }
        }
        if let Some(error) = last_error {
            tracing::warn!(connection = %key, %error, "the token store is busy: keeping the rotated pair in memory until it can be written");
        }
        self.unsaved().insert(
            key.clone(),
            Unsaved {
                replaces: replaced.to_owned(),
                token: fresh.clone(),
                next_try: Instant::now(),
            },
        );
        self.keep_writing(key, replaced, fresh);
        Ok(())
    }

    /// Writes a pair kept in memory in the background, every
    /// [`UNSAVED_RETRY`], until the store takes it (or has moved on), so it
    /// reaches the store when the store is back even if no call comes to
    /// write it. Ends when the authorizer is dropped or the pair was
    /// written or replaced meanwhile.
    fn keep_writing(&self, key: &ConnectionKey, replaced: &str, fresh: &StoredToken) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let unsaved = Arc::downgrade(&self.unsaved);
        let store = Arc::clone(&self.store);
        let (key, replaced, fresh) = (key.clone(), replaced.to_owned(), fresh.clone());
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(UNSAVED_RETRY).await;
                let Some(kept) = unsaved.upgrade() else {
                    return;
                };
                if !still_kept(&kept, &key, &replaced, &fresh) {
                    return;
                }
                if store.replace_if(&key, &replaced, &fresh).await.is_ok() {
                    if still_kept(&kept, &key, &replaced, &fresh) {
                        lock(&kept).remove(&key);
                    }
                    tracing::info!(connection = %key, "the token store took the rotated pair kept in memory");
                    return;
                }
            }
        });
    }

    /// Waits for `key`'s refresh lease in the store, held by another
    /// process or authorizer at most the longest lifetime any of them may
    /// give it (60 s, whatever this one's [`with_lease_ttl`](Self::with_lease_ttl)),
    /// plus a grace period.
    async fn lease(&self, key: &ConnectionKey) -> Result<Lease, Error> {
        // A fresh name for each lease, so that a release left to a spawned
        // task (a cancelled call) never drops a later lease of this key;
        // the name of one the store could not take back, to take it again.
        let stale = lock(&self.unreleased).remove(key);
        let holder = stale.unwrap_or_else(|| {
            format!(
                "{}-{}",
                self.holder,
                self.leases_taken.fetch_add(1, Ordering::Relaxed)
            )
        });
        let started = Instant::now();
        while !self.store.try_lease(key, &holder, self.lease_ttl).await? {
            if started.elapsed() > LEASE_TTL + LEASE_WAIT_GRACE {
                return Err(Error::with_source(
                    ErrorKind::Store,
                    format!(
                        "{key}'s refresh lease stayed taken for {} ms",
                        started.elapsed().as_millis()
                    ),
                ));
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
        Ok(Lease {
            store: Arc::clone(&self.store),
            key: key.clone(),
            holder,
            unreleased: Arc::clone(&self.unreleased),
            released: false,
        })
    }

    fn flights(&self) -> MutexGuard<'_, HashMap<ConnectionKey, Weak<tokio::sync::Mutex<()>>>> {
        self.flights
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The refresh lock of `key`, shared with whoever holds or awaits it;
    /// locks nobody holds are dropped on the way.
    fn flight(&self, key: &ConnectionKey) -> Flight {
        let mut flights = self.flights();
        if let Some(flight) = flights.get(key).and_then(Weak::upgrade) {
            return flight;
        }
        flights.retain(|_, flight| flight.strong_count() > 0);
        let flight = Flight::default();
        flights.insert(key.clone(), Arc::downgrade(&flight));
        flight
    }

    /// Replaces `stale` (an access token that expired or got a 401) with a
    /// fresh one. Only one refresh per key runs at a time, in this process
    /// and across processes; whoever waited finds the new token in the
    /// store and does not refresh again.
    async fn refresh(&self, key: &ConnectionKey, stale: &str) -> Result<String, Error> {
        let flight = self.flight(key);
        let _only_one_here = flight.lock().await;
        let token = self.current(key).await?;
        if token.access_token != stale {
            return Ok(token.access_token);
        }
        let only_one_anywhere = self.lease(key).await?;
        let refreshed = only_one_anywhere
            .renewed_during(self.lease_ttl, self.refresh_leased(key, stale))
            .await;
        only_one_anywhere.release().await;
        refreshed
    }

    /// [`refresh`](Self::refresh)'s work once it holds the lease.
    async fn refresh_leased(&self, key: &ConnectionKey, stale: &str) -> Result<String, Error> {
        let token = self.current(key).await?;
        if token.access_token != stale {
            return Ok(token.access_token);
        }
        let Some(refresh_token) = token.refresh_token.as_deref() else {
            self.store.mark_needs_reauthorization(key).await?;
            return Err(needs_reauthorization(key, "no refresh token"));
        };
        let client = self.clients.get(&key.connection)?.client();
        match self.connector.refresh_token(&client, refresh_token).await {
            Ok(token) => {
                let fresh = stored(token);
                self.save_rotated(key, refresh_token, &fresh).await?;
                tracing::info!(connection = %key, "refreshed an access token");
                Ok(fresh.access_token)
            }
            Err(error) if is_dead_grant(&error) => {
                if self
                    .store
                    .mark_needs_reauthorization_if(key, refresh_token)
                    .await?
                {
                    let reason = error
                        .component()
                        .map_or_else(String::new, |error| error.message.clone());
                    return Err(needs_reauthorization(key, &reason));
                }
                // The row no longer holds the token that failed: someone
                // else rotated it, and what they stored is good.
                Ok(self.current(key).await?.access_token)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Runs `tool` as the user `key` names, refreshing as needed and once
    /// more after a 401.
    pub async fn execute_tool(
        &self,
        key: &ConnectionKey,
        tool: &str,
        arguments: &str,
    ) -> Result<Output, Error> {
        let access_token = self.access_token(key).await?;
        match self.call(tool, arguments, &access_token).await {
            Err(error) if error.component_kind() == Some(ComponentErrorKind::Unauthorized) => {
                let fresh = self.refresh(key, &access_token).await?;
                Ok(self.call(tool, arguments, &fresh).await?)
            }
            result => Ok(result?),
        }
    }

    async fn call(
        &self,
        tool: &str,
        arguments: &str,
        access_token: &str,
    ) -> Result<Output, discord_host::Error> {
        let credential = Credential::Bearer(access_token.to_owned());
        self.connector
            .execute_tool(tool, arguments, &credential)
            .await
    }

    /// Revokes `key`'s grant at Discord and forgets its tokens. It waits
    /// for a refresh in flight (same lock, same lease), so the tokens it
    /// revokes are the current ones and nothing brings them back.
    pub async fn revoke(&self, key: &ConnectionKey) -> Result<(), Error> {
        let flight = self.flight(key);
        let _only_one_here = flight.lock().await;
        let only_one_anywhere = self.lease(key).await?;
        let revoked = only_one_anywhere
            .renewed_during(self.lease_ttl, self.revoke_leased(key))
            .await;
        only_one_anywhere.release().await;
        revoked
    }

    /// [`revoke`](Self::revoke)'s work once it holds the lease.
    async fn revoke_leased(&self, key: &ConnectionKey) -> Result<(), Error> {
        // The pair Discord holds now: a kept one (written first if the
        // store takes it now), else the store's, never the one it replaced.
        let token = match self.flush_unsaved(key, true).await {
            Some(kept) => kept,
            None => self.store.get(key).await?.ok_or_else(|| {
                Error::new(ErrorKind::NotConnected {
                    account: key.to_string(),
                })
            })?,
        };
        let client = self.clients.get(&key.connection)?.client();
        let revoked = token
            .refresh_token
            .as_deref()
            .unwrap_or(&token.access_token);
        self.connector.revoke_token(&client, revoked).await?;
        self.unsaved().remove(key);
        self.store.remove(key).await?;
        Ok(())
    }
}

/// Whether `key`'s pair kept in memory is still `fresh`, replacing `replaced`.
fn still_kept(
    unsaved: &Mutex<HashMap<ConnectionKey, Unsaved>>,
    key: &ConnectionKey,
    replaced: &str,
    fresh: &StoredToken,
) -> bool {
    lock(unsaved)
        .get(key)
        .is_some_and(|kept| kept.replaces == replaced && kept.token == *fresh)
}

fn needs_reauthorization(key: &ConnectionKey, reason: &str) -> Error {
    Error::new(ErrorKind::NeedsReauthorization {
        account: key.to_string(),
        reason: reason.to_owned(),
    })
}

/// Whether a refresh error means the grant is gone (OAuth `invalid_grant`),
/// not a passing fault or a misconfigured client.
fn is_dead_grant(error: &discord_host::Error) -> bool {
    error.detail("error").as_deref() == Some("invalid_grant")
}

/// The longest lifetime believed from a token answer: Discord's access
/// tokens live a week; a larger `expires_in` is hostile or broken.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

fn stored(token: Token) -> StoredToken {
    let lifetime = Duration::from_secs(token.expires_in_seconds).min(MAX_TOKEN_LIFETIME);
    StoredToken {
        access_token: token.access_token,
        refresh_token: token.refresh_token,
        scopes: token.scopes,
        expires_at: SystemTime::now() + lifetime,
        needs_reauthorization: false,
    }
}
