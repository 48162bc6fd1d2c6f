//! The stack thread: sleep in epoll, then per wake-up read a batch of
//! packets, feed the engine, fire its timers, write what it produced, read
//! connections that have read credit, and hand the user one batch of events.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tunstack_core::{Error, Event, Instant, RxMeta, SocketId, State, TxMeta};
use tunstack_device::Device;

use crate::error::RtError;
use crate::event::{Batch, Direction, EventSink, RtEvent};
use crate::poller::Poller;
use crate::shared::{Engine, Shared};
use crate::trace;

/// Packets read from the device per wake-up before the engine runs.
pub(crate) const RX_BATCH: usize = 64;
/// Bytes read from one connection per wake-up (one `Data` event).
pub(crate) const READ_CHUNK: usize = 256 * 1024;

/// What one pass over the engine decided.
struct Pass {
    /// Stop: the close finished.
    finished: bool,
    /// The engine's next timer.
    engine_deadline: Option<Instant>,
    /// A connection still has data beyond `READ_CHUNK`: run again at once.
    more_reads: bool,
    /// When a close in progress gives up waiting.
    close_deadline: Option<Instant>,
}

/// How draining one connection went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drain {
    /// Everything readable was delivered.
    Done,
    /// More than one chunk was waiting; call again.
    More,
    /// The sink holds too many undelivered bytes; retry when they are consumed.
    Throttled,
    /// Reading is off for this connection.
    Off,
}

/// The thread's own state: device, sink and reusable buffers.
pub(crate) struct StackThread {
    pub(crate) shared: Arc<Shared>,
    pub(crate) device: Box<dyn Device>,
    pub(crate) sink: Box<dyn EventSink>,
    pub(crate) poller: Poller,
    /// `RX_BATCH` slots of `slot` bytes each.
    rx_buf: Vec<u8>,
    rx_lens: Vec<usize>,
    /// What the device said about each slot's packet (receive offload).
    rx_meta: Vec<RxMeta>,
    slot: usize,
    /// Outbound packets of one pass, back to back; `tx_ends[i]` is where packet i ends.
    tx_buf: Vec<u8>,
    tx_ends: Vec<usize>,
    /// Offload request of each outbound packet (TSO, partial checksum).
    tx_meta: Vec<TxMeta>,
    /// The device failed; it is no longer read.
    device_failed: bool,
    /// Device errors of this wake-up, reported as events.
    device_errors: Vec<io::Error>,
    rx_errors: u64,
    tx_errors: u64,
    tx_packets: u64,
    /// The last read filled the batch: more is probably waiting.
    rx_full: bool,
}

impl StackThread {
    pub(crate) fn new(
        shared: Arc<Shared>,
        device: Box<dyn Device>,
        sink: Box<dyn EventSink>,
        poller: Poller,
    ) -> Self {
        // The largest packet the device can deliver (64 KiB with receive
        // offload); at least a minimal IPv4 MTU. Slots are touched only
        // when filled, so large ones cost address space, not memory.
        let slot = device
            .offload()
            .max_rx_packet
            .max(device.mtu())
            .clamp(576, 65_535);
        StackThread {
            shared,
            device,
            sink,
            poller,
            rx_buf: vec![0; RX_BATCH * slot],
            rx_lens: vec![0; RX_BATCH],
            rx_meta: vec![RxMeta::default(); RX_BATCH],
            slot,
            tx_buf: Vec::new(),
            tx_ends: Vec::new(),
            tx_meta: Vec::new(),
            device_failed: false,
            device_errors: Vec::new(),
            rx_errors: 0,
            tx_errors: 0,
            tx_packets: 0,
            rx_full: false,
        }
    }

