//! Warm instances kept for the next call of the same credential, as
//! `wasmtime serve` and Spin keep an instance for several requests
//! (wasmtime-wasi-http's `ProxyHandler` does this for `wasi:http` exports
//! only, so the contract's exports get this small pool instead).
//!
//! The pool is generic over what it keeps (an instance, to `connector`)
//! and knows nothing of running it. An entry is found by a [`Key`]: a
//! keyed hash (HMAC-SHA-256 under a secret drawn when the connector is
//! made) of the credential, never the token itself, together with the
//! version of the settings the instance was made with. An entry is taken
//! out for a call, so it serves one call at a time, and goes back after a
//! call that ended normally; it is dropped after [`ReuseLimits`]' number of
//! calls, after its idle timeout, when the pool is full, and whenever a
//! call waits for an instance slot.
//!
//! Beside them the pool keeps spares: instances made ahead, before any
//! call needs them, that have served no credential, for the calls that
//! find no warm instance of theirs. Instances leave the pool through
//! [`retire`], which drops them on another task when there is a runtime,
//! so a caller does not pay for unmapping an instance's memory.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::bindings::types::Credential;

/// How a [`Connector`](crate::Connector) keeps warm instances for the
/// next calls of the same credential (its `execute_tool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReuseLimits {
    /// Calls one instance serves before it is dropped (`1`: every call
    /// gets a fresh instance).
    pub calls_per_instance: u32,
    /// How long an instance waits unused before it is dropped.
    pub idle_timeout: Duration,
    /// Unused instances kept at once, over all credentials (`0`: none).
    pub max_idle: usize,
    /// Instances made ahead and warmed (each has run `list-tools` once,
    /// with no credential) for calls that find no warm instance of their
    /// credential (`0`: none). A spare serves one credential from then on;
    /// spares do not expire, and are dropped when a call waits for a slot.
    pub spares: usize,
}

impl ReuseLimits {
    /// No reuse: each call in a fresh instance.
    pub const OFF: Self = Self {
        calls_per_instance: 1,
        idle_timeout: Duration::ZERO,
        max_idle: 0,
        spares: 0,
    };
}

impl Default for ReuseLimits {
    /// 128 calls per instance and a 1 s idle timeout (`wasmtime serve`'s
    /// and Spin's), at most 64 unused instances, 2 spares.
    fn default() -> Self {
        Self {
            calls_per_instance: 128,
            idle_timeout: Duration::from_secs(1),
            max_idle: 64,
            spares: 2,
        }
    }
}

/// What a [`Connector`](crate::Connector) and its clones have done with
/// their instances, since it was made or given new [`ReuseLimits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectorStats {
    /// Instances made (`Connector::instance` and calls that found no
    /// warm instance of their credential).
    pub instantiations: u64,
    /// Calls served by a warm instance, made for an earlier call of the
    /// same credential.
    pub reuses: u64,
    /// Calls served by a spare, made ahead of them (counted in
    /// `instantiations` when made).
    pub spares_used: u64,
    /// Instances dropped after a call that failed in a way that may have
    /// damaged them (anything but the component's own typed error).
    pub discarded: u64,
    /// Warm instances waiting for a call now.
    pub warm: usize,
    /// Spares waiting for a call now.
    pub spares: usize,
}

/// Where a warm instance may be used again: one credential (by a keyed
/// hash) under one version of the connector's settings.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    credential: [u8; 32],
    settings: u64,
}

/// One warm entry and how many calls it has served.
struct Entry<T> {
    item: T,
    calls: u32,
    since: Instant,
}

struct Inner<T> {
    idle: HashMap<Key, Vec<Entry<T>>>,
    count: usize,
    /// Calls waiting for an instance slot: while any wait, finished
    /// instances are dropped rather than kept, so their slots go to them.
    waiters: usize,
    /// Whether a task is dropping expired entries.
    sweeping: bool,
    /// Spares, each with the version of the settings it was made under.
    spares: Vec<(u64, T)>,
    /// Whether a task is making spares.
    refilling: bool,
}

/// The pool of warm instances (`T`) of one connector.
pub(crate) struct WarmPool<T> {
    limits: ReuseLimits,
    secret: Arc<[u8; 32]>,
    inner: Mutex<Inner<T>>,
    instantiations: AtomicU64,
    reuses: AtomicU64,
    spares_used: AtomicU64,
    discarded: AtomicU64,
}

