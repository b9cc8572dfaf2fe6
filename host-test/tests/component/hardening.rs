//! Defects found by an adversarial review, each reproduced through the real
//! component and host: processes sharing a token store, revokes racing
//! refreshes, a busy store, hostile token answers, hostile redirect
//! clients, hostile upstream answers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use discord_accounts::{Authorizer, CallbackListener, ClientRegistry, ConnectionKey, TokenStore};
use discord_host::limiter::{DiscordLimiter, LimiterPolicy};
use discord_host::{ComponentErrorKind, Connector, Credential, ErrorKind, ProxyRequest};
use discord_sandbox::Fault;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{compiled, component_error};
use host_test::oauth::{confidential, connect};

use crate::oauth::setup;

/// A store file of its own for one test, removed when dropped.
struct StoreFile(PathBuf);

impl StoreFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "discord-hardening-{name}-{}.sqlite3",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    /// An authorizer on this file, as another process would have it: its
    /// own SQLite connection, its own locks.
    fn process(&self, connector: &Connector, margin: Duration) -> Authorizer {
        let clients =
            ClientRegistry::default().with("discord", &confidential(), &["identify", "guilds"]);
        let store = TokenStore::open(&self.0).expect("the store opens");
        Authorizer::new(connector.clone(), Arc::new(store), clients).with_refresh_margin(margin)
    }
}

impl Drop for StoreFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn two_processes_refreshing_one_connection_make_one_refresh() {
    let (sandbox, connector) = setup().await;
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let file = StoreFile::new("two-processes");
    let first = file.process(&connector, Duration::from_secs(120));
    let second = file.process(&connector, Duration::from_secs(120));
    connect(&first, "ada").await;
    sandbox.set_token_answer_delay(Duration::from_millis(300));
    let key = ConnectionKey::new("discord", "ada");
    let (one, two) = tokio::join!(
        first.execute_tool(&key, "discord_get_my_user", "{}"),
        second.execute_tool(&key, "discord_get_my_user", "{}"),
    );
    assert!(one.is_ok(), "{:?}", one.err().map(|e| e.to_string()));
    assert!(two.is_ok(), "{:?}", two.err().map(|e| e.to_string()));
    assert_eq!(sandbox.token_requests("refresh_token"), 1);
    let row = first.store().get(&key).await.unwrap().unwrap();
    assert!(!row.needs_reauthorization, "fresh tokens are not marked");
}

