//! `Connector::execute_tool` reuses a warm instance for calls of the same
//! credential: never across credentials, never after a trap or the host's
//! deadline, and with answers no different from a fresh instance's. A
//! spare made ahead serves one credential's first call, and that one only.

use std::sync::OnceLock;
use std::time::Duration;

use discord_host::{
    Connector, Credential, CredentialKind, ErrorKind, InstanceLimits, Output, ReuseLimits,
};

use crate::common::{bot, user};

/// The default reuse without spares, so that every instance counted is
/// one a call made (spares are made in the background, when they are).
fn without_spares() -> ReuseLimits {
    ReuseLimits {
        spares: 0,
        ..ReuseLimits::default()
    }
}

/// The fixture, with a pool of warm instances (and counts) of its own:
/// clones share theirs.
fn misbehaving() -> Connector {
    static CONNECTOR: OnceLock<Connector> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| Connector::from_file(env!("MISBEHAVING_WASM")).expect("the fixture loads"))
        .clone()
        .with_reuse(without_spares())
}

/// A fresh sandbox and the connector pointed at it, with a pool of its own.
async fn setup() -> (discord_sandbox::Sandbox, Connector) {
    let (sandbox, connector) = crate::common::setup().await;
    (sandbox, connector.with_reuse(without_spares()))
}

/// An answer as text, to compare: the output, or the component's error
/// (a host failure fails the test).
fn answer(result: Result<Output, discord_host::Error>) -> String {
    match result {
        Ok(output) => format!("{output:?}"),
        Err(error) => match error.component() {
            Some(component) => format!("{component:?}"),
            None => panic!("a host failure: {error}"),
        },
    }
}

fn id_of(result: Result<Output, discord_host::Error>) -> String {
    match result {
        Ok(Output::Json(json)) => {
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            value["id"].as_str().unwrap().to_owned()
        }
        other => panic!("expected JSON, got {other:?}"),
    }
}

#[tokio::test]
async fn interleaved_credentials_get_an_instance_each() {
    let (_sandbox, connector) = setup().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        for credential in [user(), bot()] {
            let result = connector
                .execute_tool("discord_get_my_user", "{}", &credential)
                .await;
            ids.push(id_of(result));
        }
        connector
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await
            .unwrap();
    }
    assert_ne!(ids[0], ids[1], "a user and a bot");
    for pair in ids.chunks(2) {
        assert_eq!(pair, &ids[..2], "each call saw its own credential");
    }
    let stats = connector.stats();
    assert_eq!(stats.instantiations, 3, "{stats:?}: one per credential");
    assert_eq!(stats.reuses, 6, "{stats:?}");
    assert_eq!(stats.warm, 3, "{stats:?}");
    assert_eq!(stats.discarded, 0, "{stats:?}");
}

#[tokio::test]
async fn calls_in_flight_at_once_each_get_their_own_instance() {
    let (_sandbox, connector) = setup().await;
    let credential = user();
    let call = || connector.execute_tool("discord_get_my_user", "{}", &credential);
    let (a, b, c) = tokio::join!(call(), call(), call());
    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(connector.stats().instantiations, 3);
    assert_eq!(connector.stats().warm, 3);
    call().await.unwrap();
    assert_eq!(connector.stats().instantiations, 3);
    assert_eq!(connector.stats().reuses, 1);
}

#[tokio::test]
async fn an_instance_that_trapped_is_not_reused() {
    let connector = misbehaving().with_limits(InstanceLimits {
        memory_bytes: 16 << 20,
        ..InstanceLimits::default()
    });
    let none = Credential::None;
    connector.execute_tool("fine", "{}", &none).await.unwrap();
    connector.execute_tool("fine", "{}", &none).await.unwrap();
    assert_eq!(connector.stats().instantiations, 1);
    assert_eq!(connector.stats().reuses, 1);
    let trap = connector
        .execute_tool("hoard", "{}", &none)
        .await
        .unwrap_err();
    assert!(matches!(trap.kind(), ErrorKind::Trap), "{trap}");
    let stats = connector.stats();
    assert_eq!(
        (stats.reuses, stats.discarded, stats.warm),
        (2, 1, 0),
        "{stats:?}"
    );
    connector.execute_tool("fine", "{}", &none).await.unwrap();
    let stats = connector.stats();
    assert_eq!(
        stats.instantiations, 2,
        "a fresh one after the trap: {stats:?}"
    );
    assert_eq!(stats.reuses, 2, "{stats:?}");
}

