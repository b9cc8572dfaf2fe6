//! The Discord tools: each declared once, as an argument struct (its
//! fields are the tool's JSON Schema) and a [`Tool`] impl (name,
//! description, scopes, credentials, endpoint).
//!
//! To add a tool: declare its struct and impl below, add its [`Route`], and
//! list it in [`CATALOGUE`].
//!
//! ```
//! use discord_connector::catalogue;
//! use discord_connector::route::Nonce;
//!
//! let tool = catalogue::find("discord_get_user").unwrap();
//! let nonce = Nonce::new(&[0; Nonce::RANDOM_BYTES]);
//! let endpoint = tool.plan(r#"{"user_id": "@me"}"#, &nonce).unwrap();
//! assert_eq!(endpoint.path_and_query(), "/users/@me");
//! assert_eq!(endpoint.method().to_string(), "GET");
//! ```

use alloc::format;
use alloc::string::String;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::arguments::{
    AutoArchiveDuration, Bounded, Embeds, Emoji, InviteCode, Mentions, Snowflake, SnowflakeList,
    TemplateCode, Text, Timestamp, UserRef, WidgetStyle, allowed_mentions, read_object,
};
use crate::config::{TOOLS_SETTING, ToolSelection, glob_matches};
use crate::credential::{ANYONE, BOT_ONLY, CredentialKind, USER_ONLY, USER_OR_BOT};
use crate::error::Error;
use crate::http::{Method, TransportError};
use crate::response::OutputKind;
use crate::route::{Endpoint, Nonce, Route};
use crate::tool::{Tool, ToolSpec};

/// Every tool, in the order `list-tools` gives them.
pub static CATALOGUE: [ToolSpec; 37] = [
    ToolSpec::of::<AddReaction>(),
    ToolSpec::of::<CreateDm>(),
    ToolSpec::of::<CreateThread>(),
    ToolSpec::of::<CreateThreadFromMessage>(),
    ToolSpec::of::<DeleteMessage>(),
    ToolSpec::of::<EditMessage>(),
    ToolSpec::of::<GetChannel>(),
    ToolSpec::of::<GetCurrentUserApplicationEntitlements>(),
    ToolSpec::of::<GetGateway>(),
    ToolSpec::of::<GetGuild>(),
    ToolSpec::of::<GetGuildMember>(),
    ToolSpec::of::<GetGuildTemplate>(),
    ToolSpec::of::<GetGuildWidget>(),
    ToolSpec::of::<GetGuildWidgetPng>(),
    ToolSpec::of::<GetInviteDeprecated>(),
    ToolSpec::of::<GetMessage>(),
    ToolSpec::of::<GetMyGuildMember>(),
    ToolSpec::of::<GetMyOAuth2Authorization>(),
    ToolSpec::of::<GetMyUser>(),
    ToolSpec::of::<GetOpenIdConnectUserInfo>(),
    ToolSpec::of::<GetPublicKeys>(),
    ToolSpec::of::<GetUser>(),
    ToolSpec::of::<ListActiveThreads>(),
    ToolSpec::of::<ListGuildChannels>(),
    ToolSpec::of::<ListGuildMembers>(),
    ToolSpec::of::<ListMessages>(),
    ToolSpec::of::<ListMyGuilds>(),
    ToolSpec::of::<ListPinnedMessages>(),
    ToolSpec::of::<ListStickerPacks>(),
    ToolSpec::of::<PinMessage>(),
    ToolSpec::of::<RemoveReaction>(),
    ToolSpec::of::<ResolveInvite>(),
    ToolSpec::of::<RetrieveUserConnections>(),
    ToolSpec::of::<SearchGuildMembers>(),
    ToolSpec::of::<SendMessage>(),
    ToolSpec::of::<TriggerTyping>(),
    ToolSpec::of::<UnpinMessage>(),
];

/// The tool called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    CATALOGUE.iter().find(|tool| tool.name == name)
}

/// The tools `selection` offers, in catalogue order; refused when one of
/// its patterns matches no tool, since a misspelt name would otherwise hide
/// a tool without a word.
pub fn offered(
    selection: &ToolSelection,
) -> Result<impl Iterator<Item = &'static ToolSpec> + '_, Error> {
    if let Some(mut patterns) = selection.patterns()
        && let Some(unmatched) = patterns.find(|pattern| {
            !CATALOGUE
                .iter()
                .any(|tool| glob_matches(pattern, tool.name))
        })
    {
        return Err(TransportError::broken(format!(
            "{TOOLS_SETTING} is refused: {unmatched:?} matches no tool"
        ))
        .into());
    }
    Ok(CATALOGUE
        .iter()
        .filter(move |tool| selection.allows(tool.name)))
}

/// Arguments of `discord_get_current_user_application_entitlements`.
#[derive(JsonSchema)]
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

