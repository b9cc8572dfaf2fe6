//! The component's configuration, read from `wasi:cli/environment`: every
//! default the connector has, and the rule every base URL it is given (API
//! base, authorization page, OAuth redirect) must follow.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::error::{Error, REDACTED};
use crate::http::TransportError;
use crate::uri::{self, Uri};

/// Discord's API v10 base.
pub const DEFAULT_API_BASE: &str = "https://discord.com/api/v10";
/// Discord's authorization page.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://discord.com/oauth2/authorize";

/// The whole call's deadline unless `DISCORD_TIMEOUT_MS` says otherwise
/// (discord.js's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest 429 wait sat out unless `DISCORD_MAX_RETRY_WAIT_MS` says otherwise.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(2);
/// The largest answer body read unless `DISCORD_MAX_BODY_BYTES` says otherwise.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
/// How many times a request is sent again, at most (no setting changes it).
pub const MAX_RETRIES: u32 = 2;
/// The first backoff after a transient failure; it doubles each time.
pub const BASE_BACKOFF: Duration = Duration::from_millis(200);

/// Settings from the environment, checked once per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The API base URL, without a trailing slash.
    pub api_base: String,
    /// Discord's authorization page for OAuth links.
    pub authorize_url: String,
    /// The whole call's deadline, retries and waits included.
    pub timeout: Duration,
    /// The longest 429 wait the component sits out.
    pub max_retry_wait: Duration,
    /// The largest answer body the component reads.
    pub max_body_bytes: u64,
    /// The tools the component offers and runs (`DISCORD_TOOLS`).
    pub tools: ToolSelection,
}

/// The setting that limits which tools the component offers and runs:
/// names or `*` globs, comma-separated (`discord_get_*,discord_list_*`);
/// every tool is offered without it.
pub const TOOLS_SETTING: &str = "DISCORD_TOOLS";

/// Which tools a component offers: every one, or those whose names match
/// one of the patterns of [`TOOLS_SETTING`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolSelection(Option<Vec<String>>);

impl ToolSelection {
    /// Every tool.
    pub const ALL: Self = Self(None);

    /// Reads the setting's value: names or globs (where `*` stands for any
    /// run of characters) of letters, digits and `_`, split by commas, with
    /// white space around each ignored. An empty value selects every tool;
    /// an empty entry or another character is refused.
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.trim().is_empty() {
            return Ok(Self::ALL);
        }
        let mut patterns = Vec::new();
        for entry in value.split(',') {
            let pattern = entry.trim();
            let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '*';
            if pattern.is_empty() || !pattern.chars().all(valid) {
                return Err(TransportError::broken(format!(
                    "{TOOLS_SETTING} {value:?} is refused: {pattern:?} is not a tool name or a \
                     glob (letters, digits, '_' and '*'); give names or globs such as \
                     discord_get_* separated by commas"
                ))
                .into());
            }
            patterns.push(pattern.to_owned());
        }
        Ok(Self(Some(patterns)))
    }

    /// Whether the tool called `name` is offered.
    pub fn allows(&self, name: &str) -> bool {
        self.patterns()
            .is_none_or(|mut patterns| patterns.any(|pattern| glob_matches(pattern, name)))
    }

    /// The patterns, or `None` for every tool.
    pub fn patterns(&self) -> Option<impl Iterator<Item = &str>> {
        self.0
            .as_ref()
            .map(|patterns| patterns.iter().map(String::as_str))
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any run of
/// characters (none included) and anything else for itself.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.as_bytes(), name.as_bytes());
    let (mut at_pattern, mut at_name) = (0, 0);
    // Where the last `*` was, and the name's position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while at_name < name.len() {
        match pattern.get(at_pattern) {
            Some(b'*') => {
                star = Some((at_pattern, at_name));
                at_pattern += 1;
            }
            Some(&byte) if byte == name[at_name] => {
                at_pattern += 1;
                at_name += 1;
            }
            _ => match star {
                // Let the last `*` take one more character, and go on.
                Some((star_at, tried)) => {
                    star = Some((star_at, tried + 1));
                    at_pattern = star_at + 1;
                    at_name = tried + 1;
                }
                None => return false,
            },
        }
    }
    pattern[at_pattern..].iter().all(|&byte| byte == b'*')
}

