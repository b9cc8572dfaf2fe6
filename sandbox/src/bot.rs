//! The bot endpoints: messages, reactions, pins, typing, threads,
//! channels, the guild, its members and direct messages, served from the
//! sandbox's [`World`] with Discord's answers and error codes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::endpoints::{Query, Reply};
use crate::fixtures::Fixtures;
use crate::rate_limit::RateLimitPolicy;
use crate::tokens::{Bearer, Grant};
use crate::world::{MAX_ACTIVE_THREADS, MAX_PINS, MESSAGE_CHANNEL_TYPES, World, now, timestamp};

/// A bot route with its path values (as sent, percent-decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Messages(String),
    Message(String, String),
    OwnReaction(String, String, String),
    Pins(String),
    Pin(String, String),
    Typing(String),
    Threads(String),
    MessageThreads(String, String),
    ActiveThreads(String),
    Channel(String),
    GuildChannels(String),
    Guild(String),
    Member(String, String),
    Members(String),
    MemberSearch(String),
    DmChannels,
}

/// Discord's per-channel reaction bucket: one per 250 ms.
const REACTION_BUCKET: RateLimitPolicy = RateLimitPolicy {
    limit: 1,
    window: Duration::from_millis(250),
};
/// Discord's per-channel message creation bucket: five per five seconds.
const MESSAGE_CREATE_BUCKET: RateLimitPolicy = RateLimitPolicy {
    limit: 5,
    window: Duration::from_secs(5),
};

/// Where a request is counted: its bucket's name, its major parameter and
/// its own limit when the route has one.
pub(crate) struct Bucket {
    pub name: &'static str,
    pub major: String,
    pub policy: Option<RateLimitPolicy>,
}

impl Route {
    /// The route for `segments` (percent-decoded), if it is a bot route.
    pub fn find(segments: &[&str]) -> Option<Self> {
        let owned = |value: &str| value.to_owned();
        Some(match segments {
            ["channels", channel] => Self::Channel(owned(channel)),
            ["channels", channel, "messages"] => Self::Messages(owned(channel)),
            ["channels", channel, "messages", "pins"] => Self::Pins(owned(channel)),
            ["channels", channel, "messages", "pins", message] => {
                Self::Pin(owned(channel), owned(message))
            }
            ["channels", channel, "messages", message] => {
                Self::Message(owned(channel), owned(message))
            }
            [
                "channels",
                channel,
                "messages",
                message,
                "reactions",
                emoji,
                "@me",
            ] => Self::OwnReaction(owned(channel), owned(message), owned(emoji)),
            ["channels", channel, "messages", message, "threads"] => {
                Self::MessageThreads(owned(channel), owned(message))
            }
            ["channels", channel, "threads"] => Self::Threads(owned(channel)),
            ["channels", channel, "typing"] => Self::Typing(owned(channel)),
            ["guilds", guild] if *guild != "templates" => Self::Guild(owned(guild)),
            ["guilds", guild, "channels"] => Self::GuildChannels(owned(guild)),
            ["guilds", guild, "members"] => Self::Members(owned(guild)),
            ["guilds", guild, "members", "search"] => Self::MemberSearch(owned(guild)),
            ["guilds", guild, "members", user] => Self::Member(owned(guild), owned(user)),
            ["guilds", guild, "threads", "active"] => Self::ActiveThreads(owned(guild)),
            ["users", "@me", "channels"] => Self::DmChannels,
            _ => return None,
        })
    }

    /// Whether the route answers `method`.
    pub fn allows(&self, method: &str) -> bool {
        let allowed: &[&str] = match self {
            Self::Messages(_) => &["GET", "POST"],
            Self::Message(..) => &["GET", "PATCH", "DELETE"],
            Self::OwnReaction(..) | Self::Pin(..) => &["PUT", "DELETE"],
            Self::Typing(_) | Self::Threads(_) | Self::MessageThreads(..) | Self::DmChannels => {
                &["POST"]
            }
            Self::Pins(_)
            | Self::ActiveThreads(_)
            | Self::Channel(_)
            | Self::GuildChannels(_)
            | Self::Guild(_)
            | Self::Member(..)
            | Self::Members(_)
            | Self::MemberSearch(_) => &["GET"],
        };
        allowed.contains(&method)
    }

    /// The bucket a `method` request on this route counts against.
    pub fn bucket(&self, method: &str) -> Bucket {
        let bucket = |name: &'static str, major: &str| Bucket {
            name,
            major: major.to_owned(),
            policy: None,
        };
        match self {
            Self::OwnReaction(channel, ..) => Bucket {
                policy: Some(REACTION_BUCKET),
                ..bucket("reactions /channels/{channel_id}", channel)
            },
            Self::Messages(channel) if method == "POST" => Bucket {
                policy: Some(MESSAGE_CREATE_BUCKET),
                ..bucket("POST /channels/{channel_id}/messages", channel)
            },
            Self::Messages(channel) => bucket("GET /channels/{channel_id}/messages", channel),
            Self::Message(channel, _) => {
                bucket("/channels/{channel_id}/messages/{message_id}", channel)
            }
            Self::Pins(channel) | Self::Pin(channel, _) => {
                bucket("/channels/{channel_id}/messages/pins", channel)
            }
            Self::Typing(channel) => bucket("POST /channels/{channel_id}/typing", channel),
            Self::Threads(channel) | Self::MessageThreads(channel, _) => {
                bucket("POST /channels/{channel_id}/threads", channel)
            }
            Self::Channel(channel) => bucket("GET /channels/{channel_id}", channel),
            Self::ActiveThreads(guild) => bucket("GET /guilds/{guild_id}/threads/active", guild),
            Self::GuildChannels(guild) => bucket("GET /guilds/{guild_id}/channels", guild),
            Self::Guild(guild) => bucket("GET /guilds/{guild_id}", guild),
            Self::Member(guild, _) | Self::Members(guild) | Self::MemberSearch(guild) => {
                bucket("GET /guilds/{guild_id}/members", guild)
            }
            Self::DmChannels => bucket("POST /users/@me/channels", ""),
        }
    }
}

