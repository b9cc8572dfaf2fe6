//! Argument types of the bot tools, with Discord's bounds: text counted in
//! Unicode scalar values, bounded lists, embeds (with their 6,000-character
//! total), mentions, emoji, timestamps and thread archive durations.
//!
//! As in the parent module, each type's `Deserialize` refuses what breaks
//! its rule and its `JsonSchema` states the same rule; the types that are
//! sent on to Discord serialize as Discord reads them.

use alloc::borrow::{Cow, ToOwned};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{Bounded, Snowflake, read_object};

/// Text of `MIN` to `MAX` characters, counted as Discord counts them: in
/// Unicode scalar values (so `é` is one, `👍` is one, `❤️` is two).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// The checked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its length in Unicode scalar values.
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl<const MIN: usize, const MAX: usize> JsonSchema for Text<MIN, MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Text{MIN}To{MAX}").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "minLength": MIN, "maxLength": MAX })
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The bounds as values, so that every `Text` shares one visitor.
        struct TextVisitor {
            min: usize,
            max: usize,
        }

        impl Visitor<'_> for TextVisitor {
            type Value = String;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "text of {} to {} characters", self.min, self.max)
            }

            fn visit_str<E: de::Error>(self, input: &str) -> Result<String, E> {
                let length = input.chars().count();
                if (self.min..=self.max).contains(&length) {
                    Ok(input.to_owned())
                } else {
                    Err(E::invalid_length(length, &self))
                }
            }
        }

        let bounds = TextVisitor { min: MIN, max: MAX };
        deserializer.deserialize_str(bounds).map(Text)
    }
}

/// A list of at most `MAX` items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    /// The items.
    pub fn items(&self) -> &[T] {
        &self.0
    }

    /// The items, owned.
    pub fn into_items(self) -> Vec<T> {
        self.0
    }
}

impl<T: JsonSchema, const MAX: usize> JsonSchema for List<T, MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("ListOf{MAX}{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let items = generator.subschema_for::<T>();
        json_schema!({ "type": "array", "items": items, "maxItems": MAX })
    }
}

/// Read item by item, a refusal of one saying which (`` `[2]`: ... ``,
/// or `` `[2].name`: ... `` inside it), since the value it is read from
/// does not track where it is.
impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = Vec<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Vec<T>, A::Error> {
                let mut read = Vec::new();
                loop {
                    match items.next_element() {
                        Ok(Some(item)) => read.push(item),
                        Ok(None) => return Ok(read),
                        Err(error) => {
                            return Err(de::Error::custom(item_refused(read.len(), &error)));
                        }
                    }
                }
            }
        }

        let items = deserializer.deserialize_seq(ListVisitor(PhantomData))?;
        at_most(items.len(), MAX)?;
        Ok(Self(items))
    }
}

/// What refusing item `index` of a list for `error` says.
fn item_refused(index: usize, error: &dyn fmt::Display) -> String {
    super::placed(&format!("[{index}]"), &error.to_string())
}

/// Refuses a list of `length` items longer than `max`; one function for
/// every list type, so that the component holds its message once.
fn at_most<E: de::Error>(length: usize, max: usize) -> Result<(), E> {
    struct AtMost(usize);

    impl de::Expected for AtMost {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "at most {} items", self.0)
        }
    }

    if length > max {
        Err(E::invalid_length(length, &AtMost(max)))
    } else {
        Ok(())
    }
}

/// A link in an embed: `http://` or `https://`, no white space, at most
/// 2,048 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url(String);

impl JsonSchema for Url {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Url".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": Url::PATTERN, "maxLength": 2048 })
    }
}

impl Url {
    /// The JSON Schema pattern an input must match.
    pub const PATTERN: &'static str = "^https?://[^\\s]+$";
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let url = read_str(
            deserializer,
            "an http(s) URL without white space, at most 2,048 characters",
            |input| is_url(input).then(|| input.to_owned()),
        )?;
        Ok(Self(url))
    }
}

