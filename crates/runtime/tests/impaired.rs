//! Over a lossy, reordering, delaying link the runtime must still deliver
//! every byte: impaired devices release held packets only when the thread
//! calls `recv` after their `poll_at`, with no fd readiness, so this checks
//! that the thread wakes for device deadlines as well as engine timers.

mod common;

use common::{config, Pair, Side, ADDR_A, ADDR_B};
use tunstack_device::{memory, ImpairedDevice, Impairment, ImpairmentConfig};
use tunstack_runtime::RtEvent;

const SIZE: usize = 1 << 20;

fn impaired(seed: u64) -> Impairment {
    Impairment::new(ImpairmentConfig {
        loss: 0.03,
        reorder: 0.03,
        duplicate: 0.01,
        delay_us: 500,
        jitter_us: 200,
        seed,
        ..ImpairmentConfig::default()
    })
}

#[test]
fn one_megabyte_over_a_lossy_reordering_link_arrives_intact() {
    let (a, b) = memory::pair(1500);
    let a = ImpairedDevice::new(a, impaired(11));
    let b = ImpairedDevice::new(b, impaired(12));
    let (mut ca, mut cb) = (config(ADDR_A, 3), config(ADDR_B, 4));
    for c in [&mut ca, &mut cb] {
        // Short timers keep a run with losses brief; correctness is the point.
        c.tcp.rto_initial = 100_000;
        c.tcp.rto_min = 20_000;
    }
    let mut pair = Pair::with_devices(Box::new(a), Box::new(b), ca, cb);
    let (client, server) = pair.connect(4000);

    let out = common::pattern(3, SIZE);
    let mut sent = 0usize;
    let mut shut = false;
    let pump = |pair: &Pair, sent: &mut usize, shut: &mut bool| {
        while *sent < SIZE {
            match pair.a.tcp_write(client, &out[*sent..]).unwrap() {
                0 => return,
                n => *sent += n,
            }
        }
        if !*shut {
            pair.a.tcp_shutdown(client).unwrap();
            *shut = true;
        }
    };
    pump(&pair, &mut sent, &mut shut);
    let mut got = Vec::with_capacity(SIZE);
    let mut eof = false;
    while !eof {
        let (side, events) = pair.next();
        for event in events {
            match (side, event) {
                (Side::A, RtEvent::Writable { .. }) => pump(&pair, &mut sent, &mut shut),
                (Side::B, RtEvent::Data { id, data }) if id == server => {
                    got.extend_from_slice(&data)
                }
                (Side::B, RtEvent::End { id }) if id == server => eof = true,
                (_, RtEvent::Closed { error: Some(e), .. }) => panic!("connection failed: {e}"),
                _ => {}
            }
        }
    }
    assert!(
        got == out,
        "received {} bytes, not the data sent",
        got.len()
    );
    let stats = pair.a.stats().unwrap();
    let retrans = stats
        .iter()
        .find(|(n, _)| *n == "tcp_retrans_segs")
        .unwrap()
        .1;
    assert!(
        retrans > 0,
        "the link lost nothing: the test did not exercise recovery"
    );
}
