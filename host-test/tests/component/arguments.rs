//! Bad arguments: refused with the field and what was expected, and
//! nothing reaches the sandbox.

use discord_host::{ComponentErrorKind as ErrorKind, Credential};

use crate::common::{assert_kind, error_of, json_of, setup, user};

/// (tool, arguments, words the message must hold).
const BAD: &[(&str, &str, &str)] = &[
    // Not a JSON object.
    ("discord_get_gateway", "[]", "JSON object, got an array"),
    ("discord_get_gateway", "\"{}\"", "JSON object, got a string"),
    ("discord_get_gateway", "null", "JSON object, got null"),
    ("discord_get_gateway", "{", "not valid JSON"),
    ("discord_get_gateway", "", "not valid JSON"),
    // Missing required.
    ("discord_get_user", "{}", "missing field `user_id`"),
    (
        "discord_get_guild_widget",
        r#"{"guild": "1"}"#,
        "unknown field `guild`",
    ),
    (
        "discord_get_current_user_application_entitlements",
        r#"{"limit": 5}"#,
        "missing field `application_id`",
    ),
    // Wrong type.
    (
        "discord_list_my_guilds",
        r#"{"limit": "5"}"#,
        "`limit`: invalid type: string \"5\", expected an integer from 1 to 200",
    ),
    (
        "discord_list_my_guilds",
        r#"{"limit": 2.5}"#,
        "`limit`: invalid type: floating point `2.5`",
    ),
    (
        "discord_list_my_guilds",
        r#"{"with_counts": 1}"#,
        "`with_counts`: invalid type: integer `1`, expected a boolean",
    ),
    (
        "discord_get_guild_widget",
        r#"{"guild_id": 613425648685547541}"#,
        "`guild_id`: invalid type: integer",
    ),
    // Out of range.
    (
        "discord_list_my_guilds",
        r#"{"limit": 0}"#,
        "`limit`: invalid value: integer `0`, expected an integer from 1 to 200",
    ),
    (
        "discord_list_my_guilds",
        r#"{"limit": 201}"#,
        "`limit`: invalid value: integer `201`",
    ),
    (
        "discord_list_my_guilds",
        r#"{"limit": -1}"#,
        "`limit`: invalid value: integer `-1`",
    ),
    (
        "discord_get_current_user_application_entitlements",
        r#"{"application_id": "1", "limit": 101}"#,
        "`limit`: invalid value: integer `101`, expected an integer from 1 to 100",
    ),
    // Unknown property.
    (
        "discord_get_gateway",
        r#"{"verbose": true}"#,
        "unknown field `verbose`",
    ),
    (
        "discord_get_my_user",
        r#"{"user_id": "1"}"#,
        "unknown field `user_id`",
    ),
    // Not a snowflake.
    (
        "discord_get_guild_widget",
        r#"{"guild_id": "general"}"#,
        "`guild_id`: invalid value: string \"general\", expected a snowflake",
    ),
    (
        "discord_get_guild_widget",
        r#"{"guild_id": "123456789012345678901"}"#,
        "`guild_id`",
    ),
    (
        "discord_get_guild_widget",
        r#"{"guild_id": "-1"}"#,
        "`guild_id`",
    ),
    (
        "discord_get_guild_widget",
        r#"{"guild_id": ""}"#,
        "`guild_id`",
    ),
    (
        "discord_list_my_guilds",
        r#"{"after": "1 OR 1=1"}"#,
        "`after`",
    ),
    (
        "discord_get_user",
        r#"{"user_id": "@you"}"#,
        "`user_id`: invalid value: string \"@you\", expected a snowflake id (a string of 1 to 20 digits) or \"@me\"",
    ),
    (
        "discord_get_user",
        r#"{"user_id": "../guilds/1"}"#,
        "`user_id`",
    ),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "abc", "guild_scheduled_event_id": "x"}"#,
        "`guild_scheduled_event_id`",
    ),
    (
        "discord_get_current_user_application_entitlements",
        r#"{"application_id": "1", "sku_ids": ["1", "two"]}"#,
        "`sku_ids[1]`",
    ),
    // Unsafe codes.
    (
        "discord_resolve_invite",
        r#"{"invite_code": "../../users/@me"}"#,
        "`invite_code`: invalid value",
    ),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "abc?with_counts=true"}"#,
        "`invite_code`",
    ),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "a b"}"#,
        "`invite_code`",
    ),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "abc%2F.."}"#,
        "`invite_code`",
    ),
    (
        "discord_resolve_invite",
        r#"{"invite_code": "https://evil.example/abc"}"#,
        "`invite_code`",
    ),
    (
        "discord_get_invite_deprecated",
        r#"{"invite_code": "https://discord.gg/"}"#,
        "`invite_code`",
    ),
    (
        "discord_get_guild_template",
        r#"{"template_code": "hgM48av5Q69A/../../x"}"#,
        "`template_code`",
    ),
    (
        "discord_get_guild_template",
        r#"{"template_code": "ünïcode"}"#,
        "`template_code`",
    ),
    // Not one of the styles.
    (
        "discord_get_guild_widget_png",
        r#"{"guild_id": "1", "style": "banner9"}"#,
        "`style`: unknown variant `banner9`, expected one of",
    ),
];

