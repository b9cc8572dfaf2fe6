//! `discord-host mcp`: the connector as a local MCP server over stdio, on
//! rmcp (the official Rust SDK). Results and errors follow the REST/MCP component's MCP
//! rules exactly: the JSON shapes come from [`discord_rest_mcp::mcp`] and are
//! read into rmcp's types.
//!
//! The credential of every call comes from the host, never from the agent:
//! a connected account (the token store, refreshed as needed) or a token
//! from the environment.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use discord_accounts::{Authorizer, CallbackListener, ConnectionKey, Error, ErrorKind};
use discord_host::{Connector, Credential, Output};
use discord_rest_mcp::mcp::{error_result, image_result, json_result, tool_entry};
use discord_rest_mcp::tool_methods::method_of;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ResultType, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::task::AbortHandle;

use crate::stdio_relay;

/// Where each call's credential comes from.
#[derive(Clone)]
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

/// Browser origins the HTTP transport serves: pages on this machine only.
const LOOPBACK_ORIGINS: &[&str] = &["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// How long a link handed to an agent waits for its user.
const LINK_TIMEOUT: Duration = Duration::from_secs(600);

/// The MCP server. Cloning is cheap: the HTTP transport makes one per session.
#[derive(Clone)]
pub struct McpServer {
    connector: Connector,
    credentials: Credentials,
    /// The task waiting on the redirect of the newest authorization link,
    /// shared by every session. A server acts for one account, so one
    /// pending link is all it keeps: a new link ends the old one's task,
    /// which closes its loopback listener.
    pending_link: Arc<Mutex<Option<AbortHandle>>>,
}

impl McpServer {
    /// A server over `connector` with `credentials`.
    pub fn new(connector: Connector, credentials: Credentials) -> Self {
        Self {
            connector,
            credentials,
            pending_link: Arc::default(),
        }
    }

    /// Serves MCP on stdin and stdout until stdin closes.
    ///
    /// rmcp drops a line that is not JSON without a word, and would end
    /// on one that is not UTF-8, so stdin passes through
    /// [`stdio_relay`](crate::stdio_relay) first: it answers such lines with
    /// the JSON-RPC parse error itself and goes on.
    pub async fn serve_stdio(self) -> anyhow::Result<()> {
        let (rmcp_input, rmcp_output, relay) =
            stdio_relay::start(tokio::io::stdin(), tokio::io::stdout());
        let running = self.serve((rmcp_input, rmcp_output)).await?;
        running.waiting().await?;
        relay.finish().await?;
        Ok(())
    }

    /// Serves MCP over Streamable HTTP at `http://127.0.0.1:PORT/mcp` until
    /// interrupted. Only loopback `Host`s and, from browsers, loopback
    /// `Origin`s are served: a web page the user visits cannot drive the
    /// user's Discord account (DNS rebinding, cross-origin POSTs).
    pub async fn serve_http(self, port: u16) -> anyhow::Result<()> {
        use rmcp::transport::streamable_http_server::{
            StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
        };
        let config = StreamableHttpServerConfig::default()
            .with_allowed_origins(LOOPBACK_ORIGINS.iter().copied())
            .enforce_origin_validation();
        let service = StreamableHttpService::new(
            move || Ok(self.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        let router = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        tracing::info!("serving MCP at http://{}/mcp", listener.local_addr()?);
        eprintln!("MCP_URL=http://{}/mcp", listener.local_addr()?);
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
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
                let mut pending_link = self
                    .pending_link
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(replaced) = pending_link.take() {
                    replaced.abort();
                }
                let waiting = tokio::spawn(async move {
                    let completed = async {
                        let callback = listener.wait(&pending.state, LINK_TIMEOUT).await?;
                        authorizer
                            .complete_redirect(&pending, &key.identifier, &callback)
                            .await
                    };
                    match completed.await {
                        Ok(_) => tracing::info!(connection = %key, "connected"),
                        Err(error) => {
                            tracing::warn!(connection = %key, %error, "the link was not completed")
                        }
                    }
                });
                *pending_link = Some(waiting.abort_handle());
                json_result(
                    &json!({
                        "url": url,
                        "instructions": "Ask the user to open the url and approve; the token is stored when Discord redirects back.",
                    })
                    .to_string(),
                )
            }
            Err(error) => error_of(&error),
        }
    }

    fn tools(&self, listed: Vec<discord_host::Tool>) -> Vec<Value> {
        let mut tools: Vec<Value> = listed
            .iter()
            .map(|tool| {
                let schema = serde_json::from_str(&tool.input_schema)
                    .unwrap_or_else(|_| json!({"type": "object"}));
                tool_entry(&tool.name, &tool.description, schema, method_of(&tool.name))
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
                // It changes nothing at Discord but starts a new flow each
                // time, replacing the pending one: a write that destroys nothing.
                Some("POST"),
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

/// A failed call as a tool result: the component's own error with its
/// kind, or the host's (see [`host_error`]).
fn error_of(error: &Error) -> Value {
    match error.component() {
        Some(component) => error_result(
            &component.kind.to_string(),
            &component.message,
            component.status,
            component.code,
            component.retry_after_ms,
        ),
        None => host_error(error),
    }
}

fn call_result(result: Result<Output, Error>) -> Result<Value, ErrorData> {
    match result {
        Ok(Output::Json(text)) => Ok(json_result(&text)),
        Ok(Output::Binary(blob)) => Ok(image_result(&blob.content_type, &blob.data)),
        Err(error) => match error.component() {
            Some(component) if component.kind == discord_host::ComponentErrorKind::UnknownTool => {
                Err(ErrorData::invalid_params(component.message.clone(), None))
            }
            _ => Ok(error_of(&error)),
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
                Credentials::Fixed(credential) => self
                    .connector
                    .execute_tool(&request.name, &arguments, credential)
                    .await
                    .map_err(Error::from),
                Credentials::Account { authorizer, key } => {
                    authorizer
                        .execute_tool(key, &request.name, &arguments)
                        .await
                }
            };
            call_result(outcome)?
        };
        let mut result: CallToolResult = serde_json::from_value(result).map_err(internal)?;
        // The REST/MCP component's shapes predate the 2026-07-28 revision's result type;
        // rmcp drops it again for peers on older revisions.
        result.result_type = Some(ResultType::COMPLETE);
        Ok(result.into())
    }
}
