//! Untrusted input never panics. A stack with a listener and an established
//! connection (opened by a scripted peer) is fed malformed packets of every
//! kind the literature warns about — truncated and inconsistent IPv4
//! headers, bad checksums, fragments, bad TCP data offsets, bad option
//! lengths — plus tens of thousands of seeded random mutations and random
//! garbage. Every malformed packet must be dropped silently (no reply, no
//! event) and counted, and afterwards the connection must still carry data
//! both ways with the right sequence numbers.
//!
//! Whether a packet is malformed is decided by an oracle written here from
//! RFC 791 and RFC 9293 (`support::parse`), independently of the engine.

mod fixture;
mod support;

use fixture::*;
use std::net::Ipv4Addr;
use support::{
    fix_ip_checksum, fix_tcp_checksum, parse, Malformed, SegmentSpec, ACK, FIN, PSH, RST, SYN, URG,
};
use tunstack_core::{Event, SocketId};
#[test]
fn oracle_agrees_with_smoltcp_on_valid_packets() {
    use smoltcp::wire::{IpAddress, Ipv4Packet, TcpPacket};
    let packets = [
        SegmentSpec::new((PEER, 1), (OURS, 2), 7, 9, SYN)
            .options(&MSS_1460)
            .build(),
        SegmentSpec::new((PEER, 1), (OURS, 2), 7, 9, ACK | PSH)
            .payload(b"odd length")
            .ip_options(&nop_ip_options())
            .build(),
    ];
    for p in packets {
        let seg = parse(&p).expect("oracle accepts what smoltcp emitted");
        let ip = Ipv4Packet::new_checked(&p[..]).expect("smoltcp parses");
        assert!(ip.verify_checksum());
        let tcp = TcpPacket::new_checked(ip.payload()).expect("smoltcp parses TCP");
        assert!(tcp.verify_checksum(&IpAddress::Ipv4(PEER), &IpAddress::Ipv4(OURS)));
        assert_eq!(seg.payload, tcp.payload());
        let mut broken = p.clone();
        let last = broken.len() - 1;
        broken[last] ^= 0x40;
        assert_eq!(parse(&broken), Err(Malformed::Tcp("bad checksum")));
    }
}

#[test]
fn truncated_ipv4_packets_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    // A 60-byte IP header (IHL 15, NOP options) so that every header
    // length 0..60 is cut, then the TCP header and payload.
    let with_ip_options = fx
        .main_spec(ACK | PSH)
        .ip_options(&nop_ip_options())
        .payload(b"truncated")
        .build();
    // A 20-byte IP header, a TCP header with 20 bytes of options.
    let syn = fx
        .spec(40100, 1, 0, SYN)
        .options(&[
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ])
        .build();
    for base in [with_ip_options, syn] {
        for len in 0..base.len() {
            fx.feed_malformed(
                &base[..len],
                &format!("packet cut to {len} of {}", base.len()),
                Expect::IpHeader,
            );
        }
    }
    assert_eq!(fx.fed, 60 + 9 + 20 + 60);
    fx.assert_survives("truncated packets");
}

#[test]
fn bad_ipv4_header_checksums_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let base = fx.main_spec(ACK | PSH).payload(b"bad ip checksum").build();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for flip in [0x0001u16, 0x0100, 0x8000, 0xffff] {
        let mut p = base.clone();
        let sum = u16::from_be_bytes([p[10], p[11]]) ^ flip;
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        cases.push((format!("checksum xor {flip:#06x}"), p));
    }
    // Header fields changed after the checksum was computed.
    for (offset, name) in [
        (1, "TOS"),
        (4, "identification"),
        (8, "TTL"),
        (12, "source address"),
    ] {
        let mut p = base.clone();
        p[offset] ^= 0x10;
        cases.push((format!("{name} changed"), p));
    }
    for (what, p) in cases {
        fx.feed_malformed(&p, &what, IP_CSUM);
    }
    fx.assert_survives("bad IP checksums");
}

