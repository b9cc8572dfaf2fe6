//! A small run of the load test: every call ends typed, none is lost or
//! answered with another call's data.

use std::time::Duration;

use discord_sandbox::RateLimitPolicy;
use host_test::load;

use crate::common::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_under_random_faults_all_end_typed_and_matched() {
    let (sandbox, connector) = setup().await;
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: u32::MAX,
        window: Duration::from_secs(1),
    });
    sandbox.set_chaos(Some((0.3, 11)));
    let report = load::run(&connector, 400, 32).await;
    assert_eq!(report.calls, 400);
    assert_eq!(report.lost, 0, "{}", report.summary());
    assert_eq!(report.mismatched, 0, "{}", report.summary());
    assert!(report.matched > 200, "{}", report.summary());
    assert!(
        !report.errors.is_empty(),
        "faults were injected: {}",
        report.summary()
    );
}
