//! A host-wide Discord rate limiter, shared by every instance.
//!
//! Component instances are short-lived, so what Discord says about its
//! limits has to be remembered by the host. The limiter has the shape of
//! twilight's ratelimiter: [`DiscordLimiter::acquire`] waits until a request
//! may go out and gives a [`Permit`]; [`Permit::report`] learns from the
//! answer's headers. It never touches a socket, so its tests run on tokio's
//! paused clock; the `egress` module puts it in the wasi-http egress hook.
//!
//! What it keeps:
//! - each route's bucket, learned from `X-RateLimit-Bucket`; requests of one
//!   bucket go out one at a time (as @discordjs/rest's sequential handler
//!   sends them), and wait while `X-RateLimit-Remaining` is 0 until the
//!   reset;
//! - each credential under Discord's global 50 requests per second;
//! - invalid requests (401, 403, 429) over a sliding 10 minutes, per
//!   credential and in all: a credential is refused once it alone has made
//!   too many, and once the shared count nears Discord's ban threshold
//!   (10,000) only credentials in good standing and calls with no credential
//!   go on. Good standing is earned, not assumed: a credential has it once
//!   Discord has answered it with a 2xx, and loses it with a 401. Anyone can
//!   make up a new token for every request, so "no invalid request yet"
//!   cannot be what lets a credential into the reserve.
//!
//! Every refusal says how long to wait ([`Refusal::retry_after`]); the
//! egress hook hands it to the component as a 429.
//!
//! The egress hook sees it through the [`RateLimiter`] and [`RatePermit`]
//! traits, so replicas can share one limiter's state elsewhere (the
//! `discord-redis-limiter` crate); [`route_key`], [`bucket_key`] and
//! [`AnswerLimits`] are public so such a backend keys and reads answers
//! exactly as this one does.
//!
//! Every number from a header is clamped, no wait outlasts the request's
//! deadline, and the state is bounded: credentials, routes and credentials
//! in good standing beyond their caps, or idle longer than their expiry, are
//! forgotten. Credentials are kept only as a keyed hash of the
//! `Authorization` value (SipHash with a random key per limiter), never as
//! the token itself.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use http::HeaderMap;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

/// How careful the limiter is, and how much it remembers.
#[derive(Clone, Copy, Debug)]
pub struct LimiterPolicy {
    /// Requests per second per credential (Discord's global limit is 50).
    pub global_per_second: usize,
    /// Invalid requests (401, 403, 429) in the window at which every new
    /// request is refused (Discord bans an IP at 10,000 in 10 minutes).
    pub invalid_limit: usize,
    /// Invalid requests in the window at which one credential is refused.
    pub invalid_per_credential: usize,
    /// The part of `invalid_limit` kept for credentials in good standing
    /// (Discord has answered them with a 2xx) and calls with no credential:
    /// past `invalid_limit - good_standing_reserve`, every other credential
    /// is refused.
    pub good_standing_reserve: usize,
    /// Past the reserve line, invalid requests in the window at which a
    /// credential in good standing (or the calls with no credential) is
    /// refused too, so that a few valid credentials making bad requests
    /// cannot spend the reserve of all the others.
    pub reserve_per_credential: usize,
    /// The invalid-request window.
    pub invalid_window: Duration,
    /// Added to every reset time, against clock skew.
    pub reset_margin: Duration,
    /// The longest reset a header may announce; longer values are clamped.
    pub max_reset: Duration,
    /// The longest a request waits for its turn when it has no deadline.
    pub max_wait: Duration,
    /// Credentials remembered at once.
    pub max_credentials: usize,
    /// Routes remembered per credential.
    pub max_routes_per_credential: usize,
    /// A credential unused this long is forgotten.
    pub idle_expiry: Duration,
    /// Credentials in good standing remembered at once; beyond it, those
    /// whose last success is oldest are forgotten.
    pub max_good_standing: usize,
    /// Good standing lasts this long after a credential's last success.
    pub good_standing_expiry: Duration,
}

impl Default for LimiterPolicy {
    fn default() -> Self {
        Self {
            global_per_second: 50,
            invalid_limit: 9_000,
            invalid_per_credential: 1_000,
            good_standing_reserve: 1_800,
            reserve_per_credential: 100,
            invalid_window: Duration::from_secs(600),
            reset_margin: Duration::from_millis(50),
            max_reset: Duration::from_secs(3_600),
            max_wait: Duration::from_secs(30),
            max_credentials: 10_000,
            max_routes_per_credential: 256,
            idle_expiry: Duration::from_secs(600),
            max_good_standing: 10_000,
            // Discord's OAuth access tokens live a week.
            good_standing_expiry: Duration::from_secs(7 * 24 * 3_600),
        }
    }
}

/// Why the limiter did not let a request go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many invalid requests in the window (the whole host's, or this
    /// credential's).
    InvalidRequests {
        /// What the count is, in words.
        reason: String,
        /// How long until enough of the counted requests leave the window
        /// for this request to be let through.
        retry_after: Duration,
    },
    /// The request's turn would come after its deadline.
    WouldMissDeadline {
        /// How long it would have had to wait.
        wait: Duration,
    },
}