/// Whether `input` is an `http://` or `https://` link without white space,
/// of at most 2,048 characters.
fn is_url(input: &str) -> bool {
    let rest = input
        .strip_prefix("https://")
        .or_else(|| input.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty() && input.chars().count() <= 2048 && !rest.chars().any(char::is_whitespace)
    })
}

/// A string checked by `check`, which gives the value to keep or `None`;
/// one visitor for every such type.
fn read_str<'de, D: Deserializer<'de>>(
    deserializer: D,
    expecting: &'static str,
    check: fn(&str) -> Option<String>,
) -> Result<String, D::Error> {
    struct CheckVisitor {
        expecting: &'static str,
        check: fn(&str) -> Option<String>,
    }

    impl Visitor<'_> for CheckVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<E: de::Error>(self, input: &str) -> Result<String, E> {
            (self.check)(input).ok_or_else(|| E::invalid_value(de::Unexpected::Str(input), &self))
        }
    }

    deserializer.deserialize_str(CheckVisitor { expecting, check })
}

/// An ISO 8601 date and time as Discord writes them:
/// `2026-12-05T17:44:09Z`, with optional fractional seconds and a `Z` or
/// `±hh:mm` offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp(String);

impl Timestamp {
    /// The JSON Schema pattern an input must match.
    pub const PATTERN: &'static str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$";

    /// The checked value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Timestamp {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": Timestamp::PATTERN })
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let timestamp = read_str(
            deserializer,
            "an ISO 8601 timestamp such as 2026-12-05T17:44:09Z",
            |input| is_timestamp(input).then(|| input.to_owned()),
        )?;
        Ok(Self(timestamp))
    }
}

