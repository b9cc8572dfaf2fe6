//! Discord's rate limits shared by every replica of the connector host,
//! kept in Redis (7.x, a single server or a primary; not Redis Cluster).
//!
//! [`RedisLimiter`] is a [`RateLimiter`] for `discord_host`'s egress hook,
//! as the in-process [`DiscordLimiter`] is, with the same policy
//! ([`LimiterPolicy`]) and the same keys ([`route_key`],
//! [`bucket_key`]), but with its state in
//! Redis, so N replicas behind one IP respect one set of limits:
//!
//! - each credential's global limit (a log of its last second of requests,
//!   plus the policy's `reset_margin`: requests decided a second apart may
//!   reach Discord less than a second apart);
//! - each bucket's `remaining` and reset, learned from Discord's headers
//!   and counted down as requests go out, so requests of a bucket run
//!   concurrently while it has room; a bucket whose state is unknown (not
//!   learned yet, or past its reset) lets ONE request in flight across the
//!   fleet (a probe lock that expires on its own if its holder dies);
//! - the invalid-request counts (401, 403, 429), per credential and for the
//!   deployment, with the in-process limiter's reserve for credentials in
//!   good standing.
//!
//! Each decision is one server-side script run atomically on Redis's clock
//! (`TIME`), so replicas' clocks do not matter; a wait or a refusal changes
//! nothing. Every key expires, so Redis's memory is bounded by the request
//! rate times the longest expiry.
//!
//! # Keys
//!
//! Under the prefix ([`RedisLimiterOptions::prefix`], `discord-host:` by
//! default); `C` is a credential's id, `R` a route's, `B` a bucket's:
//!
//! | key | holds | expires |
//! |---|---|---|
//! | `secret` | the hashing key, when none is configured | 30 days after the last request |
//! | `global:C` | the credential's requests of the last second (sorted set) | about 2 s |
//! | `route:C:R` | the bucket Discord named for the route | idle expiry (600 s) |
//! | `bucket:C:B` | `remaining`, `reset_at` (hash) | after its reset, at least the idle expiry |
//! | `probe:C:B` | the request learning an unknown bucket | its request's deadline |
//! | `invalid-all:SLOT`, `invalid:C:SLOT` | invalid requests in a tenth of the window | the window |
//! | `good:C` | the credential had a 2xx | good-standing expiry (7 days) |
//!
//! # Credentials
//!
//! Ids are HMAC-SHA256 (128 bits, hex) of the `Authorization` value, of the
//! route key and of the bucket key (a webhook's path carries its token)
//! under a secret, so no token reaches Redis. The secret is
//! [`RedisLimiterOptions::secret`] when given (the CLI passes
//! `DISCORD_LIMITER_SECRET`): then Redis holds nothing that would let its
//! reader test a guessed token. Without one, the first replica stores a
//! random secret in Redis (`SET NX`) and every replica uses it: nothing to
//! configure, but whoever can read Redis can test guesses against the ids
//! (though never read a token back). If that key expires or Redis loses it,
//! a replica makes a new one and the others notice on their next call and
//! follow; what was learned under the old ids is forgotten.
//!
//! # Use
//!
//! Give every replica's connector the same Redis (and the same secret):
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use discord_host::Connector;
//! use discord_redis_limiter::{RedisLimiter, RedisLimiterOptions, SECRET_VARIABLE};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = RedisLimiterOptions {
//!     secret: std::env::var(SECRET_VARIABLE).ok().map(String::into_bytes),
//!     ..RedisLimiterOptions::default()
//! };
//! // Parsed now, connected on the first call: a replica starts while Redis is down.
//! let limiter = RedisLimiter::open("redis://127.0.0.1:6379/", options)?;
//! let connector = Connector::from_file("discord_connector.wasm")?.with_limiter(Arc::new(limiter));
//! # drop(connector);
//! # Ok(())
//! # }
//! ```
//!
//! # When Redis is unreachable
//!
//! Every Redis command is bounded by [`RedisLimiterOptions::command_timeout`]
//! and by the call's deadline. When Redis fails or is slow, calls are
//! decided by a local [`DiscordLimiter`] at a conservative share: the
//! global limit and the invalid-request limits divided by
//! [`RedisLimiterOptions::fallback_replicas`] ([`fallback_policy`]), on
//! the assumption that the other replicas fell back too. One warning is
//! logged when it falls back and one line when Redis answers again; in
//! between, Redis is tried again at most once per
//! [`RedisLimiterOptions::retry_interval`], so calls do not each pay for a
//! connection that fails. Nothing is needed at start: [`RedisLimiter::open`]
//! only reads the URL and the connection is made on first use, so a replica
//! starts while Redis is down.

