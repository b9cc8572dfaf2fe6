//! The `discord-host` binary's commands, run as a user runs them, against
//! the Discord sandbox: nothing but the binary and its environment.

mod common;

use std::process::{Command, Output, Stdio};

use discord_connector::catalogue::CATALOGUE;
use discord_sandbox::Sandbox;
use discord_sandbox::tokens::{BOT_TOKEN, USER_TOKEN};
use serde_json::Value;

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

/// `discord-host ARGS` with `env` and no token or setting from this
/// process's environment, run to its end on a blocking thread.
async fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(DISCORD_HOST);
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("DISCORD_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().map(|(name, value)| (name, value)));
    tokio::task::spawn_blocking(move || command.output().expect("discord-host runs"))
        .await
        .unwrap()
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn tools_json_lists_every_tool_with_its_schema() {
    let tools = stdout_json(&run(&["tools", "--json"], &[]).await);
    let tools = tools.as_array().expect("an array");
    assert_eq!(tools.len(), CATALOGUE.len());
    for tool in tools {
        assert!(tool["name"].as_str().unwrap().starts_with("discord_"));
        assert_eq!(tool["input_schema"]["type"], "object", "{tool}");
        assert!(
            tool["accepts"]
                .as_array()
                .is_some_and(|kinds| !kinds.is_empty())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_sends_the_token_from_the_environment_and_reports_errors() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let api = ("DISCORD_API_BASE", sandbox.base_url());

    let me = stdout_json(
        &run(
            &["call", "discord_get_my_user"],
            &[api.clone(), ("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned())],
        )
        .await,
    );
    assert_eq!(me["username"], "nelly");
    let sent = sandbox
        .requests()
        .pop()
        .expect("the call reached the sandbox");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {USER_TOKEN}").as_str())
    );

    let missing = run(
        &["call", "discord_get_user", r#"{"user_id": "1"}"#],
        &[api.clone(), ("DISCORD_BOT_TOKEN", BOT_TOKEN.to_owned())],
    )
    .await;
    assert!(!missing.status.success());
    let error: Value = serde_json::from_slice(&missing.stderr).expect("the error as JSON");
    assert_eq!(error["kind"], "not-found");
    assert_eq!(error["status"], 404);
    assert_eq!(error["code"], 10013);

    let both = run(
        &["call", "discord_get_my_user"],
        &[
            api,
            ("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned()),
            ("DISCORD_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ],
    )
    .await;
    assert!(!both.status.success());
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(stderr.contains("pick one with --credential"), "{stderr}");
    for token in [USER_TOKEN, BOT_TOKEN] {
        assert!(!stderr.contains(token), "no token in errors: {stderr}");
    }
}

#[tokio::test]
async fn export_writes_the_three_components() {
    let out = std::env::temp_dir().join(format!("discord-host-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = run(&["export", out.to_str().unwrap()], &[]).await;
    assert!(output.status.success());
    for name in [
        "discord_connector.wasm",
        "discord_rest_mcp.wasm",
        "discord_typed_tools.wasm",
    ] {
        let bytes = std::fs::read(out.join(name)).expect(name);
        assert_eq!(&bytes[..4], b"\0asm", "{name} is WebAssembly");
    }
    let connector = out.join("discord_connector.wasm");
    let tools = stdout_json(
        &run(
            &[
                "tools",
                "--json",
                "--component",
                connector.to_str().unwrap(),
            ],
            &[],
        )
        .await,
    );
    assert_eq!(
        tools.as_array().map(Vec::len),
        Some(CATALOGUE.len()),
        "an exported component loads with --component"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_rest_calls_with_the_callers_token() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let mut command = tokio::process::Command::new(DISCORD_HOST);
    command
        .args(["serve", "--port", "0"])
        .env("DISCORD_API_BASE", sandbox.base_url())
        .env_remove("DISCORD_BOT_TOKEN")
        .env_remove("DISCORD_BEARER_TOKEN");
    let (_server, base) = common::serving(command).await;

    let curl = |path: &str, token: &str| {
        let url = format!("{base}{path}");
        let token = token.to_owned();
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let address = url.trim_start_matches("http://");
            let (host, path) = address.split_once('/').unwrap();
            let mut stream = std::net::TcpStream::connect(host).unwrap();
            write!(
                stream,
                "POST /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            )
            .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        })
    };
    let answer = curl("/v1/tools/discord_get_my_user", USER_TOKEN)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"username\":\"nelly\""), "{answer}");
    let refused = curl("/v1/tools/discord_get_my_user", "sbx-user.revoked")
        .await
        .unwrap();
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_writes_binary_output_to_the_file_named() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let png = std::env::temp_dir().join(format!("discord-host-widget-{}.png", std::process::id()));
    let output = run(
        &[
            "call",
            "discord_get_guild_widget_png",
            r#"{"guild_id": "1144100424245366835"}"#,
            "-o",
            png.to_str().unwrap(),
        ],
        &[("DISCORD_API_BASE", sandbox.base_url())],
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::read(&png).expect("the PNG file");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    std::fs::remove_file(&png).unwrap();
}

#[tokio::test]
async fn auth_list_and_revoke_work_on_a_store() {
    let store = std::env::temp_dir().join(format!("discord-host-auth-{}", std::process::id()));
    std::fs::create_dir_all(&store).unwrap();
    let file = store.join("tokens.sqlite3");
    let env = [
        ("DISCORD_STORE_URL", file.display().to_string()),
        ("DISCORD_CLIENT_ID", "1178765261640953856".to_owned()),
    ];
    let listed = run(&["auth", "list"], &env).await;
    assert!(listed.status.success());
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.starts_with("CONNECTION"),
        "a header and no account: {text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    let revoked = run(&["auth", "revoke", "--identifier", "nobody"], &env).await;
    assert!(!revoked.status.success());
    let stderr = String::from_utf8_lossy(&revoked.stderr);
    assert!(
        stderr.contains("discord/nobody"),
        "the account is named: {stderr}"
    );
    std::fs::remove_dir_all(&store).unwrap();
}
