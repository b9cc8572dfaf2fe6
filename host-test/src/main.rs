//! `discord-host`: the command line over the host library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use discord_host::connector::{BUILT_COMPONENT, Connector, Credential, Output};
use discord_host::demo;
use discord_host::sandbox::Sandbox;

/// Run the Discord connector component: list its tools, call one, or run
/// the demo against a local Discord sandbox.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The component to load (defaults to the one built from this source).
    #[arg(long, global = true, value_name = "WASM")]
    component: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the tools, as a table or as the component's JSON.
    Tools {
        /// Print JSON: name, description, input schema, scopes, accepts.
        #[arg(long)]
        json: bool,
    },
    /// Call one tool. The credential comes from DISCORD_BEARER_TOKEN or
    /// DISCORD_BOT_TOKEN in the environment, never from the command line.
    Call {
        /// The tool, such as discord_get_my_user.
        tool: String,
        /// Its arguments, a JSON object.
        #[arg(default_value = "{}")]
        arguments: String,
        /// Which credential to send; `auto` picks whichever token is set.
        #[arg(long, value_enum, default_value_t = CredentialChoice::Auto)]
        credential: CredentialChoice,
        /// Discord's API base (the component defaults to discord.com).
        #[arg(long, env = "DISCORD_API_BASE")]
        api_base: Option<String>,
        /// Where to write binary output (the widget PNG).
        #[arg(long, short, default_value = "discord-output.png")]
        output: PathBuf,
    },
    /// Start the Discord sandbox and run all 16 tools against it.
    Demo,
    /// Run the Discord sandbox alone until interrupted.
    Sandbox {
        /// The loopback port to listen on.
        #[arg(long, default_value_t = 8086)]
        port: u16,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CredentialChoice {
    Auto,
    None,
    Bearer,
    Bot,
}

fn credential_from_env(choice: CredentialChoice) -> anyhow::Result<Credential> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let bearer = var("DISCORD_BEARER_TOKEN");
    let bot = var("DISCORD_BOT_TOKEN");
    Ok(match choice {
        CredentialChoice::None => Credential::None,
        CredentialChoice::Bearer => {
            Credential::Bearer(bearer.context("DISCORD_BEARER_TOKEN is not set")?)
        }
        CredentialChoice::Bot => Credential::Bot(bot.context("DISCORD_BOT_TOKEN is not set")?),
        CredentialChoice::Auto => match (bearer, bot) {
            (Some(_), Some(_)) => bail!(
                "both DISCORD_BEARER_TOKEN and DISCORD_BOT_TOKEN are set: pick one with --credential"
            ),
            (Some(token), None) => Credential::Bearer(token),
            (None, Some(token)) => Credential::Bot(token),
            (None, None) => Credential::None,
        },
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let component = cli
        .component
        .unwrap_or_else(|| PathBuf::from(BUILT_COMPONENT));
    let load = || Connector::from_file(&component).map_err(|error| anyhow::anyhow!("{error:#}"));

    match cli.command {
        Command::Tools { json } => {
            let tools = load()?
                .list_tools()
                .await
                .map_err(|error| anyhow::anyhow!("{error:#}"))?;
            if json {
                let tools: Vec<serde_json::Value> = tools
                    .iter()
                    .map(|tool| {
                        serde_json::json!({
                            "name": tool.name,
                            "description": tool.description,
                            "input_schema": serde_json::from_str::<serde_json::Value>(&tool.input_schema).unwrap_or_default(),
                            "scopes": tool.scopes,
                            "accepts": tool.accepts.iter().map(|kind| format!("{kind:?}").to_lowercase()).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&tools)?);
            } else {
                println!("{:<52} {:<18} SCOPES", "TOOL", "ACCEPTS");
                for tool in tools {
                    let accepts: Vec<String> = tool
                        .accepts
                        .iter()
                        .map(|kind| format!("{kind:?}").to_lowercase())
                        .collect();
                    println!(
                        "{:<52} {:<18} {}",
                        tool.name,
                        accepts.join(","),
                        tool.scopes.join(" ")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            tool,
            arguments,
            credential,
            api_base,
            output,
        } => {
            let credential = credential_from_env(credential)?;
            let mut connector = load()?;
            if let Some(api_base) = api_base {
                connector = connector.with_env("DISCORD_API_BASE", api_base);
            }
            let result = connector
                .execute_tool(&tool, &arguments, &credential)
                .await
                .map_err(|error| anyhow::anyhow!("{error:#}"))?;
            match result {
                Ok(Output::Json(json)) => {
                    let pretty = serde_json::from_str::<serde_json::Value>(&json)
                        .and_then(|value| serde_json::to_string_pretty(&value))
                        .unwrap_or(json);
                    println!("{pretty}");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Output::Binary(blob)) => {
                    std::fs::write(&output, &blob.data)
                        .with_context(|| format!("writing {}", output.display()))?;
                    println!(
                        "wrote {} bytes of {} to {}",
                        blob.data.len(),
                        blob.content_type,
                        output.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    let report = serde_json::json!({
                        "kind": format!("{:?}", error.kind),
                        "message": error.message,
                        "status": error.status,
                        "code": error.code,
                        "details": error.details.as_deref().and_then(|details| serde_json::from_str::<serde_json::Value>(details).ok()),
                        "retry_after_ms": error.retry_after_ms,
                    });
                    eprintln!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Demo => {
            let sandbox = Sandbox::start().await?;
            println!("Discord sandbox at {}", sandbox.base_url());
            let connector = load()?.with_env("DISCORD_API_BASE", sandbox.base_url());
            let outcomes = demo::run(&connector).await;
            for outcome in &outcomes {
                println!("{}", outcome.line());
            }
            let succeeded = outcomes
                .iter()
                .filter(|outcome| outcome.result.is_ok())
                .count();
            println!("{succeeded} of {} tools succeeded", outcomes.len());
            Ok(if succeeded == outcomes.len() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Sandbox { port } => {
            let sandbox = Sandbox::start_on(([127, 0, 0, 1], port).into()).await?;
            println!("DISCORD_API_BASE={}", sandbox.base_url());
            tokio::signal::ctrl_c().await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
