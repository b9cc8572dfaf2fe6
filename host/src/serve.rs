//! Serving a `wasi:http/incoming-handler` component (the REST/MCP component) the way
//! `wasmtime serve` does: pre-linked once, one fresh instance per request,
//! with this host's instance limits, deadline model and egress limiter.
//!
//! No client can stop the server ([`ServeLimits`]): a request head must
//! arrive in time, open connections are capped (the one idle the longest
//! makes room for a new one), a body is read in full, bounded and in time,
//! before the request takes an instance slot, the wait for a slot is
//! bounded, and running out of file descriptors pauses accepting rather
//! than spinning.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use wasmtime::component::InstancePre;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::error::{Error, ErrorKind};
use crate::instance::{InstanceState, PreparedStore, arm_deadline, hard_stop};
use crate::loaded::{Exports, Loaded};

/// A compiled HTTP component and what each request's instance gets, set
/// with the builder [`Loaded`] shares with `Connector`
/// ([`with_env`](Loaded::with_env), [`with_limits`](Loaded::with_limits),
/// [`with_limiter`](Loaded::with_limiter), [`with_pool`](Loaded::with_pool)).
pub type Server = Loaded<ProxyPre<InstanceState>>;

impl Exports for ProxyPre<InstanceState> {
    fn from_pre(pre: InstancePre<InstanceState>) -> Result<Self, Error> {
        ProxyPre::new(pre).map_err(Error::setup)
    }
}

/// Looks at each request's head before the component does, and changes it
/// or answers instead: how a host adds what the component must never hold,
/// such as a connected account's token, which the host keeps.
pub trait RequestHook: Send + Sync {
    /// Changes `head` (its headers, say), or refuses the request.
    fn prepare<'a>(
        &'a self,
        head: &'a mut http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Result<(), HookRefusal>> + Send + 'a>>;
}

/// A hook's answer instead of the component's: a JSON error in the
/// REST/MCP component's shape.
#[derive(Clone, Debug)]
pub struct HookRefusal {
    /// The HTTP status.
    pub status: u16,
    /// The error kind, as the contract names them (`unauthorized`, say).
    pub kind: &'static str,
    /// What went wrong, for the caller; never a token.
    pub message: String,
}

/// What a server allows its clients, so that none can stop it: slow or
/// silent connections, slow bodies and a flood of requests each meet a
/// bound. [`Server::serve`] and [`Server::bind`] use the defaults.
#[derive(Clone, Copy, Debug)]
pub struct ServeLimits {
    /// How long a client has to send a whole request head. The clock
    /// starts when the connection opens and again after each answer (hyper
    /// starts it whenever it begins reading a head), so this is also how
    /// long a keep-alive connection may wait for its next request. Past it
    /// the connection is closed. Default 30 s; at most a day.
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive once its head has;
    /// past it the answer is 408. Default 30 s; at most a day.
    pub body_read_timeout: Duration,
    /// The largest request body read; a larger one is answered 413 without
    /// reading the rest. Default 1 MiB + 64 KiB: a little above the REST/MCP
    /// component's own 1 MiB, so it answers bodies near its limit itself.
    pub max_body_bytes: usize,
    /// Connections open at once. At the cap a new connection closes the
    /// one idle the longest (no request in flight: silent, half-sent head,
    /// or keep-alive between requests); when every one has a request in
    /// flight, the new one is answered 503 and closed. Default 512. At
    /// least 1. The server lowers it to half its open-file limit (soft
    /// `RLIMIT_NOFILE` on Unix), read when it starts and again whenever
    /// accepting runs out of files: making an instance takes files too.
    pub max_connections: usize,
    /// How long a request whose body has arrived waits for an instance
    /// slot ([`InstanceLimits::max_instances`](crate::InstanceLimits));
    /// past it the answer is 503 with `Retry-After: 1`. Default 1 s; at
    /// most a day.
    pub slot_wait: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_body_bytes: (1 << 20) + (64 << 10),
            max_connections: 512,
            slot_wait: Duration::from_secs(1),
        }
    }
}

