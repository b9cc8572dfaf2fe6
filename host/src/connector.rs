//! Loading the connector component, linking it and calling its exports.
//!
//! [`Connector`] compiles the component once and pre-links it; every call
//! then runs in a fresh, short-lived [`Instance`] with its own WASI context,
//! so calls share nothing and run concurrently. Hosts that already have a
//! `Store<T>` and a `Linker<T>` use [`add_to_linker_async`] and
//! [`Instance::instantiate`] instead, and get the same deadlines and errors.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, EngineWeak, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::exports::agent_tools::connector::oauth::{Client, Link, LinkRequest, Token};
use crate::bindings::exports::agent_tools::connector::proxy::{
    Request as ProxyRequest, Response as ProxyResponse,
};
use crate::bindings::exports::agent_tools::connector::tools::{Output, Tool};
use crate::bindings::types::Credential;
use crate::bindings::{self, ConnectorPre};
use crate::egress::{EgressHooks, EgressPool, PoolSettings};
use crate::error::{DeadlinePassed, Error, ErrorKind};
use crate::limiter::DiscordLimiter;

/// The component's setting for its whole call's deadline, in milliseconds.
pub const TIMEOUT_SETTING: &str = "DISCORD_TIMEOUT_MS";

/// The call deadline the host gives the component when its environment
/// does not set [`TIMEOUT_SETTING`] (discord.js's default).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// The component's setting for the largest answer body it reads.
pub const BODY_CAP_SETTING: &str = "DISCORD_MAX_BODY_BYTES";

/// The component's own default for [`BODY_CAP_SETTING`].
const DEFAULT_BODY_CAP: usize = 8 << 20;

/// How many times an answer's size an instance's memory must hold: the body
/// as read (a vector that grows by doubling) and what is made of it.
const MEMORY_PER_BODY_BYTE: usize = 4;

/// The largest [`TIMEOUT_SETTING`] the component accepts.
const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// How often the engine's epoch ticks: how often a busy guest yields to the
/// executor, and the granularity of the host's deadline.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Links what the component imports (WASI 0.2 and `wasi:http`'s outgoing
/// handler) into a host's own `linker`.
///
/// The engine must have epoch interruption on, which is how the host keeps
/// a busy guest to its deadline; an engine without it is refused. The
/// engine's epoch is ticked from a background thread for as long as it
/// lives (one thread per engine, however often this is called).
pub fn add_to_linker_async<T>(linker: &mut Linker<T>) -> Result<(), Error>
where
    T: WasiView + WasiHttpView + 'static,
{
    ensure_epoch_ticks(linker.engine())?;
    wasmtime_wasi::p2::add_to_linker_async(linker).map_err(Error::setup)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker).map_err(Error::setup)?;
    Ok(())
}

/// Whether `engine` instruments code for epoch interruption. Wasmtime has no
/// getter for it; its `Config` debug output lists the tunables that were set.
fn has_epoch_interruption(engine: &Engine) -> bool {
    format!("{:?}", engine.config()).contains("epoch_interruption: true")
}

