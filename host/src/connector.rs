//! Loading the connector component and calling its exports.
//!
//! A [`Connector`] compiles the component once and pre-links it; every call
//! then runs in a fresh, short-lived instance with its own WASI context, so
//! calls share nothing and can run concurrently.
//!
//! ```no_run
//! # async fn run() -> wasmtime::Result<()> {
//! use discord_host::connector::{Connector, Credential, Output};
//!
//! let connector = Connector::from_file("discord_connector.wasm")?
//!     .with_env("DISCORD_API_BASE", "http://127.0.0.1:8080/api/v10");
//! match connector.execute_tool("discord_get_gateway", "{}", &Credential::None).await? {
//!     Ok(Output::Json(json)) => println!("{json}"),
//!     Ok(Output::Binary(blob)) => println!("{} bytes of {}", blob.data.len(), blob.content_type),
//!     Err(error) => eprintln!("{:?}: {}", error.kind, error.message),
//! }
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::limiter::{DiscordLimiter, EgressHooks};

/// Rust types and calls generated from the contract in `wit/`.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector",
        exports: { default: async },
    });
}

pub use bindings::agent_tools::connector::types::{Credential, CredentialKind, Error, ErrorKind};
pub use bindings::exports::agent_tools::connector::oauth::{Client, Link, LinkRequest, Token};
pub use bindings::exports::agent_tools::connector::proxy::{
    Request as ProxyRequest, Response as ProxyResponse,
};
pub use bindings::exports::agent_tools::connector::tools::{Blob, Output, Tool};

/// The contract's names: `not-found`, `rate-limited`, ...
impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UnknownTool => "unknown-tool",
            Self::InvalidArguments => "invalid-arguments",
            Self::MissingCredential => "missing-credential",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::RateLimited => "rate-limited",
            Self::Upstream => "upstream",
            Self::Transport => "transport",
        })
    }
}

/// The contract's names: `none`, `bearer`, `bot`.
impl std::fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Bearer => "bearer",
            Self::Bot => "bot",
        })
    }
}

/// The component built from this workspace's source by `build.rs`.
pub const BUILT_COMPONENT: &str = env!("CONNECTOR_WASM");

/// What one instance's store holds: its WASI and WASI HTTP state, its
/// egress hooks and its resource limits.
pub struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    limits: StoreLimits,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// How often the engine's epoch ticks: the granularity of call deadlines.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What each instance may use.
#[derive(Clone, Copy, Debug)]
pub struct InstanceLimits {
    /// Linear memory per instance.
    pub memory_bytes: usize,
    /// Wall time per call before the host traps it (the component keeps
    /// its own, shorter deadline on network waits).
    pub call_timeout: Duration,
    /// Instances alive at once; further calls wait for a slot.
    pub max_instances: usize,
}

impl Default for InstanceLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_secs(30),
            max_instances: 256,
        }
    }
}

/// The compiled, linked component and what its instances get: an
/// environment, egress hooks and resource limits.
#[derive(Clone)]
pub struct Connector {
    pre: bindings::ConnectorPre<InstanceState>,
    env: Vec<(String, String)>,
    hooks: EgressHooks,
    limits: InstanceLimits,
    slots: Arc<Semaphore>,
}

