//! The 16 Discord tools: each declared once, as an argument struct (its
//! fields are the tool's JSON Schema) and a [`Tool`] impl (name,
//! description, scopes, credentials, endpoint).
//!
//! To add a tool: declare its struct and impl below, add its [`Route`], and
//! list it in [`CATALOGUE`].
//!
//! ```
//! use discord_connector::catalogue;
//!
//! let tool = catalogue::find("discord_get_user").unwrap();
//! let endpoint = tool.plan(r#"{"user_id": "@me"}"#).unwrap();
//! assert_eq!(endpoint.path_and_query(), "/users/@me");
//! assert_eq!(endpoint.method().to_string(), "GET");
//! ```

use schemars::JsonSchema;
use serde::Deserialize;

use crate::arguments::{
    Bounded, InviteCode, Snowflake, SnowflakeList, TemplateCode, UserRef, WidgetStyle,
};
use crate::credential::{ANYONE, CredentialKind, USER_ONLY, USER_OR_BOT};
use crate::response::OutputKind;
use crate::route::{Endpoint, Route};
use crate::tool::{Tool, ToolSpec};

/// Every tool, in the order `list-tools` gives them.
pub static CATALOGUE: [ToolSpec; 16] = [
    ToolSpec::of::<GetCurrentUserApplicationEntitlements>(),
    ToolSpec::of::<GetGateway>(),
    ToolSpec::of::<GetGuildTemplate>(),
    ToolSpec::of::<GetGuildWidget>(),
    ToolSpec::of::<GetGuildWidgetPng>(),
    ToolSpec::of::<GetInviteDeprecated>(),
    ToolSpec::of::<GetMyGuildMember>(),
    ToolSpec::of::<GetMyOAuth2Authorization>(),
    ToolSpec::of::<GetMyUser>(),
    ToolSpec::of::<GetOpenIdConnectUserInfo>(),
    ToolSpec::of::<GetPublicKeys>(),
    ToolSpec::of::<GetUser>(),
    ToolSpec::of::<ListMyGuilds>(),
    ToolSpec::of::<ListStickerPacks>(),
    ToolSpec::of::<ResolveInvite>(),
    ToolSpec::of::<RetrieveUserConnections>(),
];

/// The tool called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    CATALOGUE.iter().find(|tool| tool.name == name)
}

/// Arguments of `discord_get_current_user_application_entitlements`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetCurrentUserApplicationEntitlements {
    /// The application whose entitlements the user holds.
    application_id: Snowflake,
    /// Only these SKUs (at most 100 ids).
    sku_ids: Option<SnowflakeList>,
    /// Leave out consumed one-time purchases.
    exclude_consumed: Option<bool>,
    /// Leave out deleted entitlements.
    exclude_deleted: Option<bool>,
    /// Leave out entitlements whose period has ended.
    exclude_ended: Option<bool>,
    /// How many entitlements to return (1 to 100).
    limit: Option<Bounded<1, 100>>,
}

impl Tool for GetCurrentUserApplicationEntitlements {
    const NAME: &'static str = "discord_get_current_user_application_entitlements";
    const DESCRIPTION: &'static str = "List the premium entitlements (SKUs bought or granted) the \
        signed-in user holds for one application. Needs a user OAuth token with the \
        applications.entitlements scope.";
    const SCOPES: &'static [&'static str] = &["applications.entitlements"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentUserEntitlements {
            application_id: self.application_id.as_str(),
        })
        .query("sku_ids", self.sku_ids.as_ref())
        .query("exclude_consumed", self.exclude_consumed)
        .query("exclude_deleted", self.exclude_deleted)
        .query("exclude_ended", self.exclude_ended)
        .query("limit", self.limit)
    }
}

/// Arguments of `discord_get_gateway` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGateway {}

impl Tool for GetGateway {
    const NAME: &'static str = "discord_get_gateway";
    const DESCRIPTION: &'static str = "Get the WebSocket URL a client connects to for Discord's \
        real-time gateway. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::Gateway)
    }
}

/// Arguments of `discord_get_guild_template`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildTemplate {
    /// The template code, or a discord.new link.
    template_code: TemplateCode,
}

impl Tool for GetGuildTemplate {
    const NAME: &'static str = "discord_get_guild_template";
    const DESCRIPTION: &'static str = "Look up a server template by its code: its name, usage \
        count, creator and the roles and channels it would create. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::GuildTemplate {
            code: self.template_code.as_str(),
        })
    }
}

/// Arguments of `discord_get_guild_widget`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildWidget {
    /// The guild (server) id.
    guild_id: Snowflake,
}

impl Tool for GetGuildWidget {
    const NAME: &'static str = "discord_get_guild_widget";
    const DESCRIPTION: &'static str = "Get a server's public widget as JSON: its name, instant \
        invite, voice channels and online members. The server must have its widget enabled; \
        works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::GuildWidget {
            guild_id: self.guild_id.as_str(),
        })
    }
}

