//! The limiter's URL: the options it carries for this crate, taken out
//! before the rest reaches the redis crate, and its password kept out of
//! every message.

/// The query parameter that sets [`crate::RedisLimiterOptions::fallback_replicas`].
pub const FALLBACK_REPLICAS_PARAMETER: &str = "fallback_replicas";

/// `url` without this crate's own query parameters, and the replica count
/// one of them gave (`Err` with the parameter's text when it is not a
/// whole number above zero).
pub fn split_options(url: &str) -> Result<(String, Option<usize>), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None));
    };
    let mut replicas = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some((FALLBACK_REPLICAS_PARAMETER, value)) => {
                let count: usize = value
                    .parse()
                    .ok()
                    .filter(|count| *count > 0)
                    .ok_or_else(|| format!("{FALLBACK_REPLICAS_PARAMETER}={value}"))?;
                replicas = Some(count);
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, replicas))
}

/// The password in `url`'s user information, as written (percent-encoded
/// or not), when there is one.
pub fn password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// `text` with every appearance of `url`'s password (as written, and
/// percent-decoded) replaced by `***`.
pub fn redact(text: &str, url: &str) -> String {
    let Some(secret) = password(url) else {
        return text.to_owned();
    };
    let mut text = text.replace(secret, "***");
    let decoded = percent_decode(secret);
    if !decoded.is_empty() {
        text = text.replace(&decoded, "***");
    }
    text
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replica_count_is_taken_out_of_the_query() {
        assert_eq!(
            split_options("redis://h:6379/0?fallback_replicas=3"),
            Ok(("redis://h:6379/0".to_owned(), Some(3)))
        );
        assert_eq!(
            split_options("redis://h/?protocol=resp3&fallback_replicas=8&x=1"),
            Ok(("redis://h/?protocol=resp3&x=1".to_owned(), Some(8)))
        );
        assert_eq!(
            split_options("redis://h/"),
            Ok(("redis://h/".to_owned(), None))
        );
        assert!(split_options("redis://h/?fallback_replicas=0").is_err());
        assert!(split_options("redis://h/?fallback_replicas=many").is_err());
    }

    #[test]
    fn a_password_is_found_and_redacted_however_it_is_written() {
        let url = "redis://user:s%40cret@10.0.0.1:6379/0";
        assert_eq!(password(url), Some("s%40cret"));
        assert_eq!(
            redact("failed for s%40cret and s@cret", url),
            "failed for *** and ***"
        );
        assert_eq!(password("redis://:pw@host/"), Some("pw"));
        assert_eq!(password("redis://host:6379/"), None);
        assert_eq!(password("redis://user@host/"), None);
        assert_eq!(redact("nothing", "redis://host/"), "nothing");
    }
}
