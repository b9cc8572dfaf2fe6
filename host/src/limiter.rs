//! A host-wide Discord rate limiter in the wasi-http egress hook.
//!
//! Component instances are short-lived, so what Discord says about its
//! limits has to be remembered by the host. The limiter sits in
//! [`WasiHttpHooks::send_request`]: it learns each route's bucket from
//! `X-RateLimit-Bucket`, holds a request back while its bucket has no
//! `X-RateLimit-Remaining` left, keeps every credential under Discord's
//! global 50 requests per second, and counts invalid requests (401, 403,
//! 429) over a sliding 10 minutes, refusing new ones before Discord's ban
//! threshold (10,000) is reached.
//!
//! Requests of one bucket go out one at a time, as @discordjs/rest's
//! sequential handler sends them, so a bucket's state is always known
//! before the next request uses it.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::HeaderMap;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// How careful the limiter is.
#[derive(Clone, Copy, Debug)]
pub struct LimiterPolicy {
    /// Requests per second per credential (Discord's global limit is 50).
    pub global_per_second: usize,
    /// Invalid requests (401, 403, 429) tolerated per window before new
    /// requests are refused (Discord bans at 10,000 in 10 minutes).
    pub invalid_limit: usize,
    /// The invalid-request window.
    pub invalid_window: Duration,
    /// Added to every reset time, against clock skew.
    pub reset_margin: Duration,
}

impl Default for LimiterPolicy {
    fn default() -> Self {
        Self {
            global_per_second: 50,
            invalid_limit: 9_000,
            invalid_window: Duration::from_secs(600),
            reset_margin: Duration::from_millis(50),
        }
    }
}

/// What one bucket is known to allow.
#[derive(Default)]
struct Bucket {
    remaining: Option<u64>,
    reset_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Discord's bucket id of each (credential, route), once learned.
    bucket_of_route: HashMap<(u64, String), String>,
    /// Bucket states by (credential, bucket id or route).
    buckets: HashMap<(u64, String), Arc<tokio::sync::Mutex<Bucket>>>,
    /// When each credential's recent requests went out.
    sent: HashMap<u64, VecDeque<Instant>>,
    /// When recent invalid requests came back.
    invalid: VecDeque<Instant>,
}

/// The limiter, shared by every instance of a host.
#[derive(Default)]
pub struct DiscordLimiter {
    policy: LimiterPolicy,
    state: Mutex<State>,
}

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
    key
}

