//! Base64 (RFC 4648), encoding only, as OAuth needs it: the standard
//! alphabet with padding for HTTP Basic credentials, the URL-safe one
//! without padding for PKCE.
//!
//! It stands in for the `base64` crate, whose unrolled encoder is 3 KB of
//! the component; its tests hold it to that crate.

use alloc::string::String;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` in base64's standard alphabet, padded with `=`.
pub fn standard(bytes: &[u8]) -> String {
    encode(bytes, STANDARD, true)
}

/// `bytes` in base64url, without padding.
pub fn url_safe(bytes: &[u8]) -> String {
    encode(bytes, URL_SAFE, false)
}

/// Each 3 bytes as 4 characters of `alphabet`, 6 bits each; a last 1 or 2
/// bytes as 2 or 3 characters, and as many `=` after as `pad` asks.
fn encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0_u32, |group, (at, &byte)| {
            group | u32::from(byte) << (16 - 8 * at)
        });
        for sextet in 0..=chunk.len() {
            let index = (group >> (18 - 6 * sextet)) & 63;
            text.push(char::from(alphabet[index as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                text.push('=');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648's test vectors.
    #[test]
    fn the_rfc_vectors_encode() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (bytes, text) in cases {
            assert_eq!(standard(bytes.as_bytes()), text);
            assert_eq!(url_safe(bytes.as_bytes()), text.trim_end_matches('='));
        }
        assert_eq!(standard(&[0xfb, 0xff]), "+/8=");
        assert_eq!(url_safe(&[0xfb, 0xff]), "-_8");
    }
}

/// Held to the `base64` crate, natively only, as it and `proptest` are.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod held_to_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn bytes_encode_as_base64_encodes_them(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(standard(&bytes), STANDARD.encode(&bytes));
            prop_assert_eq!(url_safe(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
        }
    }
}