/// Discord's 50035 "Invalid Form Body" errors, nested by field path.
#[derive(Default)]
struct FormErrors(Map<String, Value>);

impl FormErrors {
    fn fail(&mut self, path: &[&str], code: &str, message: impl Into<String>) {
        let mut node = &mut self.0;
        for key in path {
            let entry = node
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = entry.as_object_mut().expect("made an object above");
        }
        let errors = node.entry("_errors").or_insert_with(|| json!([]));
        if let Some(list) = errors.as_array_mut() {
            list.push(json!({ "code": code, "message": message.into() }));
        }
    }

    fn verdict(self) -> Result<(), Reply> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(invalid_form(Value::Object(self.0)))
    }
}

fn invalid_form(errors: Value) -> Reply {
    Reply::json(
        400,
        &json!({ "code": 50035, "errors": errors, "message": "Invalid Form Body" }),
    )
}

fn unknown_channel() -> Reply {
    Reply::error(404, 10003, "Unknown Channel")
}
fn unknown_message() -> Reply {
    Reply::error(404, 10008, "Unknown Message")
}
fn unknown_guild() -> Reply {
    Reply::error(404, 10004, "Unknown Guild")
}
fn wrong_channel_type() -> Reply {
    Reply::error(400, 50024, "Cannot execute action on this channel type")
}

/// A path value as a snowflake, or Discord's 50035 naming the parameter.
fn path_id(name: &str, value: &str) -> Result<u64, Reply> {
    value.parse().map_err(|_| {
        invalid_form(json!({ name: { "_errors": [{
            "code": "NUMBER_TYPE_COERCE",
            "message": format!("Value \"{value}\" is not snowflake."),
        }] } }))
    })
}

/// The request body as a JSON object; Discord's 50109 if it is not JSON.
fn object_body(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(invalid_form(json!({ "_errors": [{
            "code": "DICT_TYPE_CONVERT",
            "message": "Only dictionaries may be used in a DictType",
        }] }))),
        Err(_) => Err(Reply::error(
            400,
            50109,
            "The request body contains invalid JSON.",
        )),
    }
}

/// Who may call: a bot token on every route; a user token only lists a
/// guild's channels (Discord's OAuth2 security there), and is refused
/// elsewhere as Discord refuses a bearer token on a bot-only route.
fn admit(route: &Route, caller: Option<&Grant>) -> Result<Grant, Reply> {
    match caller {
        Some(grant) if grant.kind == Bearer::Bot => Ok(grant.clone()),
        Some(_) if matches!(route, Route::GuildChannels(_)) => {
            Err(Reply::error(403, 50001, "Missing Access"))
        }
        _ => Err(Reply::unauthorized()),
    }
}

/// The sandbox's answer to a bot request.
pub(crate) fn answer(
    route: &Route,
    method: &str,
    caller: Option<&Grant>,
    query: &str,
    body: &[u8],
    world: &mut World,
    fixtures: &Fixtures,
) -> Reply {
    admit(route, caller)
        .and_then(|bot| {
            let request = Request {
                method,
                query: Query::parse(query),
                body,
                bot: &bot,
                fixtures,
            };
            request.serve(route, world)
        })
        .unwrap_or_else(|reply| reply)
}

struct Request<'a> {
    method: &'a str,
    query: Query,
    body: &'a [u8],
    bot: &'a Grant,
    fixtures: &'a Fixtures,
}