/// Arguments of `discord_get_guild_widget_png`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildWidgetPng {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// The image style; Discord's default is `shield`.
    style: Option<WidgetStyle>,
}

impl Tool for GetGuildWidgetPng {
    const NAME: &'static str = "discord_get_guild_widget_png";
    const DESCRIPTION: &'static str = "Get a server's widget as a PNG image (a badge or banner \
        with its online count), returned as binary image/png. The server must have its widget \
        enabled; works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;
    const OUTPUT: OutputKind = OutputKind::Png;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::GuildWidgetImage {
            guild_id: self.guild_id.as_str(),
        })
        .query("style", self.style)
    }
}

/// Arguments of `discord_get_invite_deprecated`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetInviteDeprecated {
    /// The invite code, or a discord.gg / discord.com/invite link.
    invite_code: InviteCode,
    /// Include approximate member and online counts.
    with_counts: Option<bool>,
    /// Include the expiry date (Discord now always sends it).
    with_expiration: Option<bool>,
}

impl Tool for GetInviteDeprecated {
    const NAME: &'static str = "discord_get_invite_deprecated";
    const DESCRIPTION: &'static str = "Older form of discord_resolve_invite: look up an invite's \
        server, channel and inviter, with optional counts. Prefer discord_resolve_invite; works \
        without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::Invite {
            code: self.invite_code.as_str(),
        })
        .query("with_counts", self.with_counts)
        .query("with_expiration", self.with_expiration)
    }
}

/// Arguments of `discord_get_my_guild_member`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyGuildMember {
    /// The guild (server) id.
    guild_id: Snowflake,
}

impl Tool for GetMyGuildMember {
    const NAME: &'static str = "discord_get_my_guild_member";
    const DESCRIPTION: &'static str = "Get the signed-in user's membership in one server: \
        nickname, roles, join date and server avatar. Needs a user OAuth token with the \
        guilds.members.read scope.";
    const SCOPES: &'static [&'static str] = &["guilds.members.read"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentUserGuildMember {
            guild_id: self.guild_id.as_str(),
        })
    }
}

/// Arguments of `discord_get_my_oauth2_authorization` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyOAuth2Authorization {}

impl Tool for GetMyOAuth2Authorization {
    const NAME: &'static str = "discord_get_my_oauth2_authorization";
    const DESCRIPTION: &'static str = "Describe the current OAuth authorization: the \
        application, the scopes granted, when the token expires and (with identify) the user. \
        Needs a user OAuth token, any scope.";
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentAuthorization)
    }
}

/// Arguments of `discord_get_my_user` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyUser {}

impl Tool for GetMyUser {
    const NAME: &'static str = "discord_get_my_user";
    const DESCRIPTION: &'static str = "Get the account behind the token: id, username, global \
        name, avatar, and email when the email scope was granted. Needs a user OAuth token with \
        the identify scope, or a bot token.";
    const SCOPES: &'static [&'static str] = &["identify"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentUser)
    }
}

/// Arguments of `discord_get_openid_connect_userinfo` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOpenIdConnectUserInfo {}

impl Tool for GetOpenIdConnectUserInfo {
    const NAME: &'static str = "discord_get_openid_connect_userinfo";
    const DESCRIPTION: &'static str = "Get the signed-in user as OpenID Connect claims (sub, \
        preferred_username, picture, email when granted). Needs a user OAuth token with the \
        openid scope.";
    const SCOPES: &'static [&'static str] = &["openid"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::OpenIdUserInfo)
    }
}

/// Arguments of `discord_get_public_keys` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPublicKeys {}

impl Tool for GetPublicKeys {
    const NAME: &'static str = "discord_get_public_keys";
    const DESCRIPTION: &'static str = "Get Discord's OAuth2 / OpenID Connect signing keys as a \
        JSON Web Key Set, to verify ID tokens. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::OAuth2Keys)
    }
}

/// Arguments of `discord_get_user`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetUser {
    /// The user's id, or "@me" for the token's own account.
    user_id: UserRef,
}

impl Tool for GetUser {
    const NAME: &'static str = "discord_get_user";
    const DESCRIPTION: &'static str = "Get any user's public profile by id (username, global \
        name, avatar, banner, bot flag), or \"@me\" for the token's own account. Needs a bot \
        token, or a user OAuth token with the identify scope.";
    const SCOPES: &'static [&'static str] = &["identify"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::User {
            user_id: self.user_id.as_str(),
        })
    }
}

/// Arguments of `discord_list_my_guilds`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMyGuilds {
    /// Only servers with an id after this one (for paging forward).
    after: Option<Snowflake>,
    /// Only servers with an id before this one (for paging back).
    before: Option<Snowflake>,
    /// How many servers to return (1 to 200; Discord's default is 200).
    limit: Option<Bounded<1, 200>>,
    /// Include approximate member and online counts.
    with_counts: Option<bool>,
}

