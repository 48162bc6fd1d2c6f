//! Sending (RFC 9293 §3.8.6, RFC 5681, RFC 896): what may go out now given
//! the peer's window, the congestion window, Nagle and sender-side silly
//! window avoidance; the SYN, ACK and RST segments; piggybacked ACKs.

use super::options::OutOptions;
use super::segment::{SegmentOut, ACK, FIN, PSH, RST, SYN, URG};
use super::seq::Seq;
use super::state::State;
use super::tcb::Tcb;
use crate::env::Env;
use crate::event::{ChallengeTrigger, Note, ResetReason};
use crate::time::{Instant, MILLIS};
use std::net::SocketAddrV4;

/// Least interval between ACKs for unacceptable zero-length segments.
pub const OOW_ACK_INTERVAL: Instant = 500 * MILLIS;

impl Tcb {
    /// Options of a non-SYN segment: timestamps once negotiated (RST
    /// included, RFC 7323 §3.2), SACK blocks on ACKs when there is a
    /// duplicate (D-SACK, RFC 2883) or out-of-order data to report.
    fn options(&mut self, env: &Env, flags: u8) -> OutOptions {
        let mut o = OutOptions::default();
        if self.ts_ok {
            o.timestamps = Some((self.ts_val(env.now), self.ts_recent));
        }
        if self.sack_ok && flags & (ACK | RST) == ACK {
            if let Some((l, r)) = self.dsack.take() {
                o.sack.push(l, r);
            }
            self.recv_buf.sack_blocks(&mut o.sack);
        }
        o
    }

    /// An ACK is going out (alone or piggybacked): nothing is owed any more.
    fn ack_sent(&mut self) {
        self.last_ack_sent = self.rcv_nxt;
        self.ack_now = false;
        self.ack_batched = false;
        self.timers.delack = None;
    }

    /// A segment without payload from the connection's current state.
    fn control(&mut self, env: &mut Env, seq: Seq, flags: u8) {
        let window = self.advertise(env);
        let options = self.options(env, flags);
        let ack = if flags & ACK != 0 {
            self.ack_sent();
            self.rcv_nxt
        } else {
            Seq(0)
        };
        let urgent = if flags & RST == 0 {
            self.urgent_pointer(seq)
        } else {
            None
        };
        let seg = SegmentOut {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq,
            ack,
            flags: flags | if urgent.is_some() { URG } else { 0 },
            window,
            urgent: urgent.unwrap_or(0),
            tos: self.tos,
            options,
            payload: (&[], &[]),
        };
        env.send_tcp(self.local, self.remote, &seg);
    }

    /// Send our SYN (active open) or SYN-ACK (passive or simultaneous
    /// open). Our SYN offers every option the configuration enables; a
    /// SYN-ACK carries only those the peer's SYN offered (RFC 7323 §1.3,
    /// RFC 2018 §2).
    pub fn send_syn(&mut self, env: &mut Env) {
        let tcp = &env.config.tcp;
        let syn_ack = self.state != State::SynSent;
        let options = if syn_ack {
            OutOptions {
                mss: Some(self.rcv_mss.min(u16::MAX as u32) as u16),
                wscale: self.wscale_ok.then_some(self.rcv_wscale),
                sack_permitted: self.sack_ok,
                timestamps: self.ts_ok.then(|| (self.ts_val(env.now), self.ts_recent)),
                sack: Default::default(),
            }
        } else {
            OutOptions {
                mss: Some(self.rcv_mss.min(u16::MAX as u32) as u16),
                wscale: tcp.window_scaling.then(|| self.wscale_offer()),
                sack_permitted: tcp.sack,
                timestamps: tcp.timestamps.then(|| (self.ts_val(env.now), 0)),
                sack: Default::default(),
            }
        };
        let flags = if syn_ack { SYN | ACK } else { SYN };
        let window = self.advertise_syn();
        let ack = if syn_ack {
            self.ack_sent();
            self.rcv_nxt
        } else {
            Seq(0)
        };
        let seg = SegmentOut {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq: self.iss,
            ack,
            flags,
            window,
            urgent: 0,
            tos: self.tos,
            options,
            payload: (&[], &[]),
        };
        env.send_tcp(self.local, self.remote, &seg);
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        self.ack_now = false;
        // Karn: only a SYN sent once can give an RTT sample.
        self.rtt_timing = if self.retries == 0 {
            Some((self.iss, env.now))
        } else {
            None
        };
        self.arm_rtx(env);
    }

