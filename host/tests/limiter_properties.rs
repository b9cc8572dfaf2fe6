//! Any rate-limit headers an upstream sends, however hostile, leave the
//! limiter without a panic and never make a request wait past its deadline.

use std::time::Duration;

use discord_host::DiscordLimiter;
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime");
        runtime.block_on(async {
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
