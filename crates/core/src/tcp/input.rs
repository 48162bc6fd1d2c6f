//! Segment arrival (RFC 9293 §3.10.7) for a connection that exists:
//! SYN_SENT processing, the sequence-number acceptability test, RST and
//! SYN checks (with RFC 5961's exact-match rule and challenge ACKs), ACK
//! processing (cumulative ACK, window update, duplicate ACKs, NewReno fast
//! recovery), segment text (in-order and reassembly) and FIN.

use super::output::reply_rst;
use super::reassembly::Inserted;
use super::sack::DUPTHRESH;
use super::segment::TcpHeader;
use super::seq::Seq;
use super::state::State;
use super::tcb::Tcb;
use crate::env::Env;
use crate::error::Error;
use crate::event::{
    ChallengeTrigger, CongestionCause, Event, Note, ResetOutcome, ResetReason, WindowEvent,
};

impl Tcb {
    /// Process one inbound segment. `accept_room`: for a passive child in
    /// SYN_RECEIVED, whether the listener's accept queue can take it.
    pub fn input(&mut self, env: &mut Env, seg: &TcpHeader, payload: &[u8], accept_room: bool) {
        self.last_recv = env.now;
        self.keepalive_probes = 0;
        match self.state {
            State::Closed | State::Listen => return,
            State::SynSent => {
                self.input_syn_sent(env, seg);
                return;
            }
            _ => {}
        }
        let mut seq = seg.seq;
        let mut data = payload;
        let mut syn = seg.syn();
        let mut fin = seg.fin();
        let seg_len = data.len() as u32 + syn as u32 + fin as u32;
        let wnd = self.rcv_adv.since(self.rcv_nxt);

        // Simultaneous open: our SYN_RECEIVED meets the peer's SYN-ACK. Treat
        // it as the ACK it also is (Linux does the same).
        if self.state == State::SynReceived
            && syn
            && seg.has_ack()
            && seq + 1 == self.rcv_nxt
            && !seg.rst()
        {
            syn = false;
            seq += 1;
            if data.is_empty() && !fin {
                return self.input_ack_and_text(env, seg, seq, data, fin, accept_room);
            }
        }

        // PAWS (RFC 7323 §5.3 R1) comes before the sequence check.
        if self.paws_rejects(env, seg, payload.len()) {
            env.stats.tcp_paws_rejected += 1;
            self.send_oow_ack(env, seg_len);
            return;
        }

        // Sequence-number check.
        if !acceptable(seq, seg_len - (seg.syn() && !syn) as u32, self.rcv_nxt, wnd) {
            if wnd == 0 && seq == self.rcv_nxt && !seg.rst() {
                // Zero window: still take the ACK (and tell the sender).
                data = &[];
                fin = false;
                syn = false;
                self.ack_now = true;
            } else {
                if self.state == State::SynReceived && syn && !seg.has_ack() && seq == self.irs {
                    // The peer did not get our SYN-ACK and repeated its SYN.
                    self.send_syn(env);
                    return;
                }
                if (seq + seg_len).le(self.rcv_nxt) {
                    env.stats.tcp_dup_segs += 1;
                    if self.sack_ok && !data.is_empty() {
                        // Report the duplicate (D-SACK, RFC 2883 §4).
                        self.dsack = Some((seq, seq + data.len() as u32));
                    }
                } else {
                    env.stats.tcp_in_errs += 1;
                }
                if self.state == State::TimeWait && fin {
                    // A retransmitted FIN: our last ACK was lost; restart 2MSL.
                    self.timers.close = Some(env.now + 2 * env.config.tcp.msl);
                }
                if seg.rst() {
                    self.note(env, Note::ResetReceived(ResetOutcome::OutOfWindow));
                } else if seg.syn() {
                    // Whatever its sequence number (RFC 5961 §4.2).
                    self.send_challenge_ack(env, ChallengeTrigger::Syn);
                } else {
                    self.send_oow_ack(env, seg_len);
                }
                return;
            }
        }

        // Trim what precedes rcv_nxt (already received) and what exceeds the window.
        if syn && seq.lt(self.rcv_nxt) {
            syn = false;
            seq += 1;
        }
        if seq.lt(self.rcv_nxt) {
            let skip = self.rcv_nxt.since(seq) as usize;
            if skip >= data.len() && !data.is_empty() {
                env.stats.tcp_dup_segs += 1;
            }
            if !data.is_empty() && !seg.rst() {
                // Partly a duplicate: ACK at once, reporting the old part.
                if self.sack_ok {
                    let end = (seq + data.len() as u32).min(self.rcv_nxt);
                    self.dsack = Some((seq, end));
                }
                self.ack_now = true;
            }
            if skip > data.len() {
                fin = false; // that FIN was already received
            }
            data = &data[skip.min(data.len())..];
            seq = self.rcv_nxt;
        }
        let room = (self.rcv_adv.since(seq) as usize).min(data.len());
        if room < data.len() {
            data = &data[..room];
            fin = false;
        }

        if seg.rst() {
            let outcome = if self.state == State::TimeWait && env.config.tcp.rfc1337 {
                // RFC 1337: a RST must not cut TIME_WAIT short, or an old
                // duplicate could be taken for part of a new incarnation.
                env.stats.tcp_rfc1337_ignored += 1;
                ResetOutcome::Ignored
            } else if seg.seq == self.rcv_nxt {
                ResetOutcome::Accepted
            } else {
                // In window but not exact: challenge ACK (RFC 5961 §3.2).
                self.send_challenge_ack(env, ChallengeTrigger::Rst);
                ResetOutcome::Challenged
            };
            self.note(env, Note::ResetReceived(outcome));
            if outcome == ResetOutcome::Accepted {
                self.reset_by_peer(env);
            }
            return;
        }
        if syn {
            // SYN in a synchronized state: challenge ACK (RFC 5961 §4.2).
            self.send_challenge_ack(env, ChallengeTrigger::Syn);
            return;
        }
        self.update_ts_recent(env, seg);
        self.input_ack_and_text(env, seg, seq, data, fin, accept_room);
    }

