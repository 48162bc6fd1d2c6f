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

mod support;

use std::net::{Ipv4Addr, SocketAddrV4};
use support::{
    fix_ip_checksum, fix_tcp_checksum, parse, Malformed, Segment, SegmentSpec, ACK, FIN, PSH, RST,
    SYN, URG,
};
use tunstack_core::{Event, Instant, SocketId, Stack, StackConfig, State, Stats};
use tunstack_device::SplitMix64;

const OURS: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const LISTEN_PORT: u16 = 80;
const CLOSED_PORT: u16 = 81;
const PEER_PORT: u16 = 40000;
const MTU: usize = 1500;
/// MSS option 1460, the peer's default.
const MSS_1460: [u8; 4] = [2, 4, 0x05, 0xb4];
/// Bound on clock advances without the awaited segment.
const MAX_TICKS: u32 = 400;

/// Counters that name a reason for dropping an inbound packet.
fn drops(s: &Stats) -> u64 {
    s.ip_in_hdr_errors
        + s.ip_in_csum_errors
        + s.ip_in_addr_errors
        + s.ip_in_unknown_protos
        + s.ip_in_fragments_dropped
        + s.ip_in_truncated
        + s.tcp_in_errs
        + s.tcp_in_csum_errors
}

/// IP-layer reasons a header is unusable.
fn ip_header_drops(s: &Stats) -> u64 {
    s.ip_in_hdr_errors + s.ip_in_truncated + s.ip_in_csum_errors
}

/// TCP-layer reasons a segment is unusable.
fn tcp_drops(s: &Stats) -> u64 {
    s.tcp_in_errs + s.tcp_in_csum_errors
}

/// Which counter a malformed packet must increase.
#[derive(Clone, Copy)]
enum Expect {
    /// Any drop counter.
    AnyDrop,
    /// One of the IP header counters (hdr, truncated, csum), and no TCP counter.
    IpHeader,
    /// This very counter.
    Counter(&'static str, fn(&Stats) -> u64),
}

const IP_CSUM: Expect = Expect::Counter("ip_in_csum_errors", |s| s.ip_in_csum_errors);
const IP_FRAG: Expect = Expect::Counter("ip_in_fragments_dropped", |s| s.ip_in_fragments_dropped);
const IP_ADDR: Expect = Expect::Counter("ip_in_addr_errors", |s| s.ip_in_addr_errors);
const IP_PROTO: Expect = Expect::Counter("ip_in_unknown_protos", |s| s.ip_in_unknown_protos);
const TCP_CSUM: Expect = Expect::Counter("tcp_in_csum_errors", |s| s.tcp_in_csum_errors);
const TCP_ERRS: Expect = Expect::Counter("tcp_in_errs", |s| s.tcp_in_errs);

/// The scripted peer's view of one connection.
#[derive(Debug, Clone, Copy)]
struct Peer {
    port: u16,
    id: SocketId,
    /// The peer's next sequence number (our RCV.NXT).
    nxt: u32,
    /// Our next sequence number as the peer has acknowledged it.
    our_nxt: u32,
}

struct Fixture {
    stack: Stack,
    now: Instant,
    listener: SocketId,
    main: Peer,
    /// Bytes the peer has delivered on `main`.
    delivered: u64,
    /// Half-open entries the test created on purpose.
    half_open: u32,
    /// Malformed packets fed and checked.
    fed: u64,
}

impl Fixture {
    fn new() -> Fixture {
        let mut config = StackConfig::new(OURS, 24);
        config.mtu = MTU as u16;
        config.seed = 0x5eed;
        let mut stack = Stack::new(config);
        let listener = stack
            .tcp_listen(SocketAddrV4::new(OURS, LISTEN_PORT), 16)
            .expect("tcp_listen");
        let mut fx = Fixture {
            stack,
            now: 1_000_000,
            listener,
            main: Peer {
                port: PEER_PORT,
                id: SocketId(u64::MAX),
                nxt: 0,
                our_nxt: 0,
            },
            delivered: 0,
            half_open: 0,
            fed: 0,
        };
        let (peer, _) = fx.open(PEER_PORT, &MSS_1460, 65535);
        fx.main = peer;
        fx
    }