read_object!(GetCurrentUserApplicationEntitlements {
    application_id: required,
    sku_ids: optional,
    exclude_consumed: optional,
    exclude_deleted: optional,
    exclude_ended: optional,
    limit: optional
});

impl Tool for GetCurrentUserApplicationEntitlements {
    const NAME: &'static str = "discord_get_current_user_application_entitlements";
    const DESCRIPTION: &'static str = "List the premium entitlements (SKUs bought or granted) the \
        signed-in user holds for one application. Needs a user OAuth token with the \
        applications.entitlements scope.";
    const SCOPES: &'static [&'static str] = &["applications.entitlements"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentUserEntitlements {
            application_id: self.application_id.as_str(),
        })
        .query("sku_ids", self.sku_ids.as_ref())
        .query("exclude_consumed", self.exclude_consumed)
        .query("exclude_deleted", self.exclude_deleted)
        .query("exclude_ended", self.exclude_ended)
        .query("limit", self.limit))
    }
}

/// Arguments of `discord_get_gateway` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGateway {}

read_object!(GetGateway {});

impl Tool for GetGateway {
    const NAME: &'static str = "discord_get_gateway";
    const DESCRIPTION: &'static str = "Get the WebSocket URL a client connects to for Discord's \
        real-time gateway. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Gateway))
    }
}

/// Arguments of `discord_get_guild_template`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildTemplate {
    /// The template code, or a discord.new link.
    template_code: TemplateCode,
}

read_object!(GetGuildTemplate {
    template_code: required
});

impl Tool for GetGuildTemplate {
    const NAME: &'static str = "discord_get_guild_template";
    const DESCRIPTION: &'static str = "Look up a server template by its code: its name, usage \
        count, creator and the roles and channels it would create. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildTemplate {
            code: self.template_code.as_str(),
        }))
    }
}

/// Arguments of `discord_get_guild_widget`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildWidget {
    /// The guild (server) id.
    guild_id: Snowflake,
}

read_object!(GetGuildWidget { guild_id: required });

impl Tool for GetGuildWidget {
    const NAME: &'static str = "discord_get_guild_widget";
    const DESCRIPTION: &'static str = "Get a server's public widget as JSON: its name, instant \
        invite, voice channels and online members. The server must have its widget enabled; \
        works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildWidget {
            guild_id: self.guild_id.as_str(),
        }))
    }
}

/// Arguments of `discord_get_guild_widget_png`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildWidgetPng {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// The image style; Discord's default is `shield`.
    style: Option<WidgetStyle>,
}

read_object!(GetGuildWidgetPng {
    guild_id: required,
    style: optional
});

impl Tool for GetGuildWidgetPng {
    const NAME: &'static str = "discord_get_guild_widget_png";
    const DESCRIPTION: &'static str = "Get a server's widget as a PNG image (a badge or banner \
        with its online count), returned as binary image/png. The server must have its widget \
        enabled; works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;
    const OUTPUT: OutputKind = OutputKind::Png;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildWidgetImage {
            guild_id: self.guild_id.as_str(),
        })
        .query("style", self.style))
    }
}

/// Arguments of `discord_get_invite_deprecated`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetInviteDeprecated {
    /// The invite code, or a discord.gg / discord.com/invite link.
    invite_code: InviteCode,
    /// Include approximate member and online counts.
    with_counts: Option<bool>,
    /// Include the expiry date (Discord now always sends it).
    with_expiration: Option<bool>,
}

read_object!(GetInviteDeprecated {
    invite_code: required,
    with_counts: optional,
    with_expiration: optional
});

impl Tool for GetInviteDeprecated {
    const NAME: &'static str = "discord_get_invite_deprecated";
    const DESCRIPTION: &'static str = "Older form of discord_resolve_invite: look up an invite's \
        server, channel and inviter, with optional counts. Prefer discord_resolve_invite; works \
        without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Invite {
            code: self.invite_code.as_str(),
        })
        .query("with_counts", self.with_counts)
        .query("with_expiration", self.with_expiration))
    }
}

/// Arguments of `discord_get_my_guild_member`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyGuildMember {
    /// The guild (server) id.
    guild_id: Snowflake,
}

read_object!(GetMyGuildMember { guild_id: required });

impl Tool for GetMyGuildMember {
    const NAME: &'static str = "discord_get_my_guild_member";
    const DESCRIPTION: &'static str = "Get the signed-in user's membership in one server: \
        nickname, roles, join date and server avatar. Needs a user OAuth token with the \
        guilds.members.read scope.";
    const SCOPES: &'static [&'static str] = &["guilds.members.read"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentUserGuildMember {
            guild_id: self.guild_id.as_str(),
        }))
    }
}

/// Arguments of `discord_get_my_oauth2_authorization` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyOAuth2Authorization {}

read_object!(GetMyOAuth2Authorization {});

