//! The wasi-http egress hook: every request an instance sends goes through
//! the shared [`RateLimiter`] (when there is one: the in-process
//! `DiscordLimiter` or one shared by replicas), then out through the shared
//! keep-alive [`EgressPool`] (when there is one). What the answer taught the
//! limiter is stored before the component sees the answer, so the next
//! request, on any replica, knows it.
//!
//! A request the limiter refuses never leaves: the component gets a 429 in
//! Discord's own shape instead ([`refusal_answer`]), which it already turns
//! into a `rate-limited` error with the wait. A failed request would reach
//! the caller as `transport`, read as a network failure and retried at once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::error::{Error, ErrorKind};
use crate::limiter::{IntoRateLimiter, RateLimiter, Refusal};

/// The wasi-http hooks of one instance. Put them in your
/// [`WasiHttpView`](wasmtime_wasi_http::WasiHttpView) to give instances on
/// your own store the same limiter and connection pool.
///
/// Without a pool, each request opens its own connection (wasmtime's
/// `default_send_request`).
#[derive(Clone, Default)]
pub struct EgressHooks {
    limiter: Option<Arc<dyn RateLimiter>>,
    pool: Option<EgressPool>,
}

impl EgressHooks {
    /// Hooks that send through `limiter`.
    pub fn limited(limiter: impl IntoRateLimiter) -> Self {
        Self {
            limiter: Some(limiter.into_rate_limiter()),
            pool: None,
        }
    }

    /// These hooks, sending through `limiter` too.
    pub fn with_limiter(mut self, limiter: impl IntoRateLimiter) -> Self {
        self.limiter = Some(limiter.into_rate_limiter());
        self
    }

    /// These hooks, sending over `pool`'s kept-alive connections.
    pub fn with_pool(mut self, pool: EgressPool) -> Self {
        self.pool = Some(pool);
        self
    }
}

/// How the [`EgressPool`] keeps connections.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// An idle connection is closed after this long.
    pub idle_timeout: Duration,
    /// At most this many idle connections are kept per origin; more
    /// concurrent requests open more connections, closed after use.
    pub max_idle_per_origin: usize,
    /// The longest a new connection (TCP and TLS) may take; a request's own
    /// connect timeout bounds it further.
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(90),
            max_idle_per_origin: 64,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// One keep-alive HTTP client for many instances: requests to the same
/// origin share connections, so a call does not pay a TCP and TLS handshake
/// and sockets do not pile up in TIME_WAIT. HTTPS with rustls and the webpki
/// roots; HTTP/1.1 or HTTP/2 as ALPN settles. Cloning shares the pool.
#[derive(Clone)]
pub struct EgressPool {
    client: Client<HttpsConnector<HttpConnector>, WasiBody>,
}

impl EgressPool {
    /// A pool with `settings`. Needs a tokio runtime when used.
    pub fn new(settings: PoolSettings) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|failure| Error::with_source(ErrorKind::Setup, failure))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.idle_timeout)
            .pool_max_idle_per_host(settings.max_idle_per_origin)
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .timer(hyper_util::rt::TokioTimer::new())
            .build(connector);
        Ok(Self { client })
    }

    /// Sends `request`, honouring its options: the answer's head must come
    /// within the connect plus first-byte timeouts, and each piece of the
    /// body within the between-bytes timeout.
    async fn send(
        &self,
        request: http::Request<WasiBody>,
        options: Option<&RequestOptions>,
    ) -> Answer {
        let option = |pick: fn(&RequestOptions) -> Option<Duration>| {
            options.and_then(pick).unwrap_or(DEFAULT_TIMEOUT)
        };
        let head_within =
            option(|o| o.connect_timeout).saturating_add(option(|o| o.first_byte_timeout));
        let between_bytes = option(|o| o.between_bytes_timeout);
        let response = tokio::time::timeout(head_within, self.client.request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(|failure| client_error(&failure))?;
        let response = response.map(|body| BetweenBytes::new(body, between_bytes).boxed_unsync());
        // The pool drives connections itself: nothing for the caller to await.
        Ok((response, Box::new(async { Ok(()) }) as IoFuture))
    }
}

/// wasi:http's default when a request leaves a timeout unset.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The pooled client's failure as wasi:http names it. Only a failure to
/// connect says the request never left (the component may send it again);
/// anything after that is a protocol error, as wasmtime's own client
/// reports it, since the server may have acted on the request.
fn client_error(failure: &hyper_util::client::legacy::Error) -> HttpError {
    if !failure.is_connect() {
        return HttpError::HttpProtocolError;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(failure);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::TimedOut => HttpError::ConnectionTimeout,
                std::io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
                _ => HttpError::DestinationUnavailable,
            };
        }
        cause = error.source();
    }
    HttpError::DestinationUnavailable
}

