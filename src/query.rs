//! The one encoder for everything sent as `name=value` pairs: tool query
//! strings, the proxy's query, the OAuth authorization link, the token
//! endpoint's form bodies and its Basic client credentials.
//!
//! Only RFC 3986's unreserved characters stay raw, so a space is always
//! `%20`, never `+` (`a b+c` is `a%20b%2Bc`): every server (and every form
//! or query parser) reads the result the same way.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but `A-Z a-z 0-9 - . _ ~` is percent-encoded.
const UNRESERVED_ONLY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` percent-encoded as UTF-8, keeping only unreserved characters raw.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED_ONLY).to_string()
}

/// `pairs` as `name=value` joined by `&`, each name and value encoded.
pub(crate) fn string<N: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (N, V)>,
) -> String {
    let encoded: Vec<String> = pairs
        .into_iter()
        .map(|(name, value)| format!("{}={}", encode(name.as_ref()), encode(value.as_ref())))
        .collect();
    encoded.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_raw() {
        let cases = [
            ("a b", "a%20b"),
            ("a+b", "a%2Bb"),
            ("a&b", "a%26b"),
            ("a=b", "a%3Db"),
            ("café", "caf%C3%A9"),
            ("日", "%E6%97%A5"),
            ("", ""),
            ("AZaz09-._~", "AZaz09-._~"),
            ("*!'()/:?#[]@%", "%2A%21%27%28%29%2F%3A%3F%23%5B%5D%40%25"),
        ];
        for (text, encoded) in cases {
            assert_eq!(encode(text), encoded, "{text:?}");
        }
    }

    #[test]
    fn pairs_join_with_ampersands() {
        assert_eq!(string(Vec::<(&str, &str)>::new()), "");
        assert_eq!(
            string([("scope", "identify guilds"), ("empty", ""), ("a&b", "c=d")]),
            "scope=identify%20guilds&empty=&a%26b=c%3Dd"
        );
        let owned = [("limit", "5".to_owned())];
        assert_eq!(string(owned.iter().map(|(n, v)| (n, v))), "limit=5");
    }
}

/// Held to `form_urlencoded`, natively only, as it and `proptest` are.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod held_to_form_urlencoded {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn queries_decode_to_what_was_encoded(pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..5)) {
            let encoded = string(pairs.iter().map(|(name, value)| (name, value)));
            prop_assert!(
                encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)),
                "{:?}",
                encoded
            );
            let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
            prop_assert_eq!(decoded, pairs);
        }
    }
}