    /// Run until closed or failed, then release everything and tell the
    /// close waiters. Never unwinds.
    pub(crate) fn run(mut self) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run_loop()));
        let reason = match outcome {
            Ok(Ok(())) => RtError::Closed,
            Ok(Err(e)) => RtError::Failed(format!("stack thread I/O error: {e}")),
            Err(panic) => RtError::Failed(panic_message(panic.as_ref())),
        };
        if let RtError::Failed(why) = &reason {
            // Tell the user once; the sink itself may be what panicked, so guard it.
            let batch = Batch::new(
                vec![RtEvent::StackError {
                    code: reason.code().to_string(),
                    message: why.clone(),
                }],
                0,
                &self.shared,
            );
            let sink = &mut self.sink;
            let _ = catch_unwind(AssertUnwindSafe(|| sink.deliver(batch)));
        }
        let StackThread {
            shared,
            device,
            sink,
            ..
        } = self;
        // The device goes first (a TUN interface disappears, a memory link
        // peer sees silence), then the sink, so that when a close waiter
        // runs, nothing of this stack is left holding resources.
        drop(device);
        drop(sink);
        let waiters = {
            let mut engine = shared
                .engine
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            engine.stopped = Some(reason);
            engine.closing.take().map(|c| c.waiters).unwrap_or_default()
        };
        for waiter in waiters {
            waiter();
        }
    }

    fn run_loop(&mut self) -> io::Result<()> {
        let mut timeout = Some(0);
        loop {
            let ready = self.poller.wait(timeout)?;
            if ready.waker {
                self.shared.waker.reset();
            }
            let now = self.shared.clock.now();
            let received = self.read_device(now, ready.device);

            let mut events = Vec::new();
            let mut data_bytes = 0;
            let (pass, now) = {
                let shared = self.shared.clone();
                let mut engine = shared.engine.lock().map_err(|_| {
                    io::Error::other("a panic occurred while the engine was locked")
                })?;
                // Read the clock under the lock: API calls do too, so the
                // engine never sees time go backwards between callers.
                let now = self.shared.clock.now();
                let pass = self.process(&mut engine, now, received, &mut events, &mut data_bytes);
                (pass, now)
            };
            self.write_device(now);
            if !events.is_empty() {
                let batch = Batch::new(events, data_bytes, &self.shared);
                self.sink.deliver(batch);
            }
            if pass.finished {
                return Ok(());
            }

            timeout = if pass.more_reads || self.rx_full {
                Some(0)
            } else {
                let device_deadline = if self.device_failed {
                    None
                } else {
                    self.device.poll_at()
                };
                [pass.engine_deadline, device_deadline, pass.close_deadline]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|t| t.saturating_sub(self.shared.clock.now()))
            };
        }
    }

    /// Read up to `RX_BATCH` packets into the slots; returns how many.
    fn read_device(&mut self, now: Instant, readable: bool) -> usize {
        if self.device_failed {
            return 0;
        }
        // Impaired devices release held packets on `recv` once their
        // `poll_at` has passed, with no fd readiness: ask then too.
        let due = readable || self.rx_full || self.device.poll_at().is_some_and(|t| t <= now);
        if !due {
            return 0;
        }
        let mut n = 0;
        while n < RX_BATCH {
            let slot = &mut self.rx_buf[n * self.slot..(n + 1) * self.slot];
            match self.device.recv_meta(now, slot) {
                Ok(Some((len, meta))) => {
                    // The trait promises len <= slot; clamp rather than trust.
                    self.rx_lens[n] = len.min(self.slot);
                    self.rx_meta[n] = RxMeta {
                        checksum_trusted: meta.checksum_trusted(),
                    };
                    n += 1;
                }
                Ok(None) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // A device whose reads fail (interface deleted, fd
                    // revoked) would keep its fd readable and make the
                    // thread spin; stop reading it and report.
                    self.rx_errors += 1;
                    self.device_failed = true;
                    self.poller.forget_device();
                    self.device_errors.push(e);
                    break;
                }
            }
        }
        self.rx_full = n == RX_BATCH;
        n
    }

    fn write_device(&mut self, now: Instant) {
        let mut start = 0;
        for (&end, meta) in self.tx_ends.iter().zip(&self.tx_meta) {
            self.tx_packets += 1;
            let meta = tunstack_device::TxMeta {
                gso_size: meta.gso_size,
                checksum_partial: meta.checksum_partial,
            };
            if self
                .device
                .send_meta(now, &self.tx_buf[start..end], meta)
                .is_err()
            {
                // The trait drops on a full queue without error; an error is
                // a real failure of this packet, and TCP retransmits.
                self.tx_errors += 1;
            }
            start = end;
        }
        self.tx_buf.clear();
        self.tx_ends.clear();
        self.tx_meta.clear();
    }

    /// One pass over the engine, with its lock held.
    fn process(
        &mut self,
        engine: &mut Engine,
        now: Instant,
        received: usize,
        events: &mut Vec<RtEvent>,
        data_bytes: &mut usize,
    ) -> Pass {
        engine.counters.wakeups += 1;
        engine.counters.device_rx_packets += received as u64;
        engine.counters.device_tx_packets += std::mem::take(&mut self.tx_packets);
        engine.counters.device_rx_errors += std::mem::take(&mut self.rx_errors);
        engine.counters.device_tx_errors += std::mem::take(&mut self.tx_errors);
        for e in self.device_errors.drain(..) {
            events.push(RtEvent::StackError {
                code: io_error_code(&e).to_string(),
                message: format!("device: {e}"),
            });
        }

        if engine.closing.as_ref().is_some_and(|c| !c.started) {
            begin_close(engine, now);
        }

        // While tracing, each packet's consequences (state changes, replies)
        // follow it in the batch, so a trace reads causally; otherwise all
        // packets go in first and their events are taken once.
        let tracing = engine.trace;
        // The whole pass is one receive batch (RFC 1122 §4.2.2.21): the
        // ACKs that only acknowledge in-order data, and the window updates
        // of the reads below, go once per connection at its end — or ride
        // on data sent meanwhile. Loss-signalling ACKs stay immediate.
        engine.stack.begin_batch();
        for i in 0..received {
            let start = i * self.slot;
            let packet = &self.rx_buf[start..start + self.rx_lens[i]];
            if tracing {
                if let Some(t) = trace::summarize(Direction::In, packet) {
                    events.push(RtEvent::Segment(t));
                }
            }
            engine.stack.receive_with(now, packet, self.rx_meta[i]);
            if tracing {
                collect_events(&self.shared, engine, now, false, events, data_bytes);
                transmit(
                    engine,
                    &mut self.tx_buf,
                    &mut self.tx_ends,
                    &mut self.tx_meta,
                    events,
                );
            }
        }
        engine.stack.poll(now);

        collect_events(&self.shared, engine, now, true, events, data_bytes);
        let more_reads = drain_pending(&self.shared, engine, now, events, data_bytes);
        engine.stack.end_batch(now);

        let mut finished = false;
        let mut close_deadline = None;
        if let Some(closing) = &engine.closing {
            let deadline = closing.deadline;
            if close_complete(engine) || now >= deadline {
                abort_remaining(engine, now);
                collect_events(&self.shared, engine, now, true, events, data_bytes);
                finished = true;
            } else {
                close_deadline = Some(deadline);
            }
        }

        transmit(
            engine,
            &mut self.tx_buf,
            &mut self.tx_ends,
            &mut self.tx_meta,
            events,
        );

        // `poll(now)` fired everything due by `now`; a deadline not after it
        // would make the thread spin, so never wait less than a moment.
        let engine_deadline = engine.stack.poll_at().map(|t| t.max(now + 1));
        engine.sleep_deadline = engine_deadline;
        if !events.is_empty() {
            engine.counters.batches += 1;
        }
        Pass {
            finished,
            engine_deadline,
            more_reads,
            close_deadline,
        }
    }
}

