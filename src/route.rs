//! Every Discord endpoint the connector calls, as a `Route` that knows its
//! HTTP method and whose `Display` is the path under the API base; and the
//! [`Endpoint`] a call goes to: a route with its query.
//!
//! Each variable segment is percent-encoded as it is written, so whatever a
//! segment holds it stays one segment: no input can change which path is
//! called.
//!
//! ```
//! use discord_connector::http::Method;
//! use discord_connector::route::Route;
//!
//! assert_eq!(Route::User { user_id: "@me" }.to_string(), "/users/@me");
//! assert_eq!(Route::Invite { code: "a/../b" }.to_string(), "/invites/a%2F..%2Fb");
//! assert_eq!(Route::OAuth2Token.method(), Method::Post);
//! ```

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::base64_encoder;
use crate::error::Error;
use crate::http::Method;
use crate::query;

/// Characters left as they are in a path segment: RFC 3986's unreserved set
/// and `@` (Discord's `@me`). A `.` alone is encoded below, so `.` and `..`
/// never reach a server as dot segments.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// A Discord API v10 endpoint, with its variable segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /gateway`
    Gateway,
    /// `GET /guilds/templates/{code}`
    GuildTemplate {
        /// The template code.
        code: &'a str,
    },
    /// `GET /guilds/{guild_id}/widget.json`
    GuildWidget {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/widget.png`
    GuildWidgetImage {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /invites/{code}`
    Invite {
        /// The invite code.
        code: &'a str,
    },
    /// `GET /oauth2/@me`
    CurrentAuthorization,
    /// `GET /oauth2/keys`
    OAuth2Keys,
    /// `POST /oauth2/token`
    OAuth2Token,
    /// `POST /oauth2/token/revoke`
    OAuth2TokenRevoke,
    /// `GET /oauth2/userinfo`
    OpenIdUserInfo,
    /// `GET /sticker-packs`
    StickerPacks,
    /// `GET /users/@me`
    CurrentUser,
    /// `GET /users/@me/applications/{application_id}/entitlements`
    CurrentUserEntitlements {
        /// The application whose entitlements are listed.
        application_id: &'a str,
    },
    /// `GET /users/@me/connections`
    CurrentUserConnections,
    /// `GET /users/@me/guilds`
    CurrentUserGuilds,
    /// `GET /users/@me/guilds/{guild_id}/member`
    CurrentUserGuildMember {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /users/{user_id}`
    User {
        /// A user id or `@me`.
        user_id: &'a str,
    },
    /// `GET /channels/{channel_id}`
    Channel {
        /// The channel.
        channel_id: &'a str,
    },
    /// `GET /channels/{channel_id}/messages`
    Messages {
        /// The channel.
        channel_id: &'a str,
    },
    /// `POST /channels/{channel_id}/messages`
    CreateMessage {
        /// The channel.
        channel_id: &'a str,
    },
    /// `GET /channels/{channel_id}/messages/{message_id}`
    Message {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
    },
    /// `PATCH /channels/{channel_id}/messages/{message_id}`
    EditMessage {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
    },
    /// `DELETE /channels/{channel_id}/messages/{message_id}`
    DeleteMessage {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
    },
    /// `PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me`
    AddOwnReaction {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
        /// A Unicode emoji, or a custom one as `name:id`.
        emoji: &'a str,
    },
    /// `DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me`
    RemoveOwnReaction {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
        /// A Unicode emoji, or a custom one as `name:id`.
        emoji: &'a str,
    },
    /// `GET /channels/{channel_id}/messages/pins`
    Pins {
        /// The channel.
        channel_id: &'a str,
    },
    /// `PUT /channels/{channel_id}/messages/pins/{message_id}`
    PinMessage {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
    },
    /// `DELETE /channels/{channel_id}/messages/pins/{message_id}`
    UnpinMessage {
        /// The channel.
        channel_id: &'a str,
        /// The message.
        message_id: &'a str,
    },
    /// `POST /channels/{channel_id}/typing`
    Typing {
        /// The channel.
        channel_id: &'a str,
    },
    /// `POST /channels/{channel_id}/threads`
    CreateThread {
        /// The channel.
        channel_id: &'a str,
    },
    /// `POST /channels/{channel_id}/messages/{message_id}/threads`
    CreateThreadFromMessage {
        /// The channel.
        channel_id: &'a str,
        /// The message the thread starts from.
        message_id: &'a str,
    },
    /// `GET /guilds/{guild_id}`
    Guild {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/channels`
    GuildChannels {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/threads/active`
    ActiveThreads {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/members/{user_id}`
    GuildMember {
        /// The guild.
        guild_id: &'a str,
        /// The member's user id.
        user_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/members`
    GuildMembers {
        /// The guild.
        guild_id: &'a str,
    },
    /// `GET /guilds/{guild_id}/members/search`
    SearchGuildMembers {
        /// The guild.
        guild_id: &'a str,
    },
    /// `POST /users/@me/channels`
    CreateDm,
}

impl Route<'_> {
    /// The HTTP method Discord expects on this route.
    pub const fn method(&self) -> Method {
        match self {
            Self::OAuth2Token
            | Self::OAuth2TokenRevoke
            | Self::CreateMessage { .. }
            | Self::Typing { .. }
            | Self::CreateThread { .. }
            | Self::CreateThreadFromMessage { .. }
            | Self::CreateDm => Method::Post,
            Self::EditMessage { .. } => Method::Patch,
            Self::AddOwnReaction { .. } | Self::PinMessage { .. } => Method::Put,
            Self::DeleteMessage { .. }
            | Self::RemoveOwnReaction { .. }
            | Self::UnpinMessage { .. } => Method::Delete,
            Self::Gateway
            | Self::GuildTemplate { .. }
            | Self::GuildWidget { .. }
            | Self::GuildWidgetImage { .. }
            | Self::Invite { .. }
            | Self::CurrentAuthorization
            | Self::OAuth2Keys
            | Self::OpenIdUserInfo
            | Self::StickerPacks
            | Self::CurrentUser
            | Self::CurrentUserEntitlements { .. }
            | Self::CurrentUserConnections
            | Self::CurrentUserGuilds
            | Self::CurrentUserGuildMember { .. }
            | Self::User { .. }
            | Self::Channel { .. }
            | Self::Messages { .. }
            | Self::Message { .. }
            | Self::Pins { .. }
            | Self::Guild { .. }
            | Self::GuildChannels { .. }
            | Self::ActiveThreads { .. }
            | Self::GuildMember { .. }
            | Self::GuildMembers { .. }
            | Self::SearchGuildMembers { .. } => Method::Get,
        }
    }
}

/// Where a call goes: a route's method and path under the API base, its
/// query pairs, and for the routes that take them a JSON body and an
/// audit-log reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    reason: Option<String>,
    deduplicated: bool,
}

impl Endpoint {
    /// The endpoint of `route`, with no query, body or reason yet.
    pub fn new(route: Route<'_>) -> Self {
        Self {
            method: route.method(),
            path: route.to_string(),
            query: Vec::new(),
            body: None,
            reason: None,
            deduplicated: false,
        }
    }

    /// Adds `name=value` when `value` is present.
    pub fn query(mut self, name: &'static str, value: Option<impl fmt::Display>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    /// Sends `body` as the JSON body.
    pub fn json(mut self, body: Map<String, Value>) -> Result<Self, Error> {
        // As a `Value`, the one JSON type the component already writes.
        let body = serde_json::to_vec(&Value::Object(body)).map_err(|error| {
            Error::invalid_arguments(format!("the request body could not be written: {error}"))
        })?;
        self.body = Some(body);
        Ok(self)
    }

    /// Sends `reason` in `X-Audit-Log-Reason` when there is one.
    pub fn reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason.map(ToOwned::to_owned);
        self
    }

    /// Marks the request as one Discord deduplicates (its body carries the
    /// call's [`Nonce`] with `enforce_nonce: true`), so that it may be sent
    /// again after a failure that may have reached Discord.
    pub fn deduplicated(mut self) -> Self {
        self.deduplicated = true;
        self
    }

    /// The route's method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Whether Discord deduplicates the request by its nonce.
    pub fn is_deduplicated(&self) -> bool {
        self.deduplicated
    }

    /// The path with its percent-encoded query string, if any.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        format!(
            "{}?{}",
            self.path,
            query::string(self.query.iter().map(|(name, value)| (name, value)))
        )
    }

    /// The headers the endpoint adds to a request: `Content-Type` with a
    /// body, and `X-Audit-Log-Reason` percent-encoded as UTF-8 (a space as
    /// `%20`, never `+`), as Discord reads it.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if self.body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        if let Some(reason) = &self.reason {
            headers.push(("x-audit-log-reason".to_owned(), query::encode(reason)));
        }
        headers
    }

    /// The JSON body, if the route takes one.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }
}

/// A message nonce: fresh for each call and the same on each of its
/// attempts, so that Discord (with `enforce_nonce`) creates the message
/// once however often the request is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    /// How many random bytes a nonce is made of: 24 base64url characters,
    /// within Discord's 25.
    pub const RANDOM_BYTES: usize = 18;

    /// The nonce made of `random` bytes.
    pub fn new(random: &[u8; Self::RANDOM_BYTES]) -> Self {
        Self(base64_encoder::url_safe(random))
    }

    /// The nonce as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters left as they are in a reaction's emoji: [`SEGMENT`]'s and
/// `:`, which a path segment may hold and Discord reads between a custom
/// emoji's name and id (`name:id`); a Unicode emoji is percent-encoded as
/// UTF-8 (`👍` is `%F0%9F%91%8D`).
const EMOJI_SEGMENT: &AsciiSet = &SEGMENT.remove(b':');

/// Writes an emoji as one percent-encoded path segment, as Discord's
/// reaction routes take it.
struct EmojiSegment<'a>(&'a str);

impl fmt::Display for EmojiSegment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "." | ".." => Segment(self.0).fmt(f),
            value => utf8_percent_encode(value, EMOJI_SEGMENT).fmt(f),
        }
    }
}

/// Writes `value` as one percent-encoded path segment.
struct Segment<'a>(&'a str);

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "." => f.write_str("%2E"),
            ".." => f.write_str("%2E%2E"),
            value => utf8_percent_encode(value, SEGMENT).fmt(f),
        }
    }
}

impl Route<'_> {
    /// The path as a template and the variable segments that fill it in
    /// turn: `{}` is a segment, `{:}` an emoji (which keeps its `:`). One
    /// formatting loop writes every route, rather than one `write!` each.
    fn template(&self) -> (&'static str, [&str; 3]) {
        let one = |a| [a, "", ""];
        match *self {
            Self::Gateway => ("/gateway", one("")),
            Self::GuildTemplate { code } => ("/guilds/templates/{}", one(code)),
            Self::GuildWidget { guild_id } => ("/guilds/{}/widget.json", one(guild_id)),
            Self::GuildWidgetImage { guild_id } => ("/guilds/{}/widget.png", one(guild_id)),
            Self::Invite { code } => ("/invites/{}", one(code)),
            Self::CurrentAuthorization => ("/oauth2/@me", one("")),
            Self::OAuth2Keys => ("/oauth2/keys", one("")),
            Self::OAuth2Token => ("/oauth2/token", one("")),
            Self::OAuth2TokenRevoke => ("/oauth2/token/revoke", one("")),
            Self::OpenIdUserInfo => ("/oauth2/userinfo", one("")),
            Self::StickerPacks => ("/sticker-packs", one("")),
            Self::CurrentUser => ("/users/@me", one("")),
            Self::CurrentUserEntitlements { application_id } => (
                "/users/@me/applications/{}/entitlements",
                one(application_id),
            ),
            Self::CurrentUserConnections => ("/users/@me/connections", one("")),
            Self::CurrentUserGuilds => ("/users/@me/guilds", one("")),
            Self::CurrentUserGuildMember { guild_id } => {
                ("/users/@me/guilds/{}/member", one(guild_id))
            }
            Self::User { user_id } => ("/users/{}", one(user_id)),
            Self::Channel { channel_id } => ("/channels/{}", one(channel_id)),
            Self::Messages { channel_id } | Self::CreateMessage { channel_id } => {
                ("/channels/{}/messages", one(channel_id))
            }
            Self::Message {
                channel_id,
                message_id,
            }
            | Self::EditMessage {
                channel_id,
                message_id,
            }
            | Self::DeleteMessage {
                channel_id,
                message_id,
            } => ("/channels/{}/messages/{}", [channel_id, message_id, ""]),
            Self::AddOwnReaction {
                channel_id,
                message_id,
                emoji,
            }
            | Self::RemoveOwnReaction {
                channel_id,
                message_id,
                emoji,
            } => (
                "/channels/{}/messages/{}/reactions/{:}/@me",
                [channel_id, message_id, emoji],
            ),
            Self::Pins { channel_id } => ("/channels/{}/messages/pins", one(channel_id)),
            Self::PinMessage {
                channel_id,
                message_id,
            }
            | Self::UnpinMessage {
                channel_id,
                message_id,
            } => (
                "/channels/{}/messages/pins/{}",
                [channel_id, message_id, ""],
            ),
            Self::Typing { channel_id } => ("/channels/{}/typing", one(channel_id)),
            Self::CreateThread { channel_id } => ("/channels/{}/threads", one(channel_id)),
            Self::CreateThreadFromMessage {
                channel_id,
                message_id,
            } => (
                "/channels/{}/messages/{}/threads",
                [channel_id, message_id, ""],
            ),
            Self::Guild { guild_id } => ("/guilds/{}", one(guild_id)),
            Self::GuildChannels { guild_id } => ("/guilds/{}/channels", one(guild_id)),
            Self::ActiveThreads { guild_id } => ("/guilds/{}/threads/active", one(guild_id)),
            Self::GuildMember { guild_id, user_id } => {
                ("/guilds/{}/members/{}", [guild_id, user_id, ""])
            }
            Self::GuildMembers { guild_id } => ("/guilds/{}/members", one(guild_id)),
            Self::SearchGuildMembers { guild_id } => ("/guilds/{}/members/search", one(guild_id)),
            Self::CreateDm => ("/users/@me/channels", one("")),
        }
    }
}

impl fmt::Display for Route<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (template, segments) = self.template();
        let mut parts = template.split('{');
        f.write_str(parts.next().unwrap_or_default())?;
        for (part, segment) in parts.zip(segments) {
            let literal = match part.strip_prefix(":}") {
                Some(literal) => {
                    EmojiSegment(segment).fmt(f)?;
                    literal
                }
                None => {
                    Segment(segment).fmt(f)?;
                    part.strip_prefix('}').unwrap_or(part)
                }
            };
            f.write_str(literal)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        let hostile = [
            "..", ".", "a/b", "a?b", "a#b", "%2e%2e", "a\\b", " ", "\u{0}", "é",
        ];
        for value in hostile {
            let path = Route::User { user_id: value }.to_string();
            let segment = path.strip_prefix("/users/").unwrap();
            assert!(!segment.is_empty(), "{value:?}");
            assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~@%".contains(&b)),
                "{value:?} -> {path}"
            );
            assert!(segment != "." && segment != "..", "{value:?} -> {path}");
        }
        assert_eq!(Route::User { user_id: ".." }.to_string(), "/users/%2E%2E");
        assert_eq!(Route::User { user_id: "%2e" }.to_string(), "/users/%252e");
    }

    #[test]
    fn paths_match_discord() {
        let cases = [
            (Route::Gateway, "/gateway"),
            (
                Route::GuildTemplate {
                    code: "hgM48av5Q69A",
                },
                "/guilds/templates/hgM48av5Q69A",
            ),
            (
                Route::GuildWidget { guild_id: "1" },
                "/guilds/1/widget.json",
            ),
            (
                Route::GuildWidgetImage { guild_id: "1" },
                "/guilds/1/widget.png",
            ),
            (Route::Invite { code: "abc" }, "/invites/abc"),
            (Route::CurrentAuthorization, "/oauth2/@me"),
            (Route::OAuth2Keys, "/oauth2/keys"),
            (Route::OAuth2Token, "/oauth2/token"),
            (Route::OAuth2TokenRevoke, "/oauth2/token/revoke"),
            (Route::OpenIdUserInfo, "/oauth2/userinfo"),
            (Route::StickerPacks, "/sticker-packs"),
            (Route::CurrentUser, "/users/@me"),
            (
                Route::CurrentUserEntitlements {
                    application_id: "2",
                },
                "/users/@me/applications/2/entitlements",
            ),
            (Route::CurrentUserConnections, "/users/@me/connections"),
            (Route::CurrentUserGuilds, "/users/@me/guilds"),
            (
                Route::CurrentUserGuildMember { guild_id: "3" },
                "/users/@me/guilds/3/member",
            ),
            (Route::User { user_id: "4" }, "/users/4"),
        ];
        for (route, path) in cases {
            assert_eq!(route.to_string(), path);
            let method = if path.starts_with("/oauth2/token") {
                Method::Post
            } else {
                Method::Get
            };
            assert_eq!(route.method(), method, "{path}");
            assert_eq!(Endpoint::new(route).method(), method, "{path}");
        }
    }

    #[test]
    fn reaction_emoji_are_encoded_as_discord_reads_them() {
        let path = |emoji| {
            Route::AddOwnReaction {
                channel_id: "1",
                message_id: "2",
                emoji,
            }
            .to_string()
        };
        let cases = [
            ("👍", "%F0%9F%91%8D"),
            ("❤️", "%E2%9D%A4%EF%B8%8F"),
            (
                "👨‍👩‍👧",
                "%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7",
            ),
            ("1️⃣", "1%EF%B8%8F%E2%83%A3"),
            ("party_blob:123", "party_blob:123"),
        ];
        for (emoji, encoded) in cases {
            assert_eq!(
                path(emoji),
                format!("/channels/1/messages/2/reactions/{encoded}/@me")
            );
        }
        assert_eq!(
            Route::RemoveOwnReaction {
                channel_id: "1",
                message_id: "2",
                emoji: "a/b",
            }
            .to_string(),
            "/channels/1/messages/2/reactions/a%2Fb/@me"
        );
    }

    #[test]
    fn bot_routes_have_discords_paths_and_methods() {
        let (c, m, g) = ("1", "2", "3");
        let cases = [
            (Route::Channel { channel_id: c }, Method::Get, "/channels/1"),
            (
                Route::Messages { channel_id: c },
                Method::Get,
                "/channels/1/messages",
            ),
            (
                Route::CreateMessage { channel_id: c },
                Method::Post,
                "/channels/1/messages",
            ),
            (
                Route::Message {
                    channel_id: c,
                    message_id: m,
                },
                Method::Get,
                "/channels/1/messages/2",
            ),
            (
                Route::EditMessage {
                    channel_id: c,
                    message_id: m,
                },
                Method::Patch,
                "/channels/1/messages/2",
            ),
            (
                Route::DeleteMessage {
                    channel_id: c,
                    message_id: m,
                },
                Method::Delete,
                "/channels/1/messages/2",
            ),
            (
                Route::Pins { channel_id: c },
                Method::Get,
                "/channels/1/messages/pins",
            ),
            (
                Route::PinMessage {
                    channel_id: c,
                    message_id: m,
                },
                Method::Put,
                "/channels/1/messages/pins/2",
            ),
            (
                Route::UnpinMessage {
                    channel_id: c,
                    message_id: m,
                },
                Method::Delete,
                "/channels/1/messages/pins/2",
            ),
            (
                Route::Typing { channel_id: c },
                Method::Post,
                "/channels/1/typing",
            ),
            (
                Route::CreateThread { channel_id: c },
                Method::Post,
                "/channels/1/threads",
            ),
            (
                Route::CreateThreadFromMessage {
                    channel_id: c,
                    message_id: m,
                },
                Method::Post,
                "/channels/1/messages/2/threads",
            ),
            (Route::Guild { guild_id: g }, Method::Get, "/guilds/3"),
            (
                Route::GuildChannels { guild_id: g },
                Method::Get,
                "/guilds/3/channels",
            ),
            (
                Route::ActiveThreads { guild_id: g },
                Method::Get,
                "/guilds/3/threads/active",
            ),
            (
                Route::GuildMember {
                    guild_id: g,
                    user_id: m,
                },
                Method::Get,
                "/guilds/3/members/2",
            ),
            (
                Route::GuildMembers { guild_id: g },
                Method::Get,
                "/guilds/3/members",
            ),
            (
                Route::SearchGuildMembers { guild_id: g },
                Method::Get,
                "/guilds/3/members/search",
            ),
            (Route::CreateDm, Method::Post, "/users/@me/channels"),
        ];
        for (route, method, path) in cases {
            assert_eq!((route.method(), route.to_string().as_str()), (method, path));
        }
    }

    #[test]
    fn audit_log_reasons_are_percent_encoded_utf8() {
        let endpoint = Endpoint::new(Route::DeleteMessage {
            channel_id: "1",
            message_id: "2",
        })
        .reason(Some("Nettoyage: spam répété + liens 🤖"));
        assert_eq!(
            endpoint.headers(),
            [(
                "x-audit-log-reason".to_owned(),
                "Nettoyage%3A%20spam%20r%C3%A9p%C3%A9t%C3%A9%20%2B%20liens%20%F0%9F%A4%96"
                    .to_owned()
            )]
        );
        let without = Endpoint::new(Route::Typing { channel_id: "1" }).reason(None);
        assert!(without.headers().is_empty());
        assert_eq!(without.body(), None);
    }

    #[test]
    fn json_bodies_are_written_by_serde_json_with_their_type() {
        let mut body = serde_json::Map::new();
        body.insert("content".into(), "say \"hi\"\n".into());
        let endpoint = Endpoint::new(Route::CreateMessage { channel_id: "1" })
            .json(body)
            .unwrap();
        assert_eq!(
            endpoint.body(),
            Some(br#"{"content":"say \"hi\"\n"}"#.as_slice())
        );
        assert_eq!(
            endpoint.headers(),
            [("content-type".to_owned(), "application/json".to_owned())]
        );
        assert!(!endpoint.is_deduplicated());
        assert!(endpoint.deduplicated().is_deduplicated());
    }

    #[test]
    fn nonces_are_24_url_safe_characters() {
        let nonce = Nonce::new(&[0xff; Nonce::RANDOM_BYTES]);
        assert_eq!(nonce.as_str(), "________________________");
        assert!(Nonce::new(&[1; Nonce::RANDOM_BYTES]).as_str().len() <= 25);
    }

    #[test]
    fn queries_use_the_one_encoder() {
        let endpoint = Endpoint::new(Route::CurrentUserGuilds)
            .query("after", Some("a b+c"))
            .query("before", None::<&str>)
            .query("limit", Some(5));
        assert_eq!(endpoint.method(), Method::Get);
        assert_eq!(
            endpoint.path_and_query(),
            "/users/@me/guilds?after=a%20b%2Bc&limit=5"
        );
        assert_eq!(Endpoint::new(Route::Gateway).path_and_query(), "/gateway");
    }
}
