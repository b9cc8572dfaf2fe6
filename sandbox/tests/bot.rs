//! The bot routes through a plain HTTP client: nonces, faults, rate limit
//! buckets, Discord's error codes and 204s, mentions, and what the request
//! log keeps.

mod common;

use std::time::Duration;

use common::{Answer, bot, call, send};
use discord_sandbox::seed::{
    ANIMATED_EMOJI, BOT_LAB_CHANNEL_ID, BOT_MESSAGE_ID, CUSTOM_EMOJI, GENERAL_CHANNEL_ID, GUILD_ID,
    HELLO_MESSAGE_ID, HELPERS_ROLE_ID, MEMBER_USER_IDS, NON_MEMBER_USER_ID, QUIET_CHANNEL_ID,
    THREAD_ID, WELCOME_MESSAGE_ID,
};
use discord_sandbox::tokens::{USER_ID, USER_TOKEN};
use discord_sandbox::{Fault, RateLimitPolicy, Sandbox};
use serde_json::{Value, json};

async fn sandbox() -> Sandbox {
    Sandbox::start().await.expect("the sandbox starts")
}

fn messages(channel: &str) -> String {
    format!("/channels/{channel}/messages")
}

fn internal_error() -> Value {
    json!({ "message": "500: Internal Server Error", "code": 0 })
}

fn code(answer: &Answer) -> (u16, Value) {
    (answer.status, answer.json()["code"].clone())
}

#[tokio::test]
async fn a_nonce_enforced_twice_creates_one_message() {
    let sandbox = sandbox().await;
    let body = json!({ "content": "once", "nonce": "n-1", "enforce_nonce": true });
    let first = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
    let second = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(
        first.json(),
        second.json(),
        "the earlier message comes back"
    );
    assert_eq!(first.json()["nonce"], "n-1");
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 1);

    // The same nonce elsewhere, or not enforced, or another nonce: new messages.
    call(&sandbox, "POST", &messages(BOT_LAB_CHANNEL_ID), Some(&body)).await;
    let loose = json!({ "content": "again", "nonce": "n-1" });
    call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&loose)).await;
    let other = json!({ "content": "other", "nonce": 42, "enforce_nonce": true });
    let numeric = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&other)).await;
    assert_eq!(numeric.json()["nonce"], 42);
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 3);
    assert_eq!(sandbox.messages_created(BOT_LAB_CHANNEL_ID), 1);
    let listed = call(&sandbox, "GET", &messages(QUIET_CHANNEL_ID), None).await;
    assert_eq!(listed.json().as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_500_after_the_message_was_created_and_a_retry_with_its_nonce_post_once() {
    let sandbox = sandbox().await;
    sandbox.inject(
        Fault::json(500, internal_error())
            .method("POST")
            .on(messages(QUIET_CHANNEL_ID))
            .after_applying(),
    );
    let body = json!({ "content": "exactly once", "nonce": "retry-1", "enforce_nonce": true });
    let failed = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
    assert_eq!(failed.status, 500);
    assert_eq!(
        sandbox.messages_created(QUIET_CHANNEL_ID),
        1,
        "created before the 500"
    );

    let retried = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
    assert_eq!(retried.status, 200);
    assert_eq!(retried.json()["content"], "exactly once");
    assert_eq!(
        sandbox.messages_created(QUIET_CHANNEL_ID),
        1,
        "the retry posted nothing"
    );
    let id = retried.json()["id"].as_str().unwrap().to_owned();
    assert!(sandbox.message(QUIET_CHANNEL_ID, &id).is_some());

    // Only POSTs match: a GET on the same path is not faulted.
    sandbox.inject(
        Fault::json(500, internal_error())
            .method("POST")
            .on(messages(QUIET_CHANNEL_ID)),
    );
    let listed = call(&sandbox, "GET", &messages(QUIET_CHANNEL_ID), None).await;
    assert_eq!(listed.status, 200);
    let refused = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
    assert_eq!(refused.status, 500, "a fault without after_applying");
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 1);
}