impl Refusal {
    /// How long the caller should wait before sending the request again.
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::InvalidRequests { retry_after, .. } => *retry_after,
            Self::WouldMissDeadline { wait } => *wait,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidRequests { reason, .. } => write!(
                f,
                "{reason}: new requests are refused until the count falls, to stay clear of Discord's ban"
            ),
            Self::WouldMissDeadline { wait } => write!(
                f,
                "Discord's rate limit would hold this request for {} ms, past its deadline",
                wait.as_millis()
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// How many things the limiter remembers, to check that it stays bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimiterSize {
    /// Credentials tracked.
    pub credentials: usize,
    /// Routes tracked, over all credentials.
    pub routes: usize,
    /// Credentials remembered as in good standing.
    pub good_standing: usize,
}

/// Counts events over a sliding window in ten fixed slots, so a count takes
/// the same memory whatever the rate.
#[derive(Clone, Debug)]
struct WindowCounter {
    slots: [u32; Self::SLOTS],
    /// Where slot `current` starts.
    current_start: Instant,
    current: usize,
}

impl WindowCounter {
    const SLOTS: usize = 10;

    fn new(now: Instant) -> Self {
        Self {
            slots: [0; Self::SLOTS],
            current_start: now,
            current: 0,
        }
    }

    fn slot_length(window: Duration) -> Duration {
        (window / Self::SLOTS as u32).max(Duration::from_nanos(1))
    }

    fn advance(&mut self, now: Instant, window: Duration) {
        let slot = Self::slot_length(window);
        let passed = now.saturating_duration_since(self.current_start).as_nanos() / slot.as_nanos();
        if passed >= Self::SLOTS as u128 {
            self.slots = [0; Self::SLOTS];
            self.current_start = now;
            return;
        }
        for _ in 0..passed {
            self.current = (self.current + 1) % Self::SLOTS;
            self.slots[self.current] = 0;
            self.current_start += slot;
        }
    }

    fn add(&mut self, now: Instant, window: Duration) {
        self.advance(now, window);
        self.slots[self.current] = self.slots[self.current].saturating_add(1);
    }

    fn count(&mut self, now: Instant, window: Duration) -> usize {
        self.advance(now, window);
        self.slots.iter().map(|count| *count as usize).sum()
    }

    /// How long until the count falls below `line`, as its oldest slots
    /// leave the window (zero when it is below already).
    fn time_until_below(&mut self, now: Instant, window: Duration, line: usize) -> Duration {
        let mut count = self.count(now, window);
        if count < line {
            return Duration::ZERO;
        }
        let slot = Self::slot_length(window);
        // The slot `age` places behind the current one is cleared when the
        // current slot has moved on `SLOTS - age` times.
        for age in (0..Self::SLOTS).rev() {
            count -= self.slots[(self.current + Self::SLOTS - age) % Self::SLOTS] as usize;
            if count < line {
                let cleared = self.current_start + slot * (Self::SLOTS - age) as u32;
                return cleared.saturating_duration_since(now);
            }
        }
        window
    }
}

/// What one bucket is known to allow.
#[derive(Debug, Default)]
struct Bucket {
    remaining: Option<u64>,
    reset_at: Option<Instant>,
}

type SharedBucket = Arc<tokio::sync::Mutex<Bucket>>;

struct Route {
    bucket: SharedBucket,
    last_used: Instant,
}

struct CredentialState {
    last_used: Instant,
    /// When this credential's requests of the last second went out.
    sent: VecDeque<Instant>,
    invalid: WindowCounter,
    routes: HashMap<String, Route>,
    /// Discord's bucket ids, so routes that share one share its state.
    bucket_ids: HashMap<String, Weak<tokio::sync::Mutex<Bucket>>>,
}

impl CredentialState {
    fn new(now: Instant) -> Self {
        Self {
            last_used: now,
            sent: VecDeque::new(),
            invalid: WindowCounter::new(now),
            routes: HashMap::new(),
            bucket_ids: HashMap::new(),
        }
    }

    /// Whether a request of this credential holds or waits for a bucket.
    fn in_use(&self) -> bool {
        self.routes
            .values()
            .any(|route| Arc::strong_count(&route.bucket) > 1)
    }

