//! The 21 bot tools (#18) end to end: the built component in the host
//! against the sandbox's stateful guild. What each tool sends (request
//! line, body, headers) and returns, every bound refused before sending,
//! mentions off by default, nonces and retries that never post twice,
//! emoji and audit-log reason encodings, bot-only credentials,
//! `DISCORD_TOOLS`, and a reaction burst through the host's limiter.

use std::sync::Arc;

use discord_host::limiter::DiscordLimiter;
use discord_host::{ComponentErrorKind as ErrorKind, Connector, Credential};
use discord_sandbox::seed::{
    ANIMATED_EMOJI, BOT_LAB_CHANNEL_ID, BOT_LAB_MESSAGE_ID, BOT_MESSAGE_ID, CUSTOM_EMOJI,
    GENERAL_CHANNEL_ID, GUILD_ID, HELLO_MESSAGE_ID, HELPERS_ROLE_ID, QUIET_CHANNEL_ID,
};
use discord_sandbox::tokens::USER_ID;
use discord_sandbox::{Fault, RateLimitPolicy, RecordedRequest, Sandbox};
use serde_json::{Value, json};

use crate::common::{assert_kind, bot, error_of, expected_authorization, json_of, setup, user};

/// One tool call and what must reach the sandbox.
struct Case {
    tool: &'static str,
    arguments: Value,
    /// The request line: method, and path and query under the API base,
    /// as sent (percent-encoded).
    method: &'static str,
    path_and_query: String,
    /// The JSON body, without a message's nonce (checked on its own).
    body: Option<Value>,
    /// `X-Audit-Log-Reason` as sent.
    reason: Option<&'static str>,
}

fn case(
    tool: &'static str,
    arguments: Value,
    method: &'static str,
    path_and_query: String,
    body: Option<Value>,
) -> Case {
    Case {
        tool,
        arguments,
        method,
        path_and_query,
        body,
        reason: None,
    }
}

impl Case {
    fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }
}

/// One call of every bot tool, in an order the seeded guild can serve
/// (the bot's message is edited before it is deleted, a reaction added
/// before it is removed).
fn every_bot_tool() -> Vec<Case> {
    let general = GENERAL_CHANNEL_ID;
    let hello = HELLO_MESSAGE_ID;
    let mine = BOT_MESSAGE_ID;
    let none = json!({ "parse": [] });
    vec![
        case(
            "discord_list_guild_channels",
            json!({ "guild_id": GUILD_ID }),
            "GET",
            format!("/guilds/{GUILD_ID}/channels"),
            None,
        ),
        case(
            "discord_get_guild",
            json!({ "guild_id": GUILD_ID, "with_counts": true }),
            "GET",
            format!("/guilds/{GUILD_ID}?with_counts=true"),
            None,
        ),
        case(
            "discord_get_channel",
            json!({ "channel_id": general }),
            "GET",
            format!("/channels/{general}"),
            None,
        ),
        case(
            "discord_list_messages",
            json!({ "channel_id": general, "before": mine, "limit": 2 }),
            "GET",
            format!("/channels/{general}/messages?before={mine}&limit=2"),
            None,
        ),
        case(
            "discord_get_message",
            json!({ "channel_id": general, "message_id": hello }),
            "GET",
            format!("/channels/{general}/messages/{hello}"),
            None,
        ),
        case(
            "discord_send_message",
            json!({ "channel_id": general, "content": "On it @everyone", "reply_to_message_id": hello, "silent": true }),
            "POST",
            format!("/channels/{general}/messages"),
            Some(json!({
                "content": "On it @everyone",
                "allowed_mentions": none,
                "message_reference": { "message_id": hello },
                "flags": 4096,
                "enforce_nonce": true,
            })),
        ),
        case(
            "discord_edit_message",
            json!({ "channel_id": general, "message_id": mine, "content": "edited", "embeds": [{ "title": "Status", "color": 65280 }] }),
            "PATCH",
            format!("/channels/{general}/messages/{mine}"),
            Some(json!({
                "content": "edited",
                "embeds": [{ "title": "Status", "color": 65280 }],
                "allowed_mentions": none,
            })),
        ),
        case(
            "discord_add_reaction",
            json!({ "channel_id": general, "message_id": hello, "emoji": "👍" }),
            "PUT",
            format!("/channels/{general}/messages/{hello}/reactions/%F0%9F%91%8D/@me"),
            None,
        ),
        case(
            "discord_remove_reaction",
            json!({ "channel_id": general, "message_id": hello, "emoji": "👍" }),
            "DELETE",
            format!("/channels/{general}/messages/{hello}/reactions/%F0%9F%91%8D/@me"),
            None,
        ),
        case(
            "discord_pin_message",
            json!({ "channel_id": general, "message_id": hello, "reason": "Worth keeping" }),
            "PUT",
            format!("/channels/{general}/messages/pins/{hello}"),
            None,
        )
        .reason("Worth%20keeping"),
        case(
            "discord_list_pinned_messages",
            json!({ "channel_id": general, "before": "2099-01-01T00:00:00+01:00", "limit": 5 }),
            "GET",
            format!("/channels/{general}/messages/pins?before=2099-01-01T00%3A00%3A00%2B01%3A00&limit=5"),
            None,
        ),
        case(
            "discord_unpin_message",
            json!({ "channel_id": general, "message_id": hello }),
            "DELETE",
            format!("/channels/{general}/messages/pins/{hello}"),
            None,
        ),
        case(
            "discord_trigger_typing",
            json!({ "channel_id": general }),
            "POST",
            format!("/channels/{general}/typing"),
            None,
        ),
        case(
            "discord_create_thread",
            json!({ "channel_id": general, "name": "Release plans", "auto_archive_duration": 1440, "reason": "Planning" }),
            "POST",
            format!("/channels/{general}/threads"),
            Some(json!({ "name": "Release plans", "auto_archive_duration": 1440, "type": 11 })),
        )
        .reason("Planning"),
        case(
            "discord_create_thread_from_message",
            json!({ "channel_id": BOT_LAB_CHANNEL_ID, "message_id": BOT_LAB_MESSAGE_ID, "name": "Follow-up" }),
            "POST",
            format!("/channels/{BOT_LAB_CHANNEL_ID}/messages/{BOT_LAB_MESSAGE_ID}/threads"),
            Some(json!({ "name": "Follow-up" })),
        ),
        case(
            "discord_list_active_threads",
            json!({ "guild_id": GUILD_ID }),
            "GET",
            format!("/guilds/{GUILD_ID}/threads/active"),
            None,
        ),
        case(
            "discord_get_guild_member",
            json!({ "guild_id": GUILD_ID, "user_id": USER_ID }),
            "GET",
            format!("/guilds/{GUILD_ID}/members/{USER_ID}"),
            None,
        ),
        case(
            "discord_list_guild_members",
            json!({ "guild_id": GUILD_ID, "limit": 1000, "after": "1" }),
            "GET",
            format!("/guilds/{GUILD_ID}/members?limit=1000&after=1"),
            None,
        ),
        case(
            "discord_search_guild_members",
            json!({ "guild_id": GUILD_ID, "query": "nel ly&", "limit": 5 }),
            "GET",
            format!("/guilds/{GUILD_ID}/members/search?query=nel%20ly%26&limit=5"),
            None,
        ),
        case(
            "discord_create_dm",
            json!({ "recipient_id": USER_ID }),
            "POST",
            "/users/@me/channels".to_owned(),
            Some(json!({ "recipient_id": USER_ID })),
        ),
        case(
            "discord_delete_message",
            json!({ "channel_id": general, "message_id": mine, "reason": "Outdated" }),
            "DELETE",
            format!("/channels/{general}/messages/{mine}"),
            None,
        )
        .reason("Outdated"),
    ]
}

