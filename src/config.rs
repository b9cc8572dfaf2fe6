//! The component's configuration, read from `wasi:cli/environment`.

use std::net::{Ipv4Addr, Ipv6Addr};

use http::Uri;

use crate::error::Error;
use crate::oauth::DEFAULT_AUTHORIZE_URL;

/// Discord's API v10 base.
pub const DEFAULT_API_BASE: &str = "https://discord.com/api/v10";

/// Settings from the environment, checked once per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The API base URL, without a trailing slash.
    pub api_base: String,
    /// Discord's authorization page for OAuth links.
    pub authorize_url: String,
}

impl Config {
    /// Reads the settings from `vars` (name, value pairs).
    ///
    /// `DISCORD_API_BASE` overrides [`DEFAULT_API_BASE`] and
    /// `DISCORD_AUTHORIZE_URL` overrides [`DEFAULT_AUTHORIZE_URL`]; each must
    /// be `https`, or plain `http` to a loopback host (for local sandboxes).
    pub fn from_vars<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Error> {
        let mut api_base = DEFAULT_API_BASE;
        let mut authorize_url = DEFAULT_AUTHORIZE_URL;
        for (name, value) in vars {
            match name {
                "DISCORD_API_BASE" if !value.is_empty() => api_base = value,
                "DISCORD_AUTHORIZE_URL" if !value.is_empty() => authorize_url = value,
                _ => {}
            }
        }
        Ok(Self {
            api_base: checked_base_url("DISCORD_API_BASE", api_base)?,
            authorize_url: checked_base_url("DISCORD_AUTHORIZE_URL", authorize_url)?,
        })
    }

    /// The absolute URL of `path_and_query` under the API base.
    pub fn api_url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.api_base)
    }
}

/// `value` as a base URL without a trailing slash, if it is an absolute
/// `https` URL, or `http` to a loopback host, with no credentials, query or
/// fragment.
pub fn checked_base_url(setting: &str, value: &str) -> Result<String, Error> {
    let refuse = |why: &str| {
        Err(Error::transport(format!(
            "{setting} {value:?} is refused: {why}"
        )))
    };
    if value.contains(['#', '?']) || value.chars().any(char::is_whitespace) {
        return refuse("it may not hold a query, a fragment or white space");
    }
    let Ok(uri) = value.parse::<Uri>() else {
        return refuse("it is not a URL");
    };
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return refuse("it must be an absolute http(s) URL");
    };
    if authority.as_str().contains('@') {
        return refuse("it may not hold credentials");
    }
    match scheme {
        "https" => {}
        "http" if is_loopback(authority.host()) => {}
        "http" => return refuse("plain http is allowed only to localhost, 127.0.0.0/8 or [::1]"),
        _ => return refuse("the scheme must be https"),
    }
    Ok(value.trim_end_matches('/').to_owned())
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
        ] {
            assert!(base(value).is_err(), "{value} was accepted");
        }
    }
}
