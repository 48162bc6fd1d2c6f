//! The receive buffer: in-order bytes waiting for the user, followed by
//! out-of-order bytes held at their final offsets until the holes before
//! them are filled (RFC 9293 §3.10.7.4, "segment text"). Out-of-order data
//! is only ever accepted inside the advertised window, so it is bounded by
//! the buffer size. The held ranges are what the receiver reports in SACK
//! blocks (RFC 2018), the most recently received first.

use super::options::{SackBlocks, MAX_SACK_BLOCKS};
use super::ring::Ring;
use super::seq::Seq;

/// More separate out-of-order ranges than this and new ones are refused
/// (the sender will retransmit); keeps the bookkeeping O(small).
const MAX_RANGES: usize = 32;

/// In-order and out-of-order received data of one connection.
#[derive(Debug, Default)]
pub struct RecvBuffer {
    ring: Ring,
    /// Held out-of-order ranges `[start, end)`, sorted, disjoint, all
    /// strictly after `rcv_nxt`.
    ofo: Vec<(Seq, Seq)>,
    /// Sequence number of a FIN that arrived ahead of a hole.
    pub ofo_fin: Option<Seq>,
    /// First bytes of the latest out-of-order segments, most recent first:
    /// they decide the order of SACK blocks (RFC 2018 §4).
    recent: [Seq; MAX_SACK_BLOCKS],
    recent_len: u8,
}

/// What `insert` did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// `rcv_nxt` moves forward by this many bytes (in-order data, plus any
    /// held data it made contiguous).
    InOrder(u32),
    /// Held for later.
    OutOfOrder,
    /// Could not be held (too many holes); dropped.
    Dropped,
}

impl RecvBuffer {
    /// An empty buffer bounded by `limit` bytes.
    pub fn new(limit: usize) -> Self {
        RecvBuffer {
            ring: Ring::new(limit),
            ofo: Vec::new(),
            ofo_fin: None,
            recent: [Seq(0); MAX_SACK_BLOCKS],
            recent_len: 0,
        }
    }

    /// In-order bytes not yet read by the user.
    #[inline]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Nothing to read.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The size bound.
    #[inline]
    pub fn limit(&self) -> usize {
        self.ring.limit()
    }

    /// Space not taken by unread in-order bytes: what the window may offer.
    #[inline]
    pub fn free(&self) -> usize {
        self.ring.free()
    }

    /// Out-of-order ranges held.
    #[cfg(test)]
    pub fn ofo_ranges(&self) -> usize {
        self.ofo.len()
    }

    /// Some out-of-order data is held (there is a hole).
    #[inline]
    pub fn has_ofo(&self) -> bool {
        !self.ofo.is_empty()
    }

    /// `[start, end)` is already held out of order (a duplicate).
    pub fn ofo_contains(&self, start: Seq, end: Seq) -> bool {
        let i = self.ofo.partition_point(|&(_, e)| e.lt(end));
        self.ofo.get(i).is_some_and(|&(s, _)| s.le(start))
    }

    fn range_of(&self, seq: Seq) -> Option<(Seq, Seq)> {
        let i = self.ofo.partition_point(|&(_, e)| e.le(seq));
        self.ofo.get(i).copied().filter(|&(s, _)| s.le(seq))
    }

    fn note_recent(&mut self, seq: Seq) {
        let n = (self.recent_len as usize).min(MAX_SACK_BLOCKS - 1);
        self.recent.copy_within(0..n, 1);
        self.recent[0] = seq;
        self.recent_len = (n + 1) as u8;
    }

    /// Append SACK blocks for the held ranges to `out`: the range holding
    /// the most recently received segment first, then the ranges of the
    /// segments before it, then any others (RFC 2018 §4).
    pub fn sack_blocks(&self, out: &mut SackBlocks) {
        let first = out.len();
        let emitted = |out: &SackBlocks, r: (Seq, Seq)| out.as_slice()[first..].contains(&r);
        for &seq in &self.recent[..self.recent_len as usize] {
            if let Some(r) = self.range_of(seq) {
                if !emitted(out, r) {
                    out.push(r.0, r.1);
                }
            }
        }
        for &r in &self.ofo {
            if out.len() == MAX_SACK_BLOCKS {
                break;
            }
            if !emitted(out, r) {
                out.push(r.0, r.1);
            }
        }
    }

