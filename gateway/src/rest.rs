//! The routes: `/health`, `/v1/tools`, `/v1/proxy/…`, `/v1/oauth/…`, and
//! `/mcp` (handed to [`crate::mcp`]). Every refusal is a JSON error in the
//! contract's shape; nothing here can trap.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::contract::{
    Client, Contract, ErrorKind, LinkRequest, Output, ProxyRequest, Token, Tool,
    credential_kind_name,
};
use crate::http::{MAX_BODY_BYTES, Request, Response};
use crate::mcp;

/// What the gateway reads from its environment. No `Debug`: it holds the
/// client secret.
#[derive(Clone, Default)]
pub struct Settings {
    /// `GATEWAY_ALLOWED_ORIGINS`: the browser origins that may call; unset,
    /// a request with any `Origin` is refused.
    pub allowed_origins: Vec<String>,
    /// `DISCORD_CLIENT_ID` and `DISCORD_CLIENT_SECRET`, for the OAuth routes.
    pub client: Option<Client>,
}

/// The settings the gateway reads, for manifests and documentation.
pub const SETTINGS: &[&str] = &[
    "GATEWAY_ALLOWED_ORIGINS",
    "DISCORD_CLIENT_ID",
    "DISCORD_CLIENT_SECRET",
];

impl Settings {
    /// Reads the settings from `vars` (name, value pairs).
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut settings = Self::default();
        let mut client_id = None;
        let mut client_secret = None;
        for (name, value) in vars {
            match name {
                "GATEWAY_ALLOWED_ORIGINS" => {
                    settings.allowed_origins = value
                        .split(',')
                        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                        .filter(|origin| !origin.is_empty())
                        .collect();
                }
                "DISCORD_CLIENT_ID" if !value.is_empty() => client_id = Some(value.to_owned()),
                "DISCORD_CLIENT_SECRET" if !value.is_empty() => {
                    client_secret = Some(value.to_owned());
                }
                _ => {}
            }
        }
        settings.client = client_id.map(|client_id| Client {
            client_id,
            client_secret,
        });
        settings
    }

    /// Whether a request with `origin` may be served: no `Origin` header
    /// (not a browser) always; a browser's only from a listed origin.
    fn allows(&self, origin: Option<&str>) -> bool {
        origin.is_none_or(|origin| {
            self.allowed_origins
                .iter()
                .any(|allowed| allowed == origin.trim_end_matches('/'))
        })
    }
}

/// Answers one request.
pub fn handle(request: &Request, settings: &Settings, contract: &mut impl Contract) -> Response {
    if !settings.allows(request.header("origin")) {
        return Response::refusal(
            403,
            ErrorKind::Forbidden,
            "this Origin is not in GATEWAY_ALLOWED_ORIGINS",
        );
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Response::refusal(
            413,
            ErrorKind::InvalidArguments,
            "the request body is larger than 1 MiB",
        );
    }
    let method = request.method.as_str();
    let path = request.path.as_str();
    if let Some(proxied) = path.strip_prefix("/v1/proxy/") {
        return proxy(request, proxied, contract);
    }
    let only = |allowed: &str, respond: &mut dyn FnMut() -> Response| {
        if method == allowed {
            respond()
        } else {
            Response::method_not_allowed(allowed)
        }
    };
    match path {
        "/health" => only("GET", &mut || health(contract)),
        "/v1/tools" => only("GET", &mut || list_tools(contract)),
        "/v1/oauth/authorization-link" => only("POST", &mut || {
            authorization_link(request, settings, contract)
        }),
        "/v1/oauth/token" => only("POST", &mut || token(request, settings, contract)),
        "/v1/oauth/revoke" => only("POST", &mut || revoke(request, settings, contract)),
        "/mcp" => only("POST", &mut || mcp::handle(request, contract)),
        _ => match path.strip_prefix("/v1/tools/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                only("POST", &mut || execute_tool(request, name, contract))
            }
            _ => Response::not_found(),
        },
    }
}

fn health(contract: &mut impl Contract) -> Response {
    let tools = contract.list_tools().len();
    Response::json(
        200,
        &json!({"status": "ok", "tools": tools, "version": crate::VERSION}),
    )
}

/// A tool as JSON: its schema as an object, its credential kinds by name.
pub fn tool_json(tool: &Tool) -> Value {
    json!({
        "name": tool.name,
        "description": tool.description,
        "input_schema": schema_of(tool),
        "scopes": tool.scopes,
        "accepts": tool.accepts.iter().map(|kind| credential_kind_name(*kind)).collect::<Vec<_>>(),
    })
}

/// A tool's input schema as a JSON object (an empty object schema if the
/// component sent something else).
pub fn schema_of(tool: &Tool) -> Value {
    serde_json::from_str::<Value>(&tool.input_schema)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"type": "object"}))
}

fn list_tools(contract: &mut impl Contract) -> Response {
    let tools: Vec<Value> = contract.list_tools().iter().map(tool_json).collect();
    Response::json(200, &json!({"tools": tools}))
}

