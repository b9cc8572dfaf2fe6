//! Four replicas send bursts to one small bucket of a simulated Discord:
//! sharing the limiter in Redis, they stay within it; with in-process
//! limiters each, they do not.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use discord_host::DiscordLimiter;
use discord_host::limiter::{LimiterPolicy, RateLimiter};
use discord_redis_limiter::{RedisLimiter, RedisLimiterOptions};
use discord_test_servers::Redis;
use http::{HeaderMap, HeaderValue};
use tokio::time::Instant;

/// One Discord bucket: `LIMIT` requests per window, the window starting
/// at the first request after the last one ended.
struct Bucket {
    window_end: Option<Instant>,
    used: u32,
    rejected: u32,
}

const LIMIT: u32 = 2;
const WINDOW: Duration = Duration::from_millis(300);

impl Bucket {
    fn answer(&mut self) -> (u16, HeaderMap) {
        let now = Instant::now();
        if self.window_end.is_none_or(|end| now >= end) {
            self.window_end = Some(now + WINDOW);
            self.used = 0;
        }
        let reset_after = self.window_end.unwrap() - now;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        };
        put("x-ratelimit-bucket", "b0a1".to_owned());
        put("x-ratelimit-limit", LIMIT.to_string());
        put(
            "x-ratelimit-reset-after",
            format!("{:.3}", reset_after.as_secs_f64()),
        );
        if self.used >= LIMIT {
            self.rejected += 1;
            put("x-ratelimit-remaining", "0".to_owned());
            put("retry-after", format!("{:.3}", reset_after.as_secs_f64()));
            put("x-ratelimit-scope", "user".to_owned());
            return (429, headers);
        }
        self.used += 1;
        put("x-ratelimit-remaining", (LIMIT - self.used).to_string());
        (200, headers)
    }
}

/// Ten calls from each of `replicas` at once; how many Discord rejected.
async fn burst(replicas: Vec<Arc<dyn RateLimiter>>) -> u32 {
    let discord = Arc::new(Mutex::new(Bucket {
        window_end: None,
        used: 0,
        rejected: 0,
    }));
    let mut calls = Vec::new();
    for (replica, limiter) in replicas.into_iter().enumerate() {
        for call in 0..10u64 {
            let limiter = Arc::clone(&limiter);
            let discord = Arc::clone(&discord);
            calls.push(tokio::spawn(async move {
                let permit = limiter
                    .acquire(
                        Some(b"Bot fleet"),
                        "POST",
                        "/api/v10/channels/1234/messages",
                        Some(Instant::now() + Duration::from_secs(30)),
                    )
                    .await
                    .unwrap();
                // The way there and back, a few milliseconds each.
                let latency = Duration::from_millis(2 + (replica as u64 * 3 + call) % 7);
                tokio::time::sleep(latency).await;
                let (status, headers) = discord.lock().unwrap().answer();
                tokio::time::sleep(latency).await;
                permit.report(status, &headers).await;
            }));
        }
    }
    for call in calls {
        call.await.unwrap();
    }
    discord.lock().unwrap().rejected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_sharing_redis_stay_within_a_bucket() {
    let Some(redis) = Redis::start() else { return };
    let started = Instant::now();
    let shared: Vec<Arc<dyn RateLimiter>> = (0..4)
        .map(|_| {
            Arc::new(RedisLimiter::open(&redis.url(), RedisLimiterOptions::default()).unwrap())
                as Arc<dyn RateLimiter>
        })
        .collect();
    let rejected_shared = burst(shared).await;
    let took = started.elapsed();
    let local: Vec<Arc<dyn RateLimiter>> = (0..4)
        .map(|_| Arc::new(DiscordLimiter::new(LimiterPolicy::default())) as Arc<dyn RateLimiter>)
        .collect();
    let rejected_local = burst(local).await;
    eprintln!(
        "40 calls to a bucket of {LIMIT} per {WINDOW:?}: {rejected_shared} rejected with the limiter in Redis ({took:?}), {rejected_local} with in-process limiters"
    );
    assert!(rejected_shared <= 1, "{rejected_shared}");
    assert!(rejected_local > rejected_shared);
    // 40 calls at 2 per window need at least 19 windows after the first.
    assert!(took >= WINDOW * 19, "{took:?}");
}
