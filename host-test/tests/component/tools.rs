//! Every tool, end to end: the request the sandbox received and the
//! output the component returned.

use discord_host::{Credential, Output};
use discord_sandbox::tokens::{BOT_TOKEN, USER_TOKEN};
use host_test::demo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{expected_authorization, json_of, setup, user};

/// What each demo call must send: path and query under the API base.
const EXPECTED_PATHS: [(&str, &str); 16] = [
    (
        "discord_get_current_user_application_entitlements",
        "/users/@me/applications/1178765261640953856/entitlements?exclude_ended=true&limit=10",
    ),
    ("discord_get_gateway", "/gateway"),
    (
        "discord_get_guild_template",
        "/guilds/templates/hgM48av5Q69A",
    ),
    (
        "discord_get_guild_widget",
        "/guilds/613425648685547541/widget.json",
    ),
    (
        "discord_get_guild_widget_png",
        "/guilds/613425648685547541/widget.png?style=banner2",
    ),
    (
        "discord_get_invite_deprecated",
        "/invites/discord-developers?with_counts=true",
    ),
    (
        "discord_get_my_guild_member",
        "/users/@me/guilds/613425648685547541/member",
    ),
    ("discord_get_my_oauth2_authorization", "/oauth2/@me"),
    ("discord_get_my_user", "/users/@me"),
    ("discord_get_openid_connect_userinfo", "/oauth2/userinfo"),
    ("discord_get_public_keys", "/oauth2/keys"),
    ("discord_get_user", "/users/41771983423143937"),
    (
        "discord_list_my_guilds",
        "/users/@me/guilds?limit=3&with_counts=true",
    ),
    ("discord_list_sticker_packs", "/sticker-packs"),
    (
        "discord_resolve_invite",
        "/invites/wasm-workshop?guild_scheduled_event_id=1200000000000000001&with_counts=true",
    ),
    (
        "discord_retrieve_user_connections",
        "/users/@me/connections",
    ),
];

#[tokio::test]
async fn every_tool_sends_its_request_and_returns_discords_answer() {
    let (sandbox, connector) = setup().await;
    let outcomes = demo::run(&connector).await;
    assert_eq!(outcomes.len(), 16);
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 16, "one request per tool");
    for ((outcome, request), (tool, path)) in outcomes.iter().zip(&requests).zip(EXPECTED_PATHS) {
        assert_eq!(outcome.call.tool, tool);
        assert!(outcome.result.is_ok(), "{tool}: {:?}", outcome.result);
        assert_eq!(request.method, "GET", "{tool}");
        assert_eq!(request.path_and_query, format!("/api/v10{path}"), "{tool}");
        let expected_authorization = expected_authorization(&outcome.call.credential);
        assert_eq!(
            request.header("authorization").map(str::to_owned),
            expected_authorization,
            "{tool}"
        );
        let agent = request.header("user-agent").unwrap_or_default();
        assert!(
            agent.starts_with("DiscordBot (https://")
                && agent.ends_with(&format!(", {})", env!("CARGO_PKG_VERSION"))),
            "{tool}: {agent}"
        );
    }
}

#[tokio::test]
async fn outputs_carry_the_sandbox_data() {
    let (_sandbox, connector) = setup().await;
    let me = json_of(&connector, "discord_get_my_user", "{}", &user()).await;
    assert_eq!(me["id"], "80351110224678912");
    assert_eq!(me["email"], "nelly@example.com");

    let bot_me = json_of(
        &connector,
        "discord_get_my_user",
        "{}",
        &crate::common::bot(),
    )
    .await;
    assert_eq!(bot_me["bot"], true);

    let guilds = json_of(
        &connector,
        "discord_list_my_guilds",
        r#"{"limit": 2, "after": "81384788765712384"}"#,
        &user(),
    )
    .await;
    let ids: Vec<&str> = guilds
        .as_array()
        .unwrap()
        .iter()
        .map(|guild| guild["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["613425648685547541", "1144100424245366835"]);
    assert!(guilds[0].get("approximate_member_count").is_none());

    let invite = json_of(
        &connector,
        "discord_resolve_invite",
        r#"{"invite_code": "discord.com/invite/wasm-workshop", "with_counts": true, "guild_scheduled_event_id": "1200000000000000001"}"#,
        &Credential::None,
    )
    .await;
    assert_eq!(invite["code"], "wasm-workshop");
    assert!(invite["approximate_member_count"].as_u64().unwrap() > 0);
    assert_eq!(invite["guild_scheduled_event"]["id"], "1200000000000000001");

    let entitlements = json_of(
        &connector,
        "discord_get_current_user_application_entitlements",
        r#"{"application_id": "1178765261640953856", "sku_ids": ["1180000000000000002", "1180000000000000003"], "exclude_consumed": true}"#,
        &user(),
    )
    .await;
    let skus: Vec<&str> = entitlements
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sku_id"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["1180000000000000002"]);

    let me_by_id = json_of(
        &connector,
        "discord_get_user",
        r#"{"user_id": "@me"}"#,
        &user(),
    )
    .await;
    assert_eq!(me_by_id["username"], "nelly");
}

/// The widget PNG as the sandbox serves it, read straight off the socket.
async fn raw_png(address: std::net::SocketAddr, path: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    assert!(
        head.contains("content-length"),
        "a fixed-size answer: {head}"
    );
    answer[split + 4..].to_vec()
}

#[tokio::test]
async fn the_widget_png_comes_back_byte_for_byte() {
    let (sandbox, connector) = setup().await;
    let arguments = r#"{"guild_id": "1144100424245366835", "style": "banner4"}"#;
    let output = connector
        .execute_tool(
            "discord_get_guild_widget_png",
            arguments,
            &Credential::Bot(BOT_TOKEN.to_owned()),
        )
        .await
        .expect("a PNG");
    let Output::Binary(blob) = output else {
        panic!("expected binary output")
    };
    assert_eq!(blob.content_type, "image/png");
    let served = raw_png(
        sandbox.address(),
        "/api/v10/guilds/1144100424245366835/widget.png?style=banner4",
    )
    .await;
    assert_eq!(blob.data, served);

    let decoder = png::Decoder::new(std::io::Cursor::new(blob.data));
    let reader = decoder.read_info().expect("a real PNG");
    assert_eq!((reader.info().width, reader.info().height), (320, 160));
}

#[tokio::test]
async fn calls_run_concurrently_on_one_connector() {
    let (sandbox, connector) = setup().await;
    let calls = (0..24).map(|n| {
        let connector = connector.clone();
        async move {
            let tool = if n % 2 == 0 {
                "discord_get_my_user"
            } else {
                "discord_get_gateway"
            };
            let credential = if n % 2 == 0 {
                Credential::Bearer(USER_TOKEN.to_owned())
            } else {
                Credential::None
            };
            connector.execute_tool(tool, "{}", &credential).await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|result| matches!(result, Ok(Output::Json(_))))
    );
    assert_eq!(sandbox.requests().len(), 24);
}
