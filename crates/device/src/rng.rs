//! A small seeded pseudo-random generator (SplitMix64).
//!
//! Impairments must be reproducible from a seed so that a failing simulation
//! can be replayed exactly; SplitMix64 is tiny, passes BigCrush, and needs no
//! dependency. It is not cryptographic and must never be used where an
//! adversary could benefit from predicting it.

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1) built from the top 53 bits, so every value
    /// is exactly representable.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (values ≤ 0 never, ≥ 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.next_f64() < p
    }

    /// A uniform integer in [0, bound] inclusive (`bound` = 0 gives 0).
    pub fn up_to(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        if bound == u64::MAX {
            return self.next_u64();
        }
        // Multiply-shift maps 64 random bits onto the range; the bias is at
        // most bound/2^64, irrelevant for delays and byte offsets.
        ((u128::from(self.next_u64()) * u128::from(bound + 1)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_different_seed_differs() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let mut c = SplitMix64::new(43);
        let sa: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let sb: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let sc: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(sa, sb);
        assert_ne!(sa, sc);
    }

    #[test]
    fn reference_value_for_seed_zero() {
        // First output of SplitMix64 seeded with 0, from the reference
        // implementation (Vigna, splitmix64.c).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn ranges_are_respected() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(r.up_to(9) <= 9);
        }
        assert_eq!(r.up_to(0), 0);
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
    }

    #[test]
    fn chance_tracks_probability() {
        let mut r = SplitMix64::new(1);
        let hits = (0..100_000).filter(|_| r.chance(0.25)).count();
        // 100k Bernoulli(0.25) trials: sd ≈ 137, so ±2000 is > 14 sd.
        assert!((23_000..27_000).contains(&hits), "hits = {hits}");
    }
}
