//! OAuth 2.0 end to end: links made in the component, codes exchanged and
//! tokens refreshed and revoked through it against the sandbox's
//! authorization server, and the host's keeping of the tokens.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use discord_accounts::{
    Authorizer, CallbackListener, ClientRegistry, ConnectionKey, StoredToken, TokenStore,
};
use discord_host::{
    Client, ComponentErrorKind as ErrorKind, Connector, Credential, LinkRequest, Output,
};
use discord_sandbox::Sandbox;
use discord_sandbox::tokens::APPLICATION_ID;
use host_test::oauth::{approve, confidential, connect};
use sha2::{Digest, Sha256};

use crate::common::{assert_kind, compiled, component_error};

fn public() -> Client {
    Client {
        client_id: APPLICATION_ID.to_owned(),
        client_secret: None,
    }
}

/// A sandbox and a connector that knows both its API and its authorize page.
pub async fn setup() -> (Sandbox, Connector) {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let connector = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", sandbox.base_url())
        .with_env("DISCORD_AUTHORIZE_URL", sandbox.authorize_url());
    (sandbox, connector)
}

fn link_request(redirect_uri: &str) -> LinkRequest {
    LinkRequest {
        client_id: APPLICATION_ID.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: vec!["identify".to_owned(), "guilds".to_owned()],
        state: None,
        prompt: Some("consent".to_owned()),
        extra: Vec::new(),
    }
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A link from the component, approved: (redirect URI, code, verifier).
async fn approved_code(connector: &Connector) -> (String, String, String) {
    let listener = CallbackListener::bind(0).await.unwrap();
    let redirect_uri = listener.redirect_uri().unwrap();
    let link = connector
        .authorization_link(&link_request(&redirect_uri))
        .await
        .unwrap();
    let (code, state) = approve(&link.url, listener).await;
    assert_eq!(state, link.state);
    (redirect_uri, code, link.code_verifier)
}

#[tokio::test]
async fn links_carry_pkce_and_a_fresh_state() {
    let (_sandbox, connector) = setup().await;
    let request = link_request("http://127.0.0.1:8765/callback");
    let one = connector.authorization_link(&request).await.unwrap();
    let two = connector.authorization_link(&request).await.unwrap();
    assert_ne!(
        one.code_verifier, two.code_verifier,
        "wasi:random gives a fresh verifier"
    );
    assert_ne!(one.state, two.state);
    assert!((43..=128).contains(&one.code_verifier.len()));
    assert!(
        one.code_verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    );
    assert!(
        URL_SAFE_NO_PAD.decode(&one.state).unwrap().len() >= 16,
        "at least 128 bits of state"
    );

    let pairs = query_of(&one.url);
    let get = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(one.code_verifier.as_bytes()));
    assert_eq!(get("code_challenge"), [challenge.as_str()]);
    assert_eq!(get("code_challenge_method"), ["S256"]);
    assert_eq!(get("response_type"), ["code"]);
    assert_eq!(get("client_id"), [APPLICATION_ID]);
    assert_eq!(get("scope"), ["identify guilds"]);
    assert_eq!(get("state"), [one.state.as_str()]);
    assert_eq!(get("prompt"), ["consent"]);
    assert!(!one.url.contains(&one.code_verifier));
    assert!(
        one.url
            .starts_with(&format!("{}?", _sandbox.authorize_url()))
    );

    let mut given = request.clone();
    given.state = Some("my-own-state".to_owned());
    given.extra = vec![("guild_id".to_owned(), "613425648685547541".to_owned())];
    let link = connector.authorization_link(&given).await.unwrap();
    assert_eq!(link.state, "my-own-state");
    assert!(link.url.contains("&guild_id=613425648685547541"));
}

