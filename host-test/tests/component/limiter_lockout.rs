//! Issue #17, item 6: rotating made-up tokens cannot lock out callers in
//! good standing, and every refusal of the host's Discord limiter reaches
//! the caller as `rate-limited` with the wait, never as `transport`: from
//! `Connector::execute_tool`, and from the REST/MCP component served by
//! `discord_host::serve::Server` (429 with `Retry-After`, an MCP `isError`
//! text with `retry_after_ms`).
//!
//! The limiter's policy is scaled down (a ban line of 60 invalid requests,
//! a reserve of 20) so the tests are fast; `host/src/limiter.rs` checks the
//! same at Discord's real numbers on tokio's paused clock.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use discord_host::limiter::{DiscordLimiter, LimiterPolicy};
use discord_host::serve::Server;
use discord_host::{ComponentError, ComponentErrorKind, Connector, Credential, Output};
use discord_sandbox::tokens::USER_TOKEN;
use discord_sandbox::{Fault, Sandbox};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::common::{component_error, error_of, setup, user};

/// Discord's ban line scaled down: every request is refused at 60 invalid
/// requests in the window, and past 40 only credentials Discord has
/// accepted before, and calls with no credential, go on.
fn scaled_down() -> LimiterPolicy {
    LimiterPolicy {
        invalid_limit: 60,
        good_standing_reserve: 20,
        invalid_per_credential: 10,
        ..LimiterPolicy::default()
    }
}

/// The reserve line of [`scaled_down`].
const RESERVE_LINE: usize = 40;

/// A made-up bearer token, one per request, as the attacker sends them.
fn made_up(n: usize) -> Credential {
    Credential::Bearer(format!("sbx-user.made-up-{n}"))
}

/// How many requests with made-up tokens reached the sandbox.
fn made_up_requests_sent(sandbox: &Sandbox) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|request| {
            request
                .header("authorization")
                .is_some_and(|value| value.contains(".made-up-"))
        })
        .count()
}

/// Checks that `error` is the host limiter's refusal as the contract's
/// `rate-limited`, with a wait, and returns the wait.
fn assert_host_refusal(error: &ComponentError) -> Duration {
    assert_eq!(
        error.kind,
        ComponentErrorKind::RateLimited,
        "{}",
        error.message
    );
    assert_eq!(error.status, Some(429), "{}", error.message);
    let wait = error
        .retry_after_ms
        .unwrap_or_else(|| panic!("no retry-after-ms: {}", error.message));
    assert!(wait > 0, "{}", error.message);
    assert!(error.message.contains("limiter"), "{}", error.message);
    let details: Value = serde_json::from_str(error.details.as_deref().unwrap_or("null"))
        .unwrap_or_else(|_| panic!("details are JSON: {:?}", error.details));
    assert_eq!(details["scope"], "host", "{}", error.message);
    Duration::from_millis(wait)
}

/// Sends `count` calls, each with a made-up token of its own, and returns
/// how many Discord answered 401 and the other errors (the host's refusals).
async fn rotate_made_up_tokens(
    connector: &Connector,
    count: usize,
) -> (usize, Vec<ComponentError>) {
    let mut unauthorized = 0;
    let mut others = Vec::new();
    for n in 0..count {
        let error = error_of(connector, "discord_get_my_user", "{}", &made_up(n)).await;
        if error.kind == ComponentErrorKind::Unauthorized {
            unauthorized += 1;
        } else {
            others.push(error);
        }
    }
    (unauthorized, others)
}

#[tokio::test]
async fn rotating_made_up_tokens_leave_a_working_credential_and_anonymous_calls_served() {
    let (sandbox, connector) = setup().await;
    let limiter = Arc::new(DiscordLimiter::new(scaled_down()));
    let connector = connector.with_limiter(Arc::clone(&limiter));
    let before = connector
        .execute_tool("discord_get_my_user", "{}", &user())
        .await;
    assert!(before.is_ok(), "{:?}", before.err().map(|e| e.to_string()));

    let (unauthorized, refused) = rotate_made_up_tokens(&connector, 100).await;

    let after = connector
        .execute_tool("discord_get_my_user", "{}", &user())
        .await;
    assert!(
        matches!(after, Ok(Output::Json(_))),
        "the credential that worked before still works: {:?}",
        after.err().map(|e| e.to_string())
    );
    let anonymous = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await;
    assert!(
        matches!(anonymous, Ok(Output::Json(_))),
        "a tool with no credential still works: {:?}",
        anonymous.err().map(|e| e.to_string())
    );
    assert_eq!(
        (unauthorized, refused.len()),
        (RESERVE_LINE, 100 - RESERVE_LINE),
        "made-up tokens reach Discord only up to the reserve line"
    );
    for error in &refused {
        assert_host_refusal(error);
    }
    assert_eq!(made_up_requests_sent(&sandbox), RESERVE_LINE);
    assert_eq!(
        limiter.invalid_requests(),
        RESERVE_LINE,
        "the host's own 429s are not counted as invalid requests"
    );
    let started = Instant::now();
    let error = error_of(&connector, "discord_get_my_user", "{}", &made_up(1_000)).await;
    let wait = assert_host_refusal(&error);
    assert!(
        wait <= scaled_down().invalid_window,
        "at most the window: {wait:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once, not waited out: {:?}",
        started.elapsed()
    );
    assert!(
        !error.message.contains("made-up-1000"),
        "no token in the error: {}",
        error.message
    );
    assert_eq!(made_up_requests_sent(&sandbox), RESERVE_LINE);
}

