//! Argument value types and the parser that checks a call's arguments.
//!
//! Each type carries its own rule twice over, from one place: its
//! `Deserialize` refuses what breaks the rule, and its `JsonSchema` states
//! the same rule (pattern, bounds) for agents. Unit tests hold the two
//! together by running the schema's pattern against the same samples.
//!
//! A refusal names where it happened (`` `limit` ``, `` `ids[1]` ``): the
//! arguments are parsed into a JSON value first, which `tracked` follows.
//!
//! ```
//! use discord_connector::arguments::{parse, Snowflake};
//!
//! #[derive(Debug, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Args { guild_id: Snowflake }
//!
//! let args: Args = parse(r#"{"guild_id": "613425648685547541"}"#).unwrap();
//! assert_eq!(args.guild_id.as_str(), "613425648685547541");
//!
//! let error = parse::<Args>(r#"{"guild_id": "general"}"#).unwrap_err();
//! assert!(error.message.contains("guild_id"));
//! ```

use alloc::borrow::{Cow, ToOwned};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::error::Error;

mod discord;
mod tracked;

pub use discord::{
    AutoArchiveDuration, Embed, EmbedAuthor, EmbedField, EmbedFooter, Embeds, Emoji, List,
    Mentions, Text, Timestamp, Url, allowed_mentions,
};
pub(crate) use tracked::ArgumentsDeserializer;

/// Parses `arguments` as a JSON object into `T`, naming the offending field
/// and what it expected when it does not fit.
pub fn parse<T: DeserializeOwned>(arguments: &str) -> Result<T, Error> {
    parse_with(arguments, |arguments| T::deserialize(arguments))
}

/// Parses `arguments` as a JSON object and gives it to `read` to
/// deserialize, naming the offending field and what it expected when it
/// does not fit.
///
/// The catalogue passes every tool's `read` as a function pointer, so the
/// component holds this once rather than once per argument struct.
pub(crate) fn parse_with<R>(
    arguments: &str,
    read: impl for<'de, 'p> FnOnce(ArgumentsDeserializer<'de, 'p>) -> Result<R, serde_json::Error>,
) -> Result<R, Error> {
    let object = parse_object(arguments)?;
    tracked::read(&object, read).map_err(refusal)
}

/// `arguments` as a JSON object.
fn parse_object(arguments: &str) -> Result<serde_json::Value, Error> {
    let value: serde_json::Value = serde_json::from_str(arguments).map_err(|error| {
        Error::invalid_arguments(format!("arguments are not valid JSON: {error}"))
    })?;
    if !value.is_object() {
        return Err(Error::invalid_arguments(format!(
            "arguments must be a JSON object, got {}",
            json_type_name(&value)
        )));
    }
    Ok(value)
}

/// The error for a refused argument: where, then what `serde_json` said.
fn refusal(refused: tracked::Refused) -> Error {
    Error::invalid_arguments(placed(&refused.path, &refused.error.to_string()))
}

/// `message` said at `path` (`.` for the arguments as a whole) as
/// `` `path`: message ``. A message an [`Object`] reader wrote names its
/// field itself (`` `title`: ... ``): its field is joined to the path.
fn placed(path: &str, message: &str) -> String {
    let named = message
        .strip_prefix('`')
        .and_then(|rest| rest.split_once("`: "));
    match (path, named) {
        (".", Some(_)) => message.to_owned(),
        (".", None) => format!("arguments: {message}"),
        (path, Some((field, rest))) => format!("`{}`: {rest}", joined(path, field)),
        (path, None) => format!("`{path}`: {message}"),
    }
}

/// `inner`, a path below `outer`, as a path from the top. A list's item
/// read through `tracked` is located twice, by `tracked`'s path
/// (`ids[1]`) and by the list's own refusal (`` `[1]`: ... ``): that item is
/// named once. (No argument is a list of lists, where it could be meant.)
fn joined(outer: &str, inner: &str) -> String {
    if !inner.starts_with('[') {
        return format!("{outer}.{inner}");
    }
    let item = inner.find(']').map_or(inner, |end| &inner[..=end]);
    match outer.strip_suffix(item) {
        Some(_) => format!("{outer}{}", &inner[item.len()..]),
        None => format!("{outer}{inner}"),
    }
}

