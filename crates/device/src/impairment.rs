//! Seeded, sans-IO link impairment: loss, duplication, reordering,
//! corruption, delay, jitter and a rate limit — what `tc netem` offers, for
//! machines where netem is not available and for virtual-time simulations.
//!
//! The impairment never reads a clock: the caller passes `now` (microseconds)
//! to [`Impairment::push`] and [`Impairment::pop`], and asks
//! [`Impairment::poll_at`] when the next held packet becomes due. Given the
//! same seed, configuration and inputs, the output is identical bit for bit.
//!
//! Order of effects for one offered packet, modelled on a real link:
//! 1. loss (the packet never enters the link);
//! 2. duplication (a second copy follows the first);
//! 3. per copy: corruption (one byte XORed with a random non-zero value);
//! 4. serialization at `rate_bps` behind whatever is already being sent;
//! 5. propagation delay `delay_us` plus a uniform jitter in `[0, jitter_us]`;
//!    jitter alone never reorders (a copy leaves no earlier than the copy
//!    before it), so reordering is controlled by `reorder` only;
//! 6. reordering: with probability `reorder` the copy is held back an extra
//!    `max(delay_us, 1 ms)` so that packets sent after it overtake it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::rng::SplitMix64;

/// The least extra hold for a reordered packet: long enough that packets a
/// sender emits back to back (at the same or nearby `now`) overtake it,
/// short compared to any sane retransmission timeout.
pub const REORDER_MIN_HOLD_US: u64 = 1_000;

/// Default bound on packets held (in delay or serialization), like a
/// device's txqueuelen; beyond it packets are dropped and counted.
pub const DEFAULT_QUEUE_LIMIT: usize = 4096;

/// What to do to packets. All probabilities are in [0, 1]; zero everywhere
/// (the `Default`) is the identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImpairmentConfig {
    /// Probability that a packet is dropped.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back so that later ones overtake it.
    pub reorder: f64,
    /// Probability that one byte of a packet is altered.
    pub corrupt: f64,
    /// Fixed one-way delay in microseconds.
    pub delay_us: u64,
    /// Extra delay, uniform in [0, jitter_us] microseconds.
    pub jitter_us: u64,
    /// Link rate in bits per second (0 = unlimited).
    pub rate_bps: u64,
    /// Seed for the pseudo-random choices.
    pub seed: u64,
}

impl ImpairmentConfig {
    /// True when no effect is configured (the seed is irrelevant then).
    pub fn is_identity(&self) -> bool {
        self.loss <= 0.0
            && self.duplicate <= 0.0
            && self.reorder <= 0.0
            && self.corrupt <= 0.0
            && self.delay_us == 0
            && self.jitter_us == 0
            && self.rate_bps == 0
    }
}

/// Counters of what the impairment did. A duplicated packet counts one
/// `duplicated`; each copy that is later released counts one `passed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpairmentStats {
    /// Packets offered with `push`.
    pub offered: u64,
    /// Copies released by `pop`.
    pub passed: u64,
    /// Packets dropped by random loss.
    pub dropped: u64,
    /// Copies dropped because the queue limit was reached.
    pub overflowed: u64,
    /// Packets that were duplicated.
    pub duplicated: u64,
    /// Copies held back to be overtaken.
    pub reordered: u64,
    /// Copies with one byte altered.
    pub corrupted: u64,
    /// Copies whose release time was later than their arrival.
    pub delayed: u64,
}

/// A held copy. Ordered by release time, then by arrival order so that
/// copies due at the same instant leave first-in first-out.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    release: u64,
    order: u64,
    packet: Vec<u8>,
}

/// The impairment state machine. See the module documentation.
#[derive(Debug)]
pub struct Impairment {
    config: ImpairmentConfig,
    identity: bool,
    rng: SplitMix64,
    queue: BinaryHeap<Reverse<Held>>,
    queue_limit: usize,
    next_order: u64,
    /// When the serializer finishes what it has been given (rate limit).
    link_free_at: u64,
    /// Release time of the last copy that was not reordered, so jitter
    /// cannot make a later copy overtake an earlier one.
    last_in_order_release: u64,
    stats: ImpairmentStats,
}

impl Impairment {
    /// An impairment with the given effects and the default queue limit.
    pub fn new(config: ImpairmentConfig) -> Self {
        Self {
            identity: config.is_identity(),
            rng: SplitMix64::new(config.seed),
            config,
            queue: BinaryHeap::new(),
            queue_limit: DEFAULT_QUEUE_LIMIT,
            next_order: 0,
            link_free_at: 0,
            last_in_order_release: 0,
            stats: ImpairmentStats::default(),
        }
    }