    fn input_ack_and_text(
        &mut self,
        env: &mut Env,
        seg: &TcpHeader,
        seq: Seq,
        data: &[u8],
        fin: bool,
        accept_room: bool,
    ) {
        if !seg.has_ack() {
            return;
        }
        if self.state == State::SynReceived {
            if !(self.snd_una.lt(seg.ack) && seg.ack.le(self.snd_max)) {
                reply_rst(env, self.local, self.remote, seq, Some(seg.ack), 0);
                return;
            }
            if self.parent.is_some() && !accept_room {
                // Accept queue full: Linux drops the ACK and keeps
                // retransmitting the SYN-ACK; the client believes it is
                // connected while we are still half-open.
                self.accept_overflow = true;
                env.stats.tcp_accept_queue_drops += 1;
                return;
            }
            self.snd_wnd = peer_window(self, seg);
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = seg.ack;
            self.set_state(env, State::Established);
            if self.active_open {
                self.emit(env, Event::Connected { id: self.id });
            }
            self.after_established(env);
        }
        if seg.ack.gt(self.snd_max) {
            // Acknowledges something never sent.
            env.stats.tcp_in_errs += 1;
            self.send_oow_ack(env, data.len() as u32 + fin as u32);
            return;
        }
        if seg.ack.lt(self.snd_una - self.max_snd_wnd) {
            // Older than any window the peer ever had open: not the peer
            // (RFC 5961 §5.2, as Linux's tcp_ack); drop and challenge.
            env.stats.tcp_old_acks += 1;
            self.send_challenge_ack(env, ChallengeTrigger::Ack);
            return;
        }
        self.probes_unanswered = 0;
        let sack_blocks = self.sack_ok && !seg.options.sack.is_empty();
        let mut newly_sacked = 0;
        if sack_blocks {
            let una = self.snd_una.max(seg.ack);
            newly_sacked = self
                .scoreboard
                .update(una, self.snd_max, seg.options.sack.as_slice());
        }
        let wnd = peer_window(self, seg);
        let classic_dupack = seg.ack == self.snd_una
            && data.is_empty()
            && !fin
            && wnd == self.snd_wnd
            && self.snd_max != self.snd_una;
        if seg.ack.gt(self.snd_una) {
            let ts_rtt = self.ts_rtt(env, seg);
            self.ack_new(env, seg.ack, ts_rtt);
        }
        // With SACK blocks, a duplicate ACK is one that SACKs something new,
        // whatever else it carries (RFC 6675 §2): the peer's data segments
        // count too. Without, the RFC 5681 definition.
        let dupack = if sack_blocks {
            newly_sacked > 0 && self.snd_max != self.snd_una
        } else {
            classic_dupack
        };
        if dupack {
            self.on_dupack(env);
        }
        self.detect_lost_retransmit(env);
        // Window update (RFC 9293 §3.10.7.4, fifth check).
        let fresh = self.snd_wl1.lt(seq) || (self.snd_wl1 == seq && self.snd_wl2.le(seg.ack));
        if seg.ack.ge(self.snd_una) && fresh {
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = seg.ack;
            if wnd > 0 {
                self.timers.persist = None;
                self.persist_backoff = 0;
                if self.peer_window_closed {
                    self.peer_window_closed = false;
                    self.emit_window(env, WindowEvent::Reopen { window: wnd });
                }
            }
        }
        match self.state {
            State::FinWait1 if self.fin_acked() => {
                self.set_state(env, State::FinWait2);
                if self.orphan {
                    self.timers.close = Some(env.now + 2 * env.config.tcp.msl);
                }
            }
            State::Closing if self.fin_acked() => {
                self.set_state(env, State::TimeWait);
                return;
            }
            State::LastAck if self.fin_acked() => {
                self.set_state(env, State::Closed);
                return;
            }
            _ => {}
        }

        // Urgent pointer (sixth check), before the text is queued.
        self.urgent_input(env, seg, seg.urgent, seq, data);
        if !data.is_empty() {
            match self.state {
                State::Established | State::FinWait1 | State::FinWait2 => {
                    if self.orphan {
                        // Nobody will ever read this: reset, as Linux does.
                        return self.reset(env, ResetReason::DataAfterClose);
                    }
                    self.receive_text(env, seq, data, fin);
                }
                _ => {} // after the peer's FIN: ignore
            }
        } else if fin {
            self.receive_text(env, seq, data, fin);
        }
        self.output(env);
    }