/// An argument object read field by field: the `Deserialize` of the
/// argument structs that use it ([`read_object!`]) reads the object as JSON
/// values once, the same for every struct, and each field from its value.
/// A derived `Deserialize` compiles a visitor per struct into the
/// component, about 1.5 KB each.
pub struct Object(Map<String, Value>);

impl Object {
    /// The object `deserializer` holds, if every field is one of `fields`.
    pub fn read<'de, D: Deserializer<'de>>(
        deserializer: D,
        fields: &'static [&'static str],
    ) -> Result<Self, D::Error> {
        let entries = Map::<String, Value>::deserialize(deserializer)?;
        if let Some(unknown) = entries.keys().find(|name| !fields.contains(&name.as_str())) {
            return Err(de::Error::unknown_field(unknown, fields));
        }
        Ok(Self(entries))
    }

    /// Field `name`, which must be there.
    #[inline]
    pub fn required<T: DeserializeOwned>(
        &self,
        name: &'static str,
    ) -> Result<T, serde_json::Error> {
        self.field(name, true)?
            .ok_or_else(|| de::Error::missing_field(name))
    }

    /// Field `name`, if it is there and not `null`.
    #[inline]
    pub fn optional<T: DeserializeOwned>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, serde_json::Error> {
        self.field(name, false)
    }

    /// Field `name` if it is there (and, unless `required`, not `null`),
    /// read from its JSON value by `serde_json`; a refusal is named by
    /// `name` (and where inside, as far as the type's reader says).
    fn field<T: DeserializeOwned>(
        &self,
        name: &'static str,
        required: bool,
    ) -> Result<Option<T>, serde_json::Error> {
        let Some(value) = self.value(name, required)? else {
            return Ok(None);
        };
        T::deserialize(value)
            .map(Some)
            .map_err(|error| refused_field(name, &error))
    }

    /// The value of field `name`: `None` when it is not there (or `null`,
    /// unless `required`), refused when a required one is not there.
    fn value(
        &self,
        name: &'static str,
        required: bool,
    ) -> Result<Option<&Value>, serde_json::Error> {
        match self.0.get(name) {
            None if required => Err(de::Error::missing_field(name)),
            None => Ok(None),
            Some(Value::Null) if !required => Ok(None),
            Some(value) => Ok(Some(value)),
        }
    }
}

/// `error`, said of field `name`, as a refusal naming it.
fn refused_field(name: &str, error: &serde_json::Error) -> serde_json::Error {
    de::Error::custom(placed(name, &error.to_string()))
}

/// `Deserialize` for an argument struct through [`Object`]: every field
/// named once, as `required` or `optional`.
macro_rules! read_object {
    ($name:ident {}) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::arguments::Object::read(deserializer, &[]).map(|_| $name {})
            }
        }
    };
    ($name:ident { $($field:ident: $how:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let object =
                    $crate::arguments::Object::read(deserializer, &[$(stringify!($field)),*])?;
                let read = (|| -> Result<Self, serde_json::Error> {
                    Ok($name { $($field: object.$how(stringify!($field))?),* })
                })();
                read.map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use read_object;

fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Declares a string newtype whose `Deserialize` runs `$check` (which turns
/// the input into the stored value or says why not) and whose schema is a
/// string with `$pattern`.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $expecting:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The JSON Schema pattern an input must match.
            pub const PATTERN: &'static str = $pattern;

            /// The checked value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct CheckedVisitor;

                impl Visitor<'_> for CheckedVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: de::Error>(self, input: &str) -> Result<$name, E> {
                        let check: fn(&str) -> Option<String> = $check;
                        check(input).map($name).ok_or_else(|| {
                            E::invalid_value(de::Unexpected::Str(input), &self)
                        })
                    }
                }

                deserializer.deserialize_str(CheckedVisitor)
            }
        }
    };
}

