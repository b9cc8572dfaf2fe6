//! Discord's answers mapped to typed errors, and answers that are not
//! usable at all; none of them traps, none leaks a token.

use std::time::Duration;

use discord_host::{ComponentErrorKind as ErrorKind, Credential};
use discord_sandbox::tokens::{IDENTIFY_ONLY_TOKEN, USER_TOKEN};
use discord_sandbox::{Fault, RateLimitPolicy};
use serde_json::{Value, json};

use crate::common::{assert_kind, compiled, error_of, json_of, setup, user};

#[tokio::test]
async fn an_unknown_token_is_unauthorized_with_code_zero() {
    let (_sandbox, connector) = setup().await;
    let stale = Credential::Bearer("sbx-user.revoked-token-value".to_owned());
    let error = error_of(&connector, "discord_get_my_user", "{}", &stale).await;
    assert_kind(&error, ErrorKind::Unauthorized);
    assert_eq!((error.status, error.code), (Some(401), Some(0)));
    assert!(!error.message.contains("revoked-token-value"));
}

#[tokio::test]
async fn a_missing_scope_or_disabled_widget_is_forbidden() {
    let (_sandbox, connector) = setup().await;
    let narrow = Credential::Bearer(IDENTIFY_ONLY_TOKEN.to_owned());
    let error = error_of(
        &connector,
        "discord_retrieve_user_connections",
        "{}",
        &narrow,
    )
    .await;
    assert_kind(&error, ErrorKind::Forbidden);
    assert_eq!((error.status, error.code), (Some(403), Some(50001)));

    let error = error_of(
        &connector,
        "discord_get_guild_widget",
        r#"{"guild_id": "81384788765712384"}"#,
        &Credential::None,
    )
    .await;
    assert_kind(&error, ErrorKind::Forbidden);
    assert_eq!(error.code, Some(50004));
    assert!(
        error.message.contains("Widget Disabled"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn unknown_objects_are_not_found_with_discords_codes() {
    let (_sandbox, connector) = setup().await;
    let cases = [
        (
            "discord_get_guild_widget",
            r#"{"guild_id": "1"}"#,
            Credential::None,
            10004,
        ),
        (
            "discord_get_my_guild_member",
            r#"{"guild_id": "2"}"#,
            user(),
            10004,
        ),
        ("discord_get_user", r#"{"user_id": "3"}"#, user(), 10013),
        (
            "discord_resolve_invite",
            r#"{"invite_code": "nope"}"#,
            Credential::None,
            10006,
        ),
        (
            "discord_get_guild_template",
            r#"{"template_code": "nope"}"#,
            Credential::None,
            10057,
        ),
        (
            "discord_get_current_user_application_entitlements",
            r#"{"application_id": "4"}"#,
            user(),
            10002,
        ),
    ];
    for (tool, arguments, credential, code) in cases {
        let error = error_of(&connector, tool, arguments, &credential).await;
        assert_kind(&error, ErrorKind::NotFound);
        assert_eq!(
            (error.status, error.code),
            (Some(404), Some(code)),
            "{tool}"
        );
    }
}

#[tokio::test]
async fn a_rate_limit_says_how_long_to_wait_and_which_bucket() {
    let (sandbox, connector) = setup().await;
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: 1,
        window: Duration::from_secs(30),
    });
    json_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::RateLimited);
    assert_eq!(error.status, Some(429));
    let wait = error.retry_after_ms.expect("a wait");
    assert!((28_000..=30_000).contains(&wait), "{wait}");
    let details: Value = serde_json::from_str(error.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["scope"], "user");
    assert_eq!(details["global"], false);
    assert!(
        details["bucket"]
            .as_str()
            .is_some_and(|bucket| bucket.len() == 16)
    );
    assert!(sandbox.requests()[0].path_and_query.ends_with("/gateway"));
}

#[tokio::test]
async fn a_global_rate_limit_is_reported_as_global() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(
        Fault::json(
            429,
            json!({ "message": "You are being rate limited.", "retry_after": 4.5, "global": true }),
        )
        .header("x-ratelimit-global", "true")
        .header("x-ratelimit-scope", "global")
        .header("retry-after", "5"),
    );
    let error = error_of(&connector, "discord_get_my_user", "{}", &user()).await;
    assert_kind(&error, ErrorKind::RateLimited);
    assert_eq!(
        error.retry_after_ms,
        Some(4500),
        "the body's fraction wins over the header's whole seconds"
    );
    let details: Value = serde_json::from_str(error.details.as_deref().unwrap()).unwrap();
    assert_eq!(
        (details["scope"].as_str(), details["global"].as_bool()),
        (Some("global"), Some(true))
    );
}

