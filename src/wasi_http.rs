//! The one module that touches the network: a [`Transport`] over
//! `wasi:http/outgoing-handler`, with the call's deadline kept by
//! `wasi:clocks` and `wasi:io/poll`.
//!
//! Every request carries connect, first-byte and between-bytes timeouts as
//! `wasi:http` request options, and the component enforces the call's
//! deadline itself as well, since some hosts ignore those options. The body
//! is read as a stream and abandoned as soon as it passes the size cap.
//!
//! A call does no more `wasi:http` work than it needs: a GET without a body
//! opens no body stream, an answer's body is dropped once read (its
//! trailers are never asked for), and of an answer's headers only those the
//! core reads for its status ([`headers_read`]) are asked for, each by name,
//! unless the caller passes them all on (the proxy).
//!
//! Every failure is classed for the agent: the deadline passing and
//! `wasi:http`'s timeout codes are `TimedOut`, the size cap and the host's
//! size codes `TooLarge`, DNS and connection failures `Unreachable`, and
//! anything else `Broken`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme, http_error_code,
};
use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::{OutputStream, StreamError};

use crate::config::Config;
use crate::http::{Method, Request, Response, Transport, TransportError, TransportFailure};
use crate::response::headers_read;
use crate::uri::{self, Uri};

/// How much of a body one read asks for.
const READ_CHUNK: u64 = 64 * 1024;

/// Sends requests through the host's `wasi:http`, within one call's deadline.
pub struct WasiHttp {
    started: u64,
    deadline: u64,
    max_body_bytes: u64,
    /// Whether answers keep every header, or only those [`headers_read`]
    /// names.
    every_header: bool,
}

impl WasiHttp {
    /// A transport whose deadline starts now, for the core, whose answers
    /// keep only the headers it reads.
    pub fn new(config: &Config) -> Self {
        let started = monotonic_clock::now();
        Self {
            started,
            deadline: started.saturating_add(config.timeout.as_nanos() as u64),
            max_body_bytes: config.max_body_bytes,
            every_header: false,
        }
    }

    /// A transport whose deadline starts now and whose answers keep every
    /// header whose value is text, for the proxy, which passes them on.
    pub fn passing_headers_on(config: &Config) -> Self {
        Self {
            every_header: true,
            ..Self::new(config)
        }
    }

    fn remaining(&self) -> u64 {
        self.deadline.saturating_sub(monotonic_clock::now())
    }

    fn timed_out(&self) -> TransportError {
        let spent = Duration::from_nanos(monotonic_clock::now().saturating_sub(self.started));
        TransportError::new(
            TransportFailure::TimedOut,
            format!(
                "Discord did not answer within the call's deadline ({} ms)",
                // As u64: formatting u128 costs the component 2 KB.
                spent.as_millis() as u64
            ),
        )
    }

    /// Waits until `pollable` is ready; `false` when the deadline came first.
    fn wait(&self, pollable: &Pollable) -> bool {
        let deadline = monotonic_clock::subscribe_instant(self.deadline);
        poll(&[pollable, &deadline]).contains(&0)
    }

    fn outgoing(&self, request: &Request) -> Result<OutgoingRequest, TransportError> {
        let Some(Uri::Absolute(url)) = uri::parse(&request.url) else {
            return Err(TransportError::broken("the request URL is not valid"));
        };
        let entries: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
            .collect();
        let fields = Fields::from_list(&entries)
            .map_err(|error| TransportError::broken(format!("a header was refused ({error:?})")))?;
        let outgoing = OutgoingRequest::new(fields);
        let method = match request.method {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
            Method::Put => WasiMethod::Put,
            Method::Patch => WasiMethod::Patch,
            Method::Delete => WasiMethod::Delete,
        };
        let scheme = match url.scheme {
            "http" => Scheme::Http,
            _ => Scheme::Https,
        };
        outgoing
            .set_method(&method)
            .and_then(|()| outgoing.set_scheme(Some(&scheme)))
            .and_then(|()| outgoing.set_authority(Some(url.authority)))
            .and_then(|()| outgoing.set_path_with_query(Some(url.path_and_query)))
            .map_err(|()| TransportError::broken("the host refused the request line"))?;
        Ok(outgoing)
    }