fn credential_of(headers: &HeaderMap) -> u64 {
    let mut hasher = DefaultHasher::new();
    headers
        .get("authorization")
        .map(|value| value.as_bytes())
        .hash(&mut hasher);
    hasher.finish()
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl DiscordLimiter {
    /// A limiter with `policy`.
    pub fn new(policy: LimiterPolicy) -> Self {
        Self {
            policy,
            state: Mutex::default(),
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
        self.forget_old_invalid(&mut state);
        state.invalid.len()
    }

    fn forget_old_invalid(&self, state: &mut State) {
        let now = Instant::now();
        while state
            .invalid
            .front()
            .is_some_and(|at| now.duration_since(*at) > self.policy.invalid_window)
        {
            state.invalid.pop_front();
        }
    }

    fn bucket(&self, credential: u64, route: &str) -> Arc<tokio::sync::Mutex<Bucket>> {
        let mut state = self.state();
        let name = state
            .bucket_of_route
            .get(&(credential, route.to_owned()))
            .cloned()
            .unwrap_or_else(|| format!("route {route}"));
        Arc::clone(state.buckets.entry((credential, name)).or_default())
    }

    /// Waits for a slot under the global per-credential limit.
    async fn global_slot(&self, credential: u64) {
        loop {
            let wait = {
                let mut state = self.state();
                let now = Instant::now();
                let sent = state.sent.entry(credential).or_default();
                while sent
                    .front()
                    .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1))
                {
                    sent.pop_front();
                }
                if sent.len() < self.policy.global_per_second {
                    sent.push_back(now);
                    return;
                }
                Duration::from_secs(1).saturating_sub(now.duration_since(sent[0]))
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends `request` with `send` once its bucket and the global limit
    /// allow, and learns from the answer.
    async fn send<F, Fut>(
        &self,
        method: String,
        path: String,
        headers: HeaderMap,
        send: F,
    ) -> Answer
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        {
            let mut state = self.state();
            self.forget_old_invalid(&mut state);
            if state.invalid.len() >= self.policy.invalid_limit {
                return Err(HttpError::InternalError(Some(format!(
                    "{} invalid Discord requests (401, 403, 429) in the last {} s: new requests are refused until the count falls, to stay clear of Discord's ban",
                    state.invalid.len(),
                    self.policy.invalid_window.as_secs()
                ))));
            }
        }
        let credential = credential_of(&headers);
        let route = route_key(&method, &path);
        let bucket = self.bucket(credential, &route);
        let mut known = bucket.lock().await;
        if known.remaining == Some(0) {
            if let Some(reset_at) = known.reset_at {
                tokio::time::sleep_until(reset_at.into()).await;
            }
            known.remaining = None;
        }
        self.global_slot(credential).await;
        let (response, io) = send().await?;
        self.learn(
            credential,
            &route,
            response.status().as_u16(),
            response.headers(),
            &mut known,
        );
        Ok((response, io))
    }

    fn learn(
        &self,
        credential: u64,
        route: &str,
        status: u16,
        headers: &HeaderMap,
        known: &mut Bucket,
    ) {
        let shared_scope = headers
            .get("x-ratelimit-scope")
            .is_some_and(|scope| scope == "shared");
        let mut state = self.state();
        if matches!(status, 401 | 403) || (status == 429 && !shared_scope) {
            state.invalid.push_back(Instant::now());
        }
        if let Some(id) = headers
            .get("x-ratelimit-bucket")
            .and_then(|value| value.to_str().ok())
        {
            state
                .bucket_of_route
                .insert((credential, route.to_owned()), id.to_owned());
            let name = (credential, id.to_owned());
            if !state.buckets.contains_key(&name) {
                let route_bucket = state
                    .buckets
                    .remove(&(credential, format!("route {route}")));
                state.buckets.insert(name, route_bucket.unwrap_or_default());
            }
        }
        drop(state);
        if let Some(remaining) = header_number(headers, "x-ratelimit-remaining") {
            known.remaining = Some(remaining as u64);
        }
        let reset_after = header_number(headers, "x-ratelimit-reset-after").or_else(|| {
            (status == 429)
                .then(|| header_number(headers, "retry-after"))
                .flatten()
        });
        if let Some(seconds) = reset_after.filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        {
            known.reset_at =
                Some(Instant::now() + Duration::from_secs_f64(seconds) + self.policy.reset_margin);
            if status == 429 {
                known.remaining = Some(0);
            }
        }
    }
}

/// The wasi-http hooks of one instance: every outgoing request goes
/// through the shared limiter, then out on a new connection.
#[derive(Clone, Default)]
pub struct EgressHooks {
    limiter: Option<Arc<DiscordLimiter>>,
}

impl EgressHooks {
    /// Hooks that send through `limiter`.
    pub fn limited(limiter: Arc<DiscordLimiter>) -> Self {
        Self {
            limiter: Some(limiter),
        }
    }
}

type Answer = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = Answer> + Send> {
        drop(fut);
        let limiter = self.limiter.clone();
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        Box::new(async move {
            let send = || async move {
                use http_body_util::BodyExt;
                let (response, io) =
                    wasmtime_wasi_http::default_send_request(request, options).await?;
                Ok((
                    response.map(BodyExt::boxed_unsync),
                    Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ))
            };
            match limiter {
                None => send().await,
                Some(limiter) => limiter.send(method, path, headers, send).await,
            }
        })
    }
}
