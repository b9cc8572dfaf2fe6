//! A bounded load test on loopback: many tool calls over many concurrent
//! instances while the sandbox injects random faults. Every call must end
//! in a success whose data matches what was asked, or a typed error: none
//! lost, none mismatched.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use discord_host::{Connector, Credential, Output};

/// One call: a tool, its arguments, and what the answer must say about
/// itself (the JSON field and value that identify the object asked for).
struct Probe {
    tool: &'static str,
    arguments: String,
    field: &'static str,
    expected: &'static str,
    credential: Credential,
}

fn probes() -> Vec<Probe> {
    use discord_sandbox::tokens::BOT_TOKEN;
    let probe = |tool, argument: &str, value: &'static str, field, credential: &Credential| Probe {
        tool,
        arguments: serde_json::json!({ argument: value }).to_string(),
        field,
        expected: value,
        credential: credential.clone(),
    };
    let bot = Credential::Bot(BOT_TOKEN.to_owned());
    let none = Credential::None;
    vec![
        probe(
            "discord_get_user",
            "user_id",
            "80351110224678912",
            "id",
            &bot,
        ),
        probe(
            "discord_get_user",
            "user_id",
            "41771983423143937",
            "id",
            &bot,
        ),
        probe(
            "discord_get_user",
            "user_id",
            "1178765261640953856",
            "id",
            &bot,
        ),
        probe(
            "discord_resolve_invite",
            "invite_code",
            "discord-developers",
            "code",
            &none,
        ),
        probe(
            "discord_resolve_invite",
            "invite_code",
            "wasm-workshop",
            "code",
            &none,
        ),
        probe(
            "discord_get_guild_widget",
            "guild_id",
            "613425648685547541",
            "id",
            &none,
        ),
        probe(
            "discord_get_guild_widget",
            "guild_id",
            "1144100424245366835",
            "id",
            &none,
        ),
        probe(
            "discord_get_guild_template",
            "template_code",
            "hgM48av5Q69A",
            "code",
            &none,
        ),
    ]
}

/// What a load run saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Calls made.
    pub calls: usize,
    /// Successes whose data matched the request.
    pub matched: usize,
    /// Successes whose data belonged to another request.
    pub mismatched: usize,
    /// Typed errors, by kind.
    pub errors: BTreeMap<String, usize>,
    /// Calls that ended without a typed result (a trap or host failure).
    pub lost: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Per-call latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    /// The latency at quantile `q` (0 to 1).
    pub fn latency(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[index]
    }

    /// A few lines for a person.
    pub fn summary(&self) -> String {
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        format!(
            "{} calls in {:.2} s ({:.0} calls/s): {} matched, {} mismatched, {} lost; typed errors: {}\nlatency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.calls,
            self.elapsed.as_secs_f64(),
            self.calls as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON),
            self.matched,
            self.mismatched,
            self.lost,
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join(", ")
            },
            self.latency(0.5).as_secs_f64() * 1000.0,
            self.latency(0.99).as_secs_f64() * 1000.0,
            self.latency(1.0).as_secs_f64() * 1000.0,
        )
    }
}

enum Outcome {
    Matched,
    Mismatched,
    Error(String),
    Lost,
}

/// Makes `calls` tool calls through `connector`, `concurrency` at a time,
/// cycling through probes whose answers identify what they asked for.
pub async fn run(connector: &Connector, calls: usize, concurrency: usize) -> LoadReport {
    let probes = probes();
    let started = Instant::now();
    let outcomes: Vec<(Outcome, Duration)> = futures_util::stream::iter(0..calls)
        .map(|n| {
            let probe = &probes[n % probes.len()];
            async move {
                let began = Instant::now();
                let result = connector
                    .execute_tool(probe.tool, &probe.arguments, &probe.credential)
                    .await;
                let outcome = match result {
                    Ok(Output::Json(json)) => {
                        let value: Value = serde_json::from_str(&json).unwrap_or_default();
                        if value[probe.field] == probe.expected {
                            Outcome::Matched
                        } else {
                            Outcome::Mismatched
                        }
                    }
                    Ok(Output::Binary(_)) => Outcome::Mismatched,
                    Err(error) => match error.component_kind() {
                        Some(kind) => Outcome::Error(kind.to_string()),
                        None => Outcome::Lost,
                    },
                };
                (outcome, began.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut report = LoadReport {
        calls: outcomes.len(),
        elapsed: started.elapsed(),
        ..LoadReport::default()
    };
    for (outcome, latency) in outcomes {
        report.latencies.push(latency);
        match outcome {
            Outcome::Matched => report.matched += 1,
            Outcome::Mismatched => report.mismatched += 1,
            Outcome::Error(kind) => *report.errors.entry(kind).or_default() += 1,
            Outcome::Lost => report.lost += 1,
        }
    }
    report.latencies.sort_unstable();
    report
}