impl Tool for GetMyOAuth2Authorization {
    const NAME: &'static str = "discord_get_my_oauth2_authorization";
    const DESCRIPTION: &'static str = "Describe the current OAuth authorization: the \
        application, the scopes granted, when the token expires and (with identify) the user. \
        Needs a user OAuth token, any scope.";
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentAuthorization))
    }
}

/// Arguments of `discord_get_my_user` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMyUser {}

read_object!(GetMyUser {});

impl Tool for GetMyUser {
    const NAME: &'static str = "discord_get_my_user";
    const DESCRIPTION: &'static str = "Get the account behind the token: id, username, global \
        name, avatar, and email when the email scope was granted. Needs a user OAuth token with \
        the identify scope, or a bot token.";
    const SCOPES: &'static [&'static str] = &["identify"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentUser))
    }
}

/// Arguments of `discord_get_openid_connect_userinfo` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOpenIdConnectUserInfo {}

read_object!(GetOpenIdConnectUserInfo {});

impl Tool for GetOpenIdConnectUserInfo {
    const NAME: &'static str = "discord_get_openid_connect_userinfo";
    const DESCRIPTION: &'static str = "Get the signed-in user as OpenID Connect claims (sub, \
        preferred_username, picture, email when granted). Needs a user OAuth token with the \
        openid scope.";
    const SCOPES: &'static [&'static str] = &["openid"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::OpenIdUserInfo))
    }
}

/// Arguments of `discord_get_public_keys` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPublicKeys {}

read_object!(GetPublicKeys {});

impl Tool for GetPublicKeys {
    const NAME: &'static str = "discord_get_public_keys";
    const DESCRIPTION: &'static str = "Get Discord's OAuth2 / OpenID Connect signing keys as a \
        JSON Web Key Set, to verify ID tokens. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::OAuth2Keys))
    }
}

/// Arguments of `discord_get_user`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetUser {
    /// The user's id, or "@me" for the token's own account.
    user_id: UserRef,
}

read_object!(GetUser { user_id: required });

impl Tool for GetUser {
    const NAME: &'static str = "discord_get_user";
    const DESCRIPTION: &'static str = "Get any user's public profile by id (username, global \
        name, avatar, banner, bot flag), or \"@me\" for the token's own account. Needs a bot \
        token, or a user OAuth token with the identify scope.";
    const SCOPES: &'static [&'static str] = &["identify"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::User {
            user_id: self.user_id.as_str(),
        }))
    }
}

/// Arguments of `discord_list_my_guilds`.
#[derive(JsonSchema)]
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

read_object!(ListMyGuilds {
    after: optional,
    before: optional,
    limit: optional,
    with_counts: optional
});

impl Tool for ListMyGuilds {
    const NAME: &'static str = "discord_list_my_guilds";
    const DESCRIPTION: &'static str = "List the servers the user or bot is in (id, name, icon, \
        owner flag, permissions), paged by id with after/before and limit. Needs a user OAuth \
        token with the guilds scope, or a bot token.";
    const SCOPES: &'static [&'static str] = &["guilds"];
    const ACCEPTS: &'static [CredentialKind] = USER_OR_BOT;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentUserGuilds)
            .query("after", self.after.as_ref())
            .query("before", self.before.as_ref())
            .query("limit", self.limit)
            .query("with_counts", self.with_counts))
    }
}

/// Arguments of `discord_list_sticker_packs` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListStickerPacks {}

read_object!(ListStickerPacks {});

impl Tool for ListStickerPacks {
    const NAME: &'static str = "discord_list_sticker_packs";
    const DESCRIPTION: &'static str = "List Discord's built-in sticker packs with their \
        stickers, names and descriptions. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::StickerPacks))
    }
}

/// Arguments of `discord_resolve_invite`.
#[derive(JsonSchema)]
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

read_object!(ResolveInvite {
    invite_code: required,
    guild_scheduled_event_id: optional,
    with_counts: optional,
    with_expiration: optional
});

impl Tool for ResolveInvite {
    const NAME: &'static str = "discord_resolve_invite";
    const DESCRIPTION: &'static str = "Look up an invite code or link: the server or group it \
        leads to, the channel, the inviter, expiry and optionally member counts and a scheduled \
        event. Works without a credential.";
    const ACCEPTS: &'static [CredentialKind] = ANYONE;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Invite {
            code: self.invite_code.as_str(),
        })
        .query(
            "guild_scheduled_event_id",
            self.guild_scheduled_event_id.as_ref(),
        )
        .query("with_counts", self.with_counts)
        .query("with_expiration", self.with_expiration))
    }
}

/// Arguments of `discord_retrieve_user_connections` (none).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrieveUserConnections {}

read_object!(RetrieveUserConnections {});

impl Tool for RetrieveUserConnections {
    const NAME: &'static str = "discord_retrieve_user_connections";
    const DESCRIPTION: &'static str = "List the accounts the user linked to Discord (GitHub, \
        Steam, YouTube and others), with names and visibility. Needs a user OAuth token with the \
        connections scope.";
    const SCOPES: &'static [&'static str] = &["connections"];
    const ACCEPTS: &'static [CredentialKind] = USER_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::CurrentUserConnections))
    }
}