/// Move the engine's outbound packets into the thread's buffer (written to
/// the device after the lock is released), tracing them if asked.
fn transmit(
    engine: &mut Engine,
    tx_buf: &mut Vec<u8>,
    tx_ends: &mut Vec<usize>,
    tx_meta: &mut Vec<TxMeta>,
    events: &mut Vec<RtEvent>,
) {
    let trace = engine.trace;
    engine
        .stack
        .transmit_with(&mut |packet: &[u8], meta: TxMeta| {
            tx_meta.push(meta);
            if trace {
                if let Some(t) = trace::summarize(Direction::Out, packet) {
                    events.push(RtEvent::Segment(t));
                }
            }
            tx_buf.extend_from_slice(packet);
            tx_ends.push(tx_buf.len());
        });
}

/// Turn the engine's pending events into runtime events. With
/// `inline_reads`, data of connections with read credit is read in place,
/// so it precedes whatever the engine reported after it (a reset);
/// without (per-packet collection while tracing), readable connections are
/// queued and read once at the end of the pass, still one buffer per
/// connection per batch. An orderly close always reads first (`on_closed`).
fn collect_events(
    shared: &Shared,
    engine: &mut Engine,
    now: Instant,
    inline_reads: bool,
    events: &mut Vec<RtEvent>,
    data_bytes: &mut usize,
) {
    while let Some(event) = engine.stack.poll_event() {
        match event {
            Event::Acceptable { listener } => events.push(RtEvent::Acceptable { listener }),
            Event::Connected { id } => events.push(RtEvent::Connected { id }),
            Event::Readable { id } if !inline_reads => engine.queue_read(id),
            Event::Readable { id } => {
                if engine.flows.contains_key(&id) {
                    match drain(shared, engine, id, now, events, data_bytes) {
                        Drain::More | Drain::Throttled => engine.queue_read(id),
                        Drain::Done | Drain::Off => {}
                    }
                }
            }
            Event::Urgent { id } => {
                // Taken at once, as a reader waiting in select() for an
                // exceptional condition would; a later mark in the same
                // pass has already replaced it (then nothing is taken).
                if let Some(u) = engine.stack.tcp_recv_urgent(id) {
                    events.push(RtEvent::Urgent {
                        id,
                        byte: u.byte,
                        offset: u.offset,
                        inline: u.inline,
                    });
                }
            }
            Event::Writable { id } => events.push(RtEvent::Writable { id }),
            Event::Flushed { id } => events.push(RtEvent::Flushed { id }),
            Event::Closed { id, error } => {
                on_closed(shared, engine, id, error, now, events, data_bytes)
            }
            Event::StateChanged { id, from, to } => events.push(RtEvent::State { id, from, to }),
            Event::Retransmit {
                id,
                seq,
                len,
                attempt,
                rto_us,
            } => events.push(RtEvent::Retransmit {
                id,
                seq,
                len,
                attempt,
                rto_us,
            }),
            Event::Note { id, note } => events.push(RtEvent::Note { id, note }),
            Event::Window { id, what } => events.push(RtEvent::Window { id, what }),
            Event::Congestion {
                id,
                cause,
                cwnd,
                ssthresh,
            } => events.push(RtEvent::Congestion {
                id,
                cause,
                cwnd,
                ssthresh,
            }),
            Event::Listen {
                listener,
                remote,
                what,
            } => events.push(RtEvent::Listen {
                listener,
                remote,
                what,
            }),
            Event::UdpReadable { id } => loop {
                let mut data = Vec::new();
                match engine.stack.udp_recv(id, &mut data) {
                    Some(from) => {
                        shared.in_flight.fetch_add(data.len(), Ordering::AcqRel);
                        *data_bytes += data.len();
                        events.push(RtEvent::Udp { id, data, from });
                    }
                    None => break,
                }
            },
        }
    }
}

