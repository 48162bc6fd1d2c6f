//! ACKs per megabyte through the real runtime: two stack threads joined by
//! a MemoryLink (no impairment), A writes a bulk transfer to B, B's events
//! are consumed as they come. B sends no data, so its TCP segments are its
//! ACKs. Also prints how many packets each device read carried on B (the
//! batch the engine processes before its ACK, RFC 1122 §4.2.2.21) and the
//! wall-clock goodput. Timing depends on the machine: a measurement, not a
//! test.
//!
//! Usage: cargo run --release -p tunstack-bench --bin runtime_acks [MEGABYTES]   (default 256)

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tunstack_device::memory;
use tunstack_runtime::{Batch, RtEvent, Runtime, StackConfig};

fn config(address: Ipv4Addr, seed: u64) -> StackConfig {
    let mut c = StackConfig::new(address, 24);
    c.seed = seed;
    c.tcp.send_buffer = 4 << 20;
    c.tcp.recv_buffer = 4 << 20;
    c
}

fn stat(rt: &Runtime, name: &str) -> u64 {
    rt.stats()
        .expect("stats")
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, v)| *v)
}

fn main() {
    let mb: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let bytes = (mb << 20) as usize;
    let (addr_a, addr_b) = (Ipv4Addr::new(10, 9, 0, 1), Ipv4Addr::new(10, 9, 0, 2));
    let (dev_a, dev_b) = memory::pair(1500);
    let (tx, rx) = mpsc::channel::<(bool, Batch)>();
    let tx_b = tx.clone();
    let a = Runtime::start(
        Box::new(dev_a),
        config(addr_a, 1),
        Box::new(move |b| {
            let _ = tx.send((true, b));
        }),
    )
    .expect("runtime A");
    let b = Runtime::start(
        Box::new(dev_b),
        config(addr_b, 2),
        Box::new(move |b| {
            let _ = tx_b.send((false, b));
        }),
    )
    .expect("runtime B");
    let listener = b
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5001), 16)
        .expect("listen");
    let client = a
        .tcp_connect(SocketAddrV4::new(addr_b, 5001), None)
        .expect("connect");
    let chunk = vec![0x5au8; 256 << 10];
    let mut sent = 0usize;
    let mut received = 0usize;
    let mut connected = false;
    let (segs0, reads0, rx0) = (
        stat(&b, "tcp_out_segs"),
        stat(&b, "runtime_wakeups"),
        stat(&b, "device_rx_packets"),
    );
    let start = Instant::now();
    let pump = |sent: &mut usize| {
        while *sent < bytes {
            let want = (bytes - *sent).min(chunk.len());
            match a.tcp_write(client, &chunk[..want]) {
                Ok(n) if n > 0 => *sent += n,
                _ => break,
            }
        }
    };
    while received < bytes {
        let (from_a, batch) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("an event within 60 s");
        for ev in &batch.events {
            match ev {
                RtEvent::Connected { id } if from_a && *id == client => {
                    connected = true;
                    pump(&mut sent);
                }
                RtEvent::Writable { id } if from_a && *id == client && connected => pump(&mut sent),
                RtEvent::Acceptable { listener: l } if !from_a && *l == listener => {
                    let _ = b.tcp_accept(listener);
                }
                RtEvent::Data { data, .. } if !from_a => received += data.len(),
                RtEvent::Closed { error: Some(e), .. } => panic!("connection failed: {e}"),
                _ => {}
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let acks = stat(&b, "tcp_out_segs") - segs0;
    let wakeups = stat(&b, "runtime_wakeups") - reads0;
    let rx_packets = stat(&b, "device_rx_packets") - rx0;
    println!(
        "runtime over MemoryLink, {mb} MiB: receiver sent {acks} ACKs = {:.1} per MB; \
         {:.1} packets per wake-up; {:.2} Gbit/s",
        acks as f64 / (bytes as f64 / 1e6),
        rx_packets as f64 / wakeups.max(1) as f64,
        bytes as f64 * 8.0 / secs / 1e9
    );
    a.close_and_wait(Duration::from_secs(5));
    b.close_and_wait(Duration::from_secs(5));
}