//!
//! # What it does not promise
//!
//! - A decision whose answer is lost (Redis ran the script, the reply came
//!   after the command timeout) spends its global slot and bucket unit;
//!   if it took a bucket's probe, the bucket waits for the lock to expire
//!   (its request's deadline plus a second, at most the policy's
//!   `max_wait` plus a second).
//! - A Redis that restarts empty forgets the buckets (relearned one probe
//!   each) and the invalid-request counts; what replicas counted in
//!   fallback stays local to them.
//! - The fallback share assumes every replica fell back; with fewer
//!   replicas than `fallback_replicas` the fleet is slower than it could
//!   be, with more it can exceed Discord's limits while Redis is away.
//! - Keys are named inside the scripts, so Redis Cluster is not supported.

#![deny(missing_docs)]

mod health;
mod scripts;
mod url;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use discord_host::DiscordLimiter;
use discord_host::limiter::{
    Acquiring, AnswerLimits, LimiterPolicy, RateLimiter, RatePermit, Refusal, Reporting,
    bucket_key, route_key,
};
use http::HeaderMap;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};
use tokio::time::Instant;

use crate::health::{Health, Route, Transition};
use crate::scripts::{ACQUIRE, Budget, Decision, Hasher, REPORT, Unexpected, millis};

pub use crate::url::FALLBACK_REPLICAS_PARAMETER;

/// The environment variable a host reads [`RedisLimiterOptions::secret`]
/// from (the CLI does), so every replica hashes credentials alike.
pub const SECRET_VARIABLE: &str = "DISCORD_LIMITER_SECRET";

/// How the Redis limiter behaves, besides the [`LimiterPolicy`] it shares
/// with the in-process limiter.
#[derive(Clone)]
pub struct RedisLimiterOptions {
    /// The limits, as for [`DiscordLimiter`]. Its caps on remembered
    /// credentials and routes do not apply: every key expires instead.
    pub policy: LimiterPolicy,
    /// The key credentials are hashed with; every replica must have the
    /// same (a host reads it from [`SECRET_VARIABLE`]). `None`: a random
    /// one kept in Redis (see the crate's docs).
    pub secret: Option<Vec<u8>>,
    /// Put before every key, so deployments can share a server.
    pub prefix: String,
    /// How many replicas are expected to share Discord's limits while
    /// Redis is unreachable: each takes this share of them. A URL's
    /// `?fallback_replicas=N` overrides it.
    pub fallback_replicas: usize,
    /// The longest one Redis command may take before the call is decided
    /// locally.
    pub command_timeout: Duration,
    /// While Redis is unreachable, how often one call tries it again.
    pub retry_interval: Duration,
    /// How often a request waiting for another's probe of a bucket asks
    /// again.
    pub poll_interval: Duration,
}