impl<T: Send + 'static> WarmPool<T> {
    /// An empty pool with `limits`, hashing credentials under `secret`.
    pub(crate) fn new(limits: ReuseLimits, secret: Arc<[u8; 32]>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            secret,
            inner: Mutex::new(Inner {
                idle: HashMap::new(),
                count: 0,
                waiters: 0,
                sweeping: false,
                spares: Vec::new(),
                refilling: false,
            }),
            instantiations: AtomicU64::new(0),
            reuses: AtomicU64::new(0),
            spares_used: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
        })
    }

    /// A new secret for the keyed hash.
    pub(crate) fn secret() -> Result<Arc<[u8; 32]>, getrandom::Error> {
        let mut secret = [0; 32];
        getrandom::fill(&mut secret)?;
        Ok(Arc::new(secret))
    }

    pub(crate) fn shared_secret(&self) -> Arc<[u8; 32]> {
        Arc::clone(&self.secret)
    }

    /// The key of `credential` under the settings' `version`.
    pub(crate) fn key(&self, credential: &Credential, settings: u64) -> Key {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret[..])
            .expect("HMAC takes a key of any length");
        match credential {
            Credential::None => mac.update(b"n"),
            Credential::Bearer(token) => {
                mac.update(b"u");
                mac.update(token.as_bytes());
            }
            Credential::Bot(token) => {
                mac.update(b"b");
                mac.update(token.as_bytes());
            }
        }
        Key {
            credential: mac.finalize().into_bytes().into(),
            settings,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the most recently used warm entry of `key` out of the pool,
    /// with the calls it has served.
    pub(crate) fn take(&self, key: &Key) -> Option<(T, u32)> {
        let now = Instant::now();
        let mut expired = Vec::new();
        let found = {
            let mut inner = self.lock();
            let entries = inner.idle.get_mut(key)?;
            let mut found = entries.pop();
            if found
                .as_ref()
                .is_some_and(|entry| now.duration_since(entry.since) >= self.limits.idle_timeout)
            {
                // It and every older entry of this key have expired.
                expired.extend(found.take());
                expired.append(entries);
            }
            if entries.is_empty() {
                inner.idle.remove(key);
            }
            inner.count -= expired.len() + usize::from(found.is_some());
            found
        };
        retire(expired.into_iter().map(|entry| entry.item));
        let entry = found?;
        self.reuses.fetch_add(1, Ordering::Relaxed);
        Some((entry.item, entry.calls))
    }

    /// Gives `item` back after a call that ended normally, its `calls`
    /// counted; it is dropped instead when it has served its calls, when a
    /// call waits for a slot, or (the oldest entry) when the pool is full.
    pub(crate) fn put(self: &Arc<Self>, key: Key, item: T, calls: u32) {
        if calls >= self.limits.calls_per_instance || self.limits.max_idle == 0 {
            retire(Some(item));
            return;
        }
        let mut evicted = None;
        let mut refused = None;
        {
            let mut inner = self.lock();
            if inner.waiters > 0 {
                refused = Some(item);
            } else {
                if inner.count >= self.limits.max_idle {
                    evicted = Self::pop_oldest(&mut inner, None);
                }
                inner.idle.entry(key).or_default().push(Entry {
                    item,
                    calls,
                    since: Instant::now(),
                });
                inner.count += 1;
                self.schedule_sweep(&mut inner);
            }
        }
        retire(evicted.map(|entry| entry.item).into_iter().chain(refused));
    }

    /// Takes a spare made under the settings' `version` (spares of other
    /// settings are dropped).
    pub(crate) fn take_spare(&self, version: u64) -> Option<T> {
        let (found, stale) = {
            let mut inner = self.lock();
            let stale: Vec<_> = inner
                .spares
                .extract_if(.., |(made_under, _)| *made_under != version)
                .collect();
            (inner.spares.pop(), stale)
        };
        retire(stale.into_iter().map(|(_, spare)| spare));
        let (_, spare) = found?;
        self.spares_used.fetch_add(1, Ordering::Relaxed);
        Some(spare)
    }

    /// Whether spares should be made now (fewer than the limit, no call
    /// waiting for a slot, no other task making them); if so, the caller
    /// makes them and ends with [`WarmPool::refilled`].
    pub(crate) fn start_refill(&self) -> bool {
        let mut inner = self.lock();
        let wanted =
            !inner.refilling && inner.waiters == 0 && inner.spares.len() < self.limits.spares;
        inner.refilling |= wanted;
        wanted
    }

    /// Keeps `spare`, made under the settings' `version`; whether another
    /// one is wanted. A spare nobody wants any more is dropped. When none
    /// is wanted the refill ends here, under the same lock, so that a spare
    /// taken right after starts the next one.
    pub(crate) fn put_spare(&self, version: u64, spare: T) -> bool {
        let mut refused = None;
        let wanted = {
            let mut inner = self.lock();
            if inner.waiters == 0 && inner.spares.len() < self.limits.spares {
                inner.spares.push((version, spare));
            } else {
                refused = Some(spare);
            }
            let wanted = inner.waiters == 0 && inner.spares.len() < self.limits.spares;
            inner.refilling = wanted;
            wanted
        };
        retire(refused);
        wanted
    }

    /// Ends the making of spares begun by [`WarmPool::start_refill`].
    pub(crate) fn refilled(&self) {
        self.lock().refilling = false;
    }

    /// Counts an instance made.
    pub(crate) fn instantiated(&self) {
        self.instantiations.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an instance dropped after a failed call.
    pub(crate) fn discard(&self, item: T) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
        retire(Some(item));
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> ConnectorStats {
        let inner = self.lock();
        ConnectorStats {
            instantiations: self.instantiations.load(Ordering::Relaxed),
            reuses: self.reuses.load(Ordering::Relaxed),
            spares_used: self.spares_used.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            warm: inner.count,
            spares: inner.spares.len(),
        }
    }

    /// Waits for `slot` (a future that takes an instance slot under the
    /// settings' `version`), making room when none is free: the call counts
    /// as waiting (so that finished instances are dropped, not kept) and the
    /// oldest warm entry (of these settings if any, whose slot it frees) is
    /// dropped.
    pub(crate) async fn slot<F: Future>(&self, version: u64, slot: F) -> F::Output {
        let mut slot = std::pin::pin!(slot);
        let first = std::future::poll_fn(|cx| {
            Poll::Ready(match Pin::as_mut(&mut slot).poll(cx) {
                Poll::Ready(taken) => Some(taken),
                Poll::Pending => None,
            })
        })
        .await;
        if let Some(taken) = first {
            return taken;
        }
        let evicted = {
            let mut inner = self.lock();
            inner.waiters += 1;
            let spares = std::mem::take(&mut inner.spares);
            let oldest = Self::pop_oldest(&mut inner, Some(version))
                .or_else(|| Self::pop_oldest(&mut inner, None));
            (spares, oldest)
        };
        drop(evicted);
        let _waiting = Waiting(self);
        slot.await
    }

    /// Removes the least recently used entry of all, or of those made
    /// under the settings' `version`.
    fn pop_oldest(inner: &mut Inner<T>, version: Option<u64>) -> Option<Entry<T>> {
        let key = *inner
            .idle
            .iter()
            .filter(|(key, _)| version.is_none_or(|version| key.settings == version))
            .filter_map(|(key, entries)| Some((key, entries.first()?.since)))
            .min_by_key(|(_, since)| *since)?
            .0;
        let entries = inner.idle.get_mut(&key)?;
        let oldest = entries.remove(0);
        if entries.is_empty() {
            inner.idle.remove(&key);
        }
        inner.count -= 1;
        Some(oldest)
    }

    /// Removes the entries idle for the idle timeout by `now`; the time the
    /// next one expires, or `None` (and no longer sweeping) when none is left.
    fn sweep(&self, now: Instant) -> (Vec<Entry<T>>, Option<Instant>) {
        let timeout = self.limits.idle_timeout;
        let mut expired = Vec::new();
        let mut inner = self.lock();
        inner.idle.retain(|_, entries| {
            let live = entries
                .iter()
                .position(|entry| now.duration_since(entry.since) < timeout)
                .unwrap_or(entries.len());
            expired.extend(entries.drain(..live));
            !entries.is_empty()
        });
        inner.count -= expired.len();
        let next = inner
            .idle
            .values()
            .filter_map(|entries| entries.first())
            .map(|entry| entry.since + timeout)
            .min();
        if next.is_none() {
            inner.sweeping = false;
        }
        (expired, next)
    }

    /// Starts a task that drops entries as they expire, if none runs and
    /// the caller is on a tokio runtime (otherwise they expire when their
    /// key is next looked up, or are dropped to make room).
    fn schedule_sweep(self: &Arc<Self>, inner: &mut Inner<T>) {
        if inner.sweeping {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        inner.sweeping = true;
        let pool = Arc::downgrade(self);
        let first = Instant::now() + self.limits.idle_timeout;
        runtime.spawn(async move {
            let mut sweeper = Sweeper(pool);
            let mut next = first;
            loop {
                tokio::time::sleep_until(next.into()).await;
                let Some(pool) = sweeper.0.upgrade() else {
                    return;
                };
                let (expired, after) = pool.sweep(Instant::now());
                drop(pool);
                drop(expired);
                match after {
                    Some(after) => next = after,
                    None => {
                        // `sweep` cleared the flag under the lock.
                        sweeper.0 = Weak::new();
                        return;
                    }
                }
            }
        });
    }
}

/// Drops `item` (instances leaving the pool) on a task of its own when
/// there is a tokio runtime, so that the call that let it go does not wait
/// for its memory to be unmapped; at once otherwise.
pub(crate) fn retire<T: Send + 'static>(items: impl IntoIterator<Item = T>) {
    let items: Vec<T> = items.into_iter().collect();
    if items.is_empty() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(async move { drop(items) })),
        Err(_) => drop(items),
    }
}

