//! What the sandbox answers on each Discord endpoint, from the fixtures.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::fixtures::Fixtures;
use crate::tokens::{APPLICATION_ID, Bearer, Grant};
use crate::widget_png;

/// A Discord endpoint the sandbox serves, with its path values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Gateway,
    GuildTemplate(String),
    GuildWidget(String),
    GuildWidgetImage(String),
    Invite(String),
    CurrentAuthorization,
    OAuth2Keys,
    OpenIdUserInfo,
    StickerPacks,
    CurrentUser,
    CurrentUserEntitlements(String),
    CurrentUserConnections,
    CurrentUserGuilds,
    CurrentUserGuildMember(String),
    User(String),
}

/// Who may call an endpoint.
enum Access {
    /// Anyone, with or without a credential.
    Anyone,
    /// A user token with this scope (if any), or a bot token.
    UserOrBot(Option<&'static str>),
    /// Only a user token, with this scope (if any).
    UserOnly(Option<&'static str>),
}

impl Endpoint {
    /// The endpoint for a `GET` of `segments` (percent-decoded), if any.
    pub fn find(segments: &[&str]) -> Option<Self> {
        let owned = |value: &str| value.to_owned();
        Some(match segments {
            ["gateway"] => Self::Gateway,
            ["guilds", "templates", code] => Self::GuildTemplate(owned(code)),
            ["guilds", guild, "widget.json"] => Self::GuildWidget(owned(guild)),
            ["guilds", guild, "widget.png"] => Self::GuildWidgetImage(owned(guild)),
            ["invites", code] => Self::Invite(owned(code)),
            ["oauth2", "@me"] => Self::CurrentAuthorization,
            ["oauth2", "keys"] => Self::OAuth2Keys,
            ["oauth2", "userinfo"] => Self::OpenIdUserInfo,
            ["sticker-packs"] => Self::StickerPacks,
            ["users", "@me"] => Self::CurrentUser,
            ["users", "@me", "applications", application, "entitlements"] => {
                Self::CurrentUserEntitlements(owned(application))
            }
            ["users", "@me", "connections"] => Self::CurrentUserConnections,
            ["users", "@me", "guilds"] => Self::CurrentUserGuilds,
            ["users", "@me", "guilds", guild, "member"] => {
                Self::CurrentUserGuildMember(owned(guild))
            }
            ["users", user] => Self::User(owned(user)),
            _ => return None,
        })
    }

    /// The route's name, which is also its rate limit bucket.
    pub fn route(&self) -> &'static str {
        match self {
            Self::Gateway => "GET /gateway",
            Self::GuildTemplate(_) => "GET /guilds/templates/{code}",
            Self::GuildWidget(_) => "GET /guilds/{guild_id}/widget.json",
            Self::GuildWidgetImage(_) => "GET /guilds/{guild_id}/widget.png",
            Self::Invite(_) => "GET /invites/{code}",
            Self::CurrentAuthorization => "GET /oauth2/@me",
            Self::OAuth2Keys => "GET /oauth2/keys",
            Self::OpenIdUserInfo => "GET /oauth2/userinfo",
            Self::StickerPacks => "GET /sticker-packs",
            Self::CurrentUser => "GET /users/@me",
            Self::CurrentUserEntitlements(_) => {
                "GET /users/@me/applications/{application_id}/entitlements"
            }
            Self::CurrentUserConnections => "GET /users/@me/connections",
            Self::CurrentUserGuilds => "GET /users/@me/guilds",
            Self::CurrentUserGuildMember(_) => "GET /users/@me/guilds/{guild_id}/member",
            Self::User(_) => "GET /users/{user_id}",
        }
    }

    fn access(&self) -> Access {
        match self {
            Self::Gateway
            | Self::GuildTemplate(_)
            | Self::GuildWidget(_)
            | Self::GuildWidgetImage(_)
            | Self::Invite(_)
            | Self::OAuth2Keys
            | Self::StickerPacks => Access::Anyone,
            Self::CurrentUser | Self::User(_) => Access::UserOrBot(Some("identify")),
            Self::CurrentUserGuilds => Access::UserOrBot(Some("guilds")),
            Self::CurrentAuthorization => Access::UserOnly(None),
            Self::OpenIdUserInfo => Access::UserOnly(Some("openid")),
            Self::CurrentUserEntitlements(_) => Access::UserOnly(Some("applications.entitlements")),
            Self::CurrentUserConnections => Access::UserOnly(Some("connections")),
            Self::CurrentUserGuildMember(_) => Access::UserOnly(Some("guilds.members.read")),
        }
    }
}

/// An answer before the sandbox adds its rate limit headers.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: body.to_string().into_bytes(),
        }
    }

    fn ok(body: &Value) -> Self {
        Self::json(200, body)
    }

    /// Discord's error body: `{"message": …, "code": …}`.
    pub fn error(status: u16, code: u32, message: &str) -> Self {
        Self::json(status, &json!({ "message": message, "code": code }))
    }

    /// An empty 204 answer, as Discord gives for actions with nothing to say.
    pub fn no_content() -> Self {
        Self {
            status: 204,
            content_type: "",
            body: Vec::new(),
        }
    }

    /// Discord's answer to a missing, unknown, expired or revoked token.
    pub fn unauthorized() -> Self {
        Self::error(401, 0, "401: Unauthorized")
    }

    /// Discord's answer to a path it does not serve.
    pub fn not_found() -> Self {
        Self::error(404, 0, "404: Not Found")
    }

    /// Discord's 429, for a limit that resets in `retry_after`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        let seconds = (retry_after.as_secs_f64() * 1000.0).ceil() / 1000.0;
        Self::json(
            429,
            &json!({ "message": "You are being rate limited.", "code": 0, "retry_after": seconds, "global": false }),
        )
    }
}