/// The body as JSON text: empty means `{}`, anything else must be declared
/// JSON and parse.
fn json_body(request: &Request) -> Result<Value, Response> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let declared = request.header("content-type").unwrap_or_default();
    let media_type = declared.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(Response::refusal(
            415,
            ErrorKind::InvalidArguments,
            "the body must be application/json",
        ));
    }
    serde_json::from_slice(&request.body).map_err(|error| {
        Response::refusal(
            400,
            ErrorKind::InvalidArguments,
            &format!("the body is not JSON: {error}"),
        )
    })
}

fn execute_tool(request: &Request, name: &str, contract: &mut impl Contract) -> Response {
    let arguments = match json_body(request) {
        Ok(arguments) => arguments,
        Err(refusal) => return refusal,
    };
    let credential = match request.credential() {
        Ok(credential) => credential,
        Err(refusal) => return refusal,
    };
    match contract.execute_tool(name, &arguments.to_string(), &credential) {
        Ok(Output::Json(json)) => Response {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: json.into_bytes(),
        },
        Ok(Output::Binary(blob)) => Response {
            status: 200,
            headers: vec![("content-type".to_owned(), blob.content_type)],
            body: blob.data,
        },
        Err(error) => Response::contract_error(&error),
    }
}

const PROXY_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn proxy(request: &Request, path: &str, contract: &mut impl Contract) -> Response {
    if !PROXY_METHODS.contains(&request.method.as_str()) {
        return Response::method_not_allowed("GET, POST, PUT, PATCH, DELETE");
    }
    let body = if request.body.is_empty() {
        None
    } else {
        match json_body(request) {
            Ok(body) => Some(body.to_string()),
            Err(refusal) => return refusal,
        }
    };
    let credential = match request.credential() {
        Ok(credential) => credential,
        Err(refusal) => return refusal,
    };
    let proxied = ProxyRequest {
        method: request.method.clone(),
        path: format!("/{path}"),
        query: request.query.clone(),
        body,
    };
    match contract.proxy(&proxied, &credential) {
        Ok(answer) => {
            let content_type = answer
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                .map(|(_, value)| value.clone());
            let mut response = Response::empty(answer.status);
            response.body = answer.body;
            if let Some(content_type) = content_type {
                response
                    .headers
                    .push(("content-type".to_owned(), content_type));
            }
            response
        }
        Err(error) => Response::contract_error(&error),
    }
}

/// Parses the JSON body into `T`, refusing with 400 and serde's reason.
fn body_as<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, Response> {
    let value = json_body(request)?;
    serde_json::from_value(value).map_err(|error| {
        Response::refusal(
            400,
            ErrorKind::InvalidArguments,
            &format!("the body does not fit: {error}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    prompt: Option<String>,
    #[serde(default)]
    extra: std::collections::BTreeMap<String, String>,
}

fn no_client() -> Response {
    Response::refusal(
        500,
        ErrorKind::MissingCredential,
        "the gateway has no OAuth client: set DISCORD_CLIENT_ID (and DISCORD_CLIENT_SECRET)",
    )
}

fn authorization_link(
    request: &Request,
    settings: &Settings,
    contract: &mut impl Contract,
) -> Response {
    let body: LinkBody = match body_as(request) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let Some(client) = &settings.client else {
        return no_client();
    };
    let link = LinkRequest {
        client_id: client.client_id.clone(),
        redirect_uri: body.redirect_uri,
        scopes: body.scopes,
        state: body.state,
        prompt: body.prompt,
        extra: body.extra.into_iter().collect(),
    };
    match contract.authorization_link(&link) {
        Ok(link) => Response::json(
            200,
            &json!({"url": link.url, "state": link.state, "code_verifier": link.code_verifier}),
        ),
        Err(error) => Response::contract_error(&error),
    }
}

#[derive(Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
enum TokenBody {
    AuthorizationCode {
        code: String,
        redirect_uri: String,
        code_verifier: String,
    },
    RefreshToken {
        refresh_token: String,
    },
}

fn token_json(token: &Token) -> Value {
    json!({
        "access_token": token.access_token,
        "token_type": token.token_type,
        "expires_in": token.expires_in_seconds,
        "refresh_token": token.refresh_token,
        "scope": token.scopes.join(" "),
    })
}

fn token(request: &Request, settings: &Settings, contract: &mut impl Contract) -> Response {
    let body: TokenBody = match body_as(request) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let Some(client) = &settings.client else {
        return no_client();
    };
    let answer = match body {
        TokenBody::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => contract.exchange_code(client, &code, &redirect_uri, &code_verifier),
        TokenBody::RefreshToken { refresh_token } => contract.refresh_token(client, &refresh_token),
    };
    match answer {
        Ok(token) => Response::json(200, &token_json(&token)),
        Err(error) => Response::contract_error(&error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    token: String,
}

fn revoke(request: &Request, settings: &Settings, contract: &mut impl Contract) -> Response {
    let body: RevokeBody = match body_as(request) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let Some(client) = &settings.client else {
        return no_client();
    };
    match contract.revoke_token(client, &body.token) {
        Ok(()) => Response::empty(204),
        Err(error) => Response::contract_error(&error),
    }
}
