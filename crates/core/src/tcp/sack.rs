//! The sender's SACK scoreboard (RFC 2018, RFC 6675 §3): which bytes
//! above SND.UNA the receiver has reported holding. Loss recovery asks it
//! where the holes are so that retransmissions (fast retransmit, NewReno
//! partial ACKs, the go-back after a timeout) never resend data the peer
//! already has.
//!
//! The receiver's side (which blocks to report) lives with the
//! reassembly queue in reassembly.rs.

use super::seq::Seq;

/// Duplicate ACKs (or SACKed segments) that signal a loss (RFC 5681,
/// RFC 6675 DupThresh).
pub const DUPTHRESH: u32 = 3;

/// Holes below the highest SACKed octet (see [`Scoreboard::holes_from`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Holes {
    /// The first hole part deemed lost.
    pub lost: Option<(Seq, Seq)>,
    /// The first hole part not (yet) deemed lost.
    pub other: Option<(Seq, Seq)>,
}

/// More separate SACKed ranges than this and further blocks are ignored
/// (a receiver reporting more holes than this is either hostile or on a
/// path so lossy that resending a little more costs nothing).
const MAX_RANGES: usize = 64;

/// SACKed ranges `[start, end)` above SND.UNA: sorted, disjoint, not
/// adjacent. Allocated only once a SACK block arrives.
#[derive(Debug, Default, Clone)]
pub struct Scoreboard {
    ranges: Vec<(Seq, Seq)>,
}

impl Scoreboard {
    /// Nothing SACKed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, lowest first.
    #[cfg(test)]
    pub fn ranges(&self) -> &[(Seq, Seq)] {
        &self.ranges
    }

    /// Forget everything (the receiver may have reneged, RFC 2018 §8).
    pub fn clear(&mut self) {
        self.ranges = Vec::new();
    }

    /// Record the blocks of one ACK, given the sender's window
    /// `[snd_una, snd_max)`. Blocks outside it (D-SACKs, RFC 2883, and
    /// stale or bogus ones) are ignored. Returns the bytes newly SACKed.
    pub fn update(&mut self, snd_una: Seq, snd_max: Seq, blocks: &[(Seq, Seq)]) -> u32 {
        self.ack_to(snd_una);
        let mut added = 0;
        for &(left, right) in blocks {
            if !(snd_una.lt(left) && left.lt(right) && right.le(snd_max)) {
                continue;
            }
            added += self.insert(left, right);
        }
        added
    }

    /// Insert `[left, right)`, merging with overlapping or adjacent ranges;
    /// returns the bytes not covered before.
    fn insert(&mut self, left: Seq, right: Seq) -> u32 {
        let i = self.ranges.partition_point(|&(_, e)| e.lt(left));
        let mut j = i;
        let mut covered = 0;
        while j < self.ranges.len() && self.ranges[j].0.le(right) {
            let (s, e) = self.ranges[j];
            covered += e.min(right).since(s.max(left));
            j += 1;
        }
        let new = right.since(left) - covered;
        if i == j {
            if self.ranges.len() >= MAX_RANGES {
                // Bounded memory: forget the block. Under-reporting is
                // safe (we may resend data the peer has); claiming data
                // is SACKed when it is not would never resend it.
                return 0;
            }
            self.ranges.insert(i, (left, right));
        } else {
            let s = self.ranges[i].0.min(left);
            let e = self.ranges[j - 1].1.max(right);
            self.ranges.drain(i + 1..j);
            self.ranges[i] = (s, e);
        }
        new
    }

    /// SND.UNA moved to `snd_una`: drop what it covers.
    pub fn ack_to(&mut self, snd_una: Seq) {
        let n = self.ranges.partition_point(|&(_, e)| e.le(snd_una));
        if n > 0 {
            self.ranges.drain(..n);
        }
        if let Some(first) = self.ranges.first_mut() {
            if first.0.lt(snd_una) {
                first.0 = snd_una;
            }
        }
    }

    /// If `seq` is SACKed, the end of its range; otherwise `seq`.
    pub fn skip_sacked(&self, seq: Seq) -> Seq {
        let i = self.ranges.partition_point(|&(_, e)| e.le(seq));
        match self.ranges.get(i) {
            Some(&(s, e)) if s.le(seq) => e,
            _ => seq,
        }
    }

