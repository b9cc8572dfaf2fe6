//! The contract's facade: [`Connector`] calls the connector component's
//! exports. `execute_tool` runs in a warm instance kept for the same
//! credential (`reuse`), every other call in a fresh, short-lived
//! [`Instance`] with its own WASI context; calls run concurrently, each
//! instance serving one at a time. Hosts that already
//! have a `Store<T>` and a `Linker<T>` use
//! [`add_to_linker_async`](crate::instance::add_to_linker_async) and
//! [`Instance::instantiate`] instead, and get the same deadlines and errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::InstancePre;
use wasmtime::{Engine, Store};

use crate::bindings::exports::agent_tools::connector::oauth::{Client, Link, LinkRequest, Token};
use crate::bindings::exports::agent_tools::connector::proxy::{
    Request as ProxyRequest, Response as ProxyResponse,
};
use crate::bindings::exports::agent_tools::connector::tools::{Output, Tool};
use crate::bindings::types::{Credential, Error as ComponentError};
use crate::bindings::{self, ConnectorPre};
use crate::engine::default_engine;
use crate::error::{Error, ErrorKind};
use crate::instance::{InstanceLimits, InstanceState, PreparedStore, arm_deadline, hard_stop};
use crate::loaded::{Exports, Loaded};
use crate::reuse::{ConnectorStats, ReuseLimits, WarmPool, retire};

/// The compiled, linked connector component and what its instances get: an
/// environment, egress hooks and resource limits, set with the builder
/// [`Loaded`] shares with `serve::Server`
/// ([`with_env`](Loaded::with_env), [`with_limits`](Loaded::with_limits),
/// [`with_limiter`](Loaded::with_limiter), [`with_pool`](Loaded::with_pool)),
/// and how it keeps warm instances ([`Connector::with_reuse`]).
///
/// [`execute_tool`](Connector::execute_tool) reuses an instance for calls
/// of the same credential (see [`ReuseLimits`]): an instance serves one
/// call at a time, never a second credential, and is dropped after any
/// failure but the component's own typed error. A clone shares the
/// compiled code, the pool, the limiter, the slots and the warm instances
/// (each serving only the settings it was made with).
pub type Connector = Loaded<Linked>;

/// The connector component, pre-linked, and the warm instances of a
/// [`Connector`] (shared by its clones).
#[derive(Clone)]
pub struct Linked {
    pre: ConnectorPre<InstanceState>,
    warm: Arc<WarmPool<Instance<InstanceState>>>,
}

impl Exports for Linked {
    fn from_pre(pre: InstancePre<InstanceState>) -> Result<Self, Error> {
        let secret = WarmPool::<Instance<InstanceState>>::secret().map_err(Error::setup)?;
        Ok(Self {
            pre: ConnectorPre::new(pre).map_err(Error::setup)?,
            warm: WarmPool::new(ReuseLimits::default(), secret),
        })
    }
}

impl Connector {
    /// A wasmtime engine set up for the connector: epoch interruption on,
    /// the pooling allocator sized for the default [`InstanceLimits`] (or
    /// on-demand allocation where the pool cannot be reserved). For other
    /// sizes, make one with [`crate::engine::engine`] and use
    /// [`Connector::from_component`].
    pub fn engine() -> Result<Engine, Error> {
        default_engine(&InstanceLimits::default())
    }

    /// This connector keeping warm instances within `limits`
    /// ([`ReuseLimits::OFF`]: a fresh instance for every call), in a pool
    /// of its own (with its own [`stats`](Connector::stats)), shared only
    /// with its clones from now on.
    pub fn with_reuse(mut self, limits: ReuseLimits) -> Self {
        self.pre.warm = WarmPool::new(limits, self.pre.warm.shared_secret());
        self
    }

    /// How many instances this connector and its clones have made, reused
    /// and discarded, and how many are warm now (since it was made, or
    /// given [`with_reuse`](Connector::with_reuse)).
    pub fn stats(&self) -> ConnectorStats {
        self.pre.warm.stats()
    }

    /// A fresh instance with its own store, for one call or several.
    ///
    /// Waits while `max_instances` instances are alive (warm instances
    /// kept by [`execute_tool`](Connector::execute_tool) included: a call
    /// that waits drops the least recently used one).
    pub async fn instance(&self) -> Result<Instance<InstanceState>, Error> {
        let env = self.plan.env()?;
        let PreparedStore {
            store,
            slot,
            deadline,
        } = self
            .pre
            .warm
            .slot(
                self.plan.version(),
                self.plan.store(self.pre.pre.engine(), &env),
            )
            .await?;
        let mut instance = Instance::instantiate(store, &self.pre.pre, deadline).await?;
        instance.slot = Some(slot);
        self.pre.warm.instantiated();
        Ok(instance)
    }

