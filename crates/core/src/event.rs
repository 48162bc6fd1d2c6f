//! What the engine reports to its driver. Events are edge-triggered hints:
//! the driver reacts by calling the matching `Stack` method.

use crate::error::Error;
use crate::stack::SocketId;
use crate::tcp::state::State;

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
    /// The peer's urgent octet arrived (URG, RFC 9293 §3.8.5; legacy, see
    /// RFC 6093): take it with `tcp_recv_urgent`.
    Urgent { id: SocketId },
    /// A UDP datagram is waiting in a bound UDP socket's queue; call `udp_recv`.
    UdpReadable { id: SocketId },
}