/// Query parameters, checked as Discord checks them: every bad one is
/// collected into one "Invalid Form Body" (50035) answer.
#[derive(Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
    errors: Map<String, Value>,
}

impl Query {
    pub fn parse(query: &str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            errors: Map::new(),
        }
    }

    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    pub(crate) fn fail(&mut self, name: &str, code: &str, message: String) {
        self.errors.insert(
            name.to_owned(),
            json!({ "_errors": [{ "code": code, "message": message }] }),
        );
    }

    pub(crate) fn bool(&mut self, name: &str) -> Option<bool> {
        let value = self.raw(name)?;
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.fail(
                    name,
                    "BOOLEAN_TYPE_COERCE",
                    format!("Value \"{value}\" is not a valid boolean."),
                );
                None
            }
        }
    }

    pub(crate) fn int(&mut self, name: &str, min: u64, max: u64) -> Option<u64> {
        let value = self.raw(name)?;
        match value.parse::<u64>() {
            Ok(number) if number < min => {
                self.fail(
                    name,
                    "NUMBER_TYPE_MIN",
                    format!("int value should be greater than or equal to {min}."),
                );
                None
            }
            Ok(number) if number > max => {
                self.fail(
                    name,
                    "NUMBER_TYPE_MAX",
                    format!("int value should be less than or equal to {max}."),
                );
                None
            }
            Ok(number) => Some(number),
            Err(_) => {
                self.fail(
                    name,
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{value}\" is not int."),
                );
                None
            }
        }
    }

    pub(crate) fn snowflake(&mut self, name: &str) -> Option<u64> {
        let value = self.raw(name)?;
        match value.parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => {
                self.fail(
                    name,
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{value}\" is not snowflake."),
                );
                None
            }
        }
    }

    fn one_of(&mut self, name: &str, choices: &[&str]) -> Option<String> {
        let value = self.raw(name)?;
        if choices.contains(&value.as_str()) {
            return Some(value);
        }
        self.fail(
            name,
            "BASE_TYPE_CHOICES",
            format!("Value must be one of {choices:?}."),
        );
        None
    }

    /// A string of `min` to `max` characters.
    pub(crate) fn text(&mut self, name: &str, min: usize, max: usize) -> Option<String> {
        let value = self.raw(name)?;
        if (min..=max).contains(&value.chars().count()) {
            return Some(value);
        }
        self.fail(
            name,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        );
        None
    }

    /// The 50035 answer, when any parameter was bad.
    pub(crate) fn verdict(self) -> Result<(), Reply> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let body = json!({ "code": 50035, "errors": self.errors, "message": "Invalid Form Body" });
        Err(Reply::json(400, &body))
    }
}

/// Checks `caller` against the endpoint's access rule.
fn admit(access: Access, caller: Option<&Grant>) -> Result<(), Reply> {
    let (scope, bots_allowed) = match access {
        Access::Anyone => return Ok(()),
        Access::UserOrBot(scope) => (scope, true),
        Access::UserOnly(scope) => (scope, false),
    };
    let Some(grant) = caller else {
        return Err(Reply::unauthorized());
    };
    match grant.kind {
        Bearer::Bot if bots_allowed => Ok(()),
        Bearer::Bot => Err(Reply::error(403, 20001, "Bots cannot use this endpoint")),
        Bearer::User if scope.is_none_or(|scope| grant.has_scope(scope)) => Ok(()),
        Bearer::User => Err(Reply::error(403, 50001, "Missing Access")),
    }
}

