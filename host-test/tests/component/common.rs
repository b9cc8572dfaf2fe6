//! Shared set-up: one compiled component, a fresh sandbox per test.

use std::sync::OnceLock;

use discord_host::{ComponentError, ComponentErrorKind, Connector, Credential, Output};

use discord_sandbox::Sandbox;
use discord_sandbox::tokens::{BOT_TOKEN, USER_TOKEN};

/// The component built from this workspace, compiled once per test binary.
pub fn compiled() -> &'static Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        Connector::from_bytes(discord_artifacts::CONNECTOR).expect("the built component loads")
    })
}

/// A fresh sandbox and the connector pointed at it.
pub async fn setup() -> (Sandbox, Connector) {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let connector = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url());
    (sandbox, connector)
}

pub fn user() -> Credential {
    Credential::Bearer(USER_TOKEN.to_owned())
}

pub fn bot() -> Credential {
    Credential::Bot(BOT_TOKEN.to_owned())
}

/// Runs a tool that must succeed with JSON, and returns the parsed JSON.
pub async fn json_of(
    connector: &Connector,
    tool: &str,
    arguments: &str,
    credential: &Credential,
) -> serde_json::Value {
    match connector.execute_tool(tool, arguments, credential).await {
        Ok(Output::Json(json)) => serde_json::from_str(&json).expect("the output is JSON"),
        Ok(Output::Binary(blob)) => panic!("{tool}: expected JSON, got {}", blob.content_type),
        Err(error) => panic!("{tool}: {error}"),
    }
}

/// Runs a tool that must fail with the component's typed error (not a host
/// failure), and returns that error.
pub async fn error_of(
    connector: &Connector,
    tool: &str,
    arguments: &str,
    credential: &Credential,
) -> ComponentError {
    match connector.execute_tool(tool, arguments, credential).await {
        Ok(output) => panic!("{tool} {arguments}: expected an error, got {output:?}"),
        Err(error) => component_error(error),
    }
}

/// The component's typed error inside `error`; a host failure fails the test.
pub fn component_error(error: discord_host::Error) -> ComponentError {
    match error.component() {
        Some(component) => component.clone(),
        None => panic!("expected the component's error, got a host failure: {error}"),
    }
}

/// Asserts the error's kind, with its message in the failure report.
pub fn assert_kind(error: &ComponentError, kind: ComponentErrorKind) {
    assert_eq!(error.kind, kind, "{}", error.message);
}

/// The `Authorization` header `credential` must produce.
pub fn expected_authorization(credential: &Credential) -> Option<String> {
    match credential {
        Credential::None => None,
        Credential::Bearer(token) => Some(format!("Bearer {token}")),
        Credential::Bot(token) => Some(format!("Bot {token}")),
    }
}