    /// Forgets the least recently used idle routes beyond `cap`.
    fn trim_routes(&mut self, cap: usize) {
        if self.routes.len() <= cap {
            return;
        }
        let keep = cap - cap / 4;
        let mut idle: Vec<(Instant, String)> = self
            .routes
            .iter()
            .filter(|(_, route)| Arc::strong_count(&route.bucket) == 1)
            .map(|(key, route)| (route.last_used, key.clone()))
            .collect();
        idle.sort_unstable();
        let excess = self.routes.len().saturating_sub(keep);
        for (_, key) in idle.into_iter().take(excess) {
            self.routes.remove(&key);
        }
        self.bucket_ids
            .retain(|_, bucket| bucket.strong_count() > 0);
    }
}

struct State {
    credentials: HashMap<u64, CredentialState>,
    /// Credentials Discord has answered with a 2xx, and when it last did.
    /// Kept apart from `credentials`, whose entries a flood of made-up
    /// tokens may push out: only a working credential gets in here.
    good_standing: HashMap<u64, Instant>,
    invalid: WindowCounter,
    /// Acquisitions since idle credentials were last swept.
    since_sweep: usize,
}

/// The limiter, shared by every instance of a host.
pub struct DiscordLimiter {
    policy: LimiterPolicy,
    hasher: RandomState,
    state: Mutex<State>,
}

impl Default for DiscordLimiter {
    fn default() -> Self {
        Self::new(LimiterPolicy::default())
    }
}

/// The longest route key kept; longer paths share the truncated key.
const MAX_ROUTE_KEY: usize = 200;

/// A route as Discord buckets it: the method and the path, with ids and
/// codes replaced except the top-level resource's (guild, channel, webhook).
pub fn route_key(method: &str, path: &str) -> String {
    let mut key = String::from(method);
    let mut previous = "";
    for segment in path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
    {
        let major = matches!(previous, "guilds" | "channels" | "webhooks");
        let variable = segment.bytes().all(|b| b.is_ascii_digit())
            || matches!(previous, "invites" | "templates");
        key.push('/');
        key.push_str(if variable && !major { ":id" } else { segment });
        previous = segment;
    }
    if key.len() > MAX_ROUTE_KEY {
        let mut end = MAX_ROUTE_KEY;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
}

/// The id of the top-level resource in a [`route_key`] (the channel, guild
/// or webhook its bucket is per), or nothing.
pub fn major_parameter(route: &str) -> &str {
    let mut segments = route.split('/');
    while let Some(segment) = segments.next() {
        if matches!(segment, "guilds" | "channels" | "webhooks") {
            return segments.next().unwrap_or_default();
        }
    }
    ""
}

/// The key of the bucket Discord named `id` for `route`: per bucket id and
/// [`major_parameter`], since Discord names a route's bucket the same in
/// every channel while each channel has its own.
pub fn bucket_key(id: &str, route: &str) -> String {
    format!("{id}@{}", major_parameter(route))
}

/// The longest bucket id taken from a header; a longer one is ignored.
const MAX_BUCKET_ID: usize = 64;

/// What one answer says about the limits, read once from its status and
/// headers with every number clamped, so every limiter backend learns the
/// same thing from the same answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerLimits {
    /// `X-RateLimit-Bucket`, when present and at most 64 bytes.
    pub bucket: Option<String>,
    /// `X-RateLimit-Remaining`, whole and not negative; 0 for a 429 that
    /// says when to retry.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset-After` (or a 429's `Retry-After`), clamped to
    /// `0..=max_reset`.
    pub reset_after: Option<Duration>,
    /// Counts towards the invalid-request budget: a 401, a 403, or a 429
    /// not of the `shared` scope (which Discord does not count).
    pub invalid: bool,
    /// A 2xx: the credential has good standing.
    pub success: bool,
}

impl AnswerLimits {
    /// Reads the answer of `status` with `headers`; resets longer than
    /// `max_reset` are clamped to it.
    pub fn parse(status: u16, headers: &HeaderMap, max_reset: Duration) -> Self {
        let reset_after =
            header_seconds(headers, "x-ratelimit-reset-after", max_reset).or_else(|| {
                (status == 429)
                    .then(|| header_seconds(headers, "retry-after", max_reset))
                    .flatten()
            });
        let mut remaining = header_count(headers, "x-ratelimit-remaining");
        if reset_after.is_some() && status == 429 {
            remaining = Some(0);
        }
        let shared_scope = headers
            .get("x-ratelimit-scope")
            .is_some_and(|scope| scope == "shared");
        Self {
            bucket: headers
                .get("x-ratelimit-bucket")
                .and_then(|value| value.to_str().ok())
                .filter(|id| id.len() <= MAX_BUCKET_ID)
                .map(str::to_owned),
            remaining,
            reset_after,
            invalid: matches!(status, 401 | 403) || (status == 429 && !shared_scope),
            success: (200..300).contains(&status),
        }
    }
}

/// A number of seconds from a header, clamped to `0..=max`: Discord's
/// values are small fractions, anything else is a hostile or broken answer.
fn header_seconds(headers: &HeaderMap, name: &str, max: Duration) -> Option<Duration> {
    let seconds: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    if !seconds.is_finite() {
        return Some(max);
    }
    Some(Duration::from_secs_f64(
        seconds.clamp(0.0, max.as_secs_f64()),
    ))
}

/// A count from a header: whole and not negative, else ignored.
fn header_count(headers: &HeaderMap, name: &str) -> Option<u64> {
    let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| value.min(u32::MAX as f64) as u64)
}

/// What [`RateLimiter::acquire`] returns: the future of a permit that may
/// live as long as the limiter (`'l`), while the request's method, path
/// and credential are borrowed only until the decision (`'r`), so the
/// request can be sent while the permit is held.
pub type Acquiring<'r, 'l> =
    Pin<Box<dyn Future<Output = Result<Box<dyn RatePermit + 'l>, Refusal>> + Send + 'r>>;

/// What [`RatePermit::report`] returns: done once what the answer taught
/// is stored where every other request will see it.
pub type Reporting = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A rate limiter the egress hook sends every request through: the
/// in-process [`DiscordLimiter`], or one whose state is shared by many
/// replicas (the `discord-redis-limiter` crate). Object safe, so a host
/// picks one at run time.
pub trait RateLimiter: Send + Sync {
    /// Waits until a `method` request to `path` with the `authorization`
    /// header value may go out, at most until `deadline` (or the policy's
    /// longest wait), and returns the leave to send it.
    fn acquire<'r, 'l: 'r>(
        &'l self,
        authorization: Option<&'r [u8]>,
        method: &'r str,
        path: &'r str,
        deadline: Option<Instant>,
    ) -> Acquiring<'r, 'l>;
}

/// Leave to send one request, given by a [`RateLimiter`]. Dropping it
/// unreported says the request got no answer.
pub trait RatePermit: Send {
    /// Learns from the answer: `status` and its rate-limit headers. The
    /// headers are read before this returns; the future stores what they
    /// said (the egress hook awaits it before the guest sees the answer, so
    /// the next request, on any replica, knows it).
    fn report(self: Box<Self>, status: u16, headers: &HeaderMap) -> Reporting;
}

/// What [`Loaded::with_limiter`](crate::Loaded::with_limiter) and the
/// egress hooks take: an `Arc` of any [`RateLimiter`], or an
/// `Arc<dyn RateLimiter>` chosen at run time. A generic argument, so that
/// `Arc::clone(&limiter)` of a concrete limiter needs no cast.
pub trait IntoRateLimiter {
    /// The limiter as a trait object.
    fn into_rate_limiter(self) -> Arc<dyn RateLimiter>;
}

