//! `discord-host`: the command line of the Discord connector, thin over
//! the host library (`discord-host`), the account store
//! (`discord-accounts`) and the components it carries
//! (`discord-artifacts`).

mod backends;
mod bench;
mod mcp;
mod stdio_relay;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use discord_accounts::{
    Authorizer, CallbackListener, ClientRegistry, ConnectionKey, Error, TokenStore,
};
use discord_host::limiter::RateLimiter;
use discord_host::serve::{ServeLimits, Server};
use discord_host::{Connector, Credential, Output, Tool};
use mcp::{Credentials, McpServer};

/// Run the Discord connector component: list its tools, call one, connect
/// users with OAuth, serve the tools to agents over MCP, or serve the
/// REST/MCP component over HTTP.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The connector component to load (defaults to the one this binary carries).
    #[arg(long, global = true, value_name = "WASM")]
    component: Option<PathBuf>,
    /// Discord's API base, passed to the component (it defaults to discord.com).
    #[arg(long, global = true, env = "DISCORD_API_BASE")]
    api_base: Option<String>,
    /// Discord's authorization page, passed to the component.
    #[arg(long, global = true, env = "DISCORD_AUTHORIZE_URL")]
    authorize_url: Option<String>,
    /// Where users' tokens are kept: `postgres://USER:PASSWORD@HOST:PORT/DB`
    /// (shared by replicas; `?sslmode=require` for TLS), or a SQLite file
    /// (`sqlite:PATH` or a path; created 0600). Defaults to tokens.sqlite3
    /// in $XDG_DATA_HOME/discord-host, else ~/.local/share/discord-host.
    /// For `serve`, naming a store lets callers act as a connected account
    /// (`X-Discord-Account: CONNECTION/IDENTIFIER`).
    #[arg(
        long,
        global = true,
        env = "DISCORD_STORE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    store: Option<String>,
    /// Where Discord's rate limits are kept: `redis://HOST:PORT/` to share
    /// them with every replica using the same Redis (credentials keyed
    /// with DISCORD_LIMITER_SECRET when set); this process alone when unset.
    #[arg(
        long,
        global = true,
        env = "DISCORD_LIMITER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    limiter: Option<String>,
    /// How long a refresh lease lasts, in seconds (at most 60): how long a
    /// replica that died while refreshing an account holds up the others.
    #[arg(long, global = true, env = "DISCORD_REFRESH_LEASE_SECONDS", value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=60))]
    refresh_lease: u64,
    /// The limiter, made once and shared by every connector of the process.
    #[arg(skip)]
    shared_limiter: std::sync::OnceLock<Arc<dyn RateLimiter>>,
    /// A TOML file of OAuth clients (`[connections.NAME]` with `client_id`,
    /// `client_secret_env`, `scopes`). DISCORD_CLIENT_ID and
    /// DISCORD_CLIENT_SECRET serve connections it does not name.
    #[arg(long, global = true, env = "DISCORD_HOST_CONFIG")]
    config: Option<PathBuf>,
    /// Which tools the component offers, for `tools`, `call`, `mcp` and
    /// `serve`: names or `*` globs, comma-separated
    /// (`discord_get_*,discord_list_*`); every tool when unset. Passed to
    /// the component as DISCORD_TOOLS, which it enforces.
    #[arg(long, global = true, env = "DISCORD_TOOLS", value_name = "LIST")]
    tools: Option<String>,
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
    /// Call one tool. The credential is a connected user's (with
    /// --connection and --identifier, refreshed as needed), or comes from
    /// DISCORD_BEARER_TOKEN or DISCORD_BOT_TOKEN: never from the command line.
    Call {
        /// The tool, such as discord_get_my_user.
        tool: String,
        /// Its arguments, a JSON object.
        #[arg(default_value = "{}")]
        arguments: String,
        /// Which token from the environment to send; `auto` picks whichever is set.
        #[arg(long, value_enum, default_value_t = CredentialChoice::Auto)]
        credential: CredentialChoice,
        /// Use this connection's stored token for --identifier.
        #[arg(long, requires = "identifier")]
        connection: Option<String>,
        /// The connected user whose token to use.
        #[arg(long, requires = "connection")]
        identifier: Option<String>,
        /// Where to write binary output (the widget PNG).
        #[arg(long, short, default_value = "discord-output.png")]
        output: PathBuf,
    },
    /// Connect users with OAuth 2.0: link, list, revoke.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Serve the REST/MCP component (REST and MCP over HTTP) the way
    /// `wasmtime serve` does: one instance per request, with this host's
    /// limits and Discord limiter. DISCORD_* and REST_MCP_* settings pass
    /// through (tokens do not: callers send them per request).
    Serve {
        /// The loopback port to listen on.
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// The REST/MCP component to serve (defaults to the one this binary carries).
        #[arg(long, value_name = "WASM")]
        rest_mcp: Option<PathBuf>,
    },
    /// Serve the tools to an agent as an MCP server over stdio. The
    /// credential is a connected user's (with --connection and
    /// --identifier, refreshed as needed; one more tool hands out the link
    /// to connect), or comes from DISCORD_BEARER_TOKEN or DISCORD_BOT_TOKEN.
    Mcp {
        /// Use this connection's stored token for --identifier.
        #[arg(long, requires = "identifier")]
        connection: Option<String>,
        /// The connected user whose token to use.
        #[arg(long, requires = "connection")]
        identifier: Option<String>,
        /// Serve Streamable HTTP at http://127.0.0.1:PORT/mcp instead of
        /// stdio (loopback only; browsers only from loopback origins).
        #[arg(long, value_name = "PORT")]
        serve_http: Option<u16>,
    },
    /// Measure a tool call through the component against a native
    /// keep-alive client doing the same request, in one run, on tokio's
    /// current-thread and multi-thread runtimes (loopback only): prints
    /// tables and the goals, writes JSON with --json. With --limiter
    /// redis://..., calls through the Redis limiter are measured too,
    /// beside the in-process limiter's.
    Bench {
        /// Calls per latency measure (per path and runtime).
        #[arg(long, default_value_t = 2_000)]
        calls: usize,
        /// Calls per throughput level (1, 16 and 64 in flight).
        #[arg(long, default_value_t = 5_000)]
        throughput_calls: usize,
        /// Instantiations measured per runtime.
        #[arg(long, default_value_t = 1_000)]
        instantiations: usize,
        /// Where to write the figures as JSON.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Write the components this binary carries into a folder:
    /// `discord_connector.wasm`, `discord_rest_mcp.wasm` and
    /// `discord_typed_tools.wasm`, for other hosts (wasmtime serve, Spin,
    /// wasmCloud, wassette, the Python and JavaScript packages).
    Export {
        /// The folder to write into (made if missing).
        #[arg(default_value = "dist")]
        out: PathBuf,
    },
}

