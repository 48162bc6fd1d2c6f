//! Acknowledging queued segments (RFC 1122 §4.2.2.21, RFC 9293 MUST-59):
//! when several segments arrive together — one read of a device batch —
//! process them all before sending an ACK, so the batch draws one
//! cumulative ACK per connection instead of one per two segments. This is
//! what Linux gets from GRO (a batch becomes one super-segment) followed by
//! `tcp_ack_snd_check` once per super-segment.
//!
//! Only the ACKs whose sole purpose is to acknowledge in-order data wait for
//! the end of the batch:
//! - the "every second full-size segment" ACK (delayed_ack.rs): its job is
//!   to keep the sender's ACK clock running; one cumulative ACK at the end
//!   of the batch does that for the whole batch (the sender is never
//!   starved: a batch of N full segments always draws exactly one ACK);
//! - the window update after the application read (`tcp_recv`), which the
//!   end-of-batch ACK carries with the latest window.
//!
//! The receive side is free to ACK these later than the segment that
//! earned them: no time passes inside a batch, so the peer sees them as
//! prompt (RFC 9293 §3.8.6.3 bounds only the delay in time).
//!
//! Every other ACK stays immediate, decided where it arises (input.rs):
//! - duplicate ACKs for out-of-order data, and ACKs of in-order data while
//!   data is held out of order: the peer's fast retransmit and SACK loss
//!   recovery count them (RFC 5681 §4.2 "SHOULD be sent immediately",
//!   RFC 6675); folding them would hide the loss;
//! - the ACK of a segment that fills a hole (RFC 5681 §4.2: immediately),
//!   which drives the peer's partial-ACK / recovery exit;
//! - SACK and D-SACK reports ride on those immediate ACKs (RFC 2018,
//!   RFC 2883): each reports one arrival;
//! - challenge ACKs (RFC 5961) and ACKs to unacceptable segments
//!   (RFC 9293 §3.10.7.4) — rate-limited, and a probe of our state;
//! - RSTs, SYN-ACKs and the ACK that completes our active open (RFC 9293
//!   §3.10.7.3): the handshake's round trip is on the critical path;
//! - the ACK of a FIN (RFC 9293 §3.10.7.4, eighth check): it is the last
//!   in-order segment, so it covers the batch anyway, and the peer's
//!   close timers wait on it;
//! - the answer to a zero-window probe and to data we could not take: the
//!   peer's persist timer waits for the window it carries;
//! - TCP_QUICKACK and a zero delayed-ACK timeout: the user asked for every
//!   data segment to be acknowledged as it arrives.
//!
//! Any ACK or data segment sent for a connection during the batch carries
//! RCV.NXT and so settles what was owed (output.rs `ack_sent`): a reply the
//! application sends in between piggybacks the ACK.

use super::tcb::Tcb;
use crate::config::MAX_DELAYED_ACK;
use crate::env::Env;
use crate::stack::{SocketId, Stack};

/// The batch in progress, if any: which connections owe an ACK at its end.
#[derive(Debug, Default)]
pub struct AckBatch {
    /// Between `Stack::begin_batch` and `Stack::end_batch`.
    pub active: bool,
    /// Connections that deferred an ACK (a connection may appear more
    /// than once; its `ack_batched` flag makes the flush send one ACK).
    pub owed: Vec<SocketId>,
}

impl Tcb {
    /// An ACK that only acknowledges in-order data (or announces a larger
    /// window) is due. Inside a batch it waits for the batch's end and
    /// this returns true; outside, it returns false and the caller sends
    /// it now as before.
    pub fn defer_ack_to_batch_end(&mut self, env: &mut Env) -> bool {
        if !env.ack_batch.active {
            return false;
        }
        if !self.ack_batched {
            self.ack_batched = true;
            env.ack_batch.owed.push(self.id);
        }
        // Should the driver never end the batch, the delayed-ACK timer
        // still sends it (RFC 9293 §3.8.6.3's bound holds regardless).
        if self.timers.delack.is_none() {
            let delay = env.config.tcp.delayed_ack.min(MAX_DELAYED_ACK);
            self.timers.delack = Some(env.now + delay);
        }
        true
    }
}

impl Stack {
    /// Send the one cumulative ACK each connection still owes from the
    /// batch (none if data or another ACK went out after its last
    /// deferral), then leave batch mode.
    pub(crate) fn flush_batch_acks(&mut self) {
        self.env.ack_batch.active = false;
        let mut owed = std::mem::take(&mut self.env.ack_batch.owed);
        for &id in &owed {
            let Some(t) = self.sockets.tcb_mut(id) else {
                continue; // the connection ended during the batch
            };
            if !std::mem::take(&mut t.ack_batched) {
                continue; // already acknowledged (piggybacked, or listed twice)
            }
            t.ack_now = true;
            // output(): anything sendable goes first and carries the ACK;
            // otherwise a pure ACK.
            t.output(&mut self.env);
            self.after_tcb(id);
        }
        owed.clear();
        // Keep the allocation for the next batch.
        self.env.ack_batch.owed = owed;
    }
}