impl<L: RateLimiter + 'static> IntoRateLimiter for Arc<L> {
    fn into_rate_limiter(self) -> Arc<dyn RateLimiter> {
        self
    }
}

impl IntoRateLimiter for Arc<dyn RateLimiter> {
    fn into_rate_limiter(self) -> Arc<dyn RateLimiter> {
        self
    }
}

impl RateLimiter for DiscordLimiter {
    fn acquire<'r, 'l: 'r>(
        &'l self,
        authorization: Option<&'r [u8]>,
        method: &'r str,
        path: &'r str,
        deadline: Option<Instant>,
    ) -> Acquiring<'r, 'l> {
        Box::pin(async move {
            let permit =
                DiscordLimiter::acquire(self, authorization, method, path, deadline).await?;
            Ok(Box::new(permit) as Box<dyn RatePermit + 'l>)
        })
    }
}

impl RatePermit for Permit<'_> {
    fn report(self: Box<Self>, status: u16, headers: &HeaderMap) -> Reporting {
        Permit::report(*self, status, headers);
        Box::pin(std::future::ready(()))
    }
}

/// Leave to send one request: holds its bucket until the answer is
/// reported or the permit dropped (a request that got no answer).
pub struct Permit<'a> {
    limiter: &'a DiscordLimiter,
    credential: u64,
    /// The request carries no `Authorization` header.
    anonymous: bool,
    route: String,
    bucket: OwnedMutexGuard<Bucket>,
}

impl Permit<'_> {
    /// Learns from the answer: its status and its rate-limit headers.
    pub fn report(mut self, status: u16, headers: &HeaderMap) {
        let policy = &self.limiter.policy;
        let now = Instant::now();
        let answer = AnswerLimits::parse(status, headers, policy.max_reset);
        if let Some(remaining) = answer.remaining {
            self.bucket.remaining = Some(remaining);
        }
        if let Some(reset_after) = answer.reset_after {
            self.bucket.reset_at = Some(now + reset_after + policy.reset_margin);
        }
        let invalid = answer.invalid;
        let mut state = self.limiter.state();
        if invalid {
            state.invalid.add(now, policy.invalid_window);
        }
        if !self.anonymous {
            if answer.success {
                self.limiter
                    .remember_good_standing(&mut state, self.credential, now);
            } else if status == 401 {
                state.good_standing.remove(&self.credential);
            }
        }
        let Some(credential) = state.credentials.get_mut(&self.credential) else {
            return;
        };
        if invalid {
            credential.invalid.add(now, policy.invalid_window);
        }
        let bucket_id = answer.bucket.as_deref();
        if let Some(shared) = bucket_id.and_then(|id| share_bucket(credential, &self.route, id)) {
            // The route now uses the bucket it shares with others: what this
            // answer said applies there too, unless a request holds it now
            // (whose own answer will be fresher).
            if let Ok(mut other) = shared.try_lock() {
                other.remaining = self.bucket.remaining;
                other.reset_at = self.bucket.reset_at;
            }
        }
    }
}

/// Points `route` at the bucket Discord named `id` for the route's major
/// parameter (its channel, guild or webhook), shared with the other routes
/// of that bucket and parameter; returns that bucket when the route moved
/// to it. Discord names a route's bucket the same in every channel, but
/// each channel has its own: one channel's burst must not hold another's.
fn share_bucket(credential: &mut CredentialState, route: &str, id: &str) -> Option<SharedBucket> {
    let current = Arc::clone(&credential.routes.get(route)?.bucket);
    let id = bucket_key(id, route);
    match credential.bucket_ids.get(&id).and_then(Weak::upgrade) {
        Some(shared) if !Arc::ptr_eq(&shared, &current) => {
            credential.routes.get_mut(route)?.bucket = Arc::clone(&shared);
            Some(shared)
        }
        Some(_) => None,
        None => {
            credential.bucket_ids.insert(id, Arc::downgrade(&current));
            None
        }
    }
}

