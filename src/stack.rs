//! `openStack` and the `NativeStack` class: a running stack's API.
//!
//! Event-loop liveness mirrors a node server: an open stack's event
//! callback is a referenced threadsafe function, so the process stays
//! alive while the stack is open; `close()` releases it (when its promise
//! settles nothing of the stack holds the loop). `unref()`/`ref()` let the
//! TS layer opt out and back in, like `server.unref()`.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{BufferSlice, Function, Object};
use napi::threadsafe_function::ThreadsafeCallContext;
use napi::Env;
use napi_derive::napi;

use tunstack_runtime::{ListenOptions, Runtime, RuntimeOptions};

use crate::address::{js_id, socket_addr, socket_id};
use crate::device::NativeDevice;
use crate::error::{from_napi, guard, invalid, io_error, runtime_error, Result};
use crate::events::{to_js, EventsFn, JsSink};
use crate::objects::{NativeAddress, NativeEvent, NativeNetstatEntry, NativeQueues, NativeTcpInfo};
use crate::options::NativeStackOptions;

/// The event callback, shared by the stack thread's sink and this handle
/// (which drops its reference when the stack closes).
type EventsSlot = Arc<Mutex<Option<Arc<EventsFn>>>>;

/// A running stack: one Rust thread driving the engine over a device.
#[napi]
pub struct NativeStack {
    runtime: Runtime,
    events: EventsSlot,
}

/// Start a stack over `device` (which it takes), calling `onEvents` with
/// one array of events per batch.
#[napi(
    ts_args_type = "device: NativeDevice, options: NativeStackOptions, onEvents: (batch: NativeEvent[]) => void"
)]
pub fn open_stack(
    device: &NativeDevice,
    options: NativeStackOptions,
    on_events: Function<'_, Vec<NativeEvent>, ()>,
) -> Result<NativeStack> {
    guard(|| {
        let events: EventsFn = on_events
            .build_threadsafe_function::<tunstack_runtime::Batch>()
            .callee_handled::<false>()
            .weak::<false>()
            .max_queue_size::<0>()
            .build_callback(|ctx: ThreadsafeCallContext<tunstack_runtime::Batch>| {
                catch_unwind(AssertUnwindSafe(|| to_js(ctx.value))).map_err(|_| {
                    napi::Error::from_reason("tunstack: panic while converting events")
                })
            })
            .map_err(from_napi)?;
        let events = Arc::new(events);
        // Validate everything before taking the device, so a bad option
        // leaves it usable for another attempt.
        let config = options.to_config(device.mtu()?, random_seed())?;
        let device = device.take()?;
        let runtime_options = RuntimeOptions {
            trace: options.trace.unwrap_or(false),
            ..RuntimeOptions::default()
        };
        let sink = Box::new(JsSink {
            events: events.clone(),
        });
        let runtime =
            Runtime::start_with(device, config, sink, runtime_options).map_err(io_error)?;
        Ok(NativeStack {
            runtime,
            events: Arc::new(Mutex::new(Some(events))),
        })
    })
}

/// A seed from the OS's randomness (std seeds `RandomState` from it).
fn random_seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x7475_6e73_7461_636b);
    h.finish()
}

fn millis(ms: f64) -> Result<Duration> {
    if !(ms.is_finite() && ms >= 0.0) {
        return Err(invalid(format!(
            "a time in milliseconds must be a finite number >= 0, got {ms}"
        )));
    }
    Ok(Duration::from_micros(
        (ms * 1000.0).min(u64::MAX as f64) as u64
    ))
}

#[napi]
impl NativeStack {
    #[napi]
    pub fn tcp_listen(
        &self,
        host: String,
        port: u32,
        backlog: u32,
        abort_on_overflow: Option<bool>,
        reuse_address: Option<bool>,
    ) -> Result<i64> {
        guard(|| {
            let local = socket_addr(&host, port)?;
            let options = ListenOptions {
                abort_on_overflow,
                reuse_address: reuse_address.unwrap_or(true),
            };
            self.runtime
                .tcp_listen_with(local, backlog, options)
                .map(js_id)
                .map_err(|e| runtime_error("listen", e))
        })
    }

