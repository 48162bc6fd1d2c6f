//! The facade: demultiplexing tables, port allocation, and the API the
//! runtime (and tests) drive. CONTRACT: the signatures in this file are what
//! crates/runtime and the binding compile against; change them only together.

use crate::config::StackConfig;
use crate::env::Env;
use crate::error::Error;
use crate::event::{Event, ResetReason};
use crate::ip;
use crate::random::KeyedState;
use crate::slab::{Slab, Socket};
use crate::stats::Stats;
use crate::tcp::cc::CongestionAlgorithm;
use crate::tcp::listen::Listener;
use crate::tcp::state::State;
use crate::tcp::tcb::Tcb;
pub use crate::tcp::urgent::UrgentByte;
use crate::time::Instant;
use crate::tx::{RxMeta, TxMeta};
use crate::udp::{self, UdpSocket};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// A handle to a TCP listener, TCP connection or UDP socket. Opaque:
/// slab index plus a generation so a stale handle is never confused with a
/// newer socket in the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u64);

/// TCP_INFO-like snapshot of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: State,
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    /// Smoothed RTT, µs (0 before the first sample).
    pub srtt_us: u64,
    pub rttvar_us: u64,
    pub rto_us: u64,
    /// Effective send MSS.
    pub mss: u32,
    pub cwnd: u32,
    pub ssthresh: u32,
    /// Peer's advertised window (bytes).
    pub snd_wnd: u32,
    /// Window we advertise (bytes).
    pub rcv_wnd: u32,
    pub bytes_in_flight: u32,
    /// Retransmissions of the segment currently timed (backoff count).
    pub backoff: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retransmits: u64,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// Bytes queued in the send buffer not yet acknowledged.
    pub send_queue: u32,
    /// Bytes received in order and not yet read.
    pub recv_queue: u32,
    /// Shift applied to the peer's window fields (0 without window scaling).
    pub snd_wscale: u8,
    /// Shift applied to our window fields (0 without window scaling).
    pub rcv_wscale: u8,
    /// Timestamps (RFC 7323) in use.
    pub timestamps: bool,
    /// SACK (RFC 2018) in use.
    pub sack: bool,
    /// Bytes above SND.UNA the peer has SACKed.
    pub sacked_bytes: u32,
    /// The congestion-control algorithm in use.
    pub congestion_control: CongestionAlgorithm,
    /// Segments the peer has SACKed (now, on the scoreboard; Linux tcpi_sacked).
    pub sacked_segments: u32,
    /// Segments deemed lost and not yet repaired (now; Linux tcpi_lost).
    pub lost_segments: u32,
    /// Retransmitted segments not yet acknowledged (now; Linux tcpi_retrans).
    pub retrans_segments: u32,
}

/// One row of `netstat()`, like a line of `ss -tan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetstatEntry {
    /// "tcp" or "udp".
    pub proto: &'static str,
    pub local: SocketAddrV4,
    /// 0.0.0.0:0 for listeners and unconnected UDP sockets.
    pub remote: SocketAddrV4,
    pub state: State,
    pub recv_q: u32,
    pub send_q: u32,
}

/// A listener's queue sizes and drop counters (`server.queues()`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerQueues {
    /// Entries in SYN_RECEIVED (the half-open queue).
    pub syn_received: u32,
    /// Bound on the half-open queue.
    pub syn_backlog: u32,
    /// Established connections waiting for `tcp_accept`.
    pub accept_queue: u32,
    /// Bound on the accept queue (the listen backlog).
    pub backlog: u32,
    /// SYNs dropped because the SYN queue was full (and cookies were off)
    /// or the stack was at its connection limit.
    pub syn_drops: u64,
    /// SYNs and completing ACKs dropped (or reset) because the accept
    /// queue was full (Linux's ListenOverflows).
    pub accept_drops: u64,
    /// SYNs answered with a SYN cookie.
    pub cookies_sent: u64,
    /// ACKs that returned a valid cookie.
    pub cookies_validated: u64,
    /// ACKs checked as cookies that did not verify (reset).
    pub cookies_failed: u64,
}