checked_string!(
    /// A Discord id: a string of 1 to 20 decimal digits.
    Snowflake,
    "^[0-9]{1,20}$",
    "a snowflake id (a string of 1 to 20 digits)",
    |input| is_snowflake(input).then(|| input.to_owned())
);

checked_string!(
    /// A user id, or `@me` for the token's own user.
    UserRef,
    "^(@me|[0-9]{1,20})$",
    "a snowflake id (a string of 1 to 20 digits) or \"@me\"",
    |input| (input == "@me" || is_snowflake(input)).then(|| input.to_owned())
);

checked_string!(
    /// An invite code, also accepted as a `discord.gg/CODE` or
    /// `discord.com/invite/CODE` link, which is reduced to its code.
    InviteCode,
    "^((https?://)?(www\\.)?(discord\\.gg/|discord(app)?\\.com/invite/))?[A-Za-z0-9_-]{1,64}$",
    "an invite code (letters, digits, '-' or '_') or a discord.gg / discord.com/invite link",
    |input| code_from_link(
        input,
        &["discord.gg/", "discord.com/invite/", "discordapp.com/invite/"]
    )
);

checked_string!(
    /// A guild template code, also accepted as a `discord.new/CODE` or
    /// `discord.com/template/CODE` link, which is reduced to its code.
    TemplateCode,
    "^((https?://)?(www\\.)?(discord\\.new/|discord(app)?\\.com/template/))?[A-Za-z0-9_-]{1,64}$",
    "a template code (letters, digits, '-' or '_') or a discord.new / discord.com/template link",
    |input| code_from_link(
        input,
        &["discord.new/", "discord.com/template/", "discordapp.com/template/"]
    )
);

fn is_snowflake(input: &str) -> bool {
    (1..=20).contains(&input.len()) && input.bytes().all(|byte| byte.is_ascii_digit())
}

/// The code in `input`, which is either a bare code or a link whose host and
/// path start with one of `prefixes`, optionally after a scheme and `www.`.
fn code_from_link(input: &str, prefixes: &[&str]) -> Option<String> {
    let without_scheme = input
        .strip_prefix("https://")
        .or_else(|| input.strip_prefix("http://"));
    let rest = without_scheme.unwrap_or(input);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let code = match prefixes.iter().find_map(|prefix| rest.strip_prefix(prefix)) {
        Some(code) => code,
        None if rest.len() == input.len() => input,
        None => return None,
    };
    let safe = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
    ((1..=64).contains(&code.len()) && code.bytes().all(safe)).then(|| code.to_owned())
}

/// An integer from `MIN` to `MAX`; a string, a fraction or a boolean is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    /// The checked value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: u64, const MAX: u64> JsonSchema for Bounded<MIN, MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Integer{MIN}To{MAX}").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": MIN, "maximum": MAX })
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The bounds as values, so that every `Bounded` shares one visitor.
        struct BoundedVisitor {
            min: u64,
            max: u64,
        }

        impl Visitor<'_> for BoundedVisitor {
            type Value = u64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an integer from {} to {}", self.min, self.max)
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
                if (self.min..=self.max).contains(&value) {
                    Ok(value)
                } else {
                    Err(E::invalid_value(de::Unexpected::Unsigned(value), &self))
                }
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(value), &self)),
                }
            }
        }

        let bounds = BoundedVisitor { min: MIN, max: MAX };
        deserializer.deserialize_u64(bounds).map(Bounded)
    }
}

/// Up to 100 snowflakes, sent to Discord as one comma-separated value.
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(inline)]
pub struct SnowflakeList(#[schemars(length(max = 100))] Vec<Snowflake>);

impl SnowflakeList {
    /// The largest number of ids Discord takes in one list.
    pub const MAX_ITEMS: usize = 100;
}

impl fmt::Display for SnowflakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, id) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            f.write_str(id.as_str())?;
        }
        Ok(())
    }
}