/// The sandbox's answer to `endpoint`, called by `caller` with `query`.
pub(crate) fn answer(
    endpoint: &Endpoint,
    caller: Option<&Grant>,
    query: &str,
    fixtures: &Fixtures,
) -> Reply {
    admit(endpoint.access(), caller)
        .and_then(|()| serve(endpoint, caller, Query::parse(query), fixtures))
        .unwrap_or_else(|reply| reply)
}

fn serve(
    endpoint: &Endpoint,
    caller: Option<&Grant>,
    mut query: Query,
    fixtures: &Fixtures,
) -> Result<Reply, Reply> {
    let unknown_guild = || Reply::error(404, 10004, "Unknown Guild");
    match endpoint {
        Endpoint::Gateway => Ok(Reply::ok(&fixtures.data["gateway"])),
        Endpoint::GuildTemplate(code) => fixtures
            .get("templates", code)
            .map(Reply::ok)
            .ok_or_else(|| Reply::error(404, 10057, "Unknown Guild Template")),
        Endpoint::GuildWidget(guild) => widget(fixtures, guild).map(Reply::ok),
        Endpoint::GuildWidgetImage(guild) => {
            let style = query.one_of("style", widget_png::STYLES);
            query.verdict()?;
            let widget = widget(fixtures, guild)?;
            let online = widget["presence_count"].as_u64().unwrap_or(0);
            Ok(Reply {
                status: 200,
                content_type: "image/png",
                body: widget_png::render(style.as_deref().unwrap_or("shield"), online),
            })
        }
        Endpoint::Invite(code) => {
            let with_counts = query.bool("with_counts");
            query.bool("with_expiration");
            let event = query.snowflake("guild_scheduled_event_id");
            query.verdict()?;
            let mut invite = fixtures
                .get("invites", code)
                .cloned()
                .ok_or_else(|| Reply::error(404, 10006, "Unknown Invite"))?;
            let guild_id = invite["guild_id"].as_str().unwrap_or_default().to_owned();
            if with_counts == Some(true) {
                merge(&mut invite, fixtures.get("guild_counts", &guild_id));
            }
            let event = event.and_then(|id| fixtures.get("scheduled_events", &id.to_string()));
            if let Some(event) = event.filter(|event| event["guild_id"] == guild_id.as_str()) {
                invite["guild_scheduled_event"] = event.clone();
            }
            Ok(Reply::ok(&invite))
        }
        Endpoint::CurrentAuthorization => {
            let grant = caller.ok_or_else(Reply::unauthorized)?;
            let expires = grant
                .expires_at
                .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(7 * 24 * 3600));
            let mut body = json!({
                "application": fixtures.data["application"],
                "scopes": grant.scopes,
                "expires": humantime::format_rfc3339_seconds(expires).to_string(),
            });
            if grant.has_scope("identify") {
                body["user"] = fixtures
                    .get("users", &grant.user_id)
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            Ok(Reply::ok(&body))
        }
        Endpoint::OAuth2Keys => Ok(Reply::ok(&fixtures.data["keys"])),
        Endpoint::OpenIdUserInfo => {
            let grant = caller.ok_or_else(Reply::unauthorized)?;
            let user = fixtures
                .get("private_users", &grant.user_id)
                .ok_or_else(Reply::unauthorized)?;
            let mut claims = json!({
                "sub": user["id"],
                "preferred_username": user["username"],
                "nickname": user["global_name"],
                "locale": user["locale"],
            });
            if let (Some(id), Some(avatar)) = (user["id"].as_str(), user["avatar"].as_str()) {
                claims["picture"] = json!(format!(
                    "https://cdn.discordapp.com/avatars/{id}/{avatar}.png"
                ));
            }
            if grant.has_scope("email") {
                claims["email"] = user["email"].clone();
                claims["email_verified"] = user["verified"].clone();
            }
            Ok(Reply::ok(&claims))
        }
        Endpoint::StickerPacks => Ok(Reply::ok(&fixtures.data["sticker_packs"])),
        Endpoint::CurrentUser => {
            let grant = caller.ok_or_else(Reply::unauthorized)?;
            let mut user = fixtures
                .get("private_users", &grant.user_id)
                .cloned()
                .ok_or_else(Reply::unauthorized)?;
            let hide_email = grant.kind == Bearer::User && !grant.has_scope("email");
            if let Some(fields) = user.as_object_mut().filter(|_| hide_email) {
                fields.remove("email");
                fields.remove("verified");
            }
            Ok(Reply::ok(&user))
        }
        Endpoint::CurrentUserEntitlements(application) => {
            let exclude_consumed = query.bool("exclude_consumed");
            let exclude_deleted = query.bool("exclude_deleted");
            let exclude_ended = query.bool("exclude_ended");
            let limit = query.int("limit", 1, 100);
            let sku_ids = query.raw("sku_ids");
            query.verdict()?;
            if application != APPLICATION_ID {
                return Err(Reply::error(404, 10002, "Unknown Application"));
            }
            let grant = caller.ok_or_else(Reply::unauthorized)?;
            let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let skus: Option<Vec<&str>> = sku_ids.as_deref().map(|ids| ids.split(',').collect());
            let entitlements: Vec<Value> = fixtures
                .list("entitlements", application)
                .filter(|entitlement| entitlement["user_id"] == grant.user_id.as_str())
                .filter(|entitlement| {
                    skus.as_ref().is_none_or(|skus| {
                        skus.contains(&entitlement["sku_id"].as_str().unwrap_or_default())
                    })
                })
                .filter(|entitlement| {
                    exclude_consumed != Some(true) || entitlement["consumed"] != true
                })
                .filter(|entitlement| {
                    exclude_deleted == Some(false) || entitlement["deleted"] != true
                })
                .filter(|entitlement| {
                    exclude_ended != Some(true)
                        || entitlement["ends_at"]
                            .as_str()
                            .is_none_or(|ends| ends > now.as_str())
                })
                .take(limit.unwrap_or(100) as usize)
                .cloned()
                .collect();
            Ok(Reply::ok(&Value::Array(entitlements)))
        }
        Endpoint::CurrentUserConnections => Ok(Reply::ok(&fixtures.data["connections"])),
        Endpoint::CurrentUserGuilds => {
            let after = query.snowflake("after");
            let before = query.snowflake("before");
            let limit = query.int("limit", 1, 200);
            let with_counts = query.bool("with_counts");
            query.verdict()?;
            let guilds: Vec<Value> = fixtures
                .list("my_guilds", "")
                .filter(|guild| {
                    let id: u64 = id_of(guild).parse().unwrap_or(0);
                    after.is_none_or(|after| id > after) && before.is_none_or(|before| id < before)
                })
                .take(limit.unwrap_or(200) as usize)
                .map(|guild| {
                    let counts = fixtures.get("guild_counts", id_of(guild));
                    let mut guild = guild.clone();
                    if with_counts == Some(true) {
                        merge(&mut guild, counts);
                    }
                    guild
                })
                .collect();
            Ok(Reply::ok(&Value::Array(guilds)))
        }
        Endpoint::CurrentUserGuildMember(guild) => fixtures
            .get("members", guild)
            .map(Reply::ok)
            .ok_or_else(unknown_guild),
        Endpoint::User(user) => {
            if user.parse::<u64>().is_err() {
                let errors = json!({ "user_id": { "_errors": [{ "code": "NUMBER_TYPE_COERCE", "message": format!("Value \"{user}\" is not snowflake.") }] } });
                return Err(Reply::json(
                    400,
                    &json!({ "code": 50035, "errors": errors, "message": "Invalid Form Body" }),
                ));
            }
            fixtures
                .get("users", user)
                .map(Reply::ok)
                .ok_or_else(|| Reply::error(404, 10013, "Unknown User"))
        }
    }
}

/// A guild's widget, or Discord's answer when it is disabled or unknown.
fn widget<'a>(fixtures: &'a Fixtures, guild: &str) -> Result<&'a Value, Reply> {
    if let Some(widget) = fixtures.get("widgets", guild) {
        return Ok(widget);
    }
    if fixtures
        .list("my_guilds", "")
        .any(|known| id_of(known) == guild)
    {
        return Err(Reply::error(403, 50004, "Widget Disabled"));
    }
    Err(Reply::error(404, 10004, "Unknown Guild"))
}

fn id_of(object: &Value) -> &str {
    object["id"].as_str().unwrap_or_default()
}

/// Copies the fields of `extra` (an object) into `target`.
fn merge(target: &mut Value, extra: Option<&Value>) {
    if let (Some(target), Some(Value::Object(extra))) = (target.as_object_mut(), extra) {
        target.extend(extra.clone());
    }
}