#[tokio::test]
async fn a_revoke_during_a_refresh_stays_revoked() {
    let (sandbox, connector) = setup().await;
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let file = StoreFile::new("revoke-race");
    let refresher = file.process(&connector, Duration::from_secs(120));
    let revoker = file.process(&connector, Duration::from_secs(120));
    connect(&refresher, "grace").await;
    sandbox.set_token_answer_delay(Duration::from_millis(500));
    let key = ConnectionKey::new("discord", "grace");
    let refresh = refresher.access_token(&key);
    let revoke = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        revoker.revoke(&key).await
    };
    let (fresh, revoked) = tokio::join!(refresh, revoke);
    revoked.expect("the revoke succeeds");
    assert!(
        revoker.store().get(&key).await.unwrap().is_none(),
        "the refresh in flight did not bring the tokens back"
    );
    if let Ok(fresh) = fresh {
        let error = connector
            .execute_tool("discord_get_my_user", "{}", &Credential::Bearer(fresh))
            .await
            .map_err(component_error)
            .unwrap_err();
        assert_eq!(
            error.kind,
            ComponentErrorKind::Unauthorized,
            "the new pair was revoked too"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_pair_survives_a_busy_store() {
    let (sandbox, connector) = setup().await;
    sandbox.set_token_lifetime(Duration::from_secs(60));
    let file = StoreFile::new("busy");
    let authorizer = file.process(&connector, Duration::from_secs(120));
    authorizer
        .store()
        .set_busy_timeout(Duration::from_millis(50))
        .unwrap();
    let stored = connect(&authorizer, "linus").await;
    // The refreshed pair lives long enough that the next call uses it.
    sandbox.set_token_lifetime(Duration::from_secs(3600));
    sandbox.set_token_answer_delay(Duration::from_millis(400));
    let key = ConnectionKey::new("discord", "linus");

    // Another process takes the file's write lock once the refresh has
    // reached Discord (whose answer is held back), and keeps it past the
    // answer.
    let path = file.0.clone();
    let (lock_tx, lock_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let blocker = std::thread::spawn(move || {
        lock_rx.recv().unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let _ = locked_tx.send(());
        let _ = release_rx.blocking_recv();
        other.execute_batch("COMMIT").unwrap();
    });
    let call = authorizer.execute_tool(&key, "discord_get_my_user", "{}");
    let lock_when_sent = async {
        while sandbox.token_requests("refresh_token") == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lock_tx.send(()).unwrap();
        locked_rx.await.unwrap();
    };
    let (result, ()) = tokio::join!(call, lock_when_sent);
    assert!(result.is_ok(), "{:?}", result.err().map(|e| e.to_string()));
    release_tx.send(()).unwrap();
    blocker.join().unwrap();

    let again = authorizer
        .execute_tool(&key, "discord_get_my_user", "{}")
        .await;
    assert!(again.is_ok(), "{:?}", again.err().map(|e| e.to_string()));
    assert_eq!(
        sandbox.token_requests("refresh_token"),
        1,
        "no refresh with a spent token"
    );
    let row = authorizer.store().get(&key).await.unwrap().unwrap();
    assert_ne!(
        row.refresh_token, stored.refresh_token,
        "the rotated pair reached the store"
    );
    assert!(!row.needs_reauthorization);
}

#[tokio::test]
async fn a_huge_expires_in_is_clamped_not_a_panic() {
    let (sandbox, connector) = setup().await;
    let file = StoreFile::new("expires");
    let authorizer = file.process(&connector, Duration::ZERO);
    let listener = CallbackListener::bind(0).await.unwrap();
    let pending = authorizer
        .link("discord", &listener.redirect_uri().unwrap(), &[])
        .await
        .unwrap();
    let (code, state) = host_test::oauth::approve(&pending.url, listener).await;
    sandbox.inject(
        Fault::json(
            200,
            serde_json::json!({
                "access_token": "sbx-at.forever",
                "token_type": "Bearer",
                "expires_in": u64::MAX,
                "refresh_token": "sbx-rt.forever",
                "scope": "identify",
            }),
        )
        .on("/oauth2/token"),
    );
    let stored = authorizer
        .complete(&pending, "ada", &code, &state)
        .await
        .expect("a stored token, not a panic");
    let lifetime = stored
        .expires_at
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(
        lifetime <= Duration::from_secs(366 * 24 * 3600),
        "{lifetime:?}"
    );
}

/// Starts a browser-like GET of `path_and_query` on `address` that sends its
/// request line and never finishes the head.
async fn stalled_client(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /callback?code=stalled&state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    stream
}

async fn get(address: &str, path_and_query: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request =
        format!("GET {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer
}

#[tokio::test]
async fn the_redirect_listener_outlasts_stalled_and_forged_clients() {
    let listener = CallbackListener::bind(0).await.unwrap();
    let uri = listener.redirect_uri().unwrap();
    let address = uri
        .trim_start_matches("http://")
        .trim_end_matches("/callback")
        .to_owned();
    let waiting =
        tokio::spawn(async move { listener.wait("the-state", Duration::from_secs(10)).await });
    let _stalled = stalled_client(&address).await;
    let forged = get(&address, "/callback?code=evil&state=forged").await;
    assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
    let started = Instant::now();
    let real = get(&address, "/callback?code=the-code&state=the-state").await;
    assert!(real.starts_with("HTTP/1.1 200"), "{real}");
    let callback = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("the listener returns without waiting for the stalled client")
        .unwrap()
        .expect("the right redirect");
    assert_eq!(callback.code.as_deref(), Some("the-code"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A server that answers every request at once and never reads a body.
async fn answers_without_reading() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v10", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
                .await;
            open.push(stream);
        }
    });
    (base, server)
}

#[tokio::test]
async fn a_proxy_body_nobody_reads_ends_at_the_deadline_as_a_timeout() {
    let (base, server) = answers_without_reading().await;
    let connector = compiled()
        .clone()
        .with_env("DISCORD_API_BASE", base)
        .with_env("DISCORD_TIMEOUT_MS", "1500");
    let body = format!("{{\"blob\": \"{}\"}}", "x".repeat(10 << 20));
    let request = ProxyRequest {
        method: "POST".to_owned(),
        path: "/channels/1/messages".to_owned(),
        query: Vec::new(),
        body: Some(body),
    };
    let started = Instant::now();
    let outcome = connector.proxy_send(&request, &Credential::None).await;
    let elapsed = started.elapsed();
    server.abort();
    match outcome {
        Ok(response) => assert_eq!(response.status, 200, "an answer is fine too"),
        Err(error) => {
            assert!(
                !matches!(error.kind(), ErrorKind::Deadline { .. } | ErrorKind::Trap),
                "{error}"
            );
            assert_eq!(error.detail("class").as_deref(), Some("timeout"), "{error}");
        }
    }
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

#[tokio::test]
async fn a_huge_error_body_within_the_cap_is_a_typed_error() {
    let (sandbox, connector) = setup().await;
    let errors: Vec<serde_json::Value> = (0..180_000)
        .map(|n| serde_json::json!({"code": "BASE_TYPE_REQUIRED", "n": n}))
        .collect();
    let body = serde_json::json!({"code": 50035, "message": "Invalid Form Body", "errors": errors});
    assert!(body.to_string().len() < 8 << 20);
    sandbox.inject(Fault::json(400, body).on("/gateway"));
    let error = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_eq!(
        error.kind,
        ComponentErrorKind::Upstream,
        "{}",
        error.message
    );
    assert_eq!(error.code, Some(50035));
    assert!(error.details.unwrap().contains("truncated"));
}

#[tokio::test]
async fn a_body_cap_the_memory_cap_cannot_hold_is_refused() {
    let connector = compiled()
        .clone()
        .with_env("DISCORD_MAX_BODY_BYTES", (1u64 << 30).to_string());
    let error = connector.instance().await.err().expect("refused");
    assert!(matches!(error.kind(), ErrorKind::Setup), "{error}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("DISCORD_MAX_BODY_BYTES"), "{cause}");
}

#[tokio::test]
async fn a_refused_api_base_never_echoes_its_credentials() {
    let connector = compiled().clone().with_env(
        "DISCORD_API_BASE",
        "https://agent:hunter2@discord.com/api/v10",
    );
    let error = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_eq!(error.kind, ComponentErrorKind::Transport);
    assert!(!error.message.contains("hunter2"), "{}", error.message);
}

#[tokio::test]
async fn hostile_rate_limit_headers_neither_panic_nor_stall_the_egress_hook() {
    let (sandbox, connector) = setup().await;
    let connector = connector
        .with_env("DISCORD_TIMEOUT_MS", "1000")
        .with_limiter(Arc::new(DiscordLimiter::default()));
    sandbox.inject(
        Fault::json(200, serde_json::json!({"url": "wss://x"}))
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset-after", "1e300")
            .header("x-ratelimit-bucket", "hostile")
            .on("/gateway"),
    );
    let first = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await;
    assert!(first.is_ok(), "{:?}", first.err().map(|e| e.to_string()));
    let started = Instant::now();
    let error = connector
        .execute_tool("discord_get_gateway", "{}", &Credential::None)
        .await
        .map_err(component_error)
        .unwrap_err();
    assert_eq!(
        error.kind,
        ComponentErrorKind::RateLimited,
        "{}",
        error.message
    );
    assert!(
        error.message.contains("past its deadline"),
        "{}",
        error.message
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "refused at once"
    );
}

#[tokio::test]
async fn long_distinct_proxy_paths_and_tokens_leave_the_limiter_bounded() {
    let (_sandbox, connector) = setup().await;
    let policy = LimiterPolicy {
        max_credentials: 64,
        max_routes_per_credential: 16,
        ..LimiterPolicy::default()
    };
    let limiter = Arc::new(DiscordLimiter::new(policy));
    let connector = connector.with_limiter(limiter.clone());
    for n in 0..300 {
        let request = ProxyRequest {
            method: "GET".to_owned(),
            path: format!("/unknown/{n}-{}", "x".repeat(2_000)),
            query: Vec::new(),
            body: None,
        };
        let credential = Credential::Bot(format!("bot-token-{}", n % 100));
        connector.proxy_send(&request, &credential).await.unwrap();
    }
    let size = limiter.size();
    assert!(size.credentials <= 64, "{size:?}");
    assert!(size.routes <= 64 * 16, "{size:?}");
}
