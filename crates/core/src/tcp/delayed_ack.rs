//! When to acknowledge received data (RFC 9293 §3.8.6.3, RFC 5681 §4.2,
//! RFC 1122 §4.2.3.2), the way Linux does it: at least every second
//! full-size segment (more than one "full-size" segment unacknowledged,
//! full-size being the largest segment seen so far), at once for
//! out-of-order data and for data that fills a hole (the sender's fast
//! retransmit and recovery run on those ACKs), and otherwise after the
//! delayed-ACK timeout — unless an outgoing segment carries the ACK first
//! (every segment we send acknowledges RCV.NXT and cancels the timer). In
//! quick-ACK mode every data segment is acknowledged at once.

use super::state::State;
use super::tcb::Tcb;
use crate::config::MAX_DELAYED_ACK;
use crate::env::Env;

impl Tcb {
    /// `len` bytes of in-order data were received; `hole_filled`: they
    /// joined data held out of order.
    pub fn ack_in_order_data(&mut self, env: &mut Env, len: u32, hole_filled: bool) {
        if len > self.rcv_seg_max {
            self.rcv_seg_max = len.min(self.rcv_mss);
        }
        let delay = env.config.tcp.delayed_ack.min(MAX_DELAYED_ACK);
        let unacked = self.rcv_nxt.since(self.last_ack_sent);
        if self.quickack || delay == 0 || hole_filled || self.recv_buf.has_ofo() {
            // Asked for per segment, or the peer's loss recovery runs on
            // it: never deferred to the end of a batch (ack_batch.rs).
            self.ack_now = true;
        } else if unacked > self.rcv_seg_max {
            // Only the ACK clock: inside a receive batch, one cumulative
            // ACK at its end (RFC 1122 §4.2.2.21).
            if !self.defer_ack_to_batch_end(env) {
                self.ack_now = true;
            }
        } else if self.timers.delack.is_none() {
            self.timers.delack = Some(env.now + delay);
        }
    }

    /// The delayed-ACK timer expired with the ACK still owed.
    pub fn on_delayed_ack(&mut self, env: &mut Env) {
        if matches!(self.state, State::Closed | State::Listen | State::SynSent) {
            return;
        }
        self.send_ack(env);
    }

    /// TCP_QUICKACK switched on or off; switching it on flushes an ACK
    /// that was being delayed.
    pub fn set_quickack(&mut self, env: &mut Env, on: bool) {
        self.quickack = on;
        if on && self.timers.delack.is_some() {
            self.timers.delack = None;
            self.on_delayed_ack(env);
        }
    }
}
