//! `host-test`: the demo and the load test, each against a local Discord
//! sandbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use discord_host::Connector;
use discord_sandbox::{RateLimitPolicy, Sandbox};
use host_test::{demo, load};

/// Run the connector built from this source against a local Discord sandbox.
#[derive(Parser)]
struct Cli {
    /// The connector component to run (defaults to the one built from this source).
    #[arg(long, global = true, value_name = "WASM")]
    component: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the sandbox, run the read tools, a bot's flow and the OAuth flow against it.
    Demo,
    /// A bounded load test on loopback: many calls over many concurrent
    /// instances while the sandbox injects random faults.
    Load {
        /// How many tool calls.
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
        /// How many instances at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The share of requests the sandbox answers with a random fault.
        #[arg(long, default_value_t = 0.1)]
        fault_rate: f64,
        /// The seed of the fault generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

impl Cli {
    /// The component's bytes: the file given, else the one built from this source.
    fn component(&self) -> anyhow::Result<Vec<u8>> {
        match &self.component {
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))
            }
            None => Ok(discord_artifacts::CONNECTOR.to_vec()),
        }
    }

    fn connector(&self) -> anyhow::Result<Connector> {
        Ok(Connector::from_bytes(&self.component()?)?)
    }
}

async fn run_demo(cli: &Cli) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::start().await?;
    println!("Discord sandbox at {}", sandbox.base_url());
    let connector = cli
        .connector()?
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_env("DISCORD_AUTHORIZE_URL", sandbox.authorize_url());
    let outcomes = demo::run(&connector).await;
    for outcome in &outcomes {
        println!("{}", outcome.line());
    }
    let succeeded = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_ok())
        .count();
    println!("{succeeded} of {} tools succeeded", outcomes.len());

    println!("\nA bot on the sandbox's guild (the bot tools, with the bot token):");
    let bot_steps = demo::run_bot(&connector).await;
    for step in &bot_steps {
        println!("{}", step.line());
    }
    let bot_ok =
        bot_steps.len() == demo::BOT_FLOW_STEPS && bot_steps.iter().all(|step| step.result.is_ok());
    let bot_succeeded = bot_steps.iter().filter(|step| step.result.is_ok()).count();
    println!(
        "{bot_succeeded} of {} bot steps succeeded",
        demo::BOT_FLOW_STEPS
    );

    println!("\nOAuth 2.0 with PKCE, against the sandbox:");
    let steps = demo::run_oauth(&connector, &sandbox).await;
    for step in &steps {
        match &step.result {
            Ok(text) => println!("ok   {:<9} {text}", step.step),
            Err(error) => println!("FAIL {:<9} {error}", step.step),
        }
    }
    let flow_ok = !steps.is_empty() && steps.iter().all(|step| step.result.is_ok());
    Ok(if succeeded == outcomes.len() && bot_ok && flow_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_load(
    cli: &Cli,
    calls: usize,
    concurrency: usize,
    fault_rate: f64,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::start().await?;
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: u32::MAX,
        window: Duration::from_secs(1),
    });
    sandbox.set_chaos(Some((fault_rate, seed)));
    let connector = cli
        .connector()?
        .with_env("DISCORD_API_BASE", sandbox.base_url());
    let report = load::run(&connector, calls, concurrency).await;
    println!("{}", report.summary());
    let whole = report.lost == 0 && report.mismatched == 0 && report.calls == calls;
    Ok(if whole {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Command::Demo => run_demo(&cli).await,
        Command::Load {
            calls,
            concurrency,
            fault_rate,
            seed,
        } => run_load(&cli, *calls, *concurrency, *fault_rate, *seed).await,
    }
}
