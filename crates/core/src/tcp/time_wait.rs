//! The bound on connections in TIME_WAIT (Linux's tcp_max_tw_buckets).
//! TIME_WAIT exists to absorb old duplicates for 2×MSL (RFC 9293 §3.6.1),
//! but each entry holds a connection's memory: a host that closes
//! connections faster than 2×MSL drains them would grow without bound.
//! Past the limit the oldest entry is ended early and counted, as Linux
//! does. Entries are kept in the order they entered TIME_WAIT; ones that
//! have left it since are skipped lazily, so entering and leaving cost
//! O(1) and nothing ever walks the connection table.

use crate::stack::{SocketId, Stack};
use crate::tcp::state::State;
use std::collections::VecDeque;

/// Connections in TIME_WAIT, oldest first (possibly with stale ids of
/// connections that left it since).
#[derive(Debug, Default)]
pub struct TimeWaitList {
    order: VecDeque<SocketId>,
    count: usize,
}

impl TimeWaitList {
    /// `id` entered TIME_WAIT.
    pub fn entered(&mut self, id: SocketId) {
        self.order.push_back(id);
        self.count += 1;
    }

    /// A connection left TIME_WAIT.
    pub fn left(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    /// Connections in TIME_WAIT now.
    pub fn len(&self) -> usize {
        self.count
    }
}

impl Stack {
    /// Connections in TIME_WAIT now.
    pub fn time_wait_count(&self) -> usize {
        self.env.time_wait.len()
    }

    /// End the oldest TIME_WAIT connections beyond the configured bound,
    /// and forget ids at the front that have left TIME_WAIT already.
    pub(crate) fn enforce_time_wait_limit(&mut self) {
        let max = self.env.config.tcp.max_time_wait;
        while let Some(&id) = self.env.time_wait.order.front() {
            let waiting = self
                .sockets
                .tcb(id)
                .is_some_and(|t| t.state == State::TimeWait);
            if waiting && self.env.time_wait.count <= max {
                break;
            }
            self.env.time_wait.order.pop_front();
            if waiting {
                self.env.stats.tcp_time_wait_overflow += 1;
                self.retire(id);
            }
        }
    }
}
