//! Scripted faults: answers the sandbox gives instead of Discord's, for
//! testing how the connector copes with a misbehaving provider.

use std::time::Duration;

/// What a fault's body is.
#[derive(Clone, Debug)]
pub(crate) enum FaultBody {
    /// These exact bytes.
    Bytes(Vec<u8>),
    /// `len` filler bytes, streamed, with or without a `Content-Length`.
    Sized { len: usize, content_length: bool },
    /// A `Content-Length` of `promised`, then `sent` bytes, then the
    /// connection is dropped.
    BrokenOff { promised: usize, sent: usize },
    /// No answer at all: the connection is closed.
    Dropped,
}

/// One scripted answer, given to the next `times` requests whose path
/// (under the API base) starts with `path_prefix` (and whose method is
/// `method`, when given). By default the request is not processed; with
/// [`Fault::after_applying`] it is (a message is created, an edit is
/// applied) and the fault replaces the answer.
///
/// ```
/// use discord_sandbox::Fault;
/// use std::time::Duration;
///
/// let fault = Fault::status(502)
///     .body("<html>Bad gateway</html>")
///     .header("content-type", "text/html")
///     .on("/gateway")
///     .times(2)
///     .delay(Duration::from_millis(50));
/// # let _ = fault;
/// // The message is created, then the client gets a 500 ...
/// let created_then_500 = Fault::json(500, serde_json::json!({ "message": "500: Internal Server Error", "code": 0 }))
///     .method("POST")
///     .on("/channels/1144100425000000001/messages")
///     .after_applying();
/// // ... or the edit is applied, then the connection is closed unanswered.
/// let edited_then_dropped = Fault::dropped()
///     .method("PATCH")
///     .on("/channels/1144100425000000001/messages/")
///     .after_applying();
/// # let _ = (created_then_500, edited_then_dropped);
/// ```
#[derive(Clone, Debug)]
pub struct Fault {
    pub(crate) path_prefix: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) after_applying: bool,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: FaultBody,
    pub(crate) delay: Duration,
    pub(crate) times: usize,
}

impl Fault {
    /// An answer with `status` and an empty body, given once.
    pub fn status(status: u16) -> Self {
        Self {
            path_prefix: None,
            method: None,
            after_applying: false,
            status,
            headers: Vec::new(),
            body: FaultBody::Bytes(Vec::new()),
            delay: Duration::ZERO,
            times: 1,
        }
    }

    /// A JSON answer: `status` and `body` with `content-type: application/json`.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::status(status)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// No answer: the connection is closed without a status line.
    pub fn dropped() -> Self {
        let mut fault = Self::status(0);
        fault.body = FaultBody::Dropped;
        fault
    }

    /// Only for requests with `method` (such as `POST`).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Processes the request as usual first (whatever it changes stays
    /// changed), then gives this answer instead of the sandbox's.
    pub fn after_applying(mut self) -> Self {
        self.after_applying = true;
        self
    }

    /// Only for requests whose path under the API base starts with `prefix`.
    pub fn on(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// These exact body bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = FaultBody::Bytes(body.into());
        self
    }

    /// A body of `len` filler bytes, streamed in chunks, announced by a
    /// `Content-Length` when `content_length` is true, chunked otherwise.
    pub fn sized_body(mut self, len: usize, content_length: bool) -> Self {
        self.body = FaultBody::Sized {
            len,
            content_length,
        };
        self
    }

    /// Promises `promised` bytes, sends `sent` of them, then drops the connection.
    pub fn broken_off(mut self, promised: usize, sent: usize) -> Self {
        self.body = FaultBody::BrokenOff { promised, sent };
        self
    }

    /// Adds a header (after the sandbox's own, so it wins).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Gives this answer to `times` requests (default 1).
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self.method.as_deref().is_none_or(|only| only == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| path.starts_with(prefix))
    }
}