/// The longest timeout [`ServeLimits`] takes: hyper adds the header
/// timeout to the current instant, which must not overflow.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl ServeLimits {
    /// Refuses limits a server could not keep.
    fn check(&self) -> Result<(), Error> {
        if self.max_connections == 0 {
            return Err(Error::setup(
                "ServeLimits::max_connections is 0: the server could admit no connection",
            ));
        }
        for (name, timeout) in [
            ("header_read_timeout", self.header_read_timeout),
            ("body_read_timeout", self.body_read_timeout),
            ("slot_wait", self.slot_wait),
        ] {
            if timeout > LONGEST_TIMEOUT {
                return Err(Error::setup(format!(
                    "ServeLimits::{name} is {timeout:?}: at most a day ({LONGEST_TIMEOUT:?})"
                )));
            }
        }
        Ok(())
    }
}

/// The wait a saturated server asks for in `Retry-After`, in seconds.
const RETRY_AFTER_SECONDS: u64 = 1;

/// The first pause after a failed accept (out of file descriptors, say)
/// with no idle connection to close; it doubles while failures go on.
const FIRST_ACCEPT_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between accepts that keep failing.
const LONGEST_ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// How long a failed accept waits for the idle connection it closed to
/// give its file descriptor back.
const CLOSE_WAIT: Duration = Duration::from_millis(100);

/// Events less than this apart are one burst, logged once.
const BURST_GAP: Duration = Duration::from_secs(10);

impl Server {
    /// Serves HTTP/1.1 on `listener` with the default [`ServeLimits`] until
    /// the task is dropped.
    pub async fn serve(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_with_limits(listener, ServeLimits::default())
            .await
    }

    /// Serves HTTP/1.1 on `listener` with `limits` until the task is
    /// dropped.
    pub async fn serve_with_limits(
        self,
        listener: TcpListener,
        limits: ServeLimits,
    ) -> Result<(), Error> {
        self.serve_with_hook(listener, limits, None).await
    }

    /// Serves HTTP/1.1 on `listener` with `limits`, each request's head
    /// first through `hook` (when there is one), until the task is dropped.
    pub async fn serve_with_hook(
        self,
        listener: TcpListener,
        limits: ServeLimits,
        hook: Option<Arc<dyn RequestHook>>,
    ) -> Result<(), Error> {
        limits.check()?;
        let env = self.plan.env()?;
        let serving = Arc::new(Serving {
            server: self,
            env,
            limits,
            hook,
        });
        let max_connections = fit_to_file_limit(limits.max_connections);
        if max_connections < limits.max_connections {
            tracing::info!(
                max_connections,
                "serving at most this many connections: half the open-file limit"
            );
        }
        let connections = Arc::new(Connections::new(max_connections));
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let mut failures = AcceptFailures::default();
        let mut refusals = Burst::default();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => {
                    failures.reset();
                    stream
                }
                Err(error) if is_about_one_connection(&error) => continue,
                Err(error) => {
                    failures.pause(&error, &connections).await;
                    continue;
                }
            };
            match connections.admit() {
                Some((open, closing)) => {
                    tokio::spawn(drive(
                        Arc::clone(&serving),
                        http.clone(),
                        stream,
                        open,
                        closing,
                    ));
                }
                None => {
                    if refusals.starts() {
                        tracing::warn!(
                            max_connections = connections.max(),
                            "every open connection has a request in flight: new connections are answered 503 (logged once per burst)"
                        );
                    }
                    refuse(&stream);
                }
            }
        }
    }

    /// Binds `address` and serves on it with the default [`ServeLimits`];
    /// returns the bound address and the serving task.
    pub async fn bind(
        self,
        address: SocketAddr,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<(), Error>>), Error> {
        self.bind_with_limits(address, ServeLimits::default()).await
    }

    /// Binds `address` and serves on it with `limits`; returns the bound
    /// address and the serving task. Limits it could not keep are refused
    /// here, before anything is bound.
    pub async fn bind_with_limits(
        self,
        address: SocketAddr,
        limits: ServeLimits,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<(), Error>>), Error> {
        self.bind_with_hook(address, limits, None).await
    }

    /// Binds `address` and serves on it with `limits` and `hook` (see
    /// [`serve_with_hook`](Self::serve_with_hook)); returns the bound
    /// address and the serving task.
    pub async fn bind_with_hook(
        self,
        address: SocketAddr,
        limits: ServeLimits,
        hook: Option<Arc<dyn RequestHook>>,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<(), Error>>), Error> {
        limits.check()?;
        let listener = TcpListener::bind(address).await.map_err(Error::setup)?;
        let bound = listener.local_addr().map_err(Error::setup)?;
        Ok((
            bound,
            tokio::spawn(self.serve_with_hook(listener, limits, hook)),
        ))
    }
}

