//! Untrusted input never panics, by brute force: tens of thousands of
//! seeded random mutations of valid segments, and random garbage, fed to a
//! stack with a listener and an established connection. Every packet the
//! oracle (`support::parse`) calls malformed must be dropped silently and
//! counted, and afterwards the connection must still work.

mod fixture;
mod support;

use fixture::*;
use support::{fix_ip_checksum, fix_tcp_checksum, parse, Malformed, ACK, FIN, PSH, RST, SYN};
use tunstack_device::SplitMix64;

/// The valid segments random mutations start from, in the current
/// sequence space of the main connection.
fn fuzz_bases(fx: &Fixture) -> Vec<Vec<u8>> {
    let options = [
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let mut closed = fx.spec(40501, 77, 0, SYN).options(&options);
    closed.dst_port = CLOSED_PORT;
    vec![
        fx.spec(40500, 99, 0, SYN).options(&options).build(),
        closed.build(),
        fx.main_spec(ACK | PSH)
            .payload(b"fuzzed payload 0123456789")
            .build(),
        fx.main_spec(ACK).build(),
        fx.main_spec(ACK).window(0).build(),
        fx.main_spec(FIN | ACK).build(),
        fx.main_spec(RST).build(),
        fx.main_spec(ACK | PSH)
            .ip_options(&nop_ip_options())
            .options(&options)
            .payload(b"with IP and TCP options")
            .build(),
        fx.spec(40502, 1, 2, ACK | PSH)
            .payload(b"unknown connection")
            .build(),
    ]
}

/// One seeded mutation of `p`.
fn mutate(rng: &mut SplitMix64, p: &mut Vec<u8>) {
    let pick = |rng: &mut SplitMix64, n: usize| rng.up_to(n.saturating_sub(1) as u64) as usize;
    match rng.up_to(7) {
        // Bytes changed anywhere, checksums left as they are.
        0 | 1 => {
            for _ in 0..=rng.up_to(3) {
                let i = pick(rng, p.len());
                p[i] ^= rng.up_to(254) as u8 + 1;
            }
        }
        // A header byte changed behind a recomputed IP checksum (reaches
        // the IP length checks and TCP).
        2 => {
            let i = pick(rng, p.len().min(60));
            p[i] = rng.next_u64() as u8;
            fix_ip_checksum(p);
        }
        // The same with the TCP checksum recomputed too (reaches TCP's
        // header and option parsing).
        3 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let i = ihl + pick(rng, 40);
            if i < p.len() {
                p[i] = rng.next_u64() as u8;
            }
            fix_ip_checksum(p);
            fix_tcp_checksum(p);
        }
        // Truncation.
        4 => {
            let keep = pick(rng, p.len());
            p.truncate(keep);
        }
        // A random IP total length.
        5 => {
            let total = rng.up_to(u64::from(u16::MAX)) as u16;
            set_total_len(p, total);
            fix_ip_checksum(p);
            fix_tcp_checksum(p);
        }
        // A random TCP data offset.
        6 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if let Some(b) = p.get_mut(ihl + 12) {
                *b = (rng.up_to(15) as u8) << 4 | (*b & 0x0f);
            }
            fix_ip_checksum(p);
            fix_tcp_checksum(p);
        }
        // Random option bytes (the bases with options have them at 20..40
        // of the TCP header).
        _ => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            for _ in 0..=rng.up_to(5) {
                let i = ihl + 20 + pick(rng, 20);
                if i < p.len() {
                    p[i] = match rng.up_to(3) {
                        0 => 0,
                        1 => 1,
                        _ => rng.next_u64() as u8,
                    };
                }
            }
            fix_ip_checksum(p);
            fix_tcp_checksum(p);
        }
    }
}