/// Whether `input` is `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm)` with a month
/// of 1-12, a day of 1-31, hours below 24 and minutes and seconds below 60.
fn is_timestamp(input: &str) -> bool {
    /// Where digits go (`0`) and what else must stand where.
    const SHAPE: &[u8; 19] = b"0000-00-00T00:00:00";
    let bytes = input.as_bytes();
    let shaped = |shape: &[u8], bytes: &[u8]| {
        shape.len() == bytes.len()
            && shape.iter().zip(bytes).all(|(&want, &byte)| {
                if want == b'0' {
                    byte.is_ascii_digit()
                } else {
                    want == byte
                }
            })
    };
    let Some((date_time, mut rest)) = bytes.split_at_checked(SHAPE.len()) else {
        return false;
    };
    let number = |at: usize| u32::from(bytes[at] - b'0') * 10 + u32::from(bytes[at + 1] - b'0');
    if !shaped(SHAPE, date_time)
        || !(1..=12).contains(&number(5))
        || !(1..=31).contains(&number(8))
        || number(11) > 23
        || number(14) > 59
        || number(17) > 59
    {
        return false;
    }
    if let [b'.', fraction @ ..] = rest {
        let digits = fraction
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest {
        [b'Z'] => true,
        [b'+' | b'-', offset @ ..] => {
            shaped(b"00:00", offset)
                && u32::from(offset[0] - b'0') * 10 + u32::from(offset[1] - b'0') < 24
                && u32::from(offset[3] - b'0') * 10 + u32::from(offset[4] - b'0') < 60
        }
        _ => false,
    }
}

/// A reaction emoji, kept in the form Discord's reaction routes take: a
/// Unicode emoji as it is (`👍`, `❤️`, ZWJ sequences, keycaps, flags), and
/// a custom one (`name:id`, `<:name:id>` or `<a:name:id>`) as `name:id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    /// The emoji as it goes into the path, before percent-encoding.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form a reaction route takes, or `None` when `input` is no emoji.
    pub fn read(input: &str) -> Option<String> {
        let custom = input
            .strip_prefix("<a:")
            .or_else(|| input.strip_prefix("<:"))
            .map(|inner| inner.strip_suffix('>'))
            .unwrap_or(Some(input))?;
        if let Some((name, id)) = custom.split_once(':') {
            let name_ok = (2..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
            return (name_ok && super::is_snowflake(id)).then(|| format!("{name}:{id}"));
        }
        if custom.len() != input.len() {
            return None;
        }
        is_unicode_emoji(input).then(|| input.to_owned())
    }
}

/// Whether `input` is one Unicode emoji, as a sequence: 1 to 32 scalar
/// values from the emoji blocks, joiners (U+200D), variation selectors
/// (U+FE0E, U+FE0F), the keycap mark (U+20E3) and tag characters, not
/// starting with a joiner, selector, mark or tag; or a keycap (`#`, `*` or
/// a digit, then an optional U+FE0F, then U+20E3).
fn is_unicode_emoji(input: &str) -> bool {
    let is_modifier = |c: char| {
        matches!(
            c,
            '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}' | '\u{E0020}'..='\u{E007F}'
        )
    };
    let is_emoji = |c: char| {
        matches!(
            c,
            '\u{A9}'
                | '\u{AE}'
                | '\u{203C}'
                | '\u{2049}'
                | '\u{2122}'
                | '\u{2139}'
                | '\u{2194}'..='\u{21AA}'
                | '\u{231A}'..='\u{23FF}'
                | '\u{24C2}'
                | '\u{25AA}'..='\u{27BF}'
                | '\u{2934}'..='\u{2935}'
                | '\u{2B05}'..='\u{2B55}'
                | '\u{3030}'
                | '\u{303D}'
                | '\u{3297}'
                | '\u{3299}'
                | '\u{1F000}'..='\u{1FAFF}'
        ) || is_modifier(c)
    };
    let mut chars = input.chars();
    match chars.next() {
        Some('0'..='9' | '#' | '*') => matches!(chars.as_str(), "\u{20E3}" | "\u{FE0F}\u{20E3}"),
        Some(first) if !is_modifier(first) && is_emoji(first) => {
            let rest = chars.as_str();
            rest.chars().count() < 32 && rest.chars().all(is_emoji)
        }
        _ => false,
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Emoji {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Emoji".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "minLength": 1, "maxLength": 64 })
    }
}

impl<'de> Deserialize<'de> for Emoji {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let emoji = read_str(
            deserializer,
            "a Unicode emoji, or a custom one as name:id, <:name:id> or <a:name:id>",
            Emoji::read,
        )?;
        Ok(Self(emoji))
    }
}

/// How long a thread stays active without messages, in minutes: one of
/// the four values Discord takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoArchiveDuration(u64);

impl AutoArchiveDuration {
    /// Every duration Discord takes: an hour, a day, three days, a week.
    pub const ALL: [u64; 4] = [60, 1440, 4320, 10080];

    /// The duration in minutes.
    pub fn minutes(self) -> u64 {
        self.0
    }
}

impl JsonSchema for AutoArchiveDuration {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "AutoArchiveDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "enum": AutoArchiveDuration::ALL })
    }
}

impl<'de> Deserialize<'de> for AutoArchiveDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = u64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of 60, 1440, 4320 or 10080 (minutes)")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
                if AutoArchiveDuration::ALL.contains(&value) {
                    Ok(value)
                } else {
                    Err(E::invalid_value(de::Unexpected::Unsigned(value), &self))
                }
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
                Err(E::invalid_value(de::Unexpected::Signed(value), &self))
            }
        }

        deserializer
            .deserialize_u64(DurationVisitor)
            .map(AutoArchiveDuration)
    }
}

// The schema of [`Embeds`]' items, and a typed reader of them for Rust
// callers; its doc comment is the items' schema description.
/// A message embed.
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "a field's doc would be its schema description; its bounds say it"
)]
pub struct Embed {
    pub title: Option<Text<1, 256>>,
    pub description: Option<Text<1, 4096>>,
    /// The link the title opens.
    pub url: Option<Url>,
    /// The colour of the left border, as 0xRRGGBB (0 to 16777215).
    pub color: Option<Bounded<0, 16_777_215>>,
    pub fields: Option<List<EmbedField, 25>>,
    pub footer: Option<EmbedFooter>,
    pub author: Option<EmbedAuthor>,
    /// An ISO 8601 timestamp shown in the footer.
    pub timestamp: Option<Timestamp>,
}

