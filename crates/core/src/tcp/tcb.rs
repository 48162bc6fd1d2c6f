//! The transmission control block (RFC 9293 §3.3.1): everything one
//! connection knows. Segment arrival is in input.rs, sending in output.rs,
//! timer expiry in retransmit.rs; this file holds the state and the small
//! helpers they share (state transitions, events, windows).

use super::cc::Controller;
use super::lost_retransmit::RetransmitMarks;
use super::options::{TcpOptions, MAX_WSCALE, TIMESTAMPS_LEN};
use super::reassembly::RecvBuffer;
use super::rtt::RttEstimator;
use super::sack::Scoreboard;
use super::send_buffer::SendBuffer;
use super::seq::Seq;
use super::state::State;
use super::timers::Timers;
use super::urgent::Urgent;
use crate::config::MAX_BUFFER;
use crate::env::Env;
use crate::error::Error;
use crate::event::{CongestionCause, Event, Note, ResetReason, WindowEvent};
use crate::stack::{SocketId, TcpInfo};
use crate::time::Instant;
use std::net::SocketAddrV4;

/// MSS assumed when the peer sends no MSS option (RFC 9293 §3.7.1).
pub const DEFAULT_MSS: u32 = 536;
/// Largest unscaled window.
pub const MAX_WINDOW: u32 = 65_535;

/// The smallest window shift that lets the window cover a receive buffer
/// of `limit` bytes (RFC 7323 §2.3: at most 14).
pub fn wscale_for(limit: usize) -> u8 {
    let mut s = 0;
    while s < MAX_WSCALE && (MAX_WINDOW as usize) << s < limit {
        s += 1;
    }
    s
}

/// One TCP connection.
#[derive(Debug)]
pub struct Tcb {
    pub id: SocketId,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub state: State,
    /// Why the connection ended, if it did not end cleanly.
    pub error: Option<Error>,
    /// The last ICMP error that did not end the connection (RFC 1122
    /// §4.2.3.9 "soft" errors): reported instead of ETIMEDOUT if the
    /// retransmissions give up, as Linux's sk_err_soft. Progress clears it.
    pub soft_error: Option<Error>,
    /// The DS field of what we send (IP_TOS; RFC 9293 MUST-48), DSCP
    /// bits only: the ECN bits are the stack's, as Linux masks them.
    pub tos: u8,
    /// The listener while this is a half-open or not-yet-accepted child.
    pub parent: Option<SocketId>,
    /// Completed and waiting in the parent's accept queue.
    pub in_accept_queue: bool,
    /// Released by the user: runs to completion silently, then is freed.
    pub orphan: bool,
    /// Opened by `tcp_connect` (a `Connected` event is due on ESTABLISHED).
    pub active_open: bool,
    /// Nagle's algorithm disabled.
    pub nodelay: bool,
    pub closed_reported: bool,
    pub readable_signalled: bool,
    pub want_writable: bool,
    /// An ACK must go out (piggybacked if data is sent anyway).
    pub ack_now: bool,
    /// An ACK of in-order data waits for the end of the receive batch
    /// (ack_batch.rs); any segment we send settles it.
    pub ack_batched: bool,
    /// The completing ACK was dropped because the accept queue was full.
    pub accept_overflow: bool,
    /// ACK every data segment at once (TCP_QUICKACK).
    pub quickack: bool,
    /// TCP_CORK: hold back segments shorter than the MSS (output.rs).
    pub cork: bool,
    /// The peer's zero window was reported ([`WindowEvent::Zero`]) and
    /// its reopening not yet.
    pub peer_window_closed: bool,
    /// The window we last advertised was zero.
    pub zero_window_advertised: bool,

