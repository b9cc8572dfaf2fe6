//! The bot's guild as state: channels, threads, direct messages, messages
//! with their reactions and pins, and the nonces Discord deduplicates
//! message creation by. Seeded from `fixtures.json`; every map is bounded.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::fixtures::Fixtures;

/// At most this many messages are kept per channel; the oldest go first.
pub(crate) const MAX_MESSAGES_PER_CHANNEL: usize = 500;
/// At most this many active threads per guild (Discord's error 160006 past it).
pub(crate) const MAX_ACTIVE_THREADS: usize = 50;
/// At most this many pins per channel (Discord's error 30003 past it).
pub(crate) const MAX_PINS: usize = 250;
/// How long a nonce deduplicates (Discord: "a few minutes").
pub(crate) const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// At most this many nonces are remembered.
const MAX_NONCES: usize = 10_000;
/// Milliseconds from the Unix epoch to Discord's (2015-01-01).
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Channel types that hold messages: text, DM, announcement, threads.
pub(crate) const MESSAGE_CHANNEL_TYPES: &[u64] = &[0, 1, 5, 10, 11, 12];

/// Who sent a nonce where: (channel, author, nonce).
type NonceKey = (u64, u64, String);

pub(crate) struct World {
    /// The guilds the bot is in.
    pub guilds: HashMap<u64, Value>,
    /// Members per guild, in user id order.
    pub members: HashMap<u64, Vec<Value>>,
    /// Guild channels, threads and DM channels by id.
    pub channels: BTreeMap<u64, Value>,
    /// Messages per channel, by id.
    pub messages: HashMap<u64, BTreeMap<u64, Value>>,
    /// When each pinned message was pinned, per channel.
    pub pins: HashMap<u64, BTreeMap<u64, DateTime<Utc>>>,
    /// The DM channel with each user.
    pub dms: HashMap<u64, u64>,
    /// The threads the bot has joined, with when.
    pub joined_threads: BTreeMap<u64, String>,
    nonces: HashMap<NonceKey, (u64, Instant)>,
    created: HashMap<u64, usize>,
    last_id: u64,
}

fn snowflake(value: &Value) -> u64 {
    value.as_str().and_then(|id| id.parse().ok()).unwrap_or(0)
}

/// The current time.
pub(crate) fn now() -> DateTime<Utc> {
    SystemTime::now().into()
}

/// Discord's timestamp format: `2023-08-24T10:00:00.000000+00:00`.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

