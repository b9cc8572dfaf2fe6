//! Two `RedisLimiter`s on one real Redis 7, standing for two replicas of
//! the host: what one learns, the other obeys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use discord_host::limiter::{LimiterPolicy, RateLimiter, Refusal};
use discord_redis_limiter::{RedisLimiter, RedisLimiterOptions};
use discord_test_servers::Redis;
use http::{HeaderMap, HeaderValue};
use tokio::time::Instant;

const TOKEN: &str = "Bot MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
const MESSAGES: &str = "/api/v10/channels/613425648685547541/messages";

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

/// A bucket's answer as Discord sends it.
fn bucket(id: &str, remaining: u32, reset_after: &str) -> HeaderMap {
    headers(&[
        ("x-ratelimit-bucket", id),
        ("x-ratelimit-limit", "5"),
        ("x-ratelimit-remaining", &remaining.to_string()),
        ("x-ratelimit-reset-after", reset_after),
    ])
}

fn options(policy: LimiterPolicy) -> RedisLimiterOptions {
    RedisLimiterOptions {
        policy,
        retry_interval: Duration::from_millis(200),
        ..RedisLimiterOptions::default()
    }
}

/// Two replicas on `redis`.
fn replicas(redis: &Redis, policy: LimiterPolicy) -> (Arc<RedisLimiter>, Arc<RedisLimiter>) {
    let open = || Arc::new(RedisLimiter::open(&redis.url(), options(policy)).unwrap());
    (open(), open())
}