/// The body of a message sent or edited, with what Discord's create and
/// edit routes share: the text, the embeds and who may be pinged.
fn message_body(
    content: Option<&Text<1, 2000>>,
    embeds: Option<&Embeds>,
    mentions: Option<&Mentions>,
) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(content) = content {
        body.insert("content".into(), content.as_str().into());
    }
    if let Some(embeds) = embeds {
        body.insert("embeds".into(), embeds.value().clone());
    }
    body.insert("allowed_mentions".into(), allowed_mentions(mentions));
    body
}

/// Discord's flag for a message that sends no push or desktop notification.
const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;

/// Refuses a message with neither text nor embeds: Discord would refuse it
/// as empty.
fn content_or_embeds(
    content: Option<&Text<1, 2000>>,
    embeds: Option<&Embeds>,
) -> Result<(), Error> {
    if content.is_none() && embeds.is_none_or(Embeds::is_empty) {
        return Err(Error::invalid_arguments(
            "`content`, `embeds`: give at least one of them (a message needs text or an embed)",
        ));
    }
    Ok(())
}

/// Arguments of `discord_send_message`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The channel (or thread, or DM channel) to post in.
    channel_id: Snowflake,
    /// The text, 1 to 2,000 characters.
    content: Option<Text<1, 2000>>,
    /// Up to 10 embeds, at most 6,000 characters over all of them.
    embeds: Option<Embeds>,
    /// Send as a reply to this message of the channel.
    reply_to_message_id: Option<Snowflake>,
    /// Who may be pinged; without it nobody is (not @everyone, roles, users or the replied-to author).
    mentions: Option<Mentions>,
    /// Send without push and desktop notifications.
    silent: Option<bool>,
}

read_object!(SendMessage {
    channel_id: required,
    content: optional,
    embeds: optional,
    reply_to_message_id: optional,
    mentions: optional,
    silent: optional
});

impl Tool for SendMessage {
    const NAME: &'static str = "discord_send_message";
    const DESCRIPTION: &'static str = "Post a message (text and/or embeds, optionally as a reply) \
        in a channel, thread or DM channel. Pings nobody unless `mentions` allows it; a retried \
        call never posts twice. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Post;

    fn endpoint(&self, nonce: &Nonce) -> Result<Endpoint, Error> {
        content_or_embeds(self.content.as_ref(), self.embeds.as_ref())?;
        let mut body = message_body(
            self.content.as_ref(),
            self.embeds.as_ref(),
            self.mentions.as_ref(),
        );
        if let Some(message_id) = &self.reply_to_message_id {
            let mut reference = Map::new();
            reference.insert("message_id".into(), message_id.as_str().into());
            body.insert("message_reference".into(), reference.into());
        }
        if self.silent == Some(true) {
            body.insert("flags".into(), SUPPRESS_NOTIFICATIONS.into());
        }
        body.insert("nonce".into(), nonce.as_str().into());
        body.insert("enforce_nonce".into(), true.into());
        Ok(Endpoint::new(Route::CreateMessage {
            channel_id: self.channel_id.as_str(),
        })
        .json(body)?
        .deduplicated())
    }
}

/// Arguments of `discord_list_messages`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMessages {
    /// The channel or thread.
    channel_id: Snowflake,
    /// Only messages before this message id (at most one of before, after, around).
    before: Option<Snowflake>,
    /// Only messages after this message id.
    after: Option<Snowflake>,
    /// Messages around this message id.
    around: Option<Snowflake>,
    /// How many messages (1 to 100; Discord's default is 50).
    limit: Option<Bounded<1, 100>>,
}

read_object!(ListMessages {
    channel_id: required,
    before: optional,
    after: optional,
    around: optional,
    limit: optional
});

impl Tool for ListMessages {
    const NAME: &'static str = "discord_list_messages";
    const DESCRIPTION: &'static str = "Read a channel's recent messages, newest first, paged with \
        one of before/after/around (a message id) and limit. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let anchors = [&self.before, &self.after, &self.around];
        if anchors.iter().filter(|anchor| anchor.is_some()).count() > 1 {
            return Err(Error::invalid_arguments(
                "`before`, `after`, `around`: give at most one of them",
            ));
        }
        Ok(Endpoint::new(Route::Messages {
            channel_id: self.channel_id.as_str(),
        })
        .query("before", self.before.as_ref())
        .query("after", self.after.as_ref())
        .query("around", self.around.as_ref())
        .query("limit", self.limit))
    }
}

/// Arguments of the tools that name one message.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMessage {
    /// The channel or thread.
    channel_id: Snowflake,
    /// The message.
    message_id: Snowflake,
}

read_object!(GetMessage {
    channel_id: required,
    message_id: required
});