/// Never shows the secret.
impl std::fmt::Debug for RedisLimiterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiterOptions")
            .field("policy", &self.policy)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("prefix", &self.prefix)
            .field("fallback_replicas", &self.fallback_replicas)
            .field("command_timeout", &self.command_timeout)
            .field("retry_interval", &self.retry_interval)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl Default for RedisLimiterOptions {
    fn default() -> Self {
        Self {
            policy: LimiterPolicy::default(),
            secret: None,
            prefix: "discord-host:".to_owned(),
            fallback_replicas: 4,
            command_timeout: Duration::from_millis(250),
            retry_interval: Duration::from_secs(1),
            poll_interval: Duration::from_millis(25),
        }
    }
}

/// What went wrong opening a limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL is not one Redis's client reads.
    Url,
    /// An option is out of range.
    Options,
}

/// This crate's error. Neither its text nor its source ever shows a
/// password from the URL.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ErrorKind::Url => f.write_str("the Redis limiter's URL could not be read")?,
            ErrorKind::Options => f.write_str("the Redis limiter's options are out of range")?,
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// Text already cleared of any password, standing for an error whose own
/// text might hold one.
#[derive(Debug)]
struct Redacted(String);

impl std::fmt::Display for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Redacted {}

/// What the limiter has done so far, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Calls decided (let through or refused) on Redis.
    pub decided_by_redis: u64,
    /// Calls decided by the local fallback.
    pub decided_by_fallback: u64,
    /// Times Redis became unreachable (one warning each).
    pub fell_back: u64,
    /// Times Redis answered again (one log line each).
    pub came_back: u64,
}

/// `policy` at one replica's share of Discord's limits, for deciding
/// locally while the shared state is out of reach: the global limit and
/// the invalid-request limits divided by `replicas` (at least 1 each).
pub fn fallback_policy(policy: &LimiterPolicy, replicas: usize) -> LimiterPolicy {
    let replicas = replicas.max(1);
    let share = |value: usize| (value / replicas).max(1);
    let invalid_limit = share(policy.invalid_limit);
    LimiterPolicy {
        global_per_second: share(policy.global_per_second),
        invalid_limit,
        invalid_per_credential: share(policy.invalid_per_credential),
        good_standing_reserve: share(policy.good_standing_reserve).min(invalid_limit),
        reserve_per_credential: share(policy.reserve_per_credential),
        ..*policy
    }
}

/// Whether `url` names a Redis server (`redis://`, `rediss://`,
/// `redis+unix://`, `unix://`), so a host can choose this limiter by its
/// URL and keep the in-process one otherwise.
pub fn is_redis_url(url: &str) -> bool {
    let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
    [
        "redis",
        "rediss",
        "redis+unix",
        "unix",
        "valkey",
        "valkeys",
        "valkey+unix",
    ]
    .iter()
    .any(|known| scheme.eq_ignore_ascii_case(known))
}

/// How long the random secret lives after the last request that used it.
const SECRET_TTL: Duration = Duration::from_secs(30 * 24 * 3_600);

/// Why a call could not be decided on Redis.
#[derive(Debug)]
enum Failure {
    /// Redis refused, failed or dropped the connection.
    Redis(redis::RedisError),
    /// Redis took longer than the command timeout.
    Slow,
    /// The call's own deadline came first: says nothing of Redis's health.
    Deadline,
    /// The script answered something it never answers.
    Unexpected(Unexpected),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Redis(error) => write!(f, "{error}"),
            Self::Slow => f.write_str("Redis did not answer within the command timeout"),
            Self::Deadline => f.write_str("the call's deadline came first"),
            Self::Unexpected(unexpected) => write!(f, "{unexpected}"),
        }
    }
}

/// The connection and the hashing key, made on first use.
struct Connected {
    connection: MultiplexedConnection,
    hasher: Hasher,
    /// The secret as the acquire script checks it ("" when configured).
    secret_check: String,
}

