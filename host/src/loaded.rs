//! A component the host has compiled and pre-linked, with the options every
//! instance of it gets. `Connector` (the contract's exports) and
//! `serve::Server` (a `wasi:http/incoming-handler`) are both this type, so
//! they share one builder: limits, limiter, connection pool, environment.

use std::path::Path;

use wasmtime::component::{Component, InstancePre};

use crate::egress::EgressPool;
use crate::engine::{compile, compile_file};
use crate::error::Error;
use crate::instance::{InstanceLimits, InstancePlan, InstanceState, linked};
use crate::limiter::IntoRateLimiter;

/// The exports a [`Loaded`] component is used through, made from its
/// pre-linked instance: the contract's (`Connector`) or an HTTP handler's
/// (`serve::Server`).
pub trait Exports: Sized {
    /// Checks `pre`'s exports and wraps it.
    fn from_pre(pre: InstancePre<InstanceState>) -> Result<Self, Error>;
}

/// A compiled, pre-linked component (`pre`, such as a `ConnectorPre`) and
/// what each of its instances gets: an environment, egress hooks, resource
/// limits and a slot. Cloning shares the compiled code, the pool, the
/// limiter and the slots.
#[derive(Clone)]
pub struct Loaded<P> {
    pub(crate) pre: P,
    pub(crate) plan: InstancePlan,
}

impl<P: Exports> Loaded<P> {
    /// Compiles the component in the file at `path`, through the on-disk
    /// cache of compiled components ([`crate::engine::CacheLocation`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_component(&compile_file(path.as_ref())?)
    }

    /// Compiles the component in `bytes` (through the on-disk cache), for
    /// a host that embeds its component.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_component(&compile(bytes)?)
    }

    /// Links an already compiled `component` with WASI and WASI HTTP. Its
    /// engine must have epoch interruption on.
    pub fn from_component(component: &Component) -> Result<Self, Error> {
        let pre = linked(component)?
            .instantiate_pre(component)
            .map_err(Error::setup)?;
        Ok(Self {
            pre: P::from_pre(pre)?,
            plan: InstancePlan::new()?,
        })
    }
}

impl<P> Loaded<P> {
    /// This component with `limits` on each instance.
    pub fn with_limits(mut self, limits: InstanceLimits) -> Self {
        self.plan.set_limits(limits);
        self
    }

    /// This component sending every outgoing request through `limiter`,
    /// shared by all its instances (and anything else given the same one).
    pub fn with_limiter(mut self, limiter: impl IntoRateLimiter) -> Self {
        self.plan.set_limiter(limiter.into_rate_limiter());
        self
    }

    /// This component sending over `pool`'s connections, shared with
    /// anything else given the same pool (each has its own by default).
    pub fn with_pool(mut self, pool: EgressPool) -> Self {
        self.plan.set_pool(pool);
        self
    }

    /// This component with `name=value` in its instances' environment
    /// (`DISCORD_API_BASE`, say). Instances see nothing of the host's own.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.plan.set_env(name.into(), value.into());
        self
    }
}