impl Tool for GetMessage {
    const NAME: &'static str = "discord_get_message";
    const DESCRIPTION: &'static str = "Get one message of a channel by id: its text, author, \
        embeds, attachments and reactions. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Message {
            channel_id: self.channel_id.as_str(),
            message_id: self.message_id.as_str(),
        }))
    }
}

/// Arguments of `discord_edit_message`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// The channel or thread.
    channel_id: Snowflake,
    /// The message, one the bot sent.
    message_id: Snowflake,
    /// The new text, 1 to 2,000 characters.
    content: Option<Text<1, 2000>>,
    /// The new embeds (they replace the old ones): up to 10, at most 6,000 characters over all.
    embeds: Option<Embeds>,
    /// Who may be pinged; without it nobody is.
    mentions: Option<Mentions>,
}

read_object!(EditMessage {
    channel_id: required,
    message_id: required,
    content: optional,
    embeds: optional,
    mentions: optional
});

impl Tool for EditMessage {
    const NAME: &'static str = "discord_edit_message";
    const DESCRIPTION: &'static str = "Change the text and/or embeds of a message the bot sent. \
        Pings nobody unless `mentions` allows it. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Patch;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        content_or_embeds(self.content.as_ref(), self.embeds.as_ref())?;
        let body = message_body(
            self.content.as_ref(),
            self.embeds.as_ref(),
            self.mentions.as_ref(),
        );
        Endpoint::new(Route::EditMessage {
            channel_id: self.channel_id.as_str(),
            message_id: self.message_id.as_str(),
        })
        .json(body)
    }
}

/// Arguments of the tools that change one message and leave an audit-log
/// entry.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageWithReason {
    /// The channel or thread.
    channel_id: Snowflake,
    /// The message.
    message_id: Snowflake,
    /// Why, for the server's audit log (1 to 512 characters).
    reason: Option<Text<1, 512>>,
}

read_object!(MessageWithReason {
    channel_id: required,
    message_id: required,
    reason: optional
});

/// Arguments of `discord_delete_message`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct DeleteMessage(MessageWithReason);

impl Tool for DeleteMessage {
    const NAME: &'static str = "discord_delete_message";
    const DESCRIPTION: &'static str = "Delete a message: the bot's own, or anyone's with the \
        Manage Messages permission. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Delete;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let MessageWithReason {
            channel_id,
            message_id,
            reason,
        } = &self.0;
        Ok(Endpoint::new(Route::DeleteMessage {
            channel_id: channel_id.as_str(),
            message_id: message_id.as_str(),
        })
        .reason(reason.as_ref().map(Text::as_str)))
    }
}

/// Arguments of the reaction tools.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// The channel or thread.
    channel_id: Snowflake,
    /// The message.
    message_id: Snowflake,
    /// A Unicode emoji (such as 👍 or ❤️) or a custom one as name:id, <:name:id> or <a:name:id>.
    emoji: Emoji,
}

read_object!(Reaction {
    channel_id: required,
    message_id: required,
    emoji: required
});

/// Arguments of `discord_add_reaction`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct AddReaction(Reaction);

impl Tool for AddReaction {
    const NAME: &'static str = "discord_add_reaction";
    const DESCRIPTION: &'static str = "React to a message with an emoji as the bot. Needs a bot \
        token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Put;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::AddOwnReaction {
            channel_id: self.0.channel_id.as_str(),
            message_id: self.0.message_id.as_str(),
            emoji: self.0.emoji.as_str(),
        }))
    }
}

/// Arguments of `discord_remove_reaction`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct RemoveReaction(Reaction);

impl Tool for RemoveReaction {
    const NAME: &'static str = "discord_remove_reaction";
    const DESCRIPTION: &'static str = "Take back the bot's own reaction with an emoji from a \
        message. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Delete;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::RemoveOwnReaction {
            channel_id: self.0.channel_id.as_str(),
            message_id: self.0.message_id.as_str(),
            emoji: self.0.emoji.as_str(),
        }))
    }
}

/// Arguments of `discord_list_pinned_messages`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPinnedMessages {
    /// The channel or thread.
    channel_id: Snowflake,
    /// Only pins made before this ISO 8601 time (for paging).
    before: Option<Timestamp>,
    /// How many pins (1 to 50; Discord's default is 50).
    limit: Option<Bounded<1, 50>>,
}

read_object!(ListPinnedMessages {
    channel_id: required,
    before: optional,
    limit: optional
});

impl Tool for ListPinnedMessages {
    const NAME: &'static str = "discord_list_pinned_messages";
    const DESCRIPTION: &'static str = "List a channel's pinned messages, newest pin first, paged \
        by pin time. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Pins {
            channel_id: self.channel_id.as_str(),
        })
        .query("before", self.before.as_ref())
        .query("limit", self.limit))
    }
}

/// Arguments of `discord_pin_message`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct PinMessage(MessageWithReason);

