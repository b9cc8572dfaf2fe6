//! `discord-sandbox`: the sandbox alone, until interrupted, for the Python
//! and JavaScript test suites, the benchmarks and trying the connector by hand.

use std::time::Duration;

use clap::Parser;
use discord_sandbox::{CLIENT_SECRET, RateLimitPolicy, Sandbox, tokens};

/// Answer like Discord's API v10 and OAuth 2.0 on loopback. Prints the
/// settings a connector needs, one `NAME=value` a line.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The loopback port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8086)]
    port: u16,
    /// Requests per second the sandbox allows each route and caller before
    /// it answers 429 (Discord's per-route limits; the bot routes with
    /// buckets of their own keep them); 0 for no limit at all, the
    /// per-channel buckets included, as benchmarks want.
    #[arg(long, env = "DISCORD_SANDBOX_RATE_LIMIT", default_value_t = 50)]
    rate_limit: u32,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let sandbox = Sandbox::start_on(([127, 0, 0, 1], args.port).into()).await?;
    sandbox.set_rate_limit(if args.rate_limit == 0 {
        RateLimitPolicy::OFF
    } else {
        RateLimitPolicy {
            limit: args.rate_limit,
            window: Duration::from_secs(1),
        }
    });
    println!("DISCORD_API_BASE={}", sandbox.base_url());
    println!("DISCORD_AUTHORIZE_URL={}", sandbox.authorize_url());
    println!("DISCORD_CLIENT_ID={}", tokens::APPLICATION_ID);
    println!("DISCORD_CLIENT_SECRET={CLIENT_SECRET}");
    tokio::signal::ctrl_c().await
}
