//! The facade: demultiplexing tables, port allocation, and the API the
//! runtime (and tests) drive. CONTRACT: the signatures in this file are what
//! crates/runtime and the binding compile against; change them only together.

use crate::config::StackConfig;
use crate::error::Error;
use crate::event::Event;
use crate::stats::Stats;
use crate::tcp::state::State;
use crate::time::Instant;
use std::net::SocketAddrV4;

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
    pub syn_drops: u64,
    pub accept_drops: u64,
    pub cookies_sent: u64,
}

/// The engine. Single-threaded; the driver owns it (runtime wraps it in a mutex).
pub struct Stack {
    _private: (),
}

impl Stack {
    /// A stack with no sockets.
    pub fn new(config: StackConfig) -> Stack {
        let _ = config;
        unimplemented!("engine not written yet")
    }

    /// Our configuration.
    pub fn config(&self) -> &StackConfig {
        unimplemented!()
    }

    /// Process one inbound IP packet (no link header). Never panics on any input.
    pub fn receive(&mut self, now: Instant, packet: &[u8]) {
        let _ = (now, packet);
        unimplemented!()
    }

    /// Fire every timer due at or before `now` (retransmission, TIME_WAIT, ...).
    pub fn poll(&mut self, now: Instant) {
        let _ = now;
        unimplemented!()
    }

    /// The earliest instant at which `poll` has work, if any.
    pub fn poll_at(&self) -> Option<Instant> {
        unimplemented!()
    }

    /// Hand every queued outbound IP packet to `sink`, oldest first, and forget them.
    pub fn transmit(&mut self, sink: &mut dyn FnMut(&[u8])) {
        let _ = sink;
        unimplemented!()
    }

    /// True when `transmit` would hand out at least one packet.
    pub fn has_transmit(&self) -> bool {
        unimplemented!()
    }

    /// Take the oldest pending event.
    pub fn poll_event(&mut self) -> Option<Event> {
        unimplemented!()
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        unimplemented!()
    }

    // ---- TCP ----

    /// Listen on `local` (address 0.0.0.0 = any of ours; port 0 = ephemeral).
    /// `backlog` bounds the accept queue (Linux semantics: holds backlog+1).
    pub fn tcp_listen(&mut self, local: SocketAddrV4, backlog: u32) -> Result<SocketId, Error> {
        let _ = (local, backlog);
        unimplemented!()
    }

    /// Take one established connection from a listener's accept queue.
    pub fn tcp_accept(&mut self, listener: SocketId) -> Option<SocketId> {
        let _ = listener;
        unimplemented!()
    }

    /// Start an active open. `local_port` None = pick an ephemeral port.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        remote: SocketAddrV4,
        local_port: Option<u16>,
    ) -> Result<SocketId, Error> {
        let _ = (now, remote, local_port);
        unimplemented!()
    }

    /// Queue bytes for sending; returns how many fit in the send buffer
    /// (possibly 0, then `Event::Writable` follows when space frees up).
    /// `Err(BrokenPipe)` after `tcp_shutdown`, `Err(NotConnected)` before the
    /// handshake completes is NOT an error: data queued in SYN_SENT is sent after it.
    pub fn tcp_send(&mut self, now: Instant, id: SocketId, data: &[u8]) -> Result<usize, Error> {
        let _ = (now, id, data);
        unimplemented!()
    }

    /// Move up to `max` bytes of in-order received data to the end of `out`.
    /// Returns `Ok(n)`; `Ok(0)` with `tcp_at_eof` true means the peer's FIN
    /// was read. Reading opens the advertised window (a window update is
    /// sent when it grows enough, per SWS avoidance).
    pub fn tcp_recv(&mut self, now: Instant, id: SocketId, out: &mut Vec<u8>, max: usize) -> Result<usize, Error> {
        let _ = (now, id, out, max);
        unimplemented!()
    }

    /// True once the peer's FIN has been received and all data before it read.
    pub fn tcp_at_eof(&self, id: SocketId) -> bool {
        let _ = id;
        unimplemented!()
    }

    /// Half-close: send FIN after everything queued (shutdown(SHUT_WR)).
    pub fn tcp_shutdown(&mut self, now: Instant, id: SocketId) -> Result<(), Error> {
        let _ = (now, id);
        unimplemented!()
    }

    /// Send RST now and drop the connection (`resetAndDestroy`).
    pub fn tcp_abort(&mut self, now: Instant, id: SocketId) {
        let _ = (now, id);
        unimplemented!()
    }

    /// The user lets go of the handle (like close(2) on the fd). A listener
    /// stops listening (its queued, unaccepted connections are reset). A
    /// connection that is not closed yet is shut down gracefully (FIN) and
    /// lives on, orphaned, through the close states and TIME_WAIT; no more
    /// events are reported for it. The id must not be used afterwards.
    pub fn tcp_release(&mut self, now: Instant, id: SocketId) {
        let _ = (now, id);
        unimplemented!()
    }

    /// TCP_NODELAY: disable Nagle's algorithm.
    pub fn tcp_set_nodelay(&mut self, id: SocketId, nodelay: bool) -> Result<(), Error> {
        let _ = (id, nodelay);
        unimplemented!()
    }

    /// Keepalive with the given idle time in µs (None = off).
    pub fn tcp_set_keepalive(&mut self, id: SocketId, idle: Option<u64>) -> Result<(), Error> {
        let _ = (id, idle);
        unimplemented!()
    }

    /// A snapshot of the connection's internals.
    pub fn tcp_info(&self, id: SocketId) -> Option<TcpInfo> {
        let _ = id;
        unimplemented!()
    }

    /// Local address of a listener or connection.
    pub fn local_addr(&self, id: SocketId) -> Option<SocketAddrV4> {
        let _ = id;
        unimplemented!()
    }

    /// Listener queue sizes and counters.
    pub fn listener_queues(&self, listener: SocketId) -> Option<ListenerQueues> {
        let _ = listener;
        unimplemented!()
    }

    /// Every socket, listeners and TIME_WAIT included (like `ss -tuan`).
    pub fn netstat(&self) -> Vec<NetstatEntry> {
        unimplemented!()
    }

    // ---- UDP ----

    /// Bind a UDP socket (port 0 = ephemeral).
    pub fn udp_bind(&mut self, local: SocketAddrV4) -> Result<SocketId, Error> {
        let _ = local;
        unimplemented!()
    }

    /// Send one datagram.
    pub fn udp_send_to(&mut self, id: SocketId, remote: SocketAddrV4, data: &[u8]) -> Result<(), Error> {
        let _ = (id, remote, data);
        unimplemented!()
    }

    /// Take the oldest queued datagram: (sender, payload appended to `out`).
    pub fn udp_recv(&mut self, id: SocketId, out: &mut Vec<u8>) -> Option<SocketAddrV4> {
        let _ = (id, out);
        unimplemented!()
    }

    /// Close a UDP socket.
    pub fn udp_release(&mut self, id: SocketId) {
        let _ = id;
        unimplemented!()
    }
}
