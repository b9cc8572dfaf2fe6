//! The raw proxy: any answer comes back as a response; a refused request
//! sends nothing.

use discord_host::{ComponentErrorKind as ErrorKind, Credential, ProxyRequest};

use crate::common::{assert_kind, bot, component_error, setup, user};

fn request(method: &str, path: &str) -> ProxyRequest {
    ProxyRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: Vec::new(),
        body: None,
    }
}

#[tokio::test]
async fn any_answer_comes_back_as_a_response() {
    let (sandbox, connector) = setup().await;
    let mut guilds = request("GET", "/users/@me/guilds");
    guilds.query = vec![
        ("limit".to_owned(), "1".to_owned()),
        ("with_counts".to_owned(), "true".to_owned()),
    ];
    let answer = connector.proxy_send(&guilds, &user()).await.unwrap();
    assert_eq!(answer.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert!(
        answer
            .headers
            .iter()
            .any(|(name, _)| name == "x-ratelimit-bucket")
    );

    let missing = connector
        .proxy_send(&request("GET", "/users/1"), &bot())
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
    let unauthorized = connector
        .proxy_send(&request("GET", "/users/@me"), &Credential::None)
        .await
        .unwrap();
    assert_eq!(unauthorized.status, 401);

    let sent = sandbox.requests();
    assert_eq!(
        sent[0].path_and_query,
        "/api/v10/users/@me/guilds?limit=1&with_counts=true"
    );
    assert_eq!(
        sent[1]
            .header("authorization")
            .map(|value| value.starts_with("Bot ")),
        Some(true)
    );
    assert_eq!(sent[2].header("authorization"), None);
}

#[tokio::test]
async fn a_json_body_is_sent_unchanged() {
    let (sandbox, connector) = setup().await;
    let mut patch = request("PATCH", "/users/@me");
    let body = r#"{"username": "nelly", "nested": {"a": [1, 2.5, null]}}"#;
    patch.body = Some(body.to_owned());
    let answer = connector.proxy_send(&patch, &user()).await.unwrap();
    assert_eq!(
        answer.status, 405,
        "the sandbox serves GETs only; the answer still comes back"
    );
    let sent = sandbox.requests().pop().unwrap();
    assert_eq!(sent.method, "PATCH");
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.body, body.as_bytes());
}

#[tokio::test]
async fn paths_are_normalised_and_confined() {
    let (sandbox, connector) = setup().await;
    let answer = connector
        .proxy_send(&request("GET", "//gateway"), &Credential::None)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&answer, ErrorKind::InvalidArguments);
    let answer = connector
        .proxy_send(&request("GET", "/./users//@me/"), &user())
        .await
        .unwrap();
    assert_eq!(
        answer.status, 404,
        "trailing slash kept, as Discord would see it"
    );
    assert_eq!(
        sandbox.requests().pop().unwrap().path_and_query,
        "/api/v10/users/@me/"
    );

    let before = sandbox.requests().len();
    let refused = [
        request("TRACE", "/gateway"),
        request("GET", "gateway"),
        request("GET", "/users/../oauth2/token"),
        request("GET", "/users/%2e%2E/oauth2/token"),
        request("GET", "/users/@me%2F..%2F..%2Fx"),
        request("GET", "/https://evil.example/x"),
        request("GET", "/users\\@me"),
        request("GET", "/users/@me?x=1"),
        request("GET", "/users/@me#frag"),
        request("GET", "/users/\u{7f}"),
        ProxyRequest {
            body: Some("{}".into()),
            ..request("GET", "/gateway")
        },
        ProxyRequest {
            body: Some("not json".into()),
            ..request("POST", "/gateway")
        },
    ];
    for proxy in refused {
        let error = connector
            .proxy_send(&proxy, &user())
            .await
            .map_err(component_error)
            .unwrap_err();
        assert_kind(&error, ErrorKind::InvalidArguments);
    }
    assert_eq!(
        sandbox.requests().len(),
        before,
        "a refused request sends nothing"
    );
}