/// The sandbox's requests with `method` whose path starts with `prefix`
/// under the API base.
fn requests_to(sandbox: &Sandbox, method: &str, prefix: &str) -> Vec<RecordedRequest> {
    let prefix = format!("/api/v10{prefix}");
    sandbox
        .requests()
        .into_iter()
        .filter(|request| request.method == method && request.path().starts_with(&prefix))
        .collect()
}

/// A message's nonce as sent: a string of at most 25 characters, with
/// `enforce_nonce: true` beside it.
fn nonce_of(request: &RecordedRequest) -> String {
    let body = request.json().expect("a JSON body");
    assert_eq!(body["enforce_nonce"], true, "{body}");
    let nonce = body["nonce"].as_str().expect("a string nonce").to_owned();
    assert!((1..=25).contains(&nonce.chars().count()), "{nonce}");
    nonce
}

/// The details of an error, parsed.
fn details(error: &discord_host::ComponentError) -> Value {
    serde_json::from_str(error.details.as_deref().expect("details")).expect("JSON details")
}

/// A sandbox without rate limits (for tests about something else: a
/// channel's reaction bucket would answer a second reaction with a 429
/// the component waits out, adding requests to the log) and the connector.
async fn unlimited() -> (Sandbox, Connector) {
    let (sandbox, connector) = setup().await;
    sandbox.set_rate_limit(RateLimitPolicy::OFF);
    (sandbox, connector)
}

#[tokio::test]
async fn every_bot_tool_sends_its_request_line_body_and_headers() {
    let (sandbox, connector) = unlimited().await;
    let cases = every_bot_tool();
    let mut tools: Vec<&str> = cases.iter().map(|case| case.tool).collect();
    tools.sort_unstable();
    tools.dedup();
    assert_eq!(tools.len(), 21, "every bot tool once");

    for case in &cases {
        let before = sandbox.requests().len();
        let output = json_of(&connector, case.tool, &case.arguments.to_string(), &bot()).await;
        let requests = sandbox.requests();
        assert_eq!(requests.len(), before + 1, "{}: one request", case.tool);
        let request = &requests[before];
        let tool = case.tool;
        assert_eq!(request.method, case.method, "{tool}");
        assert_eq!(
            request.path_and_query,
            format!("/api/v10{}", case.path_and_query),
            "{tool}"
        );
        assert_eq!(
            request.header("authorization").map(str::to_owned),
            expected_authorization(&bot()),
            "{tool}"
        );
        assert_eq!(
            request.header("x-audit-log-reason"),
            case.reason,
            "{tool}: the reason, and no header without one"
        );
        match &case.body {
            Some(expected) => {
                assert_eq!(
                    request.header("content-type"),
                    Some("application/json"),
                    "{tool}"
                );
                let mut sent = request.json().expect("a JSON body");
                if tool == "discord_send_message" {
                    nonce_of(request);
                    sent.as_object_mut().unwrap().remove("nonce");
                }
                assert_eq!(&sent, expected, "{tool}");
            }
            None => {
                assert!(request.body.is_empty(), "{tool}: no body");
                assert_eq!(request.header("content-type"), None, "{tool}");
            }
        }
        check_output(tool, &output);
    }
    // What the writes left in the sandbox's guild.
    assert_eq!(sandbox.messages_created(GENERAL_CHANNEL_ID), 1);
    assert!(
        sandbox
            .message(GENERAL_CHANNEL_ID, BOT_MESSAGE_ID)
            .is_none()
    );
    let hello = sandbox
        .message(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID)
        .unwrap();
    assert_eq!(hello["pinned"], false, "pinned, then unpinned");
}