impl Tool for PinMessage {
    const NAME: &'static str = "discord_pin_message";
    const DESCRIPTION: &'static str = "Pin a message in its channel (needs the Pin Messages \
        permission). Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Put;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let MessageWithReason {
            channel_id,
            message_id,
            reason,
        } = &self.0;
        Ok(Endpoint::new(Route::PinMessage {
            channel_id: channel_id.as_str(),
            message_id: message_id.as_str(),
        })
        .reason(reason.as_ref().map(Text::as_str)))
    }
}

/// Arguments of `discord_unpin_message`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct UnpinMessage(MessageWithReason);

impl Tool for UnpinMessage {
    const NAME: &'static str = "discord_unpin_message";
    const DESCRIPTION: &'static str = "Unpin a pinned message. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Delete;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let MessageWithReason {
            channel_id,
            message_id,
            reason,
        } = &self.0;
        Ok(Endpoint::new(Route::UnpinMessage {
            channel_id: channel_id.as_str(),
            message_id: message_id.as_str(),
        })
        .reason(reason.as_ref().map(Text::as_str)))
    }
}

/// Arguments of the tools that name one channel.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelArguments {
    /// The channel, thread or DM channel.
    channel_id: Snowflake,
}

read_object!(ChannelArguments {
    channel_id: required
});

/// Arguments of `discord_trigger_typing`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct TriggerTyping(ChannelArguments);

impl Tool for TriggerTyping {
    const NAME: &'static str = "discord_trigger_typing";
    const DESCRIPTION: &'static str = "Show \"the bot is typing\" in a channel for about 10 \
        seconds, or until it posts. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Post;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Typing {
            channel_id: self.0.channel_id.as_str(),
        }))
    }
}

/// The body of a new thread: its name, and how long it stays active.
fn thread_body(
    name: &Text<1, 100>,
    auto_archive_duration: Option<AutoArchiveDuration>,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("name".into(), name.as_str().into());
    if let Some(duration) = auto_archive_duration {
        body.insert("auto_archive_duration".into(), duration.minutes().into());
    }
    body
}

/// Discord's channel types of a thread anyone in the channel sees, and of
/// one only invited members and moderators see.
const PUBLIC_THREAD: u8 = 11;
const PRIVATE_THREAD: u8 = 12;

/// Arguments of `discord_create_thread`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThread {
    /// The text channel to open the thread in.
    channel_id: Snowflake,
    /// The thread's name, 1 to 100 characters.
    name: Text<1, 100>,
    /// A private thread (only invited members and moderators see it); public unless true.
    private: Option<bool>,
    /// Minutes without messages before it is archived: 60, 1440, 4320 or 10080.
    auto_archive_duration: Option<AutoArchiveDuration>,
    /// Private threads only: whether members other than moderators may invite others.
    invitable: Option<bool>,
    /// Why, for the server's audit log (1 to 512 characters).
    reason: Option<Text<1, 512>>,
}

read_object!(CreateThread {
    channel_id: required,
    name: required,
    private: optional,
    auto_archive_duration: optional,
    invitable: optional,
    reason: optional
});

impl Tool for CreateThread {
    const NAME: &'static str = "discord_create_thread";
    const DESCRIPTION: &'static str = "Open a new thread in a text channel, not attached to a \
        message: public unless private is true. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Post;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let private = self.private == Some(true);
        if self.invitable.is_some() && !private {
            return Err(Error::invalid_arguments(
                "`invitable`: only a private thread takes it (set `private` to true)",
            ));
        }
        let mut body = thread_body(&self.name, self.auto_archive_duration);
        // Always sent: Discord's default for this route is private.
        let kind = if private {
            PRIVATE_THREAD
        } else {
            PUBLIC_THREAD
        };
        body.insert("type".into(), kind.into());
        if let Some(invitable) = self.invitable {
            body.insert("invitable".into(), invitable.into());
        }
        Ok(Endpoint::new(Route::CreateThread {
            channel_id: self.channel_id.as_str(),
        })
        .json(body)?
        .reason(self.reason.as_ref().map(Text::as_str)))
    }
}

/// Arguments of `discord_create_thread_from_message`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThreadFromMessage {
    /// The channel of the message.
    channel_id: Snowflake,
    /// The message the thread starts from.
    message_id: Snowflake,
    /// The thread's name, 1 to 100 characters.
    name: Text<1, 100>,
    /// Minutes without messages before it is archived: 60, 1440, 4320 or 10080.
    auto_archive_duration: Option<AutoArchiveDuration>,
    /// Why, for the server's audit log (1 to 512 characters).
    reason: Option<Text<1, 512>>,
}

read_object!(CreateThreadFromMessage {
    channel_id: required,
    message_id: required,
    name: required,
    auto_archive_duration: optional,
    reason: optional
});

