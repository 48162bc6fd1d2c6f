//! MemoryLink: two [`Device`] endpoints joined in one process — what
//! endpoint A sends, endpoint B receives, and back. Each endpoint may be
//! driven by its own stack thread.
//!
//! Each direction is a bounded FIFO behind a mutex (a full queue drops the
//! packet and counts it, like a device's txqueue). Each endpoint owns an
//! eventfd as its readiness fd: the sender signals the peer's eventfd after
//! enqueueing, and the receiver drains its own eventfd when it finds its
//! queue empty. Both happen while holding the queue lock, so a wake-up is
//! never lost: a drain can only happen before a push, and every push is
//! followed by a signal.
//!
//! Impairments are not built in: wrap an endpoint in
//! [`crate::ImpairedDevice`]. What is built in is the carrier: a
//! [`LinkSwitch`] takes the whole link down (a pulled cable: everything
//! sent either way is lost) and up again while stacks run on it.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::eventfd::EventFd;
use crate::{Device, Instant};

/// Default number of packets each direction holds before dropping.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

/// Counters of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Packets this endpoint sent that were queued for the peer.
    pub sent: u64,
    /// Packets this endpoint received.
    pub received: u64,
    /// Packets this endpoint sent that were dropped: the peer's queue was full.
    pub dropped_full: u64,
    /// Packets this endpoint sent that were dropped: larger than the MTU.
    pub dropped_oversize: u64,
    /// Packets dropped on receive because the caller's buffer was too small.
    pub dropped_truncated: u64,
    /// Packets this endpoint sent while the link was down.
    pub dropped_down: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    dropped_full: AtomicU64,
    dropped_oversize: AtomicU64,
    dropped_truncated: AtomicU64,
    dropped_down: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> MemoryStats {
        MemoryStats {
            sent: self.sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            dropped_full: self.dropped_full.load(Ordering::Relaxed),
            dropped_oversize: self.dropped_oversize.load(Ordering::Relaxed),
            dropped_truncated: self.dropped_truncated.load(Ordering::Relaxed),
            dropped_down: self.dropped_down.load(Ordering::Relaxed),
        }
    }
}

/// One direction of the link: packets waiting for the receiving endpoint,
/// plus spent buffers handed back so steady traffic allocates nothing.
#[derive(Debug, Default)]
struct Queue {
    packets: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
}

/// Everything one direction needs, shared by both endpoints.
#[derive(Debug)]
struct Direction {
    queue: Mutex<Queue>,
    /// The receiving endpoint's readiness signal.
    ready: EventFd,
    /// Carrier: while false, packets sent this way are lost.
    up: AtomicBool,
}

impl Direction {
    fn new() -> io::Result<Self> {
        Ok(Self {
            queue: Mutex::new(Queue::default()),
            ready: EventFd::new()?,
            up: AtomicBool::new(true),
        })
    }

    /// A poisoned lock only means another thread panicked mid-operation;
    /// the queue itself is always consistent, so keep going.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One endpoint of a [`pair`].
#[derive(Debug)]
pub struct MemoryDevice {
    name: String,
    mtu: usize,
    capacity: usize,
    rx: Arc<Direction>,
    tx: Arc<Direction>,
    counters: Counters,
}

/// Two connected endpoints named "memory:a" and "memory:b", each direction
/// holding up to [`DEFAULT_QUEUE_CAPACITY`] packets.
///
/// Panics only if the process cannot create an eventfd (out of file
/// descriptors); use [`try_pair`] to handle that.
pub fn pair(mtu: usize) -> (MemoryDevice, MemoryDevice) {
    try_pair(mtu, DEFAULT_QUEUE_CAPACITY).expect("eventfd for MemoryLink")
}

/// Like [`pair`], with an explicit per-direction capacity (at least 1) and
/// eventfd creation errors reported.
pub fn try_pair(mtu: usize, capacity: usize) -> io::Result<(MemoryDevice, MemoryDevice)> {
    let a_to_b = Arc::new(Direction::new()?);
    let b_to_a = Arc::new(Direction::new()?);
    let capacity = capacity.max(1);
    let a = MemoryDevice {
        name: "memory:a".into(),
        mtu,
        capacity,
        rx: b_to_a.clone(),
        tx: a_to_b.clone(),
        counters: Counters::default(),
    };
    let b = MemoryDevice {
        name: "memory:b".into(),
        mtu,
        capacity,
        rx: a_to_b,
        tx: b_to_a,
        counters: Counters::default(),
    };
    Ok((a, b))
}

/// Takes a [`pair`]'s link down and up; cloneable, usable from any thread
/// while stacks run on the endpoints.
#[derive(Debug, Clone)]
pub struct LinkSwitch {
    directions: [Arc<Direction>; 2],
}

impl LinkSwitch {
    /// Up: packets flow. Down: every packet sent either way is lost (and
    /// counted in the sender's `dropped_down`); packets already queued are
    /// still delivered, as those on the wire when a cable is pulled might be.
    pub fn set_up(&self, up: bool) {
        for d in &self.directions {
            d.up.store(up, Ordering::Release);
        }
    }

    /// Whether the link is up.
    pub fn is_up(&self) -> bool {
        self.directions[0].up.load(Ordering::Acquire)
    }
}

impl MemoryDevice {
    /// The switch of the link this endpoint belongs to.
    pub fn link_switch(&self) -> LinkSwitch {
        LinkSwitch {
            directions: [self.rx.clone(), self.tx.clone()],
        }
    }

