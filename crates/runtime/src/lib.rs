//! tunstack-runtime: the stack thread.
//!
//! One [`Runtime`] = one OS thread driving one engine
//! ([`tunstack_core::Stack`]) over one [`tunstack_device::Device`]. The
//! thread sleeps in epoll on the device's readiness fd, an eventfd that API
//! calls use to wake it, and the nearest deadline (engine timers, device
//! delay queues). Per wake-up it reads a batch of packets, runs the engine,
//! writes the packets it produced, reads connections that have read credit
//! and hands the [`EventSink`] one [`Batch`] of [`RtEvent`]s.
//!
//! API calls ([`Runtime::tcp_write`] and friends) may come from any thread:
//! they lock the engine briefly and wake the thread only when it has new
//! work. Backpressure runs end to end: a consumer that withdraws read credit
//! ([`Runtime::tcp_set_reading`]) or holds on to batches stops the reading,
//! the receive buffer fills and TCP's window closes; a full send buffer
//! makes `tcp_write` take fewer bytes until a `Writable` event.

mod clock;
mod error;
mod event;
mod poller;
mod runtime;
mod shared;
mod stack_thread;
mod stats;
mod trace;
mod waker;

pub use clock::Clock;
pub use error::RtError;
pub use event::{Batch, Direction, EventSink, RtEvent, SegmentTrace};
pub use runtime::{Runtime, RuntimeOptions};
pub use stats::RuntimeCounters;
pub use tunstack_core::{
    event::Note, CongestionAlgorithm, CongestionCause, Error, IcmpAction, IcmpNote, ListenEvent,
    ListenOptions, ListenerQueues, NetstatEntry, SocketId, StackConfig, State, SynCookies,
    SynDropReason, TcpConfig, TcpInfo, WindowEvent,
};