#[tokio::test]
async fn a_patch_applied_then_dropped_gets_no_answer_but_is_applied() {
    let sandbox = sandbox().await;
    let path = format!("{}/{BOT_MESSAGE_ID}", messages(GENERAL_CHANNEL_ID));
    sandbox.inject(
        Fault::dropped()
            .method("PATCH")
            .on(path.clone())
            .after_applying(),
    );
    let body = json!({ "content": "edited before the drop" });
    let outcome = send(&sandbox, "PATCH", &path, bot(), Some(&body)).await;
    let error = outcome.err().expect("no answer");
    assert!(
        error.is_incomplete_message() || error.is_closed(),
        "the connection was closed with nothing written: {error}"
    );
    let stored = sandbox.message(GENERAL_CHANNEL_ID, BOT_MESSAGE_ID).unwrap();
    assert_eq!(stored["content"], "edited before the drop");
    assert!(stored["edited_timestamp"].is_string());

    // A drop without after_applying leaves the message alone; later requests are answered.
    sandbox.inject(Fault::dropped().method("PATCH").on(path.clone()));
    let body = json!({ "content": "never applied" });
    assert!(
        send(&sandbox, "PATCH", &path, bot(), Some(&body))
            .await
            .is_err()
    );
    let got = call(&sandbox, "GET", &path, None).await;
    assert_eq!(got.json()["content"], "edited before the drop");
}

#[tokio::test]
async fn reactions_are_bucketed_per_channel_with_discords_headers() {
    let sandbox = sandbox().await;
    let react = |channel: &str, message: &str| {
        format!("/channels/{channel}/messages/{message}/reactions/%F0%9F%91%8D/@me")
    };
    let first = call(
        &sandbox,
        "PUT",
        &react(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID),
        None,
    )
    .await;
    assert_eq!(first.status, 204);
    assert_eq!(first.header("x-ratelimit-limit"), Some("1"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("0"));
    let reset_after: f64 = first
        .header("x-ratelimit-reset-after")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset_after > 0.0 && reset_after <= 0.25, "{reset_after}");
    let reset: f64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > 1.7e9, "a Unix time: {reset}");
    let bucket = first.header("x-ratelimit-bucket").unwrap().to_owned();

    // A burst of 20 to one channel, ignoring the headers: mostly 429s.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let answer = call(
            &sandbox,
            "PUT",
            &react(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID),
            None,
        )
        .await;
        if answer.status == 429 {
            assert_eq!(answer.json()["global"], false);
            assert!(answer.json()["retry_after"].as_f64().unwrap() <= 0.25);
            assert_eq!(answer.header("retry-after"), Some("1"));
            assert_eq!(answer.header("x-ratelimit-scope"), Some("user"));
            assert_eq!(answer.header("x-ratelimit-bucket"), Some(bucket.as_str()));
        }
        statuses.push(answer.status);
    }
    let throttled = statuses.iter().filter(|status| **status == 429).count();
    assert!(throttled >= 10, "the burst was throttled: {statuses:?}");
    assert!(statuses.iter().all(|status| [204, 429].contains(status)));

    // Another channel is not slowed: its own bucket, the same bucket id.
    let other = call(
        &sandbox,
        "PUT",
        &react(
            BOT_LAB_CHANNEL_ID,
            discord_sandbox::seed::BOT_LAB_MESSAGE_ID,
        ),
        None,
    )
    .await;
    assert_eq!(other.status, 204);
    assert_eq!(other.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(other.header("x-ratelimit-bucket"), Some(bucket.as_str()));

    // Honouring Reset-After, every reaction goes through.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(260)).await;
        let answer = call(
            &sandbox,
            "DELETE",
            &react(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID),
            None,
        )
        .await;
        assert_eq!(answer.status, 204);
    }
    assert_eq!(sandbox.rate_limited_count(), throttled);
}