#[tokio::test]
async fn an_instance_stopped_at_its_deadline_is_not_reused() {
    let connector = misbehaving()
        .clone()
        .with_env("DISCORD_TIMEOUT_MS", "200")
        .with_limits(InstanceLimits {
            deadline_margin: Duration::from_millis(50),
            ..InstanceLimits::default()
        });
    let bot = Credential::Bot("a-bot".to_owned());
    connector.execute_tool("fine", "{}", &bot).await.unwrap();
    let stopped = connector
        .execute_tool("spin", "{}", &bot)
        .await
        .unwrap_err();
    assert!(
        matches!(stopped.kind(), ErrorKind::Deadline { .. }),
        "{stopped}"
    );
    let stats = connector.stats();
    assert_eq!(
        (stats.reuses, stats.discarded, stats.warm),
        (1, 1, 0),
        "{stats:?}"
    );
    connector.execute_tool("fine", "{}", &bot).await.unwrap();
    assert_eq!(connector.stats().instantiations, 2);
}

#[tokio::test]
async fn warm_instances_give_up_their_slots_to_calls_that_wait() {
    let connector = misbehaving().with_limits(InstanceLimits {
        max_instances: 1,
        ..InstanceLimits::default()
    });
    // Well within the 1 s idle timeout: not waiting for the warm one to expire.
    let within = Duration::from_millis(300);
    let first = Credential::Bot("first".to_owned());
    let second = Credential::Bot("second".to_owned());
    connector.execute_tool("fine", "{}", &first).await.unwrap();
    assert_eq!(connector.stats().warm, 1, "it holds the only slot");
    let other = tokio::time::timeout(within, connector.execute_tool("fine", "{}", &second));
    assert!(other.await.expect("no wait for the idle one").is_ok());
    let fresh = tokio::time::timeout(within, connector.instance()).await;
    assert!(fresh.expect("no wait for the idle one").is_ok());
    assert_eq!(connector.stats().instantiations, 3);
    assert_eq!(connector.stats().reuses, 0);
}

