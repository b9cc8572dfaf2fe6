//! The confined raw proxy: any Discord API path, under the API base only.
//!
//! The path is checked and normalised so that it can only ever name a
//! resource under the API base: no scheme, host, `..`, backslash, control
//! character, query or fragment gets through, raw or percent-encoded.
//!
//! ```
//! use discord_connector::proxy::normalised_path;
//!
//! assert_eq!(normalised_path("/users/@me/./guilds/").unwrap(), "/users/@me/guilds/");
//! assert!(normalised_path("/users/../oauth2/token").is_err());
//! assert!(normalised_path("//evil.example/x").is_err());
//! ```

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::config::Config;
use crate::credential::Credential;
use crate::error::Error;
use crate::http::{Method, Request};
use crate::query;

/// Characters encoded when they appear raw in a path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// A raw request, as the contract's `proxy.request` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// A path under the API base, starting with one `/`.
    pub path: String,
    /// Query pairs, percent-encoded on the way out.
    pub query: Vec<(String, String)>,
    /// A JSON body, for methods that take one.
    pub body: Option<String>,
}

fn refuse(message: impl Into<String>) -> Error {
    Error::invalid_arguments(message)
}

/// `path` checked and normalised: `.` segments and repeated slashes go,
/// characters a path cannot hold raw are percent-encoded, and anything that
/// could leave the API base is refused.
pub fn normalised_path(path: &str) -> Result<String, Error> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(refuse(format!(
            "path must start with a single '/', got {path:?}"
        )));
    }
    if let Some(bad) = path
        .chars()
        .find(|c| c.is_control() || matches!(c, '\\' | '#' | '?'))
    {
        return Err(refuse(format!(
            "path may not hold {bad:?}: pass query pairs in `query`, and no fragment"
        )));
    }
    let mut segments = Vec::new();
    for segment in path.split('/').skip(1) {
        let decoded = percent_decode_str(segment)
            .decode_utf8()
            .map_err(|_| refuse("path holds a percent-encoding that is not UTF-8"))?;
        if decoded.contains(['/', '\\', '?', '#']) || decoded.chars().any(char::is_control) {
            return Err(refuse(format!(
                "path segment {segment:?} encodes a separator or control character"
            )));
        }
        if decoded.contains(':') && segments.is_empty() {
            return Err(refuse("path may not start with a scheme or host"));
        }
        match decoded.as_ref() {
            ".." => return Err(refuse("path may not hold '..' segments")),
            "." | "" => {}
            _ => segments.push(utf8_percent_encode(segment, PATH_SEGMENT).to_string()),
        }
    }
    let trailing = if !segments.is_empty() && path.ends_with('/') {
        "/"
    } else {
        ""
    };
    Ok(format!("/{}{trailing}", segments.join("/")))
}

/// The request `proxy` describes, with `credential`'s header.
pub fn build_request(
    proxy: &ProxyRequest,
    credential: &Credential,
    config: &Config,
) -> Result<Request, Error> {
    let method = match proxy.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => {
            return Err(refuse(format!(
                "method must be GET, POST, PUT, PATCH or DELETE, got {other:?}"
            )));
        }
    };
    let path = normalised_path(&proxy.path)?;
    if proxy.query.iter().any(|(name, _)| name.is_empty()) {
        return Err(refuse("query names may not be empty"));
    }
    let path_and_query = if proxy.query.is_empty() {
        path
    } else {
        let pairs = proxy.query.iter().map(|(name, value)| (name, value));
        format!("{path}?{}", query::string(pairs))
    };
    let mut request = Request::new(method, config.api_url(&path_and_query), credential);
    if let Some(body) = &proxy.body {
        if method == Method::Get {
            return Err(refuse("a GET request takes no body"));
        }
        // Read as bytes, as Discord's answers are: the component then holds
        // one copy of serde_json's reader for this, not two.
        serde_json::from_slice::<serde::de::IgnoredAny>(body.as_bytes())
            .map_err(|error| refuse(format!("body must be JSON: {error}")))?;
        request
            .headers
            .push(("content-type".to_owned(), "application/json".to_owned()));
        request.body = Some(body.clone().into_bytes());
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        let cases = [
            ("/users/@me", "/users/@me"),
            ("/users//@me", "/users/@me"),
            ("/users/./@me/", "/users/@me/"),
            ("/", "/"),
            ("/./", "/"),
            ("/guilds/1/members/search", "/guilds/1/members/search"),
            ("/emoji/caf%C3%A9", "/emoji/caf%C3%A9"),
            ("/emoji/a b", "/emoji/a%20b"),
        ];
        for (path, expected) in cases {
            assert_eq!(normalised_path(path).unwrap(), expected, "{path}");
        }
    }

    #[test]
    fn escapes_are_refused() {
        for path in [
            "users/@me",
            "//evil.example/x",
            "/../x",
            "/users/../../x",
            "/users/%2e%2e/x",
            "/users/%2E%2E",
            "/a%2Fb",
            "/a%5Cb",
            "/a\\b",
            "/a?b=1",
            "/a#b",
            "/a\nb",
            "/a%00b",
            "/https://evil.example/x",
            "/a%3Fb",
            "/%ff",
        ] {
            assert!(normalised_path(path).is_err(), "{path:?} was accepted");
        }
    }

    fn config() -> Config {
        Config::from_vars([("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")]).unwrap()
    }

    #[test]
    fn requests_carry_query_body_and_credential() {
        let proxy = ProxyRequest {
            method: "patch".into(),
            path: "/users/@me".into(),
            query: vec![("with counts".into(), "a&b=c".into())],
            body: Some(r#"{"username":"x"}"#.into()),
        };
        let request = build_request(&proxy, &Credential::Bot("t".into()), &config()).unwrap();
        assert_eq!(request.method, Method::Patch);
        assert_eq!(
            request.url,
            "http://127.0.0.1:9/api/v10/users/@me?with%20counts=a%26b%3Dc"
        );
        assert_eq!(request.header("authorization"), Some("Bot t"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.body.as_deref(),
            Some(br#"{"username":"x"}"#.as_slice())
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let base = ProxyRequest {
            method: "GET".into(),
            path: "/gateway".into(),
            query: Vec::new(),
            body: None,
        };
        let cases = [
            ProxyRequest {
                method: "TRACE".into(),
                ..base.clone()
            },
            ProxyRequest {
                body: Some("{}".into()),
                ..base.clone()
            },
            ProxyRequest {
                method: "POST".into(),
                body: Some("not json".into()),
                ..base.clone()
            },
            ProxyRequest {
                query: vec![(String::new(), "x".into())],
                ..base.clone()
            },
            ProxyRequest {
                path: "/../oauth2/token".into(),
                ..base.clone()
            },
        ];
        for proxy in cases {
            assert!(
                build_request(&proxy, &Credential::None, &config()).is_err(),
                "{proxy:?}"
            );
        }
    }
}