read_object!(Embed {
    title: optional,
    description: optional,
    url: optional,
    color: optional,
    fields: optional,
    footer: optional,
    author: optional,
    timestamp: optional
});

/// A field of an embed.
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "a field's doc would be its schema description; its bounds say it"
)]
pub struct EmbedField {
    pub name: Text<1, 256>,
    pub value: Text<1, 1024>,
    /// Whether it sits beside other inline fields.
    pub inline: Option<bool>,
}

read_object!(EmbedField {
    name: required,
    value: required,
    inline: optional
});

/// The footer of an embed.
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "a field's doc would be its schema description; its bounds say it"
)]
pub struct EmbedFooter {
    pub text: Text<1, 2048>,
}

read_object!(EmbedFooter { text: required });

/// The author line of an embed.
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    missing_docs,
    reason = "a field's doc would be its schema description; its bounds say it"
)]
pub struct EmbedAuthor {
    pub name: Text<1, 256>,
}

read_object!(EmbedAuthor { name: required });

/// Up to 10 embeds with at most 6,000 characters over all of them, kept
/// as the JSON they came as (every field checked and known to Discord), to
/// be sent on as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embeds(Value);

impl Embeds {
    /// The most characters all of a message's embeds may hold together.
    pub const MAX_CHARS: usize = 6000;

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.as_array().is_none_or(Vec::is_empty)
    }

    /// The embeds as JSON.
    pub fn value(&self) -> &Value {
        &self.0
    }
}

impl JsonSchema for Embeds {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Embeds".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        List::<Embed, 10>::json_schema(generator)
    }
}

/// Checked on the JSON itself against [`EMBEDS`], the rules [`Embed`]
/// states: a typed reader per struct and field type would cost the
/// component about 4 KB, and a test holds the two together.
impl<'de> Deserialize<'de> for Embeds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let total = check(&value, EMBEDS, &mut String::new()).map_err(de::Error::custom)?;
        if total > Self::MAX_CHARS {
            return Err(de::Error::custom(format_args!(
                "the embeds hold {total} characters, more than Discord's 6000 over all embeds"
            )));
        }
        Ok(Self(value))
    }
}

/// What a JSON value in the embeds must be.
#[derive(Clone, Copy)]
enum Rule {
    /// Text of 1 to this many characters, which count towards the total.
    Text(usize),
    /// A link, as [`Url`] reads it.
    Url,
    /// An integer from 0 to 0xFFFFFF.
    Color,
    /// A date and time, as [`Timestamp`] reads it.
    Timestamp,
    /// `true` or `false`.
    Bool,
    /// An object of these fields (name, whether required, rule) and no
    /// other; `null` stands for an optional field left out.
    Object(&'static [(&'static str, bool, Rule)]),
    /// A list of at most this many values, each by the rule.
    List(usize, &'static Rule),
}

/// The rules of [`Embed`] and the structs in it.
const EMBED_FIELD: Rule = Rule::Object(&[
    ("name", true, Rule::Text(256)),
    ("value", true, Rule::Text(1024)),
    ("inline", false, Rule::Bool),
]);
const EMBED: Rule = Rule::Object(&[
    ("title", false, Rule::Text(256)),
    ("description", false, Rule::Text(4096)),
    ("url", false, Rule::Url),
    ("color", false, Rule::Color),
    ("fields", false, Rule::List(25, &EMBED_FIELD)),
    (
        "footer",
        false,
        Rule::Object(&[("text", true, Rule::Text(2048))]),
    ),
    (
        "author",
        false,
        Rule::Object(&[("name", true, Rule::Text(256))]),
    ),
    ("timestamp", false, Rule::Timestamp),
]);
/// The rule of [`Embeds`].
const EMBEDS: Rule = Rule::List(10, &EMBED);