#[tokio::test]
async fn a_wait_past_the_deadline_is_rate_limited_with_the_wait() {
    let (sandbox, connector) = setup().await;
    let connector = connector
        .with_env("DISCORD_TIMEOUT_MS", "1000")
        .with_limiter(Arc::new(DiscordLimiter::default()));
    sandbox.inject(
        Fault::json(200, json!({"url": "wss://x"}))
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset-after", "30")
            .header("x-ratelimit-bucket", "gateway")
            .on("/gateway"),
    );
    let first = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await;
    assert!(first.is_ok(), "{:?}", first.err().map(|e| e.to_string()));
    let started = Instant::now();
    let error = component_error(
        connector
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await
            .unwrap_err(),
    );
    let wait = assert_host_refusal(&error);
    assert!(
        error.message.contains("past its deadline"),
        "{}",
        error.message
    );
    assert!(
        wait > Duration::from_secs(29) && wait <= Duration::from_millis(30_100),
        "the bucket's reset: {wait:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "refused at once"
    );
    assert_eq!(
        sandbox.requests().len(),
        1,
        "the second never left the host"
    );
}

/// A refusal whose wait fits the call's deadline is sat out once by the
/// component (as it sits out Discord's short 429s), then the request goes;
/// one whose wait does not fit ends the call at once. Neither loops.
#[tokio::test]
async fn a_short_refusal_is_sat_out_within_the_deadline_and_a_long_one_is_not() {
    let (sandbox, connector) = setup().await;
    let window = Duration::from_secs(6);
    let limiter = Arc::new(DiscordLimiter::new(LimiterPolicy {
        invalid_limit: 6,
        good_standing_reserve: 2,
        invalid_window: window,
        ..LimiterPolicy::default()
    }));
    let connector = connector
        .with_limiter(Arc::clone(&limiter))
        .with_env("DISCORD_MAX_RETRY_WAIT_MS", "8000");
    let filled = Instant::now();
    let (unauthorized, others) = rotate_made_up_tokens(&connector, 4).await;
    assert_eq!((unauthorized, others.len()), (4, 0));

    let impatient = connector.clone().with_env("DISCORD_TIMEOUT_MS", "1000");
    let started = Instant::now();
    let error = error_of(&impatient, "discord_get_my_user", "{}", &made_up(100)).await;
    let wait = assert_host_refusal(&error);
    assert!(
        wait > Duration::from_secs(1) && wait <= window,
        "the first invalid requests leave the window then: {wait:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(500), "not waited");

    let patient = connector.with_env("DISCORD_TIMEOUT_MS", "12000");
    let started = Instant::now();
    let error = error_of(&patient, "discord_get_my_user", "{}", &made_up(101)).await;
    assert_eq!(
        error.kind,
        ComponentErrorKind::Unauthorized,
        "sent once the count fell: {}",
        error.message
    );
    let elapsed = started.elapsed();
    let slot = window / 10;
    assert!(
        elapsed < Duration::from_secs(12) && filled.elapsed() >= window - slot,
        "waited for the window, within the deadline: {elapsed:?}"
    );
    assert_eq!(
        made_up_requests_sent(&sandbox),
        5,
        "each made-up token once"
    );
}

/// The REST/MCP component, compiled once for this file's tests.
fn rest_mcp() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        Server::from_bytes(discord_artifacts::REST_MCP).expect("the REST/MCP component loads")
    })
}

/// An answer's status, `Retry-After` and JSON body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    json: Value,
}

async fn post(address: SocketAddr, path: &str, token: Option<&str>, body: Value) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = hyper::Request::post(format!("http://{address}{path}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    let response = client.request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await.expect("a body");
    let json = serde_json::from_slice(&body.to_bytes()).expect("a JSON body");
    Answer {
        status,
        retry_after,
        json,
    }
}

#[tokio::test]
async fn over_rest_and_mcp_a_refusal_is_a_429_with_retry_after_and_an_error_with_the_wait() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let (address, _serving) = rest_mcp()
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_limiter(Arc::new(DiscordLimiter::new(scaled_down())))
        .bind(([127, 0, 0, 1], 0).into())
        .await
        .expect("the REST/MCP component is served");
    let me = "/v1/tools/discord_get_my_user";
    assert_eq!(
        post(address, me, Some(USER_TOKEN), json!({})).await.status,
        200
    );

    let mut statuses = Vec::new();
    for n in 0..100 {
        let answer = post(
            address,
            me,
            Some(&format!("sbx-user.made-up-{n}")),
            json!({}),
        )
        .await;
        statuses.push(answer.status);
        if answer.status == 429 {
            let error = &answer.json["error"];
            assert_eq!(error["kind"], "rate-limited", "{}", answer.json);
            let wait = error["retry_after_ms"].as_u64().expect("retry_after_ms");
            assert_eq!(
                answer.retry_after,
                Some(wait.div_ceil(1000).to_string()),
                "{}",
                answer.json
            );
            assert_eq!(error["details"]["scope"], "host", "{}", answer.json);
        }
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 401).count(),
        RESERVE_LINE,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 429).count(),
        100 - RESERVE_LINE,
        "refused as 429, never 504: {statuses:?}"
    );
    assert_eq!(
        post(address, me, Some(USER_TOKEN), json!({})).await.status,
        200
    );
    assert_eq!(
        post(address, "/v1/tools/discord_get_gateway", None, json!({}))
            .await
            .status,
        200
    );

    let call = json!({
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "discord_get_my_user", "arguments": {}},
    });
    let answer = post(address, "/mcp", Some("sbx-user.made-up-mcp"), call).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let result = &answer.json["result"];
    assert_eq!(result["isError"], true, "{}", answer.json);
    let text = result["content"][0]["text"].as_str().expect("a text");
    assert!(text.starts_with("rate-limited: "), "{text}");
    assert!(text.contains("retry_after_ms "), "{text}");
    assert_eq!(made_up_requests_sent(&sandbox), RESERVE_LINE);
}