    /// Start of the first SACKed range after `seq` (the end of the hole
    /// `seq` is in), if any.
    pub fn next_sacked(&self, seq: Seq) -> Option<Seq> {
        let i = self.ranges.partition_point(|&(_, e)| e.le(seq));
        self.ranges.get(i).map(|&(s, _)| s.max(seq))
    }

    /// RFC 6675 IsLost for an unSACKed octet with `above_bytes` bytes in
    /// `above_ranges` ranges SACKed above it: more than (DupThresh − 1)
    /// segments' worth, or DupThresh separate ranges.
    fn lost(above_bytes: u32, above_ranges: usize, mss: u32) -> bool {
        above_bytes > (DUPTHRESH - 1) * mss || above_ranges >= DUPTHRESH as usize
    }

    /// IsLost(seq) for an unSACKed `seq` (RFC 6675 §4).
    pub fn is_lost(&self, seq: Seq, mss: u32) -> bool {
        let i = self.ranges.partition_point(|&(_, e)| e.le(seq));
        let above = &self.ranges[i..];
        let bytes = above.iter().map(|&(s, e)| e.since(s.max(seq))).sum();
        Self::lost(bytes, above.len(), mss)
    }

    /// SetPipe (RFC 6675 §4): the octets in `[una, max)` still in the
    /// network — those neither SACKed nor deemed lost, plus those
    /// retransmitted (below `rxt`, the end of the retransmissions).
    pub fn pipe(&self, una: Seq, max: Seq, rxt: Seq, mss: u32) -> u32 {
        let mut pipe = 0;
        let mut hole = |a: Seq, b: Seq, lost: bool| {
            if !lost {
                pipe += b.since(a);
            }
            pipe += b.min(rxt).since(a);
        };
        let mut above_bytes = self.sacked_bytes();
        let mut above_ranges = self.ranges.len();
        let mut cursor = una;
        for &(s, e) in &self.ranges {
            hole(cursor, s, Self::lost(above_bytes, above_ranges, mss));
            above_bytes -= e.since(s);
            above_ranges -= 1;
            cursor = e;
        }
        hole(cursor, max, false);
        pipe
    }

    /// The unSACKed octets at or after `from` below the highest SACKed
    /// one, as the first range deemed lost and the first range not deemed
    /// lost (NextSeg rules 1 and 3, RFC 6675 §4). Lost holes always lie
    /// below the others.
    pub fn holes_from(&self, una: Seq, from: Seq, mss: u32) -> Holes {
        let mut holes = Holes::default();
        let mut above_bytes = self.sacked_bytes();
        let mut above_ranges = self.ranges.len();
        let mut cursor = una;
        for &(s, e) in &self.ranges {
            let a = cursor.max(from);
            if a.lt(s) {
                if Self::lost(above_bytes, above_ranges, mss) {
                    holes.lost = holes.lost.or(Some((a, s)));
                } else if holes.other.is_none() {
                    holes.other = Some((a, s));
                    break;
                }
            }
            above_bytes -= e.since(s);
            above_ranges -= 1;
            cursor = e;
        }
        holes
    }

    /// Bytes SACKed within `[a, b)`.
    pub fn sacked_between(&self, a: Seq, b: Seq) -> u32 {
        self.ranges
            .iter()
            .filter(|&&(s, e)| s.lt(b) && a.lt(e))
            .map(|&(s, e)| e.min(b).since(s.max(a)))
            .sum()
    }

    /// Unsacked bytes at or above `from` in holes deemed lost (RFC 6675
    /// IsLost), for tcp_info's lost count.
    pub fn lost_bytes(&self, una: Seq, from: Seq, mss: u32) -> u32 {
        let mut lost = 0;
        let mut above_bytes = self.sacked_bytes();
        let mut above_ranges = self.ranges.len();
        let mut cursor = una;
        for &(s, e) in &self.ranges {
            let a = cursor.max(from);
            if a.lt(s) && Self::lost(above_bytes, above_ranges, mss) {
                lost += s.since(a);
            }
            above_bytes -= e.since(s);
            above_ranges -= 1;
            cursor = e;
        }
        lost
    }

    /// Total bytes SACKed.
    pub fn sacked_bytes(&self) -> u32 {
        self.ranges.iter().map(|&(s, e)| e.since(s)).sum()
    }