/// Checks `engine` can be interrupted and starts its ticker once.
pub(crate) fn ensure_epoch_ticks(engine: &Engine) -> Result<(), Error> {
    if !has_epoch_interruption(engine) {
        return Err(Error::setup(
            "the engine was built without epoch interruption (Config::epoch_interruption(true)), so the host could not stop a call at its deadline",
        ));
    }
    static TICKED: OnceLock<Mutex<Vec<EngineWeak>>> = OnceLock::new();
    let mut ticked = TICKED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    ticked.retain(|weak| weak.upgrade().is_some());
    if ticked
        .iter()
        .filter_map(EngineWeak::upgrade)
        .any(|known| Engine::same(&known, engine))
    {
        return Ok(());
    }
    let weak = engine.weak();
    ticked.push(engine.weak());
    std::thread::Builder::new()
        .name("wasm-epoch".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(Error::setup)?;
    Ok(())
}

/// The host's deadline for one call given the component's `env`: the
/// component's own [`TIMEOUT_SETTING`] plus `margin`, so a call the
/// component would end as a `transport` timeout always ends that way first.
pub fn call_deadline(env: &[(String, String)], margin: Duration) -> Duration {
    let guest = env
        .iter()
        .rev()
        .find(|(name, _)| name == TIMEOUT_SETTING)
        .and_then(|(_, value)| value.trim().parse::<u64>().ok())
        .map_or(DEFAULT_CALL_TIMEOUT, Duration::from_millis);
    guest.min(MAX_CALL_TIMEOUT) + margin
}

/// The environment instances get: the configured one, with the call
/// deadline and the body cap always stated, so that host and component
/// agree on them. A body cap the memory cap cannot hold is refused; by
/// default the cap is lowered to what the memory holds.
pub(crate) fn instance_env(
    env: &[(String, String)],
    limits: &InstanceLimits,
) -> Result<Vec<(String, String)>, Error> {
    let mut env = env.to_vec();
    let setting = |env: &[(String, String)], name: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if setting(&env, TIMEOUT_SETTING).is_none() {
        env.push((
            TIMEOUT_SETTING.to_owned(),
            DEFAULT_CALL_TIMEOUT.as_millis().to_string(),
        ));
    }
    let holdable = limits.memory_bytes / MEMORY_PER_BODY_BYTE;
    match setting(&env, BODY_CAP_SETTING).and_then(|value| value.trim().parse::<usize>().ok()) {
        Some(cap) if cap > holdable => {
            return Err(Error::setup(format!(
                "{BODY_CAP_SETTING}={cap} does not fit the instance memory cap of {} bytes: an answer needs about {MEMORY_PER_BODY_BYTE} times its size; allow at most {holdable}",
                limits.memory_bytes
            )));
        }
        Some(_) => {}
        None => env.push((
            BODY_CAP_SETTING.to_owned(),
            DEFAULT_BODY_CAP.min(holdable).to_string(),
        )),
    }
    Ok(env)
}

/// What one instance of a [`Connector`] holds: its WASI and WASI HTTP
/// state, its egress hooks and its resource limits.
pub struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: EgressHooks,
    limits: StoreLimits,
}

impl InstanceState {
    /// The state of a new instance: a WASI context with exactly `env`,
    /// `hooks` on its egress, and `limits`' memory cap.
    pub(crate) fn new(
        env: &[(String, String)],
        hooks: EgressHooks,
        limits: &InstanceLimits,
    ) -> Self {
        Self {
            wasi: WasiCtx::builder().envs(env).build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        }
    }

    /// A store for `engine` holding this state, its memory cap enforced.
    pub(crate) fn into_store(self, engine: &Engine) -> Store<Self> {
        let mut store = Store::new(engine, self);
        store.limiter(|state| &mut state.limits);
        store
    }
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

/// What each instance may use.
#[derive(Clone, Copy, Debug)]
pub struct InstanceLimits {
    /// Linear memory per instance.
    pub memory_bytes: usize,
    /// How long past the component's own deadline (`DISCORD_TIMEOUT_MS`) the
    /// host waits before it stops a call that is still running.
    pub deadline_margin: Duration,
    /// Instances alive at once; further calls wait for a slot.
    pub max_instances: usize,
}

impl Default for InstanceLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline_margin: Duration::from_secs(2),
            max_instances: 256,
        }
    }
}

/// Compiles the component in the file at `path` on a fresh
/// [`Connector::engine`], through the on-disk cache of compiled components
/// ([`crate::engine::cache_dir`]).
pub(crate) fn compile_file(path: &Path) -> Result<Component, Error> {
    let bytes = std::fs::read(path).map_err(|error| {
        Error::setup(format!("reading the component {}: {error}", path.display()))
    })?;
    crate::engine::compile_cached(
        &Connector::engine()?,
        &bytes,
        crate::engine::cache_dir().as_deref(),
    )
    .map_err(|error| Error::setup(format!("loading the component {}: {error}", path.display())))
}

/// A linker for `component`'s engine with everything it may import.
pub(crate) fn linked(component: &Component) -> Result<Linker<InstanceState>, Error> {
    let mut linker = Linker::new(component.engine());
    add_to_linker_async(&mut linker)?;
    Ok(linker)
}