/// Feed `packet` if the oracle calls it malformed; tally the reason.
fn feed_if_malformed(fx: &mut Fixture, packet: &[u8], what: &str, ip: &mut u64, tcp: &mut u64) {
    match parse(packet) {
        Err(Malformed::Ip(_)) => {
            *ip += 1;
            fx.feed_malformed(packet, what, Expect::AnyDrop);
        }
        Err(Malformed::Tcp(_)) => {
            *tcp += 1;
            fx.feed_malformed(packet, what, Expect::AnyDrop);
        }
        // Well-formed (or debatable) packets may legitimately change state;
        // they are not what this test is about.
        Ok(_) | Err(Malformed::NotTcp) | Err(Malformed::Ambiguous(_)) => {}
    }
}

#[test]
fn random_mutations_of_valid_segments_are_dropped_and_counted() {
    const ITERATIONS: u64 = 20_000;
    let mut fx = Fixture::new();
    let bases = fuzz_bases(&fx);
    let mut rng = SplitMix64::new(0xbad_1dea);
    let (mut ip, mut tcp) = (0u64, 0u64);
    for i in 0..ITERATIONS {
        let b = rng.up_to(bases.len() as u64 - 1) as usize;
        let mut p = bases[b].clone();
        mutate(&mut rng, &mut p);
        feed_if_malformed(
            &mut fx,
            &p,
            &format!("mutation {i} of base {b}"),
            &mut ip,
            &mut tcp,
        );
    }
    // The mix must really exercise both layers, mostly with malformed input.
    assert!(
        ip > ITERATIONS / 4 && tcp > ITERATIONS / 10,
        "ip {ip}, tcp {tcp}"
    );
    assert!(
        fx.fed > ITERATIONS * 2 / 3,
        "only {} of {ITERATIONS} mutations were malformed",
        fx.fed
    );
    fx.assert_survives("random mutations");
}

#[test]
fn random_garbage_is_dropped_and_counted() {
    const ITERATIONS: u64 = 10_000;
    let mut fx = Fixture::new();
    let mut rng = SplitMix64::new(0x6a7ba6e);
    let (mut ip, mut tcp) = (0u64, 0u64);
    for i in 0..ITERATIONS {
        let len = rng.up_to(1600) as usize;
        let mut p: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Half the time look like IPv4/TCP for us so the garbage gets past
        // the first checks.
        if len >= 20 && rng.chance(0.5) {
            p[0] = 0x45;
            p[6] &= 0x40;
            p[7] = 0;
            p[9] = 6;
            p[16..20].copy_from_slice(&OURS.octets());
            if rng.chance(0.5) {
                set_total_len(&mut p, len as u16);
            }
            fix_ip_checksum(&mut p);
        }
        feed_if_malformed(&mut fx, &p, &format!("garbage {i}"), &mut ip, &mut tcp);
    }
    assert!(ip > 0 && tcp > 0, "ip {ip}, tcp {tcp}");
    assert!(
        fx.fed > ITERATIONS * 9 / 10,
        "only {} of {ITERATIONS} were malformed",
        fx.fed
    );
    fx.assert_survives("random garbage");
}

/// Receive offload hands over packets whose transport checksum is not
/// verified (the device vouched for it), up to 64 KiB: mutations and
/// garbage that a checksum would have stopped now reach the TCP and UDP
/// parsers and the connection. Nothing may panic, whatever they do to it.
#[test]
fn trusted_checksums_and_64k_packets_never_panic() {
    use tunstack_core::RxMeta;
    let trusted = RxMeta {
        checksum_trusted: true,
    };
    let mut fx = Fixture::new();
    let mut bases = fuzz_bases(&fx);
    bases.push(fx.main_spec(ACK | PSH).payload(&vec![0x5a; 65_000]).build());
    let mut rng = SplitMix64::new(0x007e_57ed);
    for _ in 0..20_000 {
        let b = rng.up_to(bases.len() as u64 - 1) as usize;
        let mut p = bases[b].clone();
        mutate(&mut rng, &mut p);
        if rng.chance(0.5) {
            fix_ip_checksum(&mut p);
        }
        fx.now += 1_000;
        fx.stack.receive_with(fx.now, &p, trusted);
        fx.stack.poll(fx.now);
        fx.stack.transmit(&mut |_| {});
        while fx.stack.poll_event().is_some() {}
    }
}