    #[napi]
    pub fn tcp_accept(&self, listener: i64) -> Result<Option<i64>> {
        guard(|| {
            let listener = socket_id(listener)?;
            Ok(self
                .runtime
                .tcp_accept(listener)
                .map_err(|e| runtime_error("accept", e))?
                .map(js_id))
        })
    }

    #[napi]
    pub fn tcp_connect(&self, host: String, port: u32, local_port: Option<u32>) -> Result<i64> {
        guard(|| {
            let remote = socket_addr(&host, port)?;
            if remote.ip().is_unspecified() || remote.port() == 0 {
                return Err(invalid(format!("cannot connect to {remote}")));
            }
            let local_port = local_port.map(crate::address::parse_port).transpose()?;
            self.runtime
                .tcp_connect(remote, local_port)
                .map(js_id)
                .map_err(|e| runtime_error("connect", e))
        })
    }

    /// Copy as much of `data` as fits into the send buffer; returns bytes taken.
    #[napi]
    pub fn tcp_write(&self, id: i64, data: BufferSlice<'_>) -> Result<i64> {
        guard(|| {
            let id = socket_id(id)?;
            let n = self
                .runtime
                .tcp_write(id, &data)
                .map_err(|e| runtime_error("write", e))?;
            Ok(n as i64)
        })
    }

    /// Like `tcpWrite`, with MSG_OOB: the last byte taken becomes urgent
    /// data (URG; legacy, RFC 6093). Empty data is EINVAL.
    #[napi]
    pub fn tcp_write_urgent(&self, id: i64, data: BufferSlice<'_>) -> Result<i64> {
        guard(|| {
            let id = socket_id(id)?;
            let n = self
                .runtime
                .tcp_write_urgent(id, &data)
                .map_err(|e| runtime_error("write", e))?;
            Ok(n as i64)
        })
    }

    /// IP_TOS on a connection, or on a listener (inherited by its connections).
    #[napi]
    pub fn tcp_set_tos(&self, id: i64, tos: u32) -> Result<()> {
        guard(|| {
            let tos =
                u8::try_from(tos).map_err(|_| invalid(format!("tos must be 0..255, got {tos}")))?;
            self.runtime
                .tcp_set_tos(socket_id(id)?, tos)
                .map_err(|e| runtime_error("setTypeOfService", e))
        })
    }

    /// The DS field of a connection or listener.
    #[napi]
    pub fn tcp_tos(&self, id: i64) -> Result<u32> {
        guard(|| {
            self.runtime
                .tcp_tos(socket_id(id)?)
                .map(u32::from)
                .map_err(|e| runtime_error("getTypeOfService", e))
        })
    }

