//! The PostgreSQL token store against a real PostgreSQL server (started on
//! loopback by `discord-test-servers`; these tests say so loudly and pass
//! when the machine has none, and fail under `DISCORD_TEST_SERVERS=require`).
//! The role they connect as owns its database and is not a superuser.

#![cfg(feature = "postgres")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use discord_accounts::{ConnectionKey, Error, ErrorKind, StoredToken, TokenStore};
use discord_test_servers::{POSTGRES_PASSWORD, Postgres};

/// The error's whole text, as a user or a log would see it.
fn shown(error: &Error) -> String {
    let mut text = format!("{error} | {error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(" | ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Asserts `error` is a store error that repeats no secret.
fn assert_discreet(error: &Error, secrets: &[&str]) {
    eprintln!(
        "the error reads: {error}: {}",
        std::error::Error::source(error).map_or(String::new(), ToString::to_string)
    );
    assert!(matches!(error.kind(), ErrorKind::Store), "{}", shown(error));
    let text = shown(error);
    assert!(
        !text.contains(POSTGRES_PASSWORD),
        "the password leaked: {text}"
    );
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked: {text}");
    }
}

fn token(access: &str, refresh: &str) -> StoredToken {
    StoredToken {
        access_token: access.to_owned(),
        refresh_token: Some(refresh.to_owned()),
        scopes: vec!["identify".to_owned(), "guilds".to_owned()],
        // Whole seconds, so the value read back compares equal.
        expires_at: SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000),
        needs_reauthorization: false,
    }
}

fn key(identifier: &str) -> ConnectionKey {
    ConnectionKey::new("discord", identifier)
}

#[tokio::test]
async fn the_schema_is_created_on_first_connect_and_not_migrated_again() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    assert_eq!(
        store.describe(),
        format!(
            "postgres://discord_host@127.0.0.1:{}/discord_tokens",
            pg.port()
        )
    );
    assert!(!format!("{store:?}").contains(POSTGRES_PASSWORD));
    assert_eq!(
        pg.psql("SELECT version FROM discord_schema_versions"),
        "1",
        "the version is recorded"
    );
    assert_eq!(
        pg.psql(
            "SELECT string_agg(tablename || ':' || tableowner, ' ' ORDER BY tablename)
             FROM pg_tables WHERE schemaname = 'public'"
        ),
        "discord_refresh_leases:discord_host discord_schema_versions:discord_host discord_tokens:discord_host",
        "created by the role, not a superuser"
    );
    let applied = pg.psql("SELECT applied_at FROM discord_schema_versions");
    store
        .put(&key("ada"), &token("access-1", "refresh-1"))
        .await
        .unwrap();

    // Another replica starting later finds the schema as it is.
    let replica = TokenStore::connect(&pg.url()).await.unwrap();
    assert_eq!(
        pg.psql(
            "SELECT count(*) || ' ' || applied_at FROM discord_schema_versions GROUP BY applied_at"
        ),
        format!("1 {applied}"),
        "no migration ran again"
    );
    assert_eq!(
        replica
            .get(&key("ada"))
            .await
            .unwrap()
            .unwrap()
            .access_token,
        "access-1",
        "and the data is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.url();
    let connects: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { TokenStore::connect(&url).await })
        })
        .collect();
    for connect in connects {
        let store = connect
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("{}", shown(&error)));
        assert!(store.list().await.unwrap().is_empty());
    }
    assert_eq!(pg.psql("SELECT count(*) FROM discord_schema_versions"), "1");
}

#[tokio::test]
async fn a_schema_newer_than_the_build_is_refused() {
    let Some(pg) = Postgres::start() else { return };
    drop(TokenStore::connect(&pg.url()).await.unwrap());
    pg.psql("INSERT INTO discord_schema_versions (version) VALUES (99)");
    let error = TokenStore::connect(&pg.url()).await.unwrap_err();
    assert_discreet(&error, &[]);
    assert!(shown(&error).contains("version 99"), "{}", shown(&error));
}

