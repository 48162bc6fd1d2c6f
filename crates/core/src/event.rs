//! What the engine reports to its driver. Events are edge-triggered hints:
//! the driver reacts by calling the matching `Stack` method.

use crate::error::Error;
use crate::stack::SocketId;
use crate::tcp::state::State;
use std::net::SocketAddrV4;

/// One event, taken from the queue with [`crate::Stack::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A listener's accept queue went from empty to non-empty; call
    /// `tcp_accept` until it returns `None`.
    Acceptable { listener: SocketId },
    /// An active open completed (SYN_SENT → ESTABLISHED).
    Connected { id: SocketId },
    /// New in-order data (or the FIN) is available to `tcp_recv`.
    Readable { id: SocketId },
    /// Send-buffer space became free after a `tcp_send` that accepted fewer
    /// bytes than offered.
    Writable { id: SocketId },
    /// Every byte we queued (and our FIN, if sent) has been acknowledged.
    Flushed { id: SocketId },
    /// The connection ended. `error` is `None` after an orderly close and
    /// the reason (refused, reset, timed out) otherwise. The handle stays
    /// valid until `tcp_release`.
    Closed { id: SocketId, error: Option<Error> },
    /// A state transition, for tracing and the opt-in 'tcp' event.
    StateChanged {
        id: SocketId,
        from: State,
        to: State,
    },
    /// A segment was retransmitted: after a timeout (`attempt` = 1, 2, …,
    /// the backoff count; SYN/SYN-ACK retransmissions have `len` 0), or by
    /// fast retransmit on three duplicate ACKs (`attempt` = 0).
    Retransmit {
        id: SocketId,
        seq: u32,
        len: u32,
        attempt: u32,
        rto_us: u64,
    },
    /// Something happened at a listener's queues (SYN queue, SYN cookies,
    /// accept queue), for the opt-in 'tcp' event of a server. `remote` is
    /// the peer the segment came from.
    Listen {
        listener: SocketId,
        remote: SocketAddrV4,
        what: ListenEvent,
    },
    /// A UDP datagram is waiting in a bound UDP socket's queue; call `udp_recv`.
    UdpReadable { id: SocketId },
}

/// What happened at a listener ([`Event::Listen`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenEvent {
    /// A SYN created a half-open entry (SYN_RECEIVED) in the SYN queue.
    SynQueued,
    /// A SYN was answered with a SYN cookie; no state was kept.
    CookieSent,
    /// An ACK returned a valid cookie: the connection was created.
    CookieValidated,
    /// An ACK reached the listener without a valid cookie: it was reset.
    CookieFailed,
    /// A SYN was dropped unanswered.
    SynDropped { reason: SynDropReason },
    /// A handshake completed while the accept queue was full: its ACK was
    /// dropped (the SYN-ACK is retransmitted later), or with `abort` the
    /// handshake was reset (tcp_abort_on_overflow).
    AcceptOverflow { abort: bool },
}

/// Why a listener dropped a SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynDropReason {
    /// The SYN queue was full and SYN cookies are off.
    SynQueueFull,
    /// The accept queue was full (Linux drops SYNs then too).
    AcceptQueueFull,
    /// The stack holds its maximum number of connections.
    MaxConnections,
}

impl ListenEvent {
    /// The kebab-case name the TypeScript layer uses.
    pub fn name(self) -> &'static str {
        match self {
            ListenEvent::SynQueued => "syn-queued",
            ListenEvent::CookieSent => "cookie-sent",
            ListenEvent::CookieValidated => "cookie-validated",
            ListenEvent::CookieFailed => "cookie-failed",
            ListenEvent::SynDropped { .. } => "syn-dropped",
            ListenEvent::AcceptOverflow { .. } => "accept-overflow",
        }
    }

    /// The detail: the drop reason, or `drop`/`abort` for an overflow.
    pub fn detail(self) -> Option<&'static str> {
        match self {
            ListenEvent::SynDropped { reason } => Some(match reason {
                SynDropReason::SynQueueFull => "syn-queue-full",
                SynDropReason::AcceptQueueFull => "accept-queue-full",
                SynDropReason::MaxConnections => "max-connections",
            }),
            ListenEvent::AcceptOverflow { abort } => Some(if abort { "abort" } else { "drop" }),
            _ => None,
        }
    }
}
