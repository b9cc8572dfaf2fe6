//! Every fault class against the sandbox: rate limits waited out or
//! reported, transient failures retried, unusable answers refused, bodies
//! capped, stalls cut off by the deadline. Every call ends typed.

use std::time::{Duration, Instant};

use discord_host::{Client, ComponentErrorKind as ErrorKind, Credential, Output};
use discord_sandbox::tokens::APPLICATION_ID;
use discord_sandbox::{CLIENT_SECRET, Fault};
use serde_json::json;

use crate::common::{assert_kind, component_error, error_of, json_of, setup, user};

fn rate_limited(retry_after: f64, global: bool) -> Fault {
    let scope = if global { "global" } else { "user" };
    Fault::json(429, json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": global }))
        .header("x-ratelimit-scope", scope)
        .header("x-ratelimit-bucket", "d4c2e8a1b3f50697")
        .header("retry-after", (retry_after.ceil() as u64).to_string())
}

#[tokio::test]
async fn short_429s_on_a_route_or_globally_are_waited_out() {
    let (sandbox, connector) = setup().await;
    for global in [false, true] {
        sandbox.inject(rate_limited(0.2, global).on("/gateway"));
        let started = Instant::now();
        json_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
        assert!(started.elapsed() >= Duration::from_millis(200), "it waited");
    }
    assert_eq!(sandbox.requests().len(), 4, "each call sent twice");
}

#[tokio::test]
async fn long_429s_are_reported_at_once_with_scope_and_bucket() {
    let (sandbox, connector) = setup().await;
    for global in [false, true] {
        sandbox.inject(rate_limited(30.0, global));
        let started = Instant::now();
        let error = error_of(&connector, "discord_get_my_user", "{}", &user()).await;
        assert!(started.elapsed() < Duration::from_secs(2), "no wait");
        assert_kind(&error, ErrorKind::RateLimited);
        assert_eq!(error.retry_after_ms, Some(30_000));
        let details: serde_json::Value =
            serde_json::from_str(error.details.as_deref().unwrap()).unwrap();
        assert_eq!(details["scope"], if global { "global" } else { "user" });
        assert_eq!(details["global"], global);
        assert_eq!(details["bucket"], "d4c2e8a1b3f50697");
    }
    assert_eq!(sandbox.requests().len(), 2);
}

#[tokio::test]
async fn the_wait_cap_is_configurable_and_retries_stop_at_two() {
    let (sandbox, connector) = setup().await;
    let impatient = connector
        .clone()
        .with_env("DISCORD_MAX_RETRY_WAIT_MS", "100");
    sandbox.inject(rate_limited(0.2, false));
    let error = error_of(&impatient, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::RateLimited);
    assert_eq!(sandbox.requests().len(), 1);

    sandbox.inject(rate_limited(0.05, false).times(3));
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::RateLimited);
    assert_eq!(sandbox.requests().len(), 4, "first try and two retries");
}

#[tokio::test]
async fn a_500_then_success_succeeds() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(Fault::json(
        500,
        json!({ "message": "500: Internal Server Error", "code": 0 }),
    ));
    let gateway = json_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_eq!(gateway["url"], "wss://gateway.discord.gg");
    assert_eq!(sandbox.requests().len(), 2);
}

#[tokio::test]
async fn a_502_html_page_is_retried_then_reported() {
    let (sandbox, connector) = setup().await;
    let html = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>";
    sandbox.inject(
        Fault::status(502)
            .header("content-type", "text/html")
            .body(html)
            .times(3),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Upstream);
    assert_eq!((error.status, error.code), (Some(502), None));
    assert_eq!(sandbox.requests().len(), 3);
}

#[tokio::test]
async fn posts_and_auth_failures_are_not_retried() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(Fault::status(502).body("<html>"));
    let client = Client {
        client_id: APPLICATION_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
    };
    let error = connector
        .refresh_token(&client, "sbx-rt.any")
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_eq!(error.status, Some(502));
    assert_eq!(sandbox.requests().len(), 1, "a POST is not retried");

    let error = error_of(
        &connector,
        "discord_get_my_user",
        "{}",
        &Credential::Bearer("sbx-bad".into()),
    )
    .await;
    assert_kind(&error, ErrorKind::Unauthorized);
    assert_eq!(sandbox.requests().len(), 2, "a 401 is not retried");
}

#[tokio::test]
async fn invalid_json_and_html_with_200_are_transport_errors_not_retried() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(
        Fault::status(200)
            .header("content-type", "application/json")
            .body(r#"{"url": "wss://gate"#),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Transport);
    sandbox.inject(
        Fault::status(200)
            .header("content-type", "text/html")
            .body("<!doctype html><p>Maintenance</p>"),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Transport);
    assert_eq!(error.status, Some(200));
    assert_eq!(sandbox.requests().len(), 2);
}

#[tokio::test]
async fn a_64_mib_body_is_cut_off_and_the_instance_keeps_working() {
    let (sandbox, connector) = setup().await;
    let mut instance = connector.instance().await.unwrap();
    for content_length in [true, false] {
        sandbox.inject(
            Fault::status(200)
                .header("content-type", "application/json")
                .sized_body(64 << 20, content_length),
        );
        let started = Instant::now();
        let error = instance
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await
            .map_err(component_error)
            .unwrap_err();
        assert_kind(&error, ErrorKind::Transport);
        assert!(error.message.contains("cap"), "{}", error.message);
        assert!(started.elapsed() < Duration::from_secs(5));
        let next = instance
            .execute_tool("discord_get_gateway", "{}", &Credential::None)
            .await;
        assert!(
            matches!(next, Ok(Output::Json(_))),
            "the same instance answers the next call"
        );
    }
}

#[tokio::test]
async fn the_body_cap_is_configurable() {
    let (_sandbox, connector) = setup().await;
    let small = connector.clone().with_env("DISCORD_MAX_BODY_BYTES", "256");
    let error = error_of(
        &small,
        "discord_list_sticker_packs",
        "{}",
        &Credential::None,
    )
    .await;
    assert_kind(&error, ErrorKind::Transport);
    json_of(&small, "discord_get_gateway", "{}", &Credential::None).await;
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(
        Fault::status(200)
            .header("content-type", "application/json")
            .broken_off(4096, 100),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Transport);
    assert_eq!(
        sandbox.requests().len(),
        1,
        "a broken exchange is not retried"
    );
}

#[tokio::test]
async fn a_stalled_server_is_cut_off_by_the_deadline() {
    let (sandbox, connector) = setup().await;
    let hurried = connector.clone().with_env("DISCORD_TIMEOUT_MS", "400");
    sandbox.inject(Fault::status(200).body("{}").delay(Duration::from_secs(10)));
    let started = Instant::now();
    let error = error_of(&hurried, "discord_get_gateway", "{}", &Credential::None).await;
    let took = started.elapsed();
    assert_kind(&error, ErrorKind::Transport);
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "{took:?}"
    );
}