/// What each tool's output must hold: the sandbox's answer, or `{}` for a
/// 204.
fn check_output(tool: &str, output: &Value) {
    let empty = json!({});
    match tool {
        "discord_add_reaction"
        | "discord_remove_reaction"
        | "discord_pin_message"
        | "discord_unpin_message"
        | "discord_trigger_typing"
        | "discord_delete_message" => assert_eq!(output, &empty, "{tool}: a 204 is {{}}"),
        "discord_list_guild_channels" => {
            let names: Vec<&str> = output
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|channel| channel["name"].as_str())
                .collect();
            assert!(names.contains(&"general"), "{tool}: {names:?}");
        }
        "discord_get_guild" => {
            assert_eq!(output["name"], "Sandbox Lounge", "{tool}");
            assert!(
                output["approximate_member_count"].is_u64(),
                "{tool}: {output}"
            );
        }
        "discord_get_channel" => assert_eq!(output["id"], GENERAL_CHANNEL_ID, "{tool}"),
        "discord_list_messages" => {
            let ids: Vec<&str> = output
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|message| message["id"].as_str())
                .collect();
            assert_eq!(ids, [HELLO_MESSAGE_ID, "1144100427000000001"], "{tool}");
        }
        "discord_get_message" => assert_eq!(output["id"], HELLO_MESSAGE_ID, "{tool}"),
        "discord_send_message" => {
            assert_eq!(output["content"], "On it @everyone", "{tool}");
            assert_eq!(output["mention_everyone"], false, "{tool}: nobody pinged");
            assert_eq!(output["flags"], 4096, "{tool}");
            assert_eq!(
                output["message_reference"]["message_id"], HELLO_MESSAGE_ID,
                "{tool}"
            );
        }
        "discord_edit_message" => {
            assert_eq!(output["content"], "edited", "{tool}");
            assert_eq!(output["embeds"][0]["title"], "Status", "{tool}");
        }
        "discord_list_pinned_messages" => {
            let pinned: Vec<&str> = output["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|item| item["message"]["id"].as_str())
                .collect();
            assert!(pinned.contains(&HELLO_MESSAGE_ID), "{tool}: {pinned:?}");
        }
        "discord_create_thread" => {
            assert_eq!(output["name"], "Release plans", "{tool}");
            assert_eq!(output["type"], 11, "{tool}");
            assert_eq!(output["parent_id"], GENERAL_CHANNEL_ID, "{tool}");
        }
        "discord_create_thread_from_message" => {
            assert_eq!(output["id"], BOT_LAB_MESSAGE_ID, "{tool}");
        }
        "discord_list_active_threads" => {
            let names: Vec<&str> = output["threads"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|thread| thread["name"].as_str())
                .collect();
            assert!(
                names.contains(&"Release plans") && names.contains(&"Follow-up"),
                "{tool}: {names:?}"
            );
        }
        "discord_get_guild_member" => assert_eq!(output["user"]["id"], USER_ID, "{tool}"),
        "discord_list_guild_members" => {
            assert_eq!(output.as_array().unwrap().len(), 3, "{tool}");
        }
        "discord_search_guild_members" => assert_eq!(output, &json!([]), "{tool}"),
        "discord_create_dm" => {
            assert_eq!(output["type"], 1, "{tool}");
            assert_eq!(output["recipients"][0]["id"], USER_ID, "{tool}");
        }
        other => panic!("no output check for {other}"),
    }
}

/// `n` copies of `text`.
fn times(text: &str, n: usize) -> String {
    text.repeat(n)
}