/// What the limiter and its permits share.
struct Shared {
    client: redis::Client,
    /// The URL as given, only to redact its password from messages.
    url: String,
    options: RedisLimiterOptions,
    connected: tokio::sync::Mutex<Option<Connected>>,
    health: Mutex<Health>,
    /// Makes each permit's nonce unique across replicas.
    instance: String,
    next_nonce: AtomicU64,
    decided_by_redis: AtomicU64,
    decided_by_fallback: AtomicU64,
    fell_back: AtomicU64,
    came_back: AtomicU64,
}

/// Discord's rate limits in Redis, shared by every replica given the same
/// server and prefix (see the crate's docs).
pub struct RedisLimiter {
    shared: Arc<Shared>,
    fallback: DiscordLimiter,
}

impl RedisLimiter {
    /// A limiter on the Redis server at `url`
    /// (`redis://[USER][:PASSWORD@]HOST[:PORT][/DB]`, optionally with
    /// `?fallback_replicas=N`, which overrides the option). `rediss://`
    /// (TLS) is refused: this build of the redis crate has no TLS. Only
    /// reads the URL: the connection is made on first use.
    pub fn open(url: &str, options: RedisLimiterOptions) -> Result<Self, Error> {
        let mut options = options;
        let (client_url, replicas) = url::split_options(url).map_err(|parameter| Error {
            kind: ErrorKind::Url,
            source: Some(Box::new(Redacted(format!(
                "{} is not a whole number above zero",
                url::redact(&parameter, url)
            )))),
        })?;
        if let Some(replicas) = replicas {
            options.fallback_replicas = replicas;
        }
        if options.fallback_replicas == 0 || options.command_timeout.is_zero() {
            return Err(Error {
                kind: ErrorKind::Options,
                source: Some(Box::new(Redacted(
                    "fallback_replicas and command_timeout must be above zero".to_owned(),
                ))),
            });
        }
        let client = redis::Client::open(client_url.as_str()).map_err(|error| Error {
            kind: ErrorKind::Url,
            source: Some(Box::new(Redacted(url::redact(&error.to_string(), url)))),
        })?;
        let fallback =
            DiscordLimiter::new(fallback_policy(&options.policy, options.fallback_replicas));
        let instance = hex(&random_bytes()[..8]);
        Ok(Self {
            fallback,
            shared: Arc::new(Shared {
                client,
                url: url.to_owned(),
                health: Mutex::new(Health::new(options.retry_interval)),
                options,
                connected: tokio::sync::Mutex::new(None),
                instance,
                next_nonce: AtomicU64::new(0),
                decided_by_redis: AtomicU64::new(0),
                decided_by_fallback: AtomicU64::new(0),
                fell_back: AtomicU64::new(0),
                came_back: AtomicU64::new(0),
            }),
        })
    }

    /// Whether calls are decided by the local fallback now.
    pub fn is_falling_back(&self) -> bool {
        self.shared.health().is_down()
    }

    /// What the limiter has done so far.
    pub fn stats(&self) -> LimiterStats {
        let shared = &self.shared;
        LimiterStats {
            decided_by_redis: shared.decided_by_redis.load(Ordering::Relaxed),
            decided_by_fallback: shared.decided_by_fallback.load(Ordering::Relaxed),
            fell_back: shared.fell_back.load(Ordering::Relaxed),
            came_back: shared.came_back.load(Ordering::Relaxed),
        }
    }

    /// The options in force (the URL's replica count applied).
    pub fn options(&self) -> &RedisLimiterOptions {
        &self.shared.options
    }