    fn options(&self) -> RequestOptions {
        let options = RequestOptions::new();
        let remaining = Some(self.remaining());
        // A host that does not support an option says so; the deadline
        // below still holds.
        let _ = options.set_connect_timeout(remaining);
        let _ = options.set_first_byte_timeout(remaining);
        let _ = options.set_between_bytes_timeout(remaining);
        options
    }

    fn read_body(
        &self,
        body: &IncomingBody,
        declared_length: Option<u64>,
    ) -> Result<Vec<u8>, TransportError> {
        if declared_length.is_some_and(|length| length > self.max_body_bytes) {
            return Err(self.too_large());
        }
        let stream = body
            .stream()
            .map_err(|()| TransportError::broken("the answer's body was already taken"))?;
        let mut data = Vec::new();
        loop {
            match stream.read(READ_CHUNK) {
                Ok(chunk) if chunk.is_empty() => {
                    if !self.wait(&stream.subscribe()) {
                        return Err(self.timed_out());
                    }
                }
                Ok(chunk) => {
                    if data.len() as u64 + chunk.len() as u64 > self.max_body_bytes {
                        return Err(self.too_large());
                    }
                    data.extend_from_slice(&chunk);
                }
                Err(StreamError::Closed) => return Ok(data),
                Err(error) => {
                    return Err(stream_failure(
                        error,
                        &format!("Discord's answer broke off after {} bytes", data.len()),
                    ));
                }
            }
        }
    }

    /// Writes `bytes` as fast as the host takes them, never waiting past
    /// the deadline: a server that does not read cannot hold the call.
    fn write_body(&self, stream: &OutputStream, bytes: &[u8]) -> Result<(), TransportError> {
        let failed = |error| stream_failure(error, "the request body could not be written");
        let mut rest = bytes;
        loop {
            let ready = stream.check_write().map_err(failed)?;
            if ready == 0 {
                if !self.wait(&stream.subscribe()) {
                    return Err(self.timed_out());
                }
                continue;
            }
            if rest.is_empty() {
                return Ok(());
            }
            let (now, later) = rest.split_at(rest.len().min(ready as usize));
            stream.write(now).map_err(failed)?;
            rest = later;
            if rest.is_empty() {
                // Flushed once everything is written; the next check waits
                // for the flush to complete.
                stream.flush().map_err(failed)?;
            }
        }
    }

    fn too_large(&self) -> TransportError {
        TransportError::new(
            TransportFailure::TooLarge,
            format!(
                "Discord's answer is larger than the {} byte cap",
                self.max_body_bytes
            ),
        )
    }
}

/// The first value of the header `name` that is text: what
/// [`Response::header`] finds among every header whose value is text.
fn first_text(fields: &Fields, name: &str) -> Option<String> {
    for value in fields.get(name) {
        if let Ok(text) = String::from_utf8(value) {
            return Some(text);
        }
    }
    None
}

/// The class of a `wasi:http` error code: whether waiting longer, trying
/// again, or neither could help.
fn class_of(code: &ErrorCode) -> TransportFailure {
    match code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportFailure::TimedOut,
        ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached => TransportFailure::Unreachable,
        ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::HttpResponseBodySize(_)
        | ErrorCode::HttpResponseTrailerSectionSize(_)
        | ErrorCode::HttpResponseTrailerSize(_) => TransportFailure::TooLarge,
        _ => TransportFailure::Broken,
    }
}

