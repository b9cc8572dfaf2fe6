//! Turning Discord's answers into tool outputs and typed errors.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind};
use crate::http::{Response, TransportError};

/// The first bytes of every PNG file.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The largest `errors` field passed on as `details`, in bytes; a larger
/// one is summed up instead, so no answer balloons what an agent is handed.
pub const MAX_ERRORS_BYTES: usize = 64 * 1024;

/// What a successful answer carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A JSON document.
    Json,
    /// A PNG image.
    Png,
}

/// A tool's successful result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A JSON document, as Discord sent it.
    Json(String),
    /// Binary content, such as a PNG image.
    Binary {
        /// Its media type, such as `image/png`.
        content_type: String,
        /// The exact bytes.
        data: Vec<u8>,
    },
}

/// Discord's JSON error body: `{"code": 10004, "message": "Unknown Guild"}`,
/// with field `errors` on 400s and `retry_after` / `global` on 429s.
///
/// It borrows from the body: `errors` stays raw JSON text, checked but never
/// built into a tree, which for a large array would take many times the
/// body's size in memory.
#[derive(Debug, Default, Deserialize)]
pub struct ApiError<'a> {
    /// Discord's JSON error code (0 for a plain 401).
    pub code: Option<u32>,
    /// Discord's human-readable message.
    pub message: Option<String>,
    /// Per-field errors, as in "Invalid Form Body" (50035), as raw JSON.
    #[serde(borrow)]
    pub errors: Option<&'a RawValue>,
    /// With 429: seconds to wait.
    pub retry_after: Option<f64>,
    /// With 429: whether the global limit was hit.
    pub global: Option<bool>,
}

/// The tool output for `response`, or the typed error it stands for.
///
/// `secrets` hold the call's token: whatever Discord echoes, it never
/// comes back in an error.
pub fn tool_output(
    expected: OutputKind,
    response: Response,
    secrets: &[&str],
) -> Result<Output, Error> {
    if !(200..300).contains(&response.status) {
        return Err(error_from(&response).redacted(secrets));
    }
    let output = match expected {
        OutputKind::Json => json_output(response),
        OutputKind::Png => png_output(response),
    };
    output.map_err(|error| error.redacted(secrets))
}

fn json_output(response: Response) -> Result<Output, Error> {
    let status = response.status;
    // Discord answers many writes with 204 and no body: a JSON output all
    // the same, an empty object.
    if status == 204 {
        return Ok(Output::Json("{}".to_owned()));
    }
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&response.body) {
        return Err(broken_answer(
            status,
            format!("Discord answered {status} with a body that is not JSON ({error})"),
        ));
    }
    String::from_utf8(response.body)
        .map(Output::Json)
        .map_err(|_| {
            broken_answer(
                status,
                format!("Discord answered {status} with JSON that is not UTF-8"),
            )
        })
}

fn png_output(response: Response) -> Result<Output, Error> {
    let status = response.status;
    let content_type = response.header("content-type").unwrap_or_default();
    let is_png_type = content_type
        .split(';')
        .next()
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("image/png"));
    if !is_png_type || !response.body.starts_with(PNG_SIGNATURE) {
        return Err(broken_answer(
            status,
            format!(
                "Discord answered {status} with {content_type:?} content that is not a PNG image"
            ),
        ));
    }
    Ok(Output::Binary {
        content_type: "image/png".to_owned(),
        data: response.body,
    })
}

/// A `status` answer that is not what it promised: a broken exchange.
pub fn broken_answer(status: u16, message: String) -> Error {
    Error {
        status: Some(status),
        ..TransportError::broken(message).into()
    }
}

/// The typed error for a non-2xx `response`.
pub fn error_from(response: &Response) -> Error {
    let status = response.status;
    let kind = ErrorKind::from_status(status);
    let api_error = serde_json::from_slice::<ApiError>(&response.body).ok();
    let said = match &api_error {
        Some(ApiError {
            message: Some(message),
            code: Some(code),
            ..
        }) => {
            format!(": {message} (code {code})")
        }
        Some(ApiError {
            message: Some(message),
            ..
        }) => format!(": {message}"),
        _ if response.body.is_empty() => " with an empty body".to_owned(),
        _ => " with a body that is not Discord's JSON error".to_owned(),
    };
    let api_error = api_error.unwrap_or_default();
    let retry_after_ms =
        (kind == ErrorKind::RateLimited).then(|| retry_after(response).as_millis() as u64);
    let details = if kind == ErrorKind::RateLimited {
        Some(rate_limit_details(response, &api_error))
    } else {
        api_error.errors.map(errors_details)
    };
    // The host's own limiter answers in Discord's shape, marked with a
    // scope of its own: its message says who refused, and why.
    let refused_by_host =
        kind == ErrorKind::RateLimited && response.header("x-ratelimit-scope") == Some("host");
    let message = match (&api_error.message, refused_by_host) {
        (Some(message), true) => message.clone(),
        _ => format!("Discord answered {status}{said}"),
    };
    Error {
        kind,
        message,
        status: Some(status),
        code: api_error.code,
        details,
        retry_after_ms,
    }
}