/// Read what one connection has (up to `READ_CHUNK`) into one `Data`
/// event, then `End` once the FIN has been read.
fn drain(
    shared: &Shared,
    engine: &mut Engine,
    id: SocketId,
    now: Instant,
    events: &mut Vec<RtEvent>,
    data_bytes: &mut usize,
) -> Drain {
    let Some(flow) = engine.flows.get(&id) else {
        return Drain::Done;
    };
    if !flow.reading {
        return Drain::Off;
    }
    if shared.in_flight.load(Ordering::Acquire) >= shared.in_flight_limit {
        engine.counters.read_throttled += 1;
        return Drain::Throttled;
    }
    // Size the buffer from what is queued so one allocation usually fits.
    let hint = engine
        .stack
        .tcp_info(id)
        .map_or(0, |i| i.recv_queue as usize)
        .min(READ_CHUNK);
    let mut data = Vec::with_capacity(hint);
    let read = engine
        .stack
        .tcp_recv(now, id, &mut data, READ_CHUNK)
        .unwrap_or(0);
    if read > 0 {
        shared.in_flight.fetch_add(data.len(), Ordering::AcqRel);
        *data_bytes += data.len();
        events.push(RtEvent::Data { id, data });
    }
    if read >= READ_CHUNK {
        return Drain::More;
    }
    let at_eof = engine.stack.tcp_at_eof(id);
    if let Some(flow) = engine.flows.get_mut(&id) {
        if at_eof && !flow.eof_sent {
            flow.eof_sent = true;
            events.push(RtEvent::End { id });
            if flow.held_close {
                flow.held_close = false;
                events.push(RtEvent::Closed { id, error: None });
            }
        }
    }
    Drain::Done
}

