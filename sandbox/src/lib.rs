//! A local HTTP server that answers like Discord's API v10 does.
//!
//! It serves the 15 endpoints behind the 16 user tools and the 21 routes
//! behind the 21 bot tools (messages, reactions, pins, typing, threads,
//! channels, the guild, its members and direct messages) with bodies shaped
//! as Discord's OpenAPI description says. The bot's guild is state, per
//! sandbox, seeded from the fixtures ([`seed`] names the ids): messages are
//! created, edited, reacted to, pinned and deleted, a nonce sent with
//! `enforce_nonce` deduplicates as on Discord, and
//! [`Sandbox::messages_created`] counts what was really created. It checks
//! tokens and scopes, answers with Discord's error JSON and codes, sends
//! `X-RateLimit-*` headers (and 429s past the limit; a channel's reactions
//! and message creation have buckets of their own, as on Discord), records
//! every request, and gives scripted [`Fault`]s on demand, before or after
//! the request is applied.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use discord_sandbox::{Fault, Sandbox, seed};
//!
//! let sandbox = Sandbox::start().await?;
//! println!("DISCORD_API_BASE={}", sandbox.base_url());
//! sandbox.inject(Fault::status(502).body("<html>").on("/gateway"));
//! // The next message posted to #general is created, then answered with a 500.
//! let path = format!("/channels/{}/messages", seed::GENERAL_CHANNEL_ID);
//! sandbox.inject(Fault::status(500).method("POST").on(path).after_applying());
//! assert_eq!(sandbox.messages_created(seed::GENERAL_CHANNEL_ID), 0);
//! # Ok(())
//! # }
//! ```

mod bot;
mod connection;
mod endpoints;
mod fault;
mod fixtures;
mod oauth;
mod rate_limit;
pub mod seed;
pub mod tokens;
mod widget_png;
mod world;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use connection::{Cut, CuttableListener};
use endpoints::{Endpoint, Reply};
pub use fault::Fault;
use fault::FaultBody;
use fixtures::Fixtures;
pub use oauth::CLIENT_SECRET;
use oauth::OAuthServer;
pub use rate_limit::RateLimitPolicy;
use rate_limit::RateLimiter;
pub use tokens::{Bearer, Grant};
use world::World;

/// The path prefix of Discord's API v10 on the sandbox.
pub const API_PREFIX: &str = "/api/v10";

