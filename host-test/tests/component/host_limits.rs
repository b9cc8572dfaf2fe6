//! The host's side: the shared Discord limiter in the egress hook, the
//! deadline model, the limits that keep a misbehaving component from
//! hurting the host, and embedding the contract in a host's own store.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use discord_host::limiter::{DiscordLimiter, LimiterPolicy};
use discord_host::{
    ComponentErrorKind, Connector, Credential, EgressHooks, ErrorKind, Instance, InstanceLimits,
    Output, add_to_linker_async, bindings::ConnectorPre, call_deadline,
};

use discord_sandbox::{Fault, RateLimitPolicy};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::common::{assert_kind, error_of, setup};

async fn concurrent_gateway_calls(connector: &Connector, count: usize) -> Vec<bool> {
    let calls = (0..count).map(|_| {
        let connector = connector.clone();
        tokio::spawn(async move {
            matches!(
                connector
                    .execute_tool("discord_get_gateway", "{}", &Credential::None)
                    .await,
                Ok(Output::Json(_))
            )
        })
    });
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn concurrent_instances_on_one_bucket_get_no_429() {
    let (sandbox, connector) = setup().await;
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: 3,
        window: Duration::from_millis(500),
    });

    let unlimited = concurrent_gateway_calls(&connector, 12).await;
    assert!(
        sandbox.rate_limited_count() > 0,
        "without the limiter the burst hits 429s"
    );
    drop(unlimited);

    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = sandbox.rate_limited_count();
    let limited = connector
        .clone()
        .with_limiter(Arc::new(DiscordLimiter::default()));
    let started = Instant::now();
    let results = concurrent_gateway_calls(&limited, 12).await;
    assert!(results.iter().all(|ok| *ok), "every call succeeds");
    assert_eq!(
        sandbox.rate_limited_count(),
        before,
        "no 429 with the shared limiter"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "12 calls at 3 per 500 ms take three windows"
    );
}

#[tokio::test]
async fn a_credential_with_too_many_invalid_requests_is_refused_before_it_is_sent() {
    let (sandbox, connector) = setup().await;
    let policy = LimiterPolicy {
        invalid_per_credential: 3,
        ..LimiterPolicy::default()
    };
    let limiter = Arc::new(DiscordLimiter::new(policy));
    let limited = connector.with_limiter(Arc::clone(&limiter));
    let stale = Credential::Bearer("sbx-user.revoked".to_owned());
    for _ in 0..3 {
        let error = error_of(&limited, "discord_get_my_user", "{}", &stale).await;
        assert_kind(&error, ComponentErrorKind::Unauthorized);
    }
    assert_eq!(limiter.invalid_requests(), 3);
    let error = error_of(&limited, "discord_get_my_user", "{}", &stale).await;
    assert_kind(&error, ComponentErrorKind::RateLimited);
    assert!(error.retry_after_ms.is_some(), "{}", error.message);
    assert!(
        error.message.contains("invalid Discord requests"),
        "{}",
        error.message
    );
    assert_eq!(
        sandbox.requests().len(),
        3,
        "the refused request never left the host"
    );
    let other = limited
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await;
    assert!(other.is_ok(), "other credentials are still served");
}