impl World {
    pub fn seed(fixtures: &Fixtures) -> Self {
        let by_id = |table: &str| -> HashMap<u64, Value> {
            fixtures.data[table]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(key, value)| Some((key.parse().ok()?, value.clone())))
                .collect()
        };
        let lists = |table: &str| -> HashMap<u64, Vec<Value>> {
            by_id(table)
                .into_iter()
                .map(|(key, list)| (key, list.as_array().cloned().unwrap_or_default()))
                .collect()
        };
        let mut channels = BTreeMap::new();
        for list in lists("guild_channels")
            .into_values()
            .chain(lists("threads").into_values())
        {
            for channel in list {
                channels.insert(snowflake(&channel["id"]), channel);
            }
        }
        let mut messages: HashMap<u64, BTreeMap<u64, Value>> = HashMap::new();
        let mut pins: HashMap<u64, BTreeMap<u64, DateTime<Utc>>> = HashMap::new();
        let mut last_id = 0;
        for (channel, list) in lists("messages") {
            for message in list {
                let id = snowflake(&message["id"]);
                last_id = last_id.max(id);
                if message["pinned"] == true {
                    let at = message["timestamp"]
                        .as_str()
                        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                        .map_or_else(now, |at| at.with_timezone(&Utc));
                    pins.entry(channel).or_default().insert(id, at);
                }
                messages.entry(channel).or_default().insert(id, message);
            }
        }
        let members = lists("guild_members");
        Self {
            guilds: by_id("bot_guilds"),
            members,
            channels,
            messages,
            pins,
            dms: HashMap::new(),
            joined_threads: BTreeMap::new(),
            nonces: HashMap::new(),
            created: HashMap::new(),
            last_id,
        }
    }

    /// A fresh snowflake for now, greater than every id so far.
    pub fn next_id(&mut self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let from_clock = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = from_clock.max(self.last_id.saturating_add(1));
        self.last_id
    }

    /// How many messages were really created in `channel` (deduplicated
    /// ones not counted).
    pub fn created(&self, channel: u64) -> usize {
        self.created.get(&channel).copied().unwrap_or(0)
    }

    /// The message an earlier request with this nonce created, if it was
    /// within the window and the message still exists.
    pub fn earlier(&self, channel: u64, author: u64, nonce: &str) -> Option<u64> {
        let key = (channel, author, nonce.to_owned());
        let (id, at) = self.nonces.get(&key)?;
        (at.elapsed() < NONCE_WINDOW).then_some(*id)
    }

    /// Stores a new message in `channel`, remembering its nonce.
    pub fn insert_message(&mut self, channel: u64, author: u64, message: Value) {
        let id = snowflake(&message["id"]);
        if let Some(nonce) = message["nonce"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| message["nonce"].as_i64().map(|nonce| nonce.to_string()))
        {
            self.remember_nonce((channel, author, nonce), id);
        }
        let list = self.messages.entry(channel).or_default();
        list.insert(id, message);
        while list.len() > MAX_MESSAGES_PER_CHANNEL {
            if let Some((oldest, _)) = list.pop_first()
                && let Some(pins) = self.pins.get_mut(&channel)
            {
                pins.remove(&oldest);
            }
        }
        *self.created.entry(channel).or_default() += 1;
        if let Some(record) = self.channels.get_mut(&channel) {
            record["last_message_id"] = json!(id.to_string());
            if let Some(count) = record["message_count"].as_u64() {
                record["message_count"] = json!(count + 1);
                let total = record["total_message_sent"].as_u64().unwrap_or(0);
                record["total_message_sent"] = json!(total + 1);
            }
        }
    }

    fn remember_nonce(&mut self, key: NonceKey, id: u64) {
        if self.nonces.len() >= MAX_NONCES {
            self.nonces.retain(|_, (_, at)| at.elapsed() < NONCE_WINDOW);
        }
        if self.nonces.len() >= MAX_NONCES
            && let Some(oldest) = self
                .nonces
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(key, _)| key.clone())
        {
            self.nonces.remove(&oldest);
        }
        self.nonces.insert(key, (id, Instant::now()));
    }

    /// A stored message, as Discord gives it (with its thread, if one was
    /// started from it).
    pub fn message(&self, channel: u64, id: u64) -> Option<Value> {
        let mut message = self.messages.get(&channel)?.get(&id)?.clone();
        if let Some(thread) = self.channels.get(&id)
            && thread["parent_id"] == channel.to_string().as_str()
        {
            message["thread"] = thread.clone();
        }
        Some(message)
    }

    /// The guild `channel` belongs to, if it is a guild channel or thread.
    pub fn guild_of(&self, channel: u64) -> Option<u64> {
        self.channels
            .get(&channel)
            .map(|record| snowflake(&record["guild_id"]))
            .filter(|guild| *guild != 0)
    }

    /// The active threads of `guild`.
    pub fn active_threads(&self, guild: u64) -> impl Iterator<Item = &Value> {
        let guild = guild.to_string();
        self.channels.values().filter(move |channel| {
            channel["guild_id"] == guild.as_str()
                && channel.get("thread_metadata").is_some()
                && channel["thread_metadata"]["archived"] != true
        })
    }

    /// The bot's membership of `thread`, as Discord shows it.
    pub fn thread_member(&self, thread: u64, bot: &str) -> Option<Value> {
        let joined = self.joined_threads.get(&thread)?;
        Some(
            json!({ "id": thread.to_string(), "user_id": bot, "join_timestamp": joined, "flags": 1 }),
        )
    }
}