/// Read as a [`List`], whose refusals say which id.
impl<'de> Deserialize<'de> for SnowflakeList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ids = List::<Snowflake, { Self::MAX_ITEMS }>::deserialize(deserializer)?;
        Ok(Self(ids.into_items()))
    }
}

/// The look of the guild widget image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WidgetStyle {
    /// A small badge with the online count (Discord's default).
    Shield,
    /// A large banner with the Discord logo.
    Banner1,
    /// A smaller banner with the guild icon.
    Banner2,
    /// A large banner with the guild icon and a "Chat now" link.
    Banner3,
    /// A large banner with a big Discord logo.
    Banner4,
}

impl WidgetStyle {
    /// Every style, in Discord's order.
    pub const ALL: [Self; 5] = [
        Self::Shield,
        Self::Banner1,
        Self::Banner2,
        Self::Banner3,
        Self::Banner4,
    ];

    /// Every style's name, in Discord's order.
    const NAMES: &'static [&'static str] = &["shield", "banner1", "banner2", "banner3", "banner4"];
}

impl fmt::Display for WidgetStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Shield => "shield",
            Self::Banner1 => "banner1",
            Self::Banner2 => "banner2",
            Self::Banner3 => "banner3",
            Self::Banner4 => "banner4",
        })
    }
}

/// Read from its name, by one small visitor rather than a derived enum
/// reader, which would bring the component serde's enum machinery.
impl<'de> Deserialize<'de> for WidgetStyle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StyleVisitor;

        impl Visitor<'_> for StyleVisitor {
            type Value = WidgetStyle;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a widget style")
            }

            fn visit_str<E: de::Error>(self, input: &str) -> Result<WidgetStyle, E> {
                WidgetStyle::ALL
                    .into_iter()
                    .find(|style| style.to_string() == input)
                    .ok_or_else(|| E::unknown_variant(input, WidgetStyle::NAMES))
            }
        }

        deserializer.deserialize_str(StyleVisitor)
    }
}

