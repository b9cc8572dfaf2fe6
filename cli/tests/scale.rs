//! Replicas of `discord-host serve` (separate processes, as on separate
//! machines) sharing one PostgreSQL token store and one Redis limiter,
//! against the sandbox: one refresh however many replicas ask, revokes
//! that stay, a dead lease holder outlived, a rotated pair kept through a
//! database outage, Discord's limits held across the fleet, and Redis
//! going away and coming back.
//!
//! The servers are real (Debian's `postgresql` and `redis-server`, started
//! by `discord-test-servers` on loopback); where they are missing these
//! tests say so and skip, unless `DISCORD_TEST_SERVERS=require`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use discord_accounts::{Authorizer, ClientRegistry, ConnectionKey, StoredToken, TokenStore};
use discord_host::Connector;
use discord_sandbox::seed::{BOT_LAB_CHANNEL_ID, GENERAL_CHANNEL_ID, QUIET_CHANNEL_ID};
use discord_sandbox::tokens::{APPLICATION_ID, BOT_TOKEN};
use discord_sandbox::{CLIENT_SECRET, Fault, RateLimitPolicy, Sandbox};
use discord_test_servers::{POSTGRES_PASSWORD, Postgres, Redis};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::process::{Child, Command};

const DISCORD_HOST: &str = env!("CARGO_BIN_EXE_discord-host");

const ACCOUNT: &str = "discord/ada";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A replica: `discord-host serve --port 0` with `env`, killed when dropped.
struct Replica {
    child: Child,
    base: String,
}

async fn replica(env: &[(&str, String)]) -> Replica {
    let mut command = Command::new(DISCORD_HOST);
    command
        .args(["serve", "--port", "0"])
        .env_remove("DISCORD_BOT_TOKEN")
        .env_remove("DISCORD_BEARER_TOKEN")
        .env_remove("DISCORD_STORE_URL")
        .env_remove("DISCORD_LIMITER_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    let (child, base) = common::serving(command).await;
    Replica { child, base }
}

/// The settings every replica gets: the sandbox as Discord, its OAuth client.
fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("DISCORD_API_BASE", sandbox.base_url()),
        ("DISCORD_AUTHORIZE_URL", sandbox.authorize_url()),
        ("DISCORD_CLIENT_ID", APPLICATION_ID.to_owned()),
        ("DISCORD_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// `POST /v1/tools/{tool}` with `header` (an account or a token): the
/// status and the body.
async fn call(
    client: &HttpClient,
    base: &str,
    tool: &str,
    arguments: &str,
    header: (&str, &str),
) -> (u16, String) {
    let request = hyper::Request::post(format!("{base}/v1/tools/{tool}"))
        .header(header.0, header.1)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(arguments.to_owned())))
        .unwrap();
    match client.request(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(error) => (0, error.to_string()),
    }
}

/// Calls `discord_get_my_user` as the connected account through `replica`.
async fn as_account(client: &HttpClient, replica: &str) -> (u16, String) {
    call(
        client,
        replica,
        "discord_get_my_user",
        "{}",
        ("x-discord-account", ACCOUNT),
    )
    .await
}

fn key() -> ConnectionKey {
    ConnectionKey::new("discord", "ada")
}

/// Connects the sandbox user as `discord/ada` in the store at `url`, with
/// an access token that expires within the refresh margin: every replica
/// that uses it wants it refreshed. Returns the store and what was stored.
async fn connect_expiring(sandbox: &Sandbox, url: &str) -> (TokenStore, StoredToken) {
    let connector = Connector::from_bytes(discord_artifacts::CONNECTOR)
        .expect("the connector loads")
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_env("DISCORD_AUTHORIZE_URL", sandbox.authorize_url());
    let clients = ClientRegistry::default().with(
        "discord",
        &host_test::oauth::confidential(),
        &["identify", "guilds"],
    );
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let store = TokenStore::connect(url).await.expect("the store opens");
    let authorizer = Authorizer::new(connector, Arc::new(store), clients);
    let stored = host_test::oauth::connect(&authorizer, "ada").await;
    sandbox.set_token_lifetime(Duration::from_secs(3600));
    (
        TokenStore::connect(url).await.expect("the store opens"),
        stored,
    )
}

