//! What the stack thread hands to its user: one [`Batch`] of [`RtEvent`]s
//! per wake-up, never one call per packet.

use std::fmt;
use std::net::SocketAddrV4;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tunstack_core::{CongestionCause, Error, ListenEvent, SocketId, State, WindowEvent};

use crate::shared::Shared;

/// Direction of a traced packet, seen from the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the device.
    In,
    /// Sent to the device.
    Out,
}

impl Direction {
    /// "in" or "out".
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// One traced packet (only while tracing is on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTrace {
    pub dir: Direction,
    /// "addr:port" for TCP/UDP, "addr" otherwise.
    pub src: String,
    pub dst: String,
    /// TCP flags as words ("SYN,ACK", "FIN,ACK", "RST"); empty for non-TCP.
    pub flags: String,
    pub seq: u32,
    pub ack: u32,
    pub window: u32,
    /// Payload length in bytes.
    pub len: u32,
    /// One readable line, like tcpdump's.
    pub text: String,
}

/// An event delivered to the user of the runtime. Mirrors the engine's
/// events, except that readable data is already read: `Data` carries the
/// bytes (one buffer per connection per batch) and `End` the FIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtEvent {
    /// A listener has connections waiting; call `tcp_accept` until `None`.
    Acceptable { listener: SocketId },
    /// An active open completed.
    Connected { id: SocketId },
    /// Bytes read from a connection whose reading is on.
    Data { id: SocketId, data: Vec<u8> },
    /// The peer's FIN, after all data; sent once per connection.
    End { id: SocketId },
    /// The peer's urgent byte (URG; legacy, RFC 6093). `offset`: stream
    /// bytes before the mark; `inline`: the byte also stays in the stream.
    Urgent {
        id: SocketId,
        byte: u8,
        offset: u64,
        inline: bool,
    },
    /// Send-buffer space freed after a short write.
    Writable { id: SocketId },
    /// Everything written (and our FIN) was acknowledged.
    Flushed { id: SocketId },
    /// The connection ended; `None` = orderly. An orderly close is reported
    /// only after `End` (held back while reading is off).
    Closed { id: SocketId, error: Option<Error> },
    /// A TCP state transition.
    State {
        id: SocketId,
        from: State,
        to: State,
    },
    /// A retransmission timeout fired for a segment.
    Retransmit {
        id: SocketId,
        seq: u32,
        len: u32,
        attempt: u32,
        rto_us: u64,
    },
    /// A diagnostic note of the engine (RST sent or received, challenge
    /// ACK), for the opt-in 'tcp' events.
    Note {
        id: SocketId,
        note: tunstack_core::event::Note,
    },
    /// Flow control: the peer's window closed, was probed or reopened, or
    /// ours opened again after being zero.
    Window { id: SocketId, what: WindowEvent },
    /// cwnd/ssthresh changed by a loss response (or restart after idle);
    /// the values after the change, in bytes.
    Congestion {
        id: SocketId,
        cause: CongestionCause,
        cwnd: u32,
        ssthresh: u32,
    },
    /// Something happened at a listener's queues.
    Listen {
        listener: SocketId,
        remote: SocketAddrV4,
        what: ListenEvent,
    },
    /// One UDP datagram.
    Udp {
        id: SocketId,
        data: Vec<u8>,
        from: SocketAddrV4,
    },
    /// One packet in or out (tracing only).
    Segment(SegmentTrace),
    /// The stack hit a fault: the device failed (it is no longer read) or
    /// the thread died (the stack is closed). `code` is a Node.js-style code.
    StackError { code: String, message: String },
}

/// The events of one wake-up. Holding a batch holds back the stack's
/// reading: the bytes in its `Data` events count against a per-stack
/// in-flight budget until the batch is dropped, so a consumer that falls
/// behind (a busy JS thread with queued batches) stops further reads and
/// the TCP window closes instead of memory growing without bound.
pub struct Batch {
    /// The events, in the order they happened.
    pub events: Vec<RtEvent>,
    credit: DataCredit,
}

impl Batch {
    pub(crate) fn new(events: Vec<RtEvent>, data_bytes: usize, shared: &Arc<Shared>) -> Batch {
        Batch {
            events,
            credit: DataCredit {
                bytes: data_bytes,
                shared: shared.clone(),
            },
        }
    }

    /// Bytes of `Data` and `Udp` payload in this batch.
    pub fn data_bytes(&self) -> usize {
        self.credit.bytes
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("events", &self.events)
            .field("data_bytes", &self.credit.bytes)
            .finish()
    }
}

/// Returns a batch's bytes to the in-flight budget when the batch is dropped.
struct DataCredit {
    bytes: usize,
    shared: Arc<Shared>,
}

impl Drop for DataCredit {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let before = self
            .shared
            .in_flight
            .fetch_sub(self.bytes, Ordering::AcqRel);
        // Wake the thread only when this return re-opens reading.
        if before >= self.shared.in_flight_limit
            && before - self.bytes < self.shared.in_flight_limit
        {
            self.shared.waker.wake();
        }
    }
}

/// Receives the event batches. Called on the stack thread; must not block
/// for long (hand the batch to another thread or queue).
pub trait EventSink: Send + 'static {
    /// One batch; never empty.
    fn deliver(&mut self, batch: Batch);
}

impl<F: FnMut(Batch) + Send + 'static> EventSink for F {
    fn deliver(&mut self, batch: Batch) {
        self(batch)
    }
}