    /// Work due on entering ESTABLISHED (queued shutdown, queued data).
    fn after_established(&mut self, env: &mut Env) {
        self.retries = 0;
        self.rtt.reset_backoff();
        // RFC 6582 §3.2: recover starts at the ISS, so that a loss in the
        // very first window can be fast-retransmitted.
        self.recover = self.snd_una - 1;
        if self.send_buf.fin_queued {
            self.set_state(env, State::FinWait1);
        }
        if self.keepalive_idle.is_some() {
            self.arm_keepalive(env);
        }
    }

    fn input_syn_sent(&mut self, env: &mut Env, seg: &TcpHeader) {
        if seg.has_ack() && (seg.ack.le(self.iss) || seg.ack.gt(self.snd_max)) {
            if !seg.rst() {
                reply_rst(env, self.local, self.remote, seg.seq, Some(seg.ack), 0);
            }
            return;
        }
        if seg.rst() {
            if seg.has_ack() {
                env.stats.tcp_in_rsts += 1;
                env.stats.tcp_attempt_fails += 1;
                self.terminate(env, Some(Error::ConnectionRefused));
            }
            return;
        }
        if !seg.syn() {
            return;
        }
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq + 1;
        self.rcv_adv = self.rcv_nxt;
        self.negotiate(env, &seg.options);
        self.set_peer_mss(seg.options.mss, env.mss_limit());
        if seg.has_ack() {
            self.snd_wnd = seg.window as u32; // never scaled in a SYN
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
            let ts_rtt = self.ts_rtt(env, seg);
            self.ack_new(env, seg.ack, ts_rtt);
            self.set_state(env, State::Established);
            self.emit(env, Event::Connected { id: self.id });
            self.after_established(env);
            self.ack_now = true;
            self.output(env);
        } else {
            // Simultaneous open (RFC 9293 §3.5, figure 8).
            self.snd_wnd = seg.window as u32;
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = self.iss;
            self.set_state(env, State::SynReceived);
            self.send_syn(env);
        }
    }

