//! Tail loss probe (RFC 8985 §7, Linux's TLP, on by default there).
//!
//! When the last segments of a flight — or the ACK that would have covered
//! them — are lost, nothing comes back: no duplicate ACK, no SACK, so fast
//! retransmit never starts and the sender waits for the retransmission
//! timer, at least 200 ms, and then restarts from a window of one segment.
//! A receiver that answers a burst with one stretch ACK (Linux, coalescing
//! what the TUN delivers in one go) makes that common: losing that one ACK
//! idles the connection until the RTO.
//!
//! Instead, when nothing has been heard for a probe timeout (PTO) of about
//! two round trips, send one probe — a new segment if there is one and the
//! peer's window allows, otherwise the last segment again — so the peer
//! answers with an ACK (and SACK blocks) that either shows all is well or
//! starts ordinary SACK recovery. One probe per flight: the next is allowed
//! once an ACK acknowledges new data. The RTO is re-armed after the probe.
//!
//! Left out (RFC 8985 §7.4): detecting that a retransmitted probe alone
//! repaired a loss, to reduce cwnd then; a probe of new data (the usual
//! case in bulk transfer) leaves that to the recovery its SACK starts.

use super::tcb::Tcb;
use crate::env::Env;
use crate::event::Event;

/// Added to 2·SRTT when more than one segment is in flight (Linux's
/// TCP_TIMEOUT_MIN, 2 ms): room for the receiver's ACK processing.
pub const PTO_SLACK: u64 = 2_000;

/// Added to 2·SRTT when a single segment is in flight (RFC 8985
/// WCDelAckT, Linux's TCP_DELACK_MAX): its ACK may be delayed that long.
pub const WORST_CASE_DELAYED_ACK: u64 = 200_000;

impl Tcb {
    /// (Re)arm the probe timeout, after new data was sent or acknowledged.
    /// Only with SACK (RFC 8985 §7.2), outside timeout backoff and NewReno
    /// recovery, once an RTT is known, and only if it would fire before
    /// the RTO. Also during SACK recovery: the ACK that would have SACKed
    /// the rest of the flight gets lost there too, and the probe's ACK
    /// brings the scoreboard up to date.
    pub(crate) fn schedule_tail_loss_probe(&mut self, env: &Env) {
        self.timers.tlp = None;
        let srtt = self.rtt.srtt();
        if !env.config.tcp.tail_loss_probe
            || !self.sack_ok
            || (self.in_recovery && !self.sack_recovery)
            || self.retries > 0
            || self.tlp_out
            || self.snd_una == self.snd_max
            || self.snd_nxt.lt(self.snd_max)
            || srtt == 0
            || !self.can_send_data()
        {
            return;
        }
        let slack = if self.outstanding() <= self.eff_mss() {
            WORST_CASE_DELAYED_ACK
        } else {
            PTO_SLACK
        };
        let at = env.now + 2 * srtt + slack;
        if self.timers.rtx.is_none_or(|rto| at < rto) {
            self.timers.tlp = Some(at);
        }
    }

    /// The probe timeout expired: send the probe and re-arm the RTO.
    pub(crate) fn on_tail_loss_probe(&mut self, env: &mut Env) {
        if (self.in_recovery && !self.sack_recovery)
            || self.retries > 0
            || self.snd_una == self.snd_max
            || self.snd_nxt.lt(self.snd_max)
            || !self.can_send_data()
        {
            return;
        }
        let mss = self.eff_mss();
        if !self.send_new_segment(env, mss) {
            // Nothing new may go: the last segment (or the FIN) again.
            let start = self.snd_max - mss.min(self.outstanding());
            let len = self.retransmit_range(env, start, self.snd_max);
            if len == 0 {
                return;
            }
            self.emit(
                env,
                Event::Retransmit {
                    id: self.id,
                    seq: start.0,
                    len,
                    attempt: 0,
                    rto_us: self.rtt.rto(),
                },
            );
        }
        env.stats.tcp_loss_probes += 1;
        self.tlp_out = true;
        self.timers.rtx = Some(self.clamp_to_user_timeout(env.now + self.rtt.rto()));
    }
}
