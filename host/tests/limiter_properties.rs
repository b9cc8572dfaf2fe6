//! Any rate-limit headers an upstream sends, however hostile, leave the
//! limiter without a panic and never make a request wait past its deadline;
//! no mix of made-up tokens stops a credential in good standing or a call
//! with no credential.

use std::time::Duration;

use discord_host::DiscordLimiter;
use discord_host::limiter::{LimiterPolicy, Refusal};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use tokio::time::Instant;

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|number| number.to_string()),
        any::<u64>().prop_map(|number| number.to_string()),
        any::<i64>().prop_map(|number| number.to_string()),
        "[0-9eE+.-]{0,16}",
        Just("inf".to_owned()),
        Just("-inf".to_owned()),
        Just("NaN".to_owned()),
        Just("1e300".to_owned()),
        ".{0,12}",
    ]
}

/// A runtime on tokio's paused clock: waits pass at once, in order.
fn paused_clock() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_rate_limit_headers_leave_the_next_request_within_its_deadline(
        status in prop_oneof![Just(200u16), Just(429u16), Just(401u16), 100u16..600],
        remaining in number_text(),
        reset_after in number_text(),
        retry_after in number_text(),
        bucket in ".{0,80}",
        scope in prop_oneof![Just("shared"), Just("user"), Just("global")],
    ) {
        paused_clock().block_on(async {
            let limiter = DiscordLimiter::default();
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("x-ratelimit-remaining", remaining.as_str()),
                ("x-ratelimit-reset-after", reset_after.as_str()),
                ("retry-after", retry_after.as_str()),
                ("x-ratelimit-bucket", bucket.as_str()),
                ("x-ratelimit-scope", scope),
            ] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            }
            for _ in 0..2 {
                let started = Instant::now();
                let deadline = started + Duration::from_secs(5);
                if let Ok(permit) = limiter.acquire(Some(b"Bot a"), "GET", "/api/v10/users/@me", Some(deadline)).await {
                    permit.report(status, &headers);
                }
                prop_assert!(started.elapsed() <= Duration::from_secs(5));
            }
            Ok(())
        })?;
    }
}

/// One request of an attacker: which made-up token, what Discord answers
/// it (never a success: the token does not work), and how long after the
/// previous one it comes (mostly at once, so the count reaches the reserve).
fn made_up_request() -> impl Strategy<Value = (u16, u16, u64)> {
    (
        0u16..400,
        prop_oneof![Just(401u16), Just(403u16), Just(429u16)],
        prop_oneof![9 => Just(0u64), 1 => 0u64..120_000],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_mix_of_made_up_tokens_stops_callers_in_good_standing(
        attack in prop::collection::vec(made_up_request(), 0..600),
    ) {
        let policy = LimiterPolicy {
            invalid_limit: 200,
            good_standing_reserve: 40,
            invalid_per_credential: 20,
            ..LimiterPolicy::default()
        };
        paused_clock().block_on(async {
            let limiter = DiscordLimiter::new(policy);
            let path = "/api/v10/users/@me";
            let headers = HeaderMap::new();
            limiter.acquire(Some(b"Bot good"), "GET", path, None).await
                .expect("a quiet limiter lets a request go")
                .report(200, &headers);
            for (token, status, pause) in attack {
                tokio::time::advance(Duration::from_millis(pause)).await;
                let token = format!("Bearer made-up-{token}");
                match limiter.acquire(Some(token.as_bytes()), "GET", path, None).await {
                    Ok(permit) => permit.report(status, &headers),
                    Err(refusal) => {
                        prop_assert!(matches!(refusal, Refusal::InvalidRequests { .. }), "{refusal}");
                        prop_assert!(refusal.retry_after() > Duration::ZERO);
                        prop_assert!(refusal.retry_after() <= policy.invalid_window);
                    }
                }
                prop_assert!(limiter.invalid_requests() <= policy.invalid_limit - policy.good_standing_reserve);
                for credential in [Some(&b"Bot good"[..]), None] {
                    let permit = limiter.acquire(credential, "GET", path, None).await;
                    prop_assert!(permit.is_ok(), "{:?}", permit.err());
                    if let Ok(permit) = permit {
                        permit.report(200, &headers);
                    }
                }
            }
            Ok(())
        })?;
    }
}