/// Every setting [`Config::from_vars`] reads, for manifests and docs.
pub const SETTINGS: &[&str] = &[
    "DISCORD_API_BASE",
    "DISCORD_AUTHORIZE_URL",
    "DISCORD_TIMEOUT_MS",
    "DISCORD_MAX_RETRY_WAIT_MS",
    "DISCORD_MAX_BODY_BYTES",
    TOOLS_SETTING,
];

impl Config {
    /// Reads the settings from `vars` (name, value pairs).
    ///
    /// `DISCORD_API_BASE` overrides [`DEFAULT_API_BASE`] and
    /// `DISCORD_AUTHORIZE_URL` overrides [`DEFAULT_AUTHORIZE_URL`]; each must
    /// be `https`, or plain `http` to a loopback host (for local sandboxes).
    /// `DISCORD_TIMEOUT_MS`, `DISCORD_MAX_RETRY_WAIT_MS` and
    /// `DISCORD_MAX_BODY_BYTES` bound each call; [`TOOLS_SETTING`] selects
    /// the tools.
    pub fn from_vars<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Error> {
        let mut config = Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tools: ToolSelection::ALL,
        };
        let millis = |name: &str, value: &str, max: u64| {
            number(name, value, 1, max).map(Duration::from_millis)
        };
        for (name, value) in vars {
            if value.is_empty() {
                continue;
            }
            match name {
                "DISCORD_API_BASE" => config.api_base = checked_base_url(name, value)?,
                "DISCORD_AUTHORIZE_URL" => config.authorize_url = checked_base_url(name, value)?,
                "DISCORD_TIMEOUT_MS" => config.timeout = millis(name, value, 600_000)?,
                "DISCORD_MAX_RETRY_WAIT_MS" => {
                    config.max_retry_wait = millis(name, value, 600_000)?
                }
                "DISCORD_MAX_BODY_BYTES" => {
                    config.max_body_bytes = number(name, value, 1, 1 << 30)?
                }
                TOOLS_SETTING => config.tools = ToolSelection::parse(value)?,
                _ => {}
            }
        }
        Ok(config)
    }

    /// The absolute URL of `path_and_query` under the API base.
    pub fn api_url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.api_base)
    }
}

/// `value` as a whole number from `min` to `max`.
fn number(setting: &str, value: &str, min: u64, max: u64) -> Result<u64, Error> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|number| (min..=max).contains(number))
        .ok_or_else(|| {
            TransportError::broken(format!(
                "{setting} {value:?} is refused: it must be a whole number from {min} to {max}"
            ))
            .into()
        })
}

/// `value` as a base URL without a trailing slash, if it is an absolute
/// `https` URL, or `http` to a loopback host, with no credentials, query or
/// fragment. A refusal shows the value without its userinfo.
pub fn checked_base_url(setting: &str, value: &str) -> Result<String, Error> {
    let refuse = |why: &str| {
        Err(TransportError::broken(format!(
            "{setting} {:?} is refused: {why}",
            without_userinfo(value)
        ))
        .into())
    };
    if value.contains(['#', '?']) || value.chars().any(char::is_whitespace) {
        return refuse("it may not hold a query, a fragment or white space");
    }
    let Some(uri) = uri::parse(value) else {
        return refuse("it is not a URL");
    };
    let Uri::Absolute(parts) = uri else {
        return refuse("it must be an absolute http(s) URL");
    };
    let (scheme, authority) = (parts.scheme, parts.authority);
    if authority.contains('@') {
        return refuse("it may not hold credentials");
    }
    let host = uri::host(authority);
    let host_and_port = match uri::port(authority) {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    if host_and_port != authority {
        return refuse("its port must be a number");
    }
    match scheme {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => return refuse("plain http is allowed only to localhost, 127.0.0.0/8 or [::1]"),
        _ => return refuse("the scheme must be https"),
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `value` fit to echo: anything from where a host would start (after
/// `scheme:` and its slashes, else the very start) up to the last `@` is
/// replaced, since it may be `user:password`. Judged on the raw text, not a
/// parse, so that no malformed value slips a secret through; a refused value
/// with an `@` in its path loses more than it needs to, which is harmless.
fn without_userinfo(value: &str) -> String {
    let Some(at) = value.rfind('@') else {
        return value.to_owned();
    };
    let is_scheme = |scheme: &str| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    };
    let after_scheme = value
        .find(':')
        .filter(|&colon| is_scheme(&value[..colon]))
        .filter(|&colon| value[colon + 1..].starts_with(['/', '\\']))
        .map_or(0, |colon| colon + 1);
    let start = value.len() - value[after_scheme..].trim_start_matches(['/', '\\']).len();
    format!("{}{REDACTED}{}", &value[..start], &value[at..])
}

/// Whether `host` (as a URI gives it, IPv6 in brackets) is this machine:
/// `localhost`, an IPv4 address in 127.0.0.0/8, or the IPv6 address `::1`,
/// in any form `Ipv4Addr` and `Ipv6Addr` read.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some([first, ..]) = ipv4(host.as_bytes()) {
        return first == 127;
    }
    host.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|ip| ipv6(ip.as_bytes()))
        == Some([0, 0, 0, 0, 0, 0, 0, 1])
}