    /// Packets the stack queued, decoded by the oracle (which they must pass).
    fn drain(&mut self) -> Vec<Segment> {
        let mut raw = Vec::new();
        self.stack.transmit(&mut |p| raw.push(p.to_vec()));
        raw.iter()
            .map(|p| {
                assert!(p.len() <= MTU, "emitted {} bytes, above the MTU", p.len());
                parse(p).unwrap_or_else(|why| {
                    panic!("the stack emitted a malformed packet ({why:?}): {p:02x?}")
                })
            })
            .collect()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.stack.poll_event()).collect()
    }

    /// Move the clock to the next timer (or 10 ms on) and fire it.
    fn tick(&mut self) {
        let next = self.stack.poll_at().unwrap_or(self.now + 10_000);
        self.now = next.max(self.now + 1);
        self.stack.poll(self.now);
    }

    /// Wait (on virtual time, bounded) for a segment matching `pred`;
    /// segments that do not match are returned to `other`.
    fn expect(&mut self, what: &str, mut pred: impl FnMut(&Segment) -> bool) -> Segment {
        for _ in 0..MAX_TICKS {
            let segs = self.drain();
            if let Some(seg) = segs.iter().find(|s| pred(s)) {
                return seg.clone();
            }
            self.tick();
        }
        panic!(
            "no {what} within {MAX_TICKS} timer steps (now {} µs)",
            self.now
        );
    }

    fn spec(&self, port: u16, seq: u32, ack: u32, flags: u8) -> SegmentSpec {
        SegmentSpec::new((PEER, port), (OURS, LISTEN_PORT), seq, ack, flags)
    }

    /// A segment of the established main connection, in sequence.
    fn main_spec(&self, flags: u8) -> SegmentSpec {
        self.spec(self.main.port, self.main.nxt, self.main.our_nxt, flags)
    }

    /// Passive open from `port` with the given SYN options; returns the
    /// accepted connection and our SYN-ACK.
    fn open(&mut self, port: u16, syn_options: &[u8], window: u16) -> (Peer, Segment) {
        let isn = 0x1000_0000u32.wrapping_add(u32::from(port) << 12);
        let syn = self
            .spec(port, isn, 0, SYN)
            .options(syn_options)
            .window(window)
            .build();
        self.stack.receive(self.now, &syn);
        let synack = self.expect("SYN-ACK", |s| s.dst_port == port && s.has(SYN));
        assert!(synack.has(ACK), "SYN-ACK without ACK: {synack}");
        assert_eq!(
            synack.ack,
            isn.wrapping_add(1),
            "SYN-ACK acknowledges the wrong number: {synack}"
        );
        let our_isn = synack.seq;
        let ack = self
            .spec(port, isn.wrapping_add(1), our_isn.wrapping_add(1), ACK)
            .build();
        self.stack.receive(self.now, &ack);
        let events = self.events();
        assert!(
            events.contains(&Event::Acceptable {
                listener: self.listener
            }),
            "no Acceptable after the handshake: {events:?}"
        );
        let id = self.stack.tcp_accept(self.listener).expect("tcp_accept");
        let info = self.stack.tcp_info(id).expect("tcp_info");
        assert_eq!(info.state, State::Established);
        self.events();
        let peer = Peer {
            port,
            id,
            nxt: isn.wrapping_add(1),
            our_nxt: our_isn.wrapping_add(1),
        };
        (peer, synack)
    }

    /// Feed a packet the oracle calls malformed and check it was dropped
    /// silently and counted.
    fn feed_malformed(&mut self, packet: &[u8], what: &str, expect: Expect) {
        let verdict = parse(packet);
        assert!(
            matches!(verdict, Err(Malformed::Ip(_)) | Err(Malformed::Tcp(_))),
            "test bug: {what} is not malformed ({verdict:?})"
        );
        self.feed_dropped(packet, &format!("{what} ({verdict:?})"), expect);
    }