    /// Bound the number of held copies (at least 1); extra copies are
    /// dropped and counted in `overflowed`.
    pub fn with_queue_limit(mut self, packets: usize) -> Self {
        self.queue_limit = packets.max(1);
        self
    }

    /// The configuration this impairment applies.
    pub fn config(&self) -> &ImpairmentConfig {
        &self.config
    }

    /// Offer a packet arriving at `now`. Queues 0, 1 or 2 copies, each with
    /// its release time; collect them with [`Impairment::pop`].
    pub fn push(&mut self, now: u64, packet: &[u8]) {
        self.stats.offered += 1;
        if self.identity {
            self.enqueue(now, now, packet.to_vec());
            return;
        }
        if self.rng.chance(self.config.loss) {
            self.stats.dropped += 1;
            return;
        }
        let copies = if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut copy = packet.to_vec();
            if !copy.is_empty() && self.rng.chance(self.config.corrupt) {
                let index = self.rng.up_to(copy.len() as u64 - 1) as usize;
                // 1..=255: a zero XOR would leave the byte unchanged.
                let flip = self.rng.up_to(254) as u8 + 1;
                if let Some(byte) = copy.get_mut(index) {
                    *byte ^= flip;
                    self.stats.corrupted += 1;
                }
            }
            let release = self.release_time(now, copy.len());
            self.enqueue(now, release, copy);
        }
    }

    /// The release time of one copy of `len` bytes arriving at `now`.
    fn release_time(&mut self, now: u64, len: usize) -> u64 {
        let mut t = now;
        if self.config.rate_bps > 0 {
            let start = t.max(self.link_free_at);
            // Round up: a non-zero packet always occupies the link a while.
            let bits = (len as u128) * 8 * 1_000_000;
            let rate = u128::from(self.config.rate_bps);
            let tx_us = bits.div_ceil(rate).min(u128::from(u64::MAX)) as u64;
            t = start.saturating_add(tx_us);
            self.link_free_at = t;
        }
        t = t.saturating_add(self.config.delay_us);
        if self.config.jitter_us > 0 {
            t = t.saturating_add(self.rng.up_to(self.config.jitter_us));
        }
        if self.rng.chance(self.config.reorder) {
            self.stats.reordered += 1;
            let hold = self.config.delay_us.max(REORDER_MIN_HOLD_US);
            return t.saturating_add(hold);
        }
        t = t.max(self.last_in_order_release);
        self.last_in_order_release = t;
        t
    }

    fn enqueue(&mut self, now: u64, release: u64, packet: Vec<u8>) {
        if self.queue.len() >= self.queue_limit {
            self.stats.overflowed += 1;
            return;
        }
        if release > now {
            self.stats.delayed += 1;
        }
        let order = self.next_order;
        self.next_order += 1;
        self.queue.push(Reverse(Held {
            release,
            order,
            packet,
        }));
    }

    /// The next copy whose release time is at or before `now`.
    pub fn pop(&mut self, now: u64) -> Option<Vec<u8>> {
        if self.queue.peek()?.0.release > now {
            return None;
        }
        let Reverse(held) = self.queue.pop()?;
        self.stats.passed += 1;
        Some(held.packet)
    }

    /// The earliest release time among held copies.
    pub fn poll_at(&self) -> Option<u64> {
        self.queue.peek().map(|held| held.0.release)
    }

    /// Number of copies held.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// What the impairment has done so far.
    pub fn stats(&self) -> &ImpairmentStats {
        &self.stats
    }

    /// True when no effect is configured, so callers may bypass it.
    pub fn is_identity(&self) -> bool {
        self.identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(i: u32) -> Vec<u8> {
        let mut p = i.to_be_bytes().to_vec();
        p.extend_from_slice(&[0xAA; 60]);
        p
    }

    fn id(p: &[u8]) -> u32 {
        u32::from_be_bytes([p[0], p[1], p[2], p[3]])
    }

    /// Push `n` packets one per `gap` µs, then drain everything in time
    /// order; returns (release time, packet) pairs.
    fn run(config: ImpairmentConfig, n: u32, gap: u64) -> (Vec<(u64, Vec<u8>)>, ImpairmentStats) {
        let mut imp = Impairment::new(config);
        let mut out = Vec::new();
        let mut now = 0;
        for i in 0..n {
            now = u64::from(i) * gap;
            imp.push(now, &pkt(i));
            while let Some(p) = imp.pop(now) {
                out.push((now, p));
            }
        }
        while let Some(t) = imp.poll_at() {
            now = now.max(t);
            while let Some(p) = imp.pop(now) {
                out.push((now, p));
            }
        }
        (out, imp.stats().clone())
    }

    fn everything(seed: u64) -> ImpairmentConfig {
        ImpairmentConfig {
            loss: 0.1,
            duplicate: 0.1,
            reorder: 0.1,
            corrupt: 0.1,
            delay_us: 500,
            jitter_us: 300,
            rate_bps: 10_000_000,
            seed,
        }
    }

    #[test]
    fn identity_passes_everything_immediately_in_order() {
        let imp = Impairment::new(ImpairmentConfig::default());
        assert!(imp.is_identity());
        let (out, stats) = run(ImpairmentConfig::default(), 100, 10);
        assert_eq!(out.len(), 100);
        for (i, (t, p)) in out.iter().enumerate() {
            assert_eq!(*p, pkt(i as u32));
            assert_eq!(*t, i as u64 * 10);
        }
        assert_eq!(stats.offered, 100);
        assert_eq!(stats.passed, 100);
        assert_eq!(stats.delayed, 0);
        assert!(!Impairment::new(everything(1)).is_identity());
    }

    #[test]
    fn same_seed_is_deterministic_and_seed_matters() {
        let a = run(everything(9), 2000, 100);
        let b = run(everything(9), 2000, 100);
        let c = run(everything(10), 2000, 100);
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
    }

    #[test]
    fn loss_drops_about_the_configured_fraction() {
        let config = ImpairmentConfig {
            loss: 0.2,
            seed: 3,
            ..Default::default()
        };
        let (out, stats) = run(config, 10_000, 1);
        assert_eq!(stats.dropped + stats.passed, 10_000);
        assert_eq!(out.len() as u64, stats.passed);
        // Binomial(10000, 0.2): sd = 40, so ±400 is 10 sd.
        assert!((1600..2400).contains(&stats.dropped), "{stats:?}");
        // Survivors keep their order.
        let ids: Vec<u32> = out.iter().map(|(_, p)| id(p)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn full_loss_drops_everything() {
        let config = ImpairmentConfig {
            loss: 1.0,
            ..Default::default()
        };
        let (out, stats) = run(config, 50, 1);
        assert!(out.is_empty());
        assert_eq!(stats.dropped, 50);
    }

    #[test]
    fn duplication_delivers_two_identical_adjacent_copies() {
        let config = ImpairmentConfig {
            duplicate: 0.3,
            seed: 5,
            ..Default::default()
        };
        let (out, stats) = run(config, 1000, 1);
        assert!(
            stats.duplicated > 200 && stats.duplicated < 400,
            "{stats:?}"
        );
        assert_eq!(out.len() as u64, 1000 + stats.duplicated);
        let ids: Vec<u32> = out.iter().map(|(_, p)| id(p)).collect();
        let mut dups = 0;
        for w in ids.windows(2) {
            assert!(w[0] <= w[1], "duplication must not reorder");
            if w[0] == w[1] {
                dups += 1;
            }
        }
        assert_eq!(dups, stats.duplicated);
    }

    #[test]
    fn corruption_changes_exactly_one_byte() {
        let config = ImpairmentConfig {
            corrupt: 0.5,
            seed: 11,
            ..Default::default()
        };
        let (out, stats) = run(config, 1000, 1);
        assert_eq!(out.len(), 1000);
        let mut changed = 0;
        for (i, (_, p)) in out.iter().enumerate() {
            let orig = pkt(i as u32);
            assert_eq!(p.len(), orig.len());
            let diff = p.iter().zip(&orig).filter(|(a, b)| a != b).count();
            assert!(diff <= 1);
            changed += diff as u64;
        }
        assert_eq!(changed, stats.corrupted);
        assert!(stats.corrupted > 400 && stats.corrupted < 600, "{stats:?}");
    }

    #[test]
    fn corruption_of_empty_packet_is_harmless() {
        let mut imp = Impairment::new(ImpairmentConfig {
            corrupt: 1.0,
            ..Default::default()
        });
        imp.push(0, &[]);
        assert_eq!(imp.pop(0), Some(vec![]));
        assert_eq!(imp.stats().corrupted, 0);
    }

    #[test]
    fn delay_holds_packets_until_due() {
        let mut imp = Impairment::new(ImpairmentConfig {
            delay_us: 1000,
            ..Default::default()
        });
        imp.push(100, &pkt(1));
        imp.push(200, &pkt(2));
        assert_eq!(imp.poll_at(), Some(1100));
        assert_eq!(imp.pop(1099), None);
        assert_eq!(imp.pop(1100), Some(pkt(1)));
        assert_eq!(imp.pop(1100), None);
        assert_eq!(imp.poll_at(), Some(1200));
        assert_eq!(imp.pop(5000), Some(pkt(2)));
        assert_eq!(imp.poll_at(), None);
        assert_eq!(imp.stats().delayed, 2);
    }

    #[test]
    fn jitter_varies_delay_within_bounds_without_reordering() {
        let config = ImpairmentConfig {
            delay_us: 1000,
            jitter_us: 500,
            seed: 2,
            ..Default::default()
        };
        let mut imp = Impairment::new(config);
        let mut releases = Vec::new();
        for i in 0..200u32 {
            let now = u64::from(i) * 2000; // far apart: jitter cannot clash
            imp.push(now, &pkt(i));
            let due = imp.poll_at().unwrap();
            assert!((now + 1000..=now + 1500).contains(&due));
            releases.push(due - now);
            assert_eq!(imp.pop(due), Some(pkt(i)));
        }
        releases.sort_unstable();
        releases.dedup();
        assert!(releases.len() > 50, "jitter should vary: {releases:?}");

        // Back to back, jitter must not let a later packet leave first.
        let (out, _) = run(
            ImpairmentConfig {
                delay_us: 1000,
                jitter_us: 500,
                seed: 4,
                ..Default::default()
            },
            500,
            1,
        );
        let ids: Vec<u32> = out.iter().map(|(_, p)| id(p)).collect();
        assert_eq!(ids, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn reorder_lets_later_packets_overtake() {
        let config = ImpairmentConfig {
            reorder: 0.2,
            seed: 8,
            ..Default::default()
        };
        let (out, stats) = run(config, 1000, 10);
        assert_eq!(out.len(), 1000);
        let ids: Vec<u32> = out.iter().map(|(_, p)| id(p)).collect();
        let inversions = ids.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(stats.reordered > 100, "{stats:?}");
        assert!(inversions > 100, "inversions = {inversions}");
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn rate_limit_serializes_packets() {
        // 64-byte packets at 512 kbit/s take exactly 1000 µs each.
        let mut imp = Impairment::new(ImpairmentConfig {
            rate_bps: 512_000,
            ..Default::default()
        });
        for i in 0..5 {
            imp.push(0, &pkt(i));
        }
        for i in 0..5u32 {
            let due = imp.poll_at().unwrap();
            assert_eq!(due, 1000 * (u64::from(i) + 1));
            assert_eq!(imp.pop(due - 1), None);
            assert_eq!(imp.pop(due), Some(pkt(i)));
        }
        // An idle link starts serializing at arrival, not at the old backlog.
        imp.push(100_000, &pkt(9));
        assert_eq!(imp.poll_at(), Some(101_000));
    }

    #[test]
    fn rate_and_delay_add_up() {
        let mut imp = Impairment::new(ImpairmentConfig {
            rate_bps: 512_000,
            delay_us: 250,
            ..Default::default()
        });
        imp.push(0, &pkt(0));
        imp.push(0, &pkt(1));
        assert_eq!(imp.pop(1250), Some(pkt(0)));
        assert_eq!(imp.poll_at(), Some(2250));
    }

    #[test]
    fn queue_limit_drops_and_counts_overflow() {
        let mut imp = Impairment::new(ImpairmentConfig {
            delay_us: 10,
            ..Default::default()
        })
        .with_queue_limit(3);
        for i in 0..5 {
            imp.push(0, &pkt(i));
        }
        assert_eq!(imp.len(), 3);
        assert_eq!(imp.stats().overflowed, 2);
        let got: Vec<u32> = std::iter::from_fn(|| imp.pop(10)).map(|p| id(&p)).collect();
        assert_eq!(got, vec![0, 1, 2]);
    }

    #[test]
    fn everything_at_once_conserves_counts() {
        let (out, stats) = run(everything(77), 5000, 50);
        assert_eq!(stats.offered, 5000);
        assert_eq!(
            stats.passed + stats.overflowed,
            stats.offered - stats.dropped + stats.duplicated
        );
        assert_eq!(out.len() as u64, stats.passed);

        // Without corruption the id in each packet is trustworthy.
        let (out, _) = run(
            ImpairmentConfig {
                corrupt: 0.0,
                ..everything(77)
            },
            5000,
            50,
        );
        for (t, p) in &out {
            // Nothing leaves before its own transmission + propagation time.
            let sent = u64::from(id(p)) * 50;
            assert!(*t >= sent + 500, "packet {} at {t}", id(p));
        }
    }
}