/// What every instance of a component gets: an environment, egress hooks,
/// resource limits and a slot. Shared by [`Connector`] and the HTTP server.
#[derive(Clone)]
pub(crate) struct InstancePlan {
    env: Vec<(String, String)>,
    hooks: EgressHooks,
    limits: InstanceLimits,
    slots: Arc<Semaphore>,
}

impl InstancePlan {
    /// A plan with the default limits and a keep-alive egress pool of its own.
    pub(crate) fn new() -> Result<Self, Error> {
        let limits = InstanceLimits::default();
        Ok(Self {
            env: Vec::new(),
            hooks: EgressHooks::default().with_pool(EgressPool::new(PoolSettings::default())?),
            limits,
            slots: Arc::new(Semaphore::new(limits.max_instances)),
        })
    }

    pub(crate) fn set_limits(&mut self, limits: InstanceLimits) {
        self.limits = limits;
        self.slots = Arc::new(Semaphore::new(limits.max_instances));
    }

    pub(crate) fn set_limiter(&mut self, limiter: Arc<DiscordLimiter>) {
        self.hooks = self.hooks.clone().with_limiter(limiter);
    }

    pub(crate) fn set_pool(&mut self, pool: EgressPool) {
        self.hooks = self.hooks.clone().with_pool(pool);
    }

    pub(crate) fn set_env(&mut self, name: String, value: String) {
        self.env.retain(|(existing, _)| *existing != name);
        self.env.push((name, value));
    }

    /// Checks the environment the instances will get (see [`instance_env`]).
    pub(crate) fn env(&self) -> Result<Vec<(String, String)>, Error> {
        instance_env(&self.env, &self.limits)
    }

    /// Waits for a slot, then makes a store for one instance on `engine`
    /// with `env` (from [`InstancePlan::env`]); returns it with the slot
    /// and the call deadline.
    pub(crate) async fn store(
        &self,
        engine: &Engine,
        env: &[(String, String)],
    ) -> Result<(Store<InstanceState>, OwnedSemaphorePermit, Duration), Error> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(Error::setup)?;
        let store = InstanceState::new(env, self.hooks.clone(), &self.limits).into_store(engine);
        Ok((store, slot, call_deadline(env, self.limits.deadline_margin)))
    }
}

/// The compiled, linked component and what its instances get: an
/// environment, egress hooks and resource limits.
#[derive(Clone)]
pub struct Connector {
    pre: ConnectorPre<InstanceState>,
    plan: InstancePlan,
}

impl Connector {
    /// A wasmtime engine set up for the connector: epoch interruption on,
    /// the pooling allocator sized for the default [`InstanceLimits`] (or
    /// on-demand allocation where the pool cannot be reserved). For other
    /// sizes, make one with [`crate::engine::engine`] and use
    /// [`Connector::from_component`].
    pub fn engine() -> Result<Engine, Error> {
        crate::engine::default_engine(&InstanceLimits::default())
    }