#[test]
fn bad_ipv4_header_fields_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let base = fx.main_spec(ACK).build(); // 40 bytes
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for version in [0u8, 1, 5, 6, 7, 15] {
        let mut p = base.clone();
        p[0] = (version << 4) | (p[0] & 0x0f);
        fix_ip_checksum(&mut p);
        cases.push((format!("version {version}"), p));
    }
    for ihl in 0u8..5 {
        let mut p = base.clone();
        p[0] = 0x40 | ihl;
        fix_ip_checksum(&mut p);
        cases.push((format!("IHL {ihl}"), p));
    }
    // IHL·4 beyond the 40-byte total length (and buffer).
    for ihl in 11u8..=15 {
        let mut p = base.clone();
        p[0] = 0x40 | ihl;
        fix_ip_checksum(&mut p);
        cases.push((format!("IHL {ihl} in a 40-byte packet"), p));
    }
    for total in [0u16, 1, 19] {
        let mut p = base.clone();
        set_total_len(&mut p, total);
        fix_ip_checksum(&mut p);
        cases.push((format!("total length {total}"), p));
    }
    for total in [41u16, 1500, 65535] {
        let mut p = base.clone();
        set_total_len(&mut p, total);
        fix_ip_checksum(&mut p);
        cases.push((format!("total length {total} in a 40-byte buffer"), p));
    }
    for (what, p) in cases {
        fx.feed_malformed(&p, &what, Expect::IpHeader);
    }
    fx.assert_survives("bad IP header fields");
}

#[test]
fn fragments_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let base = fx.main_spec(ACK | PSH).payload(b"fragment").build();
    for (more, offset) in [(true, 0u16), (false, 1), (true, 100), (false, 0x1fff)] {
        let mut p = base.clone();
        let field = (u16::from(more) << 13) | offset;
        p[6..8].copy_from_slice(&field.to_be_bytes());
        fix_ip_checksum(&mut p);
        fx.feed_malformed(&p, &format!("fragment MF={more} offset={offset}"), IP_FRAG);
    }
    fx.assert_survives("fragments");
}

#[test]
fn misaddressed_and_unknown_protocol_packets_are_counted() {
    let mut fx = Fixture::new();
    for dst in [Ipv4Addr::new(10, 0, 0, 3), Ipv4Addr::new(8, 8, 8, 8)] {
        let mut spec = fx.main_spec(ACK | PSH).payload(b"not for us");
        spec.dst = dst;
        let p = spec.build();
        assert!(parse(&p).is_ok(), "test bug");
        fx.feed_dropped(&p, &format!("well-formed packet for {dst}"), IP_ADDR);
    }
    // GRE: well-formed IPv4 with a protocol we do not speak. An ICMP
    // protocol-unreachable reply is allowed (RFC 1122 §3.2.2.1), a TCP one is not.
    let mut p = fx.main_spec(ACK).payload(b"gre").build();
    p[9] = 47;
    fix_ip_checksum(&mut p);
    let before = fx.stack.stats().clone();
    fx.stack.receive(fx.now, &p);
    let after = fx.stack.stats().clone();
    let Expect::Counter(name, counter) = IP_PROTO else {
        unreachable!()
    };
    assert_eq!(counter(&after), counter(&before) + 1, "{name}");
    let mut raw = Vec::new();
    fx.stack.transmit(&mut |q| raw.push(q.to_vec()));
    for q in raw {
        assert_eq!(
            q.get(9),
            Some(&1),
            "reply to an unknown protocol that is not ICMP: {q:02x?}"
        );
    }
    fx.assert_survives("misaddressed packets");
}

