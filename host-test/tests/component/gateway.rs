//! The composed gateway (`dist/discord_gateway.wasm`, as `cargo xtask dist`
//! builds it) served by `discord_host::serve::Server`, as `discord-host
//! serve` runs it, against the sandbox, with a real HTTP client.

use std::net::SocketAddr;
use std::sync::OnceLock;

use bytes::Bytes;
use discord_host::serve::Server;
use host_test::BUILT_GATEWAY;
use host_test::sandbox::tokens::{APPLICATION_ID, IDENTIFY_ONLY_TOKEN, USER_TOKEN};
use host_test::sandbox::{CLIENT_SECRET, Fault, Sandbox};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

fn compiled() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::from_file(BUILT_GATEWAY).expect("the gateway loads"))
}

/// The sandbox and the gateway served against it.
pub struct Served {
    pub sandbox: Sandbox,
    pub address: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An answer: status, headers (lower-case names) and body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "{}: not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn kind(&self) -> Value {
        self.json()["error"]["kind"].clone()
    }
}

pub async fn serve() -> Served {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let server = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_env("DISCORD_AUTHORIZE_URL", sandbox.authorize_url())
        .with_env("DISCORD_CLIENT_ID", APPLICATION_ID)
        .with_env("DISCORD_CLIENT_SECRET", CLIENT_SECRET)
        .with_env("GATEWAY_ALLOWED_ORIGINS", "https://agent.example");
    let (address, _serving) = server
        .bind(([127, 0, 0, 1], 0).into())
        .await
        .expect("the gateway is served");
    Served {
        sandbox,
        address,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

impl Served {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("a request");
        let response = self.client.request(request).await.expect("an answer");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization));
        }
        self.send("POST", path, &headers, body.to_string().as_bytes())
            .await
    }
}

#[tokio::test]
async fn health_and_the_catalogue() {
    let served = serve().await;
    let health = served.send("GET", "/health", &[], b"").await;
    assert_eq!(
        health.json(),
        json!({"status": "ok", "tools": 16, "version": env!("CARGO_PKG_VERSION")})
    );
    let tools = served.send("GET", "/v1/tools", &[], b"").await.json();
    let tools = tools["tools"].as_array().expect("a list");
    assert_eq!(tools.len(), 16);
    for tool in tools {
        assert!(tool["input_schema"].is_object(), "{tool}");
        assert!(
            tool["accepts"].is_array() && tool["scopes"].is_array(),
            "{tool}"
        );
    }
}

#[tokio::test]
async fn tools_answer_with_their_json_or_png() {
    let served = serve().await;
    let user = served
        .post_json("/v1/tools/discord_get_my_user", Some(USER_TOKEN), json!({}))
        .await;
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["username"], "nelly");
    let empty = served
        .send("POST", "/v1/tools/discord_get_gateway", &[], b"")
        .await;
    assert_eq!(
        (empty.status, empty.json()["url"].is_string()),
        (200, true),
        "an empty body is {{}}"
    );
    let png = served
        .post_json(
            "/v1/tools/discord_get_guild_widget_png",
            None,
            json!({"guild_id": "1144100424245366835", "style": "banner4"}),
        )
        .await;
    assert_eq!(
        (png.status, png.header("content-type")),
        (200, Some("image/png"))
    );
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let bot = served
        .send(
            "POST",
            "/v1/tools/discord_get_my_user",
            &[(
                "authorization",
                &format!("Bot {}", host_test::sandbox::tokens::BOT_TOKEN),
            )],
            b"",
        )
        .await;
    assert_eq!(bot.status, 200);
}

#[tokio::test]
async fn contract_errors_become_statuses() {
    let served = serve().await;
    let cases = [
        (
            "/v1/tools/discord_nope",
            Some(USER_TOKEN),
            json!({}),
            404,
            "unknown-tool",
        ),
        (
            "/v1/tools/discord_get_user",
            Some(USER_TOKEN),
            json!({"user_id": "x"}),
            400,
            "invalid-arguments",
        ),
        (
            "/v1/tools/discord_get_my_user",
            None,
            json!({}),
            401,
            "missing-credential",
        ),
        (
            "/v1/tools/discord_get_my_user",
            Some("sbx-user.revoked"),
            json!({}),
            401,
            "unauthorized",
        ),
        (
            "/v1/tools/discord_retrieve_user_connections",
            Some(IDENTIFY_ONLY_TOKEN),
            json!({}),
            403,
            "forbidden",
        ),
        (
            "/v1/tools/discord_get_guild_widget",
            None,
            json!({"guild_id": "1"}),
            404,
            "not-found",
        ),
    ];
    for (path, token, arguments, status, kind) in cases {
        let answer = served.post_json(path, token, arguments).await;
        assert_eq!(
            (answer.status, answer.kind()),
            (status, json!(kind)),
            "{path}"
        );
        assert_eq!(
            answer.header("www-authenticate").is_some(),
            kind == "missing-credential",
            "{path}"
        );
    }
    served.sandbox.inject(
        Fault::json(
            429,
            json!({"message": "You are being rate limited.", "retry_after": 12.5, "global": false}),
        )
        .on("/gateway"),
    );
    let limited = served
        .post_json("/v1/tools/discord_get_gateway", None, json!({}))
        .await;
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (429, Some("13"))
    );
    assert_eq!(limited.json()["error"]["retry_after_ms"], 12500);
    assert!(
        limited.json()["error"]["details"].is_object(),
        "details is an object"
    );
    served.sandbox.inject(
        Fault::json(400, json!({"code": 50035, "message": "Invalid Form Body"})).on("/gateway"),
    );
    let upstream = served
        .post_json("/v1/tools/discord_get_gateway", None, json!({}))
        .await;
    assert_eq!((upstream.status, upstream.kind()), (502, json!("upstream")));
    served.sandbox.inject(
        Fault::status(200)
            .body("<html>")
            .header("content-type", "text/html")
            .on("/gateway"),
    );
    let transport = served
        .post_json("/v1/tools/discord_get_gateway", None, json!({}))
        .await;
    assert_eq!(
        (transport.status, transport.kind()),
        (504, json!("transport"))
    );
}