    /// Compiles the component in the file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_component(&compile_file(path.as_ref())?)
    }

    /// Compiles the component in `bytes` (through the on-disk cache).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let engine = Self::engine()?;
        let cache = crate::engine::cache_dir();
        Self::from_component(&crate::engine::compile_cached(
            &engine,
            bytes,
            cache.as_deref(),
        )?)
    }

    /// Links an already compiled `component` with WASI and WASI HTTP. Its
    /// engine must have epoch interruption on.
    pub fn from_component(component: &Component) -> Result<Self, Error> {
        let pre = linked(component)?
            .instantiate_pre(component)
            .and_then(ConnectorPre::new)
            .map_err(Error::setup)?;
        Ok(Self {
            pre,
            plan: InstancePlan::new()?,
        })
    }

    /// This connector with `limits` on each instance.
    pub fn with_limits(mut self, limits: InstanceLimits) -> Self {
        self.plan.set_limits(limits);
        self
    }

    /// This connector sending every request through `limiter`, shared by
    /// all its instances (and any other connector given the same one).
    pub fn with_limiter(mut self, limiter: Arc<DiscordLimiter>) -> Self {
        self.plan.set_limiter(limiter);
        self
    }

    /// This connector sending over `pool`'s connections, shared with any
    /// other connector or server given the same pool (each has its own by
    /// default).
    pub fn with_pool(mut self, pool: EgressPool) -> Self {
        self.plan.set_pool(pool);
        self
    }

    /// This connector with `name=value` in its instances' environment
    /// (`DISCORD_API_BASE`, say). Instances see nothing of the host's own.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.plan.set_env(name.into(), value.into());
        self
    }

    /// A fresh instance with its own store, for one call or several.
    ///
    /// Waits while `max_instances` instances are alive.
    pub async fn instance(&self) -> Result<Instance<InstanceState>, Error> {
        let env = self.plan.env()?;
        let (store, slot, deadline) = self.plan.store(self.pre.engine(), &env).await?;
        let mut instance = Instance::instantiate(store, &self.pre, deadline).await?;
        instance.slot = Some(slot);
        Ok(instance)
    }

    /// The tool catalogue.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        self.instance().await?.list_tools().await
    }

    /// Runs tool `name` with `arguments` (a JSON object) in a fresh instance.
    pub async fn execute_tool(
        &self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error> {
        let mut instance = self.instance().await?;
        instance.execute_tool(name, arguments, credential).await
    }

    /// Sends a raw request through the component's confined proxy.
    pub async fn proxy_send(
        &self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> Result<ProxyResponse, Error> {
        self.instance().await?.proxy_send(request, credential).await
    }

    /// An OAuth 2.0 authorization link with PKCE.
    pub async fn authorization_link(&self, request: &LinkRequest) -> Result<Link, Error> {
        self.instance().await?.authorization_link(request).await
    }

    /// Trades an authorization `code` for a token.
    pub async fn exchange_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, Error> {
        let mut instance = self.instance().await?;
        instance
            .exchange_code(client, code, redirect_uri, code_verifier)
            .await
    }

    /// Trades a (single-use) refresh token for a new token pair.
    pub async fn refresh_token(
        &self,
        client: &Client,
        refresh_token: &str,
    ) -> Result<Token, Error> {
        let mut instance = self.instance().await?;
        instance.refresh_token(client, refresh_token).await
    }

    /// Revokes a token, and with it the user's grant.
    pub async fn revoke_token(&self, client: &Client, token: &str) -> Result<(), Error> {
        self.instance().await?.revoke_token(client, token).await
    }
}

/// Makes the store's epoch callback yield to the executor at every tick (a
/// busy guest never pins a worker thread) and stop the call at `deadline`.
pub(crate) fn arm_deadline<T: Send + 'static>(store: &mut Store<T>, deadline: Instant) {
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(wasmtime::Error::new(DeadlinePassed))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store.set_epoch_deadline(1);
}

/// One instance of the component: calls made through it share its memory
/// and resources, as in hosts that keep an instance for many requests.
///
/// Each call gets the host's deadline: at every epoch tick the guest yields,
/// and past the deadline it is stopped with [`ErrorKind::Deadline`]; a call
/// stuck in a host function is abandoned at the same time, after which the
/// instance takes no more calls ([`ErrorKind::Poisoned`]).
pub struct Instance<T: 'static> {
    store: Store<T>,
    bindings: bindings::Connector,
    deadline: Duration,
    poisoned: bool,
    slot: Option<OwnedSemaphorePermit>,
}