    async fn acquire_any<'r, 'l: 'r>(
        &'l self,
        authorization: Option<&'r [u8]>,
        method: &'r str,
        path: &'r str,
        deadline: Option<Instant>,
    ) -> Result<Box<dyn RatePermit + 'l>, Refusal> {
        let shared = &self.shared;
        let deadline = deadline.unwrap_or(Instant::now() + shared.options.policy.max_wait);
        let route = shared.health().route(Instant::now());
        if route == Route::Redis {
            match shared.acquire(authorization, method, path, deadline).await {
                Ok(decided) => {
                    shared.decided_by_redis.fetch_add(1, Ordering::Relaxed);
                    shared.note(shared.health().succeeded(), None);
                    return decided.map(|permit| Box::new(permit) as Box<dyn RatePermit + 'l>);
                }
                // Too little time was left for Redis to answer: the
                // request would have none to run either, and deciding it
                // locally would let it past the shared state.
                Err(Failure::Deadline) => {
                    return Err(Refusal::WouldMissDeadline {
                        wait: deadline.saturating_duration_since(Instant::now()),
                    });
                }
                Err(failure) => shared.failed(&failure),
            }
        }
        shared.decided_by_fallback.fetch_add(1, Ordering::Relaxed);
        RateLimiter::acquire(&self.fallback, authorization, method, path, Some(deadline)).await
    }
}

impl RateLimiter for RedisLimiter {
    fn acquire<'r, 'l: 'r>(
        &'l self,
        authorization: Option<&'r [u8]>,
        method: &'r str,
        path: &'r str,
        deadline: Option<Instant>,
    ) -> Acquiring<'r, 'l> {
        Box::pin(self.acquire_any(authorization, method, path, deadline))
    }
}

impl Shared {
    fn health(&self) -> MutexGuard<'_, Health> {
        self.health
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Logs `transition`, once per change.
    fn note(&self, transition: Option<Transition>, failure: Option<&Failure>) {
        match transition {
            Some(Transition::WentDown) => {
                self.fell_back.fetch_add(1, Ordering::Relaxed);
                let reason = failure.map(|failure| url::redact(&failure.to_string(), &self.url));
                tracing::warn!(
                    reason = reason.as_deref().unwrap_or("unknown"),
                    share = self.options.fallback_replicas,
                    "the Redis rate limiter is unreachable: deciding locally, at 1/{} of Discord's limits, until it answers",
                    self.options.fallback_replicas,
                );
            }
            Some(Transition::CameBack) => {
                self.came_back.fetch_add(1, Ordering::Relaxed);
                tracing::info!("the Redis rate limiter answers again: limits are shared again");
            }
            None => {}
        }
    }

    /// Notes that Redis failed: the connection is dropped, to be made anew.
    fn failed(&self, failure: &Failure) {
        if let Ok(mut connected) = self.connected.try_lock() {
            *connected = None;
        }
        let transition = self.health().failed(Instant::now());
        self.note(transition, Some(failure));
    }