    // Options (RFC 7323, RFC 2018). Before the handshake completes these
    // say what the peer's SYN offered; afterwards, what is in use.
    /// Window scaling in use (both SYNs carried the option).
    pub wscale_ok: bool,
    /// Timestamps in use.
    pub ts_ok: bool,
    /// SACK in use.
    pub sack_ok: bool,
    /// TSval = ts_offset + now in ms.
    pub ts_offset: u32,
    /// TS.Recent: the TSval to echo (RFC 7323 §4.3).
    pub ts_recent: u32,
    /// When TS.Recent was last set (PAWS's 24-day rule, RFC 7323 §5.5).
    pub ts_recent_stamp: Instant,
    /// Last.ACK.sent: the acknowledgment number of our latest segment.
    pub last_ack_sent: Seq,
    /// A duplicate to report first in the next SACK option (RFC 2883).
    pub dsack: Option<(Seq, Seq)>,
    /// What the peer SACKed of our data.
    pub scoreboard: Scoreboard,
    /// When we last answered an unacceptable zero-length segment.
    pub oow_ack_at: Option<Instant>,
    /// Largest segment received so far (Linux's rcv_mss): "full-size" for
    /// the ACK-every-second-segment rule.
    pub rcv_seg_max: u32,

    // Send sequence space (RFC 9293 §3.3.1).
    pub iss: Seq,
    pub snd_una: Seq,
    pub snd_nxt: Seq,
    /// Highest sequence number sent so far (snd_nxt rewinds on timeout).
    pub snd_max: Seq,
    pub snd_wnd: u32,
    pub snd_wl1: Seq,
    pub snd_wl2: Seq,
    pub max_snd_wnd: u32,
    pub snd_mss: u32,
    /// Shift applied to windows the peer advertises (RFC 7323; 0 until negotiated).
    pub snd_wscale: u8,
    pub send_buf: SendBuffer,

    // Receive sequence space.
    pub irs: Seq,
    pub rcv_nxt: Seq,
    /// Right edge of the window last advertised; never moves left.
    pub rcv_adv: Seq,
    /// MSS we advertise.
    pub rcv_mss: u32,
    /// Shift we apply to windows we advertise (0 until negotiated).
    pub rcv_wscale: u8,
    pub fin_received: bool,
    pub recv_buf: RecvBuffer,

    // Reliability and congestion.
    pub rtt: RttEstimator,
    /// Segment being timed for an RTT sample: (sequence, send time).
    pub rtt_timing: Option<(Seq, Instant)>,
    /// TSval of our latest retransmission: an echo older than that cannot
    /// tell which transmission an ACK answers.
    pub rtx_ts: Option<u32>,
    /// Consecutive expiries of the retransmission timer.
    pub retries: u32,
    pub dupacks: u32,
    /// Bytes sent by limited transmit (RFC 3042) since the last new ACK:
    /// they stay out of the FlightSize that sets ssthresh (RFC 5681 §3.2).
    pub limited_sent: u32,
    /// NewReno "recover" (RFC 6582): the highest sequence number sent
    /// when recovery (or the last timeout) began.
    pub recover: Seq,
    pub in_recovery: bool,
    /// This recovery runs on the SACK scoreboard (RFC 6675), not NewReno.
    pub sack_recovery: bool,
    /// HighRxt: end of what the SACK recovery has retransmitted.
    pub high_rxt: Seq,
    /// RescueRxt: set once the recovery's rescue retransmission went.
    pub rescue_rxt: Option<Seq>,
    /// This SACK recovery's retransmissions, to notice lost ones.
    pub rxt_marks: RetransmitMarks,
    /// A tail loss probe went out and no new data was acknowledged since.
    pub tlp_out: bool,
    pub cc: Controller,
    /// When data was last sent (restart after idle, RFC 5681 §4.1).
    pub last_data_sent: Instant,
    pub timers: Timers,
    pub persist_backoff: u32,
    /// Window probes sent since the peer last answered.
    pub probes_unanswered: u32,
    pub keepalive_idle: Option<u64>,
    pub last_recv: Instant,
    pub keepalive_probes: u32,
    /// Interval between unanswered keepalive probes, µs (TCP_KEEPINTVL).
    pub keepalive_interval: u64,
    /// Unanswered probes before giving up (TCP_KEEPCNT).
    pub keepalive_max_probes: u32,
    /// TCP_USER_TIMEOUT in µs (0 = off).
    pub user_timeout: u64,
    /// When the data now outstanding last made progress: the start of the
    /// flight, or the latest ACK of new data. The user timeout counts from it.
    pub progress_at: Instant,
    /// Urgent data (SND.UP, the receive mark), once used (urgent.rs).
    pub urgent: Option<Box<Urgent>>,