#[test]
fn bad_tcp_checksums_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let data = fx.main_spec(ACK | PSH).payload(b"bad tcp checksum").build();
    let mut p = data.clone();
    p[36] ^= 0x01; // checksum field
    cases.push(("data with checksum off by one", p));
    let mut p = data.clone();
    let last = p.len() - 1;
    p[last] ^= 0x20;
    cases.push(("data with a payload byte changed", p));
    let mut p = fx.main_spec(RST | ACK).build();
    p[37] ^= 0x80;
    cases.push(("in-sequence RST with a bad checksum", p));
    let mut p = fx.main_spec(FIN | ACK).build();
    p[36] ^= 0xff;
    cases.push(("FIN with a bad checksum", p));
    let mut p = fx.spec(40200, 5, 0, SYN).options(&MSS_1460).build();
    p[36] ^= 0x10;
    cases.push(("SYN to the listener with a bad checksum", p));
    let mut spec = fx.spec(40201, 5, 0, SYN);
    spec.dst_port = CLOSED_PORT;
    let mut p = spec.build();
    p[37] ^= 0x01;
    cases.push((
        "SYN to a closed port with a bad checksum (no RST may answer it)",
        p,
    ));
    for (what, p) in cases {
        fx.feed_malformed(&p, what, TCP_CSUM);
    }
    fx.assert_survives("bad TCP checksums");
}

#[test]
fn bad_tcp_data_offsets_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let data = fx.main_spec(ACK | PSH).payload(b"0123456789").build(); // TCP length 30
    let syn = fx.spec(40300, 5, 0, SYN).build(); // TCP length 20
    for (name, base, tcp_len) in [("data", &data, 30usize), ("SYN", &syn, 20)] {
        for offset in (0u8..5).chain(((tcp_len / 4 + 1) as u8)..=15) {
            let mut p = base.clone();
            p[32] = (offset << 4) | (p[32] & 0x0f);
            fix_tcp_checksum(&mut p);
            fx.feed_malformed(&p, &format!("{name} with data offset {offset}"), TCP_ERRS);
        }
    }
    // TCP segments shorter than a TCP header (IP total length consistent).
    for tcp_len in [0usize, 1, 8, 17, 18, 19] {
        let mut p = data[..20 + tcp_len].to_vec();
        set_total_len(&mut p, (20 + tcp_len) as u16);
        fix_ip_checksum(&mut p);
        fx.feed_malformed(
            &p,
            &format!("TCP segment of {tcp_len} bytes"),
            Expect::AnyDrop,
        );
    }
    fx.assert_survives("bad data offsets");
}

#[test]
fn malformed_tcp_options_are_dropped_and_counted() {
    let mut fx = Fixture::new();
    let bad_options: [(&str, &[u8]); 9] = [
        ("MSS with length 0", &[2, 0, 5, 0xb4]),
        ("MSS with length 1", &[2, 1, 5, 0xb4]),
        ("unknown option with length 0", &[99, 0, 0, 0]),
        ("unknown option with length 1", &[1, 1, 99, 1]),
        ("option kind without a length byte", &[1, 1, 1, 8]),
        ("timestamps running past the header", &[8, 10, 0, 0]),
        ("unknown option running past the header", &[1, 1, 99, 40]),
        ("SACK running past the header", &[1, 1, 5, 255, 0, 0, 0, 0]),
        (
            "valid MSS then a zero-length option",
            &[2, 4, 5, 0xb4, 30, 0, 0, 0],
        ),
    ];
    for (what, options) in bad_options {
        let segments = [
            (
                "data",
                fx.main_spec(ACK | PSH)
                    .options(options)
                    .payload(b"opts")
                    .build(),
            ),
            ("ACK", fx.main_spec(ACK).options(options).build()),
            (
                "SYN to the listener",
                fx.spec(40400, 5, 0, SYN).options(options).build(),
            ),
            (
                "in-sequence RST",
                fx.main_spec(RST).options(options).build(),
            ),
        ];
        for (kind, p) in segments {
            fx.feed_malformed(&p, &format!("{kind} with {what}"), TCP_ERRS);
        }
    }
    fx.assert_survives("bad options");
}

/// Read everything the connection has buffered.
fn read_all(fx: &mut Fixture, id: SocketId) -> Vec<u8> {
    let mut out = Vec::new();
    while fx
        .stack
        .tcp_recv(fx.now, id, &mut out, 1 << 20)
        .expect("tcp_recv")
        > 0
    {}
    out
}

