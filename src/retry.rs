//! When to try a request again: Discord's 429s that are short enough to
//! wait out, and transient failures of requests that are safe to send
//! twice, within the call's deadline; and what a failed call says about
//! whether it may have changed something on Discord.

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

/// How safe it is to send a request again once it may have reached
/// Discord.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replay {
    /// `GET`, `PUT`, `DELETE`: sending it again leaves Discord as sending
    /// it once does.
    Idempotent,
    /// A `POST` Discord deduplicates by its enforced nonce (a message): sent
    /// again, with the same nonce and body, it is still created once.
    Deduplicated,
    /// Any other `POST` or `PATCH`: sent again only after an answer that
    /// says Discord did not act (429).
    Once,
}

impl Replay {
    /// How safe sending a `method` request again is; `deduplicated` when
    /// it carries an enforced nonce.
    pub(crate) fn of(method: Method, deduplicated: bool) -> Self {
        match method {
            Method::Get | Method::Put | Method::Delete => Self::Idempotent,
            Method::Post | Method::Patch if deduplicated => Self::Deduplicated,
            Method::Post | Method::Patch => Self::Once,
        }
    }
}

/// Whether an attempt that ended in `outcome` may have changed something
/// on Discord: a 5xx or no usable answer may; a 2xx did; any other answer
/// (4xx, 429) says it did not.
pub(crate) fn may_have_applied(outcome: &Result<Response, TransportError>) -> bool {
    match outcome {
        Ok(response) => response.status >= 500,
        Err(_) => true,
    }
}

/// What a failed call's error adds to its `details`: whether it was sent
/// again, and that it may have been applied even so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Whether the request was sent more than once.
    pub(crate) retried: bool,
    /// Always true: the note is only made when it may have.
    pub(crate) may_have_applied: bool,
}

