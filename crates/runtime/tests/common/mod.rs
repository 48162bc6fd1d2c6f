//! Two runtimes joined by a MemoryLink, with their event batches merged
//! into one channel so a test can wait on either side with a bound.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tunstack_device::{memory, Device};
use tunstack_runtime::{Batch, RtEvent, Runtime, StackConfig};

/// Upper bound on any single wait: a failure guard, never a pass condition.
pub const WAIT: Duration = Duration::from_secs(30);

pub const ADDR_A: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
pub const ADDR_B: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

pub struct Pair {
    pub a: Runtime,
    pub b: Runtime,
    events: Receiver<(Side, Batch)>,
    deadline: Instant,
}

pub fn config(address: Ipv4Addr, seed: u64) -> StackConfig {
    let mut config = StackConfig::new(address, 24);
    config.seed = seed;
    config
}

impl Pair {
    pub fn new() -> Pair {
        Pair::with_configs(config(ADDR_A, 1), config(ADDR_B, 2))
    }

    pub fn with_configs(a: StackConfig, b: StackConfig) -> Pair {
        let (dev_a, dev_b) = memory::pair(1500);
        Pair::with_devices(Box::new(dev_a), Box::new(dev_b), a, b)
    }

    pub fn with_devices(
        dev_a: Box<dyn Device>,
        dev_b: Box<dyn Device>,
        a: StackConfig,
        b: StackConfig,
    ) -> Pair {
        let (tx, events) = mpsc::channel();
        let tx_b = tx.clone();
        let a = Runtime::start(
            Box::new(dev_a),
            a,
            Box::new(move |batch| {
                let _ = tx.send((Side::A, batch));
            }),
        )
        .expect("start runtime A");
        let b = Runtime::start(
            Box::new(dev_b),
            b,
            Box::new(move |batch| {
                let _ = tx_b.send((Side::B, batch));
            }),
        )
        .expect("start runtime B");
        Pair {
            a,
            b,
            events,
            deadline: Instant::now() + WAIT,
        }
    }

    pub fn rt(&self, side: Side) -> &Runtime {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// The next batch from either side; panics when none comes within the
    /// test's overall bound.
    pub fn next(&mut self) -> (Side, Vec<RtEvent>) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok((side, mut batch)) => (side, std::mem::take(&mut batch.events)),
            Err(RecvTimeoutError::Timeout) => panic!("no event within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("both runtimes stopped"),
        }
    }

    /// Wait for an event matching `want`, handing every other event to `other`.
    pub fn wait_for(
        &mut self,
        mut want: impl FnMut(Side, &RtEvent) -> bool,
        mut other: impl FnMut(Side, RtEvent),
    ) -> (Side, RtEvent) {
        let mut found = None;
        while found.is_none() {
            let (side, events) = self.next();
            for event in events {
                if found.is_none() && want(side, &event) {
                    found = Some((side, event));
                } else {
                    other(side, event);
                }
            }
        }
        found.unwrap()
    }

    /// Listen on B:port, connect from A, accept on B: (client on A, server conn on B).
    pub fn connect(
        &mut self,
        port: u16,
    ) -> (tunstack_runtime::SocketId, tunstack_runtime::SocketId) {
        let listener = self
            .b
            .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port), 16)
            .expect("listen");
        let client = self
            .a
            .tcp_connect(SocketAddrV4::new(ADDR_B, port), None)
            .expect("connect");
        let mut connected = false;
        let mut server = None;
        while !connected || server.is_none() {
            let (side, events) = self.next();
            for event in events {
                match (side, event) {
                    (Side::A, RtEvent::Connected { id }) if id == client => connected = true,
                    (Side::A, RtEvent::Closed { id, error }) if id == client => {
                        panic!("connect failed: {error:?}")
                    }
                    (Side::B, RtEvent::Acceptable { listener: l }) if l == listener => {
                        if let Some(id) = self.b.tcp_accept(listener).expect("accept") {
                            server = Some(id);
                        }
                    }
                    _ => {}
                }
            }
        }
        (client, server.unwrap())
    }
}

/// A deterministic, non-repeating-looking byte pattern.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}
