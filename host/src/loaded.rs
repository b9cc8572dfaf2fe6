//! A component the host has compiled and pre-linked, with the options every
//! instance of it gets. `Connector` (the contract's exports) and
//! `serve::Server` (a `wasi:http/incoming-handler`) are both this type, so
//! they share one builder: limits, limiter, connection pool, environment.

use std::sync::Arc;

use crate::egress::EgressPool;
use crate::error::Error;
use crate::instance::{InstanceLimits, InstancePlan};
use crate::limiter::DiscordLimiter;

/// A compiled, pre-linked component (`pre`, such as a `ConnectorPre`) and
/// what each of its instances gets: an environment, egress hooks, resource
/// limits and a slot. Cloning shares the compiled code, the pool, the
/// limiter and the slots.
#[derive(Clone)]
pub struct Loaded<P> {
    pub(crate) pre: P,
    pub(crate) plan: InstancePlan,
}

impl<P> Loaded<P> {
    /// `pre` with the default limits, no limiter, an empty environment and
    /// a keep-alive egress pool of its own.
    pub(crate) fn new(pre: P) -> Result<Self, Error> {
        Ok(Self {
            pre,
            plan: InstancePlan::new()?,
        })
    }

    /// This component with `limits` on each instance.
    pub fn with_limits(mut self, limits: InstanceLimits) -> Self {
        self.plan.set_limits(limits);
        self
    }

    /// This component sending every outgoing request through `limiter`,
    /// shared by all its instances (and anything else given the same one).
    pub fn with_limiter(mut self, limiter: Arc<DiscordLimiter>) -> Self {
        self.plan.set_limiter(limiter);
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
