//! Seeded randomness: a keyed SipHash-1-3 (for hash tables a peer must not
//! be able to collide, and for RFC 6528 ISNs) and a SplitMix64 generator
//! (for ephemeral-port starting points). Everything derives from
//! `StackConfig::seed`, so a fixed seed gives a fully deterministic stack.

use core::hash::{BuildHasher, Hasher};

/// SipHash-1-3 (one compression round, three finalisation rounds), the
/// variant std uses for HashMap, but keyed by us so it is reproducible.
#[derive(Debug, Clone)]
pub struct SipHasher13 {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
    tail: u64,
    ntail: usize,
    length: usize,
}

impl SipHasher13 {
    /// A hasher keyed with `(k0, k1)`.
    pub fn new_with_keys(k0: u64, k1: u64) -> Self {
        SipHasher13 {
            v0: k0 ^ 0x736f_6d65_7073_6575,
            v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261,
            v3: k1 ^ 0x7465_6462_7974_6573,
            tail: 0,
            ntail: 0,
            length: 0,
        }
    }

    #[inline]
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13);
        self.v1 ^= self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16);
        self.v3 ^= self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21);
        self.v3 ^= self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17);
        self.v1 ^= self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    #[inline]
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.v0 ^= m;
    }
}

impl Hasher for SipHasher13 {
    fn write(&mut self, mut bytes: &[u8]) {
        self.length = self.length.wrapping_add(bytes.len());
        // Top up a partial word first, so whole words can go straight in.
        while self.ntail != 0 && !bytes.is_empty() {
            self.tail |= (bytes[0] as u64) << (8 * self.ntail);
            self.ntail += 1;
            bytes = &bytes[1..];
            if self.ntail == 8 {
                let m = self.tail;
                self.compress(m);
                self.tail = 0;
                self.ntail = 0;
            }
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.compress(u64::from_le_bytes(b));
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            self.tail |= (b as u64) << (8 * i);
        }
        self.ntail = words.remainder().len();
    }

    fn finish(&self) -> u64 {
        let mut s = self.clone();
        let b = ((self.length as u64 & 0xff) << 56) | self.tail;
        s.compress(b);
        s.v2 ^= 0xff;
        s.round();
        s.round();
        s.round();
        s.v0 ^ s.v1 ^ s.v2 ^ s.v3
    }
}

/// A `BuildHasher` for HashMaps whose keys come off the wire: keyed from
/// the stack seed, so collisions cannot be precomputed by a remote peer.
#[derive(Debug, Clone, Copy)]
pub struct KeyedState {
    k0: u64,
    k1: u64,
}

impl KeyedState {
    /// Keys derived from `seed` and a per-use `domain`, so tables and ISNs
    /// never share a key.
    pub fn new(seed: u64, domain: u64) -> Self {
        let mut rng = SplitMix64::new(seed ^ domain.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        KeyedState {
            k0: rng.next_u64(),
            k1: rng.next_u64(),
        }
    }

    /// The two key halves.
    pub fn keys(&self) -> (u64, u64) {
        (self.k0, self.k1)
    }
}

impl BuildHasher for KeyedState {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

/// SplitMix64: tiny, fast, statistically fine for choosing port offsets.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)]
    fn reference(k0: u64, k1: u64, data: &[u8]) -> u64 {
        // std's SipHasher is SipHash-2-4; its 1-3 variant is DefaultHasher
        // with zero keys. Compare against that for the zero-key case and
        // check key sensitivity separately.
        let _ = (k0, k1);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(data);
        h.finish()
    }

    #[test]
    fn matches_std_siphash13_with_zero_keys() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let mut h = SipHasher13::new_with_keys(0, 0);
            h.write(&data);
            assert_eq!(h.finish(), reference(0, 0, &data), "len {len}");
        }
    }

    #[test]
    fn split_writes_equal_one_write() {
        let data: Vec<u8> = (0..29u8).collect();
        let mut a = SipHasher13::new_with_keys(1, 2);
        a.write(&data);
        for cut in 0..data.len() {
            let mut b = SipHasher13::new_with_keys(1, 2);
            b.write(&data[..cut]);
            b.write(&data[cut..]);
            assert_eq!(a.finish(), b.finish(), "cut {cut}");
        }
    }

    #[test]
    fn keys_change_the_hash() {
        let mut a = SipHasher13::new_with_keys(1, 2);
        let mut b = SipHasher13::new_with_keys(1, 3);
        a.write(b"tuple");
        b.write(b"tuple");
        assert_ne!(a.finish(), b.finish());
    }
}
