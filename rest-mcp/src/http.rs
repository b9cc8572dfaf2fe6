//! Requests and answers as plain values, and the error body every refusal
//! shares.

use serde_json::{Value, json};

use crate::contract::{Credential, Error, ErrorKind, kind_name};

/// The largest request body the REST/MCP component reads.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// An incoming request, read by the component shell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query pairs, decoded.
    pub query: Vec<(String, String)>,
    /// Header names in lower case, and values.
    pub headers: Vec<(String, String)>,
    /// The body: at most [`MAX_BODY_BYTES`] plus one byte, so an oversized
    /// body is known without reading it all.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// The credential in `Authorization`: `Bearer …` or `Bot …`, none
    /// without the header.
    pub fn credential(&self) -> Result<Credential, Response> {
        let Some(value) = self.header("authorization") else {
            return Ok(Credential::None);
        };
        let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
        let token = token.trim();
        if token.is_empty() {
            return Err(Response::refusal(
                401,
                ErrorKind::MissingCredential,
                "the Authorization header must be \"Bearer <token>\" or \"Bot <token>\"",
            ));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok(Credential::Bearer(token.to_owned())),
            "bot" => Ok(Credential::Bot(token.to_owned())),
            _ => Err(Response::refusal(
                401,
                ErrorKind::MissingCredential,
                "the Authorization scheme must be Bearer or Bot",
            )),
        }
    }
}

/// An answer to write back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON answer.
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An answer with no body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This answer with one more header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A refusal by the REST/MCP component itself, in the contract's error shape.
    pub fn refusal(status: u16, kind: ErrorKind, message: &str) -> Self {
        Self::json(
            status,
            &json!({"error": {"kind": kind_name(kind), "message": message}}),
        )
    }

    /// The wrong method for a path that takes `allowed`.
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::refusal(
            405,
            ErrorKind::InvalidArguments,
            &format!("this path takes {allowed}"),
        )
        .with_header("allow", allowed)
    }

    /// No such path.
    pub fn not_found() -> Self {
        Self::refusal(404, ErrorKind::NotFound, "no such path")
    }

    /// The component's error as an HTTP answer: the status its kind maps
    /// to, `Retry-After` for a rate limit, `WWW-Authenticate` when a
    /// credential is missing.
    pub fn contract_error(error: &Error) -> Self {
        let status = match error.kind {
            ErrorKind::UnknownTool | ErrorKind::NotFound => 404,
            ErrorKind::InvalidArguments => 400,
            ErrorKind::MissingCredential | ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::RateLimited => 429,
            ErrorKind::Upstream => 502,
            ErrorKind::Transport => 504,
        };
        let mut response = Self::json(status, &json!({"error": error_object(error)}));
        if error.kind == ErrorKind::MissingCredential {
            response = response.with_header("www-authenticate", "Bearer, Bot");
        }
        if let Some(wait) = error.retry_after_ms {
            response = response.with_header("retry-after", wait.div_ceil(1000).to_string());
        }
        response
    }
}

/// The contract's error as a JSON object: `details` parsed into JSON.
pub fn error_object(error: &Error) -> Value {
    let mut object = json!({"kind": kind_name(error.kind), "message": error.message});
    if let Some(status) = error.status {
        object["status"] = json!(status);
    }
    if let Some(code) = error.code {
        object["code"] = json!(code);
    }
    if let Some(details) = &error.details {
        object["details"] =
            serde_json::from_str(details).unwrap_or_else(|_| Value::String(details.clone()));
    }
    if let Some(wait) = error.retry_after_ms {
        object["retry_after_ms"] = json!(wait);
    }
    object
}