    /// Store `data` whose first byte has sequence `seq`; the caller has
    /// trimmed it to `[rcv_nxt, rcv_nxt + window)`.
    pub fn insert(&mut self, rcv_nxt: Seq, seq: Seq, data: &[u8]) -> Inserted {
        let off = seq.since(rcv_nxt) as usize;
        if off == 0 {
            let n = self.ring.write_at(self.ring.len(), data);
            self.ring.commit(n);
            let mut nxt = rcv_nxt + n as u32;
            let mut adv = n as u32;
            // Pull in held ranges that are now contiguous.
            while let Some(&(s, e)) = self.ofo.first() {
                if s.gt(nxt) {
                    break;
                }
                if e.gt(nxt) {
                    let extra = e.since(nxt);
                    self.ring.commit(extra as usize);
                    adv += extra;
                    nxt = e;
                }
                self.ofo.remove(0);
            }
            if self.ofo.is_empty() {
                self.recent_len = 0;
            }
            return Inserted::InOrder(adv);
        }
        let start = seq;
        let end = seq + data.len() as u32;
        // Find where it goes and whether it merges with neighbours.
        let i = self.ofo.partition_point(|&(_, e)| e.lt(start));
        let mut j = i;
        while j < self.ofo.len() && self.ofo[j].0.le(end) {
            j += 1;
        }
        if i == j && self.ofo.len() >= MAX_RANGES {
            return Inserted::Dropped;
        }
        let n = self.ring.write_at(self.ring.len() + off, data);
        if n == 0 {
            return Inserted::Dropped; // beyond the buffer (a rounded-up window)
        }
        let end = start + n as u32;
        if i == j {
            self.ofo.insert(i, (start, end));
        } else {
            let s = self.ofo[i].0.min(start);
            let e = self.ofo[j - 1].1.max(end);
            self.ofo.drain(i + 1..j);
            self.ofo[i] = (s, e);
        }
        self.note_recent(start);
        Inserted::OutOfOrder
    }

    /// Move up to `max` bytes to `out`.
    pub fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> usize {
        self.ring.read_into(out, max)
    }

    /// Drop `n` unread in-order bytes (an urgent octet read out of band).
    pub fn discard(&mut self, n: usize) {
        self.ring.consume(n.min(self.ring.len()));
    }

    /// Give the memory back when nothing is held (an idle connection
    /// should cost little).
    pub fn release_if_idle(&mut self) {
        if self.ofo.is_empty() {
            self.ring.release_if_empty();
        }
    }

    /// Drop everything (the connection was released).
    pub fn clear(&mut self) {
        let limit = self.ring.limit();
        *self = RecvBuffer::new(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_fill_in_any_order() {
        let mut r = RecvBuffer::new(1000);
        let base = Seq(u32::MAX - 10);
        let data: Vec<u8> = (0..100u8).collect();
        assert_eq!(
            r.insert(base, base + 50, &data[50..60]),
            Inserted::OutOfOrder
        );
        assert_eq!(
            r.insert(base, base + 20, &data[20..30]),
            Inserted::OutOfOrder
        );
        assert_eq!(
            r.insert(base, base + 25, &data[25..55]),
            Inserted::OutOfOrder
        );
        assert_eq!(r.ofo_ranges(), 1);
        assert_eq!(
            r.insert(base, base + 70, &data[70..100]),
            Inserted::OutOfOrder
        );
        assert_eq!(r.ofo_ranges(), 2);
        assert_eq!(r.insert(base, base, &data[..20]), Inserted::InOrder(60));
        assert_eq!(
            r.insert(base + 60, base + 60, &data[60..70]),
            Inserted::InOrder(40)
        );
        let mut out = Vec::new();
        r.read_into(&mut out, 1000);
        assert_eq!(out, data);
        assert_eq!(r.ofo_ranges(), 0);
    }

    #[test]
    fn bounded_number_of_holes() {
        let mut r = RecvBuffer::new(10_000);
        for k in 0..MAX_RANGES as u32 {
            assert_eq!(
                r.insert(Seq(0), Seq(10 + k * 10), b"x"),
                Inserted::OutOfOrder
            );
        }
        assert_eq!(r.insert(Seq(0), Seq(5000), b"x"), Inserted::Dropped);
        // Extending an existing range is still fine.
        assert_eq!(r.insert(Seq(0), Seq(11), b"y"), Inserted::OutOfOrder);
    }
}
