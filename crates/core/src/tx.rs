//! The queue of packets ready to leave, with a pool of buffers so the
//! steady state allocates nothing per packet.

use std::collections::VecDeque;

/// Buffers kept for reuse; beyond this a drained buffer is freed.
const POOL_MAX: usize = 256;

/// Ready outbound IP packets, oldest first.
#[derive(Debug, Default)]
pub struct TxQueue {
    queue: VecDeque<Vec<u8>>,
    pool: Vec<Vec<u8>>,
}

impl TxQueue {
    /// An empty buffer to build a packet in.
    pub fn buffer(&mut self) -> Vec<u8> {
        match self.pool.pop() {
            Some(mut b) => {
                b.clear();
                b
            }
            None => Vec::with_capacity(1600),
        }
    }

    /// Queue a finished packet.
    pub fn push(&mut self, packet: Vec<u8>) {
        self.queue.push_back(packet);
    }

    /// True if a packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Hand every packet to `sink`, oldest first, recycling the buffers.
    pub fn drain(&mut self, sink: &mut dyn FnMut(&[u8])) {
        while let Some(p) = self.queue.pop_front() {
            sink(&p);
            if self.pool.len() < POOL_MAX {
                self.pool.push(p);
            }
        }
    }
}