#[tokio::test]
async fn honouring_the_headers_a_burst_of_20_reactions_gets_no_429() {
    let sandbox = sandbox().await;
    let emojis = [
        "%F0%9F%91%8D",
        "%E2%9D%A4%EF%B8%8F",
        "%F0%9F%8E%89",
        "%F0%9F%91%80",
    ];
    let started = std::time::Instant::now();
    let mut wait = Duration::ZERO;
    for index in 0..20 {
        tokio::time::sleep(wait).await;
        let emoji = emojis[index % emojis.len()];
        let path = format!(
            "/channels/{GENERAL_CHANNEL_ID}/messages/{HELLO_MESSAGE_ID}/reactions/{emoji}/@me"
        );
        let answer = call(&sandbox, "PUT", &path, None).await;
        assert_eq!(answer.status, 204, "reaction {index}");
        wait = match answer.header("x-ratelimit-remaining") {
            Some("0") => {
                let after: f64 = answer
                    .header("x-ratelimit-reset-after")
                    .unwrap()
                    .parse()
                    .unwrap();
                Duration::from_secs_f64(after)
            }
            _ => Duration::ZERO,
        };
        // Another channel, right after, is never held up by this one.
        let other = format!(
            "/channels/{BOT_LAB_CHANNEL_ID}/messages/{}/reactions/{emoji}/@me",
            discord_sandbox::seed::BOT_LAB_MESSAGE_ID
        );
        if index % 5 == 0 {
            assert_eq!(call(&sandbox, "PUT", &other, None).await.status, 204);
        }
    }
    assert_eq!(sandbox.rate_limited_count(), 0);
    assert!(
        started.elapsed() >= Duration::from_millis(19 * 240),
        "paced by the bucket"
    );
}

#[tokio::test]
async fn message_creation_is_bucketed_five_per_five_seconds_per_channel() {
    let sandbox = sandbox().await;
    let body = json!({ "content": "burst" });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
        statuses.push((
            answer.status,
            answer.header("x-ratelimit-remaining").map(str::to_owned),
        ));
    }
    let remaining: Vec<_> = statuses.iter().map(|(_, left)| left.as_deref()).collect();
    assert_eq!(
        remaining,
        [
            Some("4"),
            Some("3"),
            Some("2"),
            Some("1"),
            Some("0"),
            Some("0")
        ]
    );
    assert_eq!(statuses[5].0, 429);
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 5);
    let other = call(&sandbox, "POST", &messages(BOT_LAB_CHANNEL_ID), Some(&body)).await;
    assert_eq!(
        (other.status, other.header("x-ratelimit-limit")),
        (200, Some("5"))
    );
}

#[tokio::test]
async fn the_rate_limit_off_turns_the_channel_buckets_off_too() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let react = format!(
        "/channels/{GENERAL_CHANNEL_ID}/messages/{HELLO_MESSAGE_ID}/reactions/%F0%9F%91%8D/@me"
    );
    for _ in 0..20 {
        assert_eq!(call(&sandbox, "PUT", &react, None).await.status, 204);
    }
    for _ in 0..10 {
        let body = json!({ "content": "bench" });
        assert_eq!(
            call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body))
                .await
                .status,
            200
        );
    }
    assert_eq!(sandbox.rate_limited_count(), 0);

    // A global policy that is on keeps the channel's own buckets.
    sandbox.set_rate_limit(RateLimitPolicy {
        limit: 1000,
        window: Duration::from_secs(1),
    });
    let first = call(&sandbox, "PUT", &react, None).await;
    assert_eq!(first.header("x-ratelimit-limit"), Some("1"));
}

