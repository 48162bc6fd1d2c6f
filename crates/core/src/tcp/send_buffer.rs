//! The send buffer: bytes the user queued, from the oldest unacknowledged
//! one onwards, plus whether a FIN follows them. Sequence numbers map onto
//! buffer offsets from `start`.

use super::ring::Ring;
use super::seq::Seq;

/// Unacknowledged and unsent data of one connection.
#[derive(Debug, Default)]
pub struct SendBuffer {
    ring: Ring,
    /// Sequence number of the first byte in the ring.
    pub start: Seq,
    /// The user shut down writing: a FIN follows the last byte.
    pub fin_queued: bool,
}

impl SendBuffer {
    /// An empty buffer whose first byte will carry sequence number `start`.
    pub fn new(limit: usize, start: Seq) -> Self {
        SendBuffer {
            ring: Ring::new(limit),
            start,
            fin_queued: false,
        }
    }

    /// Bytes held (sent-unacked plus unsent).
    #[inline]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Nothing held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Room for more user data.
    #[inline]
    pub fn free(&self) -> usize {
        self.ring.free()
    }

    /// The size bound.
    #[inline]
    pub fn limit(&self) -> usize {
        self.ring.limit()
    }

    /// Sequence number just past the last byte: where the FIN goes.
    #[inline]
    pub fn end_seq(&self) -> Seq {
        self.start + self.ring.len() as u32
    }

    /// Queue user bytes; returns how many fit.
    pub fn push(&mut self, data: &[u8]) -> usize {
        self.ring.push(data)
    }

    /// `n` bytes starting at sequence `seq`, as up to two slices.
    pub fn slices(&self, seq: Seq, n: usize) -> (&[u8], &[u8]) {
        self.ring.slices(seq.since(self.start) as usize, n)
    }

    /// Forget bytes acknowledged by `ack`; returns how many.
    pub fn ack_to(&mut self, ack: Seq) -> usize {
        let n = (ack.since(self.start) as usize).min(self.ring.len());
        self.ring.consume(n);
        self.start += n as u32;
        if self.ring.is_empty() {
            self.ring.release_if_empty();
        }
        n
    }
}
