//! Text the component carries packed, as `cargo xtask generate` writes it:
//! the tools' JSON Schemas and descriptions, very repetitive JSON that LZ4
//! packs to about a quarter, where the component has a size budget. The
//! block format with the unpacked size in front (`lz4_flex`'s
//! `compress_prepend_size`).

use alloc::vec::Vec;

/// The bytes `packed` holds; nothing when it is malformed or cut short
/// (what xtask writes never is, and a test unpacks it).
pub fn unpack(packed: &[u8]) -> Vec<u8> {
    let Ok((size, block)) = lz4_flex::block::uncompressed_size(packed) else {
        return Vec::new();
    };
    match lz4_flex::block::decompress(block, size) {
        Ok(text) if text.len() == size => text,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_text_unpacks_and_malformed_text_is_nothing() {
        let text = "abcabcabcabc!".repeat(20);
        let packed = lz4_flex::block::compress_prepend_size(text.as_bytes());
        assert!(packed.len() < text.len() / 4);
        assert_eq!(unpack(&packed), text.as_bytes());
        assert_eq!(unpack(&[]), b"");
        assert_eq!(unpack(&packed[..packed.len() / 2]), b"");
        assert_eq!(
            unpack(&[255, 255, 255, 127, 0]),
            b"",
            "a size it cannot hold"
        );
    }
}