#[tokio::test]
async fn the_proxy_passes_discords_answer_through_and_refuses_escapes() {
    let served = serve().await;
    let bearer = format!("Bearer {USER_TOKEN}");
    let guilds = served
        .send(
            "GET",
            "/v1/proxy/users/@me/guilds?limit=1",
            &[("authorization", &bearer)],
            b"",
        )
        .await;
    assert_eq!(guilds.status, 200);
    assert_eq!(guilds.json().as_array().map(Vec::len), Some(1));
    let missing = served
        .send(
            "GET",
            "/v1/proxy/users/1",
            &[("authorization", &bearer)],
            b"",
        )
        .await;
    assert_eq!(missing.status, 404, "Discord's status as it is");
    assert_eq!(missing.json()["code"], 10013);
    let escape = served
        .send(
            "GET",
            "/v1/proxy/users/%2e%2e/oauth2/token",
            &[("authorization", &bearer)],
            b"",
        )
        .await;
    assert_eq!(
        (escape.status, escape.kind()),
        (400, json!("invalid-arguments"))
    );
}

#[tokio::test]
async fn oauth_routes_use_the_gateways_client() {
    let served = serve().await;
    let link = served
        .post_json(
            "/v1/oauth/authorization-link",
            None,
            json!({"redirect_uri": "http://127.0.0.1:9/callback", "scopes": ["identify", "guilds"]}),
        )
        .await;
    assert_eq!(link.status, 200);
    let link = link.json();
    assert!(
        link["url"].as_str().unwrap().contains(APPLICATION_ID),
        "{link}"
    );
    assert_eq!(link["code_verifier"].as_str().map(str::len), Some(43));
    let refused = served
        .post_json(
            "/v1/oauth/token",
            None,
            json!({"grant_type": "refresh_token", "refresh_token": "sbx-rt.unknown"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.kind()),
        (401, json!("unauthorized"))
    );
    assert_eq!(refused.json()["error"]["details"]["error"], "invalid_grant");
    let revoked = served
        .post_json("/v1/oauth/revoke", None, json!({"token": "sbx-rt.unknown"}))
        .await;
    assert_eq!(revoked.status, 204);
}

#[tokio::test]
async fn bad_input_is_refused_and_never_traps() {
    let served = serve().await;
    let json_type = [("content-type", "application/json")];
    let malformed = served
        .send("POST", "/v1/tools/discord_get_gateway", &json_type, b"{")
        .await;
    assert_eq!(
        (malformed.status, malformed.kind()),
        (400, json!("invalid-arguments"))
    );
    let huge = vec![b' '; (1 << 20) + 10];
    let too_large = served
        .send("POST", "/v1/tools/discord_get_gateway", &json_type, &huge)
        .await;
    assert_eq!(
        (too_large.status, too_large.kind()),
        (413, json!("invalid-arguments"))
    );
    let form = served
        .send(
            "POST",
            "/v1/tools/discord_get_gateway",
            &[("content-type", "text/plain")],
            b"hi",
        )
        .await;
    assert_eq!(
        (form.status, form.kind()),
        (415, json!("invalid-arguments"))
    );
    let unknown = served.send("GET", "/v2/anything", &[], b"").await;
    assert_eq!((unknown.status, unknown.kind()), (404, json!("not-found")));
    let wrong = served.send("PUT", "/v1/tools", &[], b"").await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("GET")));
    for method in ["GET", "DELETE"] {
        let answer = served.send(method, "/mcp", &[], b"").await;
        assert_eq!((answer.status, answer.header("allow")), (405, Some("POST")));
    }
    let foreign = served
        .send("GET", "/health", &[("origin", "https://evil.example")], b"")
        .await;
    assert_eq!((foreign.status, foreign.kind()), (403, json!("forbidden")));
    let allowed = served
        .send(
            "GET",
            "/health",
            &[("origin", "https://agent.example")],
            b"",
        )
        .await;
    assert_eq!(allowed.status, 200);
    for (body, code) in [
        (&b"{"[..], -32700),
        (br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}"#,
            -32601,
        ),
        (
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"discord_nope"}}"#,
            -32602,
        ),
    ] {
        let answer = served.send("POST", "/mcp", &json_type, body).await;
        assert_eq!(
            answer.json()["error"]["code"],
            code,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        served.sandbox.requests().len(),
        0,
        "nothing reached Discord"
    );
}
