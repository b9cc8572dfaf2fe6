//! The component's configuration, read from `wasi:cli/environment`: every
//! default the connector has, and the rule every base URL it is given (API
//! base, authorization page, OAuth redirect) must follow.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr};
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
}

/// Every setting [`Config::from_vars`] reads, for manifests and docs.
pub const SETTINGS: &[&str] = &[
    "DISCORD_API_BASE",
    "DISCORD_AUTHORIZE_URL",
    "DISCORD_TIMEOUT_MS",
    "DISCORD_MAX_RETRY_WAIT_MS",
    "DISCORD_MAX_BODY_BYTES",
];

impl Config {
    /// Reads the settings from `vars` (name, value pairs).
    ///
    /// `DISCORD_API_BASE` overrides [`DEFAULT_API_BASE`] and
    /// `DISCORD_AUTHORIZE_URL` overrides [`DEFAULT_AUTHORIZE_URL`]; each must
    /// be `https`, or plain `http` to a loopback host (for local sandboxes).
    /// `DISCORD_TIMEOUT_MS`, `DISCORD_MAX_RETRY_WAIT_MS` and
    /// `DISCORD_MAX_BODY_BYTES` bound each call.
    pub fn from_vars<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Error> {
        let mut config = Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
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

/// Whether `host` (as a URI gives it, IPv6 in brackets) is this machine.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_loopback();
    }
    host.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|ip| ip.parse::<Ipv6Addr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

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