/// What every connection of one server shares.
struct Serving {
    server: Server,
    env: Vec<(String, String)>,
    limits: ServeLimits,
    hook: Option<Arc<dyn RequestHook>>,
}

/// Serves one connection until it ends, or until it is closed to make room
/// for another: then a request that began in the meantime is finished
/// first.
async fn drive(
    serving: Arc<Serving>,
    http: http1::Builder,
    stream: TcpStream,
    open: OpenConnection,
    closing: oneshot::Receiver<()>,
) {
    let tracked = open.tracked();
    let service = hyper::service::service_fn(move |request| {
        let in_flight = tracked.begin_request();
        let serving = Arc::clone(&serving);
        async move {
            let response = serving.handle(request).await;
            Ok::<_, std::convert::Infallible>(response.map(|body| CountedBody {
                body,
                _in_flight: in_flight,
            }))
        }
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        outcome = connection.as_mut() => {
            if let Err(error) = outcome {
                tracing::debug!(%error, "a connection ended with an error");
            }
            return;
        }
        _ = closing => {}
    }
    if open.has_request_in_flight() {
        connection.as_mut().graceful_shutdown();
        if let Err(error) = connection.await {
            tracing::debug!(%error, "a connection ended with an error");
        }
    } else {
        tracing::debug!("closed the connection idle the longest to admit another");
    }
}

/// Answers a connection over the cap 503 and closes it, without waiting:
/// the answer is written only if the socket takes it at once.
fn refuse(stream: &TcpStream) {
    let body = error_body(
        "rate-limited",
        "the server has as many connections as it serves, each with a request in flight",
        Some(RETRY_AFTER_SECONDS * 1000),
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {RETRY_AFTER_SECONDS}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// `max_connections` lowered to half the process's soft limit on open
/// files, leaving the other half to instances, egress connections and the
/// cache; at least 1.
fn fit_to_file_limit(max_connections: usize) -> usize {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        if let Some(limit) = limit.and_then(|limit| usize::try_from(limit).ok()) {
            return max_connections.min(limit / 2).max(1);
        }
    }
    max_connections
}

/// Whether a failed accept concerns one connection only (it was gone
/// before it was taken), so accepting the next is right at once.
fn is_about_one_connection(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}

/// Accepts that keep failing for want of a resource (file descriptors,
/// memory): each closes the connection idle the longest, or pauses, longer
/// each time, when none is idle; the first of a burst is logged.
struct AcceptFailures {
    pause: Duration,
    log: Burst,
}

impl Default for AcceptFailures {
    fn default() -> Self {
        Self {
            pause: FIRST_ACCEPT_PAUSE,
            log: Burst::default(),
        }
    }
}

impl AcceptFailures {
    /// After `error`: makes room among the connections, or pauses.
    async fn pause(&mut self, error: &std::io::Error, connections: &Connections) {
        if self.log.starts() {
            tracing::warn!(
                %error,
                "accepting a connection failed: closing idle connections and pausing (logged once per burst)"
            );
        }
        if connections.make_room(CLOSE_WAIT).await {
            return;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_ACCEPT_PAUSE);
    }

    /// A connection was accepted: the next failure starts again from the
    /// shortest pause.
    fn reset(&mut self) {
        self.pause = FIRST_ACCEPT_PAUSE;
    }
}

/// Recurring events, of which only the first of each burst is logged.
#[derive(Default)]
struct Burst {
    last: Option<Instant>,
}

impl Burst {
    /// Records an event; whether it starts a burst (none in the last
    /// [`BURST_GAP`]).
    fn starts(&mut self) -> bool {
        let now = Instant::now();
        let starts = self
            .last
            .is_none_or(|last| now.duration_since(last) > BURST_GAP);
        self.last = Some(now);
        starts
    }
}

/// The open connections of one server, and in which order they went idle
/// (no request in flight), so that the one idle the longest can be closed
/// to admit a new one.
struct Connections {
    state: Mutex<OpenSet>,
    /// Told whenever a connection has closed.
    closed: Notify,
}

struct OpenSet {
    /// The cap on connections not asked to close.
    max: usize,
    next_id: u64,
    /// Orders the moments connections went idle.
    clock: u64,
    entries: HashMap<u64, Entry>,
    /// Idle connections by the moment they went idle: id.
    idle: BTreeMap<u64, u64>,
    /// Connections asked to close that have not closed yet.
    closing: usize,
}

struct Entry {
    in_flight: usize,
    /// When it went idle (on [`OpenSet::clock`]), while it is.
    idle_since: Option<u64>,
    /// Asks its task to close it; taken when it is asked.
    close: Option<oneshot::Sender<()>>,
}

impl OpenSet {
    /// Connections open and not asked to close.
    fn admitted(&self) -> usize {
        self.entries.len() - self.closing
    }

    /// Asks the connection idle the longest to close; whether there was
    /// one.
    fn close_longest_idle(&mut self) -> bool {
        let Some((_, id)) = self.idle.pop_first() else {
            return false;
        };
        let Some(entry) = self.entries.get_mut(&id) else {
            return false;
        };
        entry.idle_since = None;
        if let Some(close) = entry.close.take() {
            let _ = close.send(());
            self.closing += 1;
        }
        true
    }

    fn went_idle(&mut self, id: u64) {
        let at = self.clock;
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.idle_since = Some(at);
            self.idle.insert(at, id);
        }
    }
}

impl Connections {
    fn new(max: usize) -> Self {
        Self {
            state: Mutex::new(OpenSet {
                max,
                next_id: 0,
                clock: 0,
                entries: HashMap::new(),
                idle: BTreeMap::new(),
                closing: 0,
            }),
            closed: Notify::new(),
        }
    }

    fn max(&self) -> usize {
        self.state().max
    }

    fn state(&self) -> MutexGuard<'_, OpenSet> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Admits a new connection, idle until its first request: at the cap,
    /// by closing the connection idle the longest; `None` when every open
    /// one has a request in flight. The receiver fires when the new
    /// connection is asked to close in turn.
    fn admit(self: &Arc<Self>) -> Option<(OpenConnection, oneshot::Receiver<()>)> {
        let mut state = self.state();
        if state.admitted() >= state.max && !state.close_longest_idle() {
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        let (close, closing) = oneshot::channel();
        state.entries.insert(
            id,
            Entry {
                in_flight: 0,
                idle_since: None,
                close: Some(close),
            },
        );
        state.went_idle(id);
        let open = OpenConnection(TrackedConnection {
            connections: Arc::clone(self),
            id,
        });
        Some((open, closing))
    }

    /// Makes room after accepting ran out of files: lowers the cap to half
    /// the open-file limit if that is now lower, closes the connection idle
    /// the longest and as many more as the cap asks, and waits at most
    /// `wait` for one to be gone; whether any was idle.
    async fn make_room(&self, wait: Duration) -> bool {
        let closed = self.closed.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        {
            let mut state = self.state();
            let fitted = fit_to_file_limit(state.max);
            if fitted < state.max {
                tracing::warn!(
                    max_connections = fitted,
                    "the open-file limit is lower than when serving started: lowering the connection cap to half of it"
                );
                state.max = fitted;
            }
            if !state.close_longest_idle() {
                return false;
            }
            while state.admitted() > state.max && state.close_longest_idle() {}
        }
        let _ = tokio::time::timeout(wait, closed).await;
        true
    }
}

/// One connection of [`Connections`], as its requests see it.
#[derive(Clone)]
struct TrackedConnection {
    connections: Arc<Connections>,
    id: u64,
}

impl TrackedConnection {
    /// Counts a request in flight (no longer idle) until the returned
    /// guard is dropped.
    fn begin_request(&self) -> InFlight {
        let mut state = self.connections.state();
        let state = &mut *state;
        if let Some(entry) = state.entries.get_mut(&self.id) {
            entry.in_flight += 1;
            if let Some(since) = entry.idle_since.take() {
                state.idle.remove(&since);
            }
        }
        InFlight(self.clone())
    }
}

/// A request in flight on a connection; dropped when its answer has been
/// written (or given up), which makes the connection idle again.
struct InFlight(TrackedConnection);

impl Drop for InFlight {
    fn drop(&mut self) {
        let TrackedConnection { connections, id } = &self.0;
        let mut state = connections.state();
        let Some(entry) = state.entries.get_mut(id) else {
            return;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if entry.in_flight == 0 && entry.close.is_some() {
            state.went_idle(*id);
        }
    }
}

/// A connection admitted to [`Connections`]; dropped when it has closed.
struct OpenConnection(TrackedConnection);

impl OpenConnection {
    fn tracked(&self) -> TrackedConnection {
        self.0.clone()
    }

    fn has_request_in_flight(&self) -> bool {
        let TrackedConnection { connections, id } = &self.0;
        connections
            .state()
            .entries
            .get(id)
            .is_some_and(|entry| entry.in_flight > 0)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let TrackedConnection { connections, id } = &self.0;
        let mut state = connections.state();
        if let Some(entry) = state.entries.remove(id) {
            if let Some(since) = entry.idle_since {
                state.idle.remove(&since);
            }
            if entry.close.is_none() {
                state.closing -= 1;
            }
        }
        drop(state);
        connections.closed.notify_waiters();
    }
}

/// An answer's body that keeps its request counted in flight until hyper
/// has written it (or given up on it) and dropped it.
struct CountedBody {
    body: HyperOutgoingBody,
    _in_flight: InFlight,
}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(context)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Why a request was answered by the host rather than the component.
enum Refusal {
    /// The body is larger than [`ServeLimits::max_body_bytes`].
    BodyTooLarge { max: usize },
    /// The body did not arrive within [`ServeLimits::body_read_timeout`].
    BodyTooSlow { after: Duration },
    /// The client broke off its body.
    BodyBroken(Box<dyn std::error::Error + Send + Sync>),
    /// No instance slot came free within [`ServeLimits::slot_wait`].
    Saturated { waited: Duration },
    /// The host failed to run the component.
    Host(Error),
    /// The server's [`RequestHook`] answered instead of the component.
    Hook(HookRefusal),
}

impl Refusal {
    /// The answer: a JSON error in the REST/MCP component's shape.
    fn response(&self) -> hyper::Response<HyperOutgoingBody> {
        let close = || vec![("connection", "close".to_owned())];
        let (status, body, headers) = match self {
            Self::BodyTooLarge { max } => (
                413,
                error_body(
                    "invalid-arguments",
                    &format!("the request body is larger than {max} bytes"),
                    None,
                ),
                close(),
            ),
            Self::BodyTooSlow { after } => (
                408,
                error_body(
                    "transport",
                    &format!(
                        "the request body did not arrive within {} ms",
                        after.as_millis()
                    ),
                    None,
                ),
                close(),
            ),
            Self::BodyBroken(error) => (
                400,
                error_body(
                    "transport",
                    &format!("the request body could not be read: {error}"),
                    None,
                ),
                close(),
            ),
            Self::Saturated { waited } => (
                503,
                error_body(
                    "rate-limited",
                    &format!(
                        "every instance slot stayed taken for {} ms; retry after {RETRY_AFTER_SECONDS} s",
                        waited.as_millis()
                    ),
                    Some(RETRY_AFTER_SECONDS * 1000),
                ),
                vec![("retry-after", RETRY_AFTER_SECONDS.to_string())],
            ),
            Self::Host(error) => (
                500,
                error_body("transport", &error.to_string(), None),
                Vec::new(),
            ),
            Self::Hook(refusal) => (
                refusal.status,
                error_body(refusal.kind, &refusal.message, None),
                Vec::new(),
            ),
        };
        let mut response = hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json");
        for (name, value) in headers {
            response = response.header(name, value);
        }
        response
            .body(
                Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )
            .unwrap_or_default()
    }
}

/// `{"error": {"kind", "message", "retry_after_ms"?}}`, as the REST/MCP
/// component writes its errors.
fn error_body(kind: &str, message: &str, retry_after_ms: Option<u64>) -> String {
    let mut error = json!({"kind": kind, "message": message});
    if let Some(wait) = retry_after_ms {
        error["retry_after_ms"] = json!(wait);
    }
    json!({ "error": error }).to_string()
}

impl Serving {
    /// One request: its body read, then run in a fresh instance; anything
    /// the host refuses or fails at is a JSON error, never an empty answer.
    async fn handle(
        &self,
        request: hyper::Request<Incoming>,
    ) -> hyper::Response<HyperOutgoingBody> {
        let request = match self.read_body(request).await {
            Ok(request) => request,
            Err(refusal) => return refusal.response(),
        };
        match self.run(request).await {
            Ok(response) => response,
            Err(refusal) => {
                if let Refusal::Host(error) = &refusal {
                    tracing::warn!(?error, "a request failed in the host");
                }
                refusal.response()
            }
        }
    }

    /// The request with its whole body, read before the request takes an
    /// instance slot, so a slow client holds a connection, never a slot;
    /// then its head through the hook.
    async fn read_body(
        &self,
        request: hyper::Request<Incoming>,
    ) -> Result<hyper::Request<Full<Bytes>>, Refusal> {
        let max = self.limits.max_body_bytes;
        let (mut parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > max as u64) {
            return Err(Refusal::BodyTooLarge { max });
        }
        let after = self.limits.body_read_timeout;
        let collected = tokio::time::timeout(after, Limited::new(body, max).collect())
            .await
            .map_err(|_elapsed| Refusal::BodyTooSlow { after })?;
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<LengthLimitError>() => {
                return Err(Refusal::BodyTooLarge { max });
            }
            Err(error) => return Err(Refusal::BodyBroken(error)),
        };
        if let Some(hook) = &self.hook {
            hook.prepare(&mut parts).await.map_err(Refusal::Hook)?;
        }
        Ok(hyper::Request::from_parts(parts, Full::new(body)))
    }

    async fn run(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Refusal> {
        let server = &self.server;
        let waited = self.limits.slot_wait;
        let PreparedStore {
            mut store,
            slot,
            deadline,
        } = server
            .plan
            .store_within(server.pre.engine(), &self.env, waited)
            .await
            .map_err(Refusal::Host)?
            .ok_or(Refusal::Saturated { waited })?;
        arm_deadline(&mut store, Instant::now() + deadline);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|error| Refusal::Host(Error::setup(error)))?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|error| Refusal::Host(Error::setup(error)))?;
        let pre = server.pre.clone();
        let task = tokio::spawn(async move {
            let _slot = slot;
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(store, incoming, out)
                .await
        });
        let outcome = match tokio::time::timeout(hard_stop(deadline), receiver).await {
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(code))) => Err(Error::setup(format!(
                "the component answered with an error: {code:?}"
            ))),
            Ok(Err(_)) => match task.await {
                Ok(Err(trap)) => Err(Error::from_wasmtime(trap, deadline)),
                _ => Err(Error::setup("the component never set a response")),
            },
            Err(_elapsed) => {
                task.abort();
                Err(Error::new(ErrorKind::Deadline { after: deadline }))
            }
        };
        outcome.map_err(Refusal::Host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_idle_the_longest_makes_room_and_busy_ones_are_kept() {
        let connections = Arc::new(Connections::new(2));
        let (first, mut first_closing) = connections.admit().unwrap();
        let (second, mut second_closing) = connections.admit().unwrap();
        let in_flight = first.tracked().begin_request();
        drop(in_flight);
        // `second` has been idle longer than `first`, which just answered.
        let (third, mut third_closing) = connections.admit().unwrap();
        assert!(second_closing.try_recv().is_ok(), "the longest idle closes");
        assert!(first_closing.try_recv().is_err());
        drop(second);
        let _first_busy = first.tracked().begin_request();
        let _third_busy = third.tracked().begin_request();
        assert!(connections.admit().is_none(), "every connection is busy");
        assert!(first_closing.try_recv().is_err());
        assert!(third_closing.try_recv().is_err());
    }

    #[test]
    fn a_connection_asked_to_close_is_not_counted_against_the_cap() {
        let connections = Arc::new(Connections::new(1));
        let (_first, _first_closing) = connections.admit().unwrap();
        let (second, mut second_closing) = connections.admit().unwrap();
        assert!(
            second_closing.try_recv().is_err(),
            "only the one asked to close goes"
        );
        let _busy = second.tracked().begin_request();
        assert!(connections.admit().is_none());
    }
}
