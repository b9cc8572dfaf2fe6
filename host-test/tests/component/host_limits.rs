//! The host's side: the shared Discord limiter in the egress hook, and the
//! limits that keep a misbehaving component from hurting the host.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use discord_host::connector::{Connector, Credential, ErrorKind, InstanceLimits, Output};
use discord_host::limiter::{DiscordLimiter, LimiterPolicy, route_key};
use discord_host::sandbox::RateLimitPolicy;

use crate::common::{assert_kind, error_of, setup};

async fn concurrent_gateway_calls(connector: &Connector, count: usize) -> Vec<bool> {
    let calls = (0..count).map(|_| {
        let connector = connector.clone();
        tokio::spawn(async move {
            matches!(
                connector
                    .execute_tool("discord_get_gateway", "{}", &Credential::None)
                    .await,
                Ok(Ok(Output::Json(_)))
            )
        })
    });
    futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn routes_keep_only_their_top_level_resource() {
    assert_eq!(
        route_key("GET", "/api/v10/users/41771983423143937"),
        "GET/api/v10/users/:id"
    );
    assert_eq!(
        route_key("GET", "/api/v10/guilds/613425648685547541/widget.json"),
        "GET/api/v10/guilds/613425648685547541/widget.json"
    );
    assert_eq!(
        route_key("GET", "/api/v10/invites/abc?with_counts=true"),
        "GET/api/v10/invites/:id"
    );
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
async fn each_credential_stays_under_the_global_limit() {
    let (_sandbox, connector) = setup().await;
    let policy = LimiterPolicy {
        global_per_second: 4,
        ..LimiterPolicy::default()
    };
    let limited = connector.with_limiter(Arc::new(DiscordLimiter::new(policy)));
    let started = Instant::now();
    let tools = [
        "discord_get_gateway",
        "discord_get_public_keys",
        "discord_list_sticker_packs",
    ];
    for n in 0..9 {
        let result = limited
            .execute_tool(tools[n % 3], "{}", &Credential::None)
            .await
            .unwrap();
        assert!(result.is_ok());
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "9 requests at 4 per second: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn invalid_requests_are_refused_before_the_ban_threshold() {
    let (sandbox, connector) = setup().await;
    let policy = LimiterPolicy {
        invalid_limit: 3,
        ..LimiterPolicy::default()
    };
    let limiter = Arc::new(DiscordLimiter::new(policy));
    let limited = connector.with_limiter(Arc::clone(&limiter));
    let stale = Credential::Bearer("sbx-user.revoked".to_owned());
    for _ in 0..3 {
        let error = error_of(&limited, "discord_get_my_user", "{}", &stale).await;
        assert_kind(&error, ErrorKind::Unauthorized);
    }
    assert_eq!(limiter.invalid_requests(), 3);
    let error = error_of(&limited, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Transport);
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
    assert!(format!("{trap:?}").contains("memory"), "{trap:?}");
    let next = connector
        .execute_tool("fine", "{}", &Credential::None)
        .await
        .unwrap();
    assert!(next.is_ok(), "the host keeps serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_that_loops_is_stopped_at_its_deadline() {
    let limits = InstanceLimits {
        call_timeout: Duration::from_millis(300),
        ..InstanceLimits::default()
    };
    let connector = misbehaving().clone().with_limits(limits);
    let spinner = {
        let connector = connector.clone();
        tokio::spawn(async move {
            connector
                .execute_tool("spin", "{}", &Credential::None)
                .await
        })
    };
    let started = Instant::now();
    let meanwhile = connector
        .execute_tool("fine", "{}", &Credential::None)
        .await
        .unwrap();
    assert!(meanwhile.is_ok(), "others are served while one spins");
    let trap = spinner.await.unwrap().unwrap_err();
    assert!(
        format!("{trap:?}").to_lowercase().contains("interrupt"),
        "{trap:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn instances_beyond_the_cap_wait_for_a_slot() {
    let limits = InstanceLimits {
        max_instances: 2,
        ..InstanceLimits::default()
    };
    let connector = misbehaving().clone().with_limits(limits);
    let first = connector.session().await.unwrap();
    let _second = connector.session().await.unwrap();
    let third = tokio::time::timeout(Duration::from_millis(200), connector.session()).await;
    assert!(third.is_err(), "a third instance waits");
    drop(first);
    let third = tokio::time::timeout(Duration::from_secs(2), connector.session()).await;
    assert!(third.is_ok(), "and gets the freed slot");
}