#[tokio::test]
async fn a_stalled_upstream_ends_as_a_transport_timeout_not_a_trap() {
    let (sandbox, connector) = setup().await;
    // The host's deadline follows the component's own: 900 ms plus 100 ms.
    // (Under the old fixed host deadline, scaled down here to 300 ms, this
    // call was a trap.)
    let connector = connector
        .with_env("DISCORD_TIMEOUT_MS", "900")
        .with_limits(InstanceLimits {
            deadline_margin: Duration::from_millis(100),
            ..InstanceLimits::default()
        });
    sandbox.inject(
        Fault::json(200, serde_json::json!({"url": "wss://late"}))
            .on("/gateway")
            .delay(Duration::from_secs(5)),
    );
    let started = Instant::now();
    let error = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await
        .unwrap_err();
    let component = error.component().unwrap_or_else(|| panic!("{error}"));
    assert_eq!(component.kind, ComponentErrorKind::Transport, "{error}");
    assert_eq!(error.detail("class").as_deref(), Some("timeout"), "{error}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(850) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

fn misbehaving() -> &'static Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| Connector::from_file(env!("MISBEHAVING_WASM")).expect("the fixture loads"))
}

#[tokio::test]
async fn a_component_that_allocates_without_end_hits_the_memory_cap() {
    let limits = InstanceLimits {
        memory_bytes: 16 << 20,
        ..InstanceLimits::default()
    };
    let connector = misbehaving().clone().with_limits(limits);
    let trap = connector
        .execute_tool("hoard", "{}", &Credential::None)
        .await
        .unwrap_err();
    assert!(matches!(trap.kind(), ErrorKind::Trap), "{trap}");
    let mut causes = Vec::new();
    let mut cause = std::error::Error::source(&trap);
    while let Some(error) = cause {
        causes.push(error.to_string());
        cause = error.source();
    }
    assert!(
        causes.iter().any(|cause| cause.contains("memory")),
        "{causes:?}"
    );
    let next = connector
        .execute_tool("fine", "{}", &Credential::None)
        .await;
    assert!(next.is_ok(), "the host keeps serving");
}

/// On a single-threaded runtime: a spinning guest must yield at every
/// epoch tick, or the other call could not run at all.
#[tokio::test]
async fn a_component_that_spins_yields_and_is_stopped_at_its_deadline() {
    let connector = misbehaving()
        .clone()
        .with_env("DISCORD_TIMEOUT_MS", "300")
        .with_limits(InstanceLimits {
            deadline_margin: Duration::from_millis(100),
            ..InstanceLimits::default()
        });
    let spinner = {
        let connector = connector.clone();
        tokio::spawn(async move {
            connector
                .execute_tool("spin", "{}", &Credential::None)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let meanwhile = connector
        .execute_tool("fine", "{}", &Credential::None)
        .await;
    assert!(meanwhile.is_ok(), "others are served while one spins");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the other call did not wait for the spinner: {:?}",
        started.elapsed()
    );
    let stopped = spinner.await.unwrap().unwrap_err();
    assert!(
        matches!(stopped.kind(), ErrorKind::Deadline { after } if *after == Duration::from_millis(400)),
        "{stopped}"
    );
    assert_eq!(
        stopped.to_string(),
        "the call ran past the host's deadline of 400 ms and was stopped"
    );
}

#[tokio::test]
async fn instances_beyond_the_cap_wait_for_a_slot() {
    let limits = InstanceLimits {
        max_instances: 2,
        ..InstanceLimits::default()
    };
    let connector = misbehaving().clone().with_limits(limits);
    let first = connector.instance().await.unwrap();
    let _second = connector.instance().await.unwrap();
    let third = tokio::time::timeout(Duration::from_millis(200), connector.instance()).await;
    assert!(third.is_err(), "a third instance waits");
    drop(first);
    let third = tokio::time::timeout(Duration::from_secs(2), connector.instance()).await;
    assert!(third.is_ok(), "and gets the freed slot");
}

/// A host's own store state: its WASI setup, and something of its own.
pub(crate) struct AgentState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: EgressHooks,
    pub(crate) calls_made: u32,
}

impl WasiView for AgentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for AgentState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

#[tokio::test]
async fn a_host_embeds_the_contract_in_its_own_store() {
    let (sandbox, _) = setup().await;
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, discord_artifacts::CONNECTOR).unwrap();
    let mut linker = Linker::<AgentState>::new(&engine);
    add_to_linker_async(&mut linker).unwrap();
    let pre = ConnectorPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();

    let env = vec![("DISCORD_API_BASE".to_owned(), sandbox.base_url())];
    let state = AgentState {
        wasi: WasiCtx::builder().envs(&env).build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks: EgressHooks::limited(Arc::new(DiscordLimiter::default())),
        calls_made: 0,
    };
    let store = Store::new(&engine, state);
    let deadline = call_deadline(&env, Duration::from_secs(2));
    let mut instance = Instance::instantiate(store, &pre, deadline).await.unwrap();
    let output = instance
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await
        .unwrap();
    instance.store_mut().data_mut().calls_made += 1;
    let Output::Json(json) = output else {
        panic!("expected JSON");
    };
    assert!(json.contains("wss://"), "{json}");
    let error = instance
        .execute_tool("discord_get_user", r#"{"user_id": "x"}"#, &Credential::None)
        .await
        .unwrap_err();
    assert_eq!(
        error.component_kind(),
        Some(ComponentErrorKind::InvalidArguments),
        "{error}"
    );
    assert_eq!(instance.store_mut().data().calls_made, 1);
    assert_eq!(sandbox.requests().len(), 1);
}

#[tokio::test]
async fn instances_share_kept_alive_connections() {
    let (sandbox, connector) = setup().await;
    for _ in 0..20 {
        connector
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await
            .unwrap();
    }
    assert_eq!(
        sandbox.connections(),
        1,
        "twenty calls, each in a fresh instance, over one connection"
    );
    let calls = (0..8).map(|_| {
        let connector = connector.clone();
        tokio::spawn(async move {
            connector
                .execute_tool("discord_get_gateway", "{}", &Credential::None)
                .await
                .is_ok()
        })
    });
    for call in calls {
        assert!(call.await.unwrap());
    }
    assert!(
        sandbox.connections() <= 8,
        "concurrent calls open at most one connection each: {}",
        sandbox.connections()
    );
}