#[test]
fn unusual_but_valid_segments_are_accepted() {
    let mut fx = Fixture::new();
    let port = fx.main.port;
    let deliver = |fx: &mut Fixture, what: &str, spec: SegmentSpec, padding: usize| {
        let payload = spec.payload.clone();
        let mut p = spec.build();
        p.extend(std::iter::repeat_n(0xee, padding));
        fx.stack.receive(fx.now, &p);
        fx.main.nxt = fx.main.nxt.wrapping_add(payload.len() as u32);
        fx.delivered += payload.len() as u64;
        let want = fx.main.nxt;
        fx.expect(&format!("ACK of {what}"), |s| {
            s.dst_port == port && s.ack == want
        });
        let id = fx.main.id;
        assert_eq!(read_all(fx, id), payload, "{what}: data read");
    };
    let spec = fx
        .main_spec(ACK | PSH)
        .options(&[99, 6, 1, 2, 3, 4, 253, 4, 0xab, 0xcd, 1, 0])
        .payload(b"unknown options are ignored");
    deliver(&mut fx, "segment with unknown options", spec, 0);
    let spec = fx
        .main_spec(ACK | PSH)
        .ip_options(&nop_ip_options())
        .payload(b"IP options are skipped");
    deliver(&mut fx, "segment with IP options", spec, 0);
    let spec = fx.main_spec(ACK | PSH).payload(b"link padding is not data");
    deliver(&mut fx, "segment with 30 bytes of link padding", spec, 30);
    fx.assert_survives("unusual segments");
}

#[test]
fn hostile_urgent_pointers_do_not_break_the_connection() {
    // Urgent pointers are valid segments whatever their value: each one
    // is accepted (ACKed), never panics, and never corrupts the stream.
    let mut fx = Fixture::new();
    let id = fx.main.id;
    let port = fx.main.port;
    // (what, flags, pointer, payload, stream bytes read, urgent byte)
    type Case = (
        &'static str,
        u8,
        u16,
        &'static [u8],
        &'static [u8],
        Option<u8>,
    );
    let cases: [Case; 7] = [
        // URG on a segment without data: the mark is the next byte.
        ("URG without data", URG | ACK, 1, b"", b"", None),
        (
            "the byte the empty segment pointed at",
            ACK | PSH,
            0,
            b"!after",
            b"after",
            Some(b'!'),
        ),
        (
            "zero pointer with URG",
            URG | ACK | PSH,
            0,
            b"zero",
            b"zero",
            None,
        ),
        (
            "pointer at the segment's end",
            URG | ACK | PSH,
            4,
            b"end#",
            b"end",
            Some(b'#'),
        ),
        (
            "pointer field set without URG",
            ACK | PSH,
            2,
            b"noflag",
            b"noflag",
            None,
        ),
        // Far beyond the segment: waits for a byte that never comes.
        (
            "pointer 65535 beyond the segment",
            URG | ACK | PSH,
            65535,
            b"far",
            b"far",
            None,
        ),
        (
            "data after the far pointer",
            ACK | PSH,
            0,
            b"more",
            b"more",
            None,
        ),
    ];
    for (what, flags, pointer, payload, stream, urgent) in cases {
        let p = fx.main_spec(flags).urgent(pointer).payload(payload).build();
        fx.stack.receive(fx.now, &p);
        fx.main.nxt = fx.main.nxt.wrapping_add(payload.len() as u32);
        fx.delivered += payload.len() as u64;
        if !payload.is_empty() {
            let want = fx.main.nxt;
            fx.expect(&format!("ACK of {what}"), |s| {
                s.dst_port == port && s.ack == want
            });
        }
        let events = fx.events();
        let got = fx.stack.tcp_recv_urgent(id).map(|u| u.byte);
        assert_eq!(got, urgent, "{what}: urgent byte (events {events:?})");
        assert_eq!(
            events.contains(&Event::Urgent { id }),
            urgent.is_some(),
            "{what}: events {events:?}"
        );
        assert_eq!(read_all(&mut fx, id), stream, "{what}: stream");
    }
    // An old segment (entirely before RCV.NXT) with a pointer into it: a
    // duplicate, answered with an ACK; no mark is replayed.
    let old = fx
        .spec(
            port,
            fx.main.nxt.wrapping_sub(4),
            fx.main.our_nxt,
            URG | ACK | PSH,
        )
        .urgent(2)
        .payload(b"more")
        .build();
    fx.stack.receive(fx.now, &old);
    let want = fx.main.nxt;
    fx.expect("ACK of the duplicate", |s| {
        s.dst_port == port && s.ack == want
    });
    assert_eq!(fx.stack.tcp_recv_urgent(id), None);
    assert!(fx.events().is_empty());
    fx.assert_survives("hostile urgent pointers");
}