    /// A pure ACK. Its sequence number is the highest sent, which every
    /// receiver finds acceptable even while we are resending older data.
    pub fn send_ack(&mut self, env: &mut Env) {
        self.control(env, self.snd_max, ACK);
    }

    /// An ACK in answer to an unacceptable segment of `seg_len` (RFC 9293
    /// §3.10.7.4). Zero-length ones are answered at most once per
    /// [`OOW_ACK_INTERVAL`] (Linux's tcp_invalid_ratelimit): two ends that
    /// disagree about the sequence space would otherwise ACK each other's
    /// ACKs forever. Returns whether the ACK went out.
    pub fn send_oow_ack(&mut self, env: &mut Env, seg_len: u32) -> bool {
        if seg_len == 0 {
            if self
                .oow_ack_at
                .is_some_and(|t| env.now < t + OOW_ACK_INTERVAL)
            {
                env.stats.tcp_ack_skipped += 1;
                return false;
            }
            self.oow_ack_at = Some(env.now);
        }
        self.send_ack(env);
        true
    }

    /// A challenge ACK (RFC 5961 §3.2, §4.2, §5.2), rate-limited per
    /// connection like any ACK to an unacceptable segment (§7). Per
    /// connection, not stack-wide: a global budget is a side channel that
    /// lets an off-path attacker count challenge ACKs (CVE-2016-5696).
    pub fn send_challenge_ack(&mut self, env: &mut Env, trigger: ChallengeTrigger) -> bool {
        if !self.send_oow_ack(env, 0) {
            return false;
        }
        env.stats.tcp_challenge_acks += 1;
        self.note(env, Note::ChallengeAck(trigger));
        true
    }

    /// A probe the peer must answer with an ACK carrying its window: an
    /// old sequence number and no data (what Linux sends for zero-window
    /// probes and keepalives).
    pub fn send_probe(&mut self, env: &mut Env) {
        self.control(env, self.snd_una - 1, ACK);
    }

    /// RST for an established connection we abort.
    pub fn send_rst(&mut self, env: &mut Env) {
        self.control(env, self.snd_max, RST | ACK);
    }

    /// Abort the connection with a RST, saying why, and end it.
    pub fn reset(&mut self, env: &mut Env, reason: ResetReason) {
        if matches!(self.state, State::Closed | State::SynSent | State::TimeWait) {
            return self.terminate(env, None);
        }
        self.send_rst(env);
        if matches!(self.state, State::Established | State::CloseWait) {
            env.stats.tcp_estab_resets += 1;
        }
        match reason {
            ResetReason::UnreadData => env.stats.tcp_abort_on_close += 1,
            ResetReason::DataAfterClose => env.stats.tcp_abort_on_data += 1,
            ResetReason::Aborted => {}
        }
        self.note(env, Note::ResetSent(reason));
        self.terminate(env, None);
    }

    /// Send up to `len` data bytes from `seq` (plus FIN when `fin` and all
    /// of them fit). Options can take room from the payload (SACK blocks
    /// beyond the timestamps the MSS already allows for), so this returns
    /// what actually went: (bytes, FIN sent).
    ///
    /// With `tso` (new data on a device with segmentation offload) the
    /// segment may carry up to `OffloadConfig::tso_max_payload` bytes,
    /// which the device cuts into segments of `room` bytes (the MSS less
    /// this segment's options, which every piece repeats).
    fn send_data(
        &mut self,
        env: &mut Env,
        seq: Seq,
        len: u32,
        fin: bool,
        tso: bool,
    ) -> (u32, bool) {
        let window = self.advertise(env);
        let options = self.options(env, ACK);
        // snd_mss ≥ MIN_MSS (88) and options ≤ 40 bytes: room ≥ 48.
        let room = self.snd_mss.saturating_sub(options.len() as u32).max(1);
        let max = if tso {
            let pieces = (env.config.offload.tso_max_payload / room).max(1);
            room.saturating_mul(pieces)
        } else {
            room
        };
        let (len, fin) = if len > max {
            // Cut at a multiple of `room`, so every piece on the wire is full.
            (max - max % room, false)
        } else {
            (len, fin)
        };
        let mut flags = ACK;
        if fin {
            flags |= FIN;
        }
        if len > 0 {
            flags |= PSH;
        }
        let urgent = self.urgent_pointer(seq);
        if urgent.is_some() {
            flags |= URG;
        }
        self.ack_sent();
        let (a, b) = self.send_buf.slices(seq, len as usize);
        let seg = SegmentOut {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq,
            ack: self.rcv_nxt,
            flags,
            window,
            urgent: urgent.unwrap_or(0),
            tos: self.tos,
            options,
            payload: (a, b),
        };
        let gso = if len > room {
            u16::try_from(room).unwrap_or(u16::MAX)
        } else {
            0
        };
        env.send_tcp_gso(self.local, self.remote, &seg, gso);
        (len, fin)
    }