/// The note for a call of `method` (sent as `replay` allows) whose last
/// attempt ended in `last`, after `retries` retries of which an earlier
/// attempt may have applied (`earlier_may_have_applied`), when there is one
/// to make:
///
/// - a `POST` or `PATCH` that is not retried once it may have reached
///   Discord, and may have: `{"retried": false, "may_have_applied": true}`;
/// - a `DELETE` retried after an attempt that may have applied, and then
///   answered 404 (perhaps because that attempt deleted it):
///   `{"retried": true, "may_have_applied": true}`.
pub(crate) fn applied_note(
    method: Method,
    replay: Replay,
    retries: u32,
    earlier_may_have_applied: bool,
    last: &Result<Response, TransportError>,
) -> Option<Applied> {
    match (replay, last) {
        (Replay::Once, _) if may_have_applied(last) => Some(Applied {
            retried: false,
            may_have_applied: true,
        }),
        (Replay::Idempotent, Ok(response))
            if method == Method::Delete
                && response.status == 404
                && retries > 0
                && earlier_may_have_applied =>
        {
            Some(Applied {
                retried: true,
                may_have_applied: true,
            })
        }
        _ => None,
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
    /// The decision after attempt number `retries_so_far + 1` of a request
    /// as safe to send again as `replay` ended in `outcome`, `elapsed` into
    /// the call. `jitter` is a random number in `[0, 1)`.
    ///
    /// A 429 is always waited out when short enough (Discord did not act);
    /// a 500, 502, 503 or 504 and a failure to reach Discord are retried for
    /// idempotent and deduplicated requests, and a timeout for deduplicated
    /// ones (idempotent ones keep the rule they had before there were
    /// others: a timeout is not retried); a request that may only be sent
    /// once never after it may have reached Discord.
    pub(crate) fn decide(
        &self,
        replay: Replay,
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
            _ if replay == Replay::Once => return Decision::Done,
            Ok(response) if TRANSIENT_STATUSES.contains(&response.status) => backoff(),
            Err(error) if error.failure == TransportFailure::Unreachable => backoff(),
            Err(error)
                if replay == Replay::Deduplicated
                    && error.failure == TransportFailure::TimedOut =>
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
            policy.decide(Replay::Idempotent, 0, &short, START, 0.5),
            Decision::RetryAfter(Duration::from_millis(300))
        );
        let header_only = answer(429, &[("retry-after", "1")], "");
        assert_eq!(
            policy.decide(Replay::Once, 0, &header_only, START, 0.5),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        let long = answer(429, &[], r#"{"retry_after": 5}"#);
        assert_eq!(
            policy.decide(Replay::Idempotent, 0, &long, START, 0.5),
            Decision::Done
        );
        assert_eq!(
            policy.decide(Replay::Idempotent, 2, &short, START, 0.5),
            Decision::Done,
            "at most twice"
        );
    }

    #[test]
    fn transient_failures_of_gets_back_off() {
        let policy = RetryPolicy::default();
        for status in [500, 502, 503, 504] {
            let first = policy.decide(Replay::Idempotent, 0, &answer(status, &[], ""), START, 0.0);
            assert_eq!(first, Decision::RetryAfter(Duration::from_millis(200)));
            let second = policy.decide(Replay::Idempotent, 1, &answer(status, &[], ""), START, 0.5);
            assert_eq!(second, Decision::RetryAfter(Duration::from_millis(500)));
        }
        let unreachable = Err(TransportError::new(
            TransportFailure::Unreachable,
            "refused",
        ));
        assert!(matches!(
            policy.decide(Replay::Idempotent, 0, &unreachable, START, 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(Replay::Once, 0, &answer(502, &[], ""), START, 0.0),
            Decision::Done
        );
        assert_eq!(
            policy.decide(Replay::Once, 0, &unreachable, START, 0.0),
            Decision::Done
        );
    }

    #[test]
    fn some_outcomes_are_never_retried() {
        let policy = RetryPolicy::default();
        for status in [200, 400, 401, 403, 404] {
            assert_eq!(
                policy.decide(Replay::Idempotent, 0, &answer(status, &[], ""), START, 0.0),
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
                policy.decide(Replay::Idempotent, 0, &outcome, START, 0.0),
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
            policy.decide(
                Replay::Idempotent,
                0,
                &short,
                Duration::from_millis(600),
                0.0
            ),
            Decision::Done
        );
    }

    #[test]
    fn methods_say_how_safe_a_resend_is() {
        for method in [Method::Get, Method::Put, Method::Delete] {
            assert_eq!(Replay::of(method, false), Replay::Idempotent);
            assert_eq!(Replay::of(method, true), Replay::Idempotent);
        }
        for method in [Method::Post, Method::Patch] {
            assert_eq!(Replay::of(method, false), Replay::Once);
            assert_eq!(Replay::of(method, true), Replay::Deduplicated);
        }
    }

    fn failure(failure: TransportFailure) -> Result<Response, TransportError> {
        Err(TransportError::new(failure, "x"))
    }

    #[test]
    fn deduplicated_posts_are_retried_after_5xx_timeouts_and_drops() {
        let policy = RetryPolicy::default();
        for outcome in [
            answer(500, &[], ""),
            answer(503, &[], ""),
            failure(TransportFailure::TimedOut),
            failure(TransportFailure::Unreachable),
        ] {
            assert_eq!(
                policy.decide(Replay::Deduplicated, 0, &outcome, START, 0.0),
                Decision::RetryAfter(Duration::from_millis(200)),
                "{outcome:?}"
            );
            assert_eq!(
                policy.decide(Replay::Once, 0, &outcome, START, 0.0),
                Decision::Done,
                "{outcome:?}"
            );
        }
        assert_eq!(
            policy.decide(
                Replay::Idempotent,
                0,
                &failure(TransportFailure::TimedOut),
                START,
                0.0
            ),
            Decision::Done,
            "idempotent requests keep their rules"
        );
        for outcome in [answer(400, &[], ""), failure(TransportFailure::Broken)] {
            assert_eq!(
                policy.decide(Replay::Deduplicated, 0, &outcome, START, 0.0),
                Decision::Done
            );
        }
    }

    #[test]
    fn a_429_is_retried_whatever_the_method() {
        let policy = RetryPolicy::default();
        let short = answer(429, &[], r#"{"retry_after": 0.1}"#);
        for replay in [Replay::Idempotent, Replay::Deduplicated, Replay::Once] {
            assert_eq!(
                policy.decide(replay, 0, &short, START, 0.0),
                Decision::RetryAfter(Duration::from_millis(100)),
                "{replay:?}"
            );
        }
    }

    #[test]
    fn what_may_have_applied() {
        assert!(may_have_applied(&answer(500, &[], "")));
        assert!(may_have_applied(&failure(TransportFailure::TimedOut)));
        assert!(may_have_applied(&failure(TransportFailure::Unreachable)));
        for status in [200, 204, 400, 403, 404, 429] {
            assert!(!may_have_applied(&answer(status, &[], "")), "{status}");
        }
    }

    #[test]
    fn unsafe_writes_say_they_were_not_retried() {
        let note = Some(Applied {
            retried: false,
            may_have_applied: true,
        });
        for method in [Method::Post, Method::Patch] {
            let replay = Replay::of(method, false);
            for last in [answer(502, &[], ""), failure(TransportFailure::TimedOut)] {
                assert_eq!(applied_note(method, replay, 0, false, &last), note);
            }
            for last in [answer(400, &[], ""), answer(429, &[], "")] {
                assert_eq!(applied_note(method, replay, 0, false, &last), None);
            }
        }
        let dedup = Replay::of(Method::Post, true);
        assert_eq!(
            applied_note(Method::Post, dedup, 2, true, &answer(500, &[], "")),
            None
        );
    }

    #[test]
    fn a_delete_that_found_nothing_after_a_retry_says_it_may_have_applied() {
        let idempotent = Replay::Idempotent;
        let not_found = answer(404, &[], "");
        assert_eq!(
            applied_note(Method::Delete, idempotent, 1, true, &not_found),
            Some(Applied {
                retried: true,
                may_have_applied: true
            })
        );
        assert_eq!(
            applied_note(Method::Delete, idempotent, 0, false, &not_found),
            None
        );
        assert_eq!(
            applied_note(Method::Delete, idempotent, 1, false, &not_found),
            None,
            "the earlier attempt was a 429: nothing applied"
        );
        assert_eq!(
            applied_note(Method::Put, idempotent, 1, true, &not_found),
            None
        );
        assert_eq!(
            applied_note(Method::Delete, idempotent, 1, true, &answer(204, &[], "")),
            None
        );
    }
}
