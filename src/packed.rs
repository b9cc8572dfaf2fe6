//! Text the component carries packed, as `cargo xtask generate` writes it:
//! the tools' JSON Schemas, 17 KB of very repetitive JSON that packs to
//! about 3 KB, where the component has a size budget.
//!
//! The format is LZ77 at its simplest: a token byte below `0x80` is
//! followed by that many plus one literal bytes; a token byte `t` from
//! `0x80` copies `(t & 0x7f) + 4` bytes from a distance back in what is
//! unpacked so far, given by the next two bytes (little-endian, at least 1).
//! A copy may overlap what it writes.

use alloc::vec::Vec;

/// The bytes `packed` holds. A malformed end (a token cut short, a copy
/// from before the start) ends the text there; what xtask writes has none.
pub fn unpack(packed: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(packed.len() * 6);
    let mut at = 0;
    while let Some(&token) = packed.get(at) {
        at += 1;
        if token < 0x80 {
            let end = at + usize::from(token) + 1;
            let Some(literal) = packed.get(at..end) else {
                break;
            };
            text.extend_from_slice(literal);
            at = end;
            continue;
        }
        let Some(&[low, high]) = packed.get(at..at + 2) else {
            break;
        };
        at += 2;
        let distance = usize::from(u16::from_le_bytes([low, high]));
        let Some(start) = text.len().checked_sub(distance).filter(|_| distance > 0) else {
            break;
        };
        for from in start..start + usize::from(token & 0x7f) + 4 {
            let byte = text[from];
            text.push(byte);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_copies_unpack() {
        // "abc", then 5 bytes from 3 back (overlapping), then "!".
        let packed = [2, b'a', b'b', b'c', 0x81, 3, 0, 0, b'!'];
        assert_eq!(unpack(&packed), b"abcabcab!");
        assert_eq!(unpack(&[]), b"");
    }

    #[test]
    fn malformed_ends_stop_without_panicking() {
        assert_eq!(unpack(&[5, b'a']), b"");
        assert_eq!(unpack(&[0, b'a', 0x80, 2, 0]), b"a");
        assert_eq!(unpack(&[0, b'a', 0x80, 0, 0]), b"a");
        assert_eq!(unpack(&[0, b'a', 0x80, 1]), b"a");
    }
}
