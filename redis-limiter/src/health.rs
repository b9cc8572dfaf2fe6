//! Whether the limiter decides on Redis or on its local fallback: a small
//! state machine with the clock passed in, so its transitions (and the one
//! log line each) are tested without a server.

use std::time::Duration;

use tokio::time::Instant;

/// Where the next decision is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// On Redis.
    Redis,
    /// On the local fallback, without trying Redis.
    Fallback,
}

/// A change worth one log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Redis stopped answering: calls go to the fallback.
    WentDown,
    /// Redis answers again.
    CameBack,
}

/// Redis's health as the limiter sees it.
#[derive(Debug)]
pub struct Health {
    /// `None` while Redis answers; else when it may be tried again.
    retry_at: Option<Instant>,
    retry_interval: Duration,
}

impl Health {
    /// Healthy until a failure says otherwise, so that the first call tries
    /// Redis (the connection is made lazily).
    pub fn new(retry_interval: Duration) -> Self {
        Self {
            retry_at: None,
            retry_interval,
        }
    }

    /// Whether decisions go to the fallback now.
    pub fn is_down(&self) -> bool {
        self.retry_at.is_some()
    }

    /// Where the call arriving at `now` is decided. While Redis is down,
    /// one call per retry interval tries it again; the others do not pay
    /// for a connection that is likely to fail.
    pub fn route(&mut self, now: Instant) -> Route {
        match self.retry_at {
            None => Route::Redis,
            Some(at) if now >= at => {
                self.retry_at = Some(now + self.retry_interval);
                Route::Redis
            }
            Some(_) => Route::Fallback,
        }
    }

    /// Redis answered.
    pub fn succeeded(&mut self) -> Option<Transition> {
        self.retry_at.take().map(|_| Transition::CameBack)
    }

    /// Redis failed or was too slow at `now`.
    pub fn failed(&mut self, now: Instant) -> Option<Transition> {
        let was_up = self.retry_at.is_none();
        self.retry_at = Some(now + self.retry_interval);
        was_up.then_some(Transition::WentDown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_transition_each_way_and_one_try_per_interval() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut health = Health::new(second);
        assert_eq!(health.route(start), Route::Redis);
        assert_eq!(health.failed(start), Some(Transition::WentDown));
        assert_eq!(health.failed(start), None, "said once");
        assert!(health.is_down());
        assert_eq!(health.route(start + second / 2), Route::Fallback);
        assert_eq!(health.route(start + second), Route::Redis, "a retry");
        assert_eq!(
            health.route(start + second),
            Route::Fallback,
            "one try per interval"
        );
        assert_eq!(health.failed(start + second), None);
        assert_eq!(health.route(start + second * 3 / 2), Route::Fallback);
        assert_eq!(health.route(start + second * 2), Route::Redis);
        assert_eq!(health.succeeded(), Some(Transition::CameBack));
        assert_eq!(health.succeeded(), None);
        assert_eq!(health.route(start + second * 2), Route::Redis);
    }
}