    /// A valid RST (RFC 9293 §3.10.7.4, second check).
    fn reset_by_peer(&mut self, env: &mut Env) {
        env.stats.tcp_in_rsts += 1;
        let error = match self.state {
            State::SynReceived if self.parent.is_some() => None, // back to LISTEN: the child just goes
            State::SynReceived => Some(Error::ConnectionRefused),
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                env.stats.tcp_estab_resets += 1;
                Some(Error::ConnectionReset)
            }
            _ => None,
        };
        self.terminate(env, error);
    }

    /// Cumulative ACK of new data (snd_una < ack <= snd_max). `ts_rtt`:
    /// the RTT its timestamp echo measures, if any.
    pub fn ack_new(&mut self, env: &mut Env, ack: Seq, ts_rtt: Option<u64>) {
        let acked = ack.since(self.snd_una);
        let data = self.send_buf.ack_to(ack) as u32;
        self.bytes_acked += data as u64;
        self.snd_una = ack;
        self.soft_error = None;
        self.urgent_acked();
        self.scoreboard.ack_to(ack);
        self.rxt_marks.ack_to(ack);
        if self.snd_nxt.lt(ack) {
            self.snd_nxt = ack;
        }
        // RTT: from the timed segment when it is covered (µs precision);
        // otherwise from the timestamp echo when nothing is being timed —
        // notably the ACK of a retransmission, which Karn's rule leaves
        // without a sample unless timestamps say which copy arrived.
        match self.rtt_timing {
            Some((s, t)) if ack.gt(s) => {
                self.rtt.sample(env.now.saturating_sub(t));
                self.rtt_timing = None;
            }
            None => {
                if let Some(r) = ts_rtt {
                    self.rtt.sample(r);
                }
            }
            Some(_) => {}
        }
        self.retries = 0;
        self.tlp_out = false;
        self.rtt.reset_backoff();
        let mss = self.eff_mss();
        if self.in_recovery {
            // A full ACK covers everything up to and including recover.
            if ack.gt(self.recover) {
                self.in_recovery = false;
                self.sack_recovery = false;
                self.rxt_marks.clear();
                let out = self.outstanding();
                self.cc.on_recovery_exit(out, mss);
                self.emit_congestion(env, CongestionCause::RecoveryExit);
            } else if !self.sack_recovery {
                // Partial ACK (RFC 6582 §3.2 step 3): the next hole.
                self.cc.on_partial_ack(acked, mss);
                self.retransmit_head(env);
            }
            // (With SACK, output() sends whatever the pipe allows.)
        } else if data > 0 {
            self.cc.on_ack(env.now, data, mss, self.rtt.srtt());
        }
        self.dupacks = 0;
        self.limited_sent = 0;
        self.progress_at = env.now;
        self.timers.rtx = if self.snd_una == self.snd_max {
            None
        } else {
            Some(env.now + self.rtt.rto())
        };
        self.schedule_tail_loss_probe(env);
        if self.want_writable && self.send_buf.free() >= self.send_buf.limit() / 2 {
            self.want_writable = false;
            self.emit(env, Event::Writable { id: self.id });
        }
        if (data > 0 || self.fin_acked()) && self.flushed() && self.state.is_synchronized() {
            self.emit(env, Event::Flushed { id: self.id });
        }
    }

    fn on_dupack(&mut self, env: &mut Env) {
        self.dupacks += 1;
        let mss = self.eff_mss();
        if self.in_recovery {
            if !self.sack_recovery {
                self.cc.on_dupack_in_recovery(mss);
            }
            return;
        }
        // Fast retransmit on the third duplicate ACK, or as soon as the
        // scoreboard shows the first unacknowledged segment lost (RFC 6675
        // §5 step 2) — but only beyond what the last recovery or timeout
        // covered (RFC 6582).
        let lost = !self.scoreboard.is_empty() && self.scoreboard.is_lost(self.snd_una, mss);
        if (self.dupacks >= DUPTHRESH || lost) && self.snd_una.gt(self.recover) {
            self.in_recovery = true;
            // RFC 6582: recover is the highest sequence number sent (the
            // last octet, SND.MAX - 1), so that a loss right after a
            // recovery can start the next fast retransmit.
            self.recover = self.snd_max - 1;
            // RFC 5681 §3.2 step 2: data sent by limited transmit MUST NOT
            // be counted in the FlightSize that halves into ssthresh.
            let out = self.outstanding().saturating_sub(self.limited_sent);
            self.limited_sent = 0;
            self.sack_recovery = self.sack_ok && !self.scoreboard.is_empty();
            self.rxt_marks.clear();
            if self.sack_recovery {
                self.cc.on_sack_recovery(env.now, out, mss);
                self.emit_congestion(env, CongestionCause::SackRecovery);
            } else {
                self.cc.on_fast_retransmit(env.now, out, mss);
                self.emit_congestion(env, CongestionCause::FastRecovery);
            }
            let seq = self.snd_una;
            let len = self.retransmit_head(env);
            // RFC 6675 step 4.3.
            self.high_rxt = seq + len;
            self.rescue_rxt = Some(self.high_rxt);
            // attempt 0 marks a fast retransmit (no timeout involved).
            self.emit(
                env,
                Event::Retransmit {
                    id: self.id,
                    seq: seq.0,
                    len,
                    attempt: 0,
                    rto_us: self.rtt.rto(),
                },
            );
            self.timers.rtx = Some(env.now + self.rtt.rto());
        }
    }

    /// In-window text and/or FIN starting at `seq` (>= rcv_nxt).
    fn receive_text(&mut self, env: &mut Env, seq: Seq, data: &[u8], fin: bool) {
        if !data.is_empty() {
            let end = seq + data.len() as u32;
            let hole = self.recv_buf.has_ofo();
            if self.sack_ok && seq.gt(self.rcv_nxt) && self.recv_buf.ofo_contains(seq, end) {
                self.dsack = Some((seq, end)); // a duplicate of held data
            }
            match self.recv_buf.insert(self.rcv_nxt, seq, data) {
                Inserted::InOrder(n) => {
                    self.rcv_nxt += n;
                    self.bytes_received += n as u64;
                    if n > 0 {
                        self.signal_readable(env);
                    }
                    self.ack_in_order_data(env, data.len() as u32, hole);
                }
                Inserted::OutOfOrder => {
                    env.stats.tcp_ofo_queued += 1;
                    self.ack_now = true;
                }
                Inserted::Dropped => {
                    env.stats.tcp_in_errs += 1;
                    self.ack_now = true;
                }
            }
        }
        if fin {
            let fin_seq = seq + data.len() as u32;
            if fin_seq == self.rcv_nxt {
                self.receive_fin(env);
            } else if fin_seq.gt(self.rcv_nxt) {
                self.recv_buf.ofo_fin = Some(fin_seq);
                self.ack_now = true;
            }
        }
        if let Some(f) = self.recv_buf.ofo_fin {
            if f == self.rcv_nxt && !self.fin_received {
                self.receive_fin(env);
            }
        }
    }

    fn receive_fin(&mut self, env: &mut Env) {
        if self.fin_received {
            return;
        }
        self.fin_received = true;
        self.recv_buf.ofo_fin = None;
        self.rcv_nxt += 1;
        self.ack_now = true;
        match self.state {
            State::SynReceived | State::Established => self.set_state(env, State::CloseWait),
            State::FinWait1 => {
                if self.fin_acked() {
                    self.set_state(env, State::TimeWait);
                } else {
                    self.set_state(env, State::Closing);
                }
            }
            State::FinWait2 => self.set_state(env, State::TimeWait),
            _ => {}
        }
        self.signal_readable(env);
    }
}