    // Counters for tcp_info.
    pub total_retransmits: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
}

impl Tcb {
    /// A CLOSED connection between `local` and `remote` with ISN `iss`.
    pub fn new(
        id: SocketId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: Seq,
        env: &Env,
    ) -> Tcb {
        let tcp = &env.config.tcp;
        let mss = env.mss_limit();
        let snd_mss = DEFAULT_MSS.min(mss);
        Tcb {
            id,
            local,
            remote,
            state: State::Closed,
            error: None,
            soft_error: None,
            tos: 0,
            parent: None,
            in_accept_queue: false,
            orphan: false,
            active_open: false,
            nodelay: false,
            closed_reported: false,
            readable_signalled: false,
            want_writable: false,
            ack_now: false,
            ack_batched: false,
            accept_overflow: false,
            quickack: tcp.quick_ack,
            cork: false,
            peer_window_closed: false,
            zero_window_advertised: false,
            wscale_ok: false,
            ts_ok: false,
            sack_ok: false,
            ts_offset: env.isn.ts_offset(local, remote),
            ts_recent: 0,
            ts_recent_stamp: env.now,
            last_ack_sent: Seq(0),
            dsack: None,
            scoreboard: Scoreboard::default(),
            oow_ack_at: None,
            rcv_seg_max: DEFAULT_MSS.min(mss),
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: Seq(0),
            max_snd_wnd: 0,
            snd_mss,
            snd_wscale: 0,
            send_buf: SendBuffer::new(tcp.send_buffer.clamp(1, MAX_BUFFER), iss + 1),
            irs: Seq(0),
            rcv_nxt: Seq(0),
            rcv_adv: Seq(0),
            rcv_mss: mss,
            rcv_wscale: 0,
            fin_received: false,
            recv_buf: RecvBuffer::new(tcp.recv_buffer.clamp(1, MAX_BUFFER)),
            rtt: RttEstimator::new(tcp.rto_initial, tcp.rto_min, tcp.rto_max),
            rtt_timing: None,
            rtx_ts: None,
            retries: 0,
            dupacks: 0,
            limited_sent: 0,
            recover: iss,
            in_recovery: false,
            sack_recovery: false,
            high_rxt: iss,
            rescue_rxt: None,
            rxt_marks: RetransmitMarks::default(),
            tlp_out: false,
            cc: {
                let mut cc = Controller::new(tcp.congestion_control, snd_mss);
                cc.set_abc_limit(tcp.abc_limit);
                cc
            },
            last_data_sent: env.now,
            timers: Timers::default(),
            persist_backoff: 0,
            probes_unanswered: 0,
            keepalive_idle: None,
            last_recv: env.now,
            keepalive_probes: 0,
            keepalive_interval: tcp.keepalive_interval,
            keepalive_max_probes: tcp.keepalive_probes,
            user_timeout: tcp.user_timeout,
            progress_at: env.now,
            urgent: None,
            total_retransmits: 0,
            bytes_acked: 0,
            bytes_received: 0,
            bytes_sent: 0,
        }
    }

    /// Visible to the user (accepted or actively opened, not released).
    #[inline]
    pub fn visible(&self) -> bool {
        !self.orphan && self.parent.is_none()
    }

    /// Queue an event for the user, unless nobody is listening for it.
    pub fn emit(&self, env: &mut Env, ev: Event) {
        if self.visible() {
            env.events.push_back(ev);
        }
    }

    /// Report a diagnostic [`Note`] (for the opt-in 'tcp' events).
    pub fn note(&self, env: &mut Env, note: Note) {
        self.emit(env, Event::Note { id: self.id, note });
    }

    /// Report a flow-control moment (for the opt-in 'tcp' events).
    pub fn emit_window(&self, env: &mut Env, what: WindowEvent) {
        self.emit(env, Event::Window { id: self.id, what });
    }

    /// The peer's window is zero and data waits to be sent: report it
    /// once, until the window reopens.
    pub fn peer_window_zero(&mut self, env: &mut Env) {
        if !self.peer_window_closed {
            self.peer_window_closed = true;
            self.emit_window(env, WindowEvent::Zero);
        }
    }

