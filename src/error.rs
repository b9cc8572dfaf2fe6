//! The one error type every export returns, mirroring the contract's
//! `types.error` record so the component shell converts it field by field.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::query;

/// What went wrong, as the contract's `error-kind` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No tool has that name.
    UnknownTool,
    /// Arguments are not a JSON object or break the tool's input schema.
    InvalidArguments,
    /// The tool needs a kind of credential the call did not bring.
    MissingCredential,
    /// HTTP 401: the token is missing, expired or revoked.
    Unauthorized,
    /// HTTP 403: the token lacks a scope or permission.
    Forbidden,
    /// HTTP 404: the object does not exist or is not visible.
    NotFound,
    /// HTTP 429 that the component would not wait out.
    RateLimited,
    /// Any other answer from Discord that is not a success.
    Upstream,
    /// No usable answer: connect, TLS, timeout, oversized or malformed body.
    Transport,
}

impl ErrorKind {
    /// The kind an HTTP error status maps to.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            429 => Self::RateLimited,
            _ => Self::Upstream,
        }
    }
}

/// A failed call: the kind, one readable sentence, and what Discord said.
///
/// The message never holds a token: errors built from Discord's answers go
/// through [`redact`] with the call's secret before they leave the crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// One sentence for a person or an agent.
    pub message: String,
    /// Discord's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Discord's JSON error code, when it sent one.
    pub code: Option<u32>,
    /// Discord's field errors or other details, as JSON text.
    pub details: Option<String>,
    /// With [`ErrorKind::RateLimited`]: how long to wait before trying again.
    pub retry_after_ms: Option<u64>,
}

impl Error {
    /// An error with only a kind and a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            code: None,
            details: None,
            retry_after_ms: None,
        }
    }

    /// Arguments that break the tool's schema.
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArguments, message)
    }

    /// Adds `entries` to `details` as JSON booleans, keeping what it held: a
    /// transport error's class, Discord's field errors (an object; anything
    /// else is kept under `errors`), or nothing.
    pub fn with_details(mut self, entries: &[(&str, bool)]) -> Self {
        let mut object = match self.details.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(object))) => object,
            Some(Ok(other)) => {
                let mut object = Map::new();
                object.insert("errors".to_owned(), other);
                object
            }
            Some(Err(_)) | None => Map::new(),
        };
        for (name, value) in entries {
            object.insert((*name).to_owned(), Value::Bool(*value));
        }
        self.details = Some(Value::Object(object).to_string());
        self
    }

    /// Replaces every occurrence of each of `secrets`, in each form
    /// [`redact`] knows, in the message and details.
    pub fn redacted(mut self, secrets: &[&str]) -> Self {
        self.message = redact(&self.message, secrets);
        self.details = self.details.map(|details| redact(&details, secrets));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

/// What stands in for a secret in text that leaves the component.
pub const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`],
/// whether written as is, JSON-escaped (as inside a JSON string), or
/// percent-encoded (with `%20` or `+` for a space).
///
/// Discord sometimes echoes what it was sent, in whichever of those forms it
/// was sent or it writes; this is the last gate before such text reaches an
/// agent or a log.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut forms: Vec<String> = secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .flat_map(|secret| forms_of(secret))
        .collect();
    longest_first(&mut forms);
    forms.dedup();
    forms.iter().fold(text.to_owned(), |text, form| {
        if text.contains(form.as_str()) {
            text.replace(form.as_str(), REDACTED)
        } else {
            text
        }
    })
}

/// Sorts `forms` longest first, so that no form leaves part of a longer one
/// behind, and forms of one length in byte order: the order is total, so
/// any sort gives the same. An insertion sort, as the forms are a handful:
/// `sort_unstable_by`, made for large slices, would bring the component
/// 4 KB of code.
fn longest_first(forms: &mut [String]) {
    let before = |a: &String, b: &String| a.len() > b.len() || (a.len() == b.len() && a < b);
    for sorted in 1..forms.len() {
        let mut at = sorted;
        while at > 0 && before(&forms[at], &forms[at - 1]) {
            forms.swap(at, at - 1);
            at -= 1;
        }
    }
}

/// The ways `secret` may be written in text that echoes it.
fn forms_of(secret: &str) -> [String; 4] {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|json| json.strip_suffix('"'))
        .unwrap_or(secret);
    let percent = query::encode(secret);
    let plus = percent.replace("%20", "+");
    [secret.to_owned(), json.to_owned(), percent, plus]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Unauthorized);
        assert_eq!(ErrorKind::from_status(403), ErrorKind::Forbidden);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimited);
        assert_eq!(ErrorKind::from_status(400), ErrorKind::Upstream);
        assert_eq!(ErrorKind::from_status(502), ErrorKind::Upstream);
    }

    #[test]
    fn redaction_removes_every_copy_of_the_secret() {
        let error = Error::new(ErrorKind::Transport, "token abc.def in abc.def")
            .redacted(&["abc.def", "in"])
            .to_string();
        assert_eq!(error, "token [redacted] [redacted] [redacted]");
        assert_eq!(redact("nothing here", &[""]), "nothing here");
        assert_eq!(redact("nothing here", &[]), "nothing here");
    }

    #[test]
    fn redaction_covers_escaped_and_encoded_forms() {
        let secret = "to ken\"+/\\é&=";
        let forms = [
            ("literal", secret.to_owned()),
            ("json", r#"to ken\"+/\\é&="#.to_owned()),
            ("percent", "to%20ken%22%2B%2F%5C%C3%A9%26%3D".to_owned()),
            ("plus", "to+ken%22%2B%2F%5C%C3%A9%26%3D".to_owned()),
        ];
        for (name, form) in forms {
            let text = format!("Discord said {form} back");
            assert_eq!(
                redact(&text, &[secret]),
                "Discord said [redacted] back",
                "{name}: {form}"
            );
        }
        let error = Error {
            details: Some(format!(r#"{{"echo":{}}}"#, serde_json::json!(secret))),
            ..Error::new(ErrorKind::Upstream, "x")
        }
        .redacted(&[secret]);
        assert_eq!(error.details.unwrap(), r#"{"echo":"[redacted]"}"#);
    }
}

/// The insertion sort held to `sort_unstable_by`, natively only, as
/// `proptest` is.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod held_to_sort {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn forms_sort_as_sort_unstable_by_sorts_them(
            mut forms in prop::collection::vec("[ab%+é]{0,4}", 0..16),
        ) {
            let mut expected = forms.clone();
            expected.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            longest_first(&mut forms);
            prop_assert_eq!(forms, expected);
        }
    }
}