// The addresses are read as `Ipv4Addr` and `Ipv6Addr` read them, by a port
// of their parser (`core::net::parser`) without its generality, which would
// bring the component 4 KB; the tests hold these to them.

/// `text` read as an IPv4 address.
fn ipv4(text: &[u8]) -> Option<[u8; 4]> {
    let mut rest = text;
    let octets = read_ipv4(&mut rest)?;
    rest.is_empty().then_some(octets)
}

/// An IPv4 address read off the front of `input`: four decimal octets of
/// one to three digits, none with a leading zero, split by dots.
fn read_ipv4(input: &mut &[u8]) -> Option<[u8; 4]> {
    let mut rest = *input;
    let mut octets = [0; 4];
    for (at, octet) in octets.iter_mut().enumerate() {
        if at > 0 {
            let [b'.', after @ ..] = rest else {
                return None;
            };
            rest = after;
        }
        let digits = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 || digits > 3 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let value = number
            .iter()
            .fold(0_u32, |value, digit| value * 10 + u32::from(digit - b'0'));
        *octet = u8::try_from(value).ok()?;
        rest = after;
    }
    *input = rest;
    Some(octets)
}

/// `text` read as an IPv6 address: eight groups, or fewer around one `::`
/// that stands for at least one group of zeros.
fn ipv6(text: &[u8]) -> Option<[u16; 8]> {
    let mut rest = text;
    let mut groups = [0; 8];
    let (head, ends_in_ipv4) = read_ipv6_groups(&mut rest, &mut groups);
    if head < 8 {
        if ends_in_ipv4 {
            return None;
        }
        let [b':', b':', after @ ..] = rest else {
            return None;
        };
        rest = after;
        let mut tail = [0; 7];
        let (tail_len, _) = read_ipv6_groups(&mut rest, &mut tail[..7 - head]);
        groups[8 - tail_len..].copy_from_slice(&tail[..tail_len]);
    }
    rest.is_empty().then_some(groups)
}