    /// How long the next command may take: the command timeout, or less
    /// when the deadline is nearer (then running out is `Deadline`).
    fn budget(&self, deadline: Instant) -> (Duration, Failure) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < self.options.command_timeout {
            (left, Failure::Deadline)
        } else {
            (self.options.command_timeout, Failure::Slow)
        }
    }

    /// Runs `work` within the budget before `deadline`.
    async fn bounded<T>(
        &self,
        deadline: Instant,
        work: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Failure> {
        let (budget, late) = self.budget(deadline);
        match tokio::time::timeout(budget, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Failure::Redis(error)),
            Err(_) => Err(late),
        }
    }

    /// The connection, the hasher and the secret check, connecting first
    /// if needed; `fresh_secret` reads the shared secret again.
    async fn connection(
        &self,
        deadline: Instant,
        fresh_secret: bool,
    ) -> Result<(MultiplexedConnection, Hasher, String), Failure> {
        let (budget, late) = self.budget(deadline);
        let mut slot = tokio::time::timeout(budget, self.connected.lock())
            .await
            .map_err(|_| late)?;
        if let Some(connected) = slot.as_ref().filter(|_| !fresh_secret) {
            return Ok((
                connected.connection.clone(),
                connected.hasher.clone(),
                connected.secret_check.clone(),
            ));
        }
        let mut connection = match slot.take() {
            Some(connected) => connected.connection,
            None => {
                let timeout = self.options.command_timeout;
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout));
                self.bounded(
                    deadline,
                    self.client
                        .get_multiplexed_async_connection_with_config(&config),
                )
                .await?
            }
        };
        let (hasher, secret_check) = match &self.options.secret {
            Some(secret) => (Hasher::new(secret), String::new()),
            None => {
                let secret = self.shared_secret(&mut connection, deadline).await?;
                (Hasher::new(secret.as_bytes()), secret)
            }
        };
        *slot = Some(Connected {
            connection: connection.clone(),
            hasher: hasher.clone(),
            secret_check: secret_check.clone(),
        });
        Ok((connection, hasher, secret_check))
    }

    /// The deployment's random secret: the one in Redis, or a new one put
    /// there if there is none (`SET NX`, so replicas agree).
    async fn shared_secret(
        &self,
        connection: &mut MultiplexedConnection,
        deadline: Instant,
    ) -> Result<String, Failure> {
        let ours = hex(&random_bytes());
        let key = format!("{}secret", self.options.prefix);
        let mut command = redis::cmd("SET");
        command
            .arg(&key)
            .arg(&ours)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(millis(SECRET_TTL));
        let existing: Option<String> = self
            .bounded(deadline, command.query_async(connection))
            .await?;
        Ok(existing.unwrap_or(ours))
    }

    fn nonce(&self) -> String {
        let n = self.next_nonce.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.instance)
    }

    /// Decides on Redis: waits as the script says, never past `deadline`.
    async fn acquire(
        self: &Arc<Self>,
        authorization: Option<&[u8]>,
        method: &str,
        path: &str,
        deadline: Instant,
    ) -> Result<Result<RedisPermit, Refusal>, Failure> {
        let policy = &self.options.policy;
        let route = route_key(method, path);
        let mut fresh_secret = false;
        loop {
            let (mut connection, hasher, secret_check) =
                self.connection(deadline, fresh_secret).await?;
            fresh_secret = false;
            let credential = hasher.credential(authorization);
            let route_id = hasher.route(&route);
            let nonce = self.nonce();
            // The probe is held as long as its request may run.
            let probe_for = deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(100), policy.max_wait)
                + Duration::from_secs(1);
            let mut invocation = ACQUIRE.prepare_invoke();
            invocation
                .arg(&self.options.prefix)
                .arg(&credential)
                .arg(u8::from(authorization.is_none()))
                .arg(&route_id)
                .arg(&secret_check)
                .arg(&nonce)
                .arg(policy.global_per_second)
                .arg(policy.invalid_limit)
                .arg(policy.invalid_per_credential)
                .arg(policy.good_standing_reserve)
                .arg(policy.reserve_per_credential)
                .arg(millis(policy.invalid_window))
                .arg(millis(policy.idle_expiry))
                .arg(millis(probe_for))
                .arg(millis(SECRET_TTL))
                .arg(millis(Duration::from_secs(1) + policy.reset_margin));
            let answer: Vec<Value> = self
                .bounded(deadline, invocation.invoke_async(&mut connection))
                .await?;
            let decision = Decision::read(&answer).map_err(Failure::Unexpected)?;
            let now = Instant::now();
            match decision {
                Decision::Go { probe, bucket } => {
                    return Ok(Ok(RedisPermit {
                        shared: Arc::clone(self),
                        connection,
                        hasher,
                        credential,
                        anonymous: authorization.is_none(),
                        route,
                        route_id,
                        bucket,
                        probe,
                        nonce,
                        reported: false,
                    }));
                }
                Decision::Wait(wait) => {
                    if now + wait > deadline {
                        return Ok(Err(Refusal::WouldMissDeadline { wait }));
                    }
                    tokio::time::sleep(wait).await;
                }
                Decision::Probed(lock) => {
                    if now >= deadline {
                        return Ok(Err(Refusal::WouldMissDeadline { wait: lock }));
                    }
                    let step = lock.min(self.options.poll_interval);
                    tokio::time::sleep_until((now + step).min(deadline)).await;
                }
                Decision::Refused {
                    budget,
                    retry_after,
                    total,
                    own,
                } => {
                    return Ok(Err(Refusal::InvalidRequests {
                        reason: refusal_reason(budget, total, own, policy),
                        retry_after,
                    }));
                }
                Decision::SecretChanged => fresh_secret = true,
            }
        }
    }
}

