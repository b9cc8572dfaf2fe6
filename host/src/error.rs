//! The one error type of every call through the host: the component's own
//! typed error, the host stopping an instance, or a failure to set the
//! component up. Crates built on the host (`discord-accounts`) have errors
//! of their own that wrap this one.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::bindings::types::{Error as ComponentError, ErrorKind as ComponentErrorKind};

/// A failed call. Its [`kind`](Error::kind) says what failed; its
/// [`source`](StdError::source) says why, when something underneath failed.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// What failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component ended the call with the contract's error record.
    Component(ComponentError),
    /// The call ran past the host's deadline (the component's own
    /// `DISCORD_TIMEOUT_MS` plus a margin) and the instance was stopped.
    Deadline {
        /// The deadline that passed.
        after: Duration,
    },
    /// The instance trapped: it hit its memory cap or a bug in the guest.
    Trap,
    /// The instance can take no more calls: an earlier one was stopped
    /// mid-way.
    Poisoned,
    /// The component could not be loaded, compiled, linked or instantiated,
    /// or the engine cannot enforce deadlines.
    Setup,
}

impl Error {
    /// An error of `kind` with nothing underneath.
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// An error of `kind` caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// What failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The kind and the cause, to take apart.
    pub fn into_parts(self) -> (ErrorKind, Option<Box<dyn StdError + Send + Sync>>) {
        (self.kind, self.source)
    }

    /// The component's typed error, when the component ended the call.
    pub fn component(&self) -> Option<&ComponentError> {
        match &self.kind {
            ErrorKind::Component(error) => Some(error),
            _ => None,
        }
    }

    /// The contract's error kind, when the component ended the call.
    pub fn component_kind(&self) -> Option<ComponentErrorKind> {
        self.component().map(|error| error.kind)
    }

    /// The field `name` of the component error's `details` JSON object,
    /// when it is a string: `class` of a transport error, `error` of an
    /// OAuth refusal, `scope` of a 429.
    pub fn detail(&self, name: &str) -> Option<String> {
        let details = self.component()?.details.as_deref()?;
        let details: serde_json::Value = serde_json::from_str(details).ok()?;
        Some(details.get(name)?.as_str()?.to_owned())
    }

    /// A wasmtime failure while running a call: a trap, or the host's own
    /// deadline if the epoch callback stopped it.
    pub(crate) fn from_wasmtime(error: wasmtime::Error, deadline: Duration) -> Self {
        if error.downcast_ref::<DeadlinePassed>().is_some() {
            return Self::new(ErrorKind::Deadline { after: deadline });
        }
        Self::with_source(ErrorKind::Trap, error)
    }

    pub(crate) fn setup(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::with_source(ErrorKind::Setup, error)
    }
}

/// The marker the epoch callback stops a call with.
#[derive(Debug)]
pub(crate) struct DeadlinePassed;

impl fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the call's deadline passed")
    }
}

impl StdError for DeadlinePassed {}

impl From<ComponentError> for Error {
    fn from(error: ComponentError) -> Self {
        Self::new(ErrorKind::Component(error))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Component(error) => error.fmt(f),
            ErrorKind::Deadline { after } => write!(
                f,
                "the call ran past the host's deadline of {} ms and was stopped",
                after.as_millis()
            ),
            ErrorKind::Trap => f.write_str("the component instance trapped"),
            ErrorKind::Poisoned => f.write_str(
                "this instance was stopped during an earlier call and takes no more calls",
            ),
            ErrorKind::Setup => f.write_str("the connector component could not be set up"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component_error(details: Option<&str>) -> Error {
        ComponentError {
            kind: ComponentErrorKind::Transport,
            message: "Discord did not answer within the call's deadline (1000 ms)".into(),
            status: None,
            code: None,
            details: details.map(str::to_owned),
            retry_after_ms: None,
        }
        .into()
    }

    #[test]
    fn a_component_error_reads_as_kind_and_sentence() {
        let error = component_error(None);
        assert_eq!(
            error.to_string(),
            "transport: Discord did not answer within the call's deadline (1000 ms)"
        );
        assert!(error.source().is_none());
    }

    #[test]
    fn details_fields_are_read_by_name() {
        let error = component_error(Some(r#"{"class":"timeout"}"#));
        assert_eq!(error.detail("class").as_deref(), Some("timeout"));
        let error = component_error(Some(
            r#"{"error":"invalid_grant","error_description":"a \"b\""}"#,
        ));
        assert_eq!(error.detail("error").as_deref(), Some("invalid_grant"));
        assert_eq!(
            error.detail("error_description").as_deref(),
            Some("a \"b\"")
        );
        assert_eq!(error.detail("missing"), None);
        assert_eq!(component_error(None).detail("class"), None);
    }

    #[test]
    fn a_trap_keeps_its_cause() {
        let error = Error::from_wasmtime(
            wasmtime::Error::msg("wasm trap: out of bounds"),
            Duration::from_secs(1),
        );
        assert!(matches!(error.kind(), ErrorKind::Trap));
        assert_eq!(error.to_string(), "the component instance trapped");
        assert!(
            error
                .source()
                .unwrap()
                .to_string()
                .contains("out of bounds")
        );
        let stopped = Error::from_wasmtime(
            wasmtime::Error::new(DeadlinePassed),
            Duration::from_millis(1500),
        );
        assert_eq!(
            stopped.to_string(),
            "the call ran past the host's deadline of 1500 ms and was stopped"
        );
    }
}