    /// Longest new-data segment for this connection: several MSS when the
    /// device segments (TSO), one otherwise.
    fn segment_cap(&self, env: &Env, mss: u32) -> u32 {
        let tso = env.config.offload.tso_max_payload;
        // Urgent data goes MSS by MSS: the device would copy one urgent
        // pointer into every piece.
        if tso > mss && !self.urgent_mode() {
            mss * (tso / mss)
        } else {
            mss
        }
    }

    /// A TSO length `len` (more than one MSS) trimmed the way Linux's
    /// tcp_mss_split_point does, so the wire sees what MSS-at-a-time
    /// sending would: limited by a window or the cap, a whole number of
    /// MSS; with all queued data, the runt tail only if Nagle/cork would
    /// let it go right behind the full segments (then it goes alone, by the
    /// one-MSS rules, on a later pass).
    fn tso_split(&self, len: u32, avail: u32, mss: u32) -> u32 {
        if len <= mss {
            return len;
        }
        let tail = len % mss;
        if len < avail {
            return len - tail;
        }
        let hold_tail =
            (self.cork || !self.nodelay) && !self.send_buf.fin_queued && !self.urgent_mode();
        if hold_tail {
            len - tail
        } else {
            len
        }
    }

    /// Retransmit the oldest unacknowledged segment (fast retransmit and
    /// NewReno partial ACKs); snd_nxt is left alone.
    pub fn retransmit_head(&mut self, env: &mut Env) -> u32 {
        // Only what was sent before: a segment first sent short (Nagle,
        // room taken by SACK blocks) must not grow past SND.MAX here,
        // where SND.MAX would not follow.
        let mut end = self.snd_max;
        // Only the hole: never resend bytes the peer SACKed.
        if let Some(s) = self.scoreboard.next_sacked(self.snd_una) {
            if s.gt(self.snd_una) {
                end = s;
            }
        }
        self.retransmit_range(env, self.snd_una, end)
    }

    /// Resend one segment of the sent range `[seq, end)` (the FIN too if
    /// it is the range's last octet); returns the sequence space resent.
    pub(crate) fn retransmit_range(&mut self, env: &mut Env, seq: Seq, end: Seq) -> u32 {
        let data_end = self.send_buf.end_seq();
        let len = end.min(data_end).since(seq).min(self.eff_mss());
        let fin = self.fin_sent() && seq + len == data_end && end.gt(data_end);
        if len == 0 && !fin {
            return 0;
        }
        let (len, fin) = self.send_data(env, seq, len, fin, false);
        self.note_retransmit(seq, seq + len + fin as u32);
        self.rtt_timing = None;
        self.rtx_ts = Some(self.ts_val(env.now));
        env.stats.tcp_retrans_segs += 1;
        self.total_retransmits += 1;
        len + fin as u32
    }

    /// Loss recovery on the SACK scoreboard (RFC 6675 §5 step C): while
    /// cwnd − pipe ≥ 1 MSS, send what NextSeg picks — a lost hole, else
    /// new data, else a hole not yet deemed lost, else one rescue
    /// retransmission of the tail — so several holes are repaired in one
    /// round trip.
    fn sack_recovery_output(&mut self, env: &mut Env) {
        let mss = self.eff_mss();
        loop {
            let una = self.snd_una;
            let rxt = self.high_rxt.max(una);
            let pipe = self.scoreboard.pipe(una, self.snd_max, rxt, mss);
            if self.cc.cwnd() < pipe.saturating_add(mss) {
                break;
            }
            let holes = self.scoreboard.holes_from(una, rxt, mss);
            // Rule 1: a lost hole.
            if let Some((s, e)) = holes.lost {
                let n = self.retransmit_range(env, s, e);
                self.high_rxt = s + n;
                if n == 0 {
                    break;
                }
                continue;
            }
            // Rule 2: new data, if the peer's window and SWS/Nagle allow.
            if self.send_new_segment(env, mss) {
                continue;
            }
            // Rule 3: a hole not yet deemed lost.
            if let Some((s, e)) = holes.other {
                let n = self.retransmit_range(env, s, e);
                self.high_rxt = s + n;
                if n == 0 {
                    break;
                }
                continue;
            }
            // Rule 4: once per recovery, the tail above the highest SACK
            // (a lost tail produces no SACK blocks to find it by).
            let top = self.scoreboard.highest().unwrap_or(una).max(rxt);
            if self.rescue_rxt.is_none_or(|r| una.gt(r)) && top.lt(self.snd_max) {
                let start = top.max(self.snd_max - mss);
                self.retransmit_range(env, start, self.snd_max);
                self.rescue_rxt = Some(self.recover);
            }
            break;
        }
    }

