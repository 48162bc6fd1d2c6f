//! Event batches to JS: one threadsafe-function call per batch, converted
//! to plain objects on the JS thread, one Buffer per `data` event (the
//! runtime's Vec becomes the Buffer's memory without a copy).

use std::sync::Arc;

use napi::bindgen_prelude::Buffer;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use tunstack_runtime::{Batch, EventSink, IcmpAction, Note, RtEvent, WindowEvent};

use crate::address::js_id;
use crate::objects::NativeEvent;

/// The JS callback `onEvents(batch)`: called with a `Batch` from the stack
/// thread, invoked with `NativeEvent[]` on the JS thread; not callee-handled
/// (no error-first argument), not weak (it keeps the event loop alive
/// until released), unbounded queue (calls never block the stack thread).
pub type EventsFn = ThreadsafeFunction<Batch, (), Vec<NativeEvent>, Status, false, false, 0>;

/// Converts a batch, consuming it: dropping the batch returns its bytes to
/// the runtime's read budget, so reading resumes once JS has them.
pub fn to_js(mut batch: Batch) -> Vec<NativeEvent> {
    let events = std::mem::take(&mut batch.events);
    events.into_iter().map(convert).collect()
}

fn convert(event: RtEvent) -> NativeEvent {
    match event {
        RtEvent::Acceptable { listener } => with_id("acceptable", listener.0),
        RtEvent::Connected { id } => with_id("connected", id.0),
        RtEvent::Data { id, data } => {
            let mut e = with_id("data", id.0);
            e.data = Some(Buffer::from(data));
            e
        }
        RtEvent::End { id } => with_id("end", id.0),
        RtEvent::Urgent {
            id,
            byte,
            offset,
            inline,
        } => {
            let mut e = with_id("urgent", id.0);
            e.data = Some(Buffer::from(vec![byte]));
            e.offset = Some(offset as f64);
            e.inline = Some(inline);
            e
        }
        RtEvent::Writable { id } => with_id("writable", id.0),
        RtEvent::Flushed { id } => with_id("flushed", id.0),
        RtEvent::Closed { id, error } => {
            let mut e = with_id("closed", id.0);
            e.error = error.map(|err| err.code().to_string());
            e
        }
        RtEvent::State { id, from, to } => {
            let mut e = with_id("state", id.0);
            e.from = Some(from.name().to_string());
            e.to = Some(to.name().to_string());
            e
        }
        RtEvent::Retransmit {
            id,
            seq,
            len,
            attempt,
            rto_us,
        } => {
            let mut e = with_id("retransmit", id.0);
            e.seq = Some(seq);
            e.len = Some(len);
            e.attempt = Some(attempt);
            e.rto_ms = Some(rto_us as f64 / 1000.0);
            e
        }
        RtEvent::Note { id, note } => {
            let (kind, reason) = note.names();
            let mut e = with_id(kind, id.0);
            e.reason = Some(reason.to_string());
            if let Note::Icmp(n) = note {
                e.icmp_type = Some(n.icmp_type.into());
                e.icmp_code = Some(n.code.into());
                match n.action {
                    IcmpAction::Aborted(err) | IcmpAction::Soft(err) => {
                        e.error = Some(err.code().to_string());
                    }
                    IcmpAction::PathMtu { mss } => e.mss = Some(mss),
                    IcmpAction::OutOfWindow => {}
                }
            }
            e
        }
        RtEvent::Window { id, what } => {
            let mut e = with_id(what.name(), id.0);
            match what {
                WindowEvent::Zero => {}
                WindowEvent::Probe { probe, next_us } => {
                    e.attempt = Some(probe);
                    e.interval_ms = Some(next_us as f64 / 1000.0);
                }
                WindowEvent::Reopen { window } | WindowEvent::Update { window } => {
                    e.window = Some(window);
                }
            }
            e
        }
        RtEvent::Congestion {
            id,
            cause,
            cwnd,
            ssthresh,
        } => {
            let mut e = with_id("congestion", id.0);
            e.cause = Some(cause.name().to_string());
            e.cwnd = Some(cwnd);
            e.ssthresh = Some(ssthresh);
            e
        }
        RtEvent::Listen {
            listener,
            remote,
            what,
        } => {
            let mut e = with_id("listen", listener.0);
            e.what = Some(what.name().to_string());
            e.reason = what.detail().map(str::to_string);
            e.address = Some(remote.ip().to_string());
            e.port = Some(u32::from(remote.port()));
            e
        }
        RtEvent::Udp { id, data, from } => {
            let mut e = with_id("udp", id.0);
            e.data = Some(Buffer::from(data));
            e.address = Some(from.ip().to_string());
            e.port = Some(u32::from(from.port()));
            e
        }
        RtEvent::Segment(s) => {
            let mut e = NativeEvent::new("segment");
            e.dir = Some(s.dir.as_str().to_string());
            e.text = Some(s.text);
            e.src = Some(s.src);
            e.dst = Some(s.dst);
            e.flags = Some(s.flags);
            e.seq = Some(s.seq);
            e.ack = Some(s.ack);
            e.window = Some(s.window);
            e.len = Some(s.len);
            e
        }
        RtEvent::StackError { code, message } => {
            let mut e = NativeEvent::new("error");
            e.error = Some(code);
            e.text = Some(message);
            e
        }
    }
}

fn with_id(kind: &str, id: u64) -> NativeEvent {
    let mut e = NativeEvent::new(kind);
    e.id = Some(js_id(tunstack_runtime::SocketId(id)));
    e
}

/// The runtime's sink: queue each batch to the JS thread without blocking.
pub struct JsSink {
    pub events: Arc<EventsFn>,
}

impl EventSink for JsSink {
    fn deliver(&mut self, batch: Batch) {
        // NonBlocking on an unbounded queue only fails once the function is
        // closing (env teardown); the batch is then dropped, which returns
        // its read budget.
        let _ = self
            .events
            .call(batch, ThreadsafeFunctionCallMode::NonBlocking);
    }
}