    /// The highest SACKed sequence number (exclusive), if any.
    pub fn highest(&self) -> Option<Seq> {
        self.ranges.last().map(|&(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_merge_and_holes_are_found() {
        let una = Seq(u32::MAX - 1000);
        let max = una + 10_000;
        let mut sb = Scoreboard::default();
        assert_eq!(sb.update(una, max, &[(una + 2000, una + 3000)]), 1000);
        assert_eq!(
            sb.update(
                una,
                max,
                &[(una + 5000, una + 6000), (una + 2500, una + 4000)]
            ),
            2000
        );
        assert_eq!(
            sb.ranges(),
            &[(una + 2000, una + 4000), (una + 5000, una + 6000)]
        );
        // Out of the window, inverted or a D-SACK below SND.UNA: ignored.
        assert_eq!(
            sb.update(
                una,
                max,
                &[
                    (una - 10, una + 10),
                    (una + 9000, una + 11_000),
                    (una + 7000, una + 6999)
                ]
            ),
            0
        );
        assert_eq!(sb.skip_sacked(una + 2100), una + 4000);
        assert_eq!(sb.skip_sacked(una + 4000), una + 4000);
        assert_eq!(sb.next_sacked(una), Some(una + 2000));
        assert_eq!(sb.next_sacked(una + 4500), Some(una + 5000));
        assert_eq!(sb.next_sacked(una + 6000), None);
        assert_eq!(sb.sacked_bytes(), 3000);
        assert_eq!(sb.highest(), Some(una + 6000));
        // The cumulative ACK catches up with the first range.
        sb.ack_to(una + 3500);
        assert_eq!(
            sb.ranges(),
            &[(una + 3500, una + 4000), (una + 5000, una + 6000)]
        );
        sb.ack_to(una + 6000);
        assert!(sb.is_empty());
    }

    #[test]
    fn rfc6675_loss_pipe_and_holes() {
        let mss = 100;
        let una = Seq(1000);
        let mut sb = Scoreboard::default();
        // Sent 1000..2000; SACKed 1100..1200 and 1300..1500.
        sb.update(
            una,
            Seq(2000),
            &[(Seq(1100), Seq(1200)), (Seq(1300), Seq(1500))],
        );
        // 300 bytes SACKed above 1000: more than 2·MSS, lost. Above 1200
        // only 200 in one range: not (yet) lost.
        assert!(sb.is_lost(Seq(1000), mss));
        assert!(!sb.is_lost(Seq(1200), mss));
        // Pipe: 1000..1100 lost (0), 1200..1300 in flight (100), 1500..2000
        // in flight (500).
        assert_eq!(sb.pipe(una, Seq(2000), una, mss), 600);
        // Retransmitting 1000..1100 puts it back in the pipe.
        assert_eq!(sb.pipe(una, Seq(2000), Seq(1100), mss), 700);
        assert_eq!(
            sb.holes_from(una, una, mss),
            Holes {
                lost: Some((Seq(1000), Seq(1100))),
                other: Some((Seq(1200), Seq(1300)))
            }
        );
        assert_eq!(
            sb.holes_from(una, Seq(1100), mss),
            Holes {
                lost: None,
                other: Some((Seq(1200), Seq(1300)))
            }
        );
        // A third range above makes 1200..1300 lost too.
        sb.update(una, Seq(2000), &[(Seq(1700), Seq(1710))]);
        assert!(sb.is_lost(Seq(1200), mss));
        let h = sb.holes_from(una, Seq(1050), mss);
        assert_eq!(h.lost, Some((Seq(1050), Seq(1100))));
        assert_eq!(h.other, Some((Seq(1500), Seq(1700))));
        assert_eq!(
            sb.holes_from(una, Seq(1100), mss).lost,
            Some((Seq(1200), Seq(1300)))
        );
        assert_eq!(sb.holes_from(una, Seq(1710), mss), Holes::default());
        assert_eq!(sb.pipe(una, Seq(2000), una, mss), 200 + 290);
    }

    #[test]
    fn memory_is_bounded() {
        let mut sb = Scoreboard::default();
        let una = Seq(0);
        for k in 0..1000u32 {
            sb.update(una, Seq(1 << 30), &[(Seq(10 + 20 * k), Seq(20 + 20 * k))]);
        }
        assert_eq!(sb.ranges().len(), MAX_RANGES);
        let last = MAX_RANGES as u32 - 1;
        assert_eq!(sb.highest(), Some(Seq(20 + 20 * last)));
        assert_eq!(sb.skip_sacked(Seq(10)), Seq(20), "ranges kept exactly");
        // Extending a known range still works.
        assert_eq!(sb.update(una, Seq(1 << 30), &[(Seq(20), Seq(30))]), 10);
    }
}