impl DiscordLimiter {
    /// A limiter with `policy`.
    pub fn new(policy: LimiterPolicy) -> Self {
        let now = Instant::now();
        Self {
            policy,
            hasher: RandomState::new(),
            state: Mutex::new(State {
                credentials: HashMap::new(),
                good_standing: HashMap::new(),
                invalid: WindowCounter::new(now),
                since_sweep: 0,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many invalid requests the current window holds.
    pub fn invalid_requests(&self) -> usize {
        let mut state = self.state();
        state
            .invalid
            .count(Instant::now(), self.policy.invalid_window)
    }

    /// How much the limiter remembers now.
    pub fn size(&self) -> LimiterSize {
        let state = self.state();
        LimiterSize {
            credentials: state.credentials.len(),
            routes: state
                .credentials
                .values()
                .map(|credential| credential.routes.len())
                .sum(),
            good_standing: state.good_standing.len(),
        }
    }

    /// Waits until a `method` request to `path` with the `authorization`
    /// header value may go out, at most until `deadline` (or the policy's
    /// longest wait), and returns the leave to send it.
    pub async fn acquire(
        &self,
        authorization: Option<&[u8]>,
        method: &str,
        path: &str,
        deadline: Option<Instant>,
    ) -> Result<Permit<'_>, Refusal> {
        let started = Instant::now();
        let deadline = deadline.unwrap_or(started + self.policy.max_wait);
        let credential = self.hasher.hash_one(authorization);
        let anonymous = authorization.is_none();
        let route = route_key(method, path);
        let bucket = self.admit(credential, anonymous, &route, started)?;
        let mut bucket = tokio::time::timeout_at(deadline, bucket.lock_owned())
            .await
            .map_err(|_| Refusal::WouldMissDeadline {
                wait: deadline.saturating_duration_since(started),
            })?;
        if bucket.remaining == Some(0) {
            if let Some(reset_at) = bucket.reset_at {
                if reset_at > deadline {
                    return Err(Refusal::WouldMissDeadline {
                        wait: reset_at.saturating_duration_since(Instant::now()),
                    });
                }
                tokio::time::sleep_until(reset_at).await;
            }
            bucket.remaining = None;
        }
        self.global_slot(credential, deadline).await?;
        Ok(Permit {
            limiter: self,
            credential,
            anonymous,
            route,
            bucket,
        })
    }

    /// Checks the invalid-request budgets and returns the route's bucket,
    /// remembering the credential and the route. A refused credential is
    /// not remembered.
    fn admit(
        &self,
        credential: u64,
        anonymous: bool,
        route: &str,
        now: Instant,
    ) -> Result<SharedBucket, Refusal> {
        let policy = &self.policy;
        let window = policy.invalid_window;
        let seconds = window.as_secs();
        let mut state = self.state();
        let trusted = anonymous || self.in_good_standing(&state, credential, now);
        let reserved = policy
            .invalid_limit
            .saturating_sub(policy.good_standing_reserve);
        let total = state.invalid.count(now, window);
        let near_ban = total >= reserved;
        if total >= policy.invalid_limit || (near_ban && !trusted) {
            let line = if trusted {
                policy.invalid_limit
            } else {
                reserved
            };
            let retry_after = state.invalid.time_until_below(now, window, line);
            let reason = if trusted {
                format!("{total} invalid Discord requests (401, 403, 429) in the last {seconds} s")
            } else {
                format!(
                    "{total} invalid Discord requests (401, 403, 429) in the last {seconds} s; the rest of the budget is kept for credentials Discord has accepted before and calls with no credential"
                )
            };
            return Err(Refusal::InvalidRequests {
                reason,
                retry_after,
            });
        }
        let shared = &mut *state;
        if let Some(known) = shared.credentials.get_mut(&credential) {
            let own = known.invalid.count(now, window);
            let over_own_limit = own >= policy.invalid_per_credential;
            let over_reserve_share = near_ban && own >= policy.reserve_per_credential;
            if over_own_limit || over_reserve_share {
                // It may go again once under its own limit and, while the
                // shared count stays near the ban, under its reserve share.
                let mut retry_after =
                    known
                        .invalid
                        .time_until_below(now, window, policy.invalid_per_credential);
                if near_ban {
                    let under_share =
                        known
                            .invalid
                            .time_until_below(now, window, policy.reserve_per_credential);
                    let under_reserve_line = shared.invalid.time_until_below(now, window, reserved);
                    retry_after = retry_after.max(under_share.min(under_reserve_line));
                }
                let reason = if over_own_limit {
                    format!(
                        "{own} invalid Discord requests (401, 403, 429) with this credential in the last {seconds} s"
                    )
                } else {
                    format!(
                        "{own} invalid Discord requests (401, 403, 429) with this credential in the last {seconds} s, its whole share of the reserve kept near Discord's ban ({total} in all)"
                    )
                };
                return Err(Refusal::InvalidRequests {
                    reason,
                    retry_after,
                });
            }
        }
        state.since_sweep += 1;
        if state.since_sweep >= 1024 || state.credentials.len() >= policy.max_credentials {
            self.sweep(&mut state, now);
        }
        let known = state
            .credentials
            .entry(credential)
            .or_insert_with(|| CredentialState::new(now));
        known.last_used = now;
        let bucket = match known.routes.get_mut(route) {
            Some(existing) => {
                existing.last_used = now;
                Arc::clone(&existing.bucket)
            }
            None => {
                let bucket = SharedBucket::default();
                known.routes.insert(
                    route.to_owned(),
                    Route {
                        bucket: Arc::clone(&bucket),
                        last_used: now,
                    },
                );
                known.trim_routes(policy.max_routes_per_credential);
                bucket
            }
        };
        Ok(bucket)
    }

    /// Forgets credentials idle past the expiry and, beyond the cap, the
    /// least recently used idle ones. Runs every 1,024 acquisitions and when
    /// the cap is reached; after it the map holds at most three quarters of
    /// the cap, so its cost is spread over the inserts that follow.
    fn sweep(&self, state: &mut State, now: Instant) {
        state.since_sweep = 0;
        let policy = &self.policy;
        state.credentials.retain(|_, credential| {
            credential.in_use()
                || now.saturating_duration_since(credential.last_used) < policy.idle_expiry
        });
        let keep = policy.max_credentials - policy.max_credentials / 4;
        if state.credentials.len() <= keep {
            return;
        }
        let mut idle: Vec<(Instant, u64)> = state
            .credentials
            .iter()
            .filter(|(_, credential)| !credential.in_use())
            .map(|(key, credential)| (credential.last_used, *key))
            .collect();
        idle.sort_unstable();
        let excess = state.credentials.len() - keep;
        for (_, key) in idle.into_iter().take(excess) {
            state.credentials.remove(&key);
        }
    }

    /// Whether Discord has answered `credential` with a 2xx recently enough.
    fn in_good_standing(&self, state: &State, credential: u64, now: Instant) -> bool {
        state
            .good_standing
            .get(&credential)
            .is_some_and(|succeeded| {
                now.saturating_duration_since(*succeeded) < self.policy.good_standing_expiry
            })
    }

    /// Notes Discord's 2xx answer to `credential`. Beyond the cap, expired
    /// entries go, then those whose last success is oldest, down to three
    /// quarters of the cap, so the cost is spread over the inserts after it.
    fn remember_good_standing(&self, state: &mut State, credential: u64, now: Instant) {
        if state.good_standing.insert(credential, now).is_some() {
            return;
        }
        let policy = &self.policy;
        if state.good_standing.len() <= policy.max_good_standing {
            return;
        }
        state.good_standing.retain(|_, succeeded| {
            now.saturating_duration_since(*succeeded) < policy.good_standing_expiry
        });
        let keep = policy.max_good_standing - policy.max_good_standing / 4;
        if state.good_standing.len() <= keep {
            return;
        }
        let mut oldest: Vec<(Instant, u64)> = state
            .good_standing
            .iter()
            .map(|(key, succeeded)| (*succeeded, *key))
            .collect();
        oldest.sort_unstable();
        let excess = state.good_standing.len() - keep;
        for (_, key) in oldest.into_iter().take(excess) {
            state.good_standing.remove(&key);
        }
    }

    /// Waits for a slot under the global per-credential limit.
    async fn global_slot(&self, credential: u64, deadline: Instant) -> Result<(), Refusal> {
        loop {
            let wait = {
                let mut state = self.state();
                let now = Instant::now();
                let Some(known) = state.credentials.get_mut(&credential) else {
                    return Ok(());
                };
                while known
                    .sent
                    .front()
                    .is_some_and(|at| now.saturating_duration_since(*at) >= Duration::from_secs(1))
                {
                    known.sent.pop_front();
                }
                if known.sent.len() < self.policy.global_per_second {
                    known.sent.push_back(now);
                    return Ok(());
                }
                Duration::from_secs(1).saturating_sub(now.saturating_duration_since(known.sent[0]))
            };
            if Instant::now() + wait > deadline {
                return Err(Refusal::WouldMissDeadline { wait });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const ME: &str = "/api/v10/users/@me";

    #[test]
    fn routes_keep_only_their_top_level_resource() {
        assert_eq!(
            route_key("GET", "/api/v10/users/41771983423143937"),
            "GET/api/v10/users/:id"
        );
        assert_eq!(
            route_key("GET", "/api/v10/guilds/613425648685547541/widget.json"),
            "GET/api/v10/guilds/613425648685547541/widget.json"
        );
        assert_eq!(
            route_key("GET", "/api/v10/invites/abc?with_counts=true"),
            "GET/api/v10/invites/:id"
        );
        assert!(route_key("GET", &format!("/{}", "é".repeat(500))).len() <= MAX_ROUTE_KEY);
    }

    #[test]
    fn an_answer_is_read_once_with_its_numbers_clamped() {
        let max = Duration::from_secs(3_600);
        let read = AnswerLimits::parse(
            429,
            &headers(&[
                ("x-ratelimit-bucket", "abcd"),
                ("x-ratelimit-remaining", "3"),
                ("retry-after", "1e300"),
            ]),
            max,
        );
        assert_eq!(
            read,
            AnswerLimits {
                bucket: Some("abcd".to_owned()),
                remaining: Some(0),
                reset_after: Some(max),
                invalid: true,
                success: false,
            }
        );
        let shared = AnswerLimits::parse(
            429,
            &headers(&[
                ("x-ratelimit-scope", "shared"),
                ("x-ratelimit-bucket", &"b".repeat(65)),
                ("x-ratelimit-reset-after", "-2"),
            ]),
            max,
        );
        assert!(!shared.invalid, "Discord does not count shared 429s");
        assert_eq!(shared.bucket, None, "too long an id is ignored");
        assert_eq!(shared.reset_after, Some(Duration::ZERO));
        let fine = AnswerLimits::parse(204, &headers(&[("x-ratelimit-remaining", "NaN")]), max);
        assert!(fine.success && !fine.invalid && fine.remaining.is_none());
        assert_eq!(
            bucket_key("b", &route_key("GET", "/api/v10/channels/9/pins")),
            "b@9"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_trait_object_learns_as_the_limiter_does() {
        let concrete = Arc::new(DiscordLimiter::default());
        // Both an Arc of a concrete limiter and a trait object are taken.
        let limiter = Arc::clone(&concrete).into_rate_limiter();
        let limiter = Arc::clone(&limiter).into_rate_limiter();
        let started = Instant::now();
        let permit = limiter
            .acquire(Some(b"Bot a"), "GET", ME, None)
            .await
            .unwrap();
        permit
            .report(
                200,
                &headers(&[
                    ("x-ratelimit-bucket", "b1"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset-after", "1"),
                ]),
            )
            .await;
        limiter
            .acquire(Some(b"Bot a"), "GET", ME, None)
            .await
            .unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(1050));
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_bucket_holds_the_next_request_until_its_reset() {
        let limiter = DiscordLimiter::default();
        let started = Instant::now();
        limiter
            .acquire(Some(b"Bot a"), "GET", ME, None)
            .await
            .unwrap()
            .report(
                200,
                &headers(&[
                    ("x-ratelimit-bucket", "b1"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset-after", "1.5"),
                ]),
            );
        let permit = limiter
            .acquire(Some(b"Bot a"), "GET", ME, None)
            .await
            .unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(1550));
        drop(permit);
        let other = Instant::now();
        limiter
            .acquire(Some(b"Bot b"), "GET", ME, None)
            .await
            .unwrap();
        assert_eq!(
            other.elapsed(),
            Duration::ZERO,
            "another credential's bucket is its own"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn routes_that_share_a_bucket_share_its_state() {
        let limiter = DiscordLimiter::default();
        let exhausted = headers(&[
            ("x-ratelimit-bucket", "shared"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "2"),
        ]);
        let fresh = headers(&[
            ("x-ratelimit-bucket", "shared"),
            ("x-ratelimit-remaining", "5"),
        ]);
        let one = "/api/v10/users/@me/guilds";
        limiter
            .acquire(None, "GET", ME, None)
            .await
            .unwrap()
            .report(200, &fresh);
        limiter
            .acquire(None, "GET", one, None)
            .await
            .unwrap()
            .report(200, &exhausted);
        let started = Instant::now();
        limiter.acquire(None, "GET", ME, None).await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_named_alike_in_two_channels_is_two_buckets() {
        let limiter = DiscordLimiter::default();
        let reaction = |channel: &str| {
            format!("/api/v10/channels/{channel}/messages/9/reactions/%F0%9F%91%8D/@me")
        };
        let answer = |remaining: &str| {
            headers(&[
                ("x-ratelimit-bucket", "reactions"),
                ("x-ratelimit-remaining", remaining),
                ("x-ratelimit-reset-after", "5"),
            ])
        };
        for (channel, remaining) in [("1", "0"), ("2", "1")] {
            limiter
                .acquire(Some(b"Bot a"), "PUT", &reaction(channel), None)
                .await
                .unwrap()
                .report(204, &answer(remaining));
        }
        let started = Instant::now();
        limiter
            .acquire(Some(b"Bot a"), "PUT", &reaction("2"), None)
            .await
            .unwrap();
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "channel 2 does not wait for channel 1's reset"
        );
        limiter
            .acquire(Some(b"Bot a"), "PUT", &reaction("1"), None)
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_secs(5));
        assert_eq!(major_parameter(&route_key("PUT", &reaction("77"))), "77");
        assert_eq!(major_parameter(&route_key("GET", ME)), "");
    }

    #[tokio::test(start_paused = true)]
    async fn each_credential_stays_under_the_global_limit() {
        let policy = LimiterPolicy {
            global_per_second: 4,
            ..LimiterPolicy::default()
        };
        let limiter = DiscordLimiter::new(policy);
        let started = Instant::now();
        for n in 0..9 {
            let path = format!("/api/v10/route{n}");
            limiter
                .acquire(Some(b"Bot a"), "GET", &path, None)
                .await
                .unwrap();
        }
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    /// Sends one request with `token` and reports `status`; the refusal
    /// when the limiter would not let it go.
    async fn send(
        limiter: &DiscordLimiter,
        token: Option<&str>,
        status: u16,
    ) -> Result<(), Refusal> {
        let permit = limiter
            .acquire(token.map(str::as_bytes), "GET", ME, None)
            .await?;
        permit.report(status, &HeaderMap::new());
        Ok(())
    }

    fn invalid_requests_refusal(outcome: Result<(), Refusal>) -> Duration {
        match outcome {
            Err(Refusal::InvalidRequests { retry_after, .. }) => retry_after,
            other => panic!("expected a refusal for invalid requests, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_bad_credential_cannot_lock_out_the_others() {
        let policy = LimiterPolicy {
            invalid_limit: 100,
            invalid_per_credential: 10,
            good_standing_reserve: 20,
            ..LimiterPolicy::default()
        };
        let limiter = DiscordLimiter::new(policy);
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        let mut sent = 0;
        while send(&limiter, Some("Bearer bogus"), 401).await.is_ok() {
            sent += 1;
        }
        assert_eq!(
            sent, 10,
            "the bad credential is refused after its own share"
        );
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        send(&limiter, None, 200).await.unwrap();

        // Many bad credentials together reach the reserve line: from there
        // on, every credential Discord has not accepted before is refused.
        for n in 0..20 {
            let token = format!("Bearer bogus-{n}");
            while send(&limiter, Some(&token), 401).await.is_ok() {}
        }
        assert_eq!(limiter.invalid_requests(), 80, "none past the line");
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        send(&limiter, None, 200).await.unwrap();
        tokio::time::advance(Duration::from_secs(601)).await;
        assert_eq!(limiter.invalid_requests(), 0, "the window slides");
        assert!(send(&limiter, Some("Bearer bogus"), 401).await.is_ok());
    }

    /// The lockout of issue #17 at Discord's real numbers: one client sends
    /// 9,100 requests, each with a token of its own making.
    #[tokio::test(start_paused = true)]
    async fn rotating_made_up_tokens_cannot_lock_out_credentials_in_good_standing() {
        let policy = LimiterPolicy::default();
        let limiter = DiscordLimiter::new(policy);
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        let mut refused = 0;
        for n in 0..9_100 {
            let token = format!("Bearer made-up-{n}");
            if let Err(refusal) = send(&limiter, Some(&token), 401).await {
                let wait = invalid_requests_refusal(Err(refusal));
                assert!(
                    wait > Duration::ZERO && wait <= policy.invalid_window,
                    "{wait:?}"
                );
                refused += 1;
            }
        }
        assert_eq!(limiter.invalid_requests(), 7_200, "the reserve is left");
        assert_eq!(refused, 9_100 - 7_200);
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        send(&limiter, None, 200).await.unwrap();
        invalid_requests_refusal(send(&limiter, Some("Bearer made-up-new"), 401).await);
        assert!(
            limiter.size().credentials <= policy.max_credentials,
            "refused credentials are not remembered"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn good_standing_is_earned_by_a_success_and_lost_with_a_401() {
        let policy = LimiterPolicy {
            invalid_limit: 100,
            good_standing_reserve: 20,
            ..LimiterPolicy::default()
        };
        let limiter = DiscordLimiter::new(policy);
        send(&limiter, Some("Bot revoked"), 200).await.unwrap();
        send(&limiter, Some("Bot forbidden"), 200).await.unwrap();
        send(&limiter, Some("Bot never-accepted"), 404)
            .await
            .unwrap();
        for n in 0..80 {
            send(&limiter, Some(&format!("Bearer made-up-{n}")), 401)
                .await
                .unwrap();
        }
        invalid_requests_refusal(send(&limiter, Some("Bot never-accepted"), 200).await);
        send(&limiter, Some("Bot forbidden"), 403).await.unwrap();
        send(&limiter, Some("Bot forbidden"), 200).await.unwrap();
        send(&limiter, Some("Bot revoked"), 401).await.unwrap();
        invalid_requests_refusal(send(&limiter, Some("Bot revoked"), 200).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_credential_in_good_standing_gets_only_its_share_of_the_reserve() {
        let policy = LimiterPolicy {
            invalid_limit: 100,
            good_standing_reserve: 20,
            reserve_per_credential: 5,
            ..LimiterPolicy::default()
        };
        let limiter = DiscordLimiter::new(policy);
        for name in ["Bot a", "Bot b", "Bot good"] {
            send(&limiter, Some(name), 200).await.unwrap();
        }
        for n in 0..80 {
            send(&limiter, Some(&format!("Bearer made-up-{n}")), 401)
                .await
                .unwrap();
        }
        for name in ["Bot a", "Bot b"] {
            while send(&limiter, Some(name), 403).await.is_ok() {}
        }
        assert_eq!(limiter.invalid_requests(), 90);
        send(&limiter, Some("Bot good"), 200).await.unwrap();
        let mut anonymous = 0;
        while send(&limiter, None, 403).await.is_ok() {
            anonymous += 1;
        }
        assert_eq!(anonymous, 5, "calls with no credential share one account");
        send(&limiter, Some("Bot good"), 200).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_says_when_the_count_falls_below_its_line() {
        let policy = LimiterPolicy {
            invalid_limit: 10,
            good_standing_reserve: 4,
            ..LimiterPolicy::default()
        };
        let limiter = DiscordLimiter::new(policy);
        for n in 0..3 {
            send(&limiter, Some(&format!("Bearer early-{n}")), 401)
                .await
                .unwrap();
        }
        tokio::time::advance(Duration::from_secs(120)).await;
        for n in 0..3 {
            send(&limiter, Some(&format!("Bearer late-{n}")), 401)
                .await
                .unwrap();
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        let wait = invalid_requests_refusal(send(&limiter, Some("Bearer new"), 401).await);
        assert_eq!(
            wait,
            Duration::from_secs(470),
            "the first three leave the window 600 s after they were counted"
        );
        tokio::time::advance(wait).await;
        send(&limiter, Some("Bearer new"), 401).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn hostile_reset_headers_are_clamped_and_never_outwait_the_deadline() {
        let limiter = DiscordLimiter::default();
        for value in ["1e300", "inf", "NaN", "-5", "1e9"] {
            let token = format!("Bot {value}");
            limiter
                .acquire(Some(token.as_bytes()), "GET", ME, None)
                .await
                .unwrap()
                .report(
                    429,
                    &headers(&[
                        ("x-ratelimit-remaining", "-1e400"),
                        ("x-ratelimit-reset-after", value),
                        ("retry-after", value),
                    ]),
                );
            let started = Instant::now();
            let deadline = Some(started + Duration::from_secs(3));
            let next = limiter
                .acquire(Some(token.as_bytes()), "GET", ME, deadline)
                .await;
            assert!(started.elapsed() <= Duration::from_secs(3), "{value}");
            if let Err(refusal) = next {
                assert!(
                    matches!(refusal, Refusal::WouldMissDeadline { .. }),
                    "{value}"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_thousand_tokens_leave_the_state_bounded() {
        let policy = LimiterPolicy::default();
        let limiter = DiscordLimiter::new(policy);
        let answer = headers(&[("x-ratelimit-bucket", "b"), ("x-ratelimit-remaining", "4")]);
        for n in 0..100_000u32 {
            let token = format!("Bearer token-{n}");
            let path = format!("/api/v10/users/@me/x{}", n % 7);
            limiter
                .acquire(Some(token.as_bytes()), "GET", &path, None)
                .await
                .unwrap()
                .report(200, &answer);
            let size = limiter.size();
            assert!(size.credentials <= policy.max_credentials, "{n}: {size:?}");
            assert!(
                size.good_standing <= policy.max_good_standing,
                "{n}: {size:?}"
            );
        }
        assert!(limiter.size().routes <= policy.max_credentials);
        tokio::time::advance(policy.idle_expiry + Duration::from_secs(1)).await;
        for _ in 0..1024 {
            limiter
                .acquire(Some(b"Bot last"), "GET", ME, None)
                .await
                .unwrap();
        }
        assert_eq!(limiter.size().credentials, 1, "idle credentials expire");
    }

    #[tokio::test(start_paused = true)]
    async fn a_credential_keeps_a_bounded_number_of_routes() {
        let policy = LimiterPolicy::default();
        let limiter = DiscordLimiter::new(policy);
        for n in 0..5_000 {
            let path = format!("/api/v10/unknown-{n}/{}", "x".repeat(300));
            limiter
                .acquire(Some(b"Bot a"), "GET", &path, None)
                .await
                .unwrap();
        }
        assert!(limiter.size().routes <= policy.max_routes_per_credential);
    }
}
