//! Reading a URI the way the `http` crate (1.5) does, for the two places
//! that need one: checking a base URL setting, and splitting a request's URL
//! into the parts `wasi:http` takes.
//!
//! `http` needs `std`, and the component is built without it (see the crate
//! root), so its rules are kept here, exactly: a URL that `http::Uri`
//! accepted is accepted, one it refused is refused, and the parts are the
//! ones it gave; the property tests below hold the two together over
//! generated text.

/// The longest URI `http` reads.
const MAX_LEN: usize = u16::MAX as usize - 1;

/// The longest scheme other than `http` and `https`.
const MAX_SCHEME_LEN: usize = 64;

/// More colons than this cannot be an authority, even in IPv6.
const MAX_COLONS: u32 = 8;

/// A URI `http` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Uri<'a> {
    /// `scheme://authority`, then a path and query.
    Absolute(Parts<'a>),
    /// A path, `*`, or an authority without a scheme.
    Relative,
}

/// An absolute URI's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// `http` or `https` in lower case, however they were written; any other
    /// scheme as written.
    pub(crate) scheme: &'a str,
    /// What stands between `//` and the path: `[userinfo@]host[:port]`.
    pub(crate) authority: &'a str,
    /// The path and query, `/` when there is neither, without a fragment.
    pub(crate) path_and_query: &'a str,
}

/// `text` as a URI, or `None` where `http::Uri` refuses it.
pub(crate) fn parse(text: &str) -> Option<Uri<'_>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_LEN {
        return None;
    }
    match bytes {
        b"/" | b"*" => return Some(Uri::Relative),
        [_] => return (authority_end(bytes)? == 1).then_some(Uri::Relative),
        [b'/', ..] => return path_and_query(text).map(|_| Uri::Relative),
        _ => {}
    }
    let Some((scheme, rest)) = scheme(text)? else {
        // No scheme: all of it must be an authority.
        return (authority_end(bytes)? == bytes.len()).then_some(Uri::Relative);
    };
    let end = authority_end(rest.as_bytes())?;
    if end == 0 {
        return None;
    }
    let (authority, path) = rest.split_at(end);
    let path_and_query = match self::path_and_query(path)? {
        "" => "/",
        path_and_query => path_and_query,
    };
    Some(Uri::Absolute(Parts {
        scheme,
        authority,
        path_and_query,
    }))
}

/// The host of `authority`: after any userinfo, before any port; an IPv6
/// host keeps its brackets.
pub(crate) fn host(authority: &str) -> &str {
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_and_port.starts_with('[') {
        match host_and_port.find(']') {
            Some(end) => &host_and_port[..=end],
            None => host_and_port,
        }
    } else {
        host_and_port.split(':').next().unwrap_or(host_and_port)
    }
}

/// The port of `authority`: what follows its last `:`, if that is a number
/// that fits in 16 bits.
pub(crate) fn port(authority: &str) -> Option<u16> {
    let (_, port) = authority.rsplit_once(':')?;
    port.parse().ok()
}

/// The scheme and what follows its `://`, `None` inside when `text` has no
/// scheme, or `None` when its scheme is too long.
fn scheme(text: &str) -> Option<Option<(&str, &str)>> {
    let bytes = text.as_bytes();
    let starts_with = |prefix: &[u8]| {
        bytes
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    if starts_with(b"http://") {
        return Some(Some(("http", &text[7..])));
    }
    if starts_with(b"https://") {
        return Some(Some(("https", &text[8..])));
    }
    if bytes.len() > 3 {
        for (at, &byte) in bytes.iter().enumerate() {
            if byte == b':' {
                if bytes.get(at + 1..at + 3) != Some(&b"//"[..]) {
                    break;
                }
                if at > MAX_SCHEME_LEN {
                    return None;
                }
                return Some(Some((&text[..at], &text[at + 3..])));
            }
            if !(byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.' | b'~')) {
                break;
            }
        }
    }
    Some(None)
}

/// Where the authority at the start of `bytes` ends (at the first `/`, `?`
/// or `#`), or `None` if it is not one.
fn authority_end(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() {
        return None;
    }
    let mut end = bytes.len();
    let mut colons = 0;
    let mut start_bracket = false;
    let mut end_bracket = false;
    // A `%` is allowed in the userinfo only, so it is forgotten at an `@`.
    let mut has_percent = false;
    let mut last_at = None;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'/' | b'?' | b'#' => {
                end = at;
                break;
            }
            b'%' => has_percent = true,
            b':' => {
                if colons >= MAX_COLONS {
                    return None;
                }
                colons += 1;
            }
            b'[' => {
                if has_percent || start_bracket {
                    return None;
                }
                start_bracket = true;
            }
            b']' => {
                if !start_bracket || end_bracket {
                    return None;
                }
                end_bracket = true;
                // Those colons were the IPv6 address's.
                colons = 0;
                has_percent = false;
            }
            b'@' => {
                last_at = Some(at);
                // Those colons were the userinfo's.
                colons = 0;
                has_percent = false;
            }
            _ if is_authority_char(byte) => {}
            _ => return None,
        }
    }
    let nothing_after_at = end > 0 && last_at == Some(end - 1);
    if start_bracket != end_bracket || colons > 1 || nothing_after_at || has_percent {
        return None;
    }
    Some(end)
}

/// The characters `http` takes raw in an authority, besides the ones with
/// a role (`:`, `[`, `]`, `@`, and `%` in the userinfo).
fn is_authority_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'-'
                | b'.'
                | b';'
                | b'='
                | b'_'
                | b'~'
        )
}