impl Connector {
    /// A wasmtime engine set up for the connector.
    ///
    /// Epoch interruption is on, and a thread ticks the epoch for as long
    /// as the engine lives, so that calls can be given deadlines.
    pub fn engine() -> wasmtime::Result<Engine> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("wasm-epoch".to_owned())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .context("starting the epoch thread")?;
        Ok(engine)
    }

    /// Compiles the component in the file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> wasmtime::Result<Self> {
        let path = path.as_ref();
        let engine = Self::engine()?;
        let component = Component::from_file(&engine, path)
            .with_context(|| format!("loading the component {}", path.display()))?;
        Self::from_component(&engine, &component)
    }

    /// Compiles the component in `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> wasmtime::Result<Self> {
        let engine = Self::engine()?;
        let component = Component::new(&engine, bytes).context("compiling the component")?;
        Self::from_component(&engine, &component)
    }

    /// Links an already compiled `component` with WASI and WASI HTTP.
    pub fn from_component(engine: &Engine, component: &Component) -> wasmtime::Result<Self> {
        let mut linker = Linker::<InstanceState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        let pre = bindings::ConnectorPre::new(linker.instantiate_pre(component)?)?;
        let limits = InstanceLimits::default();
        Ok(Self {
            pre,
            env: Vec::new(),
            hooks: EgressHooks::default(),
            limits,
            slots: Arc::new(Semaphore::new(limits.max_instances)),
        })
    }

    /// This connector with `limits` on each instance.
    pub fn with_limits(mut self, limits: InstanceLimits) -> Self {
        self.limits = limits;
        self.slots = Arc::new(Semaphore::new(limits.max_instances));
        self
    }

    /// This connector sending every request through `limiter`, shared by
    /// all its instances (and any other connector given the same one).
    pub fn with_limiter(mut self, limiter: Arc<DiscordLimiter>) -> Self {
        self.hooks = EgressHooks::limited(limiter);
        self
    }

    /// This connector with `name=value` in its instances' environment
    /// (`DISCORD_API_BASE`, say). Instances see nothing of the host's own.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.env.retain(|(existing, _)| *existing != name);
        self.env.push((name, value.into()));
        self
    }

    /// A fresh instance with its own store, for one call or several.
    ///
    /// Waits while `max_instances` sessions are alive.
    pub async fn session(&self) -> wasmtime::Result<Session> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .context("the instance slots are closed")?;
        let wasi = WasiCtx::builder().envs(&self.env).build();
        let state = InstanceState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: self.hooks.clone(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        let ticks = (self.limits.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        let instance = self.pre.instantiate_async(&mut store).await?;
        Ok(Session {
            store,
            instance,
            ticks,
            _slot: slot,
        })
    }

    /// The tool catalogue.
    pub async fn list_tools(&self) -> wasmtime::Result<Vec<Tool>> {
        self.session().await?.list_tools().await
    }

    /// Runs tool `name` with `arguments` (a JSON object) in a fresh
    /// instance. The outer `Err` is a host failure (a trap); the inner one
    /// is the tool's typed error.
    pub async fn execute_tool(
        &self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> wasmtime::Result<Result<Output, Error>> {
        self.session()
            .await?
            .execute_tool(name, arguments, credential)
            .await
    }

    /// Sends a raw request through the component's confined proxy.
    pub async fn proxy_send(
        &self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> wasmtime::Result<Result<ProxyResponse, Error>> {
        self.session().await?.proxy_send(request, credential).await
    }

    /// Trades an authorization `code` for a token.
    pub async fn exchange_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> wasmtime::Result<Result<Token, Error>> {
        let mut session = self.session().await?;
        session
            .exchange_code(client, code, redirect_uri, code_verifier)
            .await
    }

    /// Trades a (single-use) refresh token for a new token pair.
    pub async fn refresh_token(
        &self,
        client: &Client,
        refresh_token: &str,
    ) -> wasmtime::Result<Result<Token, Error>> {
        self.session()
            .await?
            .refresh_token(client, refresh_token)
            .await
    }

    /// Revokes a token, and with it the user's grant.
    pub async fn revoke_token(
        &self,
        client: &Client,
        token: &str,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.session().await?.revoke_token(client, token).await
    }

    /// An OAuth 2.0 authorization link with PKCE.
    pub async fn authorization_link(
        &self,
        request: &LinkRequest,
    ) -> wasmtime::Result<Result<Link, Error>> {
        self.session().await?.authorization_link(request).await
    }
}

/// One instance of the component: calls made through it share its memory
/// and resources, as in hosts that keep an instance for many requests.
pub struct Session {
    store: Store<InstanceState>,
    instance: bindings::Connector,
    /// The epoch ticks each call may run.
    ticks: u64,
    _slot: OwnedSemaphorePermit,
}

impl Session {
    /// The tool catalogue.
    pub async fn list_tools(&mut self) -> wasmtime::Result<Vec<Tool>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_tools()
            .call_list_tools(&mut self.store)
            .await
    }

    /// Runs tool `name` with `arguments` (a JSON object).
    pub async fn execute_tool(
        &mut self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> wasmtime::Result<Result<Output, Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_tools()
            .call_execute_tool(&mut self.store, name, arguments, credential)
            .await
    }

    /// Sends a raw request through the confined proxy.
    pub async fn proxy_send(
        &mut self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> wasmtime::Result<Result<ProxyResponse, Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_proxy()
            .call_send(&mut self.store, request, credential)
            .await
    }

    /// Trades an authorization `code` for a token.
    pub async fn exchange_code(
        &mut self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> wasmtime::Result<Result<Token, Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_oauth()
            .call_exchange_code(&mut self.store, client, code, redirect_uri, code_verifier)
            .await
    }

    /// Trades a (single-use) refresh token for a new token pair.
    pub async fn refresh_token(
        &mut self,
        client: &Client,
        refresh_token: &str,
    ) -> wasmtime::Result<Result<Token, Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_oauth()
            .call_refresh_token(&mut self.store, client, refresh_token)
            .await
    }

    /// Revokes a token, and with it the user's grant.
    pub async fn revoke_token(
        &mut self,
        client: &Client,
        token: &str,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_oauth()
            .call_revoke_token(&mut self.store, client, token)
            .await
    }

    /// An OAuth 2.0 authorization link with PKCE.
    pub async fn authorization_link(
        &mut self,
        request: &LinkRequest,
    ) -> wasmtime::Result<Result<Link, Error>> {
        self.store.set_epoch_deadline(self.ticks);
        self.instance
            .agent_tools_connector_oauth()
            .call_authorization_link(&mut self.store, request)
            .await
    }
}
