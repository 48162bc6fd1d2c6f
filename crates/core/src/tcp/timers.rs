//! Timers. One heap for the whole stack holds (deadline, socket) entries;
//! each connection keeps its own deadlines (retransmission, persist,
//! TIME_WAIT/FIN_WAIT_2, keepalive, delayed ACK) and the deadline of the one heap entry
//! it relies on. Changing a deadline to a later time costs nothing (the
//! early entry fires, finds nothing due and re-arms); only an earlier
//! deadline pushes a new entry. Stale entries are skipped when popped.
//! Nothing ever walks all connections.

use crate::stack::{SocketId, Stack};
use crate::time::Instant;
use core::cmp::Reverse;
use std::collections::BinaryHeap;

/// The stack-wide timer heap.
#[derive(Debug, Default)]
pub struct TimerHeap {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl TimerHeap {
    /// Add an entry.
    pub fn push(&mut self, at: Instant, id: SocketId) {
        self.heap.push(Reverse((at, id.0)));
    }

    /// The earliest entry.
    pub fn peek(&self) -> Option<(Instant, SocketId)> {
        self.heap
            .peek()
            .map(|Reverse((at, id))| (*at, SocketId(*id)))
    }

    /// Remove the earliest entry.
    pub fn pop(&mut self) -> Option<(Instant, SocketId)> {
        self.heap.pop().map(|Reverse((at, id))| (at, SocketId(id)))
    }
}

/// One connection's deadlines.
#[derive(Debug, Default, Clone)]
pub struct Timers {
    /// Retransmission (SYN, SYN-ACK, data, FIN).
    pub rtx: Option<Instant>,
    /// Zero-window probe / sender SWS override.
    pub persist: Option<Instant>,
    /// TIME_WAIT expiry, or FIN_WAIT_2 timeout of an orphan.
    pub close: Option<Instant>,
    /// Keepalive check.
    pub keepalive: Option<Instant>,
    /// A delayed ACK is owed by then.
    pub delack: Option<Instant>,
    /// Tail loss probe timeout (RFC 8985 §7).
    pub tlp: Option<Instant>,
    /// Deadline of the heap entry this connection relies on.
    pub heap_at: Option<Instant>,
}

impl Timers {
    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        [
            self.rtx,
            self.persist,
            self.close,
            self.keepalive,
            self.delack,
            self.tlp,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Cancel every deadline.
    pub fn clear(&mut self) {
        self.rtx = None;
        self.persist = None;
        self.close = None;
        self.keepalive = None;
        self.delack = None;
        self.tlp = None;
    }

    /// Make sure the heap holds an entry no later than the next deadline.
    pub fn sync(&mut self, id: SocketId, heap: &mut TimerHeap) {
        if let Some(n) = self.next() {
            if self.heap_at.is_none_or(|h| n < h) {
                heap.push(n, id);
                self.heap_at = Some(n);
            }
        }
    }
}

impl Stack {
    /// Pop and run every heap entry due at or before `now`; entries that
    /// are stale (socket gone, or superseded) are dropped on the way.
    pub(crate) fn fire_timers(&mut self, now: Instant) {
        while let Some((at, id)) = self.env.timers.peek() {
            if at > now {
                break;
            }
            self.env.timers.pop();
            let fire = match self.sockets.tcb_mut(id) {
                Some(t) if t.timers.heap_at == Some(at) => {
                    t.timers.heap_at = None;
                    true
                }
                _ => false,
            };
            if fire {
                if let Some(t) = self.sockets.tcb_mut(id) {
                    t.on_timer(&mut self.env);
                }
                self.after_tcb(id);
            }
        }
    }

    /// Drop stale heap entries from the top and re-file entries whose
    /// connection's deadline moved later, so `poll_at` is exact. (Also
    /// where the TIME_WAIT bound is kept: this runs after every input.)
    pub(crate) fn settle_timers(&mut self) {
        self.enforce_time_wait_limit();
        while let Some((at, id)) = self.env.timers.peek() {
            match self.sockets.tcb_mut(id) {
                Some(t) if t.timers.heap_at == Some(at) => match t.timers.next() {
                    Some(n) if n <= at => break,
                    next => {
                        self.env.timers.pop();
                        t.timers.heap_at = None;
                        if let Some(n) = next {
                            self.env.timers.push(n, id);
                            t.timers.heap_at = Some(n);
                        }
                    }
                },
                _ => {
                    self.env.timers.pop();
                }
            }
        }
    }
}