/// A failed body stream, classed by the `wasi:http` error code behind it
/// (a between-bytes timeout, a reset) when the host gives one.
fn stream_failure(error: StreamError, what: &str) -> TransportError {
    match error {
        StreamError::Closed => TransportError::broken(format!("{what} (the stream closed)")),
        StreamError::LastOperationFailed(error) => match http_error_code(&error) {
            Some(code) => TransportError::new(class_of(&code), format!("{what} ({code:?})")),
            None => TransportError::broken(format!("{what} ({})", error.to_debug_string())),
        },
    }
}

/// A `wasi:http` error code as a failure of its class.
fn failure_of(code: ErrorCode) -> TransportError {
    let failure = class_of(&code);
    let message = match code {
        ErrorCode::InternalError(Some(message)) => {
            format!("the host refused the request: {message}")
        }
        other => format!("no answer from Discord ({other:?})"),
    };
    TransportError::new(failure, message)
}

impl Transport for WasiHttp {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        if self.remaining() == 0 {
            return Err(self.timed_out());
        }
        let outgoing = self.outgoing(request)?;
        // A GET without a body opens no body stream: the host sends it with
        // no body, as it sends a GET whose body stream is empty (hyper
        // frames a GET of unknown length as empty). Other methods keep their
        // stream, empty or not, so that the host frames them as before:
        // Discord's front end answers 411 to a PUT or POST that has neither
        // a length nor chunks.
        let body = if request.method == Method::Get && request.body.is_none() {
            None
        } else {
            Some(
                outgoing
                    .body()
                    .map_err(|()| TransportError::broken("the request body was already taken"))?,
            )
        };
        let pending =
            outgoing_handler::handle(outgoing, Some(self.options())).map_err(failure_of)?;
        if let Some(body) = body {
            if let Some(bytes) = &request.body {
                let stream = body.write().map_err(|()| {
                    TransportError::broken("the request body stream was already taken")
                })?;
                self.write_body(&stream, bytes)?;
            }
            OutgoingBody::finish(body, None).map_err(failure_of)?;
        }

        let answer = loop {
            match pending.get() {
                Some(Ok(result)) => break result.map_err(failure_of)?,
                Some(Err(())) => {
                    return Err(TransportError::broken("the answer was already taken"));
                }
                None if !self.wait(&pending.subscribe()) => return Err(self.timed_out()),
                None => {}
            }
        };
        let status = answer.status();
        let (headers, declared_length) = {
            let fields = answer.headers();
            let mut headers = Vec::new();
            if self.every_header {
                for (name, value) in fields.entries() {
                    if let Ok(value) = String::from_utf8(value) {
                        headers.push((name.to_ascii_lowercase(), value));
                    }
                }
            } else {
                for &name in headers_read(status) {
                    if let Some(value) = first_text(&fields, name) {
                        headers.push((String::from(name), value));
                    }
                }
            }
            let declared_length =
                first_text(&fields, "content-length").and_then(|value| value.trim().parse().ok());
            (headers, declared_length)
        };
        let body = answer
            .consume()
            .map_err(|()| TransportError::broken("the answer's body was already taken"))?;
        let data = self.read_body(&body, declared_length)?;
        Ok(Response {
            status,
            headers,
            body: data,
        })
    }

    fn sleep(&mut self, duration: Duration) {
        let nanos = (duration.as_nanos() as u64).min(self.remaining());
        monotonic_clock::subscribe_duration(nanos).block();
    }

    fn elapsed(&self) -> Duration {
        Duration::from_nanos(monotonic_clock::now().saturating_sub(self.started))
    }

    fn jitter(&mut self) -> f64 {
        (wasip2::random::random::get_random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn fill_random(&mut self, bytes: &mut [u8]) {
        // Eight bytes at a time, so that every byte is filled whatever
        // length a host would give for a list.
        for chunk in bytes.chunks_mut(8) {
            let random = wasip2::random::random::get_random_u64().to_le_bytes();
            chunk.copy_from_slice(&random[..chunk.len()]);
        }
    }
}
