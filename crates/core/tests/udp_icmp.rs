//! UDP sockets and ICMP: echo replies, datagrams both ways, bounded
//! queues, port unreachable for unbound ports, checksum drops.

mod common;
use common::*;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress, UdpPacket, UdpRepr};
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{Event, State};

fn ip_packet(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 9, 0, 0, 64, proto, 0, 0]);
    p.extend_from_slice(&PEER.octets());
    p.extend_from_slice(&US.octets());
    let c = checksum(&[&p]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn udp_packet(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
    let repr = UdpRepr { src_port, dst_port };
    let mut buf = vec![0u8; 8 + data.len()];
    let mut pkt = UdpPacket::new_unchecked(&mut buf);
    repr.emit(
        &mut pkt,
        &IpAddress::Ipv4(PEER),
        &IpAddress::Ipv4(US),
        data.len(),
        |b| b.copy_from_slice(data),
        &ChecksumCapabilities::default(),
    );
    ip_packet(17, &buf)
}

#[test]
fn ping_gets_an_echo_reply() {
    let mut h = Harness::new(config());
    let repr = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data: b"ping payload",
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(
        &mut Icmpv4Packet::new_unchecked(&mut buf),
        &ChecksumCapabilities::default(),
    );
    h.feed_raw(&ip_packet(1, &buf));
    let out = h.out_raw();
    assert_eq!(out.len(), 1);
    let (src, dst, proto, payload) = parse(&out[0]);
    assert_eq!((src, dst, proto), (US, PEER, 1));
    let pkt = Icmpv4Packet::new_checked(&payload[..]).unwrap();
    let reply = Icmpv4Repr::parse(&pkt, &ChecksumCapabilities::default()).expect("valid ICMP");
    assert_eq!(
        reply,
        Icmpv4Repr::EchoReply {
            ident: 0x1234,
            seq_no: 7,
            data: b"ping payload"
        }
    );
    assert_eq!(h.stack.stats().icmp_out_echo_reps, 1);
    // A corrupted request is counted and ignored.
    buf[10] ^= 0xff;
    h.feed_raw(&ip_packet(1, &buf));
    assert!(h.out_raw().is_empty());
    assert_eq!(h.stack.stats().icmp_in_errors, 1);
}

#[test]
fn udp_datagrams_both_ways() {
    let mut h = Harness::new(config());
    let id = h
        .stack
        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 53))
        .unwrap();
    h.feed_raw(&udp_packet(5000, 53, b"query one"));
    h.feed_raw(&udp_packet(5001, 53, b"query two"));
    assert_eq!(
        h.take_events(),
        vec![Event::UdpReadable { id }],
        "one edge until drained"
    );
    let mut buf = Vec::new();
    assert_eq!(
        h.stack.udp_recv(id, &mut buf),
        Some(SocketAddrV4::new(PEER, 5000))
    );
    assert_eq!(buf, b"query one");
    buf.clear();
    assert_eq!(
        h.stack.udp_recv(id, &mut buf),
        Some(SocketAddrV4::new(PEER, 5001))
    );
    assert_eq!(buf, b"query two");
    assert_eq!(h.stack.udp_recv(id, &mut buf), None);

    h.stack
        .udp_send_to(id, SocketAddrV4::new(PEER, 5000), b"answer")
        .unwrap();
    let out = h.out_raw();
    let (src, dst, proto, payload) = parse(&out[0]);
    assert_eq!((src, dst, proto), (US, PEER, 17));
    let pkt = UdpPacket::new_checked(&payload[..]).unwrap();
    let repr = UdpRepr::parse(
        &pkt,
        &IpAddress::Ipv4(US),
        &IpAddress::Ipv4(PEER),
        &ChecksumCapabilities::default(),
    )
    .expect("valid UDP checksum");
    assert_eq!(
        (repr.src_port, repr.dst_port, pkt.payload()),
        (53, 5000, &b"answer"[..])
    );
    let st = h.stack.stats();
    assert_eq!((st.udp_in_datagrams, st.udp_out_datagrams), (2, 1));

    assert_eq!(
        h.stack.udp_bind(SocketAddrV4::new(US, 53)).unwrap_err(),
        tunstack_core::Error::AddrInUse
    );
    let e = h.stack.udp_bind(SocketAddrV4::new(US, 0)).unwrap();
    assert!(h.stack.local_addr(e).unwrap().port() >= 32768);
    assert!(h
        .stack
        .netstat()
        .iter()
        .all(|n| n.proto == "udp" && n.state == State::Closed));
    h.stack.udp_release(id);
    h.feed_raw(&udp_packet(5000, 53, b"late"));
    assert_eq!(h.stack.stats().udp_no_ports, 1);
}

#[test]
fn unbound_port_gets_icmp_port_unreachable() {
    let mut h = Harness::new(config());
    let pkt = udp_packet(5000, 9999, b"anyone?");
    h.feed_raw(&pkt);
    assert_eq!(h.stack.stats().udp_no_ports, 1);
    let out = h.out_raw();
    assert_eq!(out.len(), 1);
    let (_, dst, proto, payload) = parse(&out[0]);
    assert_eq!((dst, proto), (PEER, 1));
    let icmp = Icmpv4Packet::new_checked(&payload[..]).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!((icmp.msg_type().into(), icmp.msg_code()), (3u8, 3u8));
    assert_eq!(
        &icmp.data()[..28],
        &pkt[..28],
        "quotes the IP header and 8 bytes"
    );
}

#[test]
fn bad_udp_checksum_is_dropped_and_queue_is_bounded() {
    let mut h = Harness::new(config());
    let id = h.stack.udp_bind(SocketAddrV4::new(US, 7)).unwrap();
    let mut bad = udp_packet(1, 7, b"data");
    let n = bad.len();
    bad[n - 1] ^= 1;
    h.feed_raw(&bad);
    assert_eq!(h.stack.stats().udp_in_errors, 1);
    let big = vec![0u8; 60_000];
    for _ in 0..10 {
        h.feed_raw(&udp_packet(1, 7, &big));
    }
    let st = h.stack.stats().clone();
    assert!(
        st.udp_in_datagrams >= 4 && st.udp_in_datagrams < 10,
        "{st:?}"
    );
    assert_eq!(st.udp_in_datagrams + st.udp_in_errors, 11);
    let mut buf = Vec::new();
    let mut got = 0;
    while h.stack.udp_recv(id, &mut buf).is_some() {
        got += 1;
    }
    assert_eq!(got, st.udp_in_datagrams);
}