/// One refusal per bound: (tool, arguments, what the message must name).
fn refusals() -> Vec<(&'static str, Value, &'static str)> {
    let g = GENERAL_CHANNEL_ID;
    let m = HELLO_MESSAGE_ID;
    let send = |extra: Value| {
        let mut arguments = json!({ "channel_id": g });
        arguments
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        arguments
    };
    let embed = |embed: Value| send(json!({ "embeds": [embed] }));
    let ids = |n: usize| -> Vec<String> { (1..=n).map(|id| id.to_string()).collect() };
    let field = json!({ "name": "n", "value": "v" });
    vec![
        // Messages: text, embeds, references, mentions.
        (
            "discord_send_message",
            send(json!({ "content": "" })),
            "`content`",
        ),
        (
            "discord_send_message",
            send(json!({ "content": times("é", 2001) })),
            "`content`",
        ),
        (
            "discord_send_message",
            send(json!({})),
            "`content`, `embeds`",
        ),
        (
            "discord_send_message",
            send(json!({ "embeds": [] })),
            "`content`, `embeds`",
        ),
        (
            "discord_send_message",
            send(json!({ "embeds": vec![json!({ "title": "t" }); 11] })),
            "`embeds`",
        ),
        (
            "discord_send_message",
            embed(json!({ "title": times("t", 257) })),
            "title",
        ),
        (
            "discord_send_message",
            embed(json!({ "description": times("d", 4097) })),
            "description",
        ),
        (
            "discord_send_message",
            embed(json!({ "url": "ftp://example.com" })),
            "url",
        ),
        (
            "discord_send_message",
            embed(json!({ "color": 16_777_216 })),
            "color",
        ),
        (
            "discord_send_message",
            embed(json!({ "fields": vec![field.clone(); 26] })),
            "fields",
        ),
        (
            "discord_send_message",
            embed(json!({ "fields": [{ "name": times("n", 257), "value": "v" }] })),
            "name",
        ),
        (
            "discord_send_message",
            embed(json!({ "fields": [{ "name": "n", "value": times("v", 1025) }] })),
            "value",
        ),
        (
            "discord_send_message",
            embed(json!({ "footer": { "text": times("f", 2049) } })),
            "footer.text",
        ),
        (
            "discord_send_message",
            embed(json!({ "author": { "name": times("a", 257) } })),
            "author.name",
        ),
        (
            "discord_send_message",
            embed(json!({ "timestamp": "yesterday" })),
            "timestamp",
        ),
        (
            "discord_send_message",
            send(
                json!({ "embeds": [{ "description": times("d", 3000) }, { "description": times("d", 3001) }] }),
            ),
            "6000",
        ),
        (
            "discord_send_message",
            send(json!({ "content": "hi", "mentions": { "users": ids(101) } })),
            "users",
        ),
        (
            "discord_send_message",
            send(json!({ "content": "hi", "mentions": { "roles": ids(101) } })),
            "roles",
        ),
        (
            "discord_send_message",
            send(json!({ "content": "hi", "mentions": { "parse": ["users"] } })),
            "parse",
        ),
        (
            "discord_send_message",
            send(json!({ "content": "hi", "reply_to_message_id": "latest" })),
            "reply_to_message_id",
        ),
        (
            "discord_send_message",
            json!({ "channel_id": "#general", "content": "hi" }),
            "channel_id",
        ),
        (
            "discord_edit_message",
            json!({ "channel_id": g, "message_id": m }),
            "`content`, `embeds`",
        ),
        (
            "discord_edit_message",
            json!({ "channel_id": g, "message_id": m, "content": times("x", 2001) }),
            "`content`",
        ),
        (
            "discord_edit_message",
            json!({ "channel_id": g, "message_id": "x", "content": "hi" }),
            "message_id",
        ),
        (
            "discord_list_messages",
            json!({ "channel_id": g, "limit": 0 }),
            "`limit`",
        ),
        (
            "discord_list_messages",
            json!({ "channel_id": g, "limit": 101 }),
            "`limit`",
        ),
        (
            "discord_list_messages",
            json!({ "channel_id": g, "before": m, "around": m }),
            "`before`, `after`, `around`",
        ),
        (
            "discord_get_message",
            json!({ "channel_id": g }),
            "message_id",
        ),
        (
            "discord_delete_message",
            json!({ "channel_id": g, "message_id": m, "reason": "" }),
            "`reason`",
        ),
        (
            "discord_delete_message",
            json!({ "channel_id": g, "message_id": m, "reason": times("r", 513) }),
            "`reason`",
        ),
        // Reactions and pins.
        (
            "discord_add_reaction",
            json!({ "channel_id": g, "message_id": m, "emoji": "smile" }),
            "`emoji`",
        ),
        (
            "discord_add_reaction",
            json!({ "channel_id": g, "message_id": m, "emoji": "<:x:1>" }),
            "`emoji`",
        ),
        (
            "discord_remove_reaction",
            json!({ "channel_id": g, "message_id": m, "emoji": "👍/../x" }),
            "`emoji`",
        ),
        (
            "discord_list_pinned_messages",
            json!({ "channel_id": g, "limit": 51 }),
            "`limit`",
        ),
        (
            "discord_list_pinned_messages",
            json!({ "channel_id": g, "before": "2024-13-01T00:00:00Z" }),
            "`before`",
        ),
        (
            "discord_pin_message",
            json!({ "channel_id": g, "message_id": m, "reason": times("r", 513) }),
            "`reason`",
        ),
        (
            "discord_unpin_message",
            json!({ "channel_id": g, "message_id": "0x1" }),
            "`message_id`",
        ),
        (
            "discord_trigger_typing",
            json!({ "channel_id": g, "seconds": 5 }),
            "`seconds`",
        ),
        // Threads.
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": "" }),
            "`name`",
        ),
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": times("n", 101) }),
            "`name`",
        ),
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": "t", "auto_archive_duration": 30 }),
            "`auto_archive_duration`",
        ),
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": "t", "invitable": true }),
            "`invitable`",
        ),
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": "t", "reason": times("r", 513) }),
            "`reason`",
        ),
        (
            "discord_create_thread_from_message",
            json!({ "channel_id": g, "message_id": m, "name": times("n", 101) }),
            "`name`",
        ),
        (
            "discord_create_thread_from_message",
            json!({ "channel_id": g, "message_id": m, "name": "t", "auto_archive_duration": 100 }),
            "`auto_archive_duration`",
        ),
        ("discord_list_active_threads", json!({}), "guild_id"),
        // Channels, guilds, members, DMs.
        (
            "discord_get_channel",
            json!({ "channel_id": "../guilds/1" }),
            "`channel_id`",
        ),
        (
            "discord_list_guild_channels",
            json!({ "guild_id": 1 }),
            "`guild_id`",
        ),
        (
            "discord_get_guild",
            json!({ "guild_id": GUILD_ID, "with_counts": "yes" }),
            "`with_counts`",
        ),
        (
            "discord_get_guild_member",
            json!({ "guild_id": GUILD_ID, "user_id": "@me" }),
            "`user_id`",
        ),
        (
            "discord_list_guild_members",
            json!({ "guild_id": GUILD_ID, "limit": 1001 }),
            "`limit`",
        ),
        (
            "discord_list_guild_members",
            json!({ "guild_id": GUILD_ID, "limit": 0 }),
            "`limit`",
        ),
        (
            "discord_list_guild_members",
            json!({ "guild_id": GUILD_ID, "after": "nelly" }),
            "`after`",
        ),
        (
            "discord_search_guild_members",
            json!({ "guild_id": GUILD_ID }),
            "query",
        ),
        (
            "discord_search_guild_members",
            json!({ "guild_id": GUILD_ID, "query": "" }),
            "`query`",
        ),
        (
            "discord_search_guild_members",
            json!({ "guild_id": GUILD_ID, "query": times("q", 101) }),
            "`query`",
        ),
        (
            "discord_search_guild_members",
            json!({ "guild_id": GUILD_ID, "query": "n", "limit": 1001 }),
            "`limit`",
        ),
        (
            "discord_create_dm",
            json!({ "recipient_id": "nelly" }),
            "`recipient_id`",
        ),
    ]
}

#[tokio::test]
async fn every_bound_is_refused_naming_the_field_before_anything_is_sent() {
    let (sandbox, connector) = unlimited().await;
    let refusals = refusals();
    let mut tools: Vec<&str> = refusals.iter().map(|(tool, ..)| *tool).collect();
    tools.sort_unstable();
    tools.dedup();
    assert_eq!(tools.len(), 21, "a refusal for every bot tool");
    for (tool, arguments, field) in refusals {
        let error = error_of(&connector, tool, &arguments.to_string(), &bot()).await;
        assert_kind(&error, ErrorKind::InvalidArguments);
        assert!(
            error.message.contains(field),
            "{tool} {}: the message names {field}: {}",
            &arguments.to_string().chars().take(120).collect::<String>(),
            error.message
        );
    }
    assert_eq!(sandbox.requests(), [], "nothing reached the sandbox");
}