fn within(wait: Duration) -> Option<Instant> {
    Some(Instant::now() + wait)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_learned_on_one_replica_holds_the_other_until_its_reset() {
    let Some(redis) = Redis::start() else { return };
    let (one, two) = replicas(&redis, LimiterPolicy::default());
    let auth = Some(TOKEN.as_bytes());
    one.acquire(auth, "POST", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &bucket("abcd", 0, "1.2"))
        .await;

    let started = Instant::now();
    let refused = two
        .acquire(auth, "POST", MESSAGES, within(Duration::from_millis(300)))
        .await;
    assert!(
        matches!(refused, Err(Refusal::WouldMissDeadline { wait }) if wait > Duration::from_millis(900)),
        "{:?}",
        refused.err()
    );
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "refused at once"
    );

    two.acquire(auth, "POST", MESSAGES, None).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1_150) && waited < Duration::from_millis(2_000),
        "{waited:?}"
    );
    let other = Instant::now();
    two.acquire(Some(b"Bot other"), "POST", MESSAGES, None)
        .await
        .unwrap();
    assert!(
        other.elapsed() < Duration::from_millis(200),
        "another credential's bucket is its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_remaining_is_counted_down_across_replicas_concurrently() {
    let Some(redis) = Redis::start() else { return };
    let (one, two) = replicas(&redis, LimiterPolicy::default());
    let auth = Some(TOKEN.as_bytes());
    one.acquire(auth, "POST", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &bucket("abcd", 3, "1.5"))
        .await;
    let started = Instant::now();
    // Three go at once, held (unreported) together, from both replicas.
    let mut held = Vec::new();
    for limiter in [&one, &two, &one] {
        held.push(limiter.acquire(auth, "POST", MESSAGES, None).await.unwrap());
    }
    assert!(started.elapsed() < Duration::from_millis(200));
    let fourth = two
        .acquire(auth, "POST", MESSAGES, within(Duration::from_millis(200)))
        .await;
    assert!(matches!(fourth, Err(Refusal::WouldMissDeadline { .. })));
    for (n, permit) in held.into_iter().enumerate() {
        permit
            .report(200, &bucket("abcd", 2 - n as u32, "1.4"))
            .await;
    }
    two.acquire(auth, "POST", MESSAGES, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1_400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_bucket_lets_one_request_in_flight_across_the_fleet() {
    let Some(redis) = Redis::start() else { return };
    let (one, two) = replicas(&redis, LimiterPolicy::default());
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..8 {
        let limiter = Arc::clone(if n % 2 == 0 { &one } else { &two });
        let (in_flight, most) = (Arc::clone(&in_flight), Arc::clone(&most));
        tasks.push(tokio::spawn(async move {
            let permit = limiter
                .acquire(Some(TOKEN.as_bytes()), "GET", MESSAGES, None)
                .await
                .unwrap();
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(40)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            // No rate-limit headers: the bucket stays unknown.
            permit.report(404, &HeaderMap::new()).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1);

    // A probe whose request never answers is released when dropped.
    let permit = one
        .acquire(Some(TOKEN.as_bytes()), "GET", "/api/v10/users/@me", None)
        .await
        .unwrap();
    drop(permit);
    let started = Instant::now();
    two.acquire(
        Some(TOKEN.as_bytes()),
        "GET",
        "/api/v10/users/@me",
        within(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_limit_of_a_credential_holds_across_replicas() {
    let Some(redis) = Redis::start() else { return };
    let policy = LimiterPolicy {
        global_per_second: 5,
        ..LimiterPolicy::default()
    };
    let (one, two) = replicas(&redis, policy);
    let started = Instant::now();
    let mut sent = Vec::new();
    for n in 0..20 {
        let limiter = if n % 2 == 0 { &one } else { &two };
        let path = format!("/api/v10/route{n}");
        let permit = limiter
            .acquire(Some(TOKEN.as_bytes()), "GET", &path, None)
            .await
            .unwrap();
        sent.push(started.elapsed());
        permit.report(200, &HeaderMap::new()).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "{:?}",
        started.elapsed()
    );
    for (n, at) in sent.iter().enumerate().skip(5) {
        // Small slack: the replicas' clock is this process's, the
        // window's is Redis's.
        assert!(
            *at + Duration::from_millis(50) >= sent[n - 5] + Duration::from_secs(1),
            "request {n} at {at:?}, five before it at {:?}",
            sent[n - 5]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_spends_neither_the_global_slot_nor_the_bucket() {
    let Some(redis) = Redis::start() else { return };
    let policy = LimiterPolicy {
        global_per_second: 2,
        ..LimiterPolicy::default()
    };
    let (one, two) = replicas(&redis, policy);
    let auth = Some(TOKEN.as_bytes());
    let started = Instant::now();
    one.acquire(auth, "POST", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &bucket("abcd", 1, "5"))
        .await;
    one.acquire(auth, "GET", "/api/v10/other", None)
        .await
        .unwrap()
        .report(200, &HeaderMap::new())
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..5 {
        let refused = two
            .acquire(auth, "POST", MESSAGES, within(Duration::from_millis(50)))
            .await;
        assert!(matches!(refused, Err(Refusal::WouldMissDeadline { .. })));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second after the first two, the global slots are free, and the
    // bucket still has its one request.
    tokio::time::sleep_until(started + Duration::from_millis(1_100)).await;
    let at = Instant::now();
    two.acquire(auth, "POST", MESSAGES, None).await.unwrap();
    two.acquire(auth, "GET", "/api/v10/third", None)
        .await
        .unwrap();
    assert!(
        at.elapsed() < Duration::from_millis(200),
        "{:?}",
        at.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_are_counted_for_the_whole_fleet() {
    let Some(redis) = Redis::start() else { return };
    let policy = LimiterPolicy {
        invalid_limit: 20,
        invalid_per_credential: 3,
        good_standing_reserve: 8,
        ..LimiterPolicy::default()
    };
    let (one, two) = replicas(&redis, policy);
    let me = "/api/v10/users/@me";
    let send = |limiter: &Arc<RedisLimiter>, token: String, status: u16| {
        let limiter = Arc::clone(limiter);
        async move {
            let permit = limiter
                .acquire(Some(token.as_bytes()), "GET", me, None)
                .await?;
            permit.report(status, &HeaderMap::new()).await;
            Ok::<(), Refusal>(())
        }
    };
    send(&two, "Bot good".to_owned(), 200).await.unwrap();
    for _ in 0..3 {
        send(&one, "Bearer bad".to_owned(), 401).await.unwrap();
    }
    let refused = send(&two, "Bearer bad".to_owned(), 200).await;
    match refused {
        Err(Refusal::InvalidRequests {
            reason,
            retry_after,
        }) => {
            assert!(reason.contains("with this credential"), "{reason}");
            assert!(retry_after > Duration::from_secs(500), "{retry_after:?}");
        }
        other => panic!("{other:?}"),
    }
    // Other made-up credentials fill the deployment's count to the
    // reserve line (12): then only credentials in good standing go on.
    for n in 0..3 {
        for _ in 0..3 {
            let limiter = if n % 2 == 0 { &one } else { &two };
            send(limiter, format!("Bearer made-up-{n}"), 403)
                .await
                .unwrap();
        }
    }
    assert!(matches!(
        send(&one, "Bearer new".to_owned(), 200).await,
        Err(Refusal::InvalidRequests { .. })
    ));
    send(&one, "Bot good".to_owned(), 200).await.unwrap();
    // A 429 of the shared scope is not counted; one of the user's is.
    let shared = headers(&[("x-ratelimit-scope", "shared"), ("retry-after", "0")]);
    one.acquire(Some(b"Bot good"), "GET", "/api/v10/other", None)
        .await
        .unwrap()
        .report(429, &shared)
        .await;
    // Good standing is lost with a 401, on the other replica too.
    send(&one, "Bot good".to_owned(), 401).await.unwrap();
    assert!(matches!(
        send(&two, "Bot good".to_owned(), 200).await,
        Err(Refusal::InvalidRequests { .. })
    ));
    assert!(!one.is_falling_back() && !two.is_falling_back());
    assert_eq!(one.stats().decided_by_fallback, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reset_headers_are_clamped_and_never_outwait_the_deadline() {
    let Some(redis) = Redis::start() else { return };
    let (one, two) = replicas(&redis, LimiterPolicy::default());
    for value in ["1e300", "inf", "NaN", "-5", "1e9"] {
        let token = format!("Bot {value}");
        one.acquire(Some(token.as_bytes()), "GET", MESSAGES, None)
            .await
            .unwrap()
            .report(
                429,
                &headers(&[
                    ("x-ratelimit-remaining", "-1e400"),
                    ("x-ratelimit-reset-after", value),
                    ("retry-after", value),
                ]),
            )
            .await;
        let started = Instant::now();
        let next = two
            .acquire(
                Some(token.as_bytes()),
                "GET",
                MESSAGES,
                within(Duration::from_secs(1)),
            )
            .await;
        assert!(started.elapsed() <= Duration::from_millis(1_100), "{value}");
        if let Err(refusal) = next {
            assert!(
                matches!(refusal, Refusal::WouldMissDeadline { wait } if wait <= Duration::from_secs(3_601)),
                "{value}: {refusal:?}"
            );
        }
    }
    assert_eq!(two.stats().decided_by_fallback, 0);
}

/// Every key in `redis`, from `KEYS *` in the raw protocol.
fn keys(redis: &Redis) -> Vec<String> {
    let answer = redis.command("KEYS *");
    answer
        .split("\r\n")
        .filter(|line| !line.is_empty() && !line.starts_with(['*', '$']))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_expires_and_no_token_is_stored() {
    let Some(redis) = Redis::start() else { return };
    let policy = LimiterPolicy {
        invalid_per_credential: 2,
        ..LimiterPolicy::default()
    };
    let (one, two) = replicas(&redis, policy);
    let webhook = "/api/v10/webhooks/223704706495545344/WEBHOOK-SECRET-xyz";
    let bad = "Bearer MADE-UP-TOKEN-123";
    one.acquire(Some(TOKEN.as_bytes()), "POST", webhook, None)
        .await
        .unwrap()
        .report(200, &bucket("hook", 4, "2"))
        .await;
    two.acquire(Some(TOKEN.as_bytes()), "POST", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &bucket("abcd", 0, "0.5"))
        .await;
    for _ in 0..2 {
        two.acquire(Some(bad.as_bytes()), "GET", MESSAGES, None)
            .await
            .unwrap()
            .report(401, &HeaderMap::new())
            .await;
    }
    // A probe held, and a request with no credential.
    let _held = one
        .acquire(Some(TOKEN.as_bytes()), "GET", "/api/v10/gateway/bot", None)
        .await
        .unwrap();
    one.acquire(None, "GET", "/api/v10/gateway", None)
        .await
        .unwrap()
        .report(200, &HeaderMap::new())
        .await;

    let keys = keys(&redis);
    for kind in [
        "secret",
        "global:",
        "route:",
        "bucket:",
        "probe:",
        "invalid-all:",
        "invalid:",
        "good:",
    ] {
        assert!(
            keys.iter()
                .any(|key| key.starts_with(&format!("discord-host:{kind}"))),
            "no {kind} key in {keys:?}"
        );
    }
    let secrets = ["MTk4NjIy", "ZnCjm1XVW7", "MADE-UP-TOKEN", "WEBHOOK-SECRET"];
    for key in &keys {
        let ttl = redis.command(&format!("PTTL {key}"));
        let ttl: i64 = ttl.trim_start_matches(':').trim().parse().unwrap();
        assert!(ttl > 0, "{key} has no expiry ({ttl})");
        let kind = redis.command(&format!("TYPE {key}"));
        let value = match kind.trim() {
            "+string" => redis.command(&format!("GET {key}")),
            "+hash" => redis.command(&format!("HGETALL {key}")),
            "+zset" => redis.command(&format!("ZRANGE {key} 0 -1 WITHSCORES")),
            other => panic!("{key} is a {other}"),
        };
        for secret in secrets {
            assert!(!key.contains(secret), "{key}");
            assert!(!value.contains(secret), "{key}: {value}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_secret_keeps_no_key_and_a_lost_one_is_made_anew() {
    let Some(redis) = Redis::start() else { return };
    let configured = RedisLimiter::open(
        &redis.url(),
        RedisLimiterOptions {
            secret: Some(b"from DISCORD_LIMITER_SECRET".to_vec()),
            prefix: "configured:".to_owned(),
            ..RedisLimiterOptions::default()
        },
    )
    .unwrap();
    configured
        .acquire(Some(TOKEN.as_bytes()), "GET", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &HeaderMap::new())
        .await;
    assert!(!keys(&redis).iter().any(|key| key == "configured:secret"));

    let (one, two) = replicas(&redis, LimiterPolicy::default());
    let auth = Some(TOKEN.as_bytes());
    one.acquire(auth, "GET", "/api/v10/x", None)
        .await
        .unwrap()
        .report(200, &HeaderMap::new())
        .await;
    assert_eq!(redis.command("DEL discord-host:secret"), ":1\r\n");
    // The other replica makes a new secret; the first follows it.
    two.acquire(auth, "POST", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &bucket("abcd", 0, "1"))
        .await;
    let started = Instant::now();
    one.acquire(auth, "POST", MESSAGES, None).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(800));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_calls_go_on_locally_and_come_back_to_redis() {
    let Some(redis) = Redis::start() else { return };
    let limiter = RedisLimiter::open(
        &format!("{}?fallback_replicas=2", redis.url()),
        options(LimiterPolicy::default()),
    )
    .unwrap();
    let auth = Some(TOKEN.as_bytes());
    limiter
        .acquire(auth, "GET", MESSAGES, None)
        .await
        .unwrap()
        .report(200, &HeaderMap::new())
        .await;
    assert_eq!(limiter.stats().decided_by_redis, 1);

    redis.stop();
    for n in 0..20 {
        let started = Instant::now();
        let deadline = within(Duration::from_millis(400));
        let path = format!("/api/v10/down/{n}");
        let permit = limiter.acquire(auth, "GET", &path, deadline).await;
        assert!(started.elapsed() < Duration::from_millis(400), "call {n}");
        permit.unwrap().report(200, &HeaderMap::new()).await;
        assert!(limiter.is_falling_back(), "call {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = limiter.stats();
    assert_eq!(stats.fell_back, 1, "one warning: {stats:?}");
    assert!(stats.decided_by_fallback >= 18, "{stats:?}");
    // Half of Discord's global 50/s per credential, locally.
    let started = Instant::now();
    for n in 0..26 {
        let path = format!("/api/v10/burst/{n}");
        let _ = limiter
            .acquire(auth, "GET", &path, within(Duration::from_secs(3)))
            .await
            .unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );

    redis.start_again();
    tokio::time::sleep(Duration::from_millis(250)).await;
    for _ in 0..3 {
        limiter
            .acquire(auth, "GET", MESSAGES, within(Duration::from_secs(2)))
            .await
            .unwrap()
            .report(200, &HeaderMap::new())
            .await;
    }
    let back = limiter.stats();
    assert!(!limiter.is_falling_back());
    assert_eq!(back.came_back, 1, "{back:?}");
    assert!(back.decided_by_redis >= 3, "{back:?}");
    assert!(
        keys(&redis)
            .iter()
            .any(|key| key.starts_with("discord-host:global:")),
        "the state is in Redis again"
    );
}

/// The cost of one acquire and report on loopback Redis against the
/// in-process limiter: `cargo test -p discord-redis-limiter --release --
/// --ignored --nocapture round_trip`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn round_trip_cost() {
    let Some(redis) = Redis::start() else { return };
    let policy = LimiterPolicy {
        global_per_second: 1_000_000,
        ..LimiterPolicy::default()
    };
    let shared = RedisLimiter::open(&redis.url(), options(policy)).unwrap();
    let local = discord_host::DiscordLimiter::new(policy);
    let answer = bucket("abcd", 1_000_000, "60");
    let calls = 5_000u32;
    for (name, limiter) in [
        ("redis", &shared as &dyn RateLimiter),
        ("in-process", &local as &dyn RateLimiter),
    ] {
        let started = std::time::Instant::now();
        for _ in 0..calls {
            limiter
                .acquire(Some(TOKEN.as_bytes()), "POST", MESSAGES, None)
                .await
                .unwrap()
                .report(200, &answer)
                .await;
        }
        println!(
            "{name}: {:?} per acquire and report ({calls} calls)",
            started.elapsed() / calls
        );
    }
    assert_eq!(shared.stats().decided_by_fallback, 0);
}
