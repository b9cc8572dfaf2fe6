//! The entry point: a request's `Origin` and size are checked, then it is
//! routed to a REST handler ([`crate::rest`]) or to MCP ([`crate::mcp`]).
//! Every refusal is a JSON error in the contract's shape; nothing here can
//! trap. Browsers on a listed origin get CORS: their preflight is answered
//! here, and every answer names their origin.

use crate::contract::{Contract, ErrorKind};
use crate::http::{MAX_BODY_BYTES, Request, Response};
use crate::settings::Settings;
use crate::{mcp, rest};

/// The request headers a browser page may send: what MCP's Streamable
/// HTTP clients and the REST routes use.
const CORS_ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id";

/// How long a browser may keep a preflight's answer, in seconds.
const CORS_MAX_AGE: &str = "600";

/// Answers one request.
pub fn handle(request: &Request, settings: &Settings, contract: &mut impl Contract) -> Response {
    let Some(origin) = request.header("origin") else {
        return route(request, settings, contract);
    };
    if !settings.allows(Some(origin)) {
        return Response::refusal(
            403,
            ErrorKind::Forbidden,
            "this Origin is not in REST_MCP_ALLOWED_ORIGINS",
        )
        .with_header("vary", "Origin");
    }
    let answer = if request.method == "OPTIONS" {
        Response::empty(204)
            .with_header("access-control-allow-methods", "GET, POST")
            .with_header("access-control-allow-headers", CORS_ALLOWED_HEADERS)
            .with_header("access-control-max-age", CORS_MAX_AGE)
    } else {
        route(request, settings, contract).with_header(
            "access-control-expose-headers",
            "Retry-After, Mcp-Session-Id",
        )
    };
    answer
        .with_header("access-control-allow-origin", origin)
        .with_header("vary", "Origin")
}

/// Answers a request whose origin may be served.
fn route(request: &Request, settings: &Settings, contract: &mut impl Contract) -> Response {
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
        return rest::proxy(request, proxied, contract);
    }
    let only = |allowed: &str, respond: &mut dyn FnMut() -> Response| {
        if method == allowed {
            respond()
        } else {
            Response::method_not_allowed(allowed)
        }
    };
    match path {
        "/health" => only("GET", &mut || rest::health(contract)),
        "/v1/tools" => only("GET", &mut || rest::list_tools(contract)),
        "/v1/oauth/authorization-link" => only("POST", &mut || {
            rest::authorization_link(request, settings, contract)
        }),
        "/v1/oauth/token" => only("POST", &mut || rest::token(request, settings, contract)),
        "/v1/oauth/revoke" => only("POST", &mut || rest::revoke(request, settings, contract)),
        "/mcp" => only("POST", &mut || mcp::handle(request, contract)),
        _ => match path.strip_prefix("/v1/tools/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                only("POST", &mut || rest::execute_tool(request, name, contract))
            }
            _ => Response::not_found(),
        },
    }
}