impl Request<'_> {
    fn serve(self, route: &Route, world: &mut World) -> Result<Reply, Reply> {
        match route {
            Route::Messages(channel) => {
                let channel = message_channel(world, channel)?;
                if self.method == "POST" {
                    self.create_message(world, channel)
                } else {
                    self.list_messages(world, channel)
                }
            }
            Route::Message(channel, message) => {
                let channel = message_channel(world, channel)?;
                let message = path_id("message_id", message)?;
                match self.method {
                    "GET" => world
                        .message(channel, message)
                        .map(|message| Reply::json(200, &message))
                        .ok_or_else(unknown_message),
                    "PATCH" => self.edit_message(world, channel, message),
                    _ => {
                        world
                            .messages
                            .get_mut(&channel)
                            .and_then(|messages| messages.remove(&message))
                            .ok_or_else(unknown_message)?;
                        if let Some(pins) = world.pins.get_mut(&channel) {
                            pins.remove(&message);
                        }
                        Ok(Reply::no_content())
                    }
                }
            }
            Route::OwnReaction(channel, message, emoji) => {
                let channel = message_channel(world, channel)?;
                let message = path_id("message_id", message)?;
                let emoji = self.emoji(world, channel, emoji)?;
                let stored = world
                    .messages
                    .get_mut(&channel)
                    .and_then(|messages| messages.get_mut(&message))
                    .ok_or_else(unknown_message)?;
                react(stored, emoji, self.method == "PUT");
                Ok(Reply::no_content())
            }
            Route::Pins(channel) => {
                let channel = message_channel(world, channel)?;
                self.list_pins(world, channel)
            }
            Route::Pin(channel, message) => {
                let channel = message_channel(world, channel)?;
                let message = path_id("message_id", message)?;
                pin(world, channel, message, self.method == "PUT")?;
                Ok(Reply::no_content())
            }
            Route::Typing(channel) => {
                message_channel(world, channel)?;
                Ok(Reply::no_content())
            }
            Route::Threads(channel) => {
                let channel = path_id("channel_id", channel)?;
                self.create_thread(world, channel, None)
            }
            Route::MessageThreads(channel, message) => {
                let channel = path_id("channel_id", channel)?;
                let message = path_id("message_id", message)?;
                self.create_thread(world, channel, Some(message))
            }
            Route::ActiveThreads(guild) => {
                let guild = self.guild(world, guild)?;
                let threads: Vec<Value> = world.active_threads(guild).cloned().collect();
                let bot = &self.bot.user_id;
                let members: Vec<Value> = threads
                    .iter()
                    .filter_map(|thread| {
                        let id = thread["id"].as_str()?.parse().ok()?;
                        world.thread_member(id, bot)
                    })
                    .collect();
                Ok(Reply::json(
                    200,
                    &json!({ "threads": threads, "members": members, "has_more": false }),
                ))
            }
            Route::Channel(channel) => {
                let channel = path_id("channel_id", channel)?;
                world
                    .channels
                    .get(&channel)
                    .map(|channel| Reply::json(200, channel))
                    .ok_or_else(unknown_channel)
            }
            Route::GuildChannels(guild) => {
                let guild = self.guild(world, guild)?.to_string();
                let mut channels: Vec<&Value> = world
                    .channels
                    .values()
                    .filter(|channel| channel["guild_id"] == guild.as_str())
                    .filter(|channel| channel.get("thread_metadata").is_none())
                    .collect();
                channels.sort_by_key(|channel| channel["position"].as_i64());
                Ok(Reply::json(200, &json!(channels)))
            }
            Route::Guild(guild) => {
                let with_counts = self.query_verdict(|query| query.bool("with_counts"))?;
                let id = self.guild(world, guild)?;
                let mut guild = world.guilds.get(&id).cloned().ok_or_else(unknown_guild)?;
                if with_counts == Some(true)
                    && let (Some(guild), Some(Value::Object(counts))) = (
                        guild.as_object_mut(),
                        self.fixtures.get("guild_counts", &id.to_string()),
                    )
                {
                    guild.extend(counts.clone());
                }
                Ok(Reply::json(200, &guild))
            }
            Route::Member(guild, user) => {
                let guild = self.guild(world, guild)?;
                let user = path_id("user_id", user)?.to_string();
                world
                    .members
                    .get(&guild)
                    .into_iter()
                    .flatten()
                    .find(|member| member["user"]["id"] == user.as_str())
                    .map(|member| Reply::json(200, member))
                    .ok_or_else(|| match self.fixtures.get("users", &user) {
                        Some(_) => Reply::error(404, 10007, "Unknown Member"),
                        None => Reply::error(404, 10013, "Unknown User"),
                    })
            }
            Route::Members(guild) => {
                let (limit, after) = self.query_verdict(|query| {
                    (query.int("limit", 1, 1000), query.snowflake("after"))
                })?;
                let guild = self.guild(world, guild)?;
                let members: Vec<&Value> = world
                    .members
                    .get(&guild)
                    .into_iter()
                    .flatten()
                    .filter(|member| {
                        let id: u64 = member["user"]["id"]
                            .as_str()
                            .and_then(|id| id.parse().ok())
                            .unwrap_or(0);
                        id > after.unwrap_or(0)
                    })
                    .take(limit.unwrap_or(1) as usize)
                    .collect();
                Ok(Reply::json(200, &json!(members)))
            }
            Route::MemberSearch(guild) => {
                let (search, limit) = self.query_verdict(|query| {
                    let search = query.text("query", 1, 100);
                    if query.raw("query").is_none() {
                        query.fail(
                            "query",
                            "BASE_TYPE_REQUIRED",
                            "This field is required".into(),
                        );
                    }
                    (search, query.int("limit", 1, 1000))
                })?;
                let guild = self.guild(world, guild)?;
                let search = search.unwrap_or_default().to_lowercase();
                let starts = |value: &Value| {
                    value
                        .as_str()
                        .is_some_and(|name| name.to_lowercase().starts_with(&search))
                };
                let members: Vec<&Value> = world
                    .members
                    .get(&guild)
                    .into_iter()
                    .flatten()
                    .filter(|member| {
                        starts(&member["nick"])
                            || starts(&member["user"]["username"])
                            || starts(&member["user"]["global_name"])
                    })
                    .take(limit.unwrap_or(1) as usize)
                    .collect();
                Ok(Reply::json(200, &json!(members)))
            }
            Route::DmChannels => self.open_dm(world),
        }
    }

    /// Checks the query with `read`, answering 50035 if any value was bad.
    fn query_verdict<T>(&self, read: impl FnOnce(&mut Query) -> T) -> Result<T, Reply> {
        let mut query = self.query.clone();
        let values = read(&mut query);
        query.verdict()?;
        Ok(values)
    }

    /// A guild the bot is in; Discord's 403 for one it is not in, 404 for
    /// one that does not exist.
    fn guild(&self, world: &World, guild: &str) -> Result<u64, Reply> {
        let id = path_id("guild_id", guild)?;
        if world.guilds.contains_key(&id) {
            return Ok(id);
        }
        if self.fixtures.get("guild_counts", guild).is_some() {
            return Err(Reply::error(403, 50001, "Missing Access"));
        }
        Err(unknown_guild())
    }

    fn user(&self, id: &str) -> Value {
        self.fixtures
            .get("users", id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn list_messages(&self, world: &World, channel: u64) -> Result<Reply, Reply> {
        let (limit, around, before, after) = self.query_verdict(|query| {
            (
                query.int("limit", 1, 100),
                query.snowflake("around"),
                query.snowflake("before"),
                query.snowflake("after"),
            )
        })?;
        let limit = limit.unwrap_or(50) as usize;
        let ids: Vec<u64> = world
            .messages
            .get(&channel)
            .map(|messages| messages.keys().copied().collect())
            .unwrap_or_default();
        let mut chosen: Vec<u64> = if let Some(around) = around {
            let older: Vec<u64> = ids.iter().copied().filter(|id| *id < around).collect();
            let newer = ids.iter().copied().filter(|id| *id >= around);
            let from_older = older.len().min(limit / 2);
            let mut chosen: Vec<u64> = newer.take(limit - from_older).collect();
            chosen.extend(older.iter().rev().take(from_older));
            chosen
        } else if let Some(before) = before {
            ids.iter()
                .rev()
                .copied()
                .filter(|id| *id < before)
                .take(limit)
                .collect()
        } else if let Some(after) = after {
            ids.iter()
                .copied()
                .filter(|id| *id > after)
                .take(limit)
                .collect()
        } else {
            ids.iter().rev().copied().take(limit).collect()
        };
        chosen.sort_unstable_by(|a, b| b.cmp(a));
        let messages: Vec<Value> = chosen
            .into_iter()
            .filter_map(|id| world.message(channel, id))
            .collect();
        Ok(Reply::json(200, &Value::Array(messages)))
    }

    fn list_pins(&self, world: &World, channel: u64) -> Result<Reply, Reply> {
        let (before, limit) = self.query_verdict(|query| {
            let before = query.raw("before");
            let parsed = before
                .as_deref()
                .map(|at| DateTime::parse_from_rfc3339(at).map(|at| at.with_timezone(&Utc)));
            if let Some(Err(_)) = parsed {
                query.fail(
                    "before",
                    "DATE_TIME_TYPE_PARSE",
                    format!(
                        "Could not parse {}. Should be ISO8601.",
                        before.unwrap_or_default()
                    ),
                );
            }
            (parsed.and_then(Result::ok), query.int("limit", 1, 50))
        })?;
        let limit = limit.unwrap_or(50) as usize;
        let mut pins: Vec<(u64, DateTime<Utc>)> = world
            .pins
            .get(&channel)
            .into_iter()
            .flatten()
            .map(|(id, at)| (*id, *at))
            .filter(|(_, at)| before.is_none_or(|before| *at < before))
            .collect();
        pins.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        let has_more = pins.len() > limit;
        let items: Vec<Value> = pins
            .into_iter()
            .take(limit)
            .filter_map(|(id, at)| {
                Some(json!({ "pinned_at": timestamp(at), "message": world.message(channel, id)? }))
            })
            .collect();
        Ok(Reply::json(
            200,
            &json!({ "items": items, "has_more": has_more }),
        ))
    }

    fn create_message(&self, world: &mut World, channel: u64) -> Result<Reply, Reply> {
        let body = object_body(self.body)?;
        let mut errors = FormErrors::default();
        let input = MessageInput::read(&body, &mut errors, false);
        let reference = reference(&body, &mut errors, world, channel);
        errors.verdict()?;
        if input.content.as_deref().unwrap_or_default().is_empty()
            && input.embeds.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(Reply::error(400, 50006, "Cannot send an empty message"));
        }
        let bot: u64 = self.bot.user_id.parse().unwrap_or(0);
        if let (Some(nonce), true) = (&input.nonce, input.enforce_nonce) {
            let key = nonce
                .as_str()
                .map_or_else(|| nonce.to_string(), str::to_owned);
            if let Some(earlier) = world
                .earlier(channel, bot, &key)
                .and_then(|id| world.message(channel, id))
            {
                return Ok(Reply::json(200, &earlier));
            }
        }
        let id = world.next_id();
        let now = timestamp(now());
        let referenced = reference
            .as_ref()
            .and_then(|reference| world.message(channel, reference.message_id));
        let replied_author = referenced.as_ref().map(|message| {
            message["author"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        let in_guild = world.guild_of(channel);
        let content = input.content.clone().unwrap_or_default();
        let (mentions, mention_roles, mention_everyone) = self.mentions(
            world,
            in_guild,
            &content,
            input.allowed_mentions.as_ref(),
            replied_author.as_deref(),
        );
        let mut message = json!({
            "type": if referenced.is_some() { 19 } else { 0 },
            "content": content,
            "mentions": mentions,
            "mention_roles": mention_roles,
            "attachments": [],
            "embeds": input.embeds.clone().unwrap_or_default(),
            "timestamp": now,
            "edited_timestamp": null,
            "flags": input.flags.unwrap_or(0) & (SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS),
            "components": [],
            "id": id.to_string(),
            "channel_id": channel.to_string(),
            "author": self.user(&self.bot.user_id),
            "pinned": false,
            "mention_everyone": mention_everyone,
            "tts": input.tts,
        });
        if let Some(nonce) = &input.nonce {
            message["nonce"] = nonce.clone();
        }
        if let (Some(reference), Some(referenced)) = (reference, referenced) {
            let mut pointer = json!({
                "type": 0,
                "channel_id": channel.to_string(),
                "message_id": reference.message_id.to_string(),
            });
            if let Some(guild) = in_guild {
                pointer["guild_id"] = json!(guild.to_string());
            }
            message["message_reference"] = pointer;
            let mut basic = referenced;
            if let Some(fields) = basic.as_object_mut() {
                for field in ["referenced_message", "reactions", "thread", "nonce"] {
                    fields.remove(field);
                }
            }
            message["referenced_message"] = basic;
        }
        world.insert_message(channel, bot, message);
        let created = world.message(channel, id).ok_or_else(unknown_message)?;
        Ok(Reply::json(200, &created))
    }

    fn edit_message(&self, world: &mut World, channel: u64, id: u64) -> Result<Reply, Reply> {
        let body = object_body(self.body)?;
        let mut errors = FormErrors::default();
        let input = MessageInput::read(&body, &mut errors, true);
        errors.verdict()?;
        let stored = world.message(channel, id).ok_or_else(unknown_message)?;
        if stored["author"]["id"] != self.bot.user_id.as_str() {
            return Err(Reply::error(
                403,
                50005,
                "Cannot edit a message authored by another user",
            ));
        }
        let content = input
            .content
            .clone()
            .unwrap_or_else(|| stored["content"].as_str().unwrap_or_default().to_owned());
        let embeds = input
            .embeds
            .clone()
            .unwrap_or_else(|| stored["embeds"].as_array().cloned().unwrap_or_default());
        if content.is_empty() && embeds.is_empty() {
            return Err(Reply::error(400, 50006, "Cannot send an empty message"));
        }
        let in_guild = world.guild_of(channel);
        let (mentions, mention_roles, mention_everyone) = self.mentions(
            world,
            in_guild,
            &content,
            input.allowed_mentions.as_ref(),
            None,
        );
        let message = world
            .messages
            .get_mut(&channel)
            .and_then(|messages| messages.get_mut(&id))
            .ok_or_else(unknown_message)?;
        message["content"] = json!(content);
        message["embeds"] = json!(embeds);
        message["mentions"] = json!(mentions);
        message["mention_roles"] = json!(mention_roles);
        message["mention_everyone"] = json!(mention_everyone);
        message["edited_timestamp"] = json!(timestamp(now()));
        if let Some(flags) = input.flags {
            let kept = message["flags"].as_u64().unwrap_or(0) & !SUPPRESS_EMBEDS;
            message["flags"] = json!(kept | (flags & SUPPRESS_EMBEDS));
        }
        let edited = world.message(channel, id).ok_or_else(unknown_message)?;
        Ok(Reply::json(200, &edited))
    }

    /// Who a message mentions, as Discord computes it from its content
    /// and `allowed_mentions` (none given: everything in the content
    /// pings; given: only what `parse` or the id lists allow). Only users
    /// Discord knows, the guild's roles, and in a guild `@everyone`/`@here`.
    fn mentions(
        &self,
        world: &World,
        guild: Option<u64>,
        content: &str,
        allowed: Option<&AllowedMentions>,
        replied_author: Option<&str>,
    ) -> (Vec<Value>, Vec<String>, bool) {
        let parsed = parse_mentions(content);
        let allows = |kind: &str, list: fn(&AllowedMentions) -> &Vec<String>, id: &String| {
            allowed.is_none_or(|allowed| {
                allowed.parse.iter().any(|parse| parse == kind) || list(allowed).contains(id)
            })
        };
        let mut users: Vec<String> = parsed
            .users
            .iter()
            .filter(|id| allows("users", |allowed| &allowed.users, id))
            .cloned()
            .collect();
        let replied_pings = allowed.is_none_or(|allowed| allowed.replied_user);
        if let (Some(author), true) = (replied_author, replied_pings) {
            users.push(author.to_owned());
        }
        let mut seen = Vec::new();
        let mentions: Vec<Value> = users
            .into_iter()
            .filter(|id| {
                let new = !seen.contains(id);
                seen.push(id.clone());
                new
            })
            .filter_map(|id| self.fixtures.get("users", &id).cloned())
            .collect();
        let guild_roles: Vec<String> = guild
            .and_then(|guild| world.guilds.get(&guild))
            .and_then(|guild| guild["roles"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|role| role["id"].as_str().map(str::to_owned))
            .collect();
        let mut roles: Vec<String> = parsed
            .roles
            .into_iter()
            .filter(|id| guild_roles.contains(id))
            .filter(|id| allows("roles", |allowed| &allowed.roles, id))
            .collect();
        roles.sort_unstable();
        roles.dedup();
        let everyone = guild.is_some()
            && parsed.everyone
            && allowed.is_none_or(|allowed| allowed.parse.iter().any(|parse| parse == "everyone"));
        (mentions, roles, everyone)
    }

    /// The emoji of a reaction path: a Unicode emoji, or `name:id` of one
    /// of the guild's custom emojis.
    fn emoji(&self, world: &World, channel: u64, emoji: &str) -> Result<Value, Reply> {
        let unknown = || Reply::error(404, 10014, "Unknown Emoji");
        if let Some((name, id)) = emoji.split_once(':') {
            let id: u64 = id.parse().map_err(|_| unknown())?;
            let custom = world
                .guild_of(channel)
                .and_then(|guild| world.guilds.get(&guild))
                .and_then(|guild| guild["emojis"].as_array())
                .into_iter()
                .flatten()
                .find(|custom| custom["id"] == id.to_string().as_str() && custom["name"] == name)
                .ok_or_else(unknown)?;
            let mut value = json!({ "id": custom["id"], "name": custom["name"] });
            if custom["animated"] == true {
                value["animated"] = json!(true);
            }
            return Ok(value);
        }
        if is_unicode_emoji(emoji) {
            Ok(json!({ "id": null, "name": emoji }))
        } else {
            Err(unknown())
        }
    }

    fn create_thread(
        &self,
        world: &mut World,
        channel: u64,
        message: Option<u64>,
    ) -> Result<Reply, Reply> {
        let parent = world.channels.get(&channel).ok_or_else(unknown_channel)?;
        let parent_type = parent["type"].as_u64().unwrap_or(0);
        let guild = world.guild_of(channel).ok_or_else(wrong_channel_type)?;
        if parent_type != 0 && parent_type != 5 {
            return Err(wrong_channel_type());
        }
        let body = object_body(self.body)?;
        let mut errors = FormErrors::default();
        let name = match body.get("name") {
            None | Some(Value::Null) => {
                errors.fail(&["name"], "BASE_TYPE_REQUIRED", "This field is required");
                None
            }
            Some(Value::String(name)) if (1..=100).contains(&name.chars().count()) => {
                Some(name.clone())
            }
            Some(Value::String(_)) => {
                errors.fail(
                    &["name"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                );
                None
            }
            Some(_) => {
                errors.fail(&["name"], "BASE_TYPE_STRING", "Must be a string.");
                None
            }
        };
        let archive = match body.get("auto_archive_duration") {
            None | Some(Value::Null) => 4320,
            Some(value) => match value
                .as_u64()
                .filter(|d| [60, 1440, 4320, 10080].contains(d))
            {
                Some(duration) => duration,
                None => {
                    errors.fail(
                        &["auto_archive_duration"],
                        "BASE_TYPE_CHOICES",
                        "Value must be one of {60, 1440, 4320, 10080}.",
                    );
                    4320
                }
            },
        };
        let default_type = match (message, parent_type) {
            (Some(_), 5) | (None, 5) => 10,
            (Some(_), _) => 11,
            (None, _) => 12,
        };
        let kind = match (message, body.get("type")) {
            (None, Some(value)) if !value.is_null() => {
                match value.as_u64().filter(|kind| [10, 11, 12].contains(kind)) {
                    Some(kind) => kind,
                    None => {
                        errors.fail(
                            &["type"],
                            "BASE_TYPE_CHOICES",
                            "Value must be one of {10, 11, 12}.",
                        );
                        default_type
                    }
                }
            }
            _ => default_type,
        };
        let invitable = match body.get("invitable") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(invitable)) => *invitable,
            Some(_) => {
                errors.fail(
                    &["invitable"],
                    "BASE_TYPE_BOOLEAN",
                    "Must be either true or false.",
                );
                true
            }
        };
        errors.verdict()?;
        if (kind == 10) != (parent_type == 5) {
            return Err(wrong_channel_type());
        }
        let id = match message {
            Some(message) => {
                world
                    .message(channel, message)
                    .ok_or_else(unknown_message)?;
                if world.channels.contains_key(&message) {
                    return Err(Reply::error(
                        400,
                        160004,
                        "A thread has already been created for this message",
                    ));
                }
                message
            }
            None => 0,
        };
        if world.active_threads(guild).count() >= MAX_ACTIVE_THREADS {
            return Err(Reply::error(
                400,
                160006,
                "Maximum number of active threads reached",
            ));
        }
        let id = if id == 0 { world.next_id() } else { id };
        let now = timestamp(now());
        let mut metadata = json!({
            "archived": false,
            "archive_timestamp": now,
            "auto_archive_duration": archive,
            "locked": false,
            "create_timestamp": now,
        });
        if kind == 12 {
            metadata["invitable"] = json!(invitable);
        }
        let thread = json!({
            "id": id.to_string(),
            "type": kind,
            "last_message_id": null,
            "flags": 0,
            "guild_id": guild.to_string(),
            "name": name.unwrap_or_default(),
            "parent_id": channel.to_string(),
            "rate_limit_per_user": 0,
            "owner_id": self.bot.user_id,
            "thread_metadata": metadata,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
        });
        world.channels.insert(id, thread.clone());
        world.joined_threads.insert(id, now);
        let mut created = thread;
        if let Some(member) = world.thread_member(id, &self.bot.user_id) {
            created["member"] = member;
        }
        Ok(Reply::json(201, &created))
    }

    fn open_dm(&self, world: &mut World) -> Result<Reply, Reply> {
        let body = object_body(self.body)?;
        let recipient = match body.get("recipient_id") {
            Some(Value::String(id)) => id.parse::<u64>().ok(),
            Some(Value::Number(id)) => id.as_u64(),
            _ => None,
        };
        let Some(recipient) = recipient else {
            let (code, message) = match body.get("recipient_id") {
                None | Some(Value::Null) => {
                    ("BASE_TYPE_REQUIRED", "This field is required".to_owned())
                }
                Some(value) => (
                    "NUMBER_TYPE_COERCE",
                    format!(
                        "Value \"{}\" is not snowflake.",
                        value.as_str().unwrap_or_default()
                    ),
                ),
            };
            return Err(invalid_form(
                json!({ "recipient_id": { "_errors": [{ "code": code, "message": message }] } }),
            ));
        };
        let user = self
            .fixtures
            .get("users", &recipient.to_string())
            .cloned()
            .ok_or_else(|| Reply::error(404, 10013, "Unknown User"))?;
        if let Some(existing) = world
            .dms
            .get(&recipient)
            .and_then(|id| world.channels.get(id))
        {
            return Ok(Reply::json(200, existing));
        }
        let id = world.next_id();
        let channel = json!({
            "id": id.to_string(),
            "type": 1,
            "last_message_id": null,
            "flags": 0,
            "recipients": [user],
        });
        world.channels.insert(id, channel.clone());
        world.dms.insert(recipient, id);
        Ok(Reply::json(200, &channel))
    }
}

/// A channel messages can be read from and sent to, or Discord's error.
fn message_channel(world: &World, channel: &str) -> Result<u64, Reply> {
    let id = path_id("channel_id", channel)?;
    let record = world.channels.get(&id).ok_or_else(unknown_channel)?;
    if !MESSAGE_CHANNEL_TYPES.contains(&record["type"].as_u64().unwrap_or(u64::MAX)) {
        return Err(wrong_channel_type());
    }
    Ok(id)
}

/// Adds (`add`) or removes the bot's reaction with `emoji` on `message`.
fn react(message: &mut Value, emoji: Value, add: bool) {
    if !message["reactions"].is_array() {
        message["reactions"] = json!([]);
    }
    let Some(reactions) = message["reactions"].as_array_mut() else {
        return;
    };
    let same = |reaction: &Value| {
        reaction["emoji"]["id"] == emoji["id"]
            && (!emoji["id"].is_null() || reaction["emoji"]["name"] == emoji["name"])
    };
    let position = reactions.iter().position(same);
    match (position, add) {
        (Some(index), true) => {
            let reaction = &mut reactions[index];
            if reaction["me"] != true {
                let count = reaction["count"].as_u64().unwrap_or(0) + 1;
                reaction["count"] = json!(count);
                reaction["count_details"]["normal"] = json!(count);
                reaction["me"] = json!(true);
            }
        }
        (None, true) => reactions.push(json!({
            "emoji": emoji,
            "count": 1,
            "count_details": { "burst": 0, "normal": 1 },
            "burst_colors": [],
            "me_burst": false,
            "me": true,
        })),
        (Some(index), false) if reactions[index]["me"] == true => {
            let count = reactions[index]["count"]
                .as_u64()
                .unwrap_or(1)
                .saturating_sub(1);
            if count == 0 {
                reactions.remove(index);
            } else {
                reactions[index]["count"] = json!(count);
                reactions[index]["count_details"]["normal"] = json!(count);
                reactions[index]["me"] = json!(false);
            }
        }
        (_, false) => {}
    }
    if reactions.is_empty()
        && let Some(fields) = message.as_object_mut()
    {
        fields.remove("reactions");
    }
}

/// Pins (`pin`) or unpins a message.
fn pin(world: &mut World, channel: u64, message: u64, pin: bool) -> Result<(), Reply> {
    let stored = world
        .messages
        .get_mut(&channel)
        .and_then(|messages| messages.get_mut(&message))
        .ok_or_else(unknown_message)?;
    let pins = world.pins.entry(channel).or_default();
    if pin && !pins.contains_key(&message) {
        if pins.len() >= MAX_PINS {
            return Err(Reply::error(
                400,
                30003,
                "Maximum number of pins reached (250)",
            ));
        }
        let now = now();
        pins.insert(message, now);
        stored["pinned"] = json!(true);
        if let Some(record) = world.channels.get_mut(&channel) {
            record["last_pin_timestamp"] = json!(timestamp(now));
        }
    } else if !pin {
        pins.remove(&message);
        stored["pinned"] = json!(false);
    }
    Ok(())
}

const SUPPRESS_EMBEDS: u64 = 1 << 2;
const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;

/// Whether `text` reads as a Unicode emoji: no letters or punctuation
/// from ASCII (keycaps such as `1️⃣` excepted), at least one pictographic
/// code point. Discord answers 10014 to anything else.
fn is_unicode_emoji(text: &str) -> bool {
    let keycap = text.contains('\u{20E3}');
    !text.is_empty()
        && text.chars().count() <= 16
        && !text.is_ascii()
        && text
            .chars()
            .all(|c| !c.is_ascii() || (keycap && (c.is_ascii_digit() || c == '#' || c == '*')))
        && text
            .chars()
            .all(|c| !c.is_alphabetic() && !c.is_whitespace())
}

/// `allowed_mentions` as sent.
struct AllowedMentions {
    parse: Vec<String>,
    users: Vec<String>,
    roles: Vec<String>,
    replied_user: bool,
}

/// The mentions written in a message's text.
struct Written {
    users: Vec<String>,
    roles: Vec<String>,
    everyone: bool,
}

fn parse_mentions(content: &str) -> Written {
    let mut written = Written {
        users: Vec::new(),
        roles: Vec::new(),
        everyone: content.contains("@everyone") || content.contains("@here"),
    };
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let (role, body) = match rest.strip_prefix('&') {
            Some(body) => (true, body),
            None => (false, rest.strip_prefix('!').unwrap_or(rest)),
        };
        let Some(end) = body.find('>') else { break };
        let id = &body[..end];
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            if role {
                written.roles.push(id.to_owned());
            } else {
                written.users.push(id.to_owned());
            }
        }
    }
    written
}

/// The fields of a message create or edit body.
struct MessageInput {
    content: Option<String>,
    embeds: Option<Vec<Value>>,
    allowed_mentions: Option<AllowedMentions>,
    flags: Option<u64>,
    nonce: Option<Value>,
    enforce_nonce: bool,
    tts: bool,
}

/// A reply's target, checked to exist in the channel.
struct Reference {
    message_id: u64,
}

fn reference(
    body: &Map<String, Value>,
    errors: &mut FormErrors,
    world: &World,
    channel: u64,
) -> Option<Reference> {
    let value = body
        .get("message_reference")
        .filter(|value| !value.is_null())?;
    let Some(object) = value.as_object() else {
        errors.fail(
            &["message_reference"],
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
        return None;
    };
    let message_id = object.get("message_id").and_then(|id| match id {
        Value::String(id) => id.parse::<u64>().ok(),
        Value::Number(id) => id.as_u64(),
        _ => None,
    });
    let same_channel = object
        .get("channel_id")
        .and_then(Value::as_str)
        .is_none_or(|id| id == channel.to_string());
    let fail_if_missing = object.get("fail_if_not_exists") != Some(&Value::Bool(false));
    match message_id {
        Some(id) if same_channel && world.message(channel, id).is_some() => {
            Some(Reference { message_id: id })
        }
        _ if !fail_if_missing => None,
        _ => {
            errors.fail(
                &["message_reference"],
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            );
            None
        }
    }
}

/// Discord's limits on one embed's text and on all of a message's.
const EMBED_LIMITS: &[(&str, usize)] = &[("title", 256), ("description", 4096)];
const EMBED_TOTAL: usize = 6000;

fn too_long(errors: &mut FormErrors, path: &[&str], max: usize) {
    errors.fail(
        path,
        "BASE_TYPE_MAX_LENGTH",
        format!("Must be {max} or fewer in length."),
    );
}

/// A string field of at most `max` characters; `total` counts it.
fn text(
    errors: &mut FormErrors,
    path: &[&str],
    value: Option<&Value>,
    max: usize,
    required: bool,
    total: &mut usize,
) -> Option<String> {
    match value {
        None | Some(Value::Null) => {
            if required {
                errors.fail(path, "BASE_TYPE_REQUIRED", "This field is required");
            }
            None
        }
        Some(Value::String(text)) => {
            let length = text.chars().count();
            *total += length;
            if length > max {
                too_long(errors, path, max);
            }
            Some(text.clone())
        }
        Some(_) => {
            errors.fail(path, "BASE_TYPE_STRING", "Must be a string.");
            None
        }
    }
}

fn read_embed(errors: &mut FormErrors, index: &str, embed: &Value, total: &mut usize) -> Value {
    let Some(object) = embed.as_object() else {
        errors.fail(
            &["embeds", index],
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
        return Value::Null;
    };
    let mut out = json!({ "type": "rich" });
    for (field, max) in EMBED_LIMITS {
        if let Some(value) = text(
            errors,
            &["embeds", index, field],
            object.get(*field),
            *max,
            false,
            total,
        ) {
            out[*field] = json!(value);
        }
    }
    let mut ignored = 0;
    if let Some(url) = text(
        errors,
        &["embeds", index, "url"],
        object.get("url"),
        2048,
        false,
        &mut ignored,
    ) {
        if url.starts_with("https://") || url.starts_with("http://") {
            out["url"] = json!(url);
        } else {
            errors.fail(
                &["embeds", index, "url"],
                "URL_TYPE_INVALID_URL",
                "Not a well formed URL.",
            );
        }
    }
    match object.get("color") {
        None | Some(Value::Null) => {}
        Some(color) => match color.as_u64() {
            Some(color) if color <= 0xFF_FFFF => out["color"] = json!(color),
            Some(_) => errors.fail(
                &["embeds", index, "color"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 16777215.",
            ),
            None => errors.fail(
                &["embeds", index, "color"],
                "NUMBER_TYPE_COERCE",
                "Value is not int.",
            ),
        },
    }
    if let Some(at) = text(
        errors,
        &["embeds", index, "timestamp"],
        object.get("timestamp"),
        64,
        false,
        &mut ignored,
    ) {
        match DateTime::parse_from_rfc3339(&at) {
            Ok(at) => out["timestamp"] = json!(timestamp(at.with_timezone(&Utc))),
            Err(_) => errors.fail(
                &["embeds", index, "timestamp"],
                "DATE_TIME_TYPE_PARSE",
                format!("Could not parse {at}. Should be ISO8601."),
            ),
        }
    }
    for (part, field, max) in [("footer", "text", 2048), ("author", "name", 256)] {
        match object.get(part) {
            None | Some(Value::Null) => {}
            Some(Value::Object(inner)) => {
                if let Some(value) = text(
                    errors,
                    &["embeds", index, part, field],
                    inner.get(field),
                    max,
                    true,
                    total,
                ) {
                    out[part] = json!({ field: value });
                }
            }
            Some(_) => errors.fail(
                &["embeds", index, part],
                "MODEL_TYPE_CONVERT",
                "Only dictionaries may be used in a ModelType",
            ),
        }
    }
    match object.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(fields)) => {
            if fields.len() > 25 {
                too_long(errors, &["embeds", index, "fields"], 25);
            }
            let mut kept = Vec::new();
            for (position, field) in fields.iter().enumerate() {
                let position = position.to_string();
                let at = |name| ["embeds", index, "fields", position.as_str(), name];
                let name = text(errors, &at("name"), field.get("name"), 256, true, total);
                let value = text(errors, &at("value"), field.get("value"), 1024, true, total);
                let inline = field
                    .get("inline")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if let (Some(name), Some(value)) = (name, value) {
                    kept.push(json!({ "name": name, "value": value, "inline": inline }));
                }
            }
            out["fields"] = json!(kept);
        }
        Some(_) => errors.fail(
            &["embeds", index, "fields"],
            "BASE_TYPE_ARRAY",
            "Must be an array.",
        ),
    }
    out
}

impl MessageInput {
    fn read(body: &Map<String, Value>, errors: &mut FormErrors, editing: bool) -> Self {
        let mut ignored = 0;
        let content = text(
            errors,
            &["content"],
            body.get("content"),
            2000,
            false,
            &mut ignored,
        );
        let embeds = match body.get("embeds") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => {
                if list.len() > 10 {
                    too_long(errors, &["embeds"], 10);
                }
                let mut total = 0;
                let embeds: Vec<Value> = list
                    .iter()
                    .enumerate()
                    .map(|(index, embed)| read_embed(errors, &index.to_string(), embed, &mut total))
                    .collect();
                if total > EMBED_TOTAL {
                    errors.fail(
                        &["embeds"],
                        "MAX_EMBED_SIZE_EXCEEDED",
                        format!("Embed size exceeds maximum size of {EMBED_TOTAL}"),
                    );
                }
                Some(embeds)
            }
            Some(_) => {
                errors.fail(&["embeds"], "BASE_TYPE_ARRAY", "Must be an array.");
                None
            }
        };
        let allowed_mentions = read_allowed_mentions(body.get("allowed_mentions"), errors);
        let flags = match body.get("flags") {
            None | Some(Value::Null) => None,
            Some(value) => value.as_u64().or_else(|| {
                errors.fail(&["flags"], "NUMBER_TYPE_COERCE", "Value is not int.");
                None
            }),
        };
        let nonce = match body.get("nonce").filter(|_| !editing) {
            None | Some(Value::Null) => None,
            Some(Value::String(nonce)) if nonce.chars().count() <= 25 => {
                Some(Value::String(nonce.clone()))
            }
            Some(Value::String(_)) => {
                too_long(errors, &["nonce"], 25);
                None
            }
            Some(Value::Number(number)) if number.is_i64() => Some(Value::Number(number.clone())),
            Some(_) => {
                errors.fail(
                    &["nonce"],
                    "NONCE_TYPE_INVALID",
                    "Nonce must be an integer or string.",
                );
                None
            }
        };
        let flag = |name: &str, errors: &mut FormErrors| match body.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(value)) => *value,
            Some(_) => {
                errors.fail(
                    &[name],
                    "BASE_TYPE_BOOLEAN",
                    "Must be either true or false.",
                );
                false
            }
        };
        let enforce_nonce = !editing && flag("enforce_nonce", errors);
        let tts = !editing && flag("tts", errors);
        Self {
            content,
            embeds,
            allowed_mentions,
            flags,
            nonce,
            enforce_nonce,
            tts,
        }
    }
}