    /// Feed a packet the stack must drop: no reply, no event, no data, and
    /// the expected counter increases.
    fn feed_dropped(&mut self, packet: &[u8], what: &str, expect: Expect) {
        let pending = self.drain();
        assert!(
            pending.is_empty(),
            "test bug: output pending before {what}: {pending:?}"
        );
        let before = self.stack.stats().clone();
        let delivered_before = self.stack.tcp_info(self.main.id).map(|i| i.bytes_received);
        self.stack.receive(self.now, packet);
        let after = self.stack.stats().clone();
        let ctx = || format!("{what}, {} bytes: {packet:02x?}", packet.len());
        assert!(
            drops(&after) > drops(&before),
            "{} was not counted as dropped",
            ctx()
        );
        match expect {
            Expect::AnyDrop => {}
            Expect::IpHeader => {
                assert!(
                    ip_header_drops(&after) > ip_header_drops(&before),
                    "{} not counted as an IP header error: {:?}",
                    ctx(),
                    diff(&before, &after)
                );
                assert_eq!(
                    tcp_drops(&after),
                    tcp_drops(&before),
                    "{} reached TCP although the IP header is bad",
                    ctx()
                );
            }
            Expect::Counter(name, counter) => assert!(
                counter(&after) > counter(&before),
                "{} did not increase {name}: {:?}",
                ctx(),
                diff(&before, &after)
            ),
        }
        let out = self.drain();
        assert!(out.is_empty(), "{} drew a reply: {}", ctx(), out[0]);
        let events = self.events();
        assert!(events.is_empty(), "{} raised events: {events:?}", ctx());
        let delivered_after = self.stack.tcp_info(self.main.id).map(|i| i.bytes_received);
        assert_eq!(
            delivered_after,
            delivered_before,
            "{} delivered data",
            ctx()
        );
        self.fed += 1;
    }

    /// The main connection and the listener still work: data both ways with
    /// the right sequence numbers, no spurious half-open entries.
    fn assert_survives(&mut self, tag: &str) {
        let info = self.stack.tcp_info(self.main.id).expect("connection gone");
        assert_eq!(info.state, State::Established, "{tag}: connection state");
        assert_eq!(
            info.bytes_received, self.delivered,
            "{tag}: garbage was delivered as data"
        );
        let queues = self
            .stack
            .listener_queues(self.listener)
            .expect("listener gone");
        assert_eq!(
            queues.syn_received, self.half_open,
            "{tag}: half-open entries"
        );

        // Peer → us.
        let message = format!("still alive after {tag}");
        let packet = self
            .main_spec(ACK | PSH)
            .payload(message.as_bytes())
            .build();
        self.stack.receive(self.now, &packet);
        self.main.nxt = self.main.nxt.wrapping_add(message.len() as u32);
        self.delivered += message.len() as u64;
        let want_ack = self.main.nxt;
        let port = self.main.port;
        self.expect("ACK of the peer's data", |s| {
            s.dst_port == port && s.has(ACK) && s.ack == want_ack
        });
        let mut got = Vec::new();
        let n = self
            .stack
            .tcp_recv(self.now, self.main.id, &mut got, 4096)
            .expect("tcp_recv");
        assert_eq!(n, message.len(), "{tag}: bytes read");
        assert_eq!(got, message.as_bytes(), "{tag}: data read");

        // Us → peer.
        let reply = b"reply";
        let accepted = self
            .stack
            .tcp_send(self.now, self.main.id, reply)
            .expect("tcp_send");
        assert_eq!(accepted, reply.len());
        let seg = self.expect("our data segment", |s| {
            s.dst_port == port && !s.payload.is_empty()
        });
        assert_eq!(
            seg.seq, self.main.our_nxt,
            "{tag}: sequence number of our data"
        );
        assert_eq!(
            seg.ack, self.main.nxt,
            "{tag}: acknowledgement number of our data"
        );
        assert_eq!(seg.payload, reply, "{tag}: our data");
        self.main.our_nxt = self.main.our_nxt.wrapping_add(reply.len() as u32);
        let ack = self.main_spec(ACK).build();
        self.stack.receive(self.now, &ack);
        self.drain();
        self.events();
    }
}

/// The counters that differ, for failure messages.
fn diff(before: &Stats, after: &Stats) -> String {
    let b = format!("{before:?}");
    let a = format!("{after:?}");
    let fields = |s: &str| -> Vec<(String, String)> {
        s.trim_start_matches("Stats {")
            .trim_end_matches('}')
            .split(',')
            .filter_map(|kv| {
                let (k, v) = kv.split_once(':')?;
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .collect()
    };
    fields(&b)
        .into_iter()
        .zip(fields(&a))
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| format!("{} {}→{}", x.0, x.1, y.1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Set the IPv4 total length field.
fn set_total_len(p: &mut [u8], len: u16) {
    p[2..4].copy_from_slice(&len.to_be_bytes());
}

/// IP options of 40 bytes: 39 NOPs and an end-of-list.
fn nop_ip_options() -> Vec<u8> {
    let mut o = vec![1u8; 39];
    o.push(0);
    o
}

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