#[tokio::test]
async fn unknown_ids_get_discords_codes() {
    let sandbox = sandbox().await;
    let unknown = "1100000000000000999";
    let cases = [
        ("GET", format!("/channels/{unknown}"), 10003),
        ("GET", messages(unknown), 10003),
        ("POST", format!("/channels/{unknown}/typing"), 10003),
        (
            "GET",
            format!("{}/{unknown}", messages(GENERAL_CHANNEL_ID)),
            10008,
        ),
        (
            "DELETE",
            format!("{}/{unknown}", messages(GENERAL_CHANNEL_ID)),
            10008,
        ),
        (
            "PUT",
            format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins/{unknown}"),
            10008,
        ),
        (
            "PUT",
            format!(
                "{}/{unknown}/reactions/%F0%9F%91%8D/@me",
                messages(GENERAL_CHANNEL_ID)
            ),
            10008,
        ),
        // A message of another channel is unknown in this one.
        (
            "GET",
            format!("{}/{WELCOME_MESSAGE_ID}", messages(BOT_LAB_CHANNEL_ID)),
            10008,
        ),
        ("GET", format!("/guilds/{unknown}"), 10004),
        ("GET", format!("/guilds/{unknown}/channels"), 10004),
        ("GET", format!("/guilds/{unknown}/members"), 10004),
        (
            "GET",
            format!("/guilds/{GUILD_ID}/members/{NON_MEMBER_USER_ID}"),
            10007,
        ),
        (
            "GET",
            format!("/guilds/{GUILD_ID}/members/{unknown}"),
            10013,
        ),
        (
            "PUT",
            format!(
                "{}/{HELLO_MESSAGE_ID}/reactions/notanemoji/@me",
                messages(GENERAL_CHANNEL_ID)
            ),
            10014,
        ),
        (
            "PUT",
            format!(
                "{}/{HELLO_MESSAGE_ID}/reactions/nope:{unknown}/@me",
                messages(GENERAL_CHANNEL_ID)
            ),
            10014,
        ),
    ];
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    for (method, path, expected) in cases {
        let answer = call(&sandbox, method, &path, None).await;
        assert_eq!(code(&answer), (404, json!(expected)), "{method} {path}");
        assert!(answer.json()["message"].is_string());
    }
    let dm = call(
        &sandbox,
        "POST",
        "/users/@me/channels",
        Some(&json!({ "recipient_id": unknown })),
    )
    .await;
    assert_eq!(code(&dm), (404, json!(10013)));
    // A guild that exists but the bot is not in.
    let elsewhere = call(&sandbox, "GET", "/guilds/81384788765712384", None).await;
    assert_eq!(code(&elsewhere), (403, json!(50001)));
    // Ids that are not snowflakes.
    let bad = call(&sandbox, "GET", "/channels/general", None).await;
    assert_eq!(code(&bad), (400, json!(50035)));
    assert_eq!(
        bad.json()["errors"]["channel_id"]["_errors"][0]["code"],
        "NUMBER_TYPE_COERCE"
    );
}

