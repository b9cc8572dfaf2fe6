//! `DISCORD_TOOLS` through every command: `--tools LIST` (or the variable
//! itself) limits what `tools` lists, what `call` runs, what `mcp` serves
//! and, through the environment the served component and the connector
//! plugged into it share, what `serve`'s `/mcp` and REST routes offer.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use discord_connector::catalogue::CATALOGUE;
use discord_sandbox::Sandbox;
use discord_sandbox::tokens::{BOT_TOKEN, USER_TOKEN};
use host_test::mcp_sdk::{check_annotations, http_report, stdio_report};
use serde_json::Value;

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

/// The selection the docs suggest for a bot: what reads, and sending.
const BOT_SELECTION: &str = "discord_get_*,discord_list_*,discord_send_message";

/// The catalogue's tools [`BOT_SELECTION`] selects, in catalogue order.
fn bot_selection() -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .map(|tool| tool.name)
        .filter(|name| {
            name.starts_with("discord_get_")
                || name.starts_with("discord_list_")
                || *name == "discord_send_message"
        })
        .collect()
}

/// `discord-host ARGS` with `env` and no DISCORD_ setting from this
/// process's environment, run to its end on a blocking thread.
async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(DISCORD_HOST);
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("DISCORD_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().expect("discord-host runs"))
        .await
        .unwrap()
}

fn names(tools: &Value) -> Vec<&str> {
    tools
        .as_array()
        .expect("an array of tools")
        .iter()
        .map(|tool| tool["name"].as_str().expect("a name"))
        .collect()
}

#[tokio::test]
async fn tools_lists_the_selection_from_the_flag_or_the_variable() {
    let expected = bot_selection();
    assert!(expected.len() > 10 && expected.len() < CATALOGUE.len());
    for (args, env) in [
        (&["tools", "--json", "--tools", BOT_SELECTION][..], &[][..]),
        (
            &["tools", "--json"][..],
            &[("DISCORD_TOOLS", BOT_SELECTION)][..],
        ),
    ] {
        let output = run(args, env).await;
        assert!(output.status.success(), "{output:?}");
        let tools: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(names(&tools), expected, "{args:?} {env:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_refuses_a_tool_outside_the_selection_before_sending() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let api = sandbox.base_url();
    let env = [
        ("DISCORD_API_BASE", api.as_str()),
        ("DISCORD_BOT_TOKEN", BOT_TOKEN),
    ];
    let refused = run(
        &[
            "call",
            "--tools",
            "discord_get_*",
            "discord_delete_message",
            r#"{"channel_id": "1", "message_id": "2"}"#,
        ],
        &env,
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unknown-tool"), "{stderr}");
    assert!(sandbox.requests().is_empty(), "nothing was sent");

    let allowed = run(
        &[
            "call",
            "--tools",
            "discord_get_*",
            "discord_get_user",
            r#"{"user_id": "@me"}"#,
        ],
        &env,
    )
    .await;
    assert!(allowed.status.success(), "{allowed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_serves_only_the_selection_with_its_annotations() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let env = [
        ("DISCORD_API_BASE", sandbox.base_url()),
        ("DISCORD_BEARER_TOKEN", USER_TOKEN.to_owned()),
    ];
    let report = stdio_report(
        Path::new(DISCORD_HOST),
        &["mcp", "--tools", BOT_SELECTION],
        &env,
    )
    .await;
    assert_eq!(names(&report["tools"]), bot_selection());
    check_annotations(report["tools"].as_array().unwrap());
    assert_eq!(report["json"]["isError"], false, "{}", report["json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_passes_discord_tools_to_the_plugged_in_connector() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let read_only: Vec<&str> = CATALOGUE
        .iter()
        .map(|tool| tool.name)
        .filter(|name| name.starts_with("discord_get_"))
        .collect();
    // The variable passes through; the flag wins over it.
    for (flag, variable) in [
        (None, "discord_get_*"),
        (Some("discord_get_*"), "discord_list_*"),
    ] {
        let mut command = tokio::process::Command::new(DISCORD_HOST);
        command.args(["serve", "--port", "0"]);
        if let Some(flag) = flag {
            command.args(["--tools", flag]);
        }
        command
            .env("DISCORD_API_BASE", sandbox.base_url())
            .env("DISCORD_TOOLS", variable)
            .env_remove("DISCORD_BOT_TOKEN")
            .env_remove("DISCORD_BEARER_TOKEN");
        let (_server, base) = common::serving(command).await;

        let report = http_report(&format!("{base}/mcp"), USER_TOKEN).await;
        assert_eq!(names(&report["tools"]), read_only, "{flag:?} {variable}");
        check_annotations(report["tools"].as_array().unwrap());
        assert_eq!(report["me"]["structuredContent"]["username"], "nelly");
    }
}

#[tokio::test]
async fn tools_and_mcp_refuse_a_selection_the_component_refuses() {
    for args in [
        &["tools", "--tools", "discord_get_*,discord_get_mi_user"][..],
        &["mcp", "--tools", "discord_get_*,discord_get_mi_user"][..],
    ] {
        let output = run(args, &[]).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("is refused") && stderr.contains("discord_get_mi_user"),
            "{args:?}: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{args:?}: nothing served or listed"
        );
    }
}