/// Per-listener options of [`Stack::tcp_listen_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenOptions {
    /// Override the stack's `TcpConfig::abort_on_overflow` for this listener.
    pub abort_on_overflow: Option<bool>,
    /// SO_REUSEADDR (default true, as node:net always sets it): the port
    /// conflicts only with another listener, so a restarted server can
    /// listen while its old connections sit in TIME_WAIT. False: any
    /// connection still holding the port — TIME_WAIT included — makes
    /// listening fail with `EADDRINUSE`, as a bare Linux socket does.
    pub reuse_address: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            abort_on_overflow: None,
            reuse_address: true,
        }
    }
}
/// The engine. Single-threaded; the driver owns it (runtime wraps it in a mutex).
pub struct Stack {
    pub(crate) env: Env,
    pub(crate) sockets: Slab,
    /// Connections by (local, remote).
    pub(crate) conns: HashMap<(SocketAddrV4, SocketAddrV4), SocketId, KeyedState>,
    /// Listeners by local address (0.0.0.0 = wildcard).
    pub(crate) listeners: HashMap<SocketAddrV4, SocketId, KeyedState>,
    /// UDP sockets by local address (0.0.0.0 = wildcard).
    pub(crate) udp: HashMap<SocketAddrV4, SocketId, KeyedState>,
    /// Connections in the slab (all states).
    pub(crate) tcp_count: usize,
    pub(crate) port_key: KeyedState,
    pub(crate) port_counter: u32,
}

impl core::fmt::Debug for Stack {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack")
            .field("address", &self.env.config.address)
            .field("sockets", &self.sockets.len())
            .field("connections", &self.tcp_count)
            .finish()
    }
}

impl Stack {
    /// A stack with no sockets.
    pub fn new(config: StackConfig) -> Stack {
        let seed = config.seed;
        Stack {
            env: Env::new(config),
            sockets: Slab::default(),
            conns: HashMap::with_hasher(KeyedState::new(seed, 1)),
            listeners: HashMap::with_hasher(KeyedState::new(seed, 2)),
            udp: HashMap::with_hasher(KeyedState::new(seed, 3)),
            tcp_count: 0,
            port_key: KeyedState::new(seed, 4),
            port_counter: 0,
        }
    }

    /// Our configuration.
    pub fn config(&self) -> &StackConfig {
        &self.env.config
    }

    /// Process one inbound IP packet (no link header). Never panics on any input.
    pub fn receive(&mut self, now: Instant, packet: &[u8]) {
        self.receive_with(now, packet, RxMeta::default());
    }

    /// [`Stack::receive`] with what the device knows about the packet
    /// (receive offload): a trusted transport checksum is not verified.
    /// Packets of any size up to 64 KiB are accepted either way (a GRO
    /// super-segment is one segment to TCP).
    pub fn receive_with(&mut self, now: Instant, packet: &[u8], meta: RxMeta) {
        self.env.now = now;
        self.ip_input(packet, meta);
        self.settle_timers();
    }

    /// Start a receive batch (RFC 1122 §4.2.2.21, "process all queued
    /// segments before sending an ACK"): until [`Stack::end_batch`], an ACK
    /// that only acknowledges in-order data — the every-second-full-segment
    /// ACK — and the window update after a `tcp_recv` are held back, and
    /// `end_batch` sends one cumulative ACK per connection (none if a data
    /// segment carried it meanwhile). Duplicate ACKs for out-of-order data,
    /// ACKs filling a hole, SACK/D-SACK reports, challenge ACKs, RSTs,
    /// SYN-ACKs and FIN ACKs stay immediate (see tcp/ack_batch.rs for why
    /// each). Calling it again while a batch is open does nothing; should
    /// `end_batch` never come, the delayed-ACK timer sends what is owed.
    pub fn begin_batch(&mut self) {
        self.env.ack_batch.active = true;
    }

    /// End the receive batch begun by [`Stack::begin_batch`]: send the ACKs
    /// it held back, one per connection. Without an open batch, nothing.
    pub fn end_batch(&mut self, now: Instant) {
        self.env.now = now;
        self.flush_batch_acks();
        self.settle_timers();
    }