#[tokio::test]
async fn messages_ping_nobody_unless_mentions_say_so() {
    let (sandbox, connector) = unlimited().await;
    let g = GENERAL_CHANNEL_ID;
    let content = format!("@everyone <@{USER_ID}> <@&{HELPERS_ROLE_ID}>");
    let sent_mentions = |arguments: Value| {
        let connector = &connector;
        let sandbox = &sandbox;
        async move {
            let output = json_of(
                connector,
                "discord_send_message",
                &arguments.to_string(),
                &bot(),
            )
            .await;
            let request = requests_to(sandbox, "POST", &format!("/channels/{g}/messages"))
                .pop()
                .unwrap();
            (request.json().unwrap()["allowed_mentions"].clone(), output)
        }
    };

    // By default: nobody, whatever the text says.
    let (allowed, message) = sent_mentions(
        json!({ "channel_id": g, "content": content, "reply_to_message_id": HELLO_MESSAGE_ID }),
    )
    .await;
    assert_eq!(allowed, json!({ "parse": [] }));
    assert_eq!(message["mention_everyone"], false);
    assert_eq!(
        message["mentions"],
        json!([]),
        "not even the replied-to author"
    );
    assert_eq!(message["mention_roles"], json!([]));

    // Named users and roles by id, never beside a parse of them.
    let (allowed, message) = sent_mentions(json!({
        "channel_id": g,
        "content": content,
        "reply_to_message_id": HELLO_MESSAGE_ID,
        "mentions": { "users": [USER_ID], "roles": [HELPERS_ROLE_ID], "replied_user": true },
    }))
    .await;
    assert_eq!(
        allowed,
        json!({ "parse": [], "users": [USER_ID], "roles": [HELPERS_ROLE_ID], "replied_user": true })
    );
    assert_eq!(message["mention_everyone"], false);
    assert_eq!(message["mention_roles"], json!([HELPERS_ROLE_ID]));
    let pinged: Vec<&str> = message["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|user| user["id"].as_str())
        .collect();
    assert_eq!(
        pinged,
        [USER_ID, "41771983423143937"],
        "nelly and the replied-to author"
    );

    // @everyone only when asked for.
    let (allowed, message) = sent_mentions(
        json!({ "channel_id": g, "content": content, "mentions": { "everyone": true } }),
    )
    .await;
    assert_eq!(
        allowed,
        json!({ "parse": ["everyone"], "replied_user": false })
    );
    assert_eq!(message["mention_everyone"], true);
    assert_eq!(message["mentions"], json!([]));

    // An edit is sent with the same default.
    json_of(
        &connector,
        "discord_edit_message",
        &json!({ "channel_id": g, "message_id": BOT_MESSAGE_ID, "content": content }).to_string(),
        &bot(),
    )
    .await;
    let edit = requests_to(&sandbox, "PATCH", "/channels/").pop().unwrap();
    assert_eq!(
        edit.json().unwrap()["allowed_mentions"],
        json!({ "parse": [] })
    );
    let edited = sandbox.message(g, BOT_MESSAGE_ID).unwrap();
    assert_eq!(edited["mention_everyone"], false);
}

#[tokio::test]
async fn every_send_has_a_fresh_nonce_and_a_500_after_creating_does_not_post_twice() {
    let (sandbox, connector) = unlimited().await;
    let path = format!("/channels/{QUIET_CHANNEL_ID}/messages");
    let send = json!({ "channel_id": QUIET_CHANNEL_ID, "content": "deploy finished" }).to_string();

    // Three sends of the same text: three nonces, three messages.
    for _ in 0..3 {
        json_of(&connector, "discord_send_message", &send, &bot()).await;
    }
    let mut nonces: Vec<String> = requests_to(&sandbox, "POST", &path)
        .iter()
        .map(nonce_of)
        .collect();
    nonces.sort_unstable();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a fresh nonce per call");
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 3);

    // Created, then answered with a 500: sent again with the same nonce
    // and body, and Discord hands back the message it made.
    sandbox.inject(
        Fault::json(
            500,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        )
        .method("POST")
        .on(path.clone())
        .after_applying(),
    );
    let message = json_of(&connector, "discord_send_message", &send, &bot()).await;
    let attempts = &requests_to(&sandbox, "POST", &path)[3..];
    assert_eq!(attempts.len(), 2, "retried once after the 500");
    assert_eq!(
        nonce_of(&attempts[0]),
        nonce_of(&attempts[1]),
        "the same nonce"
    );
    assert_eq!(attempts[0].body, attempts[1].body, "the same body");
    assert!(
        !nonces.contains(&nonce_of(&attempts[0])),
        "a new call, a new nonce"
    );
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 4, "posted once");
    let id = message["id"].as_str().unwrap();
    assert_eq!(
        sandbox.message(QUIET_CHANNEL_ID, id).unwrap()["nonce"],
        nonce_of(&attempts[0])
    );
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_send_repeated_with_the_same_nonce() {
    let (sandbox, connector) = unlimited().await;
    let path = format!("/channels/{QUIET_CHANNEL_ID}/messages");
    sandbox.inject(
        Fault::json(
            429,
            json!({ "message": "You are being rate limited.", "retry_after": 0.05, "global": false }),
        )
        .header("x-ratelimit-scope", "user")
        .method("POST")
        .on(path.clone()),
    );
    let send = json!({ "channel_id": QUIET_CHANNEL_ID, "content": "after the wait" });
    json_of(
        &connector,
        "discord_send_message",
        &send.to_string(),
        &bot(),
    )
    .await;
    let attempts = requests_to(&sandbox, "POST", &path);
    assert_eq!(attempts.len(), 2, "sent again after the 429");
    assert_eq!(nonce_of(&attempts[0]), nonce_of(&attempts[1]));
    assert_eq!(attempts[0].body, attempts[1].body);
    assert_eq!(sandbox.messages_created(QUIET_CHANNEL_ID), 1);
}