    /// Runs `call` in an instance of its own, dropped afterwards off the
    /// caller's path.
    async fn one_shot<R>(
        &self,
        call: impl AsyncFnOnce(&mut Instance<InstanceState>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut instance = self.unused_instance().await?;
        let result = call(&mut instance).await;
        retire(Some(instance));
        self.refill_spares();
        result
    }

    /// An instance that has served no credential for a call of its own: a
    /// spare made ahead when there is one, else a fresh one. The caller
    /// makes the spares up with [`Connector::refill_spares`] once its call
    /// is done, so that making them does not hold the call up.
    async fn unused_instance(&self) -> Result<Instance<InstanceState>, Error> {
        match self.pre.warm.take_spare(self.plan.version()) {
            Some(spare) => Ok(spare),
            None => self.instance().await,
        }
    }

    /// Starts a task making spares (see [`ReuseLimits::spares`]) when
    /// some are missing and the caller is on a tokio runtime. Each takes a
    /// slot only if one is free, and is warmed by one `list-tools` call,
    /// so that its first real call does not grow its memory.
    fn refill_spares(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.pre.warm.start_refill() {
            return;
        }
        let connector = self.clone();
        runtime.spawn(async move {
            let warm = Arc::clone(&connector.pre.warm);
            let mut refill = Refill(Some(&warm));
            let version = connector.plan.version();
            while let Some(mut spare) = connector.spare().await {
                if let Err(error) = spare.list_tools().await {
                    tracing::warn!(%error, "a spare instance failed to warm up");
                    break;
                }
                if !warm.put_spare(version, spare) {
                    // `put_spare` ended the refill as it saw it complete.
                    refill.0 = None;
                    break;
                }
            }
        });
    }

    /// A fresh instance for the spares, if a slot is free now.
    async fn spare(&self) -> Option<Instance<InstanceState>> {
        let env = self.plan.env().ok()?;
        let PreparedStore {
            store,
            slot,
            deadline,
        } = self.plan.store_if_free(self.pre.pre.engine(), &env)?;
        let made = Instance::instantiate(store, &self.pre.pre, deadline).await;
        let mut instance = made
            .inspect_err(|error| tracing::warn!(%error, "a spare instance could not be made"))
            .ok()?;
        instance.slot = Some(slot);
        self.pre.warm.instantiated();
        Some(instance)
    }

    /// The tool catalogue.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, Error> {
        self.one_shot(async |instance| instance.list_tools().await)
            .await
    }

    /// Runs tool `name` with `arguments` (a JSON object) in a warm
    /// instance of the same `credential` (with these settings), or else a
    /// spare or a fresh one. The instance goes back for the next call of `credential` after
    /// a success or the component's typed error, and is dropped after any
    /// other failure (a trap, the host's deadline), or when the call is
    /// cancelled.
    pub async fn execute_tool(
        &self,
        name: &str,
        arguments: &str,
        credential: &Credential,
    ) -> Result<Output, Error> {
        let warm = &self.pre.warm;
        let key = warm.key(credential, self.plan.version());
        let (mut instance, calls) = match warm.take(&key) {
            Some(found) => found,
            None => (self.unused_instance().await?, 0),
        };
        let result = instance.execute_tool(name, arguments, credential).await;
        match &result {
            Ok(_) => warm.put(key, instance, calls + 1),
            Err(error) if matches!(error.kind(), ErrorKind::Component(_)) => {
                warm.put(key, instance, calls + 1)
            }
            Err(_) => warm.discard(instance),
        }
        if calls == 0 {
            self.refill_spares();
        }
        result
    }

    /// Sends a raw request through the component's confined proxy.
    pub async fn proxy_send(
        &self,
        request: &ProxyRequest,
        credential: &Credential,
    ) -> Result<ProxyResponse, Error> {
        self.one_shot(async |instance| instance.proxy_send(request, credential).await)
            .await
    }

    /// An OAuth 2.0 authorization link with PKCE.
    pub async fn authorization_link(&self, request: &LinkRequest) -> Result<Link, Error> {
        self.one_shot(async |instance| instance.authorization_link(request).await)
            .await
    }

    /// Trades an authorization `code` for a token.
    pub async fn exchange_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Token, Error> {
        self.one_shot(async |instance| {
            instance
                .exchange_code(client, code, redirect_uri, code_verifier)
                .await
        })
        .await
    }

    /// Trades a (single-use) refresh token for a new token pair.
    pub async fn refresh_token(
        &self,
        client: &Client,
        refresh_token: &str,
    ) -> Result<Token, Error> {
        self.one_shot(async |instance| instance.refresh_token(client, refresh_token).await)
            .await
    }

    /// Revokes a token, and with it the user's grant.
    pub async fn revoke_token(&self, client: &Client, token: &str) -> Result<(), Error> {
        self.one_shot(async |instance| instance.revoke_token(client, token).await)
            .await
    }
}

/// Ends a refill of the spares when its task stops short (an instance
/// that could not be made, the runtime shutting down).
struct Refill<'a>(Option<&'a WarmPool<Instance<InstanceState>>>);

impl Drop for Refill<'_> {
    fn drop(&mut self) {
        if let Some(warm) = self.0 {
            warm.refilled();
        }
    }
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
    /// went through [`add_to_linker_async`](crate::instance::add_to_linker_async)),
    /// giving instantiation and each call `deadline` (see
    /// [`call_deadline`](crate::instance::call_deadline)).
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
        ) -> wasmtime::Result<Result<R, ComponentError>>,
    {
        if self.poisoned {
            return Err(Error::new(ErrorKind::Poisoned));
        }
        let deadline = self.deadline;
        arm_deadline(&mut self.store, Instant::now() + deadline);
        let outcome =
            tokio::time::timeout(hard_stop(deadline), call(&self.bindings, &mut self.store)).await;
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