#[tokio::test]
async fn actions_answer_204_with_no_body() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let message = format!("{}/{HELLO_MESSAGE_ID}", messages(GENERAL_CHANNEL_ID));
    let pin = format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins/{HELLO_MESSAGE_ID}");
    let cases = [
        ("PUT", format!("{message}/reactions/%E2%9D%A4%EF%B8%8F/@me")),
        (
            "PUT",
            format!("{message}/reactions/%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB/@me"),
        ),
        ("PUT", format!("{message}/reactions/{CUSTOM_EMOJI}/@me")),
        ("PUT", format!("{message}/reactions/{ANIMATED_EMOJI}/@me")),
        ("PUT", format!("{message}/reactions/%F0%9F%91%8B/@me")),
        ("DELETE", format!("{message}/reactions/{CUSTOM_EMOJI}/@me")),
        ("DELETE", format!("{message}/reactions/{CUSTOM_EMOJI}/@me")),
        ("PUT", pin.clone()),
        ("PUT", pin.clone()),
        ("POST", format!("/channels/{GENERAL_CHANNEL_ID}/typing")),
        ("POST", format!("/channels/{THREAD_ID}/typing")),
    ];
    for (method, path) in cases {
        let answer = call(&sandbox, method, &path, None).await;
        assert_eq!(answer.status, 204, "{method} {path}: {:?}", answer.json());
        assert!(answer.body.is_empty());
        assert_eq!(answer.header("content-type"), None);
    }
    let stored = sandbox
        .message(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID)
        .unwrap();
    assert_eq!(stored["pinned"], true);
    let reactions = stored["reactions"].as_array().unwrap();
    let names: Vec<&str> = reactions
        .iter()
        .filter_map(|r| r["emoji"]["name"].as_str())
        .collect();
    assert_eq!(names, ["👋", "❤️", "👩‍💻", "sparkle"]);
    let wave = &reactions[0];
    assert_eq!(
        (wave["count"].clone(), wave["me"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(reactions[3]["emoji"]["animated"], true);

    let pins = call(
        &sandbox,
        "GET",
        &format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins"),
        None,
    )
    .await;
    let items: Vec<String> = pins.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["message"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        items,
        [HELLO_MESSAGE_ID, WELCOME_MESSAGE_ID],
        "the newest pin first"
    );
    assert_eq!(pins.json()["has_more"], false);
    let older = call(
        &sandbox,
        "GET",
        &format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins?limit=1"),
        None,
    )
    .await;
    assert_eq!(older.json()["has_more"], true);
    let before = call(
        &sandbox,
        "GET",
        &format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins?before=2024-01-01T00:00:00%2B00:00"),
        None,
    )
    .await;
    assert_eq!(
        before.json()["items"][0]["message"]["id"],
        WELCOME_MESSAGE_ID
    );
    assert_eq!(before.json()["items"].as_array().map(Vec::len), Some(1));

    assert_eq!(call(&sandbox, "DELETE", &pin, None).await.status, 204);
    assert_eq!(call(&sandbox, "DELETE", &message, None).await.status, 204);
    assert_eq!(
        code(&call(&sandbox, "GET", &message, None).await),
        (404, json!(10008))
    );
}

#[tokio::test]
async fn credentials_other_than_the_bots_are_refused_as_discord_refuses_them() {
    let sandbox = sandbox().await;
    let user = Some(format!("Bearer {USER_TOKEN}"));
    let path = messages(GENERAL_CHANNEL_ID);
    let none = send(&sandbox, "GET", &path, None, None).await.unwrap();
    assert_eq!(code(&none), (401, json!(0)));
    let bearer = send(&sandbox, "GET", &path, user.clone(), None)
        .await
        .unwrap();
    assert_eq!(code(&bearer), (401, json!(0)));
    let channels = format!("/guilds/{GUILD_ID}/channels");
    let listed = send(&sandbox, "GET", &channels, user, None).await.unwrap();
    assert_eq!(code(&listed), (403, json!(50001)));
    let wrong = send(&sandbox, "GET", &path, Some("Bot not-a-token".into()), None)
        .await
        .unwrap();
    assert_eq!(code(&wrong), (401, json!(0)));
    let method = call(&sandbox, "PUT", &path, None).await;
    assert_eq!(code(&method), (405, json!(0)));
}

#[tokio::test]
async fn bad_bodies_get_discords_form_errors() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let path = messages(QUIET_CHANNEL_ID);
    let field = |answer: &Answer, pointer: &str| {
        answer
            .json()
            .pointer(&format!("/errors{pointer}/_errors/0/code"))
            .cloned()
    };
    let cases: [(Value, &str, &str); 10] = [
        (
            json!({ "content": "é".repeat(2001) }),
            "/content",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (json!({ "content": 5 }), "/content", "BASE_TYPE_STRING"),
        (
            json!({ "embeds": vec![json!({ "title": "t" }); 11] }),
            "/embeds",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({ "embeds": [{ "title": "t".repeat(257) }] }),
            "/embeds/0/title",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({ "embeds": [{ "color": 16777216 }] }),
            "/embeds/0/color",
            "NUMBER_TYPE_MAX",
        ),
        (
            json!({ "embeds": [{ "fields": [{ "name": "n" }] }] }),
            "/embeds/0/fields/0/value",
            "BASE_TYPE_REQUIRED",
        ),
        (
            json!({ "embeds": [{ "description": "d".repeat(4000) }, { "description": "d".repeat(2001) }] }),
            "/embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
        (
            json!({ "content": "x", "nonce": "n".repeat(26) }),
            "/nonce",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({ "content": "x", "allowed_mentions": { "parse": ["users"], "users": [USER_ID] } }),
            "/allowed_mentions",
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        ),
        (
            json!({ "content": "x", "message_reference": { "message_id": WELCOME_MESSAGE_ID } }),
            "/message_reference",
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
        ),
    ];
    for (body, pointer, expected) in cases {
        let answer = call(&sandbox, "POST", &path, Some(&body)).await;
        assert_eq!(code(&answer), (400, json!(50035)), "{body}");
        assert_eq!(
            field(&answer, pointer),
            Some(json!(expected)),
            "{body}: {}",
            answer.json()
        );
    }
    let exactly = call(
        &sandbox,
        "POST",
        &path,
        Some(&json!({ "content": "é".repeat(2000) })),
    )
    .await;
    assert_eq!(
        exactly.status, 200,
        "2,000 characters, counted as scalar values"
    );
    let empty = call(&sandbox, "POST", &path, Some(&json!({ "content": "" }))).await;
    assert_eq!(code(&empty), (400, json!(50006)));
    let not_json = send(&sandbox, "POST", &path, bot(), None).await.unwrap();
    assert_eq!(
        code(&not_json),
        (400, json!(50006)),
        "no body: an empty message"
    );
    let threads = format!("/channels/{GENERAL_CHANNEL_ID}/threads");
    let unnamed = call(&sandbox, "POST", &threads, Some(&json!({ "type": 11 }))).await;
    assert_eq!(field(&unnamed, "/name"), Some(json!("BASE_TYPE_REQUIRED")));
    let archive = call(
        &sandbox,
        "POST",
        &threads,
        Some(&json!({ "name": "t", "auto_archive_duration": 30 })),
    )
    .await;
    assert_eq!(
        field(&archive, "/auto_archive_duration"),
        Some(json!("BASE_TYPE_CHOICES"))
    );
    let search = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/members/search"),
        None,
    )
    .await;
    assert_eq!(field(&search, "/query"), Some(json!("BASE_TYPE_REQUIRED")));
    let limit = call(
        &sandbox,
        "GET",
        &format!("{}?limit=101", messages(GENERAL_CHANNEL_ID)),
        None,
    )
    .await;
    assert_eq!(field(&limit, "/limit"), Some(json!("NUMBER_TYPE_MAX")));
    // The bot edits only its own messages.
    let foreign = format!("{}/{HELLO_MESSAGE_ID}", messages(GENERAL_CHANNEL_ID));
    let edit = call(
        &sandbox,
        "PATCH",
        &foreign,
        Some(&json!({ "content": "mine now" })),
    )
    .await;
    assert_eq!(code(&edit), (403, json!(50005)));
}

#[tokio::test]
async fn mentions_follow_allowed_mentions() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let path = messages(GENERAL_CHANNEL_ID);
    let text = format!("hi <@{USER_ID}> <@!41771983423143937> <@&{HELPERS_ROLE_ID}> @everyone");
    let send_with = |allowed: Option<Value>| {
        let mut body =
            json!({ "content": text, "message_reference": { "message_id": HELLO_MESSAGE_ID } });
        if let Some(allowed) = allowed {
            body["allowed_mentions"] = allowed;
        }
        body
    };
    let summary = |answer: &Answer| {
        let message = answer.json();
        let mut users: Vec<String> = message["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["id"].as_str().unwrap().to_owned())
            .collect();
        users.sort();
        (
            users,
            message["mention_roles"].clone(),
            message["mention_everyone"].clone(),
        )
    };
    let dev = "41771983423143937".to_owned();
    let all = call(&sandbox, "POST", &path, Some(&send_with(None))).await;
    assert_eq!(
        summary(&all),
        (
            vec![dev.clone(), USER_ID.to_owned()],
            json!([HELPERS_ROLE_ID]),
            json!(true)
        )
    );
    assert_eq!(all.json()["type"], 19, "a reply");
    assert_eq!(all.json()["referenced_message"]["id"], HELLO_MESSAGE_ID);
    let none = call(
        &sandbox,
        "POST",
        &path,
        Some(&send_with(Some(json!({ "parse": [] })))),
    )
    .await;
    assert_eq!(summary(&none), (vec![], json!([]), json!(false)));
    let named = json!({ "users": [USER_ID], "roles": [HELPERS_ROLE_ID], "replied_user": true });
    let some = call(&sandbox, "POST", &path, Some(&send_with(Some(named)))).await;
    assert_eq!(
        summary(&some),
        (
            vec![dev, USER_ID.to_owned()],
            json!([HELPERS_ROLE_ID]),
            json!(false)
        )
    );
    let everyone = call(
        &sandbox,
        "POST",
        &path,
        Some(&send_with(Some(json!({ "parse": ["everyone"] })))),
    )
    .await;
    assert_eq!(summary(&everyone), (vec![], json!([]), json!(true)));
}

#[tokio::test]
async fn messages_list_before_after_and_around() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let mut ids = Vec::new();
    for index in 0..7 {
        let body = json!({ "content": format!("m{index}") });
        let answer = call(&sandbox, "POST", &messages(QUIET_CHANNEL_ID), Some(&body)).await;
        ids.push(answer.json()["id"].as_str().unwrap().to_owned());
    }
    let list = |query: String| {
        let sandbox = &sandbox;
        async move {
            let answer = call(
                sandbox,
                "GET",
                &format!("{}?{query}", messages(QUIET_CHANNEL_ID)),
                None,
            )
            .await;
            answer
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let newest_first =
        |range: std::ops::Range<usize>| ids[range].iter().rev().cloned().collect::<Vec<_>>();
    assert_eq!(list("limit=3".into()).await, newest_first(4..7));
    assert_eq!(
        list(format!("before={}&limit=2", ids[3])).await,
        newest_first(1..3)
    );
    assert_eq!(
        list(format!("after={}&limit=2", ids[3])).await,
        newest_first(4..6)
    );
    assert_eq!(
        list(format!("around={}&limit=3", ids[3])).await,
        newest_first(2..5)
    );
    assert_eq!(list("limit=100".into()).await, newest_first(0..7));
}

#[tokio::test]
async fn threads_members_and_dms() {
    let sandbox = sandbox().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    let from_message = format!(
        "{}/{WELCOME_MESSAGE_ID}/threads",
        messages(GENERAL_CHANNEL_ID)
    );
    let thread = call(
        &sandbox,
        "POST",
        &from_message,
        Some(&json!({ "name": "welcome" })),
    )
    .await;
    assert_eq!(thread.status, 201);
    assert_eq!(
        thread.json()["id"],
        WELCOME_MESSAGE_ID,
        "a thread from a message has its id"
    );
    assert_eq!(thread.json()["type"], 11);
    let again = call(
        &sandbox,
        "POST",
        &from_message,
        Some(&json!({ "name": "again" })),
    )
    .await;
    assert_eq!(code(&again), (400, json!(160004)));
    let started = sandbox
        .message(GENERAL_CHANNEL_ID, WELCOME_MESSAGE_ID)
        .unwrap();
    assert_eq!(started["thread"]["name"], "welcome");

    let private = call(
        &sandbox,
        "POST",
        &format!("/channels/{GENERAL_CHANNEL_ID}/threads"),
        Some(&json!({ "name": "private", "invitable": false })),
    )
    .await;
    assert_eq!(
        (
            private.json()["type"].clone(),
            private.json()["thread_metadata"]["invitable"].clone()
        ),
        (json!(12), json!(false))
    );
    let in_thread = call(
        &sandbox,
        "POST",
        &format!("/channels/{THREAD_ID}/threads"),
        Some(&json!({ "name": "nested" })),
    )
    .await;
    assert_eq!(code(&in_thread), (400, json!(50024)));
    let active = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/threads/active"),
        None,
    )
    .await;
    let names: Vec<String> = active.json()["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|thread| thread["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["introductions", "welcome", "private"]);
    assert_eq!(
        active.json()["members"].as_array().map(Vec::len),
        Some(2),
        "the bot joined the two it made"
    );

    let members = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/members"),
        None,
    )
    .await;
    assert_eq!(
        members.json().as_array().map(Vec::len),
        Some(1),
        "Discord's default limit is 1"
    );
    let all = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/members?limit=1000"),
        None,
    )
    .await;
    let ids: Vec<String> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|member| member["user"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, MEMBER_USER_IDS);
    let after = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/members?limit=1000&after={USER_ID}"),
        None,
    )
    .await;
    assert_eq!(after.json().as_array().map(Vec::len), Some(1));
    let found = call(
        &sandbox,
        "GET",
        &format!("/guilds/{GUILD_ID}/members/search?query=SANDBOX&limit=5"),
        None,
    )
    .await;
    assert_eq!(found.json()[0]["nick"], "Sandbox Bot");

    let dm = call(
        &sandbox,
        "POST",
        "/users/@me/channels",
        Some(&json!({ "recipient_id": USER_ID })),
    )
    .await;
    let dm_id = dm.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            dm.json()["type"].clone(),
            dm.json()["recipients"][0]["id"].clone()
        ),
        (json!(1), json!(USER_ID))
    );
    let same = call(
        &sandbox,
        "POST",
        "/users/@me/channels",
        Some(&json!({ "recipient_id": USER_ID })),
    )
    .await;
    assert_eq!(same.json()["id"], dm_id.as_str(), "one DM channel per user");
    let sent = call(
        &sandbox,
        "POST",
        &messages(&dm_id),
        Some(&json!({ "content": "hello in private" })),
    )
    .await;
    assert_eq!(sent.status, 200);
    assert_eq!(sandbox.messages_created(&dm_id), 1);
}