    /// One segment of unsent data (or the FIN) at SND.MAX, if the peer's
    /// window, sender SWS avoidance and Nagle allow it.
    pub(crate) fn send_new_segment(&mut self, env: &mut Env, mss: u32) -> bool {
        let data_end = self.send_buf.end_seq();
        let seq = self.snd_max;
        if seq.gt(data_end) {
            return false; // FIN already sent
        }
        let usable = (self.snd_una + self.snd_wnd).since(seq);
        let avail = data_end.since(seq);
        let len = usable.min(avail).min(mss);
        let fin = self.send_buf.fin_queued && len == avail;
        if len == 0 && !fin {
            return false;
        }
        if len < mss
            && len > 0
            && (len < avail
                || ((self.cork || !self.nodelay)
                    && !self.send_buf.fin_queued
                    && !self.urgent_mode()))
        {
            return false;
        }
        let (len, fin) = self.send_data(env, seq, len, fin, false);
        self.bytes_sent += len as u64;
        self.last_data_sent = env.now;
        self.snd_max = seq + len + fin as u32;
        self.snd_nxt = self.snd_max;
        true
    }

    pub(crate) fn can_send_data(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::LastAck
                | State::Closing
        )
    }

    /// Send whatever the windows, Nagle and SWS avoidance allow, then an
    /// ACK if one is still owed.
    pub fn output(&mut self, env: &mut Env) {
        self.output_with(env, false);
    }

    /// Like `output`, but `force` sends one segment even if Nagle or
    /// sender SWS avoidance would wait (the persist timer's override).
    pub fn output_with(&mut self, env: &mut Env, force: bool) {
        if self.can_send_data() {
            let snd_max = self.snd_max;
            self.send_loop(env, force);
            if self.snd_max != snd_max {
                self.schedule_tail_loss_probe(env);
            }
        }
        if self.ack_now {
            match self.state {
                State::Closed | State::Listen | State::SynSent => self.ack_now = false,
                _ => self.send_ack(env),
            }
        }
    }

    fn send_loop(&mut self, env: &mut Env, force: bool) {
        if self.in_recovery && self.sack_recovery && !force {
            return self.sack_recovery_output(env);
        }
        let data_end = self.send_buf.end_seq();
        let mss = self.eff_mss();
        self.restart_after_idle(env, data_end);
        loop {
            if self.snd_nxt.gt(data_end) {
                break; // FIN already sent
            }
            let resend = self.snd_nxt.lt(self.snd_max);
            if resend && !self.scoreboard.is_empty() {
                // Going back after a timeout: skip what the peer SACKed.
                let next = self.scoreboard.skip_sacked(self.snd_nxt);
                if next != self.snd_nxt {
                    self.snd_nxt = next.min(self.snd_max);
                    continue;
                }
            }
            let flight = self.in_flight();
            // Limited transmit (RFC 3042): each of the first two duplicate
            // ACKs lets one new segment out, so a small window still
            // produces the third duplicate ACK that fast retransmit needs.
            let limited = if self.in_recovery {
                0
            } else {
                self.dupacks.min(2) * mss
            };
            let wnd = self.snd_wnd.min(self.cc.cwnd().saturating_add(limited));
            let usable = wnd.saturating_sub(flight);
            let avail = data_end.since(self.snd_nxt);
            // New data may go as one TSO segment of several MSS; resent
            // data goes one MSS at a time (a hole is rarely longer).
            let cap = if resend {
                mss
            } else {
                self.segment_cap(env, mss)
            };
            let mut len = usable.min(avail).min(cap);
            if resend {
                if let Some(s) = self.scoreboard.next_sacked(self.snd_nxt) {
                    len = len.min(s.since(self.snd_nxt));
                }
            } else {
                len = self.tso_split(len, avail, mss);
            }
            let fin = self.send_buf.fin_queued && len == avail;
            if len == 0 && !fin {
                break;
            }
            if !force && !resend && len < mss && len > 0 {
                if len < avail {
                    // Window-limited runt: sender SWS avoidance.
                    if len < self.max_snd_wnd / 2 {
                        break;
                    }
                } else if (self.cork || (!self.nodelay && flight > 0))
                    && !self.send_buf.fin_queued
                    && !self.urgent_mode()
                {
                    // Nagle: one small segment in flight at a time; TCP_CORK:
                    // none at all, in flight or not (never for urgent data
                    // or the FIN, as Linux's tcp_nagle_test). A corked
                    // runt goes when the persist timer fires (below).
                    break;
                }
            }
            let seq = self.snd_nxt;
            let (len, fin) = self.send_data(env, seq, len, fin, !resend);
            if !resend {
                // What went beyond cwnd went by limited transmit.
                let over = (flight + len).saturating_sub(self.cc.cwnd());
                self.limited_sent = self.limited_sent.saturating_add(over.min(len));
            }
            self.snd_nxt = seq + len + fin as u32;
            if resend {
                self.rtx_ts = Some(self.ts_val(env.now));
                env.stats.tcp_retrans_segs += 1;
                self.total_retransmits += 1;
            } else if len > 0 {
                self.bytes_sent += len as u64;
            }
            if len > 0 {
                self.last_data_sent = env.now;
            }
            if self.snd_nxt.gt(self.snd_max) {
                if self.rtt_timing.is_none() && !resend {
                    self.rtt_timing = Some((seq, env.now));
                }
                self.snd_max = self.snd_nxt;
            }
            self.arm_rtx(env);
            self.timers.persist = None;
            self.persist_backoff = 0;
            if force || fin {
                break;
            }
        }
        // Data waits but nothing is in flight to clock it out: the persist
        // timer makes sure a closed or tiny window is probed, and that a
        // corked runt goes out after max(RTO, rto_min) — Linux's 200 ms
        // TCP_CORK ceiling, which is its probe timer too.
        if self.snd_una == self.snd_max
            && self.send_buf.end_seq().gt(self.snd_nxt)
            && self.timers.rtx.is_none()
        {
            if self.snd_wnd == 0 {
                self.peer_window_zero(env);
            }
            if self.timers.persist.is_none() {
                self.timers.persist = Some(env.now + self.persist_interval(env));
            }
        }
    }

    /// Restart after idle (RFC 5681 §4.1): new data is about to go out,
    /// nothing is in flight and nothing was sent for longer than the RTO —
    /// the ACK clock is gone, so cwnd falls back to the restart window
    /// instead of releasing a full old window as one burst. Not while the
    /// peer's window is closed: nothing can go then, and each answered
    /// zero-window probe would restart it again.
    fn restart_after_idle(&mut self, env: &mut Env, data_end: Seq) {
        if self.snd_una == self.snd_max
            && self.snd_wnd > 0
            && self.bytes_sent > 0
            && data_end.gt(self.snd_nxt)
            && env.now.saturating_sub(self.last_data_sent) > self.rtt.rto()
        {
            if self.cc.on_idle_restart(self.eff_mss()) {
                self.emit_congestion(env, crate::event::CongestionCause::IdleRestart);
            }
            // Once per idle period.
            self.last_data_sent = env.now;
        }
    }

    /// TCP_CORK on or off. Uncorking sends what is held back at once,
    /// as far as Nagle (if on) and the windows allow (Linux's
    /// tcp_push_pending_frames after clearing TCP_NAGLE_CORK).
    pub fn set_cork(&mut self, env: &mut Env, on: bool) {
        self.cork = on;
        if !on {
            self.output(env);
        }
    }

    /// Persist interval: the RTO, doubled per unanswered probe, at most rto_max.
    pub fn persist_interval(&self, env: &Env) -> u64 {
        let base = self.rtt.rto().max(env.config.tcp.rto_min);
        base.saturating_mul(1u64 << self.persist_backoff.min(16))
            .min(env.config.tcp.rto_max)
    }
}

/// RST in reply to a segment that has no connection (RFC 9293 §3.10.7.1):
/// if it carried an ACK, `<SEQ=SEG.ACK><CTL=RST>`, otherwise
/// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
pub fn reply_rst(
    env: &mut Env,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    seg_seq: Seq,
    seg_ack: Option<Seq>,
    seg_len: u32,
) {
    let (seq, ack, flags) = match seg_ack {
        Some(a) => (a, Seq(0), RST),
        None => (Seq(0), seg_seq + seg_len, RST | ACK),
    };
    let seg = SegmentOut {
        src_port: local.port(),
        dst_port: remote.port(),
        seq,
        ack,
        flags,
        window: 0,
        urgent: 0,
        tos: 0,
        options: OutOptions::default(),
        payload: (&[], &[]),
    };
    env.send_tcp(local, remote, &seg);
}