impl Tool for CreateThreadFromMessage {
    const NAME: &'static str = "discord_create_thread_from_message";
    const DESCRIPTION: &'static str = "Open a public thread from an existing message (the \
        message becomes its start). Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Post;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let body = thread_body(&self.name, self.auto_archive_duration);
        Ok(Endpoint::new(Route::CreateThreadFromMessage {
            channel_id: self.channel_id.as_str(),
            message_id: self.message_id.as_str(),
        })
        .json(body)?
        .reason(self.reason.as_ref().map(Text::as_str)))
    }
}

/// Arguments of the tools that name one guild.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuildArguments {
    /// The guild (server) id.
    guild_id: Snowflake,
}

read_object!(GuildArguments { guild_id: required });

/// Arguments of `discord_list_active_threads`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ListActiveThreads(GuildArguments);

impl Tool for ListActiveThreads {
    const NAME: &'static str = "discord_list_active_threads";
    const DESCRIPTION: &'static str = "List a server's active (unarchived) threads the bot can \
        see, with the bot's membership of each. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::ActiveThreads {
            guild_id: self.0.guild_id.as_str(),
        }))
    }
}

/// Arguments of `discord_get_channel`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct GetChannel(ChannelArguments);

impl Tool for GetChannel {
    const NAME: &'static str = "discord_get_channel";
    const DESCRIPTION: &'static str = "Get a channel, thread or DM channel by id: its type, name, \
        topic, server and permission overwrites. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Channel {
            channel_id: self.0.channel_id.as_str(),
        }))
    }
}

/// Arguments of `discord_list_guild_channels`.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ListGuildChannels(GuildArguments);

impl Tool for ListGuildChannels {
    const NAME: &'static str = "discord_list_guild_channels";
    const DESCRIPTION: &'static str = "List a server's channels and categories (not threads): \
        ids, types, names, positions and parents. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildChannels {
            guild_id: self.0.guild_id.as_str(),
        }))
    }
}

/// Arguments of `discord_get_guild`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuild {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// Include approximate member and online counts.
    with_counts: Option<bool>,
}

read_object!(GetGuild {
    guild_id: required,
    with_counts: optional
});

impl Tool for GetGuild {
    const NAME: &'static str = "discord_get_guild";
    const DESCRIPTION: &'static str = "Get a server the bot is in: name, owner, roles, emojis, \
        features and optionally member counts. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::Guild {
            guild_id: self.guild_id.as_str(),
        })
        .query("with_counts", self.with_counts))
    }
}

/// Arguments of `discord_get_guild_member`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetGuildMember {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// The member's user id.
    user_id: Snowflake,
}

read_object!(GetGuildMember {
    guild_id: required,
    user_id: required
});

impl Tool for GetGuildMember {
    const NAME: &'static str = "discord_get_guild_member";
    const DESCRIPTION: &'static str = "Get one member of a server by user id: nickname, roles, \
        join date and user. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildMember {
            guild_id: self.guild_id.as_str(),
            user_id: self.user_id.as_str(),
        }))
    }
}

/// Arguments of `discord_list_guild_members`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListGuildMembers {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// How many members (1 to 1,000). Pass one: Discord's default is 1.
    limit: Option<Bounded<1, 1000>>,
    /// Only members whose user id is after this one (for paging).
    after: Option<Snowflake>,
}

read_object!(ListGuildMembers {
    guild_id: required,
    limit: optional,
    after: optional
});

impl Tool for ListGuildMembers {
    const NAME: &'static str = "discord_list_guild_members";
    const DESCRIPTION: &'static str = "List a server's members by user id, paged with after. \
        Pass a limit (up to 1000): Discord's default is 1 member. Needs a bot token with the \
        Server Members intent.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::GuildMembers {
            guild_id: self.guild_id.as_str(),
        })
        .query("limit", self.limit)
        .query("after", self.after.as_ref()))
    }
}

/// Arguments of `discord_search_guild_members`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchGuildMembers {
    /// The guild (server) id.
    guild_id: Snowflake,
    /// The start of a username or nickname, 1 to 100 characters.
    query: Text<1, 100>,
    /// How many members (1 to 1,000). Pass one: Discord's default is 1.
    limit: Option<Bounded<1, 1000>>,
}

read_object!(SearchGuildMembers {
    guild_id: required,
    query: required,
    limit: optional
});

impl Tool for SearchGuildMembers {
    const NAME: &'static str = "discord_search_guild_members";
    const DESCRIPTION: &'static str = "Find a server's members whose username or nickname starts \
        with a query. Pass a limit (up to 1000): Discord's default is 1 member. Needs a bot \
        token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        Ok(Endpoint::new(Route::SearchGuildMembers {
            guild_id: self.guild_id.as_str(),
        })
        .query("query", Some(self.query.as_str()))
        .query("limit", self.limit))
    }
}

/// Arguments of `discord_create_dm`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDm {
    /// The user to message.
    recipient_id: Snowflake,
}

read_object!(CreateDm {
    recipient_id: required
});

