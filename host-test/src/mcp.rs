//! `discord-host mcp`: the connector as a local MCP server over stdio, on
//! rmcp (the official Rust SDK). Results and errors follow the gateway's MCP
//! rules exactly: the JSON shapes come from [`discord_gateway::mcp`] and are
//! read into rmcp's types.
//!
//! The credential of every call comes from the host, never from the agent:
//! a connected account (the token store, refreshed as needed) or a token
//! from the environment.

use std::sync::Arc;
use std::time::Duration;

use discord_accounts::{Authorizer, CallbackListener, ConnectionKey};
use discord_gateway::mcp::{error_result, image_result, json_result, tool_entry};
use discord_host::{Connector, Credential, Error, ErrorKind, Output};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ResultType, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// Where each call's credential comes from.
pub enum Credentials {
    /// One token (or none) for every call, from the environment.
    Fixed(Credential),
    /// A connected account: its stored token, refreshed single-flight.
    Account {
        /// Keeps, refreshes and uses the tokens.
        authorizer: Arc<Authorizer>,
        /// Which account.
        key: ConnectionKey,
    },
}

/// The name of the extra tool an account-backed server lists.
pub const LINK_TOOL: &str = "discord_authorization_link";

/// How long a link handed to an agent waits for its user.
const LINK_TIMEOUT: Duration = Duration::from_secs(600);

/// The MCP server.
pub struct McpServer {
    connector: Connector,
    credentials: Credentials,
}

impl McpServer {
    /// A server over `connector` with `credentials`.
    pub fn new(connector: Connector, credentials: Credentials) -> Self {
        Self {
            connector,
            credentials,
        }
    }

    /// Serves MCP on stdin and stdout until stdin closes.
    pub async fn serve_stdio(self) -> anyhow::Result<()> {
        let running = self.serve(rmcp::transport::stdio()).await?;
        running.waiting().await?;
        Ok(())
    }

    async fn link(&self, arguments: &Value) -> Value {
        let Credentials::Account { authorizer, key } = &self.credentials else {
            return error_result("unknown-tool", "no such tool", None, None, None);
        };
        let scopes: Vec<String> = arguments["scopes"]
            .as_array()
            .map(|scopes| {
                scopes
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let started = async {
            let listener = CallbackListener::bind(0).await?;
            let pending = authorizer
                .link(&key.connection, &listener.redirect_uri()?, &scopes)
                .await?;
            Ok::<_, Error>((listener, pending))
        };
        match started.await {
            Ok((listener, pending)) => {
                let url = pending.url.clone();
                let (authorizer, key) = (Arc::clone(authorizer), key.clone());
                tokio::spawn(async move {
                    let completed = async {
                        let callback = listener.wait(&pending.state, LINK_TIMEOUT).await?;
                        let Some(code) = callback.code else {
                            return Err(Error::new(ErrorKind::AuthorizationRefused {
                                error: callback.error.unwrap_or_default(),
                            }));
                        };
                        let state = callback.state.unwrap_or_default();
                        authorizer
                            .complete(&pending, &key.identifier, &code, &state)
                            .await
                    };
                    match completed.await {
                        Ok(_) => tracing::info!(connection = %key, "connected"),
                        Err(error) => {
                            tracing::warn!(connection = %key, %error, "the link was not completed")
                        }
                    }
                });
                json_result(
                    &json!({
                        "url": url,
                        "instructions": "Ask the user to open the url and approve; the token is stored when Discord redirects back.",
                    })
                    .to_string(),
                )
            }
            Err(error) => host_error(&error),
        }
    }

    fn tools(&self, listed: Vec<discord_host::Tool>) -> Vec<Value> {
        let mut tools: Vec<Value> = listed
            .iter()
            .map(|tool| {
                let schema = serde_json::from_str(&tool.input_schema)
                    .unwrap_or_else(|_| json!({"type": "object"}));
                tool_entry(&tool.name, &tool.description, schema)
            })
            .collect();
        if matches!(self.credentials, Credentials::Account { .. }) {
            tools.push(tool_entry(
                LINK_TOOL,
                "Get a Discord OAuth link for the user of this connection to open and approve. Once approved, the other tools act as that user.",
                json!({
                    "type": "object",
                    "properties": {"scopes": {"type": "array", "items": {"type": "string"}, "description": "OAuth scopes; the configured ones when left out."}},
                    "additionalProperties": false,
                }),
            ));
        }
        tools
    }
}

/// A host failure (not the component's own error) as a tool result: the
/// account's state says what to do, such as which command re-authorizes.
fn host_error(error: &Error) -> Value {
    let kind = match error.kind() {
        ErrorKind::NotConnected { .. } | ErrorKind::NeedsReauthorization { .. } => "unauthorized",
        _ => "transport",
    };
    error_result(kind, &error.to_string(), None, None, None)
}

fn call_result(result: Result<Output, Error>) -> Result<Value, ErrorData> {
    match result {
        Ok(Output::Json(text)) => Ok(json_result(&text)),
        Ok(Output::Binary(blob)) => Ok(image_result(&blob.content_type, &blob.data)),
        Err(error) => match error.component() {
            Some(component) if component.kind == discord_host::ComponentErrorKind::UnknownTool => {
                Err(ErrorData::invalid_params(component.message.clone(), None))
            }
            Some(component) => Ok(error_result(
                &component.kind.to_string(),
                &component.message,
                component.status,
                component.code,
                component.retry_after_ms,
            )),
            None => Ok(host_error(&error)),
        },
    }
}

fn internal(error: impl std::fmt::Display) -> ErrorData {
    ErrorData::internal_error(error.to_string(), None)
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "discord-host",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Discord tools. The host holds the credential: never ask the user for a token.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let listed = self.connector.list_tools().await.map_err(internal)?;
        let tools: Vec<Tool> = self
            .tools(listed)
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let result = if request.name == LINK_TOOL {
            self.link(&arguments).await
        } else {
            let arguments = arguments.to_string();
            let outcome = match &self.credentials {
                Credentials::Fixed(credential) => {
                    self.connector
                        .execute_tool(&request.name, &arguments, credential)
                        .await
                }
                Credentials::Account { authorizer, key } => {
                    authorizer
                        .execute_tool(key, &request.name, &arguments)
                        .await
                }
            };
            call_result(outcome)?
        };
        let mut result: CallToolResult = serde_json::from_value(result).map_err(internal)?;
        // The gateway's shapes predate the 2026-07-28 revision's result type;
        // rmcp drops it again for peers on older revisions.
        result.result_type = Some(ResultType::COMPLETE);
        Ok(result.into())
    }
}
