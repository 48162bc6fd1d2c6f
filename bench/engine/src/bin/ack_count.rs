//! ACKs per megabyte with and without receive batches (RFC 1122
//! §4.2.2.21): two engines on virtual time (no clock is read) over a seeded
//! link with a rate limit and a one-way delay, a bulk transfer one way. The
//! driver models the stack thread: it wakes every `WAKEUP` µs (or when a
//! timer is due), takes what arrived meanwhile — at most 64 packets per
//! read, the runtime's `RX_BATCH` — and hands it to the engine either one
//! `receive` at a time (before) or as one `receive_batch` (after), the
//! reader draining the connection inside the batch as the runtime does.
//! Prints, per link: the receiver's segments (all pure ACKs) per MB, the
//! mean batch size, and the goodput on virtual time, so a starved sender
//! (too few ACKs to clock it) would show as lower goodput.
//!
//! Usage: cargo run --release -p tunstack-bench --bin ack_count [MEGABYTES]   (default 64)

#[path = "../virtual_pair.rs"]
mod virtual_pair;
use tunstack_core::{Event, Instant, StackConfig};
use tunstack_device::{Impairment, ImpairmentConfig};
use virtual_pair::VirtualPair;

const MS: u64 = 1_000;
/// Packets per device read, as the runtime's `RX_BATCH`.
const RX_BATCH: usize = 64;

struct Run {
    acks: u64,
    data_segments: u64,
    batches: u64,
    virtual_secs: f64,
}

fn run(bytes: u64, rate_bps: u64, delay: u64, wakeup: u64, batched: bool) -> Run {
    let config = |addr, seed| {
        let mut c = StackConfig::new(addr, 24);
        c.seed = seed;
        c.mtu = 1500;
        c.tcp.send_buffer = 4 << 20;
        c.tcp.recv_buffer = 4 << 20;
        c
    };
    let link = |seed| {
        Impairment::new(ImpairmentConfig {
            delay_us: delay,
            rate_bps,
            seed,
            ..Default::default()
        })
        .with_queue_limit(1 << 20)
    };
    let VirtualPair {
        mut client,
        mut server,
        mut c2s,
        mut s2c,
        listener,
        id,
    } = virtual_pair::connect(config, link);
    let mut now: Instant = 0;
    let chunk = vec![0x5au8; 256 << 10];
    let mut conn = None;
    let mut buf = Vec::with_capacity(4 << 20);
    let (mut sent, mut received) = (0u64, 0u64);
    let mut run = Run {
        acks: 0,
        data_segments: 0,
        batches: 0,
        virtual_secs: 0.0,
    };
    let mut packets: Vec<Vec<u8>> = Vec::with_capacity(RX_BATCH);
    while received < bytes {
        // The server side: one device read, then the reader, in one batch.
        packets.clear();
        while packets.len() < RX_BATCH {
            match c2s.pop(now) {
                Some(p) => packets.push(p),
                None => break,
            }
        }
        if !packets.is_empty() {
            run.batches += 1;
            run.data_segments += packets.len() as u64;
        }
        if batched {
            server.begin_batch();
        }
        for p in &packets {
            server.receive(now, p);
        }
        server.poll(now);
        while let Some(ev) = server.poll_event() {
            if let Event::Acceptable { .. } = ev {
                conn = server.tcp_accept(listener);
            }
        }
        if let Some(c) = conn {
            loop {
                buf.clear();
                match server.tcp_recv(now, c, &mut buf, 4 << 20) {
                    Ok(n) if n > 0 => received += n as u64,
                    _ => break,
                }
            }
        }
        if batched {
            server.end_batch(now);
        }
        // The client side, likewise.
        packets.clear();
        while packets.len() < RX_BATCH {
            match s2c.pop(now) {
                Some(p) => packets.push(p),
                None => break,
            }
        }
        if batched {
            client.receive_batch(now, packets.iter().map(|p| p.as_slice()));
        } else {
            for p in &packets {
                client.receive(now, p);
            }
        }
        client.poll(now);
        while client.poll_event().is_some() {}
        while sent < bytes {
            let want = (bytes - sent).min(chunk.len() as u64) as usize;
            match client.tcp_send(now, id, &chunk[..want]) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        client.transmit(&mut |p| c2s.push(now, p));
        server.transmit(&mut |p| {
            run.acks += 1;
            s2c.push(now, p)
        });
        // Sleep until the next wake-up: a timer, or the next arrival
        // picked up no sooner than `wakeup` after this pass.
        let arrival = [c2s.poll_at(), s2c.poll_at()]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.max(now + wakeup));
        let next = [client.poll_at(), server.poll_at(), arrival]
            .into_iter()
            .flatten()
            .min()
            .expect("something pending while the transfer runs");
        now = next.max(now + 1);
    }
    run.virtual_secs = now as f64 / 1e6;
    run
}

fn main() {
    let mb: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let bytes = mb << 20;
    println!("bulk transfer of {mb} MiB one way, receiver's ACKs per MB (virtual time)");
    println!(
        "{:<34} {:>10} {:>12} {:>10} {:>10} {:>12}",
        "link", "receive", "ACKs/MB", "ACKs", "pkts/read", "goodput"
    );
    let links = [
        ("1 Gbit/s, 1 ms, wake-up 100 µs", 1_000_000_000, MS, 100),
        ("10 Gbit/s, 1 ms, wake-up 100 µs", 10_000_000_000, MS, 100),
        ("10 Gbit/s, 1 ms, wake-up 20 µs", 10_000_000_000, MS, 20),
        (
            "100 Mbit/s, 10 ms, wake-up 1 ms",
            100_000_000,
            10 * MS,
            1000,
        ),
    ];
    for (name, rate, delay, wakeup) in links {
        for batched in [false, true] {
            let r = run(bytes, rate, delay, wakeup, batched);
            println!(
                "{:<34} {:>10} {:>12.1} {:>10} {:>10.1} {:>8.3} Gbit/s",
                name,
                if batched { "batch" } else { "per-packet" },
                r.acks as f64 / (bytes as f64 / 1e6),
                r.acks,
                r.data_segments as f64 / r.batches.max(1) as f64,
                bytes as f64 * 8.0 / r.virtual_secs / 1e9
            );
        }
    }
}
