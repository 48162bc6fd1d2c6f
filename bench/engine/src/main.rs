//! Engine-only bulk throughput: two tunstack engines in one process, packets
//! handed from one to the other in memory (no JS, no TUN, no syscalls), next
//! to the kernel's loopback TCP moving the same bytes between two threads,
//! measured in the same run so the ratio is meaningful on any machine.
//!
//! Each side takes what the other transmitted in one pass as one receive
//! batch (`begin_batch`/`end_batch`, RFC 1122 §4.2.2.21: one cumulative
//! ACK per batch), as the runtime does per device read; `--per-packet`
//! feeds every packet to a plain `receive` instead, for comparison.
//!
//! Usage: tunstack-bench [BYTES] [--json] [--per-packet]   (default 1 GiB)

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Instant as Clock;
use tunstack_core::{Event, Stack, StackConfig};

const CHUNK: usize = 256 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let batched = !args.iter().any(|a| a == "--per-packet");
    let bytes: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1 << 30);

    let engine = engines(bytes, batched);
    let kernel = kernel_loopback(bytes);
    let gbit = |secs: f64| bytes as f64 * 8.0 / secs / 1e9;
    if json {
        println!(
            "{{\"bytes\":{bytes},\"batched\":{batched},\"engine_gbps\":{:.3},\"engine_secs\":{:.3},\"engine_segments\":{},\"engine_acks\":{},\"kernel_loopback_gbps\":{:.3},\"ratio\":{:.3}}}",
            gbit(engine.secs),
            engine.secs,
            engine.segments,
            engine.acks,
            gbit(kernel),
            kernel / engine.secs
        );
    } else {
        println!("bulk transfer of {} MiB, one connection", bytes >> 20);
        println!(
            "  two tunstack engines, one process : {:7.2} Gbit/s  ({} segments, {:.2} s)",
            gbit(engine.secs),
            engine.segments,
            engine.secs
        );
        println!(
            "    receiver's ACKs, {:10}   : {:7} ({:.1} per MB)",
            if batched { "batched" } else { "per-packet" },
            engine.acks,
            engine.acks as f64 / (bytes as f64 / 1e6)
        );
        println!(
            "  kernel loopback TCP (reference)   : {:7.2} Gbit/s",
            gbit(kernel)
        );
        println!(
            "  ratio engine / kernel             : {:7.3}",
            kernel / engine.secs
        );
    }
}

struct EngineRun {
    secs: f64,
    segments: u64,
    /// Segments from the receiving engine: all ACKs (it sends no data).
    acks: u64,
}

/// Moves `bytes` from engine A to engine B; the "wire" is two packet queues.
fn engines(bytes: u64, batched: bool) -> EngineRun {
    let a_addr = Ipv4Addr::new(10, 0, 0, 1);
    let b_addr = Ipv4Addr::new(10, 0, 0, 2);
    let mut cfg_a = StackConfig::new(a_addr, 24);
    cfg_a.seed = 1;
    let mut cfg_b = StackConfig::new(b_addr, 24);
    cfg_b.seed = 2;
    // Large buffers so the window, not the buffer, is the only limit.
    for cfg in [&mut cfg_a, &mut cfg_b] {
        cfg.mtu = 1500;
        cfg.tcp.send_buffer = 1 << 20;
        cfg.tcp.recv_buffer = 1 << 20;
    }
    let mut a = Stack::new(cfg_a);
    let mut b = Stack::new(cfg_b);
    let start = Clock::now();
    let now = || start.elapsed().as_micros() as u64;

    let listener = b
        .tcp_listen(SocketAddrV4::new(b_addr, 5001), 16)
        .expect("listen");
    let client = a
        .tcp_connect(now(), SocketAddrV4::new(b_addr, 5001), None)
        .expect("connect");
    let payload = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut server = None;
    let mut sink = Vec::with_capacity(CHUNK);
    let mut segments = 0u64;
    let mut acks = 0u64;
    let mut idle_rounds = 0u32;

    while received < bytes {
        let t = now();
        if sent < bytes {
            let want = (bytes - sent).min(CHUNK as u64) as usize;
            if let Ok(n) = a.tcp_send(t, client, &payload[..want]) {
                sent += n as u64;
            }
        }
        a.poll(t);
        b.poll(t);
        // The wire: each packet goes straight from one engine to the other;
        // what one pass carries is the receiver's batch, the reads included.
        if batched {
            b.begin_batch();
        }
        a.transmit(&mut |p| {
            segments += 1;
            b.receive(t, p)
        });
        while let Some(ev) = b.poll_event() {
            if let Event::Acceptable { listener: l } = ev {
                if l == listener {
                    server = b.tcp_accept(listener);
                }
            }
        }
        if let Some(s) = server {
            loop {
                sink.clear();
                match b.tcp_recv(t, s, &mut sink, CHUNK) {
                    Ok(n) if n > 0 => received += n as u64,
                    _ => break,
                }
            }
        }
        if batched {
            b.end_batch(t);
            a.begin_batch();
        }
        let mut moved = false;
        b.transmit(&mut |p| {
            moved = true;
            acks += 1;
            a.receive(t, p)
        });
        if batched {
            a.end_batch(t);
        }
        while a.poll_event().is_some() {}
        // Nothing moved: let virtual timers (a lost-nothing link should not
        // need them) fire rather than spin forever on a stuck engine.
        if moved {
            idle_rounds = 0;
        } else {
            idle_rounds += 1;
            assert!(
                idle_rounds < 10_000_000,
                "engines stalled after {received} bytes"
            );
        }
    }
    EngineRun {
        secs: start.elapsed().as_secs_f64(),
        segments,
        acks,
    }
}

/// The same transfer over the kernel's loopback between two threads.
fn kernel_loopback(bytes: u64) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let start = Clock::now();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = vec![0u8; CHUNK];
        let mut got = 0u64;
        while got < bytes {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n as u64,
            }
        }
        got
    });
    let mut s = TcpStream::connect(addr).expect("connect loopback");
    let payload = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while sent < bytes {
        let n = (bytes - sent).min(CHUNK as u64) as usize;
        s.write_all(&payload[..n]).expect("write loopback");
        sent += n as u64;
    }
    drop(s);
    let got = reader.join().expect("reader thread");
    assert_eq!(got, bytes);
    start.elapsed().as_secs_f64()
}