/// A refusal's words, as the in-process limiter puts them.
fn refusal_reason(budget: Budget, total: u64, own: u64, policy: &LimiterPolicy) -> String {
    let seconds = policy.invalid_window.as_secs();
    match budget {
        Budget::Total => format!(
            "{total} invalid Discord requests (401, 403, 429) in the last {seconds} s, over all replicas"
        ),
        Budget::Reserve => format!(
            "{total} invalid Discord requests (401, 403, 429) in the last {seconds} s, over all replicas; the rest of the budget is kept for credentials Discord has accepted before and calls with no credential"
        ),
        Budget::Own => format!(
            "{own} invalid Discord requests (401, 403, 429) with this credential in the last {seconds} s"
        ),
        Budget::ReserveShare => format!(
            "{own} invalid Discord requests (401, 403, 429) with this credential in the last {seconds} s, its whole share of the reserve kept near Discord's ban ({total} in all)"
        ),
    }
}

/// Leave to send one request, decided on Redis.
struct RedisPermit {
    shared: Arc<Shared>,
    connection: MultiplexedConnection,
    hasher: Hasher,
    credential: String,
    anonymous: bool,
    route: String,
    route_id: String,
    bucket: String,
    probe: bool,
    nonce: String,
    reported: bool,
}

impl RedisPermit {
    /// The report script's call for `answer` (`None`: no answer came, only
    /// the probe is released).
    fn invocation(
        &self,
        status: u16,
        answer: Option<&AnswerLimits>,
    ) -> redis::ScriptInvocation<'static> {
        let policy = &self.shared.options.policy;
        let nothing = AnswerLimits::default();
        let answer = answer.unwrap_or(&nothing);
        let learned = answer
            .bucket
            .as_deref()
            .map(|id| self.hasher.bucket(&bucket_key(id, &self.route)))
            .unwrap_or_default();
        let mut invocation = REPORT.prepare_invoke();
        invocation
            .arg(&self.shared.options.prefix)
            .arg(&self.credential)
            .arg(u8::from(self.anonymous))
            .arg(&self.route_id)
            .arg(&self.bucket)
            .arg(u8::from(self.probe))
            .arg(&self.nonce)
            .arg(status)
            .arg(u8::from(answer.invalid))
            .arg(u8::from(answer.success))
            .arg(answer.remaining.map_or(-1, |n| n as i64))
            .arg(answer.reset_after.map_or(-1, |after| millis(after) as i64))
            .arg(learned)
            .arg(millis(policy.invalid_window))
            .arg(millis(policy.idle_expiry))
            .arg(millis(policy.good_standing_expiry))
            .arg(millis(policy.reset_margin));
        invocation
    }
}

/// Runs a report, bounded by the command timeout; a failure counts as
/// Redis being unreachable (what the answer taught is lost, the probe
/// expires on its own).
async fn run_report(
    shared: Arc<Shared>,
    mut connection: MultiplexedConnection,
    invocation: redis::ScriptInvocation<'static>,
) {
    let timeout = shared.options.command_timeout;
    let outcome =
        tokio::time::timeout(timeout, invocation.invoke_async::<Value>(&mut connection)).await;
    let failure = match outcome {
        Ok(Ok(_)) => return,
        Ok(Err(error)) => Failure::Redis(error),
        Err(_) => Failure::Slow,
    };
    shared.failed(&failure);
}