impl Tool for ListMyGuilds {
    const NAME: &'static str = "discord_list_my_guilds";
    const DESCRIPTION: &'static str = "List the servers the user or bot is in (id, name, icon, \
        owner flag, permissions), paged by id with after/before and limit. Needs a user OAuth \
        token with the guilds scope, or a bot token.";
    const SCOPES: &'static [&'static str] = &["guilds"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentUserGuilds)
            .query("after", self.after.as_ref())
            .query("before", self.before.as_ref())
            .query("limit", self.limit)
            .query("with_counts", self.with_counts)
    }
}

/// Arguments of `discord_list_sticker_packs` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListStickerPacks {}

impl Tool for ListStickerPacks {
    const NAME: &'static str = "discord_list_sticker_packs";
    const DESCRIPTION: &'static str = "List Discord's built-in sticker packs with their \
        stickers, names and descriptions. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::StickerPacks)
    }
}

/// Arguments of `discord_resolve_invite`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInvite {
    /// The invite code, or a discord.gg / discord.com/invite link.
    invite_code: InviteCode,
    /// Also return this scheduled event of the server.
    guild_scheduled_event_id: Option<Snowflake>,
    /// Include approximate member and online counts.
    with_counts: Option<bool>,
    /// Include the expiry date (Discord now always sends it).
    with_expiration: Option<bool>,
}

impl Tool for ResolveInvite {
    const NAME: &'static str = "discord_resolve_invite";
    const DESCRIPTION: &'static str = "Look up an invite code or link: the server or group it \
        leads to, the channel, the inviter, expiry and optionally member counts and a scheduled \
        event. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::Invite {
            code: self.invite_code.as_str(),
        })
        .query(
            "guild_scheduled_event_id",
            self.guild_scheduled_event_id.as_ref(),
        )
        .query("with_counts", self.with_counts)
        .query("with_expiration", self.with_expiration)
    }
}

/// Arguments of `discord_retrieve_user_connections` (none).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrieveUserConnections {}

impl Tool for RetrieveUserConnections {
    const NAME: &'static str = "discord_retrieve_user_connections";
    const DESCRIPTION: &'static str = "List the accounts the user linked to Discord (GitHub, \
        Steam, YouTube and others), with names and visibility. Needs a user OAuth token with the \
        connections scope.";
    const SCOPES: &'static [&'static str] = &["connections"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new(Route::CurrentUserConnections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(name: &str) -> serde_json::Value {
        serde_json::from_str(find(name).unwrap().input_schema()).unwrap()
    }

    #[test]
    fn names_are_unique_and_discord_prefixed() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|tool| tool.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 16);
        assert!(names.iter().all(|name| name.starts_with("discord_")));
    }

    #[cfg(not(component))]
    #[test]
    fn the_generated_schemas_are_the_derived_ones() {
        for tool in &CATALOGUE {
            assert_eq!(
                tool.input_schema(),
                tool.derived_input_schema(),
                "{}: run `cargo xtask generate`",
                tool.name
            );
        }
    }

    #[test]
    fn schemas_are_closed_objects_without_references() {
        for tool in &CATALOGUE {
            let schema = schema_of(tool.name);
            assert_eq!(schema["type"], "object", "{}", tool.name);
            assert_eq!(schema["additionalProperties"], false, "{}", tool.name);
            assert!(schema["properties"].is_object(), "{}", tool.name);
            assert!(!tool.input_schema().contains("$ref"), "{}", tool.name);
        }
    }

    #[test]
    fn schemas_state_the_checks() {
        let schema = schema_of("discord_list_my_guilds");
        assert_eq!(
            schema["properties"]["limit"]["type"],
            serde_json::json!(["integer", "null"])
        );
        assert_eq!(schema["properties"]["limit"]["minimum"], 1);
        assert_eq!(schema["properties"]["limit"]["maximum"], 200);
        assert_eq!(schema["properties"]["after"]["pattern"], "^[0-9]{1,20}$");
        assert_eq!(
            schema["properties"]["with_counts"]["type"],
            serde_json::json!(["boolean", "null"])
        );
        assert!(schema.get("required").is_none());

        let schema = schema_of("discord_get_current_user_application_entitlements");
        assert_eq!(schema["required"], serde_json::json!(["application_id"]));
        assert_eq!(schema["properties"]["sku_ids"]["maxItems"], 100);
        assert_eq!(schema["properties"]["limit"]["maximum"], 100);

        let schema = schema_of("discord_get_guild_widget_png");
        let styles = &schema["properties"]["style"]["enum"];
        assert_eq!(
            styles,
            &serde_json::json!(["shield", "banner1", "banner2", "banner3", "banner4", null])
        );
    }
}
