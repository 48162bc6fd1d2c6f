//! Timer expiry for one connection: retransmission timeout with backoff
//! and give-up (RFC 6298 §5, RFC 9293 §3.8.3), the persist timer that
//! probes a zero window (RFC 9293 §3.8.6.1), keepalive (RFC 9293
//! §3.8.4), the user timeout (RFC 5482, Linux TCP_USER_TIMEOUT) that
//! bounds all three, and the end of TIME_WAIT (2×MSL) or an orphan's
//! FIN_WAIT_2.

use super::state::State;
use super::tcb::Tcb;
use crate::env::Env;
use crate::error::Error;
use crate::event::{CongestionCause, Event, WindowEvent};
use crate::time::Instant;

fn due(t: &mut Option<Instant>, now: Instant) -> bool {
    match *t {
        Some(at) if at <= now => {
            *t = None;
            true
        }
        _ => false,
    }
}

impl Tcb {
    /// Run every timer due at `env.now`.
    pub fn on_timer(&mut self, env: &mut Env) {
        let now = env.now;
        if due(&mut self.timers.close, now) {
            match self.state {
                State::TimeWait => self.set_state(env, State::Closed),
                State::FinWait2 if self.orphan => self.terminate(env, None),
                _ => {}
            }
        }
        if self.state == State::Closed {
            return;
        }
        if due(&mut self.timers.delack, now) {
            self.on_delayed_ack(env);
        }
        if due(&mut self.timers.rtx, now) {
            self.timers.tlp = None;
            self.on_rto(env);
        }
        if due(&mut self.timers.tlp, now) {
            self.on_tail_loss_probe(env);
        }
        if self.state == State::Closed {
            return;
        }
        if due(&mut self.timers.persist, now) {
            self.on_persist(env);
        }
        if self.state == State::Closed {
            return;
        }
        if due(&mut self.timers.keepalive, now) {
            self.on_keepalive(env);
        }
    }

    fn on_rto(&mut self, env: &mut Env) {
        let tcp = &env.config.tcp;
        match self.state {
            State::SynSent | State::SynReceived => {
                let limit = if self.state == State::SynReceived && self.parent.is_some() {
                    tcp.synack_retries
                } else {
                    tcp.syn_retries
                };
                env.stats.tcp_timeouts += 1;
                if self.retries >= limit {
                    env.stats.tcp_attempt_fails += 1;
                    let error = self.soft_error.unwrap_or(Error::TimedOut);
                    return self.terminate(env, Some(error));
                }
                self.retries += 1;
                self.rtt.back_off();
                self.send_syn(env);
                self.timers.rtx = Some(env.now + self.rtt.rto());
                env.stats.tcp_retrans_segs += 1;
                self.total_retransmits += 1;
                let ev = Event::Retransmit {
                    id: self.id,
                    seq: self.iss.0,
                    len: 0,
                    attempt: self.retries,
                    rto_us: self.rtt.rto(),
                };
                // Retransmitted SYN-ACKs of half-open children are shown too.
                if !self.orphan {
                    env.events.push_back(ev);
                }
            }
            _ if self.snd_una != self.snd_max => {
                env.stats.tcp_timeouts += 1;
                // The peer shrank its window to zero under our outstanding
                // data (RFC 9293 §3.8.6: it SHOULD NOT, MUST-34 says cope).
                // The retransmission below is then a zero-window probe
                // (MUST-35; resending beyond the window is MAY-7), and a
                // connection whose peer keeps answering its probes MUST
                // stay open (MUST-37) — nor SHOULD data beyond the right
                // edge time it out (SHLD-17). So the retry count does not
                // apply; like Linux's tcp_retransmit_timer, give up only
                // when nothing was heard from the peer for rto_max. An
                // orphan gets no such patience.
                let zero_window = self.snd_wnd == 0 && !self.orphan;
                let give_up = if zero_window {
                    env.now.saturating_sub(self.last_recv) > tcp.rto_max
                } else {
                    self.retries >= tcp.max_retries
                };
                if give_up || self.user_timed_out(env.now, self.progress_at) {
                    env.stats.tcp_abort_on_timeout += 1;
                    let error = self.soft_error.unwrap_or(Error::TimedOut);
                    return self.terminate(env, Some(error));
                }
                // Only the first timeout of a segment lowers ssthresh
                // (RFC 5681 §3.1).
                let first = self.retries == 0 && self.rtt.backoff() == 0;
                if !zero_window {
                    self.retries += 1;
                }
                // A receiver that dropped data it SACKed (RFC 2018 §8)
                // shows it by SACKing SND.UNA itself: trust no block then.
                if self.scoreboard.next_sacked(self.snd_una) == Some(self.snd_una) {
                    self.scoreboard.clear();
                }
                let (out, mss) = (self.outstanding(), self.eff_mss());
                self.cc.on_rto(env.now, out, mss, first);
                self.emit_congestion(env, CongestionCause::Timeout);
                self.in_recovery = false;
                self.sack_recovery = false;
                self.rxt_marks.clear();
                self.recover = self.snd_max - 1;
                self.dupacks = 0;
                self.limited_sent = 0;
                self.rtt.back_off();
                // Go back: everything after the head is resent as the
                // window reopens (snd_nxt rewinds; RFC 5681 §3.1 cwnd = 1 MSS).
                let seq = self.snd_una;
                let len = self.retransmit_head(env);
                let fin = self.fin_sent() && seq + len == self.send_buf.end_seq();
                self.snd_nxt = seq + len + fin as u32;
                self.timers.rtx = Some(self.clamp_to_user_timeout(env.now + self.rtt.rto()));
                self.emit(
                    env,
                    Event::Retransmit {
                        id: self.id,
                        seq: seq.0,
                        len,
                        attempt: if zero_window {
                            self.rtt.backoff()
                        } else {
                            self.retries
                        },
                        rto_us: self.rtt.rto(),
                    },
                );
            }
            _ => {}
        }
    }