/// `text` (empty, or starting with `/`, `?` or `#`) without its fragment,
/// or `None` if it holds a character `http` refuses in a path or query.
fn path_and_query(text: &str) -> Option<&str> {
    let mut in_query = false;
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            b'#' => return Some(&text[..at]),
            b'?' if !in_query => in_query = true,
            // The rest of UTF-8, which `text` is.
            0x80.. => {}
            _ if in_query && is_query_char(byte) => {}
            _ if !in_query && is_path_char(byte) => {}
            _ => return None,
        }
    }
    Some(text)
}

/// What `http` takes raw in a path: the URL standard's path characters, and
/// `"`, `{` and `}`, which clients send raw.
fn is_path_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x24..=0x3B | 0x3D | 0x40..=0x5F | 0x61..=0x7A | 0x7C | 0x7E)
        || matches!(byte, b'"' | b'{' | b'}')
}

/// What `http` takes raw in a query.
fn is_query_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x7E)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_absolute_uri_into_its_parts() {
        let Some(Uri::Absolute(parts)) = parse("HTTPS://user@[::1]:8080/api?q") else {
            panic!("an absolute URI")
        };
        assert_eq!(
            (parts.scheme, parts.authority),
            ("https", "user@[::1]:8080")
        );
        assert_eq!(parts.path_and_query, "/api?q");
        assert_eq!(
            (host(parts.authority), port(parts.authority)),
            ("[::1]", Some(8080))
        );
        assert!(matches!(parse("discord.com"), Some(Uri::Relative)));
        assert!(parse("discord.com/api").is_none());
    }
}

/// Held to `http::Uri`, natively only, as `http` and `proptest` are.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod held_to_http {
    use proptest::prelude::*;

    use super::*;

    /// A URI's scheme, authority and path and query when it is absolute, with
    /// the authority's host and port.
    type UriParts = Option<(String, String, String, String, Option<u16>)>;

    /// What the `http` crate reads in `text`: `None` if it refuses it.
    fn read_by_http(text: &str) -> Option<UriParts> {
        let uri: http::Uri = text.parse().ok()?;
        Some(match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => Some((
                scheme.to_owned(),
                authority.as_str().to_owned(),
                uri.path_and_query()
                    .map_or("/", |path| path.as_str())
                    .to_owned(),
                authority.host().to_owned(),
                authority.port_u16(),
            )),
            _ => None,
        })
    }

    /// What [`parse`] reads in `text`, in the same terms.
    fn read_by_us(text: &str) -> Option<UriParts> {
        Some(match parse(text)? {
            Uri::Absolute(parts) => Some((
                parts.scheme.to_owned(),
                parts.authority.to_owned(),
                parts.path_and_query.to_owned(),
                host(parts.authority).to_owned(),
                port(parts.authority),
            )),
            Uri::Relative => None,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn uris_read_as_http_reads_them(text in prop_oneof![
            any::<String>(),
            r"[hHtTpPsS:/\[\]@%?#.a1 \x22{|}<>\\é+~-]{0,24}",
            r"(https?|HTTPS?|ftp|x)?(://)?([a-z]{1,3}(:[a-z0-9%]{0,3})?@)?(\[[0-9:]{0,6}\]|[a-z0-9.%-]{0,6})(:[0-9a-z+]{0,6})?(/[a-z0-9%.@!$&'()*+,;=:~\x22{}|^`<> -]{0,6}){0,3}(\?[a-z0-9=&%/?|^`\x22]{0,6})?(#[a-z]{0,3})?",
        ]) {
            prop_assert_eq!(read_by_us(&text), read_by_http(&text), "{:?}", text);
        }
    }

    /// The URI reader on the edges of each of `http`'s rules.
    #[test]
    fn uris_on_the_edges_read_as_http_reads_them() {
        let long_scheme = |length| format!("{}://host/", "a".repeat(length));
        let mut texts: Vec<String> = [
            "",
            "/",
            "*",
            "a",
            "%",
            "@",
            ":",
            "[",
            "]",
            "?",
            "//x",
            "/a b",
            "/{\"x\"}",
            "https://discord.com/api/v10",
            "HTTP://127.0.0.1:8080/api",
            "https://discord.com:/api",
            "https://discord.com:http/api",
            "https://discord.com:+80/api",
            "https://discord.com:99999/api",
            "https://user:pw@discord.com/api",
            "https://u%20x@discord.com/",
            "https://disc%20ord.com/",
            "https://@discord.com/",
            "https://discord.com@/",
            "http://[::1]:9/api",
            "http://[::1/api",
            "http://::1]/api",
            "http://a:b:c/",
            "http://[1:2:3:4:5:6:7:8]:9/",
            "https:///api",
            "https://",
            "https:discord.com",
            "ftp://discord.com/",
            "x+y.z-1~://host/",
            "://host/",
            "1ttp://host/",
            "discord.com",
            "discord.com:443",
            "discord.com/api",
            "user@discord.com",
            "https://discord.com/a?b=c#d",
            "https://discord.com?x",
            "https://discord.com#x",
            "https://discord.com/é?é",
            "https://discord.com/a\u{7f}",
            "https://discord.com/a|b^c",
            "https://discord.com/?a|b^c`",
            "https://discord.com/<x>",
            "https://disc\\ord.com/",
        ]
        .map(str::to_owned)
        .into();
        texts.extend([
            long_scheme(64),
            long_scheme(65),
            format!("https://host/{}", "a".repeat(65_534)),
        ]);
        for text in &texts {
            assert_eq!(read_by_us(text), read_by_http(text), "{text:?}");
        }
    }
}
