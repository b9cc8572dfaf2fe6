//! The instance runtime: what one instance of a component is given (its
//! environment, egress hooks, memory cap and slot), the deadline that stops
//! it, and the linker that feeds it WASI and WASI HTTP.
//!
//! The contract's own calls are in `connector`; serving a
//! `wasi:http/incoming-handler` component is in `serve`. Both run their
//! instances through this module.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, EngineWeak, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::egress::{EgressHooks, EgressPool, PoolSettings};
use crate::error::{DeadlinePassed, Error};
use crate::limiter::RateLimiter;

/// The component's setting for its whole call's deadline, in milliseconds.
pub const TIMEOUT_SETTING: &str = "DISCORD_TIMEOUT_MS";

/// The call deadline the host gives the component when its environment
/// does not set [`TIMEOUT_SETTING`]: the component's own default (15 s,
/// discord.js's), repeated here because the host never links the guest;
/// `tests/guest_defaults.rs` holds the two together.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest [`TIMEOUT_SETTING`] the component accepts (it refuses a
/// larger one); the host's deadline never waits longer than this plus its
/// margin.
pub const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The component's setting for the largest answer body it reads.
pub const BODY_CAP_SETTING: &str = "DISCORD_MAX_BODY_BYTES";

/// The component's own default for [`BODY_CAP_SETTING`] (8 MiB), which the
/// host lowers when an instance's memory cap could not hold it.
pub const DEFAULT_BODY_CAP: usize = 8 << 20;

/// How many times an answer's size an instance's memory must hold: the body
/// as read (a vector that grows by doubling) and what is made of it.
const MEMORY_PER_BODY_BYTE: usize = 4;