#[tokio::test]
async fn bad_link_requests_are_refused() {
    let (_sandbox, connector) = setup().await;
    let base = link_request("http://127.0.0.1:8765/callback");
    let cases: Vec<(LinkRequest, &str)> = vec![
        (
            LinkRequest {
                client_id: String::new(),
                ..base.clone()
            },
            "client_id",
        ),
        (
            LinkRequest {
                redirect_uri: "/callback".into(),
                ..base.clone()
            },
            "redirect_uri",
        ),
        (
            LinkRequest {
                redirect_uri: "http://example.com/callback".into(),
                ..base.clone()
            },
            "plain http",
        ),
        (
            LinkRequest {
                scopes: Vec::new(),
                ..base.clone()
            },
            "scopes may not be empty",
        ),
        (
            LinkRequest {
                scopes: vec!["identify".into(), "admin".into()],
                ..base.clone()
            },
            "\"admin\"",
        ),
        (
            LinkRequest {
                prompt: Some("login".into()),
                ..base.clone()
            },
            "prompt",
        ),
        (
            LinkRequest {
                extra: vec![("redirect_uri".into(), "x".into())],
                ..base.clone()
            },
            "\"redirect_uri\"",
        ),
        (
            LinkRequest {
                extra: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
                ..base.clone()
            },
            "\"a\"",
        ),
    ];
    for (request, expected) in cases {
        let error = connector
            .authorization_link(&request)
            .await
            .map_err(component_error)
            .unwrap_err();
        assert_kind(&error, ErrorKind::InvalidArguments);
        assert!(
            error.message.contains(expected),
            "{expected}: {}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_code_exchanges_once_for_tokens_the_api_honours() {
    let (sandbox, connector) = setup().await;
    let (redirect_uri, code, verifier) = approved_code(&connector).await;
    let token = connector
        .exchange_code(&confidential(), &code, &redirect_uri, &verifier)
        .await
        .unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.scopes, ["identify", "guilds"]);
    assert!(token.expires_in_seconds > 0 && token.refresh_token.is_some());

    let sent = sandbox
        .requests()
        .into_iter()
        .find(|r| r.path_and_query.ends_with("/oauth2/token"))
        .unwrap();
    assert!(
        sent.header("authorization").unwrap().starts_with("Basic "),
        "a confidential client uses Basic"
    );
    assert_eq!(
        sent.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = String::from_utf8(sent.body).unwrap();
    assert!(
        form.contains("code_verifier=")
            && form.contains("redirect_uri=")
            && !form.contains("client_secret")
    );

    let access = Credential::Bearer(token.access_token.clone());
    let me = connector
        .execute_tool("discord_get_my_user", "{}", &access)
        .await
        .unwrap();
    assert!(matches!(me, Output::Json(json) if json.contains("\"nelly\"")));
    let scoped = connector
        .execute_tool("discord_retrieve_user_connections", "{}", &access)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&scoped, ErrorKind::Forbidden);

    let reused = connector
        .exchange_code(&confidential(), &code, &redirect_uri, &verifier)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_eq!(reused.status, Some(400));
    assert!(
        reused.message.contains("invalid_grant"),
        "{}",
        reused.message
    );
    assert!(!reused.message.contains(&code) && !reused.message.contains(&verifier));
    let after_reuse = connector
        .execute_tool("discord_get_my_user", "{}", &access)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&after_reuse, ErrorKind::Unauthorized);
}

#[tokio::test]
async fn a_wrong_verifier_redirect_or_secret_is_refused() {
    let (_sandbox, connector) = setup().await;
    let (redirect_uri, code, verifier) = approved_code(&connector).await;
    let wrong_verifier = "w".repeat(43);
    let error = connector
        .exchange_code(&confidential(), &code, &redirect_uri, &wrong_verifier)
        .await
        .unwrap_err();
    assert_eq!(error.detail("error").as_deref(), Some("invalid_grant"));
    let error = component_error(error);
    assert_kind(&error, ErrorKind::Unauthorized);
    assert!(error.message.contains("invalid_grant"), "{}", error.message);
    assert!(!error.message.contains(&code));

    let error = connector
        .exchange_code(
            &confidential(),
            &code,
            "http://127.0.0.1:1/other",
            &verifier,
        )
        .await
        .map_err(component_error)
        .unwrap_err();
    assert!(error.message.contains("invalid_grant"), "{}", error.message);

    let wrong_secret = Client {
        client_secret: Some("not-the-secret".to_owned()),
        ..confidential()
    };
    let error = connector
        .exchange_code(&wrong_secret, &code, &redirect_uri, &verifier)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&error, ErrorKind::Unauthorized);
    assert!(
        error.message.contains("invalid_client"),
        "{}",
        error.message
    );
    assert!(!error.message.contains("not-the-secret"));

    let bad_verifier = connector
        .exchange_code(&confidential(), &code, &redirect_uri, "short")
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&bad_verifier, ErrorKind::InvalidArguments);
}

