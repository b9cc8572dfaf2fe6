//! Per-route, per-caller rate limit windows, reported in Discord's
//! `X-RateLimit-*` headers and enforced with Discord's 429 answer.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many requests a caller may make on one route per window.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitPolicy {
    /// Requests per window.
    pub limit: u32,
    /// The window's length.
    pub window: Duration,
}

impl RateLimitPolicy {
    /// No limit at all, as benchmarks want: the per-route buckets (such as
    /// a channel's reactions) are off too.
    pub const OFF: Self = Self {
        limit: u32::MAX,
        window: Duration::from_secs(1),
    };

    /// Whether this policy lets everything through ([`Self::OFF`], or any
    /// limit of `u32::MAX`).
    pub fn is_off(&self) -> bool {
        self.limit == u32::MAX
    }
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            limit: 50,
            window: Duration::from_secs(1),
        }
    }
}

/// Where a request stands in its window.
#[derive(Clone, Debug)]
pub(crate) struct Standing {
    pub bucket: String,
    pub limit: u32,
    pub remaining: u32,
    pub reset_after: Duration,
    pub exceeded: bool,
}

impl Standing {
    /// Discord's rate limit headers for this standing.
    pub fn headers(&self) -> Vec<(String, String)> {
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + self.reset_after;
        let mut headers = vec![
            ("x-ratelimit-limit".to_owned(), self.limit.to_string()),
            (
                "x-ratelimit-remaining".to_owned(),
                self.remaining.to_string(),
            ),
            (
                "x-ratelimit-reset".to_owned(),
                format!("{:.3}", up_to_ms(reset)),
            ),
            (
                "x-ratelimit-reset-after".to_owned(),
                format!("{:.3}", up_to_ms(self.reset_after)),
            ),
            ("x-ratelimit-bucket".to_owned(), self.bucket.clone()),
        ];
        if self.exceeded {
            let seconds = self.reset_after.as_secs_f64().ceil().max(1.0) as u64;
            headers.push(("retry-after".to_owned(), seconds.to_string()));
            headers.push(("x-ratelimit-scope".to_owned(), "user".to_owned()));
        }
        headers
    }
}

/// Seconds, rounded up to the millisecond: a client that waits what the
/// headers say never comes back before the window has ended.
fn up_to_ms(duration: Duration) -> f64 {
    duration.as_micros().div_ceil(1000) as f64 / 1000.0
}

struct Window {
    started: Instant,
    length: Duration,
    used: u32,
}

/// Past this many windows, the ones that have ended are dropped.
const MAX_WINDOWS: usize = 10_000;

/// Windows per (route, major parameter, caller).
#[derive(Default)]
pub(crate) struct RateLimiter {
    windows: HashMap<(String, String, u64), Window>,
}

impl RateLimiter {
    /// Counts one request by `caller` (a hash of its credential) on `route`
    /// for its major parameter `major` (a channel or guild id, or empty):
    /// each major parameter has a window of its own, as on Discord.
    pub fn admit(
        &mut self,
        policy: RateLimitPolicy,
        route: &str,
        major: &str,
        caller: u64,
    ) -> Standing {
        let now = Instant::now();
        if self.windows.len() >= MAX_WINDOWS {
            self.windows
                .retain(|_, window| now.duration_since(window.started) < window.length);
        }
        if self.windows.len() >= MAX_WINDOWS {
            // Every window is live: forget them all rather than grow.
            self.windows.clear();
        }
        let window = self
            .windows
            .entry((route.to_owned(), major.to_owned(), caller))
            .or_insert(Window {
                started: now,
                length: policy.window,
                used: 0,
            });
        // A window ends when its time is up, or when the policy changed.
        if now.duration_since(window.started) >= policy.window || window.length != policy.window {
            *window = Window {
                started: now,
                length: policy.window,
                used: 0,
            };
        }
        let exceeded = window.used >= policy.limit;
        if !exceeded {
            window.used += 1;
        }
        Standing {
            bucket: bucket_id(route),
            limit: policy.limit,
            remaining: policy.limit.saturating_sub(window.used),
            reset_after: policy
                .window
                .saturating_sub(now.duration_since(window.started)),
            exceeded,
        }
    }
}

/// An opaque bucket id for a route, as Discord gives (a hex hash).
fn bucket_id(route: &str) -> String {
    let mut hasher = DefaultHasher::new();
    route.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