/// How often the engine's epoch ticks: how often a busy guest yields to the
/// executor, and the granularity of the host's deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

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
fn ensure_epoch_ticks(engine: &Engine) -> Result<(), Error> {
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

/// How long to wait for a call with `deadline` before abandoning it: the
/// epoch callback stops a guest that computes at the deadline; this stops
/// a call waiting in a host function, a few ticks later.
pub(crate) fn hard_stop(deadline: Duration) -> Duration {
    deadline + EPOCH_TICK * 5
}

/// The environment instances get: the configured one, with the call
/// deadline and the body cap always stated, so that host and component
/// agree on them. A body cap the memory cap cannot hold is refused; by
/// default the cap is lowered to what the memory holds.
fn instance_env(
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

/// What one instance holds: its WASI and WASI HTTP state, its egress hooks
/// and its resource limits.
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
    fn new(env: &[(String, String)], hooks: EgressHooks, limits: &InstanceLimits) -> Self {
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
    fn into_store(self, engine: &Engine) -> Store<Self> {
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

/// A linker for `component`'s engine with everything it may import.
pub(crate) fn linked(component: &Component) -> Result<Linker<InstanceState>, Error> {
    let mut linker = Linker::new(component.engine());
    add_to_linker_async(&mut linker)?;
    Ok(linker)
}

/// What every instance of a component gets: an environment, egress hooks,
/// resource limits and a slot.
#[derive(Clone)]
pub(crate) struct InstancePlan {
    env: Vec<(String, String)>,
    hooks: EgressHooks,
    limits: InstanceLimits,
    slots: Arc<Semaphore>,
    /// Changes with every setting, so that what was made under earlier
    /// settings (a warm instance) is told apart.
    version: u64,
}

/// A number no plan's settings had before.
fn next_version() -> u64 {
    static VERSIONS: AtomicU64 = AtomicU64::new(0);
    VERSIONS.fetch_add(1, Ordering::Relaxed)
}

/// A store ready for one instance, the slot it holds while alive, and its
/// calls' deadline.
pub(crate) struct PreparedStore {
    pub(crate) store: Store<InstanceState>,
    pub(crate) slot: OwnedSemaphorePermit,
    pub(crate) deadline: Duration,
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
            version: next_version(),
        })
    }

    pub(crate) fn set_limits(&mut self, limits: InstanceLimits) {
        self.version = next_version();
        self.limits = limits;
        self.slots = Arc::new(Semaphore::new(limits.max_instances));
    }

    pub(crate) fn set_limiter(&mut self, limiter: Arc<dyn RateLimiter>) {
        self.version = next_version();
        self.hooks = self.hooks.clone().with_limiter(limiter);
    }

    pub(crate) fn set_pool(&mut self, pool: EgressPool) {
        self.version = next_version();
        self.hooks = self.hooks.clone().with_pool(pool);
    }

    pub(crate) fn set_env(&mut self, name: String, value: String) {
        self.version = next_version();
        self.env.retain(|(existing, _)| *existing != name);
        self.env.push((name, value));
    }

    /// The version of these settings: it changes whenever one does.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Checks the environment the instances will get (see [`instance_env`]).
    pub(crate) fn env(&self) -> Result<Vec<(String, String)>, Error> {
        instance_env(&self.env, &self.limits)
    }

    /// Waits for a slot, then makes a store for one instance on `engine`
    /// with `env` (from [`InstancePlan::env`]).
    pub(crate) async fn store(
        &self,
        engine: &Engine,
        env: &[(String, String)],
    ) -> Result<PreparedStore, Error> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(Error::setup)?;
        Ok(self.prepared(engine, env, slot))
    }

    /// Like [`InstancePlan::store`], but only when a slot is free now.
    pub(crate) fn store_if_free(
        &self,
        engine: &Engine,
        env: &[(String, String)],
    ) -> Option<PreparedStore> {
        let slot = Arc::clone(&self.slots).try_acquire_owned().ok()?;
        Some(self.prepared(engine, env, slot))
    }

    /// Like [`InstancePlan::store`], but waits at most `wait` for a slot:
    /// `None` when every slot stayed taken, so that a server can refuse a
    /// request rather than queue it without end.
    #[cfg(feature = "serve")]
    pub(crate) async fn store_within(
        &self,
        engine: &Engine,
        env: &[(String, String)],
        wait: Duration,
    ) -> Result<Option<PreparedStore>, Error> {
        match tokio::time::timeout(wait, Arc::clone(&self.slots).acquire_owned()).await {
            Ok(slot) => Ok(Some(self.prepared(
                engine,
                env,
                slot.map_err(Error::setup)?,
            ))),
            Err(_elapsed) => Ok(None),
        }
    }

    /// A store for one instance on `engine` with `env`, holding `slot`.
    fn prepared(
        &self,
        engine: &Engine,
        env: &[(String, String)],
        slot: OwnedSemaphorePermit,
    ) -> PreparedStore {
        PreparedStore {
            store: InstanceState::new(env, self.hooks.clone(), &self.limits).into_store(engine),
            slot,
            deadline: call_deadline(env, self.limits.deadline_margin),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use wasmtime::Config;

    use super::*;
    use crate::error::ErrorKind;

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
        let mut config = Config::new();
        config.epoch_interruption(true);
        let interruptible = Engine::new(&config).unwrap();
        let mut linker = Linker::<InstanceState>::new(&interruptible);
        add_to_linker_async(&mut linker).unwrap();
    }

    #[test]
    fn the_default_body_cap_shrinks_to_what_the_memory_holds() {
        let small = InstanceLimits {
            memory_bytes: 4 << 20,
            ..InstanceLimits::default()
        };
        let env = instance_env(&[], &small).unwrap();
        assert!(env.contains(&(BODY_CAP_SETTING.to_owned(), (1 << 20).to_string())));
        assert!(env.contains(&(
            TIMEOUT_SETTING.to_owned(),
            DEFAULT_CALL_TIMEOUT.as_millis().to_string()
        )));
        let too_big = [(BODY_CAP_SETTING.to_owned(), (2 << 20).to_string())];
        let error = instance_env(&too_big, &small).unwrap_err();
        assert!(matches!(error.kind(), ErrorKind::Setup));
    }
}