#[tokio::test]
async fn a_public_client_relies_on_pkce_alone() {
    let (sandbox, connector) = setup().await;
    let (redirect_uri, code, verifier) = approved_code(&connector).await;
    let token = connector
        .exchange_code(&public(), &code, &redirect_uri, &verifier)
        .await
        .unwrap();
    assert!(!token.access_token.is_empty());
    let sent = sandbox
        .requests()
        .into_iter()
        .find(|r| r.path_and_query.ends_with("/oauth2/token"))
        .unwrap();
    assert_eq!(sent.header("authorization"), None);
    assert!(
        String::from_utf8(sent.body)
            .unwrap()
            .contains(&format!("client_id={APPLICATION_ID}"))
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_work_once() {
    let (_sandbox, connector) = setup().await;
    let (redirect_uri, code, verifier) = approved_code(&connector).await;
    let first = connector
        .exchange_code(&confidential(), &code, &redirect_uri, &verifier)
        .await
        .unwrap();
    let old_refresh = first.refresh_token.unwrap();
    let second = connector
        .refresh_token(&confidential(), &old_refresh)
        .await
        .unwrap();
    let new_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_ne!(second.access_token, first.access_token);

    let reused = connector
        .refresh_token(&confidential(), &old_refresh)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert!(
        reused.message.contains("invalid_grant"),
        "{}",
        reused.message
    );
    assert!(!reused.message.contains(&old_refresh));
    connector
        .refresh_token(&confidential(), &new_refresh)
        .await
        .unwrap();
}

#[tokio::test]
async fn revoking_ends_the_grant() {
    let (_sandbox, connector) = setup().await;
    let (redirect_uri, code, verifier) = approved_code(&connector).await;
    let token = connector
        .exchange_code(&confidential(), &code, &redirect_uri, &verifier)
        .await
        .unwrap();
    connector
        .revoke_token(&confidential(), &token.access_token)
        .await
        .unwrap();
    let access = Credential::Bearer(token.access_token.clone());
    let error = connector
        .execute_tool("discord_get_my_user", "{}", &access)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&error, ErrorKind::Unauthorized);
    let error = connector
        .refresh_token(&confidential(), &token.refresh_token.unwrap())
        .await
        .map_err(component_error)
        .unwrap_err();
    assert!(error.message.contains("invalid_grant"));
}

/// An authorizer over `connector` keeping tokens in memory.
fn authorizer(connector: &Connector, margin: Duration) -> Authorizer {
    let clients =
        ClientRegistry::default().with("discord", &confidential(), &["identify", "guilds"]);
    Authorizer::new(
        connector.clone(),
        Arc::new(TokenStore::in_memory().unwrap()),
        clients,
    )
    .with_refresh_margin(margin)
}

#[tokio::test]
async fn a_mismatched_state_exchanges_nothing() {
    let (sandbox, connector) = setup().await;
    let authorizer = authorizer(&connector, Duration::ZERO);
    let listener = CallbackListener::bind(0).await.unwrap();
    let pending = authorizer
        .link("discord", &listener.redirect_uri().unwrap(), &[])
        .await
        .unwrap();
    let (code, _state) = approve(&pending.url, listener).await;
    let error = authorizer
        .complete(&pending, "mallory", &code, "forged-state")
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), discord_accounts::ErrorKind::StateMismatch),
        "{error}"
    );
    assert_eq!(sandbox.token_requests("authorization_code"), 0);
    assert!(
        authorizer
            .store()
            .get(&ConnectionKey::new("discord", "mallory"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let (sandbox, connector) = setup().await;
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let authorizer = authorizer(&connector, Duration::from_secs(120));
    let stored = connect(&authorizer, "ada").await;
    let key = ConnectionKey::new("discord", "ada");
    let result = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await;
    assert!(result.is_ok());
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "expiring within the margin: refreshed first"
    );
    let fresh = authorizer.store().get(&key).await.unwrap().unwrap();
    assert_ne!(fresh.access_token, stored.access_token);
    assert_ne!(fresh.refresh_token, stored.refresh_token);
}

#[tokio::test]
async fn thirty_two_concurrent_calls_share_one_refresh() {
    let (sandbox, connector) = setup().await;
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let authorizer = Arc::new(authorizer(&connector, Duration::from_secs(120)));
    connect(&authorizer, "grace").await;
    let key = ConnectionKey::new("discord", "grace");
    let calls = (0..32).map(|_| {
        let authorizer = Arc::clone(&authorizer);
        let key = key.clone();
        tokio::spawn(async move {
            authorizer
                .execute_tool(&key, "discord_get_my_user", "{}")
                .await
        })
    });
    let results = futures_util::future::join_all(calls).await;
    for result in results {
        let output = result.unwrap().expect("the call succeeds");
        assert!(matches!(output, Output::Json(_)));
    }
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "exactly one refresh reached Discord"
    );
    assert_eq!(
        authorizer.refresh_locks(),
        0,
        "idle refresh locks are dropped"
    );
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries() {
    let (sandbox, connector) = setup().await;
    let authorizer = authorizer(&connector, Duration::ZERO);
    let stored = connect(&authorizer, "linus").await;
    let key = ConnectionKey::new("discord", "linus");
    let stale = StoredToken {
        access_token: "sbx-at.no-longer-valid".to_owned(),
        ..stored
    };
    authorizer.store().put(&key, &stale).await.unwrap();
    let result = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await;
    assert!(result.is_ok(), "{:?}", result.err().map(|e| e.to_string()));
    assert_eq!(sandbox.token_requests("refresh_token"), 1);
}

#[tokio::test]
async fn a_failed_refresh_asks_for_reauthorization() {
    let (sandbox, connector) = setup().await;
    let authorizer = authorizer(&connector, Duration::ZERO);
    let key = ConnectionKey::new("discord", "margaret");
    let dead = StoredToken {
        access_token: "sbx-at.expired".to_owned(),
        refresh_token: Some("sbx-rt.already-used".to_owned()),
        scopes: vec!["identify".to_owned()],
        expires_at: SystemTime::now() - Duration::from_secs(1),
        needs_reauthorization: false,
    };
    authorizer.store().put(&key, &dead).await.unwrap();
    let error = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            discord_accounts::ErrorKind::NeedsReauthorization { .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("re-authorization"), "{error}");
    assert!(!error.to_string().contains("already-used"), "{error}");
    assert!(
        authorizer
            .store()
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .needs_reauthorization
    );

    let sent = sandbox.requests().len();
    let again = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await
        .unwrap_err();
    assert!(matches!(
        again.kind(),
        discord_accounts::ErrorKind::NeedsReauthorization { .. }
    ));
    assert_eq!(
        sandbox.requests().len(),
        sent,
        "a dead connection sends nothing"
    );
}

#[tokio::test]
async fn revoking_a_connection_forgets_it() {
    let (_sandbox, connector) = setup().await;
    let authorizer = authorizer(&connector, Duration::ZERO);
    let stored = connect(&authorizer, "barbara").await;
    let key = ConnectionKey::new("discord", "barbara");
    authorizer.revoke(&key).await.unwrap();
    assert!(authorizer.store().get(&key).await.unwrap().is_none());
    let error = connector
        .execute_tool(
            "discord_get_my_user",
            "{}",
            &Credential::Bearer(stored.access_token),
        )
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_kind(&error, ErrorKind::Unauthorized);
    let error = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await
        .unwrap_err();
    assert!(matches!(
        error.kind(),
        discord_accounts::ErrorKind::NotConnected { .. }
    ));
}

#[tokio::test]
async fn the_store_file_is_private_and_tokens_stay_out_of_debug() {
    let path =
        std::env::temp_dir().join(format!("discord-host-store-{}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store = TokenStore::open(&path).unwrap();
    let token = StoredToken {
        access_token: "secret-access".to_owned(),
        refresh_token: Some("secret-refresh".to_owned()),
        scopes: vec!["identify".to_owned()],
        expires_at: SystemTime::now(),
        needs_reauthorization: false,
    };
    let key = ConnectionKey::new("discord", "u");
    store.put(&key, &token).await.unwrap();
    drop(store);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let reopened = TokenStore::open(&path).unwrap();
    let listed = reopened.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, key);
    assert_eq!(listed[0].1.access_token, "secret-access");
    assert_eq!(
        reopened
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .as_deref(),
        Some("secret-refresh")
    );
    let shown = format!("{token:?}");
    assert!(
        !shown.contains("secret-access") && !shown.contains("secret-refresh"),
        "{shown}"
    );
    let _ = std::fs::remove_file(&path);
}