/// As many colon-separated groups as fit in `groups`, read off the front of
/// `input`: one to four hex digits each, or for the last two but one an IPv4
/// address, which ends them. Says how many were read and whether an IPv4
/// address ended them.
fn read_ipv6_groups(input: &mut &[u8], groups: &mut [u16]) -> (usize, bool) {
    for at in 0..groups.len() {
        let mut rest = *input;
        if at > 0 {
            let [b':', after @ ..] = rest else {
                return (at, false);
            };
            rest = after;
        }
        if at + 1 < groups.len()
            && let Some([a, b, c, d]) = read_ipv4(&mut rest)
        {
            groups[at] = u16::from_be_bytes([a, b]);
            groups[at + 1] = u16::from_be_bytes([c, d]);
            *input = rest;
            return (at + 2, true);
        }
        let digits = rest
            .iter()
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        if digits == 0 || digits > 4 {
            return (at, false);
        }
        let (number, after) = rest.split_at(digits);
        groups[at] = number.iter().fold(0, |value, &digit| {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                _ => (digit | 0x20) - b'a' + 10,
            };
            value << 4 | u16::from(nibble)
        });
        *input = after;
    }
    (groups.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_globs_match_as_globs_do() {
        let cases = [
            ("discord_get_*", "discord_get_user", true),
            ("discord_get_*", "discord_list_my_guilds", false),
            ("*", "discord_send_message", true),
            ("discord_*_message", "discord_send_message", true),
            ("discord_*_message", "discord_send_message_x", false),
            ("*message*", "discord_list_pinned_messages", true),
            ("discord_send_message", "discord_send_message", true),
            ("discord_send_message", "discord_send_messages", false),
            ("discord_send_messag", "discord_send_message", false),
            ("**_a", "x_a", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYc_", false),
        ];
        for (pattern, name, matches) in cases {
            assert_eq!(glob_matches(pattern, name), matches, "{pattern} {name}");
        }
    }

    #[test]
    fn discord_tools_selects_names_and_globs() {
        let config =
            Config::from_vars([("DISCORD_TOOLS", " discord_get_* , discord_send_message")])
                .unwrap();
        assert!(config.tools.allows("discord_get_user"));
        assert!(config.tools.allows("discord_send_message"));
        assert!(!config.tools.allows("discord_delete_message"));
        let patterns: Vec<&str> = config.tools.patterns().unwrap().collect();
        assert_eq!(patterns, ["discord_get_*", "discord_send_message"]);
        for everything in [
            Config::from_vars([]).unwrap(),
            Config::from_vars([("DISCORD_TOOLS", "")]).unwrap(),
        ] {
            assert_eq!(everything.tools, ToolSelection::ALL);
            assert!(everything.tools.allows("discord_delete_message"));
        }
    }

    #[test]
    fn a_malformed_discord_tools_is_refused_clearly() {
        for value in [
            "discord_get_*,",
            ",x",
            "a,,b",
            "discord get",
            "discord_get_?",
            "discord-get",
        ] {
            let error = Config::from_vars([("DISCORD_TOOLS", value)]).unwrap_err();
            assert!(
                error
                    .message
                    .starts_with(&format!("DISCORD_TOOLS {value:?} is refused:")),
                "{value}: {}",
                error.message
            );
        }
    }

    fn base(value: &str) -> Result<String, Error> {
        Config::from_vars([("DISCORD_API_BASE", value)]).map(|config| config.api_base)
    }

    #[test]
    fn every_listed_setting_is_read() {
        for setting in SETTINGS {
            let error = Config::from_vars([(*setting, "\u{0}")]).unwrap_err();
            assert!(
                error.message.contains(setting),
                "{setting}: {}",
                error.message
            );
        }
    }

    #[test]
    fn defaults_to_discord() {
        let config = Config::from_vars([]).unwrap();
        assert_eq!(
            config.api_url("/gateway"),
            "https://discord.com/api/v10/gateway"
        );
    }

    #[test]
    fn accepts_https_and_loopback_http() {
        assert_eq!(
            base("https://proxy.example/api/v10/").unwrap(),
            "https://proxy.example/api/v10"
        );
        assert_eq!(
            base("http://127.0.0.1:8080/api/v10").unwrap(),
            "http://127.0.0.1:8080/api/v10"
        );
        assert_eq!(
            base("http://127.9.9.9/api").unwrap(),
            "http://127.9.9.9/api"
        );
        assert_eq!(base("http://localhost:1/").unwrap(), "http://localhost:1");
        assert_eq!(base("http://[::1]:9/api").unwrap(), "http://[::1]:9/api");
    }

    #[test]
    fn the_authorize_url_follows_the_same_rule() {
        let config = Config::from_vars([(
            "DISCORD_AUTHORIZE_URL",
            "http://127.0.0.1:5/oauth2/authorize",
        )])
        .unwrap();
        assert_eq!(config.authorize_url, "http://127.0.0.1:5/oauth2/authorize");
        assert_eq!(
            Config::from_vars([]).unwrap().authorize_url,
            DEFAULT_AUTHORIZE_URL
        );
        assert!(
            Config::from_vars([(
                "DISCORD_AUTHORIZE_URL",
                "http://discord.com/oauth2/authorize"
            )])
            .is_err()
        );
    }

    #[test]
    fn limits_come_from_the_environment() {
        let config = Config::from_vars([
            ("DISCORD_TIMEOUT_MS", "2500"),
            ("DISCORD_MAX_RETRY_WAIT_MS", "100"),
            ("DISCORD_MAX_BODY_BYTES", "1024"),
        ])
        .unwrap();
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.max_retry_wait, Duration::from_millis(100));
        assert_eq!(config.max_body_bytes, 1024);
        let defaults = Config::from_vars([]).unwrap();
        assert_eq!(
            (defaults.timeout, defaults.max_body_bytes),
            (DEFAULT_TIMEOUT, 8 << 20)
        );
        for (name, value) in [
            ("DISCORD_TIMEOUT_MS", "0"),
            ("DISCORD_TIMEOUT_MS", "soon"),
            ("DISCORD_MAX_BODY_BYTES", "-1"),
        ] {
            let error = Config::from_vars([(name, value)]).unwrap_err();
            assert!(error.message.contains(name), "{}", error.message);
            assert_eq!(error.details.as_deref(), Some(r#"{"class":"broken"}"#));
        }
    }

    #[test]
    fn refusals_never_echo_userinfo() {
        let cases = [
            (
                "https://user:secret@discord.com/api",
                "https://[redacted]@discord.com/api",
            ),
            ("http://secret@127.0.0.1/x", "http://[redacted]@127.0.0.1/x"),
            ("https://u:secret@host/a b", "https://[redacted]@host/a b"),
            ("https://u:sec/ret@host/", "https://[redacted]@host/"),
            ("https:/u:secret@host", "https:/[redacted]@host"),
            ("https:\\\\u:secret@host", "https:\\\\[redacted]@host"),
            ("u:secret@host", "[redacted]@host"),
            ("https:u:secret@host", "[redacted]@host"),
            ("ftp://secret@host", "ftp://[redacted]@host"),
        ];
        for setting in ["DISCORD_API_BASE", "DISCORD_AUTHORIZE_URL"] {
            for (value, shown) in cases {
                let error = Config::from_vars([(setting, value)]).expect_err(value);
                assert!(!error.message.contains("secret"), "{}", error.message);
                assert!(
                    error
                        .message
                        .contains(&format!("{setting} {shown:?} is refused")),
                    "{value}: {}",
                    error.message
                );
            }
        }
        assert_eq!(without_userinfo("a@b://secret@c"), "[redacted]@c");
        assert_eq!(
            without_userinfo("https://discord.com/users/@me"),
            "https://[redacted]@me",
            "an @ anywhere is taken for the end of userinfo"
        );
        assert_eq!(without_userinfo("https://x/"), "https://x/");
    }

    #[test]
    fn refuses_the_rest() {
        for value in [
            "http://discord.com/api",
            "http://10.0.0.1/api",
            "http://localhost.evil.example/",
            "http://127.0.0.1@evil.example/",
            "ftp://discord.com/",
            "/api/v10",
            "discord.com/api",
            "https://discord.com/api?x=1",
            "https://discord.com/api#x",
            "https://user:pw@discord.com/api",
            "https://discord.com:/api",
            "https://discord.com:http/api",
            "https://user:p/w@discord.com/api",
        ] {
            assert!(base(value).is_err(), "{value} was accepted");
        }
    }
}

/// The address readers held to `Ipv4Addr` and `Ipv6Addr`, natively only, as
/// `proptest` is.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod held_to_core_net {
    use core::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    /// What `core::net` reads in `text`, in the readers' terms, and whether
    /// it calls the host a loopback.
    fn by_core(text: &str) -> (Option<[u8; 4]>, Option<[u16; 8]>, bool) {
        let v4 = text.parse::<Ipv4Addr>().ok();
        let v6 = text.parse::<Ipv6Addr>().ok();
        let bracketed = text
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|ip| ip.parse::<Ipv6Addr>().ok());
        let loopback = text.eq_ignore_ascii_case("localhost")
            || v4.is_some_and(|ip| ip.is_loopback())
            || bracketed.is_some_and(|ip| ip.is_loopback());
        (
            v4.map(|ip| ip.octets()),
            v6.map(|ip| ip.segments()),
            loopback,
        )
    }

    fn by_us(text: &str) -> (Option<[u8; 4]>, Option<[u16; 8]>, bool) {
        (
            ipv4(text.as_bytes()),
            ipv6(text.as_bytes()),
            is_loopback(text),
        )
    }

    /// Text near an address: its pieces, right or wrong, in any order.
    fn address_like() -> BoxedStrategy<String> {
        let piece = prop_oneof![
            4 => "[0-9a-fA-F]{1,5}",
            3 => Just(":".to_owned()),
            2 => Just("::".to_owned()),
            2 => "(0|1|127|255|256|00|01)",
            2 => "[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}",
            1 => Just(".".to_owned()),
            1 => "[g-z%\\[\\] -]",
        ];
        prop::collection::vec(piece, 0..12)
            .prop_map(|pieces| pieces.concat())
            .boxed()
    }

    /// An address in one of the forms it may take: as `core::net` writes
    /// it, or as groups of at least 1 to 4 digits in either case, some of them
    /// left to a `::`, the last two written as an IPv4 address or not.
    fn address() -> BoxedStrategy<String> {
        let octet = prop_oneof![Just(0_u8), Just(127_u8), Just(255_u8), any::<u8>()];
        let group = prop_oneof![3 => Just(0_u16), 2 => Just(1_u16), 3 => any::<u16>()];
        let groups = prop::array::uniform8(group);
        let written = (
            groups.clone(),
            1..=4_usize,
            any::<bool>(),
            any::<bool>(),
            0..8_usize,
            0..9_usize,
        )
            .prop_map(|(groups, width, upper, ipv4_tail, from, to)| {
                let mut items: Vec<String> = groups
                    .iter()
                    .map(|group| match upper {
                        true => format!("{group:0width$X}"),
                        false => format!("{group:0width$x}"),
                    })
                    .collect();
                if ipv4_tail {
                    let [a, b] = groups[6].to_be_bytes();
                    let [c, d] = groups[7].to_be_bytes();
                    items.truncate(6);
                    items.push(Ipv4Addr::new(a, b, c, d).to_string());
                }
                let (from, to) = (from.min(items.len()), to.min(items.len()));
                if from < to {
                    format!("{}::{}", items[..from].join(":"), items[to..].join(":"))
                } else {
                    items.join(":")
                }
            });
        prop_oneof![
            prop::array::uniform4(octet).prop_map(|octets| Ipv4Addr::from(octets).to_string()),
            groups.prop_map(|groups| Ipv6Addr::from(groups).to_string()),
            written,
        ]
        .boxed()
    }

    /// `text` with one character taken out, changed or put in at `at`.
    fn near(text: String, at: usize, edit: u8, with: char) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % (chars.len() + 1);
        match edit % 3 {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => chars[at] = with,
            _ => chars.insert(at, with),
        }
        chars.into_iter().collect()
    }

    /// Hosts to read: any text, text near an address, addresses and
    /// addresses but for one character, each in brackets or not.
    fn host() -> BoxedStrategy<String> {
        let with = prop::sample::select(vec![':', '.', '0', '1', 'f', 'G', '[', ']']);
        let text = prop_oneof![
            any::<String>(),
            "[0-9a-fA-F:.\\[\\]]{0,40}",
            address_like(),
            address(),
            (address(), any::<usize>(), any::<u8>(), with)
                .prop_map(|(text, at, edit, with)| near(text, at, edit, with)),
        ];
        (text, any::<bool>())
            .prop_map(|(text, bracketed)| match bracketed {
                true => format!("[{text}]"),
                false => text,
            })
            .boxed()
    }

    #[test]
    fn the_edges_read_as_core_net_reads_them() {
        for text in [
            "",
            "127.0.0.1",
            "127.1",
            "127.0.0.01",
            "127.0.0.1.",
            "0127.0.0.1",
            "127.0.0.256",
            "1.2.3.4567",
            "255.255.255.255",
            "127.000.0.1",
            "::1",
            "::",
            "::0.0.0.1",
            "0:0:0:0:0:0:0:1",
            "0:0:0:0:0:0:0:0:1",
            "::0:0:0:0:0:0:1",
            "::0:0:0:0:0:0:0:1",
            "1:2:3:4:5:6:7::",
            "1:2:3:4:5:6::7",
            "::ffff:127.0.0.1",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "00001::1",
            "0001::1",
            ":::1",
            ":1",
            "1:",
            "1::",
            "1:::2",
            "::1::",
            "0:0::0:1",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
            "[::0.0.0.1]",
            "[::1",
            "::1]",
            "[127.0.0.1]",
            "LocalHost",
            "localhost.",
            "[::fFfF]",
            "٣.1.1.1",
            "::٣",
        ] {
            assert_eq!(by_us(text), by_core(text), "{text:?}");
        }
    }

    proptest! {
        // Cases are cheap, and the rules' edges are narrow.
        #![proptest_config(ProptestConfig {
            cases: ProptestConfig::default().cases.max(4096),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn addresses_read_as_core_net_reads_them(text in host()) {
            prop_assert_eq!(by_us(&text), by_core(&text), "{:?}", text);
        }
    }
}