/// Checks `value`, at `path` in the embeds, against `rule`, and says how
/// many characters of its text Discord counts; a refusal says where
/// (`` `[0].fields[2].name`: ... ``).
fn check(value: &Value, rule: Rule, path: &mut String) -> Result<usize, String> {
    let refuse = |path: &str, what: String| {
        Err(if path.is_empty() {
            what
        } else {
            format!("`{path}`: {what}")
        })
    };
    let fits = match rule {
        Rule::Text(max) => match value.as_str().map(|text| text.chars().count()) {
            Some(count) if (1..=max).contains(&count) => return Ok(count),
            _ => return refuse(path, format!("expected text of 1 to {max} characters")),
        },
        Rule::Url => value.as_str().is_some_and(is_url),
        Rule::Color => value.as_u64().is_some_and(|color| color <= 0xFF_FFFF),
        Rule::Timestamp => value.as_str().is_some_and(is_timestamp),
        Rule::Bool => value.is_boolean(),
        Rule::Object(fields) => {
            let Some(object) = value.as_object() else {
                return refuse(path, "expected an object".into());
            };
            if let Some(unknown) = object
                .keys()
                .find(|key| !fields.iter().any(|(name, ..)| name == key))
            {
                return refuse(path, format!("unknown field `{unknown}`"));
            }
            let mut total = 0;
            for &(name, required, rule) in fields {
                match object.get(name) {
                    None | Some(Value::Null) if !required => {}
                    None => return refuse(path, format!("missing field `{name}`")),
                    Some(value) => {
                        let at = path.len();
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(name);
                        total += check(value, rule, path)?;
                        path.truncate(at);
                    }
                }
            }
            return Ok(total);
        }
        Rule::List(max, rule) => {
            let Some(items) = value.as_array() else {
                return refuse(path, "expected a list".into());
            };
            if items.len() > max {
                return refuse(
                    path,
                    format!("expected at most {max} items, got {}", items.len()),
                );
            }
            let mut total = 0;
            for (index, item) in items.iter().enumerate() {
                let at = path.len();
                path.push_str(&format!("[{index}]"));
                total += check(item, *rule, path)?;
                path.truncate(at);
            }
            return Ok(total);
        }
    };
    if fits {
        Ok(0)
    } else {
        let what = match rule {
            Rule::Url => "expected an http(s) URL without white space, at most 2,048 characters",
            Rule::Color => "expected an integer from 0 to 16777215",
            Rule::Timestamp => "expected an ISO 8601 timestamp such as 2026-12-05T17:44:09Z",
            _ => "expected true or false",
        };
        refuse(path, what.into())
    }
}

/// Who a message may ping. Without it, nobody: see [`allowed_mentions`].
#[derive(Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mentions {
    /// Users who may be pinged (at most 100 ids).
    users: Option<List<Snowflake, 100>>,
    /// Roles that may be pinged (at most 100 ids).
    roles: Option<List<Snowflake, 100>>,
    /// Whether @everyone and @here ping (false unless true).
    everyone: Option<bool>,
    /// Whether a reply pings the author of the message it replies to
    /// (false unless true).
    replied_user: Option<bool>,
}

read_object!(Mentions {
    users: optional,
    roles: optional,
    everyone: optional,
    replied_user: optional
});