    /// Report the window after a loss response (or restart after idle).
    pub fn emit_congestion(&self, env: &mut Env, cause: CongestionCause) {
        self.emit(
            env,
            Event::Congestion {
                id: self.id,
                cause,
                cwnd: self.cc.cwnd(),
                ssthresh: self.cc.ssthresh(),
            },
        );
    }

    /// Change state, reporting the transition (and the end of the
    /// connection when it ends).
    pub fn set_state(&mut self, env: &mut Env, to: State) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        if !self.orphan {
            env.events.push_back(Event::StateChanged {
                id: self.id,
                from,
                to,
            });
        }
        if from == State::TimeWait {
            env.time_wait.left();
        }
        match to {
            State::TimeWait => {
                env.time_wait.entered(self.id);
                self.timers.clear();
                self.timers.close = Some(env.now + 2 * env.config.tcp.msl);
                self.report_closed(env);
            }
            State::Closed => {
                self.timers.clear();
                self.report_closed(env);
            }
            _ => {}
        }
    }

    /// Report the end of the connection once (at TIME_WAIT or CLOSED,
    /// whichever comes first: the user's socket is done either way).
    pub fn report_closed(&mut self, env: &mut Env) {
        if !self.closed_reported {
            self.closed_reported = true;
            self.emit(
                env,
                Event::Closed {
                    id: self.id,
                    error: self.error,
                },
            );
        }
    }

    /// Tell the user there is something to read (edge-triggered: once
    /// until the next `tcp_recv`).
    pub fn signal_readable(&mut self, env: &mut Env) {
        if !self.readable_signalled {
            self.readable_signalled = true;
            self.emit(env, Event::Readable { id: self.id });
        }
    }

    /// End the connection with `error` (None = quietly).
    pub fn terminate(&mut self, env: &mut Env, error: Option<Error>) {
        if self.error.is_none() {
            self.error = error;
        }
        self.set_state(env, State::Closed);
    }

    /// Bytes sent and not yet acknowledged.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        self.snd_max.since(self.snd_una)
    }

    /// Bytes counted against the windows (snd_nxt rewinds after a timeout).
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.snd_nxt.since(self.snd_una)
    }

    /// Our FIN has been sent.
    #[inline]
    pub fn fin_sent(&self) -> bool {
        self.send_buf.fin_queued && self.snd_max.gt(self.send_buf.end_seq())
    }

    /// Our FIN has been acknowledged.
    #[inline]
    pub fn fin_acked(&self) -> bool {
        self.send_buf.fin_queued && self.snd_una.gt(self.send_buf.end_seq())
    }

    /// Everything queued (and the FIN, if any) is acknowledged.
    pub fn flushed(&self) -> bool {
        self.send_buf.is_empty() && self.snd_una == self.snd_max
    }

    /// Adopt the peer's MSS option (absent = 536), clamped to our link.
    /// Call after the options are negotiated (timestamps shrink segments).
    pub fn set_peer_mss(&mut self, mss: Option<u16>, limit: u32) {
        let m = mss.map(u32::from).unwrap_or(DEFAULT_MSS);
        self.snd_mss = m.clamp(crate::env::MIN_MSS, limit);
        self.cc.reset(self.eff_mss());
    }

    /// Payload of a full-size segment: the MSS less the options every
    /// segment carries (RFC 6691; Linux's mss_cache). The MSS option
    /// counts data only, so options must come out of it.
    #[inline]
    pub fn eff_mss(&self) -> u32 {
        if self.ts_ok {
            self.snd_mss - TIMESTAMPS_LEN as u32
        } else {
            self.snd_mss
        }
    }

    /// Adopt what the peer's SYN (or SYN-ACK) offered, where our
    /// configuration allows it. On a SYN-ACK, an option counts only if
    /// our SYN offered it too, which it does whenever the configuration
    /// allows it.
    pub fn negotiate(&mut self, env: &Env, opts: &TcpOptions) {
        let tcp = &env.config.tcp;
        match opts.wscale {
            Some(s) if tcp.window_scaling => {
                self.wscale_ok = true;
                self.snd_wscale = s;
                self.rcv_wscale = self.wscale_offer();
            }
            _ => {
                self.wscale_ok = false;
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.sack_ok = opts.sack_permitted && tcp.sack;
        match opts.timestamps {
            Some((val, _)) if tcp.timestamps => {
                self.ts_ok = true;
                self.ts_recent = val;
                self.ts_recent_stamp = env.now;
            }
            _ => self.ts_ok = false,
        }
    }

    /// The window scale we offer: the smallest shift that lets the
    /// window cover the whole receive buffer (RFC 7323 §2.3: at most 14).
    pub fn wscale_offer(&self) -> u8 {
        wscale_for(self.recv_buf.limit())
    }

    /// The window field of a SYN or SYN-ACK: never scaled (RFC 7323
    /// §2.2). Records the right edge it advertises.
    pub fn advertise_syn(&mut self) -> u16 {
        let wnd = self.recv_buf.free().min(MAX_WINDOW as usize) as u32;
        self.rcv_adv = self.rcv_nxt + wnd;
        wnd as u16
    }

    /// The window we could offer right now: free receive space, capped by
    /// what the header field (times our scale) can express.
    fn window_capacity(&self) -> u32 {
        let max = MAX_WINDOW << self.rcv_wscale;
        (self.recv_buf.free() as u64).min(max as u64) as u32
    }

    /// Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): the
    /// right edge only moves when it can move by min(buffer/2, Eff.snd.MSS).
    /// The sender's effective MSS is estimated, as Linux does, by the
    /// largest segment seen: with timestamps it is 12 bytes short of the
    /// MSS we advertised, and a threshold above the segment size would
    /// make every other ACK carry a different window.
    fn sws_threshold(&self) -> u32 {
        ((self.recv_buf.limit() / 2) as u32)
            .min(self.rcv_seg_max)
            .max(1)
    }

    /// The window to put in an outgoing segment (scaled); records the
    /// right edge the peer will compute from it. The edge never moves
    /// left: a window kept as it was is rounded up to the scale's unit,
    /// a window that grows is rounded down (like Linux's
    /// tcp_select_window). Counts and reports a window closing to zero
    /// or opening from it.
    pub fn advertise(&mut self, env: &mut Env) -> u16 {
        let field = self.select_window();
        let zero = field == 0;
        if zero != self.zero_window_advertised {
            self.zero_window_advertised = zero;
            if zero {
                env.stats.tcp_to_zero_window_adv += 1;
            } else {
                env.stats.tcp_from_zero_window_adv += 1;
                let window = u32::from(field) << self.rcv_wscale;
                self.emit_window(env, WindowEvent::Update { window });
            }
        }
        field
    }

    fn select_window(&mut self) -> u16 {
        let cur = self.rcv_adv.since(self.rcv_nxt);
        let cap = self.window_capacity();
        let s = self.rcv_wscale;
        let keep = cur.div_ceil(1 << s);
        let field = if cap > cur && cap - cur >= self.sws_threshold() {
            (cap >> s).max(keep)
        } else {
            keep
        };
        let field = field.min(MAX_WINDOW);
        self.rcv_adv = self.rcv_nxt + (field << s);
        field as u16
    }

    /// After the user read: is the window growth worth a window update?
    pub fn window_update_due(&self) -> bool {
        let cur = self.rcv_adv.since(self.rcv_nxt);
        let cap = self.window_capacity();
        cap > cur && cap - cur >= self.sws_threshold()
    }

    /// TSval for a segment sent at `now` (RFC 7323 §5.4: a clock of 1 ms).
    pub fn ts_val(&self, now: Instant) -> u32 {
        self.ts_offset.wrapping_add((now / 1000) as u32)
    }

    /// SACKed segments on the scoreboard now (Linux tcpi_sacked).
    fn sacked_segments(&self) -> u32 {
        self.scoreboard.sacked_bytes().div_ceil(self.eff_mss())
    }

    /// Segments deemed lost and not yet retransmitted (Linux tcpi_lost):
    /// the scoreboard's lost holes (RFC 6675 IsLost) above HighRxt in SACK
    /// recovery; after a timeout, everything not yet resent.
    fn lost_segments(&self) -> u32 {
        let mss = self.eff_mss();
        let bytes = if self.sack_recovery {
            let rxt = self.high_rxt.max(self.snd_una);
            self.scoreboard.lost_bytes(self.snd_una, rxt, mss)
        } else if self.snd_nxt.lt(self.snd_max) {
            // Going back after a timeout: what is still to be resent.
            self.snd_max.since(self.snd_nxt)
                - self.scoreboard.sacked_between(self.snd_nxt, self.snd_max)
        } else {
            0
        };
        bytes.div_ceil(mss)
    }

    /// Retransmitted segments not yet acknowledged (Linux tcpi_retrans).
    fn retrans_segments(&self) -> u32 {
        let end = if self.sack_recovery {
            self.high_rxt
        } else if self.retries > 0 {
            // After a timeout (and no new ACK since): everything resent so far.
            self.snd_nxt
        } else if self.in_recovery {
            // NewReno resends the head segment.
            (self.snd_una + self.eff_mss()).min(self.snd_max)
        } else {
            self.snd_una
        };
        if !end.gt(self.snd_una) {
            return 0;
        }
        let bytes = end.since(self.snd_una) - self.scoreboard.sacked_between(self.snd_una, end);
        bytes.div_ceil(self.eff_mss())
    }

    /// The TCP_INFO-like snapshot.
    pub fn info(&self) -> TcpInfo {
        TcpInfo {
            state: self.state,
            local: self.local,
            remote: self.remote,
            srtt_us: self.rtt.srtt(),
            rttvar_us: self.rtt.rttvar(),
            rto_us: self.rtt.rto(),
            mss: self.eff_mss(),
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.rcv_adv.since(self.rcv_nxt),
            bytes_in_flight: self.outstanding(),
            backoff: self.rtt.backoff(),
            total_retransmits: self.total_retransmits,
            bytes_acked: self.bytes_acked,
            bytes_received: self.bytes_received,
            bytes_sent: self.bytes_sent,
            send_queue: self.send_buf.len() as u32,
            recv_queue: self.recv_buf.len() as u32,
            snd_wscale: self.snd_wscale,
            rcv_wscale: self.rcv_wscale,
            timestamps: self.ts_ok,
            sack: self.sack_ok,
            sacked_bytes: self.scoreboard.sacked_bytes(),
            congestion_control: self.cc.algorithm(),
            sacked_segments: self.sacked_segments(),
            lost_segments: self.lost_segments(),
            retrans_segments: self.retrans_segments(),
        }
    }
}

impl Tcb {
    /// close(2): with received data still unread, RST (RFC 9293 §3.10.4,
    /// as Linux's tcp_close: the peer learns its data was not consumed);
    /// otherwise FIN after the queued data.
    pub fn close(&mut self, env: &mut Env) -> Result<(), Error> {
        if self.recv_buf.is_empty() || matches!(self.state, State::TimeWait | State::Closed) {
            return self.shutdown(env);
        }
        self.recv_buf.clear();
        self.reset(env, ResetReason::UnreadData);
        Ok(())
    }

    /// Half-close (RFC 9293 §3.10.4 CLOSE, for the sending direction):
    /// queue a FIN after all queued data.
    pub fn shutdown(&mut self, env: &mut Env) -> Result<(), Error> {
        match self.state {
            State::Closed => return Err(self.error.unwrap_or(Error::NotConnected)),
            State::Listen => return Err(Error::InvalidInput),
            _ => {}
        }
        if self.send_buf.fin_queued {
            return Ok(());
        }
        match self.state {
            // The FIN follows the handshake (see after_established).
            State::SynSent | State::SynReceived => self.send_buf.fin_queued = true,
            State::Established => {
                self.send_buf.fin_queued = true;
                self.set_state(env, State::FinWait1);
                self.output(env);
            }
            State::CloseWait => {
                self.send_buf.fin_queued = true;
                self.set_state(env, State::LastAck);
                self.output(env);
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_is_small() {
        // DESIGN.md target: ≤ 1 KiB of Rust memory per idle connection. The
        // TCB is boxed in the socket slab; buffers are allocated lazily, so
        // an idle connection is this box plus a slab slot and a map entry.
        let size = core::mem::size_of::<Tcb>();
        eprintln!("size_of::<Tcb>() = {size}");
        assert!(size + 64 <= 1024, "Tcb is {size} bytes");
    }
}