#[tokio::test]
async fn other_posts_are_not_sent_again_once_they_may_have_applied() {
    let (sandbox, connector) = unlimited().await;
    let path = format!("/channels/{GENERAL_CHANNEL_ID}/threads");
    sandbox.inject(
        Fault::json(
            500,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        )
        .method("POST")
        .on(path.clone())
        .after_applying(),
    );
    let arguments = json!({ "channel_id": GENERAL_CHANNEL_ID, "name": "Once" });
    let error = error_of(
        &connector,
        "discord_create_thread",
        &arguments.to_string(),
        &bot(),
    )
    .await;
    assert_kind(&error, ErrorKind::Upstream);
    assert_eq!(error.status, Some(500));
    let details = details(&error);
    assert_eq!(
        (&details["retried"], &details["may_have_applied"]),
        (&json!(false), &json!(true)),
        "{details}"
    );
    assert_eq!(
        requests_to(&sandbox, "POST", &path).len(),
        1,
        "not sent again"
    );
}

#[tokio::test]
async fn a_delete_retried_after_it_applied_says_so_with_its_404() {
    let (sandbox, connector) = unlimited().await;
    let path = format!("/channels/{GENERAL_CHANNEL_ID}/messages/{BOT_MESSAGE_ID}");
    sandbox.inject(
        Fault::json(
            500,
            json!({ "message": "500: Internal Server Error", "code": 0 }),
        )
        .method("DELETE")
        .on(path.clone())
        .after_applying(),
    );
    let arguments = json!({ "channel_id": GENERAL_CHANNEL_ID, "message_id": BOT_MESSAGE_ID });
    let error = error_of(
        &connector,
        "discord_delete_message",
        &arguments.to_string(),
        &bot(),
    )
    .await;
    assert_kind(&error, ErrorKind::NotFound);
    assert_eq!(error.code, Some(10008));
    let details = details(&error);
    assert_eq!(
        (&details["retried"], &details["may_have_applied"]),
        (&json!(true), &json!(true)),
        "{details}"
    );
    assert_eq!(
        requests_to(&sandbox, "DELETE", &path).len(),
        2,
        "retried once"
    );
    assert!(
        sandbox
            .message(GENERAL_CHANNEL_ID, BOT_MESSAGE_ID)
            .is_none()
    );
}

#[tokio::test]
async fn a_patch_after_a_dropped_connection_is_not_retried_and_says_it_may_have_applied() {
    let (sandbox, connector) = unlimited().await;
    sandbox.inject(
        Fault::dropped()
            .method("PATCH")
            .on(format!("/channels/{GENERAL_CHANNEL_ID}/messages/"))
            .after_applying(),
    );
    let arguments =
        json!({ "channel_id": GENERAL_CHANNEL_ID, "message_id": BOT_MESSAGE_ID, "content": "v2" });
    let error = error_of(
        &connector,
        "discord_edit_message",
        &arguments.to_string(),
        &bot(),
    )
    .await;
    assert_kind(&error, ErrorKind::Transport);
    let details = details(&error);
    assert_eq!(
        (&details["retried"], &details["may_have_applied"]),
        (&json!(false), &json!(true)),
        "{details}"
    );
    assert_eq!(
        requests_to(&sandbox, "PATCH", "/channels/").len(),
        1,
        "not sent again"
    );
    let stored = sandbox.message(GENERAL_CHANNEL_ID, BOT_MESSAGE_ID).unwrap();
    assert_eq!(stored["content"], "v2", "it had applied");
}

#[tokio::test]
async fn reaction_emoji_reach_discord_in_every_form() {
    let (sandbox, connector) = unlimited().await;
    let (sandcastle, sparkle) = (CUSTOM_EMOJI, ANIMATED_EMOJI);
    let custom_id = sandcastle.split_once(':').unwrap().1;
    let animated_id = sparkle.split_once(':').unwrap().1;
    let tagged = format!("<:{sandcastle}>");
    let animated = format!("<a:{sparkle}>");
    // (emoji given, path segment sent, the reaction's emoji the sandbox holds).
    let cases: [(&str, &str, Value); 5] = [
        (
            "❤️",
            "%E2%9D%A4%EF%B8%8F",
            json!({ "name": "❤️", "id": null }),
        ),
        (
            "👩‍💻",
            "%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB",
            json!({ "name": "👩‍💻", "id": null }),
        ),
        (
            sandcastle,
            sandcastle,
            json!({ "name": "sandcastle", "id": custom_id }),
        ),
        (
            &tagged,
            sandcastle,
            json!({ "name": "sandcastle", "id": custom_id }),
        ),
        (
            &animated,
            sparkle,
            json!({ "name": "sparkle", "id": animated_id }),
        ),
    ];
    let m = HELLO_MESSAGE_ID;
    for (emoji, segment, held_emoji) in cases {
        let arguments =
            json!({ "channel_id": GENERAL_CHANNEL_ID, "message_id": m, "emoji": emoji });
        let output = json_of(
            &connector,
            "discord_add_reaction",
            &arguments.to_string(),
            &bot(),
        )
        .await;
        assert_eq!(output, json!({}));
        let request = sandbox.requests().pop().unwrap();
        assert_eq!(
            request.path(),
            format!("/api/v10/channels/{GENERAL_CHANNEL_ID}/messages/{m}/reactions/{segment}/@me"),
            "{emoji}"
        );
        let message = sandbox.message(GENERAL_CHANNEL_ID, m).unwrap();
        let held = message["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|reaction| {
                reaction["emoji"]["name"] == held_emoji["name"]
                    && reaction["emoji"]["id"] == held_emoji["id"]
                    && reaction["me"] == true
            });
        assert!(held, "{emoji}: {}", message["reactions"]);

        json_of(
            &connector,
            "discord_remove_reaction",
            &arguments.to_string(),
            &bot(),
        )
        .await;
        let request = sandbox.requests().pop().unwrap();
        assert_eq!(
            (request.method.as_str(), request.path().contains(segment)),
            ("DELETE", true)
        );
    }
    let message = sandbox.message(GENERAL_CHANNEL_ID, m).unwrap();
    let mine = message["reactions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|reaction| reaction["me"] == true)
        .count();
    assert_eq!(mine, 0, "every reaction taken back");
}