/// Discord's `allowed_mentions` object a message is sent with: nobody
/// pinged at all (`{"parse": []}`) unless `mentions` says otherwise. Users
/// and roles are listed by id, never parsed from the text (Discord refuses
/// both at once); `everyone` is the only way to let @everyone and @here
/// ping; a reply pings its author only with `replied_user`.
pub fn allowed_mentions(mentions: Option<&Mentions>) -> Value {
    let mut allowed = Map::new();
    let everyone = mentions.is_some_and(|mentions| mentions.everyone == Some(true));
    let parse = if everyone {
        vec![Value::from("everyone")]
    } else {
        Vec::new()
    };
    allowed.insert("parse".into(), Value::Array(parse));
    if let Some(mentions) = mentions {
        let ids = |list: &List<Snowflake, 100>| -> Value {
            list.items()
                .iter()
                .map(|id| Value::from(id.as_str()))
                .collect()
        };
        if let Some(users) = &mentions.users {
            allowed.insert("users".into(), ids(users));
        }
        if let Some(roles) = &mentions.roles {
            allowed.insert("roles".into(), ids(roles));
        }
        let replied_user = mentions.replied_user == Some(true);
        allowed.insert("replied_user".into(), replied_user.into());
    }
    Value::Object(allowed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
        T::deserialize(&value).map_err(|error| error.to_string())
    }

    #[test]
    fn text_is_counted_in_scalar_values() {
        assert!(
            read::<Text<1, 3>>(json!("éé👍")).is_ok(),
            "three scalar values"
        );
        assert!(read::<Text<1, 3>>(json!("éé👍!")).is_err());
        assert!(read::<Text<1, 3>>(json!("")).is_err());
        // ❤️ is two: U+2764 and the variation selector U+FE0F.
        assert!(read::<Text<1, 1>>(json!("❤️")).is_err());
        assert!(read::<Text<1, 2000>>(json!("é".repeat(2000))).is_ok());
        let error = read::<Text<1, 2000>>(json!("é".repeat(2001))).unwrap_err();
        assert_eq!(
            error,
            "invalid length 2001, expected text of 1 to 2000 characters"
        );
        assert!(read::<Text<1, 2000>>(json!(5)).is_err());
    }

    #[test]
    fn lists_are_bounded_and_say_which_item() {
        assert!(read::<List<Snowflake, 2>>(json!(["1", "2"])).is_ok());
        assert_eq!(
            read::<List<Snowflake, 2>>(json!(["1", "2", "3"])).unwrap_err(),
            "invalid length 3, expected at most 2 items"
        );
        let error = read::<List<Snowflake, 2>>(json!(["1", "x"])).unwrap_err();
        assert!(error.starts_with("`[1]`: invalid value"), "{error}");
    }

    #[test]
    fn emoji_take_every_form_discord_does() {
        let cases = [
            ("👍", "👍"),
            ("❤️", "❤️"),
            ("❤", "❤"),
            ("👍🏽", "👍🏽"),
            ("👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"),
            ("🏳️‍🌈", "🏳️‍🌈"),
            ("🇫🇷", "🇫🇷"),
            ("1️⃣", "1️⃣"),
            ("#⃣", "#⃣"),
            (
                "party_blob:123456789012345678",
                "party_blob:123456789012345678",
            ),
            (
                "<:party_blob:123456789012345678>",
                "party_blob:123456789012345678",
            ),
            ("<a:dance:42>", "dance:42"),
        ];
        for (input, kept) in cases {
            assert_eq!(Emoji::read(input).as_deref(), Some(kept), "{input}");
        }
        let refused = [
            "",
            "a",
            "ab",
            "1",
            "11⃣",
            ":1",
            "x:1",
            "name:",
            "name:abc",
            "<:name:1",
            "<name:1>",
            "<:na me:1>",
            "👍 ",
            " 👍",
            "\u{200D}👍",
            "\u{FE0F}",
            "a👍",
            "👍/..",
            "%F0%9F%91%8D",
            "name:1/../x",
        ];
        for input in refused {
            assert_eq!(Emoji::read(input), None, "{input:?}");
        }
        let long = "👍".repeat(33);
        assert_eq!(Emoji::read(&long), None);
    }

    #[test]
    fn timestamps_are_iso_8601_as_discord_writes_them() {
        for valid in [
            "2026-12-05T17:44:09Z",
            "2026-12-05T17:44:09.123Z",
            "2026-12-05T17:44:09.123456+00:00",
            "2026-01-31T00:00:00-05:30",
        ] {
            assert!(is_timestamp(valid), "{valid}");
        }
        for invalid in [
            "",
            "2026-12-05",
            "2026-12-05 17:44:09Z",
            "2026-13-05T17:44:09Z",
            "2026-12-00T17:44:09Z",
            "2026-12-05T24:00:00Z",
            "2026-12-05T17:60:09Z",
            "2026-12-05T17:44:09",
            "2026-12-05T17:44:09.Z",
            "2026-12-05T17:44:09+0100",
            "2026-12-05T17:44:09+24:00",
            "２026-12-05T17:44:09Z",
        ] {
            assert!(!is_timestamp(invalid), "{invalid}");
        }
    }

    #[test]
    fn archive_durations_are_discords_four() {
        for minutes in AutoArchiveDuration::ALL {
            assert_eq!(
                read::<AutoArchiveDuration>(json!(minutes))
                    .unwrap()
                    .minutes(),
                minutes
            );
        }
        for refused in [json!(0), json!(61), json!(-60), json!("60"), json!(60.5)] {
            assert!(
                read::<AutoArchiveDuration>(refused.clone()).is_err(),
                "{refused}"
            );
        }
    }

    fn embeds(value: Value) -> Result<Embeds, String> {
        read::<Embeds>(value)
    }

    #[test]
    fn embeds_hold_every_bound() {
        let text = |n: usize| "x".repeat(n);
        let fields = |n: usize| -> Vec<Value> {
            (0..n).map(|_| json!({"name": "n", "value": "v"})).collect()
        };
        let cases = [
            (json!([{"title": text(256)}]), None),
            (
                json!([{"title": text(257)}]),
                Some("`[0].title`: expected text of 1 to 256 characters"),
            ),
            (json!([{"description": text(4096)}]), None),
            (
                json!([{"description": text(4097)}]),
                Some("`[0].description`"),
            ),
            (json!([{"fields": fields(25)}]), None),
            (
                json!([{"fields": fields(26)}]),
                Some("`[0].fields`: expected at most 25 items, got 26"),
            ),
            (
                json!([{"fields": [{"name": text(257), "value": "v"}]}]),
                Some("`[0].fields[0].name`"),
            ),
            (
                json!([{"fields": [{"name": "n", "value": text(1025)}]}]),
                Some("`[0].fields[0].value`"),
            ),
            (
                json!([{"fields": [{"name": "n"}]}]),
                Some("`[0].fields[0]`: missing field `value`"),
            ),
            (
                json!([{"fields": [{"name": "n", "value": "v", "inline": "yes"}]}]),
                Some("`[0].fields[0].inline`: expected true or false"),
            ),
            (json!([{"footer": {"text": text(2048)}}]), None),
            (
                json!([{"footer": {"text": text(2049)}}]),
                Some("`[0].footer.text`"),
            ),
            (
                json!([{"author": {"name": text(257)}}]),
                Some("`[0].author.name`"),
            ),
            (
                json!([{"author": {"name": "a", "icon_url": "https://x"}}]),
                Some("`[0].author`: unknown field `icon_url`"),
            ),
            (json!([{"color": 16_777_215}]), None),
            (
                json!([{"color": 16_777_216}]),
                Some("`[0].color`: expected an integer from 0 to 16777215"),
            ),
            (json!([{"color": -1}]), Some("`[0].color`")),
            (json!([{"url": "https://discord.com/x"}]), None),
            (json!([{"url": "ftp://x"}]), Some("`[0].url`")),
            (json!([{"timestamp": "2026-12-05T17:44:09Z"}]), None),
            (json!([{"timestamp": "yesterday"}]), Some("`[0].timestamp`")),
            (json!([{"title": null}]), None),
            (json!([{"image": {}}]), Some("`[0]`: unknown field `image`")),
            (json!([{}, {}, {}, {}, {}, {}, {}, {}, {}, {}]), None),
            (
                json!([{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]),
                Some("expected at most 10 items, got 11"),
            ),
            (json!({"title": "t"}), Some("expected a list")),
        ];
        for (value, refusal) in cases {
            match (embeds(value.clone()), refusal) {
                (Ok(_), None) => {}
                (Err(error), Some(expected)) => {
                    assert!(error.starts_with(expected), "{value}: {error}")
                }
                (outcome, _) => panic!("{value}: {outcome:?}"),
            }
        }
    }

    #[test]
    fn embeds_hold_6000_characters_over_all() {
        let embed = |n: usize| json!({"title": "t".repeat(200), "description": "d".repeat(n)});
        // 5 × (200 + 1000) = 6000.
        assert!(embeds(json!(vec![embed(1000); 5])).is_ok());
        let error = embeds(json!([
            embed(1000),
            embed(1000),
            embed(1000),
            embed(1000),
            embed(1001)
        ]))
        .unwrap_err();
        assert!(error.contains("6001 characters"), "{error}");
        let counted = json!([{
            "title": "é".repeat(256), "description": "d".repeat(1744),
            "fields": vec![json!({"name": "n".repeat(256), "value": "v".repeat(1024)}); 2],
            "footer": {"text": "f".repeat(1000)}, "author": {"name": "a"},
            "url": format!("https://x/{}", "u".repeat(2000)),
        }]);
        // 256 + 1744 + 2 × 1280 + 1000 + 1 = 5561; the URL does not count.
        let accepted = embeds(counted);
        assert!(accepted.is_ok(), "{accepted:?}");
    }

    /// The rules `Embeds` checks are the ones `Embed`'s types state (and
    /// its schema says): both accept or refuse the same embeds.
    #[test]
    fn the_embed_rules_are_the_typed_embeds() {
        let text = |n: usize| "x".repeat(n);
        let samples = [
            json!({}),
            json!({"title": text(256), "description": text(4096), "color": 0}),
            json!({"title": ""}),
            json!({"title": text(257)}),
            json!({"description": text(4097)}),
            json!({"url": "https://a"}),
            json!({"url": "http://"}),
            json!({"url": "https://a b"}),
            json!({"url": format!("https://{}", text(2041))}),
            json!({"url": format!("https://{}", text(2040))}),
            json!({"color": 16_777_215}),
            json!({"color": 16_777_216}),
            json!({"color": "red"}),
            json!({"fields": [{"name": "n", "value": "v", "inline": true}]}),
            json!({"fields": [{"name": "", "value": "v"}]}),
            json!({"fields": [{"value": "v"}]}),
            json!({"fields": [{"name": "n", "value": "v", "extra": 1}]}),
            json!({"fields": vec![json!({"name": "n", "value": "v"}); 26]}),
            json!({"footer": {"text": text(2048)}}),
            json!({"footer": {"text": text(2049)}}),
            json!({"footer": {}}),
            json!({"author": {"name": text(256)}}),
            json!({"author": "me"}),
            json!({"timestamp": "2026-12-05T17:44:09Z"}),
            json!({"timestamp": "2026-12-05"}),
            json!({"title": null, "footer": null}),
            json!({"thumbnail": {}}),
            json!([]),
        ];
        for sample in samples {
            let by_rules = check(&sample, EMBED, &mut String::new()).is_ok();
            let by_types = Embed::deserialize(&sample).is_ok();
            assert_eq!(by_rules, by_types, "{sample}");
        }
    }

    #[test]
    fn mentions_ping_nobody_unless_named() {
        assert_eq!(allowed_mentions(None), json!({"parse": []}));
        let mentions = |value: Value| read::<Mentions>(value).unwrap();
        assert_eq!(
            allowed_mentions(Some(&mentions(json!({})))),
            json!({"parse": [], "replied_user": false})
        );
        assert_eq!(
            allowed_mentions(Some(&mentions(json!({"everyone": true})))),
            json!({"parse": ["everyone"], "replied_user": false})
        );
        assert_eq!(
            allowed_mentions(Some(&mentions(
                json!({"users": ["1", "2"], "roles": ["3"], "replied_user": true})
            ))),
            json!({"parse": [], "users": ["1", "2"], "roles": ["3"], "replied_user": true})
        );
        let too_many: Vec<String> = (0..101).map(|n| n.to_string()).collect();
        assert!(read::<Mentions>(json!({ "users": too_many })).is_err());
        let error = read::<Mentions>(json!({"users": ["1", "x"]})).unwrap_err();
        assert!(error.starts_with("`users[1]`: invalid value"), "{error}");
        assert!(read::<Mentions>(json!({"parse": ["users"]})).is_err());
    }
}
