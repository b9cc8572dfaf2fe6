//! Shared set-up: one compiled component, a fresh sandbox per test.

use std::sync::OnceLock;

use discord_host::connector::{BUILT_COMPONENT, Connector, Credential, Error, ErrorKind, Output};
use discord_host::sandbox::Sandbox;
use discord_host::sandbox::tokens::{BOT_TOKEN, USER_TOKEN};

/// The component built from this workspace, compiled once per test binary.
pub fn compiled() -> &'static Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| Connector::from_file(BUILT_COMPONENT).expect("the built component loads"))
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
    match connector
        .execute_tool(tool, arguments, credential)
        .await
        .expect("no trap")
    {
        Ok(Output::Json(json)) => serde_json::from_str(&json).expect("the output is JSON"),
        Ok(Output::Binary(blob)) => panic!("{tool}: expected JSON, got {}", blob.content_type),
        Err(error) => panic!("{tool}: {:?}: {}", error.kind, error.message),
    }
}

/// Runs a tool that must fail, and returns its error.
pub async fn error_of(
    connector: &Connector,
    tool: &str,
    arguments: &str,
    credential: &Credential,
) -> Error {
    match connector
        .execute_tool(tool, arguments, credential)
        .await
        .expect("no trap")
    {
        Ok(_) => panic!("{tool} {arguments}: expected an error"),
        Err(error) => error,
    }
}

/// Asserts the error's kind, with its message in the failure report.
pub fn assert_kind(error: &Error, kind: ErrorKind) {
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