/// A request as the sandbox received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// When it arrived.
    pub received_at: std::time::Instant,
    /// The method, such as `GET`.
    pub method: String,
    /// The path and query, as sent (still percent-encoded).
    pub path_and_query: String,
    /// Header names (lower case) and values (bytes that are not UTF-8
    /// read as U+FFFD).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// The path, without the query (still percent-encoded).
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The query's name-value pairs, decoded.
    pub fn query(&self) -> Vec<(String, String)> {
        let query = self
            .path_and_query
            .split_once('?')
            .map_or("", |(_, query)| query);
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `X-Audit-Log-Reason` percent-decoded as UTF-8, as Discord reads it.
    pub fn audit_log_reason(&self) -> Option<String> {
        let raw = self.header("x-audit-log-reason")?;
        Some(
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }
}

struct Shared {
    fixtures: Fixtures,
    tokens: Mutex<HashMap<String, Grant>>,
    faults: Mutex<Vec<Fault>>,
    requests: Mutex<Vec<RecordedRequest>>,
    limiter: Mutex<RateLimiter>,
    policy: Mutex<RateLimitPolicy>,
    oauth: Mutex<OAuthServer>,
    rate_limited: std::sync::atomic::AtomicUsize,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    chaos: Mutex<Option<Chaos>>,
    world: Mutex<World>,
}

/// Random faults on a share of requests, for load tests.
struct Chaos {
    rate: f64,
    rng: fastrand::Rng,
}

/// Locks `mutex`, carrying on if a panicking test poisoned it: the data
/// behind every sandbox lock stays consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running sandbox; it stops when dropped.
pub struct Sandbox {
    address: SocketAddr,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl Sandbox {
    /// Starts a sandbox on a free loopback port.
    pub async fn start() -> io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on `address`.
    pub async fn start_on(address: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let fixtures = Fixtures::load();
        let world = World::seed(&fixtures);
        let shared = Arc::new(Shared {
            fixtures,
            tokens: Mutex::new(tokens::initial_tokens()),
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            limiter: Mutex::new(RateLimiter::default()),
            policy: Mutex::new(RateLimitPolicy::default()),
            oauth: Mutex::new(OAuthServer::default()),
            rate_limited: std::sync::atomic::AtomicUsize::new(0),
            connections: Arc::default(),
            chaos: Mutex::new(None),
            world: Mutex::new(world),
        });
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared))
            .into_make_service_with_connect_info::<Cut>();
        let (stop, stopped) = oneshot::channel::<()>();
        let listener = CuttableListener {
            listener,
            accepted: Arc::clone(&shared.connections),
        };
        tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                tracing::warn!(%error, "the Discord sandbox stopped");
            }
        });
        Ok(Self {
            address,
            shared,
            _stop: stop,
        })
    }

    /// How many connections clients have opened to the sandbox so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The address the sandbox listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The value for `DISCORD_API_BASE`, such as `http://127.0.0.1:41234/api/v10`.
    pub fn base_url(&self) -> String {
        format!("http://{}{API_PREFIX}", self.address)
    }

    /// The value for `DISCORD_AUTHORIZE_URL`: the sandbox's authorization
    /// page, which approves every request at once as the sandbox user.
    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth2/authorize", self.address)
    }

    /// How long the access tokens the token endpoint issues from now on live.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        lock(&self.shared.oauth).token_lifetime = lifetime;
    }

    /// Holds every token endpoint answer back by `delay` after the request
    /// has been processed (the pair is issued, the old one is spent).
    pub fn set_token_answer_delay(&self, delay: std::time::Duration) {
        lock(&self.shared.oauth).answer_delay = delay;
    }

    /// Queues a scripted fault; faults are matched in the order injected.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many token requests with `grant_type` (`authorization_code`,
    /// `refresh_token`) reached the sandbox so far.
    pub fn token_requests(&self, grant_type: &str) -> usize {
        let marker = format!("grant_type={grant_type}");
        lock(&self.shared.requests)
            .iter()
            .filter(|request| request.path_and_query.ends_with("/oauth2/token"))
            .filter(|request| String::from_utf8_lossy(&request.body).contains(&marker))
            .count()
    }

    /// The most API requests sent with the `Authorization` value
    /// `authorization` within any one second: what Discord's global limit
    /// (50 per second per bot) is measured against.
    pub fn peak_per_second(&self, authorization: &str) -> usize {
        let mut arrivals: Vec<std::time::Instant> = lock(&self.shared.requests)
            .iter()
            .filter(|request| request.path().starts_with(API_PREFIX))
            .filter(|request| request.header("authorization") == Some(authorization))
            .map(|request| request.received_at)
            .collect();
        arrivals.sort_unstable();
        let second = std::time::Duration::from_secs(1);
        let mut peak = 0;
        let mut first = 0;
        for (last, arrival) in arrivals.iter().enumerate() {
            while arrival.duration_since(arrivals[first]) >= second {
                first += 1;
            }
            peak = peak.max(last + 1 - first);
        }
        peak
    }

    /// Makes `token` valid with `grant` (replacing any grant it had).
    pub fn add_token(&self, token: impl Into<String>, grant: Grant) {
        lock(&self.shared.tokens).insert(token.into(), grant);
    }

    /// How many 429s the sandbox's own rate limiter has answered (scripted
    /// faults not counted).
    pub fn rate_limited_count(&self) -> usize {
        self.shared
            .rate_limited
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Answers a `rate` share of API requests (0 to 1) with a random fault
    /// (500, 502 HTML, 503, short and long 429s, bad JSON, HTML with 200, a
    /// body cut off, a slow answer), drawn from a generator seeded with
    /// `seed`. `None` stops it.
    pub fn set_chaos(&self, rate_and_seed: Option<(f64, u64)>) {
        *lock(&self.shared.chaos) = rate_and_seed.map(|(rate, seed)| Chaos {
            rate,
            rng: fastrand::Rng::with_seed(seed),
        });
    }

    /// Sets how many requests per window each caller gets on each route.
    /// The bot routes with buckets of their own (a channel's reactions: 1
    /// per 250 ms; its message creation: 5 per 5 s) keep them, unless the
    /// policy is [`RateLimitPolicy::OFF`], which turns every limit off.
    pub fn set_rate_limit(&self, policy: RateLimitPolicy) {
        *lock(&self.shared.policy) = policy;
    }

    /// How many messages were really created in channel `channel_id` (a
    /// request answered with an earlier message of the same nonce does not
    /// count; the seeded messages do not either).
    pub fn messages_created(&self, channel_id: &str) -> usize {
        channel_id
            .parse()
            .map_or(0, |channel| lock(&self.shared.world).created(channel))
    }

    /// Message `message_id` of channel `channel_id` as the sandbox holds it
    /// now (as `GET /channels/{channel_id}/messages/{message_id}` answers).
    pub fn message(&self, channel_id: &str, message_id: &str) -> Option<serde_json::Value> {
        let (channel, message) = (channel_id.parse().ok()?, message_id.parse().ok()?);
        lock(&self.shared.world).message(channel, message)
    }
}