impl<T: Send + 'static> Instance<T> {
    /// Instantiates the component on a host's own `store` (whose linker
    /// went through [`add_to_linker_async`]), giving instantiation and each
    /// call `deadline` (see [`call_deadline`]).
    pub async fn instantiate(
        mut store: Store<T>,
        pre: &ConnectorPre<T>,
        deadline: Duration,
    ) -> Result<Self, Error> {
        arm_deadline(&mut store, Instant::now() + deadline);
        let bindings = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|error| Error::from_wasmtime(error, deadline))?;
        Ok(Self {
            store,
            bindings,
            deadline,
            poisoned: false,
            slot: None,
        })
    }

    /// The store, for a host that keeps state in it.
    pub fn store_mut(&mut self) -> &mut Store<T> {
        &mut self.store
    }

    /// Runs one export call under the deadline and maps its failures.
    async fn call<R, F>(&mut self, call: F) -> Result<R, Error>
    where
        F: AsyncFnOnce(
            &bindings::Connector,
            &mut Store<T>,
        ) -> wasmtime::Result<Result<R, crate::bindings::types::Error>>,
    {
        if self.poisoned {
            return Err(Error::new(ErrorKind::Poisoned));
        }
        let deadline = self.deadline;
        arm_deadline(&mut self.store, Instant::now() + deadline);
        // The epoch callback stops a guest that computes; this stops a call
        // waiting in a host function, a little later.
        let hard_stop = deadline + EPOCH_TICK * 5;
        let outcome = tokio::time::timeout(hard_stop, call(&self.bindings, &mut self.store)).await;
        match outcome {
            Err(_elapsed) => {
                self.poisoned = true;
                Err(Error::new(ErrorKind::Deadline { after: deadline }))
            }
            Ok(Err(trap)) => {
                self.poisoned = true;
                Err(Error::from_wasmtime(trap, deadline))
            }
            Ok(Ok(result)) => result.map_err(Error::from),
        }
    }

    /// The tool catalogue.
    pub async fn list_tools(&mut self) -> Result<Vec<Tool>, Error> {
        self.call(async |bindings, store| {
            let tools = bindings
                .agent_tools_connector_tools()
                .call_list_tools(store)
                .await?;
            Ok(Ok(tools))
        })
        .await
    }

    /// Runs tool `name` with `arguments` (a JSON object).
    pub async fn execute_tool(
        &mut self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_tools()
                .call_execute_tool(store, name, arguments, credential)
                .await
        })
        .await
    }

    /// Sends a raw request through the confined proxy.
    pub async fn proxy_send(
        &mut self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> Result<ProxyResponse, Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_proxy()
                .call_send(store, request, credential)
                .await
        })
        .await
    }

    /// An OAuth 2.0 authorization link with PKCE.
    pub async fn authorization_link(&mut self, request: &LinkRequest) -> Result<Link, Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_oauth()
                .call_authorization_link(store, request)
                .await
        })
        .await
    }

    /// Trades an authorization `code` for a token.
    pub async fn exchange_code(
        &mut self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_oauth()
                .call_exchange_code(store, client, code, redirect_uri, code_verifier)
                .await
        })
        .await
    }

    /// Trades a (single-use) refresh token for a new token pair.
    pub async fn refresh_token(
        &mut self,
        client: &Client,
        refresh_token: &str,
    ) -> Result<Token, Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_oauth()
                .call_refresh_token(store, client, refresh_token)
                .await
        })
        .await
    }

    /// Revokes a token, and with it the user's grant.
    pub async fn revoke_token(&mut self, client: &Client, token: &str) -> Result<(), Error> {
        self.call(async |bindings, store| {
            bindings
                .agent_tools_connector_oauth()
                .call_revoke_token(store, client, token)
                .await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_deadline_follows_the_component_setting() {
        let margin = Duration::from_secs(2);
        assert_eq!(call_deadline(&[], margin), Duration::from_secs(17));
        let env = vec![(TIMEOUT_SETTING.to_owned(), "600000".to_owned())];
        assert_eq!(call_deadline(&env, margin), Duration::from_secs(602));
        let bad = vec![(TIMEOUT_SETTING.to_owned(), "soon".to_owned())];
        assert_eq!(call_deadline(&bad, margin), Duration::from_secs(17));
        let huge = vec![(TIMEOUT_SETTING.to_owned(), u64::MAX.to_string())];
        assert_eq!(call_deadline(&huge, margin), Duration::from_secs(602));
    }

    #[test]
    fn an_engine_without_epoch_interruption_is_refused() {
        let plain = Engine::default();
        let mut linker = Linker::<InstanceState>::new(&plain);
        let error = add_to_linker_async(&mut linker).unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Setup));
        assert!(
            error
                .source()
                .unwrap()
                .to_string()
                .contains("epoch interruption")
        );
        let mut linker = Linker::<InstanceState>::new(&Connector::engine().unwrap());
        add_to_linker_async(&mut linker).unwrap();
    }

    use std::error::Error as _;
}
