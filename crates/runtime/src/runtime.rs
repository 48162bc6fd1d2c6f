//! The handle to a running stack: starts the thread and offers the socket
//! API to other threads. Every call takes the engine lock briefly, copies
//! bytes in or out, and wakes the thread only when it has something to do.

use std::io;
use std::net::SocketAddrV4;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tunstack_core::{
    CongestionAlgorithm, ListenOptions, ListenerQueues, NetstatEntry, SocketId, Stack, StackConfig,
    TcpInfo,
};
use tunstack_device::Device;

use crate::clock::Clock;
use crate::error::RtError;
use crate::event::EventSink;
use crate::poller::Poller;
use crate::shared::{Closing, Engine, Flow, Shared};
use crate::stack_thread::StackThread;
use crate::stats::stats_pairs;
use crate::waker::Waker;

/// Tunables of the runtime itself (the engine's are in `StackConfig`).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Payload bytes delivered to the sink and not yet consumed (batches
    /// not yet dropped) above which the thread stops reading connections.
    pub in_flight_limit: usize,
    /// Start with per-packet tracing on.
    pub trace: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            in_flight_limit: 4 * 1024 * 1024,
            trace: false,
        }
    }
}

/// A running stack: one thread driving one engine over one device.
/// Dropping it resets every connection and stops the thread.
pub struct Runtime {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

type Result<T> = std::result::Result<T, RtError>;

impl Runtime {
    /// Start a stack over `device`, reporting to `sink`.
    pub fn start(
        device: Box<dyn Device>,
        config: StackConfig,
        sink: Box<dyn EventSink>,
    ) -> io::Result<Runtime> {
        Runtime::start_with(device, config, sink, RuntimeOptions::default())
    }