/// A response body that fails when no piece of it arrives for
/// `between_bytes` (a server that sends its head, then stalls).
struct BetweenBytes {
    body: hyper::body::Incoming,
    between_bytes: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl BetweenBytes {
    fn new(body: hyper::body::Incoming, between_bytes: Duration) -> Self {
        Self {
            body,
            between_bytes,
            timer: Box::pin(tokio::time::sleep(between_bytes)),
        }
    }
}

impl Body for BetweenBytes {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + self.between_bytes;
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(failure))) => Poll::Ready(Some(Err(HttpError::Hyper(failure)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The header that marks a 429 as the host limiter's, not Discord's; its
/// value is the refusal's class, `invalid-requests` or `would-miss-deadline`.
pub const REFUSAL_HEADER: &str = "x-discord-host-limiter";

/// The `X-RateLimit-Scope` of the host limiter's 429s (Discord's are
/// `user`, `global` and `shared`): the component passes it on in the error's
/// `details`, so a caller can tell the host's refusal from Discord's.
pub const REFUSAL_SCOPE: &str = "host";

/// The limiter's `refusal` as a 429 in the shape Discord sends: `Retry-After`
/// in whole seconds, and a JSON body with `message` and `retry_after` in
/// seconds, marked as the host's by [`REFUSAL_HEADER`] and
/// [`REFUSAL_SCOPE`]. Nothing in it comes from the request, so it carries
/// no token. The limiter never sees this answer, so it is not counted as an
/// invalid request.
pub fn refusal_answer(refusal: &Refusal) -> http::Response<WasiBody> {
    let wait = refusal.retry_after();
    let millis = u64::try_from(wait.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
    let class = match refusal {
        Refusal::InvalidRequests { .. } => "invalid-requests",
        Refusal::WouldMissDeadline { .. } => "would-miss-deadline",
    };
    let body = serde_json::json!({
        "message": format!("The host's Discord limiter refused the request before it was sent: {refusal}"),
        "retry_after": millis as f64 / 1000.0,
        "global": false,
    })
    .to_string();
    http::Response::builder()
        .status(http::StatusCode::TOO_MANY_REQUESTS)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CONTENT_LENGTH, body.len())
        .header(http::header::RETRY_AFTER, millis.div_ceil(1000))
        .header("x-ratelimit-scope", REFUSAL_SCOPE)
        .header(REFUSAL_HEADER, class)
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("a status, fixed header names and numbers make a valid response")
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type Answer = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

/// The longest wait a request's own timeouts allow: the component sets its
/// connect and first-byte timeouts to what is left of the call's deadline.
fn deadline_of(options: Option<&RequestOptions>) -> Option<Duration> {
    let options = options?;
    [options.connect_timeout, options.first_byte_timeout]
        .into_iter()
        .flatten()
        .min()
}

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Answer> + Send> {
        drop(fut);
        let limiter = self.limiter.clone();
        let pool = self.pool.clone();
        Box::new(async move {
            let permit = match &limiter {
                None => None,
                Some(limiter) => {
                    let deadline = deadline_of(options.as_ref())
                        .map(|wait| tokio::time::Instant::now() + wait);
                    let authorization = request
                        .headers()
                        .get(http::header::AUTHORIZATION)
                        .map(|value| value.as_bytes());
                    let acquired = limiter
                        .acquire(
                            authorization,
                            request.method().as_str(),
                            request.uri().path(),
                            deadline,
                        )
                        .await;
                    match acquired {
                        Ok(permit) => Some(permit),
                        Err(refusal) => {
                            tracing::debug!(%refusal, "the Discord limiter refused a request");
                            let nothing_to_drive = Box::new(async { Ok(()) }) as IoFuture;
                            return Ok((refusal_answer(&refusal), nothing_to_drive));
                        }
                    }
                }
            };
            let (response, io) = match &pool {
                Some(pool) => pool.send(request, options.as_ref()).await?,
                None => {
                    let (response, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
                    (
                        response.map(BodyExt::boxed_unsync),
                        Box::new(io) as IoFuture,
                    )
                }
            };
            if let Some(permit) = permit {
                permit
                    .report(response.status().as_u16(), response.headers())
                    .await;
            }
            Ok((response, io))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(answer: http::Response<WasiBody>) -> serde_json::Value {
        let bytes = answer.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_refusal_is_a_429_in_discords_shape_marked_as_the_hosts() {
        let refusal = Refusal::InvalidRequests {
            reason: "7200 invalid Discord requests".to_owned(),
            retry_after: Duration::from_micros(61_234_500),
        };
        let answer = refusal_answer(&refusal);
        assert_eq!(answer.status(), 429);
        let header = |name: &str| answer.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("retry-after"), "62", "whole seconds, rounded up");
        assert_eq!(header("x-ratelimit-scope"), REFUSAL_SCOPE);
        assert_eq!(header(REFUSAL_HEADER), "invalid-requests");
        let length: usize = header("content-length").parse().unwrap();
        let body = body_of(answer).await;
        assert_eq!(body.to_string().len(), length);
        assert_eq!(
            body["retry_after"], 61.235,
            "seconds, to the millisecond above"
        );
        assert_eq!(body["global"], false);
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("7200 invalid Discord requests"),
            "{message}"
        );

        let deadline = refusal_answer(&Refusal::WouldMissDeadline {
            wait: Duration::from_millis(28_905),
        });
        assert_eq!(deadline.headers()[REFUSAL_HEADER], "would-miss-deadline");
        assert_eq!(deadline.headers()["retry-after"], "29");
        assert_eq!(body_of(deadline).await["retry_after"], 28.905);
    }
}