    /// Counters of this endpoint.
    pub fn stats(&self) -> MemoryStats {
        self.counters.snapshot()
    }

    /// Packets waiting to be received by this endpoint.
    pub fn pending(&self) -> usize {
        self.rx.lock().packets.len()
    }

    /// Rename the endpoint (shown in traces and errors).
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }
}

impl Device for MemoryDevice {
    fn recv(&mut self, _now: Instant, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let mut queue = self.rx.lock();
        loop {
            let Some(packet) = queue.packets.pop_front() else {
                self.rx.ready.drain();
                return Ok(None);
            };
            let n = packet.len();
            let fits = n <= buf.len();
            if fits {
                buf[..n].copy_from_slice(&packet);
            }
            if queue.spare.len() < self.capacity {
                queue.spare.push(packet);
            }
            if fits {
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(n));
            }
            self.counters
                .dropped_truncated
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    fn send(&mut self, _now: Instant, packet: &[u8]) -> io::Result<()> {
        if packet.len() > self.mtu {
            self.counters
                .dropped_oversize
                .fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if !self.tx.up.load(Ordering::Acquire) {
            self.counters.dropped_down.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut queue = self.tx.lock();
        if queue.packets.len() >= self.capacity {
            drop(queue);
            self.counters.dropped_full.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut buf = queue.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(packet);
        queue.packets.push_back(buf);
        self.tx.ready.signal();
        drop(queue);
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn readiness_fd(&self) -> RawFd {
        self.rx.ready.raw()
    }

    fn poll_at(&self) -> Option<Instant> {
        None
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventfd::is_readable;

    #[test]
    fn a_sends_b_receives_and_back() {
        let (mut a, mut b) = pair(1500);
        let mut buf = [0u8; 1500];
        assert!(!is_readable(b.readiness_fd()));
        a.send(0, b"hello").unwrap();
        a.send(0, b"world!").unwrap();
        assert!(is_readable(b.readiness_fd()));
        assert!(!is_readable(a.readiness_fd()));
        assert_eq!(b.recv(0, &mut buf).unwrap(), Some(5));
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(b.recv(0, &mut buf).unwrap(), Some(6));
        assert_eq!(&buf[..6], b"world!");
        assert_eq!(b.recv(0, &mut buf).unwrap(), None);
        assert!(!is_readable(b.readiness_fd()));

        b.send(0, b"back").unwrap();
        assert!(is_readable(a.readiness_fd()));
        assert_eq!(a.recv(0, &mut buf).unwrap(), Some(4));
        assert_eq!(&buf[..4], b"back");
        assert_eq!(a.stats().sent, 2);
        assert_eq!(a.stats().received, 1);
        assert_eq!(b.stats().received, 2);
        assert_eq!(a.name(), "memory:a");
        assert_eq!(b.name(), "memory:b");
        assert_eq!(a.mtu(), 1500);
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let (mut a, mut b) = try_pair(1500, 3).unwrap();
        for i in 0..5u8 {
            a.send(0, &[i]).unwrap();
        }
        assert_eq!(a.stats().sent, 3);
        assert_eq!(a.stats().dropped_full, 2);
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        while let Some(n) = b.recv(0, &mut buf).unwrap() {
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got, vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn oversize_and_truncation_are_dropped_not_split() {
        let (mut a, mut b) = pair(100);
        a.send(0, &[1u8; 101]).unwrap();
        assert_eq!(a.stats().dropped_oversize, 1);
        a.send(0, &[2u8; 50]).unwrap();
        a.send(0, &[3u8; 10]).unwrap();
        let mut small = [0u8; 20];
        assert_eq!(b.recv(0, &mut small).unwrap(), Some(10));
        assert_eq!(&small[..10], &[3u8; 10]);
        assert_eq!(b.stats().dropped_truncated, 1);
        assert_eq!(b.recv(0, &mut small).unwrap(), None);
    }

    #[test]
    fn threads_exchange_every_packet_in_order() {
        const N: u32 = 20_000;
        let (mut a, mut b) = try_pair(1500, 64).unwrap();
        let sender = std::thread::spawn(move || {
            let mut i = 0u32;
            while i < N {
                let before = a.stats().sent;
                a.send(0, &i.to_be_bytes()).unwrap();
                if a.stats().sent > before {
                    i += 1;
                } else {
                    std::thread::yield_now(); // queue full: let the reader run
                }
            }
            a
        });
        let mut expected = 0u32;
        let mut buf = [0u8; 64];
        while expected < N {
            // Block on the readiness fd the way the runtime's epoll would.
            let mut pfd = libc::pollfd {
                fd: b.readiness_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; bounded 10 s timeout so a lost
            // wake-up fails the test instead of hanging it.
            let n = unsafe { libc::poll(&mut pfd, 1, 10_000) };
            assert!(n > 0, "lost wake-up at packet {expected}");
            while let Some(n) = b.recv(0, &mut buf).unwrap() {
                assert_eq!(n, 4);
                assert_eq!(u32::from_be_bytes(buf[..4].try_into().unwrap()), expected);
                expected += 1;
            }
        }
        let a = sender.join().unwrap();
        assert_eq!(a.stats().sent, u64::from(N));
        assert_eq!(b.stats().received, u64::from(N));
    }
}
