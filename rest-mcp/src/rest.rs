//! The REST handlers, which [`crate::router`] routes to: `/health`,
//! `/v1/tools`, `/v1/tools/{name}`, `/v1/proxy/…` and `/v1/oauth/…`. Every
//! refusal is a JSON error in the contract's shape; nothing here can trap.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::contract::{Contract, ErrorKind, LinkRequest, Output, ProxyRequest, Token};
use crate::http::{Request, Response};
use crate::settings::Settings;
use crate::tools::tool_json;

/// `GET /health`: the status, how many tools there are, and the version.
pub(crate) fn health(contract: &mut impl Contract) -> Response {
    let tools = contract.list_tools().len();
    Response::json(
        200,
        &json!({"status": "ok", "tools": tools, "version": crate::VERSION}),
    )
}

/// `GET /v1/tools`: every tool, as [`tool_json`] writes it.
pub(crate) fn list_tools(contract: &mut impl Contract) -> Response {
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

/// `POST /v1/tools/{name}`: runs the tool with the body as its arguments
/// and the `Authorization` header as the credential.
pub(crate) fn execute_tool(
    request: &Request,
    name: &str,
    contract: &mut impl Contract,
) -> Response {
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

/// `/v1/proxy/{path}`: a raw request to the API, which the connector
/// confines to its base.
pub(crate) fn proxy(request: &Request, path: &str, contract: &mut impl Contract) -> Response {
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
        "the REST/MCP component has no OAuth client: set DISCORD_CLIENT_ID (and DISCORD_CLIENT_SECRET)",
    )
}

/// `POST /v1/oauth/authorization-link`: a PKCE authorization link for the
/// configured client.
pub(crate) fn authorization_link(
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

/// `POST /v1/oauth/token`: exchanges a code, or refreshes a token.
pub(crate) fn token(
    request: &Request,
    settings: &Settings,
    contract: &mut impl Contract,
) -> Response {
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

/// `POST /v1/oauth/revoke`: revokes a token.
pub(crate) fn revoke(
    request: &Request,
    settings: &Settings,
    contract: &mut impl Contract,
) -> Response {
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