/// `errors` as details: as sent when within [`MAX_ERRORS_BYTES`], else
/// `{"truncated":true,"bytes":<its size>}`.
fn errors_details(errors: &RawValue) -> String {
    let raw = errors.get();
    if raw.len() <= MAX_ERRORS_BYTES {
        raw.to_owned()
    } else {
        format!(r#"{{"truncated":true,"bytes":{}}}"#, raw.len())
    }
}

/// The headers of an answer with `status` that this module reads, and so
/// `retry` and [`crate::oauth`] through it: `Content-Type` on a success (for
/// a PNG), Discord's rate-limit headers on a 429, none on anything else. A
/// transport may leave every other header out of such an answer;
/// `tests/properties.rs` holds what answers map to with only these headers
/// to what they map to with all of theirs.
pub fn headers_read(status: u16) -> &'static [&'static str] {
    match status {
        200..=299 => &["content-type"],
        429 => &[
            "retry-after",
            "x-ratelimit-bucket",
            "x-ratelimit-global",
            "x-ratelimit-scope",
        ],
        _ => &[],
    }
}

/// How long a 429 asks to wait: the body's `retry_after` (seconds, with a
/// fraction), else the `Retry-After` header (whole seconds), else one second.
pub fn retry_after(response: &Response) -> Duration {
    let from_body = serde_json::from_slice::<ApiError>(&response.body)
        .ok()
        .and_then(|api_error| api_error.retry_after);
    let seconds = from_body
        .or_else(|| header_seconds(response.header("retry-after")?))
        .filter(|seconds| seconds.is_finite() && (0.0..=86_400.0).contains(seconds))
        .unwrap_or(1.0);
    Duration::from_secs_f64(seconds)
}

/// A `Retry-After` value in seconds: whole, as HTTP writes them, or with a
/// fraction, read as a JSON number (as bytes, like the body's). `f64::from_str`
/// would read a few more forms (`.5`, `5.`, `+0.5`), but it brings about
/// 18 KB of tables and code into the component that nothing else needs.
fn header_seconds(value: &str) -> Option<f64> {
    let value = value.trim();
    match value.parse::<u64>() {
        Ok(whole) => Some(whole as f64),
        Err(_) => serde_json::from_slice(value.as_bytes()).ok(),
    }
}