fn read_allowed_mentions(
    value: Option<&Value>,
    errors: &mut FormErrors,
) -> Option<AllowedMentions> {
    let value = value.filter(|value| !value.is_null())?;
    let Some(object) = value.as_object() else {
        errors.fail(
            &["allowed_mentions"],
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
        return None;
    };
    let mut strings = |field: &str, max: usize, choices: Option<&[&str]>| -> Vec<String> {
        let list = match object.get(field) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(list)) => list,
            Some(_) => {
                errors.fail(
                    &["allowed_mentions", field],
                    "BASE_TYPE_ARRAY",
                    "Must be an array.",
                );
                return Vec::new();
            }
        };
        if list.len() > max {
            too_long(errors, &["allowed_mentions", field], max);
        }
        let mut out = Vec::new();
        for (index, item) in list.iter().enumerate() {
            let index = index.to_string();
            let item = item.as_str().unwrap_or_default();
            let valid = match choices {
                Some(choices) => choices.contains(&item),
                None => item.parse::<u64>().is_ok(),
            };
            if valid {
                out.push(item.to_owned());
            } else if let Some(choices) = choices {
                errors.fail(
                    &["allowed_mentions", field, &index],
                    "BASE_TYPE_CHOICES",
                    format!("Value must be one of {choices:?}."),
                );
            } else {
                errors.fail(
                    &["allowed_mentions", field, &index],
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{item}\" is not snowflake."),
                );
            }
        }
        out
    };
    let parse = strings("parse", 3, Some(&["users", "roles", "everyone"]));
    let users = strings("users", 100, None);
    let roles = strings("roles", 100, None);
    for (kind, list) in [("users", &users), ("roles", &roles)] {
        if parse.iter().any(|parse| parse == kind) && !list.is_empty() {
            errors.fail(
                &["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                format!("parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."),
            );
        }
    }
    let replied_user = match object.get("replied_user") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(value)) => *value,
        Some(_) => {
            errors.fail(
                &["allowed_mentions", "replied_user"],
                "BASE_TYPE_BOOLEAN",
                "Must be either true or false.",
            );
            false
        }
    };
    Some(AllowedMentions {
        parse,
        users,
        roles,
        replied_user,
    })
}