/// A user of a connection.
#[derive(clap::Args)]
struct UserArgs {
    /// The connection's name.
    #[arg(long, default_value = "discord")]
    connection: String,
    /// The host's identifier for the user.
    #[arg(long)]
    identifier: String,
}

impl UserArgs {
    fn key(&self) -> ConnectionKey {
        ConnectionKey::new(&self.connection, &self.identifier)
    }
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Print an authorization link, wait for Discord's redirect on a
    /// loopback listener, check its state, exchange the code, store the tokens.
    Link {
        #[command(flatten)]
        user: UserArgs,
        /// A scope to ask for (repeatable; defaults to the connection's).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The redirect listener's loopback port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How long to wait for the redirect, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// List connected users (never their tokens).
    List,
    /// Revoke a user's grant at Discord and forget the tokens.
    Revoke {
        #[command(flatten)]
        user: UserArgs,
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

impl Cli {
    /// The process's rate limiter (`--limiter`), made on first use.
    fn limiter(&self) -> anyhow::Result<Arc<dyn RateLimiter>> {
        if let Some(limiter) = self.shared_limiter.get() {
            return Ok(Arc::clone(limiter));
        }
        let secret = std::env::var(discord_redis_limiter::SECRET_VARIABLE).ok();
        let limiter = backends::limiter(self.limiter.as_deref(), secret.as_deref())?;
        Ok(Arc::clone(self.shared_limiter.get_or_init(|| limiter)))
    }

    /// The component, with the Discord endpoints given on the command line,
    /// sending through the process's rate limiter.
    fn connector(&self) -> anyhow::Result<Connector> {
        let mut connector = match &self.component {
            Some(path) => Connector::from_file(path)?,
            None => Connector::from_bytes(discord_artifacts::CONNECTOR)?,
        }
        .with_limiter(self.limiter()?);
        if let Some(api_base) = &self.api_base {
            connector = connector.with_env("DISCORD_API_BASE", api_base);
        }
        if let Some(authorize_url) = &self.authorize_url {
            connector = connector.with_env("DISCORD_AUTHORIZE_URL", authorize_url);
        }
        if let Some(tools) = &self.tools {
            connector = connector.with_env("DISCORD_TOOLS", tools);
        }
        Ok(connector)
    }

    /// Fails with the component's own words when it refuses the `--tools`
    /// value (an entry that matches no tool, a stray character): it would
    /// otherwise list no tool, and an agent would see an empty server
    /// without a word.
    async fn check_tools_setting(&self, connector: &Connector) -> anyhow::Result<()> {
        let Some(setting) = &self.tools else {
            return Ok(());
        };
        if !connector.list_tools().await?.is_empty() {
            return Ok(());
        }
        // A refused setting fails every call before anything is sent.
        match connector
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await
        {
            Err(error) => bail!("--tools {setting:?} is refused: {error}"),
            Ok(_) => bail!("--tools {setting:?} selects no tool"),
        }
    }

    async fn token_store(&self) -> anyhow::Result<TokenStore> {
        backends::token_store(self.store.as_deref()).await
    }

    async fn authorizer(&self) -> anyhow::Result<Authorizer> {
        let clients = ClientRegistry::load(self.config.as_deref())?;
        Ok(Authorizer::new(
            self.connector()?,
            Arc::new(self.token_store().await?),
            clients,
        )
        .with_lease_ttl(Duration::from_secs(self.refresh_lease)))
    }
}

/// Prints a tool's output (JSON pretty, binary to `output`) or its error.
fn report(result: Result<Output, Error>, output: &Path) -> anyhow::Result<ExitCode> {
    match result {
        Ok(Output::Json(json)) => {
            let pretty = serde_json::from_str::<serde_json::Value>(&json)
                .and_then(|value| serde_json::to_string_pretty(&value))
                .unwrap_or(json);
            println!("{pretty}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Output::Binary(blob)) => {
            std::fs::write(output, &blob.data)
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
            let Some(error) = error.component() else {
                return Err(error.into());
            };
            let details = error
                .details
                .as_deref()
                .and_then(|details| serde_json::from_str::<serde_json::Value>(details).ok());
            let report = serde_json::json!({
                "kind": error.kind.to_string(),
                "message": error.message,
                "status": error.status,
                "code": error.code,
                "details": details,
                "retry_after_ms": error.retry_after_ms,
            });
            eprintln!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn tools(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let connector = cli.connector()?;
    cli.check_tools_setting(&connector).await?;
    let tools = connector.list_tools().await?;
    let kinds =
        |tool: &Tool| -> Vec<String> { tool.accepts.iter().map(ToString::to_string).collect() };
    if json {
        let tools: Vec<serde_json::Value> = tools
            .iter()
            .map(|tool| {
                let schema: serde_json::Value =
                    serde_json::from_str(&tool.input_schema).unwrap_or_default();
                serde_json::json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": schema,
                    "scopes": tool.scopes,
                    "accepts": kinds(tool),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&tools)?);
    } else {
        println!("{:<52} {:<18} SCOPES", "TOOL", "ACCEPTS");
        for tool in &tools {
            println!(
                "{:<52} {:<18} {}",
                tool.name,
                kinds(tool).join(","),
                tool.scopes.join(" ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn auth(cli: &Cli, command: &AuthCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuthCommand::Link {
            user,
            scopes,
            port,
            timeout,
        } => {
            let authorizer = cli.authorizer().await?;
            let listener = CallbackListener::bind(*port).await?;
            let pending = authorizer
                .link(&user.connection, &listener.redirect_uri()?, scopes)
                .await?;
            println!(
                "Open this link to connect {}:\n\n  {}\n",
                user.key(),
                pending.url
            );
            println!(
                "Waiting for Discord's redirect on {} ...",
                pending.redirect_uri
            );
            let callback = listener
                .wait(&pending.state, Duration::from_secs(*timeout))
                .await?;
            let stored = authorizer
                .complete_redirect(&pending, &user.identifier, &callback)
                .await?;
            println!(
                "Connected {}: scopes {}",
                user.key(),
                stored.scopes.join(" ")
            );
        }
        AuthCommand::List => {
            println!(
                "{:<16} {:<24} {:<12} {:<8} SCOPES",
                "CONNECTION", "IDENTIFIER", "EXPIRES IN", "STATE"
            );
            for (key, token) in cli.token_store().await?.list().await? {
                let expires_in = token
                    .expires_at
                    .duration_since(SystemTime::now())
                    .map_or("expired".to_owned(), |left| format!("{}s", left.as_secs()));
                let state = if token.needs_reauthorization {
                    "reauth"
                } else {
                    "ok"
                };
                println!(
                    "{:<16} {:<24} {:<12} {:<8} {}",
                    key.connection,
                    key.identifier,
                    expires_in,
                    state,
                    token.scopes.join(" ")
                );
            }
        }
        AuthCommand::Revoke { user } => {
            cli.authorizer().await?.revoke(&user.key()).await?;
            println!("Revoked {} and forgot its tokens", user.key());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Settings of the host's own that never reach the component: tokens,
/// and URLs and secrets that may carry passwords.
const HOST_ONLY_SETTINGS: &[&str] = &[
    "DISCORD_BEARER_TOKEN",
    "DISCORD_BOT_TOKEN",
    "DISCORD_STORE_URL",
    "DISCORD_LIMITER_URL",
    "DISCORD_LIMITER_SECRET",
];

async fn serve(cli: &Cli, rest_mcp: Option<&Path>, port: u16) -> anyhow::Result<ExitCode> {
    let mut server = match rest_mcp {
        Some(path) => Server::from_file(path)?,
        None => Server::from_bytes(discord_artifacts::REST_MCP)?,
    }
    .with_limiter(cli.limiter()?);
    for (name, value) in std::env::vars() {
        let passed = name.starts_with("DISCORD_") || name.starts_with("REST_MCP_");
        if passed && !HOST_ONLY_SETTINGS.contains(&name.as_str()) {
            server = server.with_env(name, value);
        }
    }
    if let Some(tools) = &cli.tools {
        // The connector plugged into the component reads the same environment.
        server = server.with_env("DISCORD_TOOLS", tools);
    }
    let authorizer = match cli.store {
        Some(_) => Some(Arc::new(cli.authorizer().await?)),
        None => None,
    };
    let hook = Arc::new(backends::AccountHook::new(authorizer));
    let (address, serving) = server
        .bind_with_hook(
            ([127, 0, 0, 1], port).into(),
            ServeLimits::default(),
            Some(hook),
        )
        .await?;
    let served = rest_mcp.map_or_else(
        || "the REST/MCP component".to_owned(),
        |path| path.display().to_string(),
    );
    println!("Serving {served} on http://{address} (REST under /v1, MCP at /mcp)");
    serving.await??;
    Ok(ExitCode::SUCCESS)
}

/// Writes the carried components into `out`.
fn export(out: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("making {}", out.display()))?;
    for (name, bytes) in discord_artifacts::ALL {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        // Warnings by default (an untrusted cache, a malformed message);
        // RUST_LOG says otherwise.
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Command::Tools { json } => tools(&cli, *json).await,
        Command::Call {
            tool,
            arguments,
            credential,
            connection,
            identifier,
            output,
        } => {
            let result = match (connection, identifier) {
                (Some(connection), Some(identifier)) => {
                    let key = ConnectionKey::new(connection, identifier);
                    cli.authorizer()
                        .await?
                        .execute_tool(&key, tool, arguments)
                        .await
                }
                _ => {
                    let credential = credential_from_env(*credential)?;
                    cli.connector()?
                        .execute_tool(tool, arguments, &credential)
                        .await
                        .map_err(discord_accounts::Error::from)
                }
            };
            report(result, output)
        }
        Command::Auth(command) => auth(&cli, command).await,
        Command::Mcp {
            connection,
            identifier,
            serve_http,
        } => {
            let credentials = match (connection, identifier) {
                (Some(connection), Some(identifier)) => Credentials::Account {
                    authorizer: Arc::new(cli.authorizer().await?),
                    key: ConnectionKey::new(connection, identifier),
                },
                _ => Credentials::Fixed(credential_from_env(CredentialChoice::Auto)?),
            };
            let connector = cli.connector()?;
            cli.check_tools_setting(&connector).await?;
            let server = McpServer::new(connector, credentials);
            match serve_http {
                Some(port) => server.serve_http(*port).await?,
                None => server.serve_stdio().await?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { port, rest_mcp } => serve(&cli, rest_mcp.as_deref(), *port).await,
        Command::Export { out } => export(out),
        Command::Bench {
            calls,
            throughput_calls,
            instantiations,
            json,
        } => {
            let plan = bench::Plan {
                calls: *calls,
                throughput_calls: *throughput_calls,
                instantiations: *instantiations,
            };
            bench(
                cli.component.as_deref(),
                plan,
                cli.limiter.clone(),
                json.as_deref(),
            )
        }
    }
}

/// Runs the bench on a thread of its own, outside this runtime (it makes
/// the runtimes it measures), and prints its tables.
fn bench(
    component: Option<&Path>,
    plan: bench::Plan,
    redis: Option<String>,
    json: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let bytes = match component {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => discord_artifacts::CONNECTOR.to_vec(),
    };
    let report = std::thread::spawn(move || bench::run(&bytes, plan, redis.as_deref()))
        .join()
        .map_err(|_| anyhow::anyhow!("the bench thread panicked"))??;
    println!("{report}");
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
