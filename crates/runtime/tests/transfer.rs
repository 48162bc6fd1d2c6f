//! Two runtimes over a MemoryLink move 1 MB each way at the same time.

mod common;

use common::{Pair, Side};
use tunstack_device::{memory, ImpairedDevice, Impairment, ImpairmentConfig};
use tunstack_runtime::{RtEvent, SocketId};

const SIZE: usize = 1 << 20;

struct End {
    conn: SocketId,
    out: Vec<u8>,
    sent: usize,
    shut: bool,
    got: Vec<u8>,
    eof: bool,
}

fn pump(pair: &Pair, side: Side, end: &mut End) {
    while end.sent < end.out.len() {
        let n = pair
            .rt(side)
            .tcp_write(end.conn, &end.out[end.sent..])
            .expect("write");
        if n == 0 {
            return; // 'writable' will follow
        }
        end.sent += n;
    }
    if !end.shut {
        pair.rt(side).tcp_shutdown(end.conn).expect("shutdown");
        end.shut = true;
    }
}

#[test]
fn one_megabyte_each_way_arrives_intact() {
    let mut pair = Pair::new();
    let data_events = exchange(&mut pair, SIZE, 8080);
    // Batching: data arrives in buffers far larger than one segment.
    assert!(
        data_events < 2 * SIZE / 1460,
        "{data_events} data events for 2 MB"
    );

    // Both sides shut down and read the peer's FIN: the closes complete.
    let stats = pair.a.stats().unwrap();
    let get = |name: &str| {
        stats
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap()
    };
    assert!(get("device_tx_packets") > 0 && get("device_rx_packets") > 0);
    pair.a.close_and_wait(std::time::Duration::from_secs(10));
    pair.b.close_and_wait(std::time::Duration::from_secs(10));
}

/// Tracing changes how a pass is processed (events are taken after each
/// packet); reads must still see every byte. A delay on the link makes
/// packets arrive in bursts, many per pass.
#[test]
fn data_flows_both_ways_with_tracing_on() {
    let delayed = |dev| {
        let delay = Impairment::new(ImpairmentConfig {
            delay_us: 2_000,
            ..ImpairmentConfig::default()
        });
        Box::new(ImpairedDevice::new(dev, delay))
    };
    let (a, b) = memory::pair(1500);
    let mut pair = Pair::with_devices(
        delayed(a),
        delayed(b),
        common::config(common::ADDR_A, 1),
        common::config(common::ADDR_B, 2),
    );
    pair.a.set_trace(true).unwrap();
    pair.b.set_trace(true).unwrap();
    // More than a receive buffer, so only reads (not the close) can drain it.
    exchange(&mut pair, SIZE, 8081);
}

/// Connect, send `size` bytes each way with a half-close after each side's
/// last byte, check both directions byte for byte; returns the number of
/// `Data` events.
fn exchange(pair: &mut Pair, size: usize, port: u16) -> usize {
    let (client, server) = pair.connect(port);
    let mut a = End {
        conn: client,
        out: common::pattern(1, size),
        sent: 0,
        shut: false,
        got: Vec::new(),
        eof: false,
    };
    let mut b = End {
        conn: server,
        out: common::pattern(2, size),
        sent: 0,
        shut: false,
        got: Vec::new(),
        eof: false,
    };
    pump(pair, Side::A, &mut a);
    pump(pair, Side::B, &mut b);

    let mut data_events = 0usize;
    while !(a.eof && b.eof) {
        let (side, events) = pair.next();
        let end = match side {
            Side::A => &mut a,
            Side::B => &mut b,
        };
        for event in events {
            match event {
                RtEvent::Data { id, data } => {
                    assert_eq!(id, end.conn);
                    assert!(!end.eof, "data after end");
                    end.got.extend_from_slice(&data);
                    data_events += 1;
                }
                RtEvent::End { id } => {
                    assert_eq!(id, end.conn);
                    assert!(!end.eof, "end twice");
                    end.eof = true;
                }
                RtEvent::Writable { id } => {
                    assert_eq!(id, end.conn);
                    pump(pair, side, end);
                }
                RtEvent::Closed { id, error: Some(e) } => {
                    panic!("{side:?} conn {id:?} failed: {e}")
                }
                _ => {}
            }
        }
    }
    assert_eq!(a.sent, size);
    assert_eq!(b.sent, size);
    assert!(
        a.got == b.out,
        "A received {} bytes, not B's data",
        a.got.len()
    );
    assert!(
        b.got == a.out,
        "B received {} bytes, not A's data",
        b.got.len()
    );
    data_events
}
