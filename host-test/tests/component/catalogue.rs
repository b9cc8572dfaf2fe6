//! `list-tools`: every name, its credentials, scopes and schema.

use discord_host::CredentialKind;
use serde_json::{Value, json};

use crate::common::compiled;

const ANYONE: &[CredentialKind] = &[
    CredentialKind::None,
    CredentialKind::Bearer,
    CredentialKind::Bot,
];
const USER_OR_BOT: &[CredentialKind] = &[CredentialKind::Bearer, CredentialKind::Bot];
const USER_ONLY: &[CredentialKind] = &[CredentialKind::Bearer];
const BOT_ONLY: &[CredentialKind] = &[CredentialKind::Bot];

/// The table: name, accepted credentials, scopes.
pub const TABLE: [(&str, &[CredentialKind], &[&str]); 37] = [
    ("discord_add_reaction", BOT_ONLY, &[]),
    ("discord_create_dm", BOT_ONLY, &[]),
    ("discord_create_thread", BOT_ONLY, &[]),
    ("discord_create_thread_from_message", BOT_ONLY, &[]),
    ("discord_delete_message", BOT_ONLY, &[]),
    ("discord_edit_message", BOT_ONLY, &[]),
    ("discord_get_channel", BOT_ONLY, &[]),
    (
        "discord_get_current_user_application_entitlements",
        USER_ONLY,
        &["applications.entitlements"],
    ),
    ("discord_get_gateway", ANYONE, &[]),
    ("discord_get_guild", BOT_ONLY, &[]),
    ("discord_get_guild_member", BOT_ONLY, &[]),
    ("discord_get_guild_template", ANYONE, &[]),
    ("discord_get_guild_widget", ANYONE, &[]),
    ("discord_get_guild_widget_png", ANYONE, &[]),
    ("discord_get_invite_deprecated", ANYONE, &[]),
    ("discord_get_message", BOT_ONLY, &[]),
    (
        "discord_get_my_guild_member",
        USER_ONLY,
        &["guilds.members.read"],
    ),
    ("discord_get_my_oauth2_authorization", USER_ONLY, &[]),
    ("discord_get_my_user", USER_OR_BOT, &["identify"]),
    (
        "discord_get_openid_connect_userinfo",
        USER_ONLY,
        &["openid"],
    ),
    ("discord_get_public_keys", ANYONE, &[]),
    ("discord_get_user", USER_OR_BOT, &["identify"]),
    ("discord_list_active_threads", BOT_ONLY, &[]),
    ("discord_list_guild_channels", BOT_ONLY, &[]),
    ("discord_list_guild_members", BOT_ONLY, &[]),
    ("discord_list_messages", BOT_ONLY, &[]),
    ("discord_list_my_guilds", USER_OR_BOT, &["guilds"]),
    ("discord_list_pinned_messages", BOT_ONLY, &[]),
    ("discord_list_sticker_packs", ANYONE, &[]),
    ("discord_pin_message", BOT_ONLY, &[]),
    ("discord_remove_reaction", BOT_ONLY, &[]),
    ("discord_resolve_invite", ANYONE, &[]),
    (
        "discord_retrieve_user_connections",
        USER_ONLY,
        &["connections"],
    ),
    ("discord_search_guild_members", BOT_ONLY, &[]),
    ("discord_send_message", BOT_ONLY, &[]),
    ("discord_trigger_typing", BOT_ONLY, &[]),
    ("discord_unpin_message", BOT_ONLY, &[]),
];

async fn schemas() -> Vec<(String, Value)> {
    let tools = compiled().list_tools().await.expect("no trap");
    tools
        .into_iter()
        .map(|tool| {
            (
                tool.name,
                serde_json::from_str(&tool.input_schema).expect("schemas are JSON"),
            )
        })
        .collect()
}

fn schema_of<'a>(schemas: &'a [(String, Value)], name: &str) -> &'a Value {
    &schemas
        .iter()
        .find(|(tool, _)| tool == name)
        .expect("listed")
        .1
}

