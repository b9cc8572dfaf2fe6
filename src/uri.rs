//! Reading a URI the way the `http` crate (1.5) does, for the two places
//! that need one: checking a base URL setting, and splitting a request's URL
//! into the parts `wasi:http` takes.
//!
//! `http` needs `std`, and the component is built without it (see the crate
//! root), so its rules are kept here, exactly: a URL that `http::Uri`
//! accepted is accepted, one it refused is refused, and the parts are the
//! ones it gave; `tests/properties.rs` holds the two together over
//! generated text.
//!
//! ```
//! use discord_connector::uri::{self, Uri};
//!
//! let Some(Uri::Absolute(parts)) = uri::parse("HTTPS://user@[::1]:8080/api?q") else { panic!() };
//! assert_eq!((parts.scheme, parts.authority), ("https", "user@[::1]:8080"));
//! assert_eq!(parts.path_and_query, "/api?q");
//! assert_eq!((uri::host(parts.authority), uri::port(parts.authority)), ("[::1]", Some(8080)));
//!
//! assert!(matches!(uri::parse("discord.com"), Some(Uri::Relative)));
//! assert!(uri::parse("discord.com/api").is_none());
//! ```

/// The longest URI `http` reads.
const MAX_LEN: usize = u16::MAX as usize - 1;

/// The longest scheme other than `http` and `https`.
const MAX_SCHEME_LEN: usize = 64;

/// More colons than this cannot be an authority, even in IPv6.
const MAX_COLONS: u32 = 8;

/// A URI `http` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `scheme://authority`, then a path and query.
    Absolute(Parts<'a>),
    /// A path, `*`, or an authority without a scheme.
    Relative,
}

/// An absolute URI's parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts<'a> {
    /// `http` or `https` in lower case, however they were written; any other
    /// scheme as written.
    pub scheme: &'a str,
    /// What stands between `//` and the path: `[userinfo@]host[:port]`.
    pub authority: &'a str,
    /// The path and query, `/` when there is neither, without a fragment.
    pub path_and_query: &'a str,
}

/// `text` as a URI, or `None` where `http::Uri` refuses it.
pub fn parse(text: &str) -> Option<Uri<'_>> {
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
pub fn host(authority: &str) -> &str {
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
pub fn port(authority: &str) -> Option<u16> {
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
