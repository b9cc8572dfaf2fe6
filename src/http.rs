//! Plain HTTP values: what the core asks to send and what comes back.
//!
//! The core builds a [`Request`] and maps a [`Response`]; only a
//! [`Transport`] moves them, so everything else is testable natively.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::credential::Credential;
use crate::error::{Error, ErrorKind};

/// The `User-Agent` Discord asks API clients to send.
pub const USER_AGENT: &str = concat!(
    "DiscordBot (",
    env!("CARGO_PKG_REPOSITORY"),
    ", ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// An HTTP method the connector sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        })
    }
}

/// A request ready to send: an absolute URL, headers and an optional body.
///
/// `Debug` leaves out header values: one of them may be a token.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL, already percent-encoded.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body, for methods that take one.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A request with Discord's `User-Agent`, `Accept: application/json` and
    /// the `Authorization` header `credential` calls for (none for
    /// [`Credential::None`]).
    pub fn new(method: Method, url: String, credential: &Credential) -> Self {
        let mut headers = vec![
            ("user-agent".to_owned(), USER_AGENT.to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        if let Some(authorization) = credential.authorization() {
            headers.push(("authorization".to_owned(), authorization));
        }
        Self {
            method,
            url,
            headers,
            body: None,
        }
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// An answer from Discord, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Why no usable answer came, in the categories of `wasi:http`'s
/// `error-code` that matter for deciding what to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// Nothing answered: DNS, connect refused or reset before a response.
    /// Safe to retry an idempotent request.
    Unreachable,
    /// The connect, first-byte, between-bytes or per-call deadline passed.
    TimedOut,
    /// The body grew past the size cap.
    TooLarge,
    /// The exchange broke in a way a retry would not mend (protocol error,
    /// a host refusal, a body cut off mid-way).
    Broken,
}

/// A request that got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    /// What kind of failure.
    pub failure: TransportFailure,
    /// What happened, for a person.
    pub message: String,
}

impl TransportError {
    /// A failure of `failure` kind, described by `message`.
    pub fn new(failure: TransportFailure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }

    /// A [`TransportFailure::Broken`] exchange, described by `message`.
    pub fn broken(message: impl Into<String>) -> Self {
        Self::new(TransportFailure::Broken, message)
    }
}

/// The one way a `transport` error is made: its `details` name the failure's
/// class, `{"class":"timeout"}` (or `too-large`, `unreachable`, `broken`),
/// so an agent can tell waiting from retrying from giving up.
impl From<TransportError> for Error {
    fn from(error: TransportError) -> Self {
        let class = match error.failure {
            TransportFailure::TimedOut => "timeout",
            TransportFailure::TooLarge => "too-large",
            TransportFailure::Unreachable => "unreachable",
            TransportFailure::Broken => "broken",
        };
        Error {
            // A plain word: nothing to escape, and no `serde_json::Value` to build.
            details: Some(format!(r#"{{"class":"{class}"}}"#)),
            ..Error::new(ErrorKind::Transport, error.message)
        }
    }
}

/// Sends a [`Request`] and returns Discord's [`Response`], and keeps the
/// call's time: retries wait through it and stop at its deadline.
///
/// The component implements it over `wasi:http` and `wasi:clocks`; tests
/// implement it with a script of answers and a pretend clock.
pub trait Transport {
    /// Sends `request`; an `Err` means no usable answer came.
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;

    /// Waits `duration` before the next attempt.
    fn sleep(&mut self, duration: Duration);

    /// Time spent on this call so far.
    fn elapsed(&self) -> Duration;

    /// A random number in `[0, 1)` to spread retries (jitter).
    fn jitter(&mut self) -> f64;

    /// Fills `bytes` with random bytes, unpredictable enough for a message
    /// nonce that must not repeat.
    fn fill_random(&mut self, bytes: &mut [u8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_name_their_class() {
        let cases = [
            (TransportFailure::TimedOut, r#"{"class":"timeout"}"#),
            (TransportFailure::TooLarge, r#"{"class":"too-large"}"#),
            (TransportFailure::Unreachable, r#"{"class":"unreachable"}"#),
            (TransportFailure::Broken, r#"{"class":"broken"}"#),
        ];
        for (failure, details) in cases {
            let error = Error::from(TransportError::new(failure, "no answer"));
            assert_eq!(error.kind, ErrorKind::Transport);
            assert_eq!(error.message, "no answer");
            assert_eq!(error.details.as_deref(), Some(details), "{failure:?}");
            assert_eq!((error.status, error.code), (None, None));
        }
        assert_eq!(
            TransportError::broken("x"),
            TransportError::new(TransportFailure::Broken, "x")
        );
    }
}
