//! When to try a request again: Discord's 429s that are short enough to
//! wait out, and transient failures of idempotent requests, within the
//! call's deadline.

use core::time::Duration;

use crate::config::{BASE_BACKOFF, Config, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT, MAX_RETRIES};
use crate::http::{Method, Response, TransportError, TransportFailure};
use crate::response::retry_after;

/// How patient a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// The longest 429 wait the call sits out before reporting `rate-limited`.
    pub(crate) max_rate_limit_wait: Duration,
    /// How many times a request is sent again, at most.
    pub(crate) max_retries: u32,
    /// The first backoff after a transient failure; it doubles each time.
    pub(crate) base_backoff: Duration,
    /// The whole call's deadline: no wait may run past it.
    pub(crate) deadline: Duration,
}

/// The policy of a call with no settings: [`crate::config`]'s defaults.
impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_rate_limit_wait: DEFAULT_MAX_RETRY_WAIT,
            max_retries: MAX_RETRIES,
            base_backoff: BASE_BACKOFF,
            deadline: DEFAULT_TIMEOUT,
        }
    }
}

impl RetryPolicy {
    /// How patient a call with `config`'s settings is.
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            max_rate_limit_wait: config.max_retry_wait,
            deadline: config.timeout,
            ..Self::default()
        }
    }
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Keep this outcome.
    Done,
    /// Wait this long, then send again.
    RetryAfter(Duration),
}

/// Statuses that usually pass: Discord's 500 and its proxies' 502, 503, 504.
const TRANSIENT_STATUSES: &[u16] = &[500, 502, 503, 504];

impl RetryPolicy {
    /// The decision after attempt number `retries_so_far + 1` of a `method`
    /// request ended in `outcome`, `elapsed` into the call. `jitter` is a
    /// random number in `[0, 1)`.
    pub(crate) fn decide(
        &self,
        method: Method,
        retries_so_far: u32,
        outcome: &Result<Response, TransportError>,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        if retries_so_far >= self.max_retries {
            return Decision::Done;
        }
        let backoff = || {
            let doubled = self.base_backoff * 2u32.saturating_pow(retries_so_far);
            doubled + self.base_backoff.mul_f64(jitter.clamp(0.0, 1.0))
        };
        let wait = match outcome {
            Ok(response) if response.status == 429 => {
                let wait = retry_after(response);
                if wait > self.max_rate_limit_wait {
                    return Decision::Done;
                }
                wait
            }
            Ok(response)
                if method == Method::Get && TRANSIENT_STATUSES.contains(&response.status) =>
            {
                backoff()
            }
            Err(error)
                if method == Method::Get && error.failure == TransportFailure::Unreachable =>
            {
                backoff()
            }
            _ => return Decision::Done,
        };
        if elapsed + wait >= self.deadline {
            return Decision::Done;
        }
        Decision::RetryAfter(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Response, TransportError> {
        Ok(Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        })
    }

    const START: Duration = Duration::ZERO;

    #[test]
    fn the_policy_follows_the_config() {
        let config = Config::from_vars([
            ("DISCORD_TIMEOUT_MS", "2500"),
            ("DISCORD_MAX_RETRY_WAIT_MS", "100"),
        ])
        .unwrap();
        let policy = RetryPolicy::from_config(&config);
        assert_eq!(policy.max_rate_limit_wait, Duration::from_millis(100));
        assert_eq!(policy.deadline, Duration::from_millis(2500));
        assert_eq!(
            RetryPolicy::from_config(&Config::from_vars([]).unwrap()),
            RetryPolicy::default()
        );
        assert_eq!(
            (
                RetryPolicy::default().deadline,
                RetryPolicy::default().max_rate_limit_wait
            ),
            (Duration::from_secs(15), Duration::from_secs(2))
        );
    }

    #[test]
    fn short_429s_are_waited_out_long_ones_are_not() {
        let policy = RetryPolicy::default();
        let short = answer(429, &[], r#"{"retry_after": 0.3, "global": false}"#);
        assert_eq!(
            policy.decide(Method::Get, 0, &short, START, 0.5),
            Decision::RetryAfter(Duration::from_millis(300))
        );
        let header_only = answer(429, &[("retry-after", "1")], "");
        assert_eq!(
            policy.decide(Method::Post, 0, &header_only, START, 0.5),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        let long = answer(429, &[], r#"{"retry_after": 5}"#);
        assert_eq!(
            policy.decide(Method::Get, 0, &long, START, 0.5),
            Decision::Done
        );
        assert_eq!(
            policy.decide(Method::Get, 2, &short, START, 0.5),
            Decision::Done,
            "at most twice"
        );
    }

    #[test]
    fn transient_failures_of_gets_back_off() {
        let policy = RetryPolicy::default();
        for status in [500, 502, 503, 504] {
            let first = policy.decide(Method::Get, 0, &answer(status, &[], ""), START, 0.0);
            assert_eq!(first, Decision::RetryAfter(Duration::from_millis(200)));
            let second = policy.decide(Method::Get, 1, &answer(status, &[], ""), START, 0.5);
            assert_eq!(second, Decision::RetryAfter(Duration::from_millis(500)));
        }
        let unreachable = Err(TransportError::new(
            TransportFailure::Unreachable,
            "refused",
        ));
        assert!(matches!(
            policy.decide(Method::Get, 0, &unreachable, START, 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(Method::Post, 0, &answer(502, &[], ""), START, 0.0),
            Decision::Done
        );
        assert_eq!(
            policy.decide(Method::Post, 0, &unreachable, START, 0.0),
            Decision::Done
        );
    }

    #[test]
    fn some_outcomes_are_never_retried() {
        let policy = RetryPolicy::default();
        for status in [200, 400, 401, 403, 404] {
            assert_eq!(
                policy.decide(Method::Get, 0, &answer(status, &[], ""), START, 0.0),
                Decision::Done,
                "{status}"
            );
        }
        for failure in [
            TransportFailure::TimedOut,
            TransportFailure::TooLarge,
            TransportFailure::Broken,
        ] {
            let outcome = Err(TransportError::new(failure, "x"));
            assert_eq!(
                policy.decide(Method::Get, 0, &outcome, START, 0.0),
                Decision::Done,
                "{failure:?}"
            );
        }
    }

    #[test]
    fn no_wait_runs_past_the_deadline() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let short = answer(429, &[], r#"{"retry_after": 0.5}"#);
        assert_eq!(
            policy.decide(Method::Get, 0, &short, Duration::from_millis(600), 0.0),
            Decision::Done
        );
    }
}