impl RatePermit for RedisPermit {
    fn report(mut self: Box<Self>, status: u16, headers: &HeaderMap) -> Reporting {
        let answer = AnswerLimits::parse(status, headers, self.shared.options.policy.max_reset);
        let invocation = self.invocation(status, Some(&answer));
        self.reported = true;
        Box::pin(run_report(
            Arc::clone(&self.shared),
            self.connection.clone(),
            invocation,
        ))
    }
}

impl Drop for RedisPermit {
    /// A request that got no answer: release its probe now rather than
    /// making the fleet wait for the lock to expire.
    fn drop(&mut self) {
        if self.reported || !self.probe {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let invocation = self.invocation(0, None);
            runtime.spawn(run_report(
                Arc::clone(&self.shared),
                self.connection.clone(),
                invocation,
            ));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// 32 random bytes from the operating system, for the secret and the
/// replica's nonces.
fn random_bytes() -> [u8; 32] {
    use std::io::Read;
    let mut bytes = [0; 32];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .is_ok()
    {
        return bytes;
    }
    // Elsewhere: std's hasher keys, which come from the system's random
    // source, spread over SHA-256.
    use sha2::Digest;
    use std::hash::{BuildHasher, RandomState};
    let mut digest = sha2::Sha256::new();
    for n in 0..4u8 {
        digest.update(RandomState::new().hash_one(n).to_le_bytes());
    }
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_takes_a_share_of_each_limit() {
        let policy = LimiterPolicy::default();
        let share = fallback_policy(&policy, 4);
        assert_eq!(share.global_per_second, 12);
        assert_eq!(share.invalid_limit, 2_250);
        assert_eq!(share.invalid_per_credential, 250);
        assert_eq!(share.good_standing_reserve, 450);
        assert_eq!(share.reserve_per_credential, 25);
        assert_eq!(share.max_wait, policy.max_wait);
        let tiny = fallback_policy(
            &LimiterPolicy {
                global_per_second: 2,
                ..policy
            },
            8,
        );
        assert_eq!(tiny.global_per_second, 1, "never zero");
    }

    #[test]
    fn the_options_never_show_the_secret() {
        let options = RedisLimiterOptions {
            secret: Some(b"hunter2-secret".to_vec()),
            ..RedisLimiterOptions::default()
        };
        let text = format!("{options:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("104, 117"),
            "{text}"
        );
        assert!(text.contains("<set>"));
    }

    #[test]
    fn redis_urls_are_told_apart() {
        assert!(is_redis_url("redis://127.0.0.1:6379/0"));
        assert!(is_redis_url("rediss://:pw@cache.internal/"));
        assert!(is_redis_url("redis+unix:///run/redis.sock"));
        assert!(!is_redis_url("postgres://user:pw@db/"));
        assert!(!is_redis_url("memory"));
    }

    #[test]
    fn a_bad_url_never_shows_its_password() {
        for url in [
            "redis://user:hunter2-secret@exa mple.com:notaport/0",
            "redis://:hunter2-secret@host:6379/0?fallback_replicas=hunter2-secret",
            "mysql://root:hunter2-secret@host/",
            "rediss://:hunter2-secret@host:6380/",
        ] {
            let error = match RedisLimiter::open(url, RedisLimiterOptions::default()) {
                Err(error) => error,
                Ok(_) => panic!("{url} was accepted"),
            };
            assert_eq!(error.kind(), ErrorKind::Url);
            let text = format!("{error} {error:?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn a_url_is_only_read_and_its_replica_count_applies() {
        let limiter = RedisLimiter::open(
            "redis://127.0.0.1:1/?fallback_replicas=7",
            RedisLimiterOptions::default(),
        )
        .unwrap();
        assert_eq!(limiter.options().fallback_replicas, 7);
        assert!(!limiter.is_falling_back(), "nothing tried yet");
        assert_eq!(limiter.stats(), LimiterStats::default());
    }
}
