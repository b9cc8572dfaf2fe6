//! The ids of the bot's world the sandbox starts with (`fixtures.json`:
//! `bot_guilds`, `guild_channels`, `threads`, `guild_members`, `messages`),
//! for tests to name.

/// The bot user (the sandbox application's id).
pub const BOT_USER_ID: &str = crate::tokens::APPLICATION_ID;
/// The guild the bot is in: "Sandbox Lounge".
pub const GUILD_ID: &str = "1144100424245366835";
/// The guild's "Helpers" role (nelly has it); `@everyone` is [`GUILD_ID`].
pub const HELPERS_ROLE_ID: &str = "1144100424245366900";
/// Text channel `#general` (3 messages, one pinned, one with a 👋 reaction).
pub const GENERAL_CHANNEL_ID: &str = "1144100425000000001";
/// Text channel `#bot-lab` (2 messages).
pub const BOT_LAB_CHANNEL_ID: &str = "1144100425000000002";
/// Text channel `#quiet` (no messages).
pub const QUIET_CHANNEL_ID: &str = "1144100425000000003";
/// Public thread "introductions" in `#general` (1 message), active.
pub const THREAD_ID: &str = "1144100426000000001";
/// In `#general`, by nelly, pinned.
pub const WELCOME_MESSAGE_ID: &str = "1144100427000000001";
/// In `#general`, by discord-dev, mentions nelly, has a 👋 reaction (not the bot's).
pub const HELLO_MESSAGE_ID: &str = "1144100427000000002";
/// In `#general`, by the bot (so the bot may edit it).
pub const BOT_MESSAGE_ID: &str = "1144100427000000003";
/// In `#bot-lab`, by nelly.
pub const BOT_LAB_MESSAGE_ID: &str = "1144100427000000011";
/// In the thread, by nelly.
pub const THREAD_MESSAGE_ID: &str = "1144100427000000021";
/// Guild members (user ids): discord-dev, nelly ([`crate::tokens::USER_ID`]) and the bot.
pub const MEMBER_USER_IDS: [&str; 3] = ["41771983423143937", crate::tokens::USER_ID, BOT_USER_ID];
/// A user Discord knows who is not in the guild ("wanderer").
pub const NON_MEMBER_USER_ID: &str = "1100000000000000001";
/// The guild's custom emoji, as a reaction path wants it (`name:id`).
pub const CUSTOM_EMOJI: &str = "sandcastle:1144100428000000001";
/// The guild's animated custom emoji (`name:id`).
pub const ANIMATED_EMOJI: &str = "sparkle:1144100428000000002";