    /// [`Stack::receive`] for each packet of a batch that arrived together
    /// (one device read), then the held-back ACKs: a batch of in-order
    /// full-size segments draws exactly one ACK per connection.
    pub fn receive_batch<'a>(&mut self, now: Instant, packets: impl IntoIterator<Item = &'a [u8]>) {
        self.begin_batch();
        for packet in packets {
            self.receive(now, packet);
        }
        self.end_batch(now);
    }

    /// Fire every timer due at or before `now` (retransmission, TIME_WAIT, ...).
    pub fn poll(&mut self, now: Instant) {
        self.env.now = now;
        self.fire_timers(now);
        self.settle_timers();
    }

    /// The earliest instant at which `poll` has work, if any.
    pub fn poll_at(&self) -> Option<Instant> {
        self.env.timers.peek().map(|(at, _)| at)
    }

    /// Hand every queued outbound IP packet to `sink`, oldest first, and
    /// forget them. Only for stacks without transmit offload (the default
    /// `OffloadConfig`), whose packets need nothing more from a device.
    pub fn transmit(&mut self, sink: &mut dyn FnMut(&[u8])) {
        self.env.tx.drain(&mut |p, _| sink(p));
    }

    /// [`Stack::transmit`] with each packet's offload request (TSO size,
    /// partial checksum) for the device; see `OffloadConfig`.
    pub fn transmit_with(&mut self, sink: &mut dyn FnMut(&[u8], TxMeta)) {
        self.env.tx.drain(sink);
    }

    /// True when `transmit` would hand out at least one packet.
    pub fn has_transmit(&self) -> bool {
        !self.env.tx.is_empty()
    }

    /// Take the oldest pending event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.env.events.pop_front()
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.env.stats
    }

    /// Run `f` on connection `id` at `now`, then do the bookkeeping.
    fn with_tcb<R>(
        &mut self,
        now: Instant,
        id: SocketId,
        f: impl FnOnce(&mut Tcb, &mut Env) -> R,
    ) -> Option<R> {
        self.env.now = now;
        let t = self.sockets.tcb_mut(id)?;
        let r = f(t, &mut self.env);
        self.after_tcb(id);
        self.settle_timers();
        Some(r)
    }

    // ---- TCP ----

    /// Listen on `local` (address 0.0.0.0 = any of ours; port 0 = ephemeral).
    /// `backlog` bounds the accept queue (Linux semantics: holds backlog+1).
    pub fn tcp_listen(&mut self, local: SocketAddrV4, backlog: u32) -> Result<SocketId, Error> {
        self.tcp_listen_with(local, backlog, ListenOptions::default())
    }

    /// [`Stack::tcp_listen`] with per-listener options.
    pub fn tcp_listen_with(
        &mut self,
        local: SocketAddrV4,
        backlog: u32,
        options: ListenOptions,
    ) -> Result<SocketId, Error> {
        let ours = self.env.config.address;
        if !local.ip().is_unspecified() && *local.ip() != ours {
            return Err(Error::AddrNotAvailable);
        }
        let port = match local.port() {
            0 => self
                .ephemeral_listen_port()
                .ok_or(Error::AddrNotAvailable)?,
            p => p,
        };
        let local = SocketAddrV4::new(*local.ip(), port);
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        let specific = SocketAddrV4::new(ours, port);
        if self.listeners.contains_key(&any) || self.listeners.contains_key(&specific) {
            return Err(Error::AddrInUse);
        }
        // Without SO_REUSEADDR every connection on the port counts (Linux's
        // inet_csk_bind_conflict). A scan is enough: binding is rare, and
        // all connections share our one address, so the port decides.
        if !options.reuse_address && self.conns.keys().any(|(l, _)| l.port() == port) {
            return Err(Error::AddrInUse);
        }
        let id = self
            .sockets
            .insert_with(|_| Socket::Listener(Box::new(Listener::new(local, backlog, options))));
        self.listeners.insert(local, id);
        Ok(id)
    }

    /// Take one established connection from a listener's accept queue.
    pub fn tcp_accept(&mut self, listener: SocketId) -> Option<SocketId> {
        let l = self.sockets.listener_mut(listener)?;
        let id = l.accept_queue.pop_front()?;
        let urgent_inline = l.urgent_inline;
        if let Some(t) = self.sockets.tcb_mut(id) {
            t.parent = None;
            t.set_urgent_inline(urgent_inline);
            t.in_accept_queue = false;
            // Events were held back while the child was nobody's; replay
            // the ones that still matter.
            if !t.recv_buf.is_empty() || t.fin_received {
                t.readable_signalled = false;
                t.signal_readable(&mut self.env);
            }
            if t.urgent.as_ref().is_some_and(|u| u.has_pending()) {
                t.emit(&mut self.env, Event::Urgent { id });
            }
            if matches!(t.state, State::Closed | State::TimeWait) {
                t.closed_reported = false;
                t.report_closed(&mut self.env);
            }
        }
        Some(id)
    }

    /// Start an active open. `local_port` None = pick an ephemeral port.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        remote: SocketAddrV4,
        local_port: Option<u16>,
    ) -> Result<SocketId, Error> {
        self.env.now = now;
        if remote.port() == 0 || remote.ip().is_unspecified() || ip::is_bad_source(*remote.ip()) {
            return Err(Error::InvalidInput);
        }
        if self.tcp_count >= self.env.config.tcp.max_connections {
            return Err(Error::NoBuffers);
        }
        let addr = self.env.config.address;
        let port = match local_port {
            Some(0) | None => self
                .ephemeral_connect_port(remote)
                .ok_or(Error::AddrNotAvailable)?,
            Some(p) => {
                let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p);
                if self
                    .conns
                    .contains_key(&(SocketAddrV4::new(addr, p), remote))
                    || self.listeners.contains_key(&any)
                    || self.listeners.contains_key(&SocketAddrV4::new(addr, p))
                {
                    return Err(Error::AddrInUse);
                }
                p
            }
        };
        let local = SocketAddrV4::new(addr, port);
        let iss = self.env.isn.isn(now, local, remote);
        let env = &self.env;
        let id = self.sockets.insert_with(|id| {
            let mut t = Tcb::new(id, local, remote, iss, env);
            t.active_open = true;
            Socket::Tcp(Box::new(t))
        });
        self.tcp_count += 1;
        self.conns.insert((local, remote), id);
        self.env.stats.tcp_active_opens += 1;
        self.with_tcb(now, id, |t, env| {
            t.set_state(env, State::SynSent);
            t.send_syn(env);
        });
        Ok(id)
    }

    /// Queue bytes for sending; returns how many fit in the send buffer
    /// (possibly 0, then `Event::Writable` follows when space frees up).
    /// `Err(BrokenPipe)` after `tcp_shutdown`, `Err(NotConnected)` before the
    /// handshake completes is NOT an error: data queued in SYN_SENT is sent after it.
    pub fn tcp_send(&mut self, now: Instant, id: SocketId, data: &[u8]) -> Result<usize, Error> {
        self.send(now, id, data, false)
    }

    fn send(
        &mut self,
        now: Instant,
        id: SocketId,
        data: &[u8],
        urgent: bool,
    ) -> Result<usize, Error> {
        if self.sockets.listener(id).is_some() {
            return Err(Error::InvalidInput);
        }
        self.with_tcb(now, id, |t, env| {
            match t.state {
                State::Closed => return Err(t.error.unwrap_or(Error::NotConnected)),
                State::Listen => return Err(Error::InvalidInput),
                _ => {}
            }
            if t.send_buf.fin_queued
                || !matches!(
                    t.state,
                    State::SynSent | State::SynReceived | State::Established | State::CloseWait
                )
            {
                return Err(Error::BrokenPipe);
            }
            let n = t.send_buf.push(data);
            if n < data.len() {
                t.want_writable = true;
            }
            if urgent && n > 0 {
                t.mark_urgent();
            }
            t.output(env);
            Ok(n)
        })
        .unwrap_or(Err(Error::BadHandle))
    }

    /// Move up to `max` bytes of in-order received data to the end of `out`.
    /// Returns `Ok(n)`; `Ok(0)` with `tcp_at_eof` true means the peer's FIN
    /// was read. Reading opens the advertised window (a window update is
    /// sent when it grows enough, per SWS avoidance).
    pub fn tcp_recv(
        &mut self,
        now: Instant,
        id: SocketId,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<usize, Error> {
        if self.sockets.listener(id).is_some() {
            return Err(Error::InvalidInput);
        }
        self.with_tcb(now, id, |t, env| {
            t.readable_signalled = false;
            let (n, consumed) = t.read_stream(out, max);
            t.recv_buf.release_if_idle();
            if n == 0 {
                if let (State::Closed, Some(e)) = (t.state, t.error) {
                    return Err(e);
                }
            }
            if consumed > 0
                && t.state.is_synchronized()
                && !t.fin_received
                && t.window_update_due()
                && !t.defer_ack_to_batch_end(env)
            {
                t.ack_now = true;
                t.output(env);
            }
            Ok(n)
        })
        .unwrap_or(Err(Error::BadHandle))
    }

    /// Like `tcp_send`, with MSG_OOB: the last byte queued becomes urgent
    /// data (URG, RFC 9293 §3.8.5). LEGACY (RFC 6093), for telnet/FTP-style
    /// peers. If only part of `data` fits, its last queued byte is marked;
    /// sending the rest the same way moves the mark to the true end.
    pub fn tcp_send_urgent(
        &mut self,
        now: Instant,
        id: SocketId,
        data: &[u8],
    ) -> Result<usize, Error> {
        if data.is_empty() {
            return Err(Error::InvalidInput);
        }
        self.send(now, id, data, true)
    }

    /// Take the peer's urgent byte announced by `Event::Urgent` (recv with
    /// MSG_OOB); `None` when there is none (already taken, or replaced by
    /// a later one before it was taken).
    pub fn tcp_recv_urgent(&mut self, id: SocketId) -> Option<UrgentByte> {
        self.sockets.tcb_mut(id)?.take_urgent()
    }

    /// SO_OOBINLINE: leave urgent bytes in the stream (true) or take them
    /// out and deliver them only through `tcp_recv_urgent` (false, the
    /// default). On a listener, accepted connections inherit it.
    pub fn tcp_set_urgent_inline(&mut self, id: SocketId, inline: bool) -> Result<(), Error> {
        if let Some(l) = self.sockets.listener_mut(id) {
            l.urgent_inline = inline;
            return Ok(());
        }
        let t = self.sockets.tcb_mut(id).ok_or(Error::BadHandle)?;
        t.set_urgent_inline(inline);
        Ok(())
    }

    /// IP_TOS (RFC 9293 MUST-48): the DS field of what the connection (or
    /// a listener's future connections) sends. The two ECN bits are
    /// ignored, as Linux does for TCP: they belong to the stack.
    pub fn tcp_set_tos(&mut self, id: SocketId, tos: u8) -> Result<(), Error> {
        let tos = tos & !0b11;
        if let Some(l) = self.sockets.listener_mut(id) {
            l.tos = tos;
            return Ok(());
        }
        self.sockets.tcb_mut(id).ok_or(Error::BadHandle)?.tos = tos;
        Ok(())
    }

    /// The DS field set with [`Stack::tcp_set_tos`].
    pub fn tcp_tos(&self, id: SocketId) -> Result<u8, Error> {
        if let Some(l) = self.sockets.listener(id) {
            return Ok(l.tos);
        }
        self.sockets.tcb(id).map(|t| t.tos).ok_or(Error::BadHandle)
    }

    /// True once the peer's FIN has been received and all data before it read.
    pub fn tcp_at_eof(&self, id: SocketId) -> bool {
        self.sockets
            .tcb(id)
            .is_some_and(|t| t.fin_received && t.recv_buf.is_empty())
    }

    /// Half-close: send FIN after everything queued (shutdown(SHUT_WR)).
    pub fn tcp_shutdown(&mut self, now: Instant, id: SocketId) -> Result<(), Error> {
        if self.sockets.listener(id).is_some() {
            return Err(Error::InvalidInput);
        }
        self.with_tcb(now, id, |t, env| t.shutdown(env))
            .unwrap_or(Err(Error::BadHandle))
    }

    /// close(2) on a connection whose owner keeps the handle while it
    /// winds down, as the kernel closes a dying process's sockets: with
    /// received data still unread it resets (RFC 9293 §3.10.4; Linux's
    /// tcp_close), otherwise it sends FIN after the queued data. Events
    /// keep coming until the connection is closed.
    pub fn tcp_close(&mut self, now: Instant, id: SocketId) -> Result<(), Error> {
        if self.sockets.listener(id).is_some() {
            return Err(Error::InvalidInput);
        }
        self.with_tcb(now, id, |t, env| t.close(env))
            .unwrap_or(Err(Error::BadHandle))
    }

    /// Send RST now and drop the connection (`resetAndDestroy`).
    pub fn tcp_abort(&mut self, now: Instant, id: SocketId) {
        self.env.now = now;
        if self.sockets.listener(id).is_some() {
            self.close_listener(id);
            self.settle_timers();
            return;
        }
        self.with_tcb(now, id, |t, env| t.reset(env, ResetReason::Aborted));
    }

    /// The user lets go of the handle (like close(2) on the fd). A listener
    /// stops listening (its queued, unaccepted connections are reset). A
    /// connection that is not closed yet is shut down gracefully (FIN) and
    /// lives on, orphaned, through the close states and TIME_WAIT; no more
    /// events are reported for it. The id must not be used afterwards.
    pub fn tcp_release(&mut self, now: Instant, id: SocketId) {
        self.env.now = now;
        if self.sockets.listener(id).is_some() {
            self.close_listener(id);
            self.sockets.remove(id);
            self.settle_timers();
            return;
        }
        let Some(t) = self.sockets.tcb_mut(id) else {
            return;
        };
        match t.state {
            State::Closed => {
                self.free_tcb(id);
                return;
            }
            State::SynSent => {
                t.orphan = true;
                t.terminate(&mut self.env, None);
            }
            _ => {
                t.orphan = true;
                let _ = t.close(&mut self.env);
                t.recv_buf.clear();
                if t.state == State::FinWait2 {
                    t.timers.close = Some(now + 2 * self.env.config.tcp.msl);
                }
            }
        }
        self.after_tcb(id);
        self.settle_timers();
    }

    /// TCP_NODELAY: disable Nagle's algorithm.
    pub fn tcp_set_nodelay(&mut self, id: SocketId, nodelay: bool) -> Result<(), Error> {
        let now = self.env.now;
        self.with_tcb(now, id, |t, env| {
            t.nodelay = nodelay;
            if nodelay {
                t.output(env);
            }
        })
        .ok_or(Error::BadHandle)
    }

    /// TCP_CORK: while on, segments shorter than the MSS are held back
    /// (full ones go) so small writes coalesce; switching it off sends
    /// what is held. A held runt still goes out after max(RTO, rto_min)
    /// with nothing in flight (Linux's 200 ms ceiling). FIN and urgent
    /// data are never held.
    pub fn tcp_set_cork(&mut self, id: SocketId, cork: bool) -> Result<(), Error> {
        let now = self.env.now;
        self.with_tcb(now, id, |t, env| t.set_cork(env, cork))
            .ok_or(Error::BadHandle)
    }

    /// TCP_QUICKACK: acknowledge every data segment at once (true), or
    /// delay ACKs Linux-style (false; the default from
    /// `TcpConfig::quick_ack`). Switching it on sends a delayed ACK now.
    pub fn tcp_set_quickack(&mut self, id: SocketId, quickack: bool) -> Result<(), Error> {
        let now = self.env.now;
        self.with_tcb(now, id, |t, env| t.set_quickack(env, quickack))
            .ok_or(Error::BadHandle)
    }

    /// TCP_CONGESTION: the congestion-control algorithm of a connection
    /// (switched at any time; cwnd and ssthresh carry over, as on Linux) or
    /// of a listener (for the connections it will accept).
    pub fn tcp_set_congestion_control(
        &mut self,
        id: SocketId,
        algorithm: CongestionAlgorithm,
    ) -> Result<(), Error> {
        if let Some(l) = self.sockets.listener_mut(id) {
            l.congestion_control = Some(algorithm);
            return Ok(());
        }
        let now = self.env.now;
        self.with_tcb(now, id, |t, _| t.cc.set_algorithm(algorithm))
            .ok_or(Error::BadHandle)
    }

    /// Keepalive with the given idle time in µs (None = off; Some(0) =
    /// the stack's `keepalive_time`).
    pub fn tcp_set_keepalive(&mut self, id: SocketId, idle: Option<u64>) -> Result<(), Error> {
        let now = self.env.now;
        self.with_tcb(now, id, |t, env| {
            t.keepalive_idle = idle.map(|i| match i {
                0 => env.config.tcp.keepalive_time,
                i => i,
            });
            t.keepalive_probes = 0;
            t.arm_keepalive(env);
        })
        .ok_or(Error::BadHandle)
    }

    /// Keepalive probe interval (TCP_KEEPINTVL, µs) and how many probes
    /// go unanswered before ETIMEDOUT (TCP_KEEPCNT).
    pub fn tcp_set_keepalive_probes(
        &mut self,
        id: SocketId,
        interval: u64,
        probes: u32,
    ) -> Result<(), Error> {
        if interval == 0 || probes == 0 {
            return Err(Error::InvalidInput);
        }
        let now = self.env.now;
        self.with_tcb(now, id, |t, _| {
            t.keepalive_interval = interval;
            t.keepalive_max_probes = probes;
        })
        .ok_or(Error::BadHandle)
    }

    /// TCP_USER_TIMEOUT in µs (0 = off): give up with ETIMEDOUT when sent
    /// data stays unacknowledged that long (RFC 5482's user timeout; it
    /// also bounds zero-window probing and keepalive).
    pub fn tcp_set_user_timeout(&mut self, id: SocketId, timeout: u64) -> Result<(), Error> {
        let now = self.env.now;
        self.with_tcb(now, id, |t, _| t.user_timeout = timeout)
            .ok_or(Error::BadHandle)
    }

    /// A snapshot of the connection's internals.
    pub fn tcp_info(&self, id: SocketId) -> Option<TcpInfo> {
        self.sockets.tcb(id).map(|t| t.info())
    }

    /// Local address of a listener or connection.
    pub fn local_addr(&self, id: SocketId) -> Option<SocketAddrV4> {
        match self.sockets.get(id)? {
            Socket::Listener(l) => Some(l.local),
            Socket::Tcp(t) => Some(t.local),
            Socket::Udp(u) => Some(u.local),
        }
    }

    /// Listener queue sizes and counters.
    pub fn listener_queues(&self, listener: SocketId) -> Option<ListenerQueues> {
        self.sockets
            .listener(listener)
            .map(|l| l.queues(self.env.config.tcp.syn_backlog))
    }

    /// Every socket, listeners and TIME_WAIT included (like `ss -tuan`).
    pub fn netstat(&self) -> Vec<NetstatEntry> {
        let none = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        self.sockets
            .iter()
            .map(|s| match s {
                Socket::Listener(l) => NetstatEntry {
                    proto: "tcp",
                    local: l.local,
                    remote: none,
                    state: State::Listen,
                    recv_q: l.accept_queue.len() as u32,
                    send_q: l.backlog,
                },
                Socket::Tcp(t) => NetstatEntry {
                    proto: "tcp",
                    local: t.local,
                    remote: t.remote,
                    state: t.state,
                    recv_q: t.recv_buf.len() as u32,
                    send_q: t.send_buf.len() as u32,
                },
                Socket::Udp(u) => NetstatEntry {
                    proto: "udp",
                    local: u.local,
                    remote: none,
                    state: State::Closed,
                    recv_q: u.queued_bytes() as u32,
                    send_q: 0,
                },
            })
            .collect()
    }

    // ---- UDP ----

    /// Bind a UDP socket (port 0 = ephemeral).
    pub fn udp_bind(&mut self, local: SocketAddrV4) -> Result<SocketId, Error> {
        let ours = self.env.config.address;
        if !local.ip().is_unspecified() && *local.ip() != ours {
            return Err(Error::AddrNotAvailable);
        }
        let port = match local.port() {
            0 => self.ephemeral_udp_port().ok_or(Error::AddrNotAvailable)?,
            p => p,
        };
        let local = SocketAddrV4::new(*local.ip(), port);
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        if self.udp.contains_key(&any) || self.udp.contains_key(&SocketAddrV4::new(ours, port)) {
            return Err(Error::AddrInUse);
        }
        let id = self
            .sockets
            .insert_with(|_| Socket::Udp(Box::new(UdpSocket::new(local))));
        self.udp.insert(local, id);
        Ok(id)
    }

    /// Send one datagram.
    pub fn udp_send_to(
        &mut self,
        id: SocketId,
        remote: SocketAddrV4,
        data: &[u8],
    ) -> Result<(), Error> {
        let local = match self.sockets.get(id) {
            Some(Socket::Udp(u)) => u.local,
            Some(_) => return Err(Error::InvalidInput),
            None => return Err(Error::BadHandle),
        };
        if remote.port() == 0 || data.len() > u16::MAX as usize - ip::HEADER_LEN - udp::HEADER_LEN {
            return Err(Error::InvalidInput);
        }
        let from = SocketAddrV4::new(self.env.config.address, local.port());
        udp::send(&mut self.env, from, remote, data);
        Ok(())
    }

    /// Take the oldest queued datagram: (sender, payload appended to `out`).
    pub fn udp_recv(&mut self, id: SocketId, out: &mut Vec<u8>) -> Option<SocketAddrV4> {
        self.sockets.udp_mut(id)?.dequeue(out)
    }

    /// Close a UDP socket.
    pub fn udp_release(&mut self, id: SocketId) {
        if let Some(Socket::Udp(u)) = self.sockets.get(id) {
            let local = u.local;
            if self.udp.get(&local) == Some(&id) {
                self.udp.remove(&local);
            }
            self.sockets.remove(id);
        }
    }
}