#[tokio::test]
async fn audit_log_reasons_are_percent_encoded_utf8_and_absent_without_one() {
    let (sandbox, connector) = unlimited().await;
    let reason = "Nettoyage: spam répété + liens 🤖";
    let encoded = "Nettoyage%3A%20spam%20r%C3%A9p%C3%A9t%C3%A9%20%2B%20liens%20%F0%9F%A4%96";
    let g = GENERAL_CHANNEL_ID;
    let calls = [
        (
            "discord_pin_message",
            json!({ "channel_id": g, "message_id": HELLO_MESSAGE_ID }),
        ),
        (
            "discord_unpin_message",
            json!({ "channel_id": g, "message_id": HELLO_MESSAGE_ID }),
        ),
        (
            "discord_create_thread",
            json!({ "channel_id": g, "name": "Triage" }),
        ),
        (
            "discord_create_thread_from_message",
            json!({ "channel_id": BOT_LAB_CHANNEL_ID, "message_id": BOT_LAB_MESSAGE_ID, "name": "Triage" }),
        ),
        (
            "discord_delete_message",
            json!({ "channel_id": g, "message_id": BOT_MESSAGE_ID }),
        ),
    ];
    for (tool, arguments) in &calls {
        let mut with_reason = arguments.clone();
        with_reason["reason"] = json!(reason);
        json_of(&connector, tool, &with_reason.to_string(), &bot()).await;
        let request = sandbox.requests().pop().unwrap();
        assert_eq!(
            request.header("x-audit-log-reason"),
            Some(encoded),
            "{tool}"
        );
        assert_eq!(
            request.audit_log_reason().as_deref(),
            Some(reason),
            "{tool}"
        );
    }
    // Without a reason: no header at all (the thread from the message and
    // the deleted message exist now, so only the first three again).
    for (tool, arguments) in &calls[..3] {
        json_of(&connector, tool, &arguments.to_string(), &bot()).await;
        let request = sandbox.requests().pop().unwrap();
        assert_eq!(request.header("x-audit-log-reason"), None, "{tool}");
    }
    let reason_of_513 = "é".repeat(512);
    let arguments =
        json!({ "channel_id": g, "message_id": HELLO_MESSAGE_ID, "reason": reason_of_513 });
    json_of(
        &connector,
        "discord_pin_message",
        &arguments.to_string(),
        &bot(),
    )
    .await;
    let request = sandbox.requests().pop().unwrap();
    assert_eq!(
        request.audit_log_reason().as_deref(),
        Some(reason_of_513.as_str()),
        "512 characters, counted before encoding"
    );
}

#[tokio::test]
async fn user_tokens_are_refused_by_every_bot_tool_before_sending() {
    let (sandbox, connector) = unlimited().await;
    for case in every_bot_tool() {
        let error = error_of(&connector, case.tool, &case.arguments.to_string(), &user()).await;
        assert_kind(&error, ErrorKind::MissingCredential);
        let none = error_of(
            &connector,
            case.tool,
            &case.arguments.to_string(),
            &Credential::None,
        )
        .await;
        assert_kind(&none, ErrorKind::MissingCredential);
    }
    assert_eq!(sandbox.requests(), [], "nothing reached the sandbox");
}

#[tokio::test]
async fn discord_tools_limits_what_is_listed_and_what_runs() {
    let (sandbox, connector) = unlimited().await;
    let read_only = connector.with_env("DISCORD_TOOLS", "discord_get_*,discord_list_*");
    let listed: Vec<String> = read_only
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name)
        .collect();
    assert!(
        listed
            .iter()
            .all(|name| name.starts_with("discord_get_") || name.starts_with("discord_list_")),
        "{listed:?}"
    );
    for expected in [
        "discord_get_message",
        "discord_list_guild_channels",
        "discord_get_gateway",
    ] {
        assert!(
            listed.iter().any(|name| name == expected),
            "{expected}: {listed:?}"
        );
    }
    for hidden in [
        "discord_send_message",
        "discord_delete_message",
        "discord_resolve_invite",
    ] {
        assert!(!listed.iter().any(|name| name == hidden), "{hidden}");
    }

    let send = json!({ "channel_id": GENERAL_CHANNEL_ID, "content": "hi" }).to_string();
    let error = error_of(&read_only, "discord_send_message", &send, &bot()).await;
    assert_kind(&error, ErrorKind::UnknownTool);
    assert_eq!(sandbox.requests(), [], "a filtered-out tool sends nothing");

    let channel = json!({ "channel_id": GENERAL_CHANNEL_ID }).to_string();
    let fetched = json_of(&read_only, "discord_get_channel", &channel, &bot()).await;
    assert_eq!(fetched["id"], GENERAL_CHANNEL_ID, "an offered tool runs");

    let exact = read_only.with_env("DISCORD_TOOLS", "discord_send_message");
    let only: Vec<String> = exact
        .list_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|tool| tool.name)
        .collect();
    assert_eq!(only, ["discord_send_message"]);
    let error = error_of(&exact, "discord_get_channel", &channel, &bot()).await;
    assert_kind(&error, ErrorKind::UnknownTool);
}

/// How many reactions a burst sends to one channel.
const BURST: usize = 20;

/// What a burst left: how many of its calls were done when the other
/// channel's last call was, and the requests the sandbox saw.
struct BurstReport {
    done_by_then: usize,
    burst_requests: usize,
    other_requests: usize,
    rate_limited: usize,
}