    /// [`Runtime::start`] with runtime options.
    pub fn start_with(
        device: Box<dyn Device>,
        config: StackConfig,
        sink: Box<dyn EventSink>,
        options: RuntimeOptions,
    ) -> io::Result<Runtime> {
        let waker = Waker::new()?;
        let poller = Poller::new(device.readiness_fd(), waker.fd())?;
        // The engine builds for the device it talks to: TSO segments and
        // partial checksums only where the device completes them.
        let offload = device.offload();
        let mut config = config;
        config.offload = tunstack_core::OffloadConfig {
            tso_max_payload: u32::try_from(offload.tso_max_payload).unwrap_or(u32::MAX),
            tx_checksum: offload.tx_checksum,
        };
        let mut engine = Engine::new(Stack::new(config));
        engine.trace = options.trace;
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            waker,
            clock: Clock::new(),
            in_flight: AtomicUsize::new(0),
            in_flight_limit: options.in_flight_limit.max(1),
        });
        let name = format!("tunstack {}", device.name());
        let thread = StackThread::new(shared.clone(), device, sink, poller);
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || thread.run())?;
        Ok(Runtime {
            shared,
            thread: Some(thread),
        })
    }

    /// Microseconds on the runtime's clock (the engine's `now`).
    pub fn now(&self) -> u64 {
        self.shared.clock.now()
    }

    fn engine(&self) -> Result<MutexGuard<'_, Engine>> {
        self.shared.lock()
    }

    /// The engine, refusing new sockets while a close is in progress.
    fn engine_open(&self) -> Result<MutexGuard<'_, Engine>> {
        let engine = self.engine()?;
        if engine.closing.is_some() {
            return Err(RtError::Closed);
        }
        Ok(engine)
    }

    fn wake(&self) {
        self.shared.waker.wake();
    }

    /// Wake the thread if the call left it work (packets, an earlier timer).
    fn wake_if_needed(&self, engine: &Engine) {
        if engine.needs_thread() {
            self.wake();
        }
    }

    // ---- TCP ----

    /// Listen on `local`; `backlog` bounds the accept queue.
    pub fn tcp_listen(&self, local: SocketAddrV4, backlog: u32) -> Result<SocketId> {
        self.tcp_listen_with(local, backlog, ListenOptions::default())
    }

    /// [`Runtime::tcp_listen`] with per-listener options.
    pub fn tcp_listen_with(
        &self,
        local: SocketAddrV4,
        backlog: u32,
        options: ListenOptions,
    ) -> Result<SocketId> {
        let mut engine = self.engine_open()?;
        let id = engine.stack.tcp_listen_with(local, backlog, options)?;
        engine.listeners.insert(id);
        drop(engine);
        self.wake();
        Ok(id)
    }

    /// Take one connection from a listener's accept queue. The connection
    /// starts with reading on; data that arrived before the accept is
    /// delivered on the next wake-up.
    pub fn tcp_accept(&self, listener: SocketId) -> Result<Option<SocketId>> {
        let mut engine = self.engine_open()?;
        let Some(id) = engine.stack.tcp_accept(listener) else {
            return Ok(None);
        };
        engine.flows.insert(
            id,
            Flow {
                reading: true,
                ..Flow::default()
            },
        );
        engine.queue_read(id);
        drop(engine);
        self.wake();
        Ok(Some(id))
    }

    /// Start connecting to `remote`; `Connected` or `Closed` follows. Reading
    /// starts on.
    pub fn tcp_connect(&self, remote: SocketAddrV4, local_port: Option<u16>) -> Result<SocketId> {
        let mut engine = self.engine_open()?;
        let now = self.now();
        let id = engine.stack.tcp_connect(now, remote, local_port)?;
        engine.flows.insert(
            id,
            Flow {
                reading: true,
                ..Flow::default()
            },
        );
        drop(engine);
        self.wake();
        Ok(id)
    }

    /// Copy as much of `data` as fits into the send buffer; returns the
    /// bytes taken (0 when full: `Writable` follows when space frees up).
    pub fn tcp_write(&self, id: SocketId, data: &[u8]) -> Result<usize> {
        let mut engine = self.engine()?;
        let now = self.now();
        let n = engine.stack.tcp_send(now, id, data)?;
        self.wake_if_needed(&engine);
        Ok(n)
    }

    /// Like `tcp_write`, with MSG_OOB: the last byte taken becomes urgent
    /// data (legacy, RFC 6093).
    pub fn tcp_write_urgent(&self, id: SocketId, data: &[u8]) -> Result<usize> {
        let mut engine = self.engine()?;
        let now = self.now();
        let n = engine.stack.tcp_send_urgent(now, id, data)?;
        self.wake_if_needed(&engine);
        Ok(n)
    }

    /// IP_TOS on a connection or (inherited by accepted ones) a listener.
    pub fn tcp_set_tos(&self, id: SocketId, tos: u8) -> Result<()> {
        self.engine()?.stack.tcp_set_tos(id, tos)?;
        Ok(())
    }

    /// The DS field set with [`Runtime::tcp_set_tos`].
    pub fn tcp_tos(&self, id: SocketId) -> Result<u8> {
        Ok(self.engine()?.stack.tcp_tos(id)?)
    }

    /// SO_OOBINLINE on a connection or (inherited by accepted ones) a listener.
    pub fn tcp_set_urgent_inline(&self, id: SocketId, inline: bool) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.tcp_set_urgent_inline(id, inline)?;
        Ok(())
    }

    /// Grant or withdraw read credit. While off, received data stays in the
    /// engine, so the advertised window closes and the peer stops.
    pub fn tcp_set_reading(&self, id: SocketId, reading: bool) -> Result<()> {
        let mut engine = self.engine()?;
        let flow = engine
            .flows
            .get_mut(&id)
            .ok_or(RtError::Engine(tunstack_core::Error::BadHandle))?;
        let was = flow.reading;
        flow.reading = reading;
        if reading && !was {
            // Data (or the FIN) may have arrived while reading was off and
            // no new event will announce it: look on the next wake-up.
            engine.queue_read(id);
            drop(engine);
            self.wake();
        }
        Ok(())
    }

    /// Half-close: FIN after everything queued.
    pub fn tcp_shutdown(&self, id: SocketId) -> Result<()> {
        let mut engine = self.engine()?;
        let now = self.now();
        engine.stack.tcp_shutdown(now, id)?;
        drop(engine);
        self.wake();
        Ok(())
    }

    /// Send RST and drop the connection.
    pub fn tcp_abort(&self, id: SocketId) -> Result<()> {
        let mut engine = self.engine()?;
        let now = self.now();
        engine.stack.tcp_abort(now, id);
        drop(engine);
        self.wake();
        Ok(())
    }

    /// Let go of a listener or connection (close(2)); no more events for it.
    pub fn tcp_release(&self, id: SocketId) -> Result<()> {
        let mut engine = self.engine()?;
        let now = self.now();
        engine.flows.remove(&id);
        engine.listeners.remove(&id);
        engine.stack.tcp_release(now, id);
        drop(engine);
        self.wake();
        Ok(())
    }

    /// TCP_NODELAY.
    pub fn tcp_set_nodelay(&self, id: SocketId, nodelay: bool) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.tcp_set_nodelay(id, nodelay)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_CORK: hold back sub-MSS segments while on; off sends them.
    pub fn tcp_set_cork(&self, id: SocketId, cork: bool) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.tcp_set_cork(id, cork)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_QUICKACK: ACK every data segment at once while on.
    pub fn tcp_set_quickack(&self, id: SocketId, quickack: bool) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.tcp_set_quickack(id, quickack)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_CONGESTION: the algorithm of a connection (any time) or of a
    /// listener (for the connections it accepts from now on).
    pub fn tcp_set_congestion_control(
        &self,
        id: SocketId,
        algorithm: CongestionAlgorithm,
    ) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.tcp_set_congestion_control(id, algorithm)?;
        Ok(())
    }

    /// Keepalive after `idle` without traffic (None = off).
    pub fn tcp_set_keepalive(&self, id: SocketId, idle: Option<Duration>) -> Result<()> {
        let mut engine = self.engine()?;
        let idle_us = idle.map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        engine.stack.tcp_set_keepalive(id, idle_us)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_KEEPINTVL and TCP_KEEPCNT.
    pub fn tcp_set_keepalive_probes(
        &self,
        id: SocketId,
        interval: Duration,
        probes: u32,
    ) -> Result<()> {
        let mut engine = self.engine()?;
        let interval_us = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        engine
            .stack
            .tcp_set_keepalive_probes(id, interval_us, probes)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_USER_TIMEOUT (zero = off).
    pub fn tcp_set_user_timeout(&self, id: SocketId, timeout: Duration) -> Result<()> {
        let mut engine = self.engine()?;
        let us = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        engine.stack.tcp_set_user_timeout(id, us)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// TCP_INFO-like snapshot.
    pub fn tcp_info(&self, id: SocketId) -> Result<Option<TcpInfo>> {
        Ok(self.engine()?.stack.tcp_info(id))
    }

    /// Local address of a listener, connection or UDP socket.
    pub fn local_addr(&self, id: SocketId) -> Result<Option<SocketAddrV4>> {
        Ok(self.engine()?.stack.local_addr(id))
    }

    /// A listener's queues and counters.
    pub fn listener_queues(&self, id: SocketId) -> Result<Option<ListenerQueues>> {
        Ok(self.engine()?.stack.listener_queues(id))
    }

    /// Every socket, like `ss -tuan`.
    pub fn netstat(&self) -> Result<Vec<NetstatEntry>> {
        Ok(self.engine()?.stack.netstat())
    }

    /// Engine and runtime counters as (snake_case name, value).
    pub fn stats(&self) -> Result<Vec<(&'static str, u64)>> {
        let engine = self.engine()?;
        Ok(stats_pairs(engine.stack.stats(), &engine.counters))
    }

    // ---- UDP ----

    /// Bind a UDP socket.
    pub fn udp_bind(&self, local: SocketAddrV4) -> Result<SocketId> {
        let mut engine = self.engine_open()?;
        let id = engine.stack.udp_bind(local)?;
        engine.udp.insert(id);
        Ok(id)
    }

    /// Send one datagram.
    pub fn udp_send_to(&self, id: SocketId, remote: SocketAddrV4, data: &[u8]) -> Result<()> {
        let mut engine = self.engine()?;
        engine.stack.udp_send_to(id, remote, data)?;
        self.wake_if_needed(&engine);
        Ok(())
    }

    /// Close a UDP socket.
    pub fn udp_release(&self, id: SocketId) -> Result<()> {
        let mut engine = self.engine()?;
        engine.udp.remove(&id);
        engine.stack.udp_release(id);
        Ok(())
    }

    // ---- the stack ----

    /// Turn per-packet `Segment` events on or off.
    pub fn set_trace(&self, on: bool) -> Result<()> {
        self.engine()?.trace = on;
        Ok(())
    }

    /// True once the thread has stopped.
    pub fn is_stopped(&self) -> bool {
        let engine = self.shared.engine.lock().unwrap_or_else(|p| p.into_inner());
        engine.stopped.is_some()
    }

    /// Close gracefully: FIN every connection, stop listening, wait up to
    /// `grace` for the closes to complete, reset the rest, stop the thread
    /// and drop the device; then call `done` (on the stack thread, or here
    /// if the stack has already stopped). Calling it again only adds a
    /// waiter (and may shorten the grace).
    pub fn close(&self, grace: Duration, done: impl FnOnce() + Send + 'static) {
        let mut engine = self.shared.engine.lock().unwrap_or_else(|p| p.into_inner());
        if engine.stopped.is_some() {
            drop(engine);
            done();
            return;
        }
        let deadline = self
            .now()
            .saturating_add(u64::try_from(grace.as_micros()).unwrap_or(u64::MAX));
        match engine.closing.as_mut() {
            Some(closing) => {
                closing.deadline = closing.deadline.min(deadline);
                closing.waiters.push(Box::new(done));
            }
            None => {
                engine.closing = Some(Closing {
                    deadline,
                    started: false,
                    waiters: vec![Box::new(done)],
                })
            }
        }
        drop(engine);
        self.wake();
    }

    /// [`Runtime::close`], waiting at most `wait` for the thread to finish
    /// (for a process that is exiting: it must not hang on a stuck device).
    /// Returns true when the close completed in time.
    pub fn close_within(&self, grace: Duration, wait: Duration) -> bool {
        let (tx, rx) = mpsc::channel();
        self.close(grace, move || {
            let _ = tx.send(());
        });
        rx.recv_timeout(wait).is_ok()
    }

    /// [`Runtime::close`], waiting for the thread to stop.
    pub fn close_and_wait(mut self, grace: Duration) {
        self.stop(grace);
    }

    fn stop(&mut self, grace: Duration) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if thread.thread().id() == std::thread::current().id() {
            // Dropped from its own sink: waiting would deadlock; the thread
            // sees the request on its next pass and ends by itself.
            self.close(grace, || {});
            return;
        }
        let (tx, rx) = mpsc::channel();
        self.close(grace, move || {
            let _ = tx.send(());
        });
        // The waiter runs when the thread ends; a dropped sender (thread
        // gone without running it) also ends the wait.
        let _ = rx.recv();
        let _ = thread.join();
    }
}

impl Drop for Runtime {
    /// Without a close in progress: reset every connection and wait for the
    /// thread. With one: let it finish its grace period on its own (its
    /// waiters still run), so dropping the handle does not cut it short.
    fn drop(&mut self) {
        let closing = {
            let engine = self.shared.engine.lock().unwrap_or_else(|p| p.into_inner());
            engine.closing.is_some() || engine.stopped.is_some()
        };
        if closing {
            // Detach: the thread owns what it needs (`Arc<Shared>`).
            self.thread.take();
        } else {
            self.stop(Duration::ZERO);
        }
    }
}
