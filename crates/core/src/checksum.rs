//! The Internet checksum (RFC 1071): ones' complement sum of 16-bit words.
//! Summing big-endian 32-bit words and folding gives the same result
//! (2^16 ≡ 1 mod 2^16-1) with half the additions.

use std::net::Ipv4Addr;

/// Partial sum of `data` (as if it started on an even offset), in
/// big-endian word order, ready to be added to other partial sums.
///
/// The ones' complement sum does not depend on byte order (RFC 1071 §2),
/// so the loop adds native-endian 64-bit words as two 32-bit halves and
/// swaps once at the end instead of once per word.
#[inline]
pub fn partial(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        acc += (v & 0xffff_ffff) + (v >> 32);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        let v = u64::from_ne_bytes(last);
        acc += (v & 0xffff_ffff) + (v >> 32);
    }
    let native = fold(acc);
    if cfg!(target_endian = "little") {
        native.swap_bytes() as u64
    } else {
        native as u64
    }
}

/// Partial sum of the TCP/UDP pseudo-header.
#[inline]
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: usize) -> u64 {
    u32::from(src) as u64 + u32::from(dst) as u64 + protocol as u64 + len as u64
}

/// Fold a partial sum to 16 bits (not complemented).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for data whose partial sum is `acc`.
#[inline]
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// True when data including its checksum field sums to all ones.
#[inline]
pub fn verify(acc: u64) -> bool {
    fold(acc) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let w = if pair.len() == 2 {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                (pair[0] as u16) << 8
            };
            sum += w as u32;
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn matches_16_bit_reference_for_all_lengths() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(
                finish(partial(&data[..len])),
                reference(&data[..len]),
                "len {len}"
            );
        }
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(partial(&data)), 0xddf2);
    }
}