/// A connection ended. An orderly close is reported after the data and
/// `End` the user has not read yet, so `closed` always comes last.
fn on_closed(
    shared: &Shared,
    engine: &mut Engine,
    id: SocketId,
    error: Option<Error>,
    now: Instant,
    events: &mut Vec<RtEvent>,
    data_bytes: &mut usize,
) {
    let Some(flow) = engine.flows.get_mut(&id) else {
        events.push(RtEvent::Closed { id, error });
        return;
    };
    flow.closed = true;
    if error.is_some() || flow.eof_sent {
        events.push(RtEvent::Closed { id, error });
        return;
    }
    let drained = drain(shared, engine, id, now, events, data_bytes);
    let Some(flow) = engine.flows.get(&id) else {
        return;
    };
    if flow.eof_sent {
        events.push(RtEvent::Closed { id, error });
        return;
    }
    let unread =
        engine.stack.tcp_at_eof(id) || engine.stack.tcp_info(id).is_some_and(|i| i.recv_queue > 0);
    if unread {
        if let Some(flow) = engine.flows.get_mut(&id) {
            flow.held_close = true;
        }
        if matches!(drained, Drain::More | Drain::Throttled) {
            engine.queue_read(id);
        }
    } else {
        events.push(RtEvent::Closed { id, error });
    }
}

/// Drain the connections queued by `set_reading(true)`, `accept`, or an
/// earlier pass that hit the chunk limit or the budget. Returns true when
/// some connection has more right now (run again without sleeping).
fn drain_pending(
    shared: &Shared,
    engine: &mut Engine,
    now: Instant,
    events: &mut Vec<RtEvent>,
    data_bytes: &mut usize,
) -> bool {
    if engine.pending_reads.is_empty() {
        return false;
    }
    let ids = std::mem::take(&mut engine.pending_reads);
    let mut more = false;
    for id in ids {
        match drain(shared, engine, id, now, events, data_bytes) {
            Drain::More => {
                more = true;
                engine.pending_reads.push(id);
            }
            // Stays queued; the sink's consumption wakes the thread.
            Drain::Throttled => engine.pending_reads.push(id),
            Drain::Done | Drain::Off => {
                if let Some(flow) = engine.flows.get_mut(&id) {
                    flow.queued = false;
                }
            }
        }
    }
    more
}

/// Start a graceful close, as the kernel closes a dying process's
/// sockets: FIN on every connection (RST where received data is unread),
/// stop listening, drop UDP sockets. With no grace left the connections
/// get only the RST that follows, not a FIN first.
fn begin_close(engine: &mut Engine, now: Instant) {
    let graceful = engine.closing.as_ref().is_some_and(|c| now < c.deadline);
    let open: Vec<SocketId> = engine
        .flows
        .iter()
        .filter(|(_, f)| !f.closed)
        .map(|(id, _)| *id)
        .collect();
    for id in open.into_iter().filter(|_| graceful) {
        // Already shut down or closing: nothing more to do for it.
        let _ = engine.stack.tcp_close(now, id);
    }
    for listener in std::mem::take(&mut engine.listeners) {
        engine.stack.tcp_release(now, listener);
    }
    for udp in std::mem::take(&mut engine.udp) {
        engine.stack.udp_release(udp);
    }
    if let Some(closing) = engine.closing.as_mut() {
        closing.started = true;
    }
}

/// Every TCP socket (user-held or orphaned) has finished its exchange of
/// FINs; TIME_WAIT needs no more packets from us that matter.
fn close_complete(engine: &Engine) -> bool {
    engine
        .stack
        .netstat()
        .iter()
        .all(|e| e.proto != "tcp" || matches!(e.state, State::TimeWait | State::Closed))
}

/// Reset what did not close in time.
fn abort_remaining(engine: &mut Engine, now: Instant) {
    let open: Vec<SocketId> = engine
        .flows
        .iter()
        .filter(|(_, f)| !f.closed)
        .map(|(id, _)| *id)
        .collect();
    for id in open {
        let live = engine
            .stack
            .tcp_info(id)
            .is_some_and(|i| !matches!(i.state, State::TimeWait | State::Closed));
        if live {
            engine.stack.tcp_abort(now, id);
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("panic in the stack thread: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("panic in the stack thread: {s}")
    } else {
        "panic in the stack thread".to_string()
    }
}

/// The Node.js-style code of an I/O error.
pub(crate) fn io_error_code(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM) => "EPERM",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EBADF) => "EBADF",
        Some(libc::EBADFD) => "EBADFD",
        Some(libc::ENODEV) => "ENODEV",
        Some(libc::ENXIO) => "ENXIO",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::ENOBUFS) => "ENOBUFS",
        Some(libc::ENOMEM) => "ENOMEM",
        Some(libc::ENETDOWN) => "ENETDOWN",
        _ => "EIO",
    }
}
