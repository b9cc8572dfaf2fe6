//! The routes and MCP, natively, over a scripted contract.

use serde_json::{Value, json};

use crate::contract::{
    Blob, Client, Contract, Credential, CredentialKind, Error, ErrorKind, Link, LinkRequest,
    Output, ProxyRequest, ProxyResponse, Token, Tool,
};
use crate::http::{Request, Response};
use crate::router::handle;
use crate::settings::Settings;

/// Answers from a script, and remembers what it was asked.
#[derive(Default)]
struct Fake {
    calls: Vec<(String, String, Credential)>,
    proxied: Vec<ProxyRequest>,
    error: Option<Error>,
    output: Option<Output>,
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.to_owned(),
        description: "A tool.".to_owned(),
        input_schema: r#"{"type":"object","properties":{}}"#.to_owned(),
        scopes: vec!["identify".to_owned()],
        accepts: vec![CredentialKind::Bearer, CredentialKind::Bot],
    }
}

fn error(kind: ErrorKind) -> Error {
    Error {
        kind,
        message: "it failed".to_owned(),
        status: Some(429),
        code: Some(20001),
        details: Some(r#"{"scope":"user"}"#.to_owned()),
        retry_after_ms: Some(1_200),
    }
}

fn token() -> Token {
    Token {
        access_token: "at".to_owned(),
        token_type: "Bearer".to_owned(),
        expires_in_seconds: 60,
        refresh_token: Some("rt".to_owned()),
        scopes: vec!["identify".to_owned(), "guilds".to_owned()],
    }
}

impl Contract for Fake {
    fn list_tools(&mut self) -> Vec<Tool> {
        // A tool of each method, and one the generated table does not know.
        [
            "discord_get_my_user",
            "discord_send_message",
            "discord_add_reaction",
            "discord_edit_message",
            "discord_delete_message",
            "discord_from_a_newer_catalogue",
        ]
        .into_iter()
        .map(tool)
        .collect()
    }

    fn execute_tool(
        &mut self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error> {
        self.calls
            .push((name.to_owned(), arguments.to_owned(), credential.clone()));
        if name == "nope" {
            return Err(Error {
                kind: ErrorKind::UnknownTool,
                ..error(ErrorKind::UnknownTool)
            });
        }
        match (&self.error, &self.output) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(output)) => Ok(output.clone()),
            (None, None) => Ok(Output::Json(r#"{"id":"1"}"#.to_owned())),
        }
    }

    fn proxy(&mut self, request: &ProxyRequest, _: &Credential) -> Result<ProxyResponse, Error> {
        self.proxied.push(request.clone());
        Ok(ProxyResponse {
            status: 404,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: b"{\"code\":10013}".to_vec(),
        })
    }

    fn authorization_link(&mut self, request: &LinkRequest) -> Result<Link, Error> {
        Ok(Link {
            url: format!("https://x/?client_id={}", request.client_id),
            state: "s".to_owned(),
            code_verifier: "v".to_owned(),
        })
    }

    fn exchange_code(&mut self, _: &Client, _: &str, _: &str, _: &str) -> Result<Token, Error> {
        Ok(token())
    }

    fn refresh_token(&mut self, _: &Client, _: &str) -> Result<Token, Error> {
        Ok(token())
    }

    fn revoke_token(&mut self, _: &Client, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

fn request(method: &str, path: &str, body: &str) -> Request {
    Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: Vec::new(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: body.as_bytes().to_vec(),
    }
}

fn settings() -> Settings {
    Settings::from_vars([
        ("DISCORD_CLIENT_ID", "1178765261640953856"),
        ("DISCORD_CLIENT_SECRET", "s"),
        (
            "REST_MCP_ALLOWED_ORIGINS",
            "https://app.example, http://localhost:3000/",
        ),
    ])
}

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON body")
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers
        .iter()
        .find(|(candidate, _)| candidate == name)
        .map(|(_, value)| value.as_str())
}

fn send(fake: &mut Fake, request: Request) -> Response {
    handle(&request, &settings(), fake)
}

#[test]
fn health_and_tools() {
    let mut fake = Fake::default();
    let health = send(&mut fake, request("GET", "/health", ""));
    assert_eq!(
        json_of(&health),
        json!({"status": "ok", "tools": 6, "version": crate::VERSION})
    );
    let tools = json_of(&send(&mut fake, request("GET", "/v1/tools", "")));
    assert_eq!(
        tools["tools"][0]["input_schema"]["type"], "object",
        "a schema object, not a string"
    );
    assert_eq!(tools["tools"][0]["accepts"], json!(["bearer", "bot"]));
}

#[test]
fn a_tool_call_takes_the_body_and_the_authorization_header() {
    let mut fake = Fake::default();
    let mut call = request("POST", "/v1/tools/discord_get_my_user", "");
    call.headers
        .push(("authorization".to_owned(), "Bot abc".to_owned()));
    let answer = send(&mut fake, call);
    assert_eq!(answer.status, 200);
    assert_eq!(json_of(&answer), json!({"id": "1"}));
    assert_eq!(fake.calls[0].1, "{}", "an empty body is {{}}");
    assert!(matches!(&fake.calls[0].2, Credential::Bot(token) if token == "abc"));

    fake.output = Some(Output::Binary(Blob {
        content_type: "image/png".to_owned(),
        data: vec![137, 80],
    }));
    let png = send(
        &mut fake,
        request("POST", "/v1/tools/discord_get_my_user", r#"{"a": 1}"#),
    );
    assert_eq!(header(&png, "content-type"), Some("image/png"));
    assert_eq!(png.body, vec![137, 80]);
    assert!(matches!(fake.calls[1].2, Credential::None));
}

#[test]
fn contract_errors_map_to_statuses() {
    let cases = [
        (ErrorKind::UnknownTool, 404),
        (ErrorKind::InvalidArguments, 400),
        (ErrorKind::MissingCredential, 401),
        (ErrorKind::Unauthorized, 401),
        (ErrorKind::Forbidden, 403),
        (ErrorKind::NotFound, 404),
        (ErrorKind::RateLimited, 429),
        (ErrorKind::Upstream, 502),
        (ErrorKind::Transport, 504),
    ];
    for (kind, status) in cases {
        let mut fake = Fake {
            error: Some(error(kind)),
            ..Fake::default()
        };
        let answer = send(
            &mut fake,
            request("POST", "/v1/tools/discord_get_my_user", "{}"),
        );
        assert_eq!(answer.status, status, "{kind:?}");
        let body = json_of(&answer);
        assert_eq!(
            body["error"]["details"],
            json!({"scope": "user"}),
            "details is an object"
        );
        assert_eq!(body["error"]["retry_after_ms"], 1200);
        assert_eq!(
            header(&answer, "retry-after"),
            Some("2"),
            "whole seconds, rounded up"
        );
        let challenge = header(&answer, "www-authenticate");
        assert_eq!(
            challenge.is_some(),
            kind == ErrorKind::MissingCredential,
            "{kind:?}"
        );
    }
}

#[test]
fn the_proxy_passes_method_path_query_and_answer_through() {
    let mut fake = Fake::default();
    let mut proxied = request("GET", "/v1/proxy/users/@me/guilds", "");
    proxied.query = vec![("limit".to_owned(), "2".to_owned())];
    let answer = send(&mut fake, proxied);
    assert_eq!(answer.status, 404);
    assert_eq!(header(&answer, "content-type"), Some("application/json"));
    assert_eq!(answer.body, b"{\"code\":10013}");
    assert_eq!(fake.proxied[0].path, "/users/@me/guilds");
    assert_eq!(
        fake.proxied[0].query,
        [("limit".to_owned(), "2".to_owned())]
    );
    assert_eq!(fake.proxied[0].body, None);
    let head = send(&mut fake, request("HEAD", "/v1/proxy/users/@me", ""));
    assert_eq!(head.status, 405);
}

#[test]
fn oauth_routes_use_the_configured_client() {
    let mut fake = Fake::default();
    let link = send(
        &mut fake,
        request(
            "POST",
            "/v1/oauth/authorization-link",
            r#"{"redirect_uri": "http://127.0.0.1:1/cb", "scopes": ["identify"]}"#,
        ),
    );
    assert_eq!(
        json_of(&link)["url"],
        "https://x/?client_id=1178765261640953856"
    );
    let token = send(
        &mut fake,
        request(
            "POST",
            "/v1/oauth/token",
            r#"{"grant_type": "refresh_token", "refresh_token": "r"}"#,
        ),
    );
    assert_eq!(
        json_of(&token)["scope"],
        "identify guilds",
        "OAuth's space-separated scope"
    );
    let code = send(
        &mut fake,
        request(
            "POST",
            "/v1/oauth/token",
            r#"{"grant_type": "authorization_code", "code": "c", "redirect_uri": "u", "code_verifier": "v"}"#,
        ),
    );
    assert_eq!(code.status, 200);
    let revoke = send(
        &mut fake,
        request("POST", "/v1/oauth/revoke", r#"{"token": "t"}"#),
    );
    assert_eq!(revoke.status, 204);
    let bad = send(
        &mut fake,
        request("POST", "/v1/oauth/token", r#"{"grant_type": "password"}"#),
    );
    assert_eq!(bad.status, 400);
    let unconfigured = handle(
        &request("POST", "/v1/oauth/revoke", r#"{"token": "t"}"#),
        &Settings::default(),
        &mut fake,
    );
    assert_eq!(unconfigured.status, 500);
    assert!(
        json_of(&unconfigured)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DISCORD_CLIENT_ID")
    );
}

#[test]
fn bad_input_is_refused_with_the_contract_kinds() {
    let mut fake = Fake::default();
    let malformed = send(
        &mut fake,
        request("POST", "/v1/tools/discord_get_my_user", "{"),
    );
    assert_eq!(
        (
            malformed.status,
            json_of(&malformed)["error"]["kind"].clone()
        ),
        (400, json!("invalid-arguments"))
    );
    let mut wrong_type = request("POST", "/v1/tools/discord_get_my_user", "a=b");
    wrong_type.headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    assert_eq!(send(&mut fake, wrong_type).status, 415);
    let mut huge = request("POST", "/v1/tools/discord_get_my_user", "");
    huge.body = vec![b' '; crate::http::MAX_BODY_BYTES + 1];
    assert_eq!(send(&mut fake, huge).status, 413);
    let missing = send(&mut fake, request("GET", "/v2/nothing", ""));
    assert_eq!(
        (missing.status, json_of(&missing)["error"]["kind"].clone()),
        (404, json!("not-found"))
    );
    let wrong_method = send(&mut fake, request("DELETE", "/v1/tools", ""));
    assert_eq!(
        (wrong_method.status, header(&wrong_method, "allow")),
        (405, Some("GET"))
    );
    for path in ["/mcp", "/mcp"] {
        for method in ["GET", "DELETE"] {
            assert_eq!(send(&mut fake, request(method, path, "")).status, 405);
        }
    }
    let mut scheme = request("POST", "/v1/tools/discord_get_my_user", "{}");
    scheme
        .headers
        .push(("authorization".to_owned(), "Basic abc".to_owned()));
    assert_eq!(send(&mut fake, scheme).status, 401);
    assert!(fake.calls.is_empty(), "nothing reached the contract");
}

#[test]
fn listed_origins_get_cors_and_their_preflight_answered() {
    let mut fake = Fake::default();
    let from = |method: &str, path: &str, origin: &str| {
        let mut request = request(method, path, "");
        request
            .headers
            .push(("origin".to_owned(), origin.to_owned()));
        request
    };
    let mut preflight = from("OPTIONS", "/mcp", "https://app.example");
    preflight.headers.extend([
        (
            "access-control-request-method".to_owned(),
            "POST".to_owned(),
        ),
        (
            "access-control-request-headers".to_owned(),
            "authorization, content-type, mcp-protocol-version".to_owned(),
        ),
    ]);
    let answer = send(&mut fake, preflight);
    assert_eq!(answer.status, 204);
    let header = |answer: &Response, name: &str| {
        answer
            .headers
            .iter()
            .find(|(found, _)| found == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(
        header(&answer, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(header(&answer, "vary").as_deref(), Some("Origin"));
    assert!(
        header(&answer, "access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    let allowed = header(&answer, "access-control-allow-headers").unwrap();
    for name in [
        "Authorization",
        "Content-Type",
        "Mcp-Protocol-Version",
        "Mcp-Session-Id",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(header(&answer, "access-control-max-age").is_some());
    assert!(fake.calls.is_empty(), "a preflight reaches no tool");

    let health = send(&mut fake, from("GET", "/health", "https://app.example"));
    assert_eq!(health.status, 200);
    assert_eq!(
        header(&health, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    let refused = send(&mut fake, from("OPTIONS", "/mcp", "https://evil.example"));
    assert_eq!(refused.status, 403);
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    let plain = send(&mut fake, request("GET", "/health", ""));
    assert_eq!(
        header(&plain, "access-control-allow-origin"),
        None,
        "no Origin, no CORS"
    );
}

#[test]
fn only_listed_origins_are_served() {
    let mut fake = Fake::default();
    let with_origin = |origin: &str| {
        let mut request = request("GET", "/health", "");
        request
            .headers
            .push(("origin".to_owned(), origin.to_owned()));
        request
    };
    assert_eq!(
        send(&mut fake, with_origin("https://evil.example")).status,
        403
    );
    assert_eq!(
        send(&mut fake, with_origin("https://app.example")).status,
        200
    );
    assert_eq!(
        send(&mut fake, with_origin("http://localhost:3000")).status,
        200
    );
    let unset = handle(
        &with_origin("https://app.example"),
        &Settings::default(),
        &mut fake,
    );
    assert_eq!(unset.status, 403, "with no list, any Origin is refused");
    assert_eq!(
        handle(
            &request("GET", "/health", ""),
            &Settings::default(),
            &mut fake
        )
        .status,
        200
    );
}

fn rpc(fake: &mut Fake, message: Value) -> Response {
    send(fake, request("POST", "/mcp", &message.to_string()))
}

#[test]
fn mcp_initialize_negotiates_and_lists_annotated_tools() {
    let mut fake = Fake::default();
    for (asked, given) in [
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let answer = rpc(
            &mut fake,
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": asked}}),
        );
        assert_eq!(json_of(&answer)["result"]["protocolVersion"], given);
    }
    let notified = rpc(
        &mut fake,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!((notified.status, notified.body.len()), (202, 0));
    let listed = json_of(&rpc(
        &mut fake,
        json!({"jsonrpc": "2.0", "id": "a", "method": "tools/list"}),
    ));
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert_eq!(tools[0]["inputSchema"]["type"], "object");
    assert_eq!(tools[0]["title"], "Get my user");
    let annotations: Vec<&Value> = tools.iter().map(|tool| &tool["annotations"]).collect();
    assert_eq!(
        annotations,
        [
            &json!({"title": "Get my user", "readOnlyHint": true, "idempotentHint": true, "openWorldHint": true}),
            &json!({"title": "Send message", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true}),
            &json!({"title": "Add reaction", "readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": true}),
            &json!({"title": "Edit message", "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true}),
            &json!({"title": "Delete message", "readOnlyHint": false, "destructiveHint": true, "idempotentHint": true, "openWorldHint": true}),
            // No hint MCP would read as a promise: a client assumes the worst.
            &json!({"title": "From a newer catalogue", "openWorldHint": true}),
        ]
    );
    assert_eq!(
        json_of(&rpc(
            &mut fake,
            json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        ))["result"],
        json!({})
    );
    let mut unsupported = request(
        "POST",
        "/mcp",
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    unsupported
        .headers
        .push(("mcp-protocol-version".to_owned(), "2020-01-01".to_owned()));
    assert_eq!(send(&mut fake, unsupported).status, 400);
}

#[test]
fn mcp_tool_results_and_errors() {
    let mut fake = Fake::default();
    let call = |name: &str| json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": {}}});
    let object = json_of(&rpc(&mut fake, call("discord_get_my_user")));
    assert_eq!(object["result"]["structuredContent"], json!({"id": "1"}));
    assert_eq!(object["result"]["content"][0]["type"], "text");
    fake.output = Some(Output::Json("[1,2]".to_owned()));
    let array = json_of(&rpc(&mut fake, call("discord_list_my_guilds")));
    assert_eq!(
        array["result"]["structuredContent"],
        json!({"items": [1, 2]})
    );
    fake.output = Some(Output::Binary(Blob {
        content_type: "image/png".to_owned(),
        data: vec![1, 2, 3],
    }));
    let image = json_of(&rpc(&mut fake, call("discord_get_my_user")));
    assert_eq!(
        image["result"]["content"][0],
        json!({"type": "image", "data": "AQID", "mimeType": "image/png"})
    );
    fake.error = Some(error(ErrorKind::RateLimited));
    let failed = json_of(&rpc(&mut fake, call("discord_get_my_user")));
    assert_eq!(failed["result"]["isError"], true);
    let text = failed["result"]["content"][0]["text"].as_str().unwrap();
    for part in [
        "rate-limited",
        "status 429",
        "code 20001",
        "retry_after_ms 1200",
    ] {
        assert!(text.contains(part), "{text}");
    }
    let unknown = json_of(&rpc(&mut fake, call("nope")));
    assert_eq!(unknown["error"]["code"], -32602);
}

#[test]
fn mcp_json_rpc_errors() {
    let mut fake = Fake::default();
    let parse = send(&mut fake, request("POST", "/mcp", "{"));
    assert_eq!(
        (parse.status, json_of(&parse)["error"]["code"].clone()),
        (400, json!(-32700))
    );
    for message in [
        json!([1]),
        json!({"id": 1, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": {}, "method": "ping"}),
    ] {
        assert_eq!(json_of(&rpc(&mut fake, message))["error"]["code"], -32600);
    }
    let unknown = rpc(
        &mut fake,
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list"}),
    );
    assert_eq!(json_of(&unknown)["error"]["code"], -32601);
    for params in [
        json!([1]),
        json!({"name": 5}),
        json!({"name": "discord_get_my_user", "arguments": "{}"}),
    ] {
        let bad = rpc(
            &mut fake,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}),
        );
        assert_eq!(json_of(&bad)["error"]["code"], -32602, "{params}");
    }
    assert!(fake.calls.is_empty());
}