impl Tool for CreateDm {
    const NAME: &'static str = "discord_create_dm";
    const DESCRIPTION: &'static str = "Open (or find) the DM channel between the bot and a user; \
        post in it with discord_send_message and its id. Needs a bot token.";
    const ACCEPTS: &'static [CredentialKind] = BOT_ONLY;
    const METHOD: Method = Method::Post;

    fn endpoint(&self, _: &Nonce) -> Result<Endpoint, Error> {
        let mut body = Map::new();
        body.insert("recipient_id".into(), self.recipient_id.as_str().into());
        Endpoint::new(Route::CreateDm).json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(name: &str) -> serde_json::Value {
        serde_json::from_str(&find(name).unwrap().input_schema()).unwrap()
    }

    #[test]
    fn names_are_unique_and_discord_prefixed() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|tool| tool.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len(), "a name is used twice");
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

    /// Arguments each tool accepts.
    fn sample(tool: &str) -> &'static str {
        const CHANNEL: &str = r#"{"channel_id": "1"}"#;
        const MESSAGE: &str = r#"{"channel_id": "1", "message_id": "2"}"#;
        const GUILD: &str = r#"{"guild_id": "1"}"#;
        const REACTION: &str = r#"{"channel_id": "1", "message_id": "2", "emoji": "👍"}"#;
        match tool {
            "discord_get_current_user_application_entitlements" => r#"{"application_id": "1"}"#,
            "discord_get_guild_template" => r#"{"template_code": "abc"}"#,
            "discord_get_invite_deprecated" | "discord_resolve_invite" => {
                r#"{"invite_code": "abc"}"#
            }
            "discord_get_user" => r#"{"user_id": "@me"}"#,
            "discord_send_message" => r#"{"channel_id": "1", "content": "hi"}"#,
            "discord_edit_message" => r#"{"channel_id": "1", "message_id": "2", "content": "hi"}"#,
            "discord_add_reaction" | "discord_remove_reaction" => REACTION,
            "discord_create_thread" => r#"{"channel_id": "1", "name": "t"}"#,
            "discord_create_thread_from_message" => {
                r#"{"channel_id": "1", "message_id": "2", "name": "t"}"#
            }
            "discord_get_guild_member" => r#"{"guild_id": "1", "user_id": "2"}"#,
            "discord_search_guild_members" => r#"{"guild_id": "1", "query": "ne"}"#,
            "discord_create_dm" => r#"{"recipient_id": "1"}"#,
            "discord_get_message"
            | "discord_delete_message"
            | "discord_pin_message"
            | "discord_unpin_message" => MESSAGE,
            "discord_list_messages"
            | "discord_list_pinned_messages"
            | "discord_trigger_typing"
            | "discord_get_channel" => CHANNEL,
            "discord_get_guild"
            | "discord_get_guild_widget"
            | "discord_get_guild_widget_png"
            | "discord_get_my_guild_member"
            | "discord_list_active_threads"
            | "discord_list_guild_channels"
            | "discord_list_guild_members" => GUILD,
            _ => "{}",
        }
    }

    /// `ToolSpec::method` is known without a call; it is the method of the
    /// endpoint every call plans.
    #[test]
    fn the_stated_method_is_the_routes() {
        let nonce = Nonce::new(&[0; Nonce::RANDOM_BYTES]);
        for tool in &CATALOGUE {
            let endpoint = tool
                .plan(sample(tool.name), &nonce)
                .unwrap_or_else(|error| panic!("{}: {}", tool.name, error.message));
            assert_eq!(endpoint.method(), tool.method, "{}", tool.name);
        }
    }

    #[cfg(not(component))]
    #[test]
    fn the_bot_tools_take_a_bot_token_only() {
        let bot_tools: Vec<&str> = CATALOGUE
            .iter()
            .filter(|tool| tool.accepts == BOT_ONLY)
            .map(|tool| tool.name)
            .collect();
        assert_eq!(bot_tools.len(), 21);
        for tool in CATALOGUE.iter().filter(|tool| tool.accepts == BOT_ONLY) {
            assert!(tool.scopes.is_empty(), "{}", tool.name);
        }
        for name in ["discord_list_guild_members", "discord_search_guild_members"] {
            let description = find(name).unwrap().description;
            assert!(description.contains("Pass a limit"), "{name}");
            let schema = schema_of(name);
            assert!(
                schema["properties"]["limit"]["description"]
                    .as_str()
                    .is_some_and(|text| text.contains("Discord's default is 1")),
                "{name}"
            );
        }
    }

    #[cfg(not(component))]
    #[test]
    fn every_description_and_schema_is_listed() {
        let listed = crate::tool::listed();
        assert_eq!(listed.len(), CATALOGUE.len());
        for (listed, tool) in listed.iter().zip(&CATALOGUE) {
            assert_eq!(listed.name, tool.name);
            assert_eq!(listed.description, tool.description);
            assert_eq!(listed.input_schema, tool.derived_input_schema());
        }
    }
}