/// The peer's window in bytes: scaled, except in a SYN (RFC 7323 §2.2;
/// a SYN-ACK reaches here in a simultaneous open).
fn peer_window(t: &Tcb, seg: &TcpHeader) -> u32 {
    if seg.syn() {
        seg.window as u32
    } else {
        (seg.window as u32) << t.snd_wscale
    }
}

/// RFC 9293 §3.10.7.4's four-case acceptability test, with one relaxation
/// Linux (`tcp_sequence`) and FreeBSD also make: a zero-length segment
/// exactly at the right window edge is accepted. A sender that filled our
/// window sends its pure ACKs with SEG.SEQ = RCV.NXT + RCV.WND; refusing them
/// would throw away the ACK field (and duplicate ACKs) while our own data
/// is in flight, forcing needless timeouts.
fn acceptable(seq: Seq, len: u32, rcv_nxt: Seq, wnd: u32) -> bool {
    let end = rcv_nxt + wnd;
    match (len, wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_range(rcv_nxt, end) || seq == end,
        (_, 0) => false,
        _ => seq.in_range(rcv_nxt, end) || (seq + len - 1).in_range(rcv_nxt, end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptability_cases() {
        let n = Seq(1000);
        assert!(acceptable(n, 0, n, 0));
        assert!(!acceptable(n + 1, 0, n, 0));
        assert!(acceptable(n + 99, 0, n, 100));
        assert!(acceptable(n + 100, 0, n, 100), "pure ACK at the right edge");
        assert!(!acceptable(n + 101, 0, n, 100));
        assert!(!acceptable(n, 1, n, 0));
        assert!(acceptable(n - 10, 20, n, 100), "overlaps the left edge");
        assert!(!acceptable(n - 10, 10, n, 100), "entirely old");
        assert!(!acceptable(n + 100, 5, n, 100));
    }
}