#[tokio::test]
async fn tokens_are_put_read_listed_flagged_and_removed() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    assert!(store.get(&key("ada")).await.unwrap().is_none());
    let ada = token("access-ada", "refresh-ada");
    store.put(&key("ada"), &ada).await.unwrap();
    store
        .put(&key("Zed"), &token("access-zed", "refresh-zed"))
        .await
        .unwrap();
    store
        .put(
            &ConnectionKey::new("another", "bob"),
            &StoredToken {
                refresh_token: None,
                scopes: Vec::new(),
                ..token("access-bob", "")
            },
        )
        .await
        .unwrap();
    assert_eq!(store.get(&key("ada")).await.unwrap(), Some(ada.clone()));

    // put replaces.
    let replaced = token("access-ada-2", "refresh-ada-2");
    store.put(&key("ada"), &replaced).await.unwrap();
    assert_eq!(store.get(&key("ada")).await.unwrap(), Some(replaced));

    let listed: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(key, token)| format!("{key}={}", token.access_token))
        .collect();
    assert_eq!(
        listed,
        [
            "another/bob=access-bob",
            "discord/Zed=access-zed",
            "discord/ada=access-ada-2"
        ],
        "byte order, as SQLite lists them"
    );
    let bob = store
        .get(&ConnectionKey::new("another", "bob"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.refresh_token, None);
    assert!(bob.scopes.is_empty());

    store.mark_needs_reauthorization(&key("Zed")).await.unwrap();
    assert!(
        store
            .get(&key("Zed"))
            .await
            .unwrap()
            .unwrap()
            .needs_reauthorization
    );
    store.remove(&key("ada")).await.unwrap();
    assert!(store.get(&key("ada")).await.unwrap().is_none());
    assert_eq!(store.list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn replace_if_swaps_only_the_expected_refresh_token() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    let replica = TokenStore::connect(&pg.url()).await.unwrap();
    let original = token("access-1", "refresh-1");
    store.put(&key("ada"), &original).await.unwrap();
    let rotated = token("access-2", "refresh-2");

    assert!(
        !replica
            .replace_if(&key("ada"), "refresh-0", &rotated)
            .await
            .unwrap(),
        "a wrong old refresh token changes nothing"
    );
    assert_eq!(store.get(&key("ada")).await.unwrap(), Some(original));

    // A refused refresh flags the row only while it holds that token.
    assert!(
        !store
            .mark_needs_reauthorization_if(&key("ada"), "refresh-0")
            .await
            .unwrap()
    );
    assert!(
        store
            .mark_needs_reauthorization_if(&key("ada"), "refresh-1")
            .await
            .unwrap()
    );

    // The swap also clears the flag: the fresh pair works.
    assert!(
        replica
            .replace_if(&key("ada"), "refresh-1", &rotated)
            .await
            .unwrap()
    );
    assert_eq!(store.get(&key("ada")).await.unwrap(), Some(rotated.clone()));
    assert!(
        !store
            .replace_if(&key("ada"), "refresh-1", &token("access-3", "refresh-3"))
            .await
            .unwrap(),
        "the spent token swaps nothing twice"
    );

    // A revoked row is not brought back by a refresh that ends later.
    store.remove(&key("ada")).await.unwrap();
    assert!(
        !replica
            .replace_if(&key("ada"), "refresh-2", &token("access-4", "refresh-4"))
            .await
            .unwrap()
    );
    assert!(store.get(&key("ada")).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_swaps_of_one_token_let_exactly_one_win() {
    let Some(pg) = Postgres::start() else { return };
    let store = std::sync::Arc::new(TokenStore::connect(&pg.url()).await.unwrap());
    store
        .put(&key("ada"), &token("access-0", "refresh-0"))
        .await
        .unwrap();
    let swaps: Vec<_> = (1..=16)
        .map(|n| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .replace_if(
                        &key("ada"),
                        "refresh-0",
                        &token(&format!("access-{n}"), &format!("refresh-{n}")),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for swap in swaps {
        winners += usize::from(swap.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn a_lease_has_one_holder_until_released_or_expired() {
    let Some(pg) = Postgres::start() else { return };
    let first = TokenStore::connect(&pg.url()).await.unwrap();
    let second = TokenStore::connect(&pg.url()).await.unwrap();
    let ada = key("ada");
    let long = Duration::from_secs(60);

    assert!(first.try_lease(&ada, "replica-1", long).await.unwrap());
    assert!(
        !second.try_lease(&ada, "replica-2", long).await.unwrap(),
        "held by another replica"
    );
    assert!(
        first.try_lease(&ada, "replica-1", long).await.unwrap(),
        "the same holder takes it again"
    );
    assert!(
        second
            .try_lease(&key("bob"), "replica-2", long)
            .await
            .unwrap(),
        "leases are per key"
    );
    second.release_lease(&ada, "replica-2").await.unwrap();
    assert!(
        !second.try_lease(&ada, "replica-2", long).await.unwrap(),
        "another holder's release does not free it"
    );
    first.release_lease(&ada, "replica-1").await.unwrap();
    assert!(second.try_lease(&ada, "replica-2", long).await.unwrap());

    // A holder that dies keeps the lease only until it expires.
    let short = Duration::from_millis(300);
    assert!(
        first
            .try_lease(&key("cy"), "dead-replica", short)
            .await
            .unwrap()
    );
    assert!(
        !second
            .try_lease(&key("cy"), "replica-2", long)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        second
            .try_lease(&key("cy"), "replica-2", long)
            .await
            .unwrap(),
        "expired"
    );
}

#[tokio::test]
async fn lease_expiry_follows_the_database_clock() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    let ada = key("ada");
    assert!(
        store
            .try_lease(&ada, "replica-1", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(
        pg.psql(
            "SELECT expires_at BETWEEN now() + interval '29 seconds' AND now() + interval '31 seconds'
             FROM discord_refresh_leases"
        ),
        "t",
        "the expiry is the database's now() plus the lifetime"
    );
    // Moved into the past on the database's clock: free, whatever the
    // replicas' clocks say.
    pg.psql("UPDATE discord_refresh_leases SET expires_at = now() - interval '1 second'");
    assert!(
        store
            .try_lease(&ada, "replica-2", Duration::from_secs(30))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn tls_is_used_when_the_url_asks_for_it() {
    let Some(pg) = Postgres::start_with_tls() else {
        return;
    };
    let store = TokenStore::connect(&format!("{}?sslmode=require", pg.url()))
        .await
        .unwrap_or_else(|error| panic!("{}", shown(&error)));
    assert!(store.describe().ends_with("?sslmode=require"));
    store
        .put(&key("ada"), &token("access-1", "refresh-1"))
        .await
        .unwrap();
    assert_eq!(
        pg.psql(
            "SELECT bool_and(s.ssl) AND count(*) > 0 FROM pg_stat_ssl s
             JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'discord_host'"
        ),
        "t",
        "every connection of the role is encrypted"
    );

    // Without sslmode the same server is reached in the clear.
    let plain = TokenStore::connect(&pg.url()).await.unwrap();
    assert!(plain.get(&key("ada")).await.unwrap().is_some());

    // verify-full checks the self-signed certificate against the public
    // roots, and refuses it.
    let error = TokenStore::connect(&format!("{}?sslmode=verify-full", pg.url()))
        .await
        .unwrap_err();
    assert_discreet(&error, &[]);
    assert!(shown(&error).contains("certificate"), "{}", shown(&error));
}

#[tokio::test]
async fn plain_connections_work_and_tls_is_refused_by_a_server_without_it() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&format!("{}?sslmode=disable", pg.url()))
        .await
        .unwrap();
    assert!(store.list().await.unwrap().is_empty());
    let error = TokenStore::connect(&format!("{}?sslmode=require", pg.url()))
        .await
        .unwrap_err();
    assert_discreet(&error, &[]);
}

#[tokio::test]
async fn a_wrong_password_or_a_stopped_server_shows_neither_password_nor_token() {
    let Some(pg) = Postgres::start() else { return };
    let wrong = pg.url().replace(POSTGRES_PASSWORD, "wrong-Pa55word-x9");
    let error = TokenStore::connect(&wrong).await.unwrap_err();
    assert_discreet(&error, &["wrong-Pa55word-x9"]);
    assert!(
        shown(&error).contains("password authentication failed"),
        "{}",
        shown(&error)
    );

    let store = TokenStore::connect(&pg.url()).await.unwrap();
    let secret = token("access-Secret-1", "refresh-Secret-1");
    store.put(&key("ada"), &secret).await.unwrap();
    pg.stop();
    let fresh = token("access-Secret-2", "refresh-Secret-2");
    let failures = [
        store.put(&key("ada"), &fresh).await.unwrap_err(),
        store
            .replace_if(&key("ada"), "refresh-Secret-1", &fresh)
            .await
            .unwrap_err(),
        store.get(&key("ada")).await.unwrap_err(),
        store
            .try_lease(&key("ada"), "replica-1", Duration::from_secs(5))
            .await
            .unwrap_err(),
    ];
    for error in &failures {
        assert_discreet(error, &["Secret"]);
        assert!(
            shown(error).contains(&store.describe()),
            "names the database: {}",
            shown(error)
        );
    }
    let error = TokenStore::connect(&pg.url()).await.unwrap_err();
    assert_discreet(&error, &[]);
}

#[tokio::test]
async fn the_pool_recovers_when_the_database_comes_back() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    store
        .put(&key("ada"), &token("access-1", "refresh-1"))
        .await
        .unwrap();
    pg.stop();
    let started = Instant::now();
    assert!(store.get(&key("ada")).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "a stopped server fails fast: {:?}",
        started.elapsed()
    );
    pg.start_again();
    assert_eq!(
        store
            .get(&key("ada"))
            .await
            .unwrap_or_else(|error| panic!("{}", shown(&error)))
            .unwrap()
            .access_token,
        "access-1"
    );
    assert!(
        store
            .replace_if(&key("ada"), "refresh-1", &token("access-2", "refresh-2"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_fails_in_bounded_time_and_changes_nothing() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    store
        .put(&key("ada"), &token("access-Secret-1", "refresh-Secret-1"))
        .await
        .unwrap();
    // Another session holds the row's lock for 13 s.
    let mut holder = Command::new("psql")
        .arg(pg.url())
        .args([
            "-q",
            "-c",
            "BEGIN; SELECT 1 FROM discord_tokens FOR UPDATE; SELECT pg_sleep(13); COMMIT;",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    let started = Instant::now();
    while pg.psql(
        "SELECT count(*) FROM pg_stat_activity
         WHERE query LIKE '%pg_sleep(13)%' AND pid <> pg_backend_pid()",
    ) != "1"
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no lock taken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let error = store
        .replace_if(
            &key("ada"),
            "refresh-Secret-1",
            &token("access-Secret-2", "refresh-Secret-2"),
        )
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert_discreet(&error, &["Secret"]);
    assert!(
        shown(&error).contains("statement timeout"),
        "{}",
        shown(&error)
    );
    assert!(
        (Duration::from_secs(9)..Duration::from_secs(12)).contains(&waited),
        "{waited:?}"
    );
    assert!(holder.wait().unwrap().success());
    assert_eq!(
        store.get(&key("ada")).await.unwrap().unwrap().access_token,
        "access-Secret-1",
        "the cancelled swap changed nothing"
    );
}

/// A refresh's share of the store, 200 times over one account: each takes
/// the lease, swaps the pair the one before wrote, and gives the lease
/// back. It prints what that costs on loopback, for the notes; the figure
/// is not held to anything here (speed is for benchmarks).
#[tokio::test]
async fn refreshes_in_a_row_each_take_the_lease_and_swap_the_last_pair() {
    let Some(pg) = Postgres::start() else { return };
    let store = TokenStore::connect(&pg.url()).await.unwrap();
    let ada = key("ada");
    store
        .put(&ada, &token("access-0", "refresh-0"))
        .await
        .unwrap();
    const ROUNDS: u32 = 200;
    let started = Instant::now();
    for n in 0..ROUNDS {
        assert!(
            store
                .try_lease(&ada, "replica-1", Duration::from_secs(60))
                .await
                .unwrap()
        );
        let fresh = token(&format!("access-{}", n + 1), &format!("refresh-{}", n + 1));
        assert!(
            store
                .replace_if(&ada, &format!("refresh-{n}"), &fresh)
                .await
                .unwrap()
        );
        store.release_lease(&ada, "replica-1").await.unwrap();
    }
    let each = started.elapsed() / ROUNDS;
    eprintln!(
        "try_lease + replace_if + release_lease on loopback PostgreSQL: {each:?} per refresh ({ROUNDS} rounds)"
    );
    let last = store.get(&ada).await.unwrap().expect("connected");
    assert_eq!(last.refresh_token.as_deref(), Some("refresh-200"));
}

fn openssl(dir: &Path, arguments: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(arguments)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA named `ca` (`ca.crt`, `ca.key`) in `dir`.
fn make_ca(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-days",
            "2",
            "-subj",
            &format!("/CN={ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
        ],
    );
}

/// A server certificate `server.crt` (key `server.key`) in `dir`, signed
/// by the CA `ca`, for the names in `san` (`DNS:…`, `IP:…`).
fn make_server_certificate(dir: &Path, ca: &str, san: &str) {
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-subj",
            "/CN=db",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("ext"),
        format!(
            "subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext",
            "-out",
            "server.crt",
        ],
    );
}

/// Gives the server `dir`'s certificate and key, and reloads its
/// configuration (new connections use them).
async fn install_server_certificate(pg: &Postgres, dir: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let data = PathBuf::from(pg.psql("SHOW data_directory"));
    let owner = std::fs::metadata(&data).unwrap();
    for file in ["server.crt", "server.key"] {
        std::fs::copy(dir.join(file), data.join(file)).unwrap();
        std::os::unix::fs::chown(data.join(file), Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    std::fs::set_permissions(
        data.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    pg.psql("SELECT pg_reload_conf()");
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_private_root_file_verifies_the_server_certificate() {
    let Some(pg) = Postgres::start_with_tls() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("discord-accounts-ca-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    make_ca(&dir, "ca");
    make_ca(&dir, "other-ca");
    let with = |mode: &str, ca: &str| {
        format!(
            "{}?sslmode={mode}&sslrootcert={}",
            pg.url(),
            dir.join(format!("{ca}.crt")).display()
        )
    };

    // A certificate for another name than the one connected to.
    make_server_certificate(&dir, "ca", "DNS:db.internal");
    install_server_certificate(&pg, &dir).await;
    for accepted in [with("verify-ca", "ca"), with("require", "ca")] {
        let store = TokenStore::connect(&accepted)
            .await
            .unwrap_or_else(|error| panic!("{accepted}: {}", shown(&error)));
        assert!(store.list().await.unwrap().is_empty());
    }
    for refused in [with("verify-full", "ca"), with("verify-ca", "other-ca")] {
        let error = TokenStore::connect(&refused).await.unwrap_err();
        assert_discreet(&error, &[]);
        assert!(shown(&error).contains("certificate"), "{}", shown(&error));
    }

    // A certificate for 127.0.0.1: verify-full takes it.
    make_server_certificate(&dir, "ca", "IP:127.0.0.1,DNS:localhost");
    install_server_certificate(&pg, &dir).await;
    let store = TokenStore::connect(&with("verify-full", "ca"))
        .await
        .unwrap_or_else(|error| panic!("{}", shown(&error)));
    store
        .put(&key("ada"), &token("access-1", "refresh-1"))
        .await
        .unwrap();
    let error = TokenStore::connect(&with("verify-full", "other-ca"))
        .await
        .unwrap_err();
    assert_discreet(&error, &[]);
    let _ = std::fs::remove_dir_all(&dir);
}