    fn on_persist(&mut self, env: &mut Env) {
        // Every state that can still send data (CLOSING too: our FIN is
        // queued behind data when the peer's FIN crosses it).
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::LastAck
                | State::Closing
        ) {
            return;
        }
        let unsent = self.send_buf.end_seq().gt(self.snd_nxt);
        if self.snd_una != self.snd_max || !unsent {
            return;
        }
        if self.snd_wnd == 0 {
            self.probes_unanswered += 1;
            // A window may stay closed for ever while the peer answers
            // (RFC 9293 MUST-37); only unanswered probes count.
            if self.probes_unanswered > env.config.tcp.max_retries
                || (self.probes_unanswered > 1 && self.user_timed_out(env.now, self.last_recv))
            {
                env.stats.tcp_abort_on_timeout += 1;
                return self.terminate(env, Some(Error::TimedOut));
            }
            self.peer_window_zero(env);
            self.send_probe(env);
            env.stats.tcp_win_probe += 1;
            self.persist_backoff += 1;
            let next_us = self.persist_interval(env);
            self.timers.persist = Some(env.now + next_us);
            let probe = self.persist_backoff;
            self.emit_window(env, WindowEvent::Probe { probe, next_us });
        } else {
            // A window too small for Nagle/SWS to use: send what fits.
            self.output_with(env, true);
        }
    }

    fn on_keepalive(&mut self, env: &mut Env) {
        let Some(idle) = self.keepalive_idle else {
            return;
        };
        if !matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait2
        ) {
            return;
        }
        let now = env.now;
        if self.snd_una != self.snd_max || now < self.last_recv + idle {
            // Busy, or heard from the peer recently: check again later.
            let base = if self.snd_una != self.snd_max {
                now
            } else {
                self.last_recv
            };
            self.timers.keepalive = Some((base + idle).max(now + 1));
            return;
        }
        // With a user timeout it alone decides, once a probe went
        // unanswered (as Linux's tcp_keepalive_timer does).
        let give_up = if self.user_timeout > 0 {
            self.keepalive_probes > 0 && self.user_timed_out(now, self.last_recv)
        } else {
            self.keepalive_probes >= self.keepalive_max_probes
        };
        if give_up {
            env.stats.tcp_abort_on_timeout += 1;
            return self.terminate(env, Some(Error::TimedOut));
        }
        self.keepalive_probes += 1;
        self.send_probe(env);
        let next = now + self.keepalive_interval.max(1);
        self.timers.keepalive = Some(if self.user_timeout > 0 {
            next.min(self.last_recv + self.user_timeout).max(now + 1)
        } else {
            next
        });
    }

    /// Arm the retransmission timer if it is not running: a new flight
    /// starts, and with it the user timeout's clock.
    pub fn arm_rtx(&mut self, env: &Env) {
        if self.timers.rtx.is_none() {
            self.progress_at = env.now;
            self.timers.rtx = Some(env.now + self.rtt.rto());
        }
    }

    /// The user timeout (if set) has passed since `since`.
    fn user_timed_out(&self, now: Instant, since: Instant) -> bool {
        self.user_timeout > 0 && now.saturating_sub(since) >= self.user_timeout
    }

    /// A retransmission deadline no later than the user timeout's, so the
    /// connection gives up on time rather than at the next backed-off RTO
    /// (Linux's tcp_clamp_rto_to_user_timeout).
    pub(crate) fn clamp_to_user_timeout(&self, at: Instant) -> Instant {
        if self.user_timeout == 0 {
            return at;
        }
        at.min(self.progress_at + self.user_timeout)
            .max(self.progress_at + 1)
    }

    /// Start (or restart) keepalive checking from now.
    pub fn arm_keepalive(&mut self, env: &Env) {
        self.timers.keepalive = self
            .keepalive_idle
            .map(|idle| env.now.max(self.last_recv) + idle.max(1));
    }
}
