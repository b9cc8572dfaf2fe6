//! The loopback redirect listener of a native OAuth client (RFC 8252):
//! `http://127.0.0.1:PORT/callback` waits for Discord's redirect with the
//! link's state.
//!
//! It is built to be safe against whatever else reaches the port: each
//! connection must send its request head within a few seconds, a redirect
//! with another state is answered and ignored (it cannot abort the flow),
//! only short, plain text from the query is kept, and returning drops every
//! connection still open instead of waiting for it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, ErrorKind};

/// How long a connection may take to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest value kept from the query; Discord's codes and states are
/// far shorter.
const MAX_VALUE: usize = 512;

/// What the redirect carried, with only printable ASCII kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Callback {
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The state the link sent.
    pub state: Option<String>,
    /// The OAuth error name, when the user or Discord refused.
    pub error: Option<String>,
}

impl Callback {
    /// The redirect's query, keeping `code`, `state` and `error` when they
    /// are short and hold no control or non-ASCII characters.
    fn from_query(query: &str) -> Self {
        let mut callback = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let plain = value.len() <= MAX_VALUE && value.bytes().all(|b| b.is_ascii_graphic());
            let value = plain.then(|| value.into_owned());
            match name.as_ref() {
                "code" => callback.code = value,
                "state" => callback.state = value,
                "error" => callback.error = value,
                _ => {}
            }
        }
        callback
    }
}

/// A listener bound to a loopback port, waiting for one redirect.
pub struct CallbackListener {
    listener: TcpListener,
}

impl CallbackListener {
    /// Binds `127.0.0.1:port` (0 picks a free port).
    pub async fn bind(port: u16) -> Result<Self, Error> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|error| Error::with_source(ErrorKind::Redirect, error))?;
        Ok(Self { listener })
    }

    /// The redirect URI to register and to put in the link.
    pub fn redirect_uri(&self) -> Result<String, Error> {
        let address = self
            .listener
            .local_addr()
            .map_err(|error| Error::with_source(ErrorKind::Redirect, error))?;
        Ok(format!("http://{address}/callback"))
    }

    /// Serves until a `/callback` request carries `state` (or `timeout`
    /// passes), answers the browser with a short page, and returns what the
    /// redirect carried. Requests with another state are answered and
    /// ignored.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<Callback, Error> {
        let (sender, mut received) = mpsc::channel::<Callback>(16);
        let mut connections = JoinSet::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let sender = sender.clone();
                    let expected = state.to_owned();
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let sender = sender.clone();
                            let expected = expected.clone();
                            async move { Ok::<_, Infallible>(answer(request, &expected, &sender)) }
                        });
                        let _ = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .keep_alive(false)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(callback) = received.recv() => return Ok(callback),
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Err(Error::with_source(
                        ErrorKind::Redirect,
                        "no redirect with the link's state reached the callback listener in time",
                    ));
                }
            }
        }
    }
}

/// The page for one request, and the callback passed on when it carries
/// the expected state.
fn answer(
    request: Request<Incoming>,
    expected: &str,
    sender: &mpsc::Sender<Callback>,
) -> Response<Full<Bytes>> {
    let page = |status, title: &str, text: &str| {
        let body = format!("<!doctype html><title>{title}</title><p>{text}</p>");
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            "content-type",
            "text/html; charset=utf-8".parse().expect("a header value"),
        );
        response
    };
    if request.uri().path() != "/callback" {
        return page(StatusCode::NOT_FOUND, "Not found", "Nothing here.");
    }
    let callback = Callback::from_query(request.uri().query().unwrap_or_default());
    if callback.state.as_deref() != Some(expected) {
        return page(
            StatusCode::BAD_REQUEST,
            "Not this link",
            "This redirect is not for the link being completed. You can close this window.",
        );
    }
    let connected = callback.code.is_some();
    let _ = sender.try_send(callback);
    if connected {
        page(
            StatusCode::OK,
            "Connected",
            "Discord is connected. You can close this window.",
        )
    } else {
        page(
            StatusCode::OK,
            "Not connected",
            "The authorization did not complete. You can close this window.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_values_are_kept() {
        let callback = Callback::from_query("code=abc&state=s1&error=access_denied&x=y");
        assert_eq!(callback.code.as_deref(), Some("abc"));
        assert_eq!(callback.state.as_deref(), Some("s1"));
        assert_eq!(callback.error.as_deref(), Some("access_denied"));
        let hostile = Callback::from_query("error=%1B%5B2J%1B%5D0%3Bowned%07&state=%C3%A9");
        assert_eq!(hostile.error, None, "terminal escapes are dropped");
        assert_eq!(hostile.state, None);
        let long = format!("code={}", "a".repeat(MAX_VALUE + 1));
        assert_eq!(Callback::from_query(&long).code, None);
    }
}
