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

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

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
}

impl Route<'_> {
    /// The HTTP method Discord expects on this route.
    pub const fn method(&self) -> Method {
        match self {
            Self::OAuth2Token | Self::OAuth2TokenRevoke => Method::Post,
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
            | Self::User { .. } => Method::Get,
        }
    }
}

/// Where a call goes: a route's method and path under the API base, and
/// its query pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
}

impl Endpoint {
    /// The endpoint of `route`, with no query yet.
    pub fn new(route: Route<'_>) -> Self {
        Self {
            method: route.method(),
            path: route.to_string(),
            query: Vec::new(),
        }
    }

    /// Adds `name=value` when `value` is present.
    pub fn query(mut self, name: &'static str, value: Option<impl fmt::Display>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    /// The route's method.
    pub fn method(&self) -> Method {
        self.method
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

impl fmt::Display for Route<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Gateway => f.write_str("/gateway"),
            Self::GuildTemplate { code } => write!(f, "/guilds/templates/{}", Segment(code)),
            Self::GuildWidget { guild_id } => {
                write!(f, "/guilds/{}/widget.json", Segment(guild_id))
            }
            Self::GuildWidgetImage { guild_id } => {
                write!(f, "/guilds/{}/widget.png", Segment(guild_id))
            }
            Self::Invite { code } => write!(f, "/invites/{}", Segment(code)),
            Self::CurrentAuthorization => f.write_str("/oauth2/@me"),
            Self::OAuth2Keys => f.write_str("/oauth2/keys"),
            Self::OAuth2Token => f.write_str("/oauth2/token"),
            Self::OAuth2TokenRevoke => f.write_str("/oauth2/token/revoke"),
            Self::OpenIdUserInfo => f.write_str("/oauth2/userinfo"),
            Self::StickerPacks => f.write_str("/sticker-packs"),
            Self::CurrentUser => f.write_str("/users/@me"),
            Self::CurrentUserEntitlements { application_id } => write!(
                f,
                "/users/@me/applications/{}/entitlements",
                Segment(application_id)
            ),
            Self::CurrentUserConnections => f.write_str("/users/@me/connections"),
            Self::CurrentUserGuilds => f.write_str("/users/@me/guilds"),
            Self::CurrentUserGuildMember { guild_id } => {
                write!(f, "/users/@me/guilds/{}/member", Segment(guild_id))
            }
            Self::User { user_id } => write!(f, "/users/{}", Segment(user_id)),
        }
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