#[tokio::test]
async fn other_failures_are_upstream_with_discords_field_errors() {
    let (sandbox, connector) = setup().await;
    let form_errors = json!({ "limit": { "_errors": [{ "code": "NUMBER_TYPE_MAX", "message": "int value should be less than or equal to 200." }] } });
    sandbox.inject(Fault::json(
        400,
        json!({ "code": 50035, "errors": form_errors, "message": "Invalid Form Body" }),
    ));
    let error = error_of(&connector, "discord_list_my_guilds", "{}", &user()).await;
    assert_kind(&error, ErrorKind::Upstream);
    assert_eq!((error.status, error.code), (Some(400), Some(50035)));
    let details: Value = serde_json::from_str(error.details.as_deref().unwrap()).unwrap();
    assert_eq!(details, form_errors);

    sandbox.inject(
        Fault::status(502)
            .header("content-type", "text/html")
            .body("<html><h1>502 Bad Gateway</h1></html>")
            .times(3),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Upstream);
    assert_eq!((error.status, error.code), (Some(502), None));

    sandbox.inject(
        Fault::json(
            500,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        )
        .times(3),
    );
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Upstream);
    assert_eq!(error.status, Some(500));
}

#[tokio::test]
async fn unusable_answers_are_transport_errors() {
    let (sandbox, connector) = setup().await;
    let cases = [
        (
            "discord_get_gateway",
            Fault::status(200)
                .header("content-type", "text/html")
                .body("<html>maintenance</html>"),
        ),
        (
            "discord_get_gateway",
            Fault::status(200)
                .header("content-type", "application/json")
                .body(r#"{"url": "wss://"#),
        ),
        (
            "discord_get_gateway",
            Fault::status(200).broken_off(4096, 100),
        ),
        (
            "discord_get_guild_widget_png",
            Fault::json(200, json!({ "not": "a picture" })),
        ),
        (
            "discord_get_guild_widget_png",
            Fault::status(200)
                .header("content-type", "image/png")
                .body("GIF89a..."),
        ),
    ];
    for (tool, fault) in cases {
        sandbox.inject(fault);
        let arguments = if tool == "discord_get_guild_widget_png" {
            r#"{"guild_id": "613425648685547541"}"#
        } else {
            "{}"
        };
        let error = error_of(&connector, tool, arguments, &Credential::None).await;
        assert_kind(&error, ErrorKind::Transport);
    }
}

#[tokio::test]
async fn no_server_is_a_transport_error() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let connector = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", format!("http://{closed}/api/v10"));
    let error = error_of(&connector, "discord_get_gateway", "{}", &Credential::None).await;
    assert_kind(&error, ErrorKind::Transport);
    assert_eq!(error.status, None);
}

#[tokio::test]
async fn an_echoed_token_never_reaches_the_error() {
    let (sandbox, connector) = setup().await;
    sandbox.inject(Fault::json(
        401,
        json!({ "message": format!("401: Unauthorized (token Bearer {USER_TOKEN})"), "code": 0 }),
    ));
    let error = error_of(&connector, "discord_get_my_user", "{}", &user()).await;
    assert_kind(&error, ErrorKind::Unauthorized);
    assert!(!error.message.contains(USER_TOKEN), "{}", error.message);
    assert!(error.message.contains("[redacted]"), "{}", error.message);

    sandbox.inject(Fault::json(
        400,
        json!({ "code": 50035, "message": "Invalid Form Body", "errors": { "token": { "_errors": [{ "code": "X", "message": USER_TOKEN }] } } }),
    ));
    let error = error_of(&connector, "discord_get_my_user", "{}", &user()).await;
    assert!(!error.details.unwrap_or_default().contains(USER_TOKEN));
}

#[tokio::test]
async fn configuration_is_checked_before_sending() {
    let (sandbox, connector) = setup().await;
    let remote = connector
        .clone()
        .with_env("DISCORD_API_BASE", "http://discord.example/api/v10");
    let error = error_of(&remote, "discord_get_gateway", "{}", &Credential::None).await;
    assert!(error.message.contains("plain http"), "{}", error.message);

    let trailing = connector
        .clone()
        .with_env("DISCORD_API_BASE", format!("{}/", sandbox.base_url()));
    json_of(&trailing, "discord_get_gateway", "{}", &Credential::None).await;
    assert_eq!(sandbox.requests().len(), 1);
    assert_eq!(sandbox.requests()[0].path_and_query, "/api/v10/gateway");
}

#[tokio::test]
async fn an_unknown_tool_is_refused_before_sending() {
    let (sandbox, connector) = setup().await;
    let error = error_of(&connector, "discord_delete_everything", "{}", &user()).await;
    assert_kind(&error, ErrorKind::UnknownTool);
    assert!(sandbox.requests().is_empty());
}
