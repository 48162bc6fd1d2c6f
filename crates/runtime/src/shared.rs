//! State shared between the stack thread and the threads that call the
//! runtime's API (JS): the engine behind one mutex, the waker, the clock,
//! and the read budget.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, MutexGuard};

use tunstack_core::{Instant, SocketId, Stack};

use crate::clock::Clock;
use crate::error::RtError;
use crate::stats::RuntimeCounters;
use crate::waker::Waker;

/// The runtime's view of one connection the user holds: read credit and
/// what has been reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flow {
    /// The user grants read credit: received data is read and delivered.
    pub(crate) reading: bool,
    /// In `Engine::pending_reads` (waiting to be drained).
    pub(crate) queued: bool,
    /// `End` was delivered.
    pub(crate) eof_sent: bool,
    /// The engine reported `Closed`.
    pub(crate) closed: bool,
    /// An orderly `Closed` held back until `End` is delivered.
    pub(crate) held_close: bool,
}

/// A close in progress or requested.
pub(crate) struct Closing {
    /// When what is still open gets reset.
    pub(crate) deadline: Instant,
    /// Every connection was shut down and listeners/UDP sockets released.
    pub(crate) started: bool,
    /// Called once the thread has stopped and dropped the device.
    pub(crate) waiters: Vec<Box<dyn FnOnce() + Send>>,
}

/// Everything behind the engine mutex.
pub(crate) struct Engine {
    pub(crate) stack: Stack,
    /// Connections handed to the user (connected or accepted, not released).
    pub(crate) flows: HashMap<SocketId, Flow>,
    /// Connections with data to read on the next wake-up.
    pub(crate) pending_reads: Vec<SocketId>,
    /// Listeners the user holds.
    pub(crate) listeners: HashSet<SocketId>,
    /// UDP sockets the user holds.
    pub(crate) udp: HashSet<SocketId>,
    /// Emit a `Segment` event per packet.
    pub(crate) trace: bool,
    /// The engine deadline the thread sleeps toward (None = none). Calls
    /// that arm an earlier timer wake the thread.
    pub(crate) sleep_deadline: Option<Instant>,
    pub(crate) closing: Option<Closing>,
    /// Set when the thread has stopped; every call then fails with it.
    pub(crate) stopped: Option<RtError>,
    pub(crate) counters: RuntimeCounters,
}

impl Engine {
    pub(crate) fn new(stack: Stack) -> Engine {
        Engine {
            stack,
            flows: HashMap::new(),
            pending_reads: Vec::new(),
            listeners: HashSet::new(),
            udp: HashSet::new(),
            trace: false,
            sleep_deadline: None,
            closing: None,
            stopped: None,
            counters: RuntimeCounters::default(),
        }
    }

    /// Queue a connection for draining on the next wake-up.
    pub(crate) fn queue_read(&mut self, id: SocketId) {
        if let Some(flow) = self.flows.get_mut(&id) {
            if !flow.queued {
                flow.queued = true;
                self.pending_reads.push(id);
            }
        }
    }

    /// True when the thread must run soon to act on what a call just did:
    /// packets to send, or a timer earlier than the one it sleeps toward.
    pub(crate) fn needs_thread(&self) -> bool {
        if self.stack.has_transmit() {
            return true;
        }
        match (self.stack.poll_at(), self.sleep_deadline) {
            (Some(t), Some(sleep)) => t < sleep,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Shared by the runtime handle, the thread and delivered batches.
pub(crate) struct Shared {
    pub(crate) engine: Mutex<Engine>,
    pub(crate) waker: Waker,
    pub(crate) clock: Clock,
    /// Payload bytes delivered in batches not yet dropped by the sink.
    pub(crate) in_flight: AtomicUsize,
    /// Above this many in-flight bytes the thread stops reading connections.
    pub(crate) in_flight_limit: usize,
}

impl Shared {
    /// The engine, or why the stack can no longer be used.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Engine>, RtError> {
        let engine = self
            .engine
            .lock()
            .map_err(|_| RtError::Failed("a panic occurred while the engine was locked".into()))?;
        if let Some(why) = &engine.stopped {
            return Err(why.clone());
        }
        Ok(engine)
    }
}