#[tokio::test]
async fn lists_every_tool_with_its_credentials_and_scopes() {
    let tools = compiled().list_tools().await.expect("no trap");
    assert_eq!(tools.len(), TABLE.len());
    for ((name, accepts, scopes), tool) in TABLE.iter().zip(&tools) {
        assert_eq!(tool.name, *name);
        assert_eq!(tool.accepts, *accepts, "{name}");
        assert_eq!(tool.scopes, *scopes, "{name}");
        assert!(
            tool.description.len() > 40 && tool.description.ends_with('.'),
            "{name}: {}",
            tool.description
        );
    }
}

/// The README's tool table says what the catalogue declares: each row's
/// name, accepted credentials and scope, in the catalogue's order.
#[tokio::test]
async fn the_readme_table_matches_the_catalogue() {
    let readme = include_str!("../../../README.md");
    let rows: Vec<Vec<String>> = readme
        .lines()
        .filter(|line| line.starts_with("| `discord_"))
        .map(|line| {
            line.split('|')
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect();
    let tools = compiled().list_tools().await.expect("the catalogue");
    assert_eq!(rows.len(), tools.len());
    for (row, tool) in rows.iter().zip(&tools) {
        let accepts: Vec<String> = tool.accepts.iter().map(ToString::to_string).collect();
        let scopes = if tool.scopes.is_empty() {
            "–".to_owned()
        } else {
            tool.scopes.join(", ")
        };
        assert_eq!(row[1], tool.name);
        assert_eq!(row[4], accepts.join(", "), "{}", tool.name);
        assert_eq!(row[5], scopes, "{}", tool.name);
    }
}

#[tokio::test]
async fn every_schema_is_a_closed_object() {
    for (name, schema) in schemas().await {
        assert_eq!(schema["type"], "object", "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
        assert!(schema["properties"].is_object(), "{name}");
    }
}

#[tokio::test]
async fn schemas_carry_types_bounds_enums_and_patterns() {
    let schemas = schemas().await;
    let snowflake = json!("^[0-9]{1,20}$");

    let entitlements = schema_of(
        &schemas,
        "discord_get_current_user_application_entitlements",
    );
    assert_eq!(entitlements["required"], json!(["application_id"]));
    assert_eq!(
        entitlements["properties"]["application_id"]["pattern"],
        snowflake
    );
    assert_eq!(entitlements["properties"]["limit"]["minimum"], 1);
    assert_eq!(entitlements["properties"]["limit"]["maximum"], 100);
    assert_eq!(entitlements["properties"]["sku_ids"]["maxItems"], 100);
    assert_eq!(
        entitlements["properties"]["sku_ids"]["items"]["pattern"],
        snowflake
    );
    for flag in ["exclude_consumed", "exclude_deleted", "exclude_ended"] {
        assert_eq!(
            entitlements["properties"][flag]["type"],
            json!(["boolean", "null"]),
            "{flag}"
        );
    }

    let guilds = schema_of(&schemas, "discord_list_my_guilds");
    assert_eq!(guilds["properties"]["limit"]["maximum"], 200);
    assert_eq!(guilds["properties"]["after"]["pattern"], snowflake);
    assert_eq!(guilds["properties"]["before"]["pattern"], snowflake);

    let png = schema_of(&schemas, "discord_get_guild_widget_png");
    assert_eq!(
        png["properties"]["style"]["enum"],
        json!(["shield", "banner1", "banner2", "banner3", "banner4", null])
    );

    let user = schema_of(&schemas, "discord_get_user");
    assert_eq!(
        user["properties"]["user_id"]["pattern"],
        "^(@me|[0-9]{1,20})$"
    );

    let resolve = schema_of(&schemas, "discord_resolve_invite");
    assert_eq!(resolve["required"], json!(["invite_code"]));
    assert_eq!(
        resolve["properties"]["guild_scheduled_event_id"]["pattern"],
        snowflake
    );
    assert!(
        resolve["properties"]["invite_code"]["pattern"]
            .as_str()
            .unwrap()
            .contains("discord\\.gg/")
    );

    for name in [
        "discord_get_gateway",
        "discord_get_my_user",
        "discord_list_sticker_packs",
    ] {
        assert_eq!(schema_of(&schemas, name)["properties"], json!({}), "{name}");
    }
}