/// Who a request authenticates as: `Ok(None)` for no credential,
/// `Err(())` for a credential the sandbox does not accept.
fn caller(shared: &Shared, authorization: Option<&str>) -> Result<Option<Grant>, ()> {
    let Some(authorization) = authorization else {
        return Ok(None);
    };
    let (kind, token) = if let Some(token) = authorization.strip_prefix("Bearer ") {
        (Bearer::User, token)
    } else if let Some(token) = authorization.strip_prefix("Bot ") {
        (Bearer::Bot, token)
    } else {
        return Err(());
    };
    match lock(&shared.tokens).get(token) {
        Some(grant) if grant.kind == kind && grant.is_live() => Ok(Some(grant.clone())),
        _ => Err(()),
    }
}

/// Requests bodies larger than this are refused (Discord's own limit is
/// far above anything these endpoints take).
const MAX_REQUEST_BODY: usize = 1 << 20;

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(cut): ConnectInfo<Cut>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BODY).await else {
        return respond(
            Reply::error(413, 0, "413: Request Entity Too Large"),
            Vec::new(),
        );
    };
    let recorded = RecordedRequest {
        received_at: std::time::Instant::now(),
        method: parts.method.to_string(),
        path_and_query: parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_owned(),
            |value| value.as_str().to_owned(),
        ),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.to_vec(),
    };
    lock(&shared.requests).push(recorded.clone());
    let query = parts.uri.query().unwrap_or_default();
    let authorization = recorded.header("authorization");

    let path = parts.uri.path();
    if path == "/oauth2/authorize" && parts.method == "GET" {
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        return match lock(&shared.oauth).authorize(&query) {
            Ok(location) => Response::builder()
                .status(302)
                .header("location", location)
                .body(Body::empty())
                .unwrap_or_else(|_| Response::new(Body::empty())),
            Err((status, message)) => respond(Reply::error(status, 0, &message), Vec::new()),
        };
    }
    let Some(api_path) = path.strip_prefix(API_PREFIX) else {
        return respond(Reply::not_found(), Vec::new());
    };
    let fault = {
        let mut faults = lock(&shared.faults);
        faults
            .iter_mut()
            .find(|fault| fault.matches(parts.method.as_str(), api_path))
            .map(|fault| {
                fault.times -= 1;
                fault.clone()
            })
    };
    let fault = fault.or_else(|| chaotic_fault(&shared));
    match fault {
        Some(fault) if !fault.after_applying => faulty_response(fault, &cut).await,
        fault => {
            let answer = api(
                &shared,
                &parts.method,
                api_path,
                query,
                authorization,
                &body,
            )
            .await;
            match fault {
                // Applied, then answered with the fault instead.
                Some(fault) => faulty_response(fault, &cut).await,
                None => answer,
            }
        }
    }
}