/// A plain string `enum`, the form agent frameworks read best.
impl JsonSchema for WidgetStyle {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "WidgetStyle".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<String> = Self::ALL.iter().map(ToString::to_string).collect();
        json_schema!({ "type": "string", "enum": names })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        id: Snowflake,
        user: Option<UserRef>,
        invite: Option<InviteCode>,
        limit: Option<Bounded<1, 100>>,
        flag: Option<bool>,
        ids: Option<SnowflakeList>,
    }

    fn error_of(arguments: &str) -> String {
        parse::<Sample>(arguments).unwrap_err().message
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        assert!(error_of("[1]").contains("JSON object, got an array"));
        assert!(error_of("\"x\"").contains("got a string"));
        assert!(error_of("{").contains("not valid JSON"));
    }

    #[test]
    fn names_the_field_and_what_it_expected() {
        let cases = [
            (r#"{}"#, "missing field `id`"),
            (
                r#"{"id":"1","limit":"5"}"#,
                "`limit`: invalid type: string \"5\", expected an integer from 1 to 100",
            ),
            (
                r#"{"id":"1","limit":2.5}"#,
                "`limit`: invalid type: floating point `2.5`, expected an integer from 1 to 100",
            ),
            (
                r#"{"id":"1","limit":0}"#,
                "`limit`: invalid value: integer `0`, expected an integer from 1 to 100",
            ),
            (
                r#"{"id":"1","limit":-3}"#,
                "`limit`: invalid value: integer `-3`, expected an integer from 1 to 100",
            ),
            (
                r#"{"id":"1","flag":1}"#,
                "`flag`: invalid type: integer `1`, expected a boolean",
            ),
            (r#"{"id":"1","extra":1}"#, "unknown field `extra`"),
            (
                r#"{"id":"12a"}"#,
                "`id`: invalid value: string \"12a\", expected a snowflake id",
            ),
            (
                r#"{"id":123}"#,
                "`id`: invalid type: integer `123`, expected a snowflake id",
            ),
            (r#"{"id":"1","user":"@you"}"#, "`user`: invalid value"),
            (r#"{"id":"1","invite":"../x"}"#, "`invite`: invalid value"),
            (r#"{"id":"1","ids":["1","x"]}"#, "`ids[1]`: invalid value"),
        ];
        for (arguments, expected) in cases {
            let message = error_of(arguments);
            assert!(message.contains(expected), "{arguments}: {message}");
        }
        let too_many: Vec<String> = (0..101).map(|n| format!("\"{n}\"")).collect();
        let message = error_of(&format!(r#"{{"id":"1","ids":[{}]}}"#, too_many.join(",")));
        assert!(
            message.contains("`ids`: invalid length 101, expected at most 100"),
            "{message}"
        );
    }

    #[test]
    fn tuples_are_followed_as_arrays_are() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code, reason = "only deserialized")]
        struct Pair {
            pair: (Snowflake, bool),
        }
        let message = parse::<Pair>(r#"{"pair":["1","yes"]}"#)
            .unwrap_err()
            .message;
        assert_eq!(
            message,
            "`pair[1]`: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn invite_links_reduce_to_their_code() {
        let code = |input: &str| {
            parse::<Sample>(&format!(r#"{{"id":"1","invite":"{input}"}}"#))
                .map(|sample| sample.invite.unwrap().to_string())
        };
        assert_eq!(code("abc-DEF_9").unwrap(), "abc-DEF_9");
        assert_eq!(code("https://discord.gg/abc").unwrap(), "abc");
        assert_eq!(code("discord.com/invite/abc").unwrap(), "abc");
        assert_eq!(
            code("https://www.discordapp.com/invite/abc").unwrap(),
            "abc"
        );
        for refused in [
            "https://evil.example/abc",
            "https://discord.gg/",
            "a/b",
            "a%2F",
            "a b",
            "https://discord.gg/a/../b",
        ] {
            assert!(code(refused).is_err(), "{refused} was accepted");
        }
    }

    // Natively only, as `regex` is.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn schema_patterns_agree_with_the_checks() {
        let samples = [
            "0",
            "12345678901234567890",
            "123456789012345678901",
            "",
            "@me",
            "@you",
            "abc",
            "abc-DEF_9",
            "https://discord.gg/abc",
            "http://www.discord.com/invite/x_y",
            "discordapp.com/invite/abc",
            "https://discord.new/abc",
            "discord.com/template/abc",
            "https://evil.example/abc",
            "discord.gg/",
            "a/b",
            "a%2F",
            "é",
            "a b",
            &"x".repeat(64),
            &"x".repeat(65),
        ];
        fn agree<T: DeserializeOwned>(pattern: &str, samples: &[&str]) {
            let regex = regex::Regex::new(pattern).unwrap();
            for sample in samples {
                let accepted = serde_json::from_value::<T>(serde_json::json!(sample)).is_ok();
                assert_eq!(accepted, regex.is_match(sample), "{pattern} vs {sample}");
            }
        }
        agree::<Snowflake>(Snowflake::PATTERN, &samples);
        agree::<UserRef>(UserRef::PATTERN, &samples);
        agree::<InviteCode>(InviteCode::PATTERN, &samples);
        agree::<TemplateCode>(TemplateCode::PATTERN, &samples);
    }

    #[test]
    fn widget_styles_read_as_they_are_written() {
        for style in WidgetStyle::ALL {
            let read: WidgetStyle =
                serde_json::from_value(serde_json::json!(style.to_string())).unwrap();
            assert_eq!(read, style);
        }
    }

    #[test]
    fn lists_join_with_commas() {
        let sample: Sample = parse(r#"{"id":"1","ids":["1","22"]}"#).unwrap();
        assert_eq!(sample.ids.unwrap().to_string(), "1,22");
    }
}