/// Sends [`BURST`] reactions to `#general` at once through a shared
/// `DiscordLimiter`; once one of them is through (the rest are queued on
/// the channel's bucket), makes `others` reactions to `#bot-lab`, one
/// after another, and counts how many of the burst were done by then.
async fn burst_with_other_channel(others: usize) -> BurstReport {
    let (sandbox, connector) = setup().await;
    let connector = connector.with_limiter(Arc::new(DiscordLimiter::default()));
    let react = |channel: &str, message: &str| {
        json!({ "channel_id": channel, "message_id": message, "emoji": "🔥" }).to_string()
    };
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let burst: Vec<_> = (0..BURST)
        .map(|_| {
            let connector = connector.clone();
            let arguments = react(GENERAL_CHANNEL_ID, HELLO_MESSAGE_ID);
            let done = done.clone();
            tokio::spawn(async move {
                let result = connector
                    .execute_tool("discord_add_reaction", &arguments, &bot())
                    .await;
                let _ = done.send(());
                result.map(|_| ()).map_err(|error| error.to_string())
            })
        })
        .collect();
    drop(done);

    finished.recv().await.expect("a burst call finishes");
    for _ in 0..others {
        let arguments = react(BOT_LAB_CHANNEL_ID, BOT_LAB_MESSAGE_ID);
        let output = json_of(&connector, "discord_add_reaction", &arguments, &bot()).await;
        assert_eq!(output, json!({}));
    }
    let mut done_by_then = 1;
    while finished.try_recv().is_ok() {
        done_by_then += 1;
    }
    for call in burst {
        call.await
            .unwrap()
            .expect("every reaction of the burst succeeds");
    }
    let reactions = |channel: &str| {
        requests_to(&sandbox, "PUT", &format!("/channels/{channel}/messages/")).len()
    };
    let report = BurstReport {
        done_by_then,
        burst_requests: reactions(GENERAL_CHANNEL_ID),
        other_requests: reactions(BOT_LAB_CHANNEL_ID),
        rate_limited: sandbox.rate_limited_count(),
    };
    eprintln!(
        "burst: {} reaction requests to #general for {BURST} calls, {} to #bot-lab for {others} \
         calls (done when {} of the burst were), {} answers of 429, {} requests in all",
        report.burst_requests,
        report.other_requests,
        report.done_by_then,
        report.rate_limited,
        sandbox.requests().len(),
    );
    report
}

/// A burst of 20 reactions to one channel through the host's limiter: it
/// learns the channel's reaction bucket from the sandbox's headers and
/// spaces the burst out, so the sandbox answers no 429 and no call is sent
/// twice; a reaction to another channel is done while the burst waits.
#[tokio::test]
async fn a_burst_of_reactions_gets_no_429_while_another_channel_goes_through() {
    let report = burst_with_other_channel(1).await;
    assert_eq!(report.rate_limited, 0, "no 429 from the sandbox");
    assert_eq!(report.burst_requests, BURST, "one request per call");
    assert_eq!(report.other_requests, 1);
    assert!(
        report.done_by_then < BURST,
        "the other channel's call was done while the burst waited ({} of {BURST} done)",
        report.done_by_then
    );
}

/// Every later call to the other channel is not slowed either: Discord's
/// `X-RateLimit-Bucket` names a bucket without its major parameter (the
/// sandbox's is the same for every channel's reactions), and the limiter
/// keys the buckets it shares by that name and the channel together.
#[tokio::test]
async fn later_calls_to_another_channel_do_not_queue_behind_the_burst() {
    let report = burst_with_other_channel(3).await;
    assert_eq!(report.rate_limited, 0, "no 429 from the sandbox");
    assert!(
        report.done_by_then < BURST,
        "the other channel's calls were done while the burst waited ({} of {BURST} done)",
        report.done_by_then
    );
}

/// The demo's bot flow (`host-test demo`) succeeds step by step, and what
/// its lines say happened did happen in the sandbox.
#[tokio::test]
async fn the_demos_bot_flow_succeeds_and_leaves_its_traces() {
    let (sandbox, connector) = setup().await;
    let steps = host_test::demo::run_bot(&connector).await;
    let tools: Vec<&str> = steps.iter().map(|step| step.call.tool).collect();
    assert_eq!(
        tools,
        [
            "discord_list_guild_channels",
            "discord_send_message",
            "discord_send_message",
            "discord_add_reaction",
            "discord_pin_message",
            "discord_create_thread_from_message",
            "discord_create_dm",
            "discord_send_message",
        ]
    );
    assert_eq!(steps.len(), host_test::demo::BOT_FLOW_STEPS);
    for step in &steps {
        assert!(step.result.is_ok(), "{}", step.line());
        assert!(step.line().starts_with("ok   discord_"), "{}", step.line());
    }
    assert_eq!(
        sandbox.messages_created(GENERAL_CHANNEL_ID),
        2,
        "a message and a reply"
    );
    let greeting = requests_to(&sandbox, "PUT", "/channels/")[0]
        .path()
        .split('/')
        .nth(6)
        .unwrap()
        .to_owned();
    let message = sandbox.message(GENERAL_CHANNEL_ID, &greeting).unwrap();
    assert_eq!(message["pinned"], true);
    assert_eq!(message["reactions"][0]["emoji"]["name"], "👍");
    assert_eq!(message["thread"]["name"], "Greeting thread");
    let dm = steps[6].result.as_ref().unwrap();
    let dm_channel = dm.split_whitespace().nth(2).unwrap();
    assert_eq!(sandbox.messages_created(dm_channel), 1, "{dm}");
    assert_eq!(sandbox.rate_limited_count(), 0);

    // A step that fails stops the flow, and the demo then fails.
    let (_stopped, connector) = setup().await;
    let stopped =
        host_test::demo::run_bot(&connector.with_env("DISCORD_TOOLS", "discord_list_*")).await;
    assert_eq!(stopped.len(), 2, "stopped at the first send");
    assert!(stopped[1].result.is_err(), "{}", stopped[1].line());
    assert!(stopped[1].line().starts_with("FAIL discord_send_message"));
}