/// The sandbox's own answer to an API request.
async fn api(
    shared: &Shared,
    method: &http::Method,
    api_path: &str,
    query: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Response {
    if method == "POST" && (api_path == "/oauth2/token" || api_path == "/oauth2/token/revoke") {
        let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        let (status, answer, delay) = {
            let mut oauth = lock(&shared.oauth);
            let mut tokens = lock(&shared.tokens);
            let (status, answer) = if api_path == "/oauth2/token" {
                oauth.token(&form, authorization, &mut tokens)
            } else {
                oauth.revoke(&form, authorization, &mut tokens)
            };
            (status, answer, oauth.answer_delay)
        };
        tokio::time::sleep(delay).await;
        return respond(Reply::json(status, &answer), Vec::new());
    }

    let segments: Vec<String> = api_path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = method.as_str();
    let bot_route = bot::Route::find(&segments);
    let (route, major, own_policy) = match (&bot_route, Endpoint::find(&segments)) {
        (Some(route), _) if route.allows(method) => {
            let bucket = route.bucket(method);
            (bucket.name, bucket.major, bucket.policy)
        }
        (None, Some(endpoint)) if method == "GET" => (endpoint.route(), String::new(), None),
        (Some(_), _) | (_, Some(_)) => {
            return respond(Reply::error(405, 0, "405: Method Not Allowed"), Vec::new());
        }
        (None, None) => return respond(Reply::not_found(), Vec::new()),
    };
    let Ok(grant) = caller(shared, authorization) else {
        return respond(Reply::unauthorized(), Vec::new());
    };

    let caller_id = {
        let mut hasher = DefaultHasher::new();
        authorization.hash(&mut hasher);
        hasher.finish()
    };
    let global = *lock(&shared.policy);
    let policy = match own_policy {
        Some(own) if !global.is_off() => own,
        _ => global,
    };
    let standing = lock(&shared.limiter).admit(policy, route, &major, caller_id);
    if standing.exceeded {
        shared
            .rate_limited
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return respond(
            Reply::rate_limited(standing.reset_after),
            standing.headers(),
        );
    }
    let reply = match (bot_route, Endpoint::find(&segments)) {
        (Some(route), _) => bot::answer(
            &route,
            method,
            grant.as_ref(),
            query,
            body,
            &mut lock(&shared.world),
            &shared.fixtures,
        ),
        (None, Some(endpoint)) => {
            endpoints::answer(&endpoint, grant.as_ref(), query, &shared.fixtures)
        }
        (None, None) => Reply::not_found(),
    };
    respond(reply, standing.headers())
}

/// A random fault, when chaos is on and the draw says so.
fn chaotic_fault(shared: &Shared) -> Option<Fault> {
    let mut chaos = lock(&shared.chaos);
    let chaos = chaos.as_mut()?;
    if chaos.rng.f64() >= chaos.rate {
        return None;
    }
    let rate_limited = |retry_after: f64| {
        Fault::json(429, serde_json::json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false }))
            .header("x-ratelimit-scope", "user")
    };
    Some(match chaos.rng.u8(0..9) {
        0 => Fault::json(
            500,
            serde_json::json!({ "message": "500: Internal Server Error", "code": 0 }),
        ),
        1 => Fault::status(502)
            .header("content-type", "text/html")
            .body("<html>502 Bad Gateway</html>"),
        2 => Fault::status(503),
        3 => rate_limited(0.05),
        4 => rate_limited(60.0),
        5 => Fault::status(200)
            .header("content-type", "application/json")
            .body("{\"truncated\": "),
        6 => Fault::status(200)
            .header("content-type", "text/html")
            .body("<html>maintenance</html>"),
        7 => Fault::status(200)
            .header("content-type", "application/json")
            .broken_off(2048, 64),
        _ => Fault::status(404)
            .header("content-type", "application/json")
            .body(r#"{"message": "Unknown Guild", "code": 10004}"#)
            .delay(std::time::Duration::from_millis(20)),
    })
}

fn respond(reply: Reply, headers: Vec<(String, String)>) -> Response {
    let mut response = Response::builder().status(reply.status);
    if !reply.content_type.is_empty() {
        response = response.header("content-type", reply.content_type);
    }
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response
        .body(Body::from(reply.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Filler for generated bodies.
static FILLER: [u8; 64 * 1024] = [b'x'; 64 * 1024];

async fn faulty_response(fault: Fault, cut: &Cut) -> Response {
    tokio::time::sleep(fault.delay).await;
    let mut response = Response::builder().status(fault.status);
    let body = match fault.body {
        FaultBody::Dropped => {
            // Nothing reaches the client: the connection is closed instead.
            cut.cut();
            return Response::new(Body::empty());
        }
        FaultBody::Bytes(bytes) => Body::from(bytes),
        FaultBody::Sized {
            len,
            content_length,
        } => {
            if content_length {
                response = response.header("content-length", len.to_string());
            }
            Body::from_stream(filler(len, None))
        }
        FaultBody::BrokenOff { promised, sent } => {
            response = response.header("content-length", promised.to_string());
            Body::from_stream(filler(
                sent,
                Some(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "scripted break",
                )),
            ))
        }
    };
    for (name, value) in fault.headers {
        response = response.header(name, value);
    }
    response
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// `len` filler bytes in chunks, then `end` as an error if given.
fn filler(
    len: usize,
    end: Option<io::Error>,
) -> impl futures_util::Stream<Item = io::Result<Bytes>> + Send {
    stream::unfold((len, end), |(remaining, end)| async move {
        if remaining > 0 {
            let chunk = remaining.min(FILLER.len());
            Some((
                Ok(Bytes::from_static(&FILLER[..chunk])),
                (remaining - chunk, end),
            ))
        } else {
            end.map(|error| (Err(error), (0, None)))
        }
    })
}