#[tokio::test]
async fn every_bad_input_names_the_field_and_sends_nothing() {
    let (sandbox, connector) = setup().await;
    for (tool, arguments, expected) in BAD {
        let error = error_of(&connector, tool, arguments, &user()).await;
        assert_kind(&error, ErrorKind::InvalidArguments);
        assert!(
            error.message.contains(expected),
            "{tool} {arguments}: {}",
            error.message
        );
        assert!(
            error
                .message
                .starts_with(&format!("invalid arguments for {tool}: ")),
            "{}",
            error.message
        );
    }
    let too_many: Vec<String> = (0..101).map(|n| format!("\"{n}\"")).collect();
    let arguments = format!(
        r#"{{"application_id": "1", "sku_ids": [{}]}}"#,
        too_many.join(",")
    );
    let error = error_of(
        &connector,
        "discord_get_current_user_application_entitlements",
        &arguments,
        &user(),
    )
    .await;
    assert!(
        error
            .message
            .contains("`sku_ids`: invalid length 101, expected at most 100"),
        "{}",
        error.message
    );

    assert!(
        sandbox.requests().is_empty(),
        "nothing reached the sandbox: {:?}",
        sandbox.requests()
    );
}

#[tokio::test]
async fn invite_and_template_links_are_reduced_to_their_codes() {
    let (sandbox, connector) = setup().await;
    for link in [
        "https://discord.gg/discord-developers",
        "discord.com/invite/discord-developers",
        "http://www.discordapp.com/invite/discord-developers",
    ] {
        let arguments = serde_json::json!({ "invite_code": link }).to_string();
        let invite = json_of(
            &connector,
            "discord_resolve_invite",
            &arguments,
            &Credential::None,
        )
        .await;
        assert_eq!(invite["code"], "discord-developers");
    }
    json_of(
        &connector,
        "discord_get_guild_template",
        r#"{"template_code": "https://discord.new/hgM48av5Q69A"}"#,
        &Credential::None,
    )
    .await;
    let paths: Vec<String> = sandbox
        .requests()
        .into_iter()
        .map(|request| request.path_and_query)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/v10/invites/discord-developers",
            "/api/v10/invites/discord-developers",
            "/api/v10/invites/discord-developers",
            "/api/v10/guilds/templates/hgM48av5Q69A",
        ]
    );
}

#[tokio::test]
async fn null_optional_fields_count_as_absent() {
    let (sandbox, connector) = setup().await;
    json_of(
        &connector,
        "discord_list_my_guilds",
        r#"{"limit": null, "with_counts": null}"#,
        &user(),
    )
    .await;
    assert_eq!(
        sandbox.requests()[0].path_and_query,
        "/api/v10/users/@me/guilds"
    );
}