#[tokio::test]
async fn the_request_log_keeps_what_was_sent() {
    let sandbox = sandbox().await;
    let path = format!("/channels/{GENERAL_CHANNEL_ID}/messages/pins/{HELLO_MESSAGE_ID}");
    let stream = tokio::net::TcpStream::connect(sandbox.address())
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::builder()
        .method("PUT")
        .uri(format!("/api/v10{path}?x=1%202"))
        .header("host", "sandbox")
        .header("authorization", bot().unwrap())
        .header(
            "x-audit-log-reason",
            "Pinned%20by%20%C3%A9quipe%20%F0%9F%93%8C",
        )
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(sender.send_request(request).await.unwrap().status(), 204);
    let body = json!({ "content": "logged", "allowed_mentions": { "parse": [] } });
    call(&sandbox, "POST", &messages(GENERAL_CHANNEL_ID), Some(&body)).await;

    let log = sandbox.requests();
    let pin = &log[log.len() - 2];
    assert_eq!(
        (pin.method.as_str(), pin.path()),
        ("PUT", format!("/api/v10{path}").as_str())
    );
    assert_eq!(pin.query(), [("x".to_owned(), "1 2".to_owned())]);
    assert_eq!(
        pin.audit_log_reason().as_deref(),
        Some("Pinned by équipe 📌")
    );
    let post = log.last().unwrap();
    assert_eq!(post.json(), Some(body));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.audit_log_reason(), None);
}

#[tokio::test]
async fn the_peak_rate_counts_one_credentials_requests_in_the_busiest_second() {
    let sandbox = sandbox().await;
    let path = format!("/channels/{GENERAL_CHANNEL_ID}");
    for _ in 0..5 {
        assert_eq!(call(&sandbox, "GET", &path, None).await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for _ in 0..3 {
        assert_eq!(call(&sandbox, "GET", &path, None).await.status, 200);
    }
    let bot = format!("Bot {}", discord_sandbox::tokens::BOT_TOKEN);
    assert_eq!(sandbox.peak_per_second(&bot), 5, "the busiest second");
    assert_eq!(sandbox.peak_per_second("Bot someone-else"), 0);
}