/// Sends `per_replica` concurrent account calls through each of the
/// replicas at `bases`; the answers.
async fn account_burst(bases: Vec<String>, per_replica: usize) -> Vec<(u16, String)> {
    let client = http_client();
    let mut calls = tokio::task::JoinSet::new();
    for base in bases {
        for _ in 0..per_replica {
            calls.spawn(spawn_as_account(&client, &base));
        }
    }
    calls
        .join_all()
        .await
        .into_iter()
        .map(|answer| answer.expect("the call's task"))
        .collect()
}

fn bases(replicas: &[Replica]) -> Vec<String> {
    replicas
        .iter()
        .map(|replica| replica.base.clone())
        .collect()
}

/// An account call through the replica at `base`, on a task of its own.
fn spawn_as_account(client: &HttpClient, base: &str) -> tokio::task::JoinHandle<(u16, String)> {
    let (client, base) = (client.clone(), base.to_owned());
    tokio::spawn(async move { as_account(&client, &base).await })
}

/// Waits (30 s at most) until a refresh request has reached the sandbox.
async fn until_a_refresh_reaches(sandbox: &Sandbox, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox.token_requests("refresh_token") == 0 {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn postgres_replicas(sandbox: &Sandbox, postgres: &Postgres, count: usize) -> Vec<Replica> {
    let mut env = sandbox_env(sandbox);
    env.push(("DISCORD_STORE_URL", postgres.url()));
    let mut replicas = Vec::new();
    for _ in 0..count {
        replicas.push(replica(&env).await);
    }
    replicas
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_refresh_an_expiring_token_exactly_once() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let (store, stored) = connect_expiring(&sandbox, &postgres.url()).await;
    let replicas = postgres_replicas(&sandbox, &postgres, 4).await;

    let started = Instant::now();
    let answers = account_burst(bases(&replicas), 50).await;
    let took = started.elapsed();

    let failed: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status != 200)
        .collect();
    assert!(failed.is_empty(), "every call succeeds: {failed:?}");
    assert_eq!(answers.len(), 200);
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "one refresh reached Discord for 4 processes and 200 calls"
    );
    let now = store.get(&key()).await.unwrap().expect("still connected");
    assert_ne!(now.refresh_token, stored.refresh_token, "the rotated pair");
    assert!(!now.needs_reauthorization);
    eprintln!(
        "4 replicas x 50 calls on an expiring token: 1 refresh, 200 answers of 200 in {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_racing_the_refreshes_leaves_the_account_revoked() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    // The refresh takes a while, so the revoke comes while it is in flight.
    sandbox.set_token_answer_delay(Duration::from_millis(300));
    let (store, _) = connect_expiring(&sandbox, &postgres.url()).await;
    let replicas = postgres_replicas(&sandbox, &postgres, 4).await;

    let burst = tokio::spawn(account_burst(bases(&replicas), 50));
    until_a_refresh_reaches(&sandbox, "a refresh starts").await;
    let revoked = Command::new(DISCORD_HOST)
        .args(["auth", "revoke", "--identifier", "ada"])
        .envs(sandbox_env(&sandbox))
        .env("DISCORD_STORE_URL", postgres.url())
        .output()
        .await
        .unwrap();
    assert!(
        revoked.status.success(),
        "the revoke succeeds: {}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let answers = burst.await.unwrap();

    assert!(
        answers
            .iter()
            .all(|(status, _)| [200, 401].contains(status)),
        "answered, or refused as unauthorized: {answers:?}"
    );
    assert!(sandbox.token_requests("refresh_token") <= 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        store.get(&key()).await.unwrap().is_none(),
        "revoked and nothing brought it back"
    );
    let client = http_client();
    for replica in &replicas {
        let (status, body) = as_account(&client, &replica.base).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("no stored token"), "{body}");
    }
    let ok = answers.iter().filter(|(status, _)| *status == 200).count();
    eprintln!(
        "revoke racing 200 calls: {ok} answered before it, the rest refused; revoked for good"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_the_refresh_lease_is_outlived() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let (store, stored) = connect_expiring(&sandbox, &postgres.url()).await;
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_STORE_URL", postgres.url()));
    env.push(("DISCORD_REFRESH_LEASE_SECONDS", "3".to_owned()));
    let mut doomed = replica(&env).await;
    let survivor = replica(&env).await;
    // The doomed replica's refresh never reaches Discord's token endpoint:
    // it is held until the replica is gone.
    sandbox.inject(
        Fault::status(503)
            .method("POST")
            .on("/oauth2/token")
            .delay(Duration::from_secs(30))
            .times(1),
    );
    let client = http_client();
    let doomed_call = spawn_as_account(&client, &doomed.base);
    until_a_refresh_reaches(&sandbox, "the doomed replica refreshes").await;
    doomed.child.start_kill().expect("SIGKILL");
    doomed.child.wait().await.unwrap();
    let _ = doomed_call.await;

    let started = Instant::now();
    let (status, body) = as_account(&client, &survivor.base).await;
    assert_eq!(status, 200, "{body}");
    let waited = started.elapsed();
    assert_eq!(sandbox.token_requests("refresh_token"), 2);
    let now = store.get(&key()).await.unwrap().expect("connected");
    assert_ne!(now.refresh_token, stored.refresh_token, "rotated, not lost");
    let (status, _) = as_account(&client, &survivor.base).await;
    assert_eq!(status, 200);
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    eprintln!("the survivor refreshed {waited:?} after the lease holder was killed (lease 3 s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stopped_mid_refresh_loses_no_rotated_pair() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let (_, stored) = connect_expiring(&sandbox, &postgres.url()).await;
    let replica = postgres_replicas(&sandbox, &postgres, 1)
        .await
        .pop()
        .unwrap();
    // Discord has rotated the pair by the time its answer comes back.
    sandbox.set_token_answer_delay(Duration::from_secs(2));
    let client = http_client();
    let call = spawn_as_account(&client, &replica.base);
    until_a_refresh_reaches(&sandbox, "the replica refreshes").await;
    postgres.stop();
    let (status, body) = call.await.unwrap();
    assert_eq!(status, 200, "the call goes on with the new pair: {body}");
    sandbox.set_token_answer_delay(Duration::ZERO);
    // While the database is down, the replica keeps the pair in memory.
    let (status, body) = as_account(&client, &replica.base).await;
    assert_eq!(status, 200, "{body}");

    // Back, it gets the pair without any call asking for it.
    postgres.start_again();
    let store = TokenStore::connect(&postgres.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = store.get(&key()).await.unwrap().expect("connected");
        if now.refresh_token != stored.refresh_token {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rotated pair reaches the database when it comes back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = as_account(&client, &replica.base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sandbox.token_requests("refresh_token"), 1);
    // The stored pair is the live one: another replica uses it as it is.
    let other = postgres_replicas(&sandbox, &postgres, 1)
        .await
        .pop()
        .unwrap();
    let (status, body) = as_account(&client, &other.base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sandbox.token_requests("refresh_token"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_opening_a_store_never_show_its_password() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    postgres.stop();
    let output = Command::new(DISCORD_HOST)
        .args(["auth", "list", "--store", &postgres.url()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(shown.contains("token store"), "{shown}");
    assert!(!shown.contains(POSTGRES_PASSWORD), "{shown}");
}

/// Sends `per_replica` concurrent `discord_get_channel` calls as the bot
/// through each replica, over `channels` in turn; the statuses.
async fn bot_burst(replicas: &[Replica], per_replica: usize, channels: &[&str]) -> Vec<u16> {
    let client = http_client();
    let bot = format!("Bot {BOT_TOKEN}");
    let mut calls = tokio::task::JoinSet::new();
    for replica in replicas {
        for index in 0..per_replica {
            let arguments = format!(r#"{{"channel_id":"{}"}}"#, channels[index % channels.len()]);
            let (client, base, bot) = (client.clone(), replica.base.clone(), bot.clone());
            calls.spawn(async move {
                call(
                    &client,
                    &base,
                    "discord_get_channel",
                    &arguments,
                    ("authorization", &bot),
                )
                .await
                .0
            });
        }
    }
    calls.join_all().await
}

async fn limited_replicas(sandbox: &Sandbox, limiter: Option<&Redis>) -> Vec<Replica> {
    let mut env = sandbox_env(sandbox);
    if let Some(redis) = limiter {
        env.push(("DISCORD_LIMITER_URL", redis.url()));
    }
    env.push(("DISCORD_TIMEOUT_MS", "8000".to_owned()));
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(replica(&env).await);
    }
    replicas
}

/// A burst of 10 calls per replica to one bucket of 2 per second: the
/// 429s Discord (the sandbox) answered, and how long it took.
async fn bucket_burst(limiter: Option<&Redis>) -> (usize, Duration) {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: 2,
        window: Duration::from_secs(1),
    });
    let replicas = limited_replicas(&sandbox, limiter).await;
    let started = Instant::now();
    let statuses = bot_burst(&replicas, 10, &[GENERAL_CHANNEL_ID]).await;
    assert_eq!(statuses.len(), 40);
    (sandbox.rate_limited_count(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_sharing_redis_keep_to_a_bucket_discord_announced() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let (shared, shared_took) = bucket_burst(Some(&redis)).await;
    let (alone, alone_took) = bucket_burst(None).await;
    eprintln!(
        "40 calls from 4 replicas to a bucket of 2/s: {shared} answers of 429 with the Redis limiter ({shared_took:?}), {alone} with in-process limiters ({alone_took:?})"
    );
    assert!(shared <= 1, "at most one 429 across the fleet: {shared}");
    assert!(
        alone > shared,
        "in-process limiters cannot see each other: {alone}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_limit_holds_across_replicas_sharing_redis() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let channels = [GENERAL_CHANNEL_ID, BOT_LAB_CHANNEL_ID, QUIET_CHANNEL_ID];
    let bot = format!("Bot {BOT_TOKEN}");
    let mut peaks = Vec::new();
    for limiter in [Some(&redis), None] {
        let sandbox = Sandbox::start().await.unwrap();
        sandbox.set_rate_limit(RateLimitPolicy::OFF);
        let replicas = limited_replicas(&sandbox, limiter).await;
        let statuses = bot_burst(&replicas, 60, &channels).await;
        let ok = statuses.iter().filter(|status| **status == 200).count();
        assert_eq!(ok, 240, "every call is answered: {statuses:?}");
        peaks.push(sandbox.peak_per_second(&bot));
    }
    eprintln!(
        "240 calls from 4 replicas: a peak of {} requests per second with the Redis limiter, {} with in-process limiters",
        peaks[0], peaks[1]
    );
    assert!(peaks[0] <= 50, "Discord's 50 per second: {}", peaks[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_while_redis_is_away_and_it_is_used_again_when_back() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_LIMITER_URL", redis.url()));
    env.push(("DISCORD_TIMEOUT_MS", "3000".to_owned()));
    let replicas = [replica(&env).await, replica(&env).await];
    let round = || async {
        let started = Instant::now();
        let statuses = bot_burst(&replicas, 10, &[GENERAL_CHANNEL_ID, QUIET_CHANNEL_ID]).await;
        (statuses, started.elapsed())
    };
    let (statuses, _) = round().await;
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    assert_ne!(redis.command("DBSIZE"), ":0\r\n", "the limits are in Redis");

    redis.stop();
    for _ in 0..3 {
        let (statuses, took) = round().await;
        assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
        assert!(
            took < Duration::from_secs(3),
            "no call waits on Redis past its deadline: {took:?}"
        );
    }

    redis.start_again();
    assert_eq!(redis.command("DBSIZE"), ":0\r\n", "a new, empty Redis");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (statuses, _) = round().await;
        assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
        if redis.command("DBSIZE") != ":0\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "the limiter uses Redis again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_store_acts_only_as_an_account_that_is_connected() {
    let sandbox = Sandbox::start().await.unwrap();
    let file = std::env::temp_dir().join(format!("discord-serve-accounts-{}", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite:{}", file.display());
    let (_, stored) = connect_expiring(&sandbox, &url).await;
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_STORE_URL", url));
    let served = replica(&env).await;
    let client = http_client();

    let (status, body) = as_account(&client, &served.base).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(discord_sandbox::tokens::USER_ID), "{body}");
    assert!(
        !body.contains(&stored.access_token),
        "the token stays in the host"
    );
    for (header, value, status, says) in [
        ("x-discord-account", "discord/grace", 401, "no stored token"),
        ("x-discord-account", "grace", 400, "CONNECTION/IDENTIFIER"),
        ("x-discord-account", "/", 400, "CONNECTION/IDENTIFIER"),
    ] {
        let (got, body) = call(
            &client,
            &served.base,
            "discord_get_my_user",
            "{}",
            (header, value),
        )
        .await;
        assert_eq!(got, status, "{value}: {body}");
        assert!(body.contains(says), "{value}: {body}");
    }
    let both = hyper::Request::post(format!("{}/v1/tools/discord_get_my_user", served.base))
        .header("x-discord-account", ACCOUNT)
        .header("authorization", "Bearer someone-elses")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let answer = client.request(both).await.unwrap();
    assert_eq!(answer.status(), 400, "either the account or a token");
    let _ = std::fs::remove_file(&file);

    let without_store = replica(&sandbox_env(&sandbox)).await;
    let (status, body) = as_account(&client, &without_store.base).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs a token store"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_url_is_taken_after_the_subcommand_and_never_shown() {
    let Some(redis) = Redis::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let arguments = format!(r#"{{"channel_id":"{GENERAL_CHANNEL_ID}"}}"#);
    let output = Command::new(DISCORD_HOST)
        .args([
            "call",
            "discord_get_channel",
            &arguments,
            "--limiter",
            &redis.url(),
        ])
        .envs(sandbox_env(&sandbox))
        .env("DISCORD_BOT_TOKEN", BOT_TOKEN)
        .env_remove("DISCORD_BEARER_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_ne!(
        redis.command("DBSIZE"),
        ":0\r\n",
        "the call went through Redis"
    );
    let keys = redis.command("KEYS *");
    assert!(!keys.contains(BOT_TOKEN), "no token in a key: {keys}");

    let secret = "pw-Limiter-9d2";
    let output = Command::new(DISCORD_HOST)
        .args(["call", "discord_get_gateway", "--limiter"])
        .arg(format!("memcached://user:{secret}@127.0.0.1:1/"))
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let shown = String::from_utf8_lossy(&output.stderr);
    assert!(shown.contains("--limiter"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_slower_than_its_lease_keeps_it() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let (store, stored) = connect_expiring(&sandbox, &postgres.url()).await;
    let mut env = sandbox_env(&sandbox);
    env.push(("DISCORD_STORE_URL", postgres.url()));
    env.push(("DISCORD_REFRESH_LEASE_SECONDS", "1".to_owned()));
    let (slow, other) = (replica(&env).await, replica(&env).await);
    // Discord rotates at once and answers 3 lease lengths later.
    sandbox.set_token_answer_delay(Duration::from_secs(3));
    let client = http_client();
    let first = spawn_as_account(&client, &slow.base);
    until_a_refresh_reaches(&sandbox, "the slow replica refreshes").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // Past the lease's length: the other replica must still wait for it.
    let (status, body) = as_account(&client, &other.base).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "the old refresh token was not spent twice"
    );
    let now = store.get(&key()).await.unwrap().expect("connected");
    assert_ne!(now.refresh_token, stored.refresh_token);
    assert!(!now.needs_reauthorization);
}
