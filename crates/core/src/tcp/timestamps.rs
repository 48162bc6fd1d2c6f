//! The timestamps option in use (RFC 7323 §3–5): which TSval to echo
//! (TS.Recent, updated only from segments at or before the last ACK we
//! sent, so the echo measures the full round trip including our ACK
//! delay), RTT samples from TSecr, and PAWS — protection against wrapped
//! sequence numbers — which drops segments whose TSval is older than
//! TS.Recent unless TS.Recent itself is over 24 days old.

use super::segment::TcpHeader;
use super::tcb::Tcb;
use crate::env::Env;
use crate::time::{Instant, SECONDS};

/// After this long without an update TS.Recent is too old to judge a
/// TSval by (RFC 7323 §5.5: 24 days, under half the 2^31 ms wrap).
pub const PAWS_IDLE: u64 = 24 * 24 * 3600 * SECONDS;

/// How far (in the peer's timestamp ticks) a TSval may lag TS.Recent and
/// still pass PAWS (Linux's TCP_PAWS_WINDOW): a segment reordered by less
/// than a clock tick is not an old duplicate from a wrapped sequence space.
pub const PAWS_WINDOW: u32 = 1;

/// `a` is older than `b` in 32-bit timestamp arithmetic.
#[inline]
fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Tcb {
    /// TS.Recent is still a valid reference (updated within 24 days).
    fn ts_recent_valid(&self, now: Instant) -> bool {
        now.saturating_sub(self.ts_recent_stamp) <= PAWS_IDLE
    }

    /// PAWS (RFC 7323 §5.3 R1): a non-RST segment carrying a TSval older
    /// than TS.Recent (by more than [`PAWS_WINDOW`], as Linux) is an old
    /// duplicate and must not be processed — except a duplicate ACK that was merely reordered behind a later
    /// segment (Linux's `tcp_disordered_ack`): dropping it would hide
    /// the duplicate ACKs fast retransmit counts on.
    pub fn paws_rejects(&self, env: &Env, seg: &TcpHeader, payload_len: usize) -> bool {
        if !self.ts_ok || seg.rst() {
            return false;
        }
        let Some((val, _)) = seg.options.timestamps else {
            return false;
        };
        ts_before(val.wrapping_add(PAWS_WINDOW), self.ts_recent)
            && self.ts_recent_valid(env.now)
            && !self.disordered_ack(seg, payload_len, val)
    }

    /// A pure duplicate ACK at RCV.NXT that would not update the window,
    /// with a TSval at most an RTO behind TS.Recent.
    fn disordered_ack(&self, seg: &TcpHeader, payload_len: usize, val: u32) -> bool {
        let wnd = (seg.window as u32) << self.snd_wscale;
        let updates_window = seg.ack.gt(self.snd_una)
            || seg.seq.gt(self.snd_wl1)
            || (seg.seq == self.snd_wl1 && (wnd > self.snd_wnd || wnd == 0));
        let rto_ms = self.rtt.rto() / 1000;
        seg.has_ack()
            && payload_len == 0
            && !seg.syn()
            && !seg.fin()
            && seg.seq == self.rcv_nxt
            && seg.ack == self.snd_una
            && !updates_window
            && u64::from(self.ts_recent.wrapping_sub(val)) <= rto_ms
    }

    /// RFC 7323 §4.3 (and §5.3 R3): remember the TSval of an acceptable
    /// segment that starts at or before Last.ACK.sent and is not older
    /// than TS.Recent (or any TSval once TS.Recent went stale).
    pub fn update_ts_recent(&mut self, env: &Env, seg: &TcpHeader) {
        if !self.ts_ok {
            return;
        }
        let Some((val, _)) = seg.options.timestamps else {
            return;
        };
        let fresh = !ts_before(val, self.ts_recent) || !self.ts_recent_valid(env.now);
        if fresh && seg.seq.le(self.last_ack_sent) {
            self.ts_recent = val;
            self.ts_recent_stamp = env.now;
        }
    }

    /// An RTT sample in µs from the TSecr of an ACK of new data, if it
    /// carries a plausible one (RFC 7323 §4.1). Unlike timing a segment,
    /// it stays unambiguous when the data was retransmitted, because the
    /// echo names the transmission that was acknowledged.
    pub fn ts_rtt(&self, env: &Env, seg: &TcpHeader) -> Option<u64> {
        if !self.ts_ok {
            return None;
        }
        let (_, ecr) = seg.options.timestamps?;
        // 0 is what a peer echoes before it has a TS.Recent (Linux
        // ignores it too).
        if ecr == 0 {
            return None;
        }
        // An echo from before our latest retransmission: the peer's
        // TS.Recent did not move (it took the retransmission as a
        // duplicate, or lost our segments since), so the echo measures
        // our timeout wait rather than the path. Taking it would inflate
        // the RTO, whose next backoff would inflate the next such sample.
        if self.rtx_ts.is_some_and(|r| ts_before(ecr, r)) {
            return None;
        }
        let ms = self.ts_val(env.now).wrapping_sub(ecr);
        // An echo from the future or from before this connection is bogus.
        if ms as i32 >= 0 && u64::from(ms) * 1000 <= env.config.tcp.rto_max {
            Some(u64::from(ms) * 1000)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_order_wraps() {
        assert!(ts_before(1, 2));
        assert!(!ts_before(2, 2));
        assert!(ts_before(u32::MAX, 3), "3 is after the wrap");
        assert!(!ts_before(3, u32::MAX));
        assert_eq!(PAWS_IDLE, 2_073_600 * SECONDS);
    }
}