/// Which limit a 429 hit, from Discord's headers, for an agent to plan with,
/// as a JSON object.
fn rate_limit_details(response: &Response, api_error: &ApiError) -> String {
    /// Its fields in alphabetical order, as `json!` wrote them. A struct
    /// rather than `json!`: the component then serializes no
    /// `serde_json::Value` anywhere, and carries no code for it.
    #[derive(Serialize)]
    struct RateLimit<'a> {
        bucket: Option<&'a str>,
        global: bool,
        scope: &'a str,
    }
    let global =
        api_error.global.unwrap_or(false) || response.header("x-ratelimit-global").is_some();
    let default_scope = if global { "global" } else { "user" };
    let details = RateLimit {
        bucket: response.header("x-ratelimit-bucket"),
        global,
        scope: response
            .header("x-ratelimit-scope")
            .unwrap_or(default_scope),
    };
    serde_json::to_string(&details).expect("strings and booleans serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn json_success_comes_back_as_sent() {
        let output = tool_output(
            OutputKind::Json,
            answer(200, &[], br#"{"url":"wss://x"}"#),
            &[],
        );
        assert_eq!(output.unwrap(), Output::Json(r#"{"url":"wss://x"}"#.into()));
    }

    #[test]
    fn html_with_200_is_a_transport_error() {
        let error = tool_output(OutputKind::Json, answer(200, &[], b"<html>"), &[]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Transport);
        assert_eq!(error.status, Some(200));
    }

    #[test]
    fn png_needs_the_type_and_the_signature() {
        let png = [PNG_SIGNATURE, b"rest"].concat();
        let ok = tool_output(
            OutputKind::Png,
            answer(200, &[("content-type", "image/png")], &png),
            &[],
        );
        assert_eq!(
            ok.unwrap(),
            Output::Binary {
                content_type: "image/png".into(),
                data: png.clone()
            }
        );
        let wrong_type = tool_output(
            OutputKind::Png,
            answer(200, &[("content-type", "text/html")], &png),
            &[],
        );
        assert_eq!(wrong_type.unwrap_err().kind, ErrorKind::Transport);
        let wrong_bytes = tool_output(
            OutputKind::Png,
            answer(200, &[("content-type", "image/png")], b"GIF89a"),
            &[],
        );
        assert_eq!(wrong_bytes.unwrap_err().kind, ErrorKind::Transport);
    }

    #[test]
    fn discord_errors_keep_code_message_and_fields() {
        let body = br#"{"code":50035,"message":"Invalid Form Body","errors":{"limit":{"_errors":[{"code":"NUMBER_TYPE_MAX","message":"too big"}]}}}"#;
        let error = tool_output(OutputKind::Json, answer(400, &[], body), &[]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Upstream);
        assert_eq!(error.code, Some(50035));
        assert_eq!(error.status, Some(400));
        assert_eq!(
            error.message,
            "Discord answered 400: Invalid Form Body (code 50035)"
        );
        assert!(error.details.unwrap().contains("NUMBER_TYPE_MAX"));

        let error = error_from(&answer(
            401,
            &[],
            br#"{"message":"401: Unauthorized","code":0}"#,
        ));
        assert_eq!((error.kind, error.code), (ErrorKind::Unauthorized, Some(0)));
        let error = error_from(&answer(
            404,
            &[],
            br#"{"message":"Unknown Guild","code":10004}"#,
        ));
        assert_eq!((error.kind, error.code), (ErrorKind::NotFound, Some(10004)));
        let error = error_from(&answer(502, &[], b"<html>bad gateway</html>"));
        assert_eq!((error.kind, error.code), (ErrorKind::Upstream, None));
    }

    #[test]
    fn large_field_errors_are_summed_up() {
        let items = vec![r#"{"code":"X"}"#; (1 << 20) / 13 + 1].join(",");
        let errors = format!("[{items}]");
        assert!(errors.len() >= 1 << 20);
        let body = format!(r#"{{"code":50035,"message":"Invalid Form Body","errors":{errors}}}"#);
        let error = error_from(&answer(400, &[], body.as_bytes()));
        assert_eq!(error.code, Some(50035));
        let details = error.details.unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&details).unwrap(),
            serde_json::json!({ "truncated": true, "bytes": errors.len() })
        );
        assert_eq!(
            details,
            format!(r#"{{"truncated":true,"bytes":{}}}"#, errors.len())
        );

        let errors = format!("[{}]", vec!["1"; MAX_ERRORS_BYTES / 2 - 1].join(","));
        assert_eq!(errors.len(), MAX_ERRORS_BYTES - 1);
        let body = format!(r#"{{"message":"Invalid Form Body","errors":{errors}}}"#);
        let error = error_from(&answer(400, &[], body.as_bytes()));
        assert_eq!(error.details.unwrap(), errors, "within the bound, as sent");
    }

    #[test]
    fn broken_answers_say_so() {
        let error = tool_output(OutputKind::Json, answer(200, &[], b"<html>"), &[]).unwrap_err();
        assert_eq!(error.details.as_deref(), Some(r#"{"class":"broken"}"#));
        let error = tool_output(OutputKind::Png, answer(200, &[], b"<html>"), &[]).unwrap_err();
        assert_eq!(error.details.as_deref(), Some(r#"{"class":"broken"}"#));
        assert_eq!(error.status, Some(200));
    }

    #[test]
    fn rate_limits_say_how_long_and_which_limit() {
        let headers = [
            ("x-ratelimit-scope", "shared"),
            ("x-ratelimit-bucket", "abc"),
        ];
        let error = error_from(&answer(
            429,
            &headers,
            br#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#,
        ));
        assert_eq!(error.kind, ErrorKind::RateLimited);
        assert_eq!(error.retry_after_ms, Some(250));
        let details: serde_json::Value = serde_json::from_str(&error.details.unwrap()).unwrap();
        assert_eq!(details["scope"], "shared");
        assert_eq!(details["bucket"], "abc");

        let error = error_from(&answer(429, &[("retry-after", "3")], b""));
        assert_eq!(error.retry_after_ms, Some(3000));
    }

    #[test]
    fn a_refusal_by_the_hosts_limiter_says_it_never_reached_discord() {
        let refused = br#"{"message":"The host's Discord limiter refused the request before it was sent: wait","retry_after":1.5,"global":false}"#;
        let error = error_from(&answer(429, &[("x-ratelimit-scope", "host")], refused));
        assert_eq!(error.kind, ErrorKind::RateLimited);
        assert_eq!(error.retry_after_ms, Some(1500));
        assert!(
            error
                .message
                .starts_with("The host's Discord limiter refused"),
            "{}",
            error.message
        );
        let from_discord = error_from(&answer(429, &[("x-ratelimit-scope", "user")], refused));
        assert!(from_discord.message.starts_with("Discord answered 429"));
    }

    #[test]
    fn echoed_tokens_are_redacted() {
        let body = br#"{"message":"bad token Bot very.secret.token","code":0}"#;
        let error = tool_output(
            OutputKind::Json,
            answer(401, &[], body),
            &["very.secret.token"],
        )
        .unwrap_err();
        assert!(
            !error.message.contains("very.secret.token"),
            "{}",
            error.message
        );
    }
}
