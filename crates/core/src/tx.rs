//! The queue of packets ready to leave, with a pool of buffers so the
//! steady state allocates nothing per packet, and the per-packet offload
//! information that travels with them (and with received ones).

use std::collections::VecDeque;

/// Buffers kept for reuse; beyond this a drained buffer is freed.
const POOL_MAX: usize = 256;
/// Of those, buffers grown past an MTU-sized packet (TSO segments, up to
/// 64 KiB each), so the pool stays a few MiB at most.
const POOL_MAX_LARGE: usize = 32;
/// Capacity above which a buffer counts as large.
const LARGE: usize = 16 * 1024;

/// What the device must do to an outbound packet before it is a wire
/// packet (TSO and checksum offload; see `OffloadConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxMeta {
    /// A TCP segment whose payload is to be cut into segments of this many
    /// bytes, the last possibly shorter (0: send it as it is). Set only on
    /// segments carrying more than this.
    pub gso_size: u16,
    /// The TCP checksum field holds only the pseudo-header sum (over the
    /// whole segment's length); the device completes it.
    pub checksum_partial: bool,
}

/// What the device knows about a received packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxMeta {
    /// The device vouches for the transport checksum (the kernel verified
    /// it, or the packet never crossed a wire and its field holds only a
    /// pseudo-header sum): TCP and UDP skip verifying it.
    pub checksum_trusted: bool,
}

/// Ready outbound IP packets, oldest first.
#[derive(Debug, Default)]
pub struct TxQueue {
    queue: VecDeque<(Vec<u8>, TxMeta)>,
    pool: Vec<Vec<u8>>,
    /// Large buffers in `pool`.
    large: usize,
}

impl TxQueue {
    /// An empty buffer to build a packet in.
    pub fn buffer(&mut self) -> Vec<u8> {
        match self.pool.pop() {
            Some(mut b) => {
                if b.capacity() > LARGE {
                    self.large -= 1;
                }
                b.clear();
                b
            }
            None => Vec::with_capacity(1600),
        }
    }

    /// Queue a finished packet.
    pub fn push(&mut self, packet: Vec<u8>) {
        self.queue.push_back((packet, TxMeta::default()));
    }

    /// Queue a finished packet that needs the device's offload.
    pub fn push_with(&mut self, packet: Vec<u8>, meta: TxMeta) {
        self.queue.push_back((packet, meta));
    }

    /// True if a packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Hand every packet to `sink`, oldest first, recycling the buffers.
    pub fn drain(&mut self, sink: &mut dyn FnMut(&[u8], TxMeta)) {
        while let Some((p, meta)) = self.queue.pop_front() {
            sink(&p, meta);
            let large = p.capacity() > LARGE;
            if self.pool.len() < POOL_MAX && (!large || self.large < POOL_MAX_LARGE) {
                self.large += large as usize;
                self.pool.push(p);
            }
        }
    }
}