/// A call counted as waiting for a slot until dropped.
struct Waiting<'a, T>(&'a WarmPool<T>);

impl<T> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        let mut inner = self
            .0
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.waiters -= 1;
    }
}

/// The sweeping task's hold on its pool: if the task is dropped before it
/// ends (its runtime shut down), the next entry put back starts another.
struct Sweeper<T>(Weak<WarmPool<T>>);

impl<T> Drop for Sweeper<T> {
    fn drop(&mut self) {
        if let Some(pool) = self.0.upgrade() {
            pool.inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .sweeping = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(limits: ReuseLimits) -> Arc<WarmPool<u32>> {
        WarmPool::new(limits, WarmPool::<u32>::secret().unwrap())
    }

    #[test]
    fn keys_tell_credentials_and_settings_apart_without_the_token() {
        let pool = pool(ReuseLimits::default());
        let alice = Credential::Bearer("alice".into());
        let bot = Credential::Bot("alice".into());
        assert!(pool.key(&alice, 1) == pool.key(&alice, 1));
        assert!(pool.key(&alice, 1) != pool.key(&bot, 1));
        assert!(pool.key(&alice, 1) != pool.key(&alice, 2));
        assert!(pool.key(&alice, 1) != pool.key(&Credential::None, 1));
        let key = pool.key(&alice, 1);
        assert!(!key.credential.windows(5).any(|w| w == b"alice"));
        let other =
            WarmPool::<u32>::new(ReuseLimits::default(), WarmPool::<u32>::secret().unwrap());
        assert!(other.key(&alice, 1) != key, "the hash is keyed");
    }

    #[test]
    fn an_entry_serves_its_own_key_its_calls_and_no_longer_than_its_idle_time() {
        let limits = ReuseLimits {
            calls_per_instance: 3,
            idle_timeout: Duration::from_millis(50),
            max_idle: 2,
            spares: 0,
        };
        let pool = pool(limits);
        let a = pool.key(&Credential::Bot("a".into()), 0);
        let b = pool.key(&Credential::Bot("b".into()), 0);
        pool.put(a, 1, 1);
        assert_eq!(pool.take(&b), None);
        assert_eq!(pool.take(&a), Some((1, 1)));
        assert_eq!(pool.take(&a), None, "taken out while in use");
        pool.put(a, 1, 3);
        assert_eq!(pool.take(&a), None, "served its calls");
        pool.put(a, 1, 1);
        pool.put(a, 2, 1);
        pool.put(b, 3, 1);
        assert_eq!(pool.stats().warm, 2, "the oldest made room");
        assert_eq!(pool.take(&a), Some((2, 1)));
        assert_eq!(pool.take(&a), None);
        pool.put(a, 4, 1);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(pool.take(&a), None, "idle too long");
        let (expired, next) = pool.sweep(Instant::now());
        assert_eq!(expired.len(), 1);
        assert_eq!(next, None);
        assert_eq!(pool.stats().warm, 0);
        assert_eq!(pool.stats().reuses, 2);
    }

    #[test]
    fn spares_are_made_up_to_the_limit_and_serve_only_their_settings() {
        let pool = pool(ReuseLimits {
            spares: 2,
            ..ReuseLimits::default()
        });
        assert_eq!(pool.take_spare(1), None);
        assert!(pool.start_refill());
        assert!(!pool.start_refill(), "one task makes them at a time");
        assert!(pool.put_spare(1, 10), "one more is wanted");
        assert!(!pool.put_spare(1, 11), "that was the last one wanted");
        assert!(!pool.start_refill(), "none is missing");
        assert!(!pool.put_spare(1, 12), "and a third is dropped");
        assert_eq!(pool.stats().spares, 2);
        assert_eq!(pool.take_spare(1), Some(11));
        assert!(pool.start_refill(), "one is missing again");
        assert!(!pool.put_spare(2, 20));
        assert_eq!(
            pool.take_spare(2),
            Some(20),
            "the spare of the earlier settings is dropped"
        );
        assert_eq!(pool.take_spare(2), None);
        assert!(
            pool.start_refill(),
            "the refill ended with the last spare it made"
        );
        let stats = pool.stats();
        assert_eq!((stats.spares_used, stats.spares), (2, 0));
        let none = self::pool(ReuseLimits::OFF);
        assert!(!none.start_refill());
    }

    #[tokio::test]
    async fn a_call_waiting_for_a_slot_frees_warm_ones() {
        let pool = WarmPool::new(ReuseLimits::default(), WarmPool::<()>::secret().unwrap());
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        let a = pool.key(&Credential::None, 0);
        let held = pool
            .slot(0, Arc::clone(&slots).acquire_owned())
            .await
            .unwrap();
        pool.put(a, held, 1);
        let freed = tokio::time::timeout(
            Duration::from_secs(1),
            pool.slot(0, Arc::clone(&slots).acquire_owned()),
        )
        .await
        .expect("the warm entry's slot was freed")
        .unwrap();
        assert_eq!(pool.stats().warm, 0);
        let waiting = {
            let pool = Arc::clone(&pool);
            let slots = Arc::clone(&slots);
            tokio::spawn(async move { pool.slot(0, slots.acquire_owned()).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        pool.put(a, freed, 1);
        assert_eq!(pool.stats().warm, 0, "given up to the waiting call");
        assert!(waiting.await.unwrap());
    }

    #[tokio::test]
    async fn a_call_waiting_for_a_slot_frees_the_spares() {
        let pool = WarmPool::new(ReuseLimits::default(), WarmPool::<()>::secret().unwrap());
        let slots = Arc::new(tokio::sync::Semaphore::new(1));
        assert!(pool.start_refill());
        pool.put_spare(0, Arc::clone(&slots).try_acquire_owned().unwrap());
        pool.refilled();
        assert_eq!(pool.stats().spares, 1);
        let taken = tokio::time::timeout(
            Duration::from_secs(1),
            pool.slot(0, Arc::clone(&slots).acquire_owned()),
        )
        .await
        .expect("the spare's slot was freed")
        .unwrap();
        assert_eq!(pool.stats().spares, 0);
        drop(taken);
    }

    #[tokio::test]
    async fn expired_entries_are_swept_without_further_calls() {
        let pool = pool(ReuseLimits {
            idle_timeout: Duration::from_millis(30),
            ..ReuseLimits::default()
        });
        pool.put(pool.key(&Credential::None, 0), 7, 1);
        assert_eq!(pool.stats().warm, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(pool.stats().warm, 0);
        pool.put(pool.key(&Credential::None, 0), 8, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(pool.stats().warm, 0, "a second sweeper started");
    }
}