#[tokio::test]
async fn idle_instances_expire_and_instance_stays_fresh() {
    let connector = misbehaving().with_reuse(ReuseLimits {
        idle_timeout: Duration::from_millis(50),
        ..without_spares()
    });
    connector
        .execute_tool("fine", "{}", &Credential::None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(connector.stats().warm, 0);
    connector
        .execute_tool("fine", "{}", &Credential::None)
        .await
        .unwrap();
    assert_eq!(connector.stats().instantiations, 2);
    for _ in 0..2 {
        let mut instance = connector.instance().await.unwrap();
        instance
            .execute_tool("fine", "{}", &Credential::None)
            .await
            .unwrap();
    }
    let stats = connector.stats();
    assert_eq!((stats.instantiations, stats.reuses), (4, 0), "{stats:?}");
    let off = misbehaving().with_reuse(ReuseLimits::OFF);
    for _ in 0..2 {
        off.execute_tool("fine", "{}", &Credential::None)
            .await
            .unwrap();
    }
    assert_eq!(off.stats().instantiations, 2);
    let few = misbehaving().with_reuse(ReuseLimits {
        calls_per_instance: 2,
        ..without_spares()
    });
    for _ in 0..5 {
        few.execute_tool("fine", "{}", &Credential::None)
            .await
            .unwrap();
    }
    assert_eq!((few.stats().instantiations, few.stats().reuses), (3, 2));
}

/// Every tool of the catalogue with arguments that succeed in the sandbox,
/// and a few that the component refuses (its typed error keeps the instance).
const CALLS: &[(&str, &str)] = &[
    (
        "discord_get_current_user_application_entitlements",
        r#"{"application_id": "1178765261640953856"}"#,
    ),
    ("discord_get_gateway", "{}"),
    (
        "discord_get_guild_template",
        r#"{"template_code": "hgM48av5Q69A"}"#,
    ),
    (
        "discord_get_guild_widget",
        r#"{"guild_id": "613425648685547541"}"#,
    ),
    (
        "discord_get_guild_widget_png",
        r#"{"guild_id": "613425648685547541"}"#,
    ),
    (
        "discord_get_invite_deprecated",
        r#"{"invite_code": "discord-developers"}"#,
    ),
    (
        "discord_get_my_guild_member",
        r#"{"guild_id": "613425648685547541"}"#,
    ),
    ("discord_get_my_oauth2_authorization", "{}"),
    ("discord_get_my_user", "{}"),
    ("discord_get_openid_connect_userinfo", "{}"),
    ("discord_get_public_keys", "{}"),
    ("discord_get_user", r#"{"user_id": "@me"}"#),
    ("discord_list_my_guilds", "{}"),
    ("discord_list_sticker_packs", "{}"),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "discord.com/invite/wasm-workshop", "with_counts": true}"#,
    ),
    ("discord_retrieve_user_connections", "{}"),
    ("discord_get_guild_widget", r#"{"guild_id": "general"}"#),
    ("discord_get_user", "{}"),
    ("discord_no_such_tool", "{}"),
];

#[tokio::test]
async fn a_reused_instance_answers_as_a_fresh_one_in_any_order() {
    let (_sandbox, connector) = setup().await;
    let connector = connector.with_reuse(ReuseLimits {
        calls_per_instance: 10_000,
        idle_timeout: Duration::from_secs(600),
        ..without_spares()
    });
    // The bot-only tools (#18) are left to their own end-to-end tests.
    let tools: Vec<_> = crate::common::compiled()
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .filter(|tool| tool.accepts != [CredentialKind::Bot])
        .collect();
    for tool in &tools {
        assert!(
            CALLS.iter().any(|(name, _)| *name == tool.name),
            "{} is called",
            tool.name
        );
    }
    let n = CALLS.len();
    let orders: Vec<Vec<usize>> = vec![
        (0..n).collect(),
        (0..n).rev().collect(),
        (0..n).map(|i| (i * 7 + 3) % n).collect(),
        (0..n).map(|i| (i * 5 + 11) % n).collect(),
    ];
    let credential = user();
    let mut reused_calls = 0;
    let mut fresh_calls = 0;
    let mut successes = 0;
    for order in &orders {
        for &i in order {
            let (name, arguments) = CALLS[i];
            let reused = connector.execute_tool(name, arguments, &credential).await;
            reused_calls += 1;
            let mut instance = connector.instance().await.unwrap();
            let fresh = instance.execute_tool(name, arguments, &credential).await;
            fresh_calls += 1;
            let (reused, fresh) = (answer(reused), answer(fresh));
            successes += usize::from(reused.starts_with("Output::"));
            assert_eq!(reused, fresh, "{name} {arguments}");
        }
    }
    assert_eq!(successes, tools.len() * orders.len(), "every tool succeeds");
    let stats = connector.stats();
    assert_eq!(stats.instantiations, 1 + fresh_calls, "{stats:?}");
    assert_eq!(
        stats.reuses,
        reused_calls - 1,
        "one instance served all: {stats:?}"
    );
    assert_eq!(stats.discarded, 0, "{stats:?}");
}

#[tokio::test]
async fn clones_share_warm_instances_of_their_own_settings_only() {
    let connector = misbehaving();
    let none = Credential::None;
    connector.execute_tool("fine", "{}", &none).await.unwrap();
    let clone = connector.clone();
    clone.execute_tool("fine", "{}", &none).await.unwrap();
    let stats = connector.stats();
    assert_eq!((stats.instantiations, stats.reuses), (1, 1), "{stats:?}");
    let changed = connector.clone().with_env("DISCORD_TIMEOUT_MS", "5000");
    changed.execute_tool("fine", "{}", &none).await.unwrap();
    let stats = changed.stats();
    assert_eq!((stats.instantiations, stats.reuses), (2, 1), "{stats:?}");
    assert_eq!(stats.warm, 2, "one per settings");
    let limited = connector.clone().with_limits(InstanceLimits::default());
    limited.execute_tool("fine", "{}", &none).await.unwrap();
    assert_eq!(limited.stats().instantiations, 3);
}

/// Waits (a few seconds at most) until `connector` has `count` spares.
async fn spares_made(connector: &Connector, count: usize) {
    for _ in 0..500 {
        if connector.stats().spares == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{count} spares were not made: {:?}", connector.stats());
}

#[tokio::test]
async fn a_spare_serves_the_first_call_of_one_credential_only() {
    let (_sandbox, connector) = crate::common::setup().await;
    let connector = connector.with_reuse(ReuseLimits {
        spares: 2,
        ..ReuseLimits::default()
    });
    let first = id_of(
        connector
            .execute_tool("discord_get_my_user", "{}", &user())
            .await,
    );
    assert_eq!(connector.stats().spares_used, 0, "none was made yet");
    spares_made(&connector, 2).await;
    let second = id_of(
        connector
            .execute_tool("discord_get_my_user", "{}", &bot())
            .await,
    );
    assert_ne!(first, second, "each call saw its own credential");
    let again = id_of(
        connector
            .execute_tool("discord_get_my_user", "{}", &user())
            .await,
    );
    assert_eq!(again, first);
    spares_made(&connector, 2).await;
    let stats = connector.stats();
    assert_eq!(stats.spares_used, 1, "the bot's first call: {stats:?}");
    assert_eq!(stats.reuses, 1, "the user's second call: {stats:?}");
    assert_eq!(
        stats.instantiations, 4,
        "one for the first call, three spares: {stats:?}"
    );
    assert_eq!(stats.warm, 2, "one per credential: {stats:?}");
    let catalogue = connector.list_tools().await.unwrap();
    assert!(!catalogue.is_empty());
    assert_eq!(
        connector.stats().spares_used,
        2,
        "one-shot calls take spares too"
    );
}

#[tokio::test]
async fn spares_are_made_up_again_after_each_call() {
    let connector = misbehaving().with_reuse(ReuseLimits {
        calls_per_instance: 1,
        ..ReuseLimits::default()
    });
    for _ in 0..50 {
        connector
            .execute_tool("fine", "{}", &Credential::None)
            .await
            .unwrap();
        spares_made(&connector, 2).await;
    }
    let stats = connector.stats();
    assert_eq!(stats.spares_used, 49, "{stats:?}");
}
