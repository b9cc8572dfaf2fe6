//! `discord-host mcp` with a client nobody here wrote: the official MCP
//! Python SDK starts it over stdio (a token from the environment, or a
//! connected account refreshed once) and connects to it over Streamable
//! HTTP; and lines that are not JSON-RPC get a parse error.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use discord_accounts::ConnectionKey;
use discord_connector::catalogue::CATALOGUE;
use discord_host::Connector;
use discord_sandbox::tokens::{APPLICATION_ID, USER_TOKEN};
use discord_sandbox::{CLIENT_SECRET, Sandbox};
use host_test::mcp_sdk::{check_annotations, check_http_report, http_report, stdio_report};
use host_test::oauth::{confidential, connect};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

/// Starts `command` with its stdin and stdout piped to this test, killed
/// when dropped.
fn over_pipes(command: &mut tokio::process::Command) -> tokio::process::Child {
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("discord-host starts")
}

/// Starts `discord-host mcp --serve-http 0` and reads the URL it prints.
async fn serve_http(env: &[(&str, String)]) -> (tokio::process::Child, String) {
    let mut command = tokio::process::Command::new(DISCORD_HOST);
    command
        .args(["mcp", "--serve-http", "0"])
        .env_remove("DISCORD_BOT_TOKEN")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("discord-host starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr") {
            if let Some(url) = line.strip_prefix("MCP_URL=") {
                return url.to_owned();
            }
        }
        panic!("discord-host ended without serving");
    })
    .await
    .expect("the URL within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_reaches_discord_host_mcp_over_streamable_http() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned()));
    let (_server, url) = serve_http(&env).await;
    check_http_report(&http_report(&url, "the-host-ignores-this-header").await);

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let initialize = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}},
    });
    let mut statuses = Vec::new();
    for origin in ["https://evil.example", "http://localhost:5173"] {
        let request = hyper::Request::post(&url)
            .header("origin", origin)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(Full::new(Bytes::from(initialize.to_string())))
            .unwrap();
        statuses.push(
            client
                .request(request)
                .await
                .expect("an answer")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [403, 200],
        "a page from elsewhere is refused, a local one served"
    );
}

#[tokio::test]
async fn lines_that_are_not_messages_get_parse_errors_and_the_server_goes_on() {
    let mut child = over_pipes(
        tokio::process::Command::new(DISCORD_HOST)
            .arg("mcp")
            .env("DISCORD_BOT_TOKEN", "unused"),
    );
    let mut stdin = child.stdin.take().unwrap();
    let mut input = b"{not json\n".to_vec();
    input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\"}\n");
    input.extend(std::iter::repeat_n(b' ', 4 * 1024 * 1024 + 1));
    input.extend_from_slice(b"\n");
    input.extend_from_slice(
        concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            "\n",
        )
        .as_bytes(),
    );
    let writer = tokio::spawn(async move {
        stdin.write_all(&input).await.unwrap();
        stdin
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("an answer within 30 s")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).expect("JSON")
    };
    for problem in ["not JSON", "not UTF-8", "longer than"] {
        let parse_error = next().await;
        assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
        assert_eq!(parse_error["id"], Value::Null);
        let message = parse_error["error"]["message"].as_str().unwrap();
        assert!(message.contains(problem), "{message}");
    }
    let initialized = next().await;
    assert_eq!(initialized["id"], 1, "{initialized}");
    assert_eq!(initialized["result"]["serverInfo"]["name"], "discord-host");
    let pong = next().await;
    assert_eq!(pong["id"], 2, "{pong}");
    assert!(pong["result"].is_object(), "{pong}");
    drop(writer.await.unwrap());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the server ends when stdin closes")
        .unwrap();
    assert!(status.success(), "{status}");
}

fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("DISCORD_API_BASE", sandbox.base_url()),
        ("DISCORD_AUTHORIZE_URL", sandbox.authorize_url()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_runs_discord_host_mcp_over_stdio() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned()));
    env.push(("REVOKED_BEARER_TOKEN", "sbx-user.revoked".to_owned()));
    let report = stdio_report(Path::new(DISCORD_HOST), &["mcp"], &env).await;

    let tools = report["tools"].as_array().expect("tools");
    assert_eq!(
        tools.len(),
        CATALOGUE.len(),
        "with a token from the environment, every tool"
    );
    check_annotations(tools);
    let guilds = &report["json"];
    assert_eq!(guilds["isError"], false);
    assert_eq!(
        guilds["structuredContent"]["items"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "an array is wrapped in items"
    );
    let png = &report["png"];
    assert_eq!(
        (
            png["content"][0]["type"].as_str(),
            png["content"][0]["mimeType"].as_str()
        ),
        (Some("image"), Some("image/png"))
    );
    let failed = &report["failed"];
    assert_eq!(failed["isError"], true);
    let text = failed["content"][0]["text"].as_str().unwrap();
    for part in ["unauthorized", "status 401", "code 0"] {
        assert!(text.contains(part), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_connection_about_to_expire_is_refreshed_once() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let connector = Connector::from_bytes(discord_artifacts::CONNECTOR)
        .expect("the connector loads")
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_env("DISCORD_AUTHORIZE_URL", sandbox.authorize_url());
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let store =
        std::env::temp_dir().join(format!("discord-mcp-store-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&store);
    let clients = discord_accounts::ClientRegistry::default().with(
        "discord",
        &confidential(),
        &["identify", "guilds"],
    );
    let authorizer = discord_accounts::Authorizer::new(
        connector,
        std::sync::Arc::new(discord_accounts::TokenStore::open(&store).unwrap()),
        clients,
    );
    let stored = connect(&authorizer, "ada").await;
    sandbox.set_token_lifetime(Duration::from_secs(3600));

    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_CLIENT_ID", APPLICATION_ID.to_owned()));
    env.push(("DISCORD_CLIENT_SECRET", CLIENT_SECRET.to_owned()));
    env.push(("DISCORD_STORE_URL", store.display().to_string()));
    let report = stdio_report(
        Path::new(DISCORD_HOST),
        &["mcp", "--connection", "discord", "--identifier", "ada"],
        &env,
    )
    .await;

    let names: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(names.len(), CATALOGUE.len() + 1, "every tool and the link");
    let tools = report["tools"].as_array().unwrap();
    check_annotations(tools);
    let link = tools
        .iter()
        .find(|tool| tool["name"] == "discord_authorization_link")
        .expect("the link tool");
    assert_eq!(
        link["annotations"],
        serde_json::json!({"title": "Authorization link", "readOnlyHint": false,
            "destructiveHint": false, "idempotentHint": false, "openWorldHint": true}),
        "a new flow each time, destroying nothing"
    );
    assert_eq!(report["json"]["isError"], false, "{}", report["json"]);
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "expiring within the margin: exactly one refresh"
    );
    let row = authorizer
        .store()
        .get(&ConnectionKey::new("discord", "ada"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        row.refresh_token, stored.refresh_token,
        "the rotated pair is stored"
    );
    let _ = std::fs::remove_file(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_authorization_link_closes_the_listener_of_the_one_before() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let store =
        std::env::temp_dir().join(format!("discord-mcp-links-{}.sqlite3", std::process::id()));
    let mut child = over_pipes(
        tokio::process::Command::new(DISCORD_HOST)
            .args(["mcp", "--connection", "discord", "--identifier", "ada"])
            .envs(sandbox_env(&sandbox))
            .env("DISCORD_CLIENT_ID", APPLICATION_ID)
            .env("DISCORD_CLIENT_SECRET", CLIENT_SECRET)
            .env("DISCORD_STORE_URL", &store),
    );
    const LINKS: usize = 50;
    let mut input = String::from(concat!(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "\n",
    ));
    for id in 1..=LINKS {
        input.push_str(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"discord_authorization_link","arguments":{{"scopes":["identify"]}}}}}}"#
        ));
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ports = Vec::new();
    while ports.len() < LINKS {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("an answer within 30 s")
            .unwrap()
            .expect("a line");
        let answer: Value = serde_json::from_str(&line).unwrap();
        if answer["id"] == 0 {
            continue;
        }
        let url = answer["result"]["structuredContent"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("a link in {answer}"))
            .to_owned();
        let redirect = url
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("redirect_uri="))
            .expect("a redirect URI");
        let port: u16 = redirect
            .split("%3A")
            .nth(2)
            .and_then(|rest| rest.split("%2F").next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("a loopback port in {redirect}"));
        ports.push(port);
    }
    // An aborted task drops its listener when the runtime next gets to it.
    let open = || -> Vec<u16> {
        ports
            .iter()
            .copied()
            .filter(|port| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok())
            .collect()
    };
    let mut listening = open();
    for _ in 0..20 {
        if listening.len() <= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        listening = open();
    }
    // rmcp serves the calls concurrently, so which link is the newest is
    // not the order of the answers: one of them, and only one, listens.
    assert_eq!(
        listening.len(),
        1,
        "one pending link's listener open of {LINKS}: {listening:?}"
    );
    drop(stdin);
    let _ = child.wait().await;
    let _ = std::fs::remove_file(&store);
}