    /// SO_OOBINLINE on a connection, or on a listener (inherited on accept).
    #[napi]
    pub fn tcp_set_urgent_inline(&self, id: i64, inline: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_urgent_inline(socket_id(id)?, inline)
                .map_err(|e| runtime_error("setUrgentInline", e))
        })
    }

    /// Read credit: while false the runtime leaves data in the engine, so the window closes.
    #[napi]
    pub fn tcp_set_reading(&self, id: i64, reading: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_reading(socket_id(id)?, reading)
                .map_err(|e| runtime_error("read", e))
        })
    }

    #[napi]
    pub fn tcp_shutdown(&self, id: i64) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_shutdown(socket_id(id)?)
                .map_err(|e| runtime_error("shutdown", e))
        })
    }

    #[napi]
    pub fn tcp_abort(&self, id: i64) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_abort(socket_id(id)?)
                .map_err(|e| runtime_error("abort", e))
        })
    }

    #[napi]
    pub fn tcp_release(&self, id: i64) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_release(socket_id(id)?)
                .map_err(|e| runtime_error("close", e))
        })
    }

    #[napi]
    pub fn tcp_set_no_delay(&self, id: i64, no_delay: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_nodelay(socket_id(id)?, no_delay)
                .map_err(|e| runtime_error("setNoDelay", e))
        })
    }

    /// TCP_CORK.
    #[napi]
    pub fn tcp_set_cork(&self, id: i64, cork: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_cork(socket_id(id)?, cork)
                .map_err(|e| runtime_error("setCork", e))
        })
    }

    /// TCP_QUICKACK.
    #[napi]
    pub fn tcp_set_quick_ack(&self, id: i64, quick_ack: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_quickack(socket_id(id)?, quick_ack)
                .map_err(|e| runtime_error("setQuickAck", e))
        })
    }

    #[napi]
    pub fn tcp_set_keep_alive(&self, id: i64, enable: bool, idle_ms: f64) -> Result<()> {
        guard(|| {
            let idle = if enable { Some(millis(idle_ms)?) } else { None };
            self.runtime
                .tcp_set_keepalive(socket_id(id)?, idle)
                .map_err(|e| runtime_error("setKeepAlive", e))
        })
    }

    /// TCP_CONGESTION by name ('cubic', 'reno') for a connection or listener.
    #[napi]
    pub fn tcp_set_congestion_control(&self, id: i64, name: String) -> Result<()> {
        guard(|| {
            let algorithm = crate::options::congestion_algorithm(&name)?;
            self.runtime
                .tcp_set_congestion_control(socket_id(id)?, algorithm)
                .map_err(|e| runtime_error("setCongestionControl", e))
        })
    }

    #[napi]
    pub fn tcp_set_keep_alive_probes(&self, id: i64, interval_ms: f64, probes: u32) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_keepalive_probes(socket_id(id)?, millis(interval_ms)?, probes)
                .map_err(|e| runtime_error("setKeepAliveProbes", e))
        })
    }

    #[napi]
    pub fn tcp_set_user_timeout(&self, id: i64, timeout_ms: f64) -> Result<()> {
        guard(|| {
            self.runtime
                .tcp_set_user_timeout(socket_id(id)?, millis(timeout_ms)?)
                .map_err(|e| runtime_error("setUserTimeout", e))
        })
    }

    #[napi]
    pub fn tcp_info(&self, id: i64) -> Result<Option<NativeTcpInfo>> {
        guard(|| {
            let info = self
                .runtime
                .tcp_info(socket_id(id)?)
                .map_err(|e| runtime_error("info", e))?;
            Ok(info.map(NativeTcpInfo::from))
        })
    }

    #[napi]
    pub fn local_address(&self, id: i64) -> Result<Option<NativeAddress>> {
        guard(|| {
            let addr = self
                .runtime
                .local_addr(socket_id(id)?)
                .map_err(|e| runtime_error("address", e))?;
            Ok(addr.map(|a| NativeAddress {
                address: a.ip().to_string(),
                port: u32::from(a.port()),
            }))
        })
    }

    #[napi]
    pub fn listener_queues(&self, id: i64) -> Result<Option<NativeQueues>> {
        guard(|| {
            let q = self
                .runtime
                .listener_queues(socket_id(id)?)
                .map_err(|e| runtime_error("queues", e))?;
            Ok(q.map(NativeQueues::from))
        })
    }

    #[napi]
    pub fn netstat(&self) -> Result<Vec<NativeNetstatEntry>> {
        guard(|| {
            let rows = self
                .runtime
                .netstat()
                .map_err(|e| runtime_error("netstat", e))?;
            Ok(rows.into_iter().map(NativeNetstatEntry::from).collect())
        })
    }

    /// Counters of the engine (Stats fields in camelCase) and of the runtime/device.
    #[napi]
    pub fn stats(&self) -> Result<HashMap<String, f64>> {
        guard(|| {
            let pairs = self
                .runtime
                .stats()
                .map_err(|e| runtime_error("stats", e))?;
            Ok(pairs
                .into_iter()
                .map(|(name, v)| (camel_case(name), v as f64))
                .collect())
        })
    }

    #[napi]
    pub fn udp_bind(&self, host: String, port: u32) -> Result<i64> {
        guard(|| {
            let local = socket_addr(&host, port)?;
            self.runtime
                .udp_bind(local)
                .map(js_id)
                .map_err(|e| runtime_error("bind", e))
        })
    }

    #[napi]
    pub fn udp_send(&self, id: i64, host: String, port: u32, data: BufferSlice<'_>) -> Result<()> {
        guard(|| {
            let remote = socket_addr(&host, port)?;
            self.runtime
                .udp_send_to(socket_id(id)?, remote, &data)
                .map_err(|e| runtime_error("send", e))
        })
    }

    #[napi]
    pub fn udp_release(&self, id: i64) -> Result<()> {
        guard(|| {
            self.runtime
                .udp_release(socket_id(id)?)
                .map_err(|e| runtime_error("close", e))
        })
    }

    #[napi]
    pub fn set_trace(&self, enabled: bool) -> Result<()> {
        guard(|| {
            self.runtime
                .set_trace(enabled)
                .map_err(|e| runtime_error("setTrace", e))
        })
    }

    /// Shut down every open connection gracefully (FIN), wait up to
    /// `graceMs` for them to finish, reset what remains, stop the thread,
    /// release the device. Resolves when all of that is done.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env, grace_ms: f64) -> Result<Object<'env>> {
        guard(|| {
            let grace = millis(grace_ms)?;
            let (deferred, promise) = env
                .create_deferred::<(), fn(Env) -> napi::Result<()>>()
                .map_err(from_napi)?;
            let events = self.events.clone();
            self.runtime.close(grace, move || {
                // The stack thread has dropped its sink; drop ours too so the
                // event callback no longer holds the event loop.
                events.lock().unwrap_or_else(|p| p.into_inner()).take();
                deferred.resolve(|_| Ok(()));
            });
            Ok(promise)
        })
    }

    /// Close at once, synchronously, for a process that is exiting: every
    /// open connection is reset (nothing will be left to finish a FIN
    /// exchange, as the kernel's orphans would), listeners and UDP sockets
    /// go, and the call waits at most `wait_ms` for the RSTs to be written.
    #[napi]
    pub fn close_sync(&self, wait_ms: f64) -> Result<bool> {
        guard(|| {
            let wait = millis(wait_ms)?;
            let done = self.runtime.close_within(Duration::ZERO, wait);
            self.events.lock().unwrap_or_else(|p| p.into_inner()).take();
            Ok(done)
        })
    }

    /// Let the process exit while this stack is open (like `server.unref()`).
    #[napi]
    pub fn unref(&self, env: Env) -> Result<()> {
        self.set_ref(env, false)
    }

    /// Undo `unref()`: the open stack keeps the process alive again.
    #[napi(js_name = "ref")]
    pub fn ref_(&self, env: Env) -> Result<()> {
        self.set_ref(env, true)
    }
}

impl NativeStack {
    fn set_ref(&self, env: Env, referenced: bool) -> Result<()> {
        guard(|| {
            let slot = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let Some(events) = slot.as_ref() else {
                return Ok(()); // closed: holds nothing any more
            };
            // SAFETY: called on the JS thread that owns `env`; the threadsafe
            // function is alive because `slot` holds a reference to it for
            // the duration of the call.
            let status = unsafe {
                if referenced {
                    napi::sys::napi_ref_threadsafe_function(env.raw(), events.raw())
                } else {
                    napi::sys::napi_unref_threadsafe_function(env.raw(), events.raw())
                }
            };
            if status != napi::sys::Status::napi_ok {
                return Err(invalid(format!(
                    "cannot change the stack's event loop reference (napi status {status})"
                )));
            }
            Ok(())
        })
    }
}

/// "tcp_in_segs" → "tcpInSegs".
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