/// Take `len` bytes our stack sends on `peer`, acknowledging each in-order
/// segment with window `window`; every packet must fit the MTU and carry at
/// most `max_payload` bytes and at least one byte.
fn pull(fx: &mut Fixture, peer: &mut Peer, len: usize, window: u16, max_payload: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut idle = 0;
    while got.len() < len {
        let segs = fx.drain();
        let mut progress = false;
        for s in segs.iter().filter(|s| s.dst_port == peer.port) {
            if s.payload.is_empty() {
                continue;
            }
            assert!(
                s.payload.len() <= max_payload,
                "segment of {} bytes > {max_payload}: {s}",
                s.payload.len()
            );
            if s.seq == peer.our_nxt {
                got.extend_from_slice(&s.payload);
                peer.our_nxt = peer.our_nxt.wrapping_add(s.payload.len() as u32);
                progress = true;
            }
            let ack = fx
                .spec(peer.port, peer.nxt, peer.our_nxt, ACK)
                .window(window)
                .build();
            fx.stack.receive(fx.now, &ack);
        }
        if progress {
            idle = 0;
        } else {
            idle += 1;
            assert!(
                idle < MAX_TICKS,
                "stalled after {} of {len} bytes",
                got.len()
            );
            fx.tick();
        }
        for e in fx.events() {
            assert!(
                !matches!(e, Event::Closed { .. }),
                "connection closed: {e:?}"
            );
        }
    }
    got
}

#[test]
fn extreme_mss_and_window_values_do_not_break_the_connection() {
    let mut fx = Fixture::new();
    let data = support::pseudo_random_bytes(9, 20_000);
    // (SYN options, window, largest payload we may see, bytes to send)
    let cases: [(&str, Vec<u8>, u16, usize, usize); 5] = [
        (
            "MSS 65535, window scale 14",
            vec![2, 4, 0xff, 0xff, 3, 3, 14, 0],
            65535,
            MTU - 40,
            20_000,
        ),
        (
            "window scale 255 (RFC 7323: use 14)",
            vec![2, 4, 0xff, 0xff, 3, 3, 255, 0],
            65535,
            MTU - 40,
            20_000,
        ),
        ("no MSS option (RFC 9293: 536)", vec![], 65535, 536, 5_000),
        ("MSS 1", vec![2, 4, 0, 1], 65535, MTU - 40, 300),
        ("MSS 0", vec![2, 4, 0, 0], 65535, MTU - 40, 300),
    ];
    for (i, (what, options, window, max_payload, len)) in cases.into_iter().enumerate() {
        let port = 41000 + i as u16;
        let (mut peer, synack) = fx.open(port, &options, window);
        let our_mss = synack.mss().unwrap_or(536);
        assert!(
            usize::from(our_mss) <= MTU - 40,
            "{what}: our SYN-ACK's MSS {our_mss} exceeds the MTU"
        );
        // Far below the send buffer, so it is taken whole.
        let accepted = fx
            .stack
            .tcp_send(fx.now, peer.id, &data[..len])
            .expect("tcp_send");
        assert_eq!(accepted, len, "{what}: tcp_send");
        let got = pull(&mut fx, &mut peer, len, window, max_payload);
        assert_eq!(got.len(), len, "{what}: bytes received");
        assert!(got == data[..len], "{what}: data corrupted");
        fx.stack.tcp_abort(fx.now, peer.id);
        fx.drain();
        fx.events();
    }
    fx.assert_survives("extreme MSS and window values");
}
