//! Scripted-exchange harness: one `Stack` under test and a scripted peer.
//! Inbound segments are built byte by byte here (not with the engine's
//! code), fed at a virtual time, and every outbound packet is parsed and
//! checked (IPv4 and TCP checksums verified with smoltcp's wire module, an
//! implementation nobody here wrote) so tests can assert the exact
//! segments (flags, seq, ack, length) the engine sends — or its silence.
#![allow(dead_code)]

use smoltcp::wire::{IpAddress, Ipv4Address, Ipv4Packet, TcpPacket};
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{Event, Instant, SocketId, Stack, StackConfig, State};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

pub const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const MS: u64 = 1_000;
pub const SEC: u64 = 1_000_000;

/// One TCP segment, inbound (built) or outbound (parsed).
#[derive(Clone, PartialEq, Eq)]
pub struct Seg {
    pub src_port: u16,
    pub dst_port: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub mss: Option<u16>,
    /// Window scale shift (RFC 7323).
    pub wscale: Option<u8>,
    /// SACK-permitted (RFC 2018).
    pub sack_perm: bool,
    /// (TSval, TSecr) (RFC 7323).
    pub ts: Option<(u32, u32)>,
    /// SACK blocks, in wire order.
    pub sack: Vec<(u32, u32)>,
    /// The urgent pointer field.
    pub urg: u16,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Seg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}→{} flags {:#04x} seq {} ack {} win {} len {}",
            self.src_port,
            self.dst_port,
            self.flags,
            self.seq,
            self.ack,
            self.window,
            self.payload.len()
        )?;
        if self.flags & URG != 0 {
            write!(f, " urg {}", self.urg)?;
        }
        if let Some(m) = self.mss {
            write!(f, " mss {m}")?;
        }
        if let Some(w) = self.wscale {
            write!(f, " wscale {w}")?;
        }
        if self.sack_perm {
            write!(f, " sackOK")?;
        }
        if let Some((v, e)) = self.ts {
            write!(f, " TS val {v} ecr {e}")?;
        }
        if !self.sack.is_empty() {
            write!(f, " sack {:?}", self.sack)?;
        }
        write!(f, "]")
    }
}

impl Seg {
    /// A segment from the peer's `src_port` to our `dst_port`.
    pub fn new(src_port: u16, dst_port: u16, flags: u8, seq: u32, ack: u32) -> Seg {
        Seg {
            src_port,
            dst_port,
            flags,
            seq,
            ack,
            window: 65535,
            mss: None,
            wscale: None,
            sack_perm: false,
            ts: None,
            sack: Vec::new(),
            urg: 0,
            payload: Vec::new(),
        }
    }
    pub fn win(mut self, w: u16) -> Seg {
        self.window = w;
        self
    }
    pub fn mss(mut self, m: u16) -> Seg {
        self.mss = Some(m);
        self
    }
    pub fn wscale(mut self, s: u8) -> Seg {
        self.wscale = Some(s);
        self
    }
    pub fn sack_perm(mut self) -> Seg {
        self.sack_perm = true;
        self
    }
    pub fn ts(mut self, val: u32, ecr: u32) -> Seg {
        self.ts = Some((val, ecr));
        self
    }
    pub fn sack(mut self, blocks: &[(u32, u32)]) -> Seg {
        self.sack = blocks.to_vec();
        self
    }
    /// URG with urgent pointer `p`.
    pub fn urgent(mut self, p: u16) -> Seg {
        self.flags |= URG;
        self.urg = p;
        self
    }
    pub fn data(mut self, d: &[u8]) -> Seg {
        self.payload = d.to_vec();
        self
    }
    /// Sequence space the segment occupies.
    pub fn len(&self) -> u32 {
        self.payload.len() as u32 + (self.flags & SYN != 0) as u32 + (self.flags & FIN != 0) as u32
    }

    /// The option bytes, laid out independently of the engine's writer
    /// (each option NOP-aligned on its own, padded with EOL).
    fn option_bytes(&self) -> Vec<u8> {
        let mut o = Vec::new();
        if let Some(m) = self.mss {
            o.extend_from_slice(&[2, 4, (m >> 8) as u8, m as u8]);
        }
        if let Some(s) = self.wscale {
            o.extend_from_slice(&[1, 3, 3, s]);
        }
        if self.sack_perm {
            o.extend_from_slice(&[1, 1, 4, 2]);
        }
        if let Some((v, e)) = self.ts {
            o.extend_from_slice(&[1, 1, 8, 10]);
            o.extend_from_slice(&v.to_be_bytes());
            o.extend_from_slice(&e.to_be_bytes());
        }
        if !self.sack.is_empty() {
            o.extend_from_slice(&[1, 1, 5, 2 + 8 * self.sack.len() as u8]);
            for (l, r) in &self.sack {
                o.extend_from_slice(&l.to_be_bytes());
                o.extend_from_slice(&r.to_be_bytes());
            }
        }
        while !o.len().is_multiple_of(4) {
            o.push(0);
        }
        assert!(o.len() <= 40, "test bug: options too long");
        o
    }

    /// The IPv4 packet carrying this segment from `src` to `dst`.
    pub fn to_packet(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let opts = self.option_bytes();
        let tcp_len = 20 + opts.len() + self.payload.len();
        let mut p = Vec::with_capacity(20 + tcp_len);
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        let c = checksum(&[&p[..20]]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(&self.src_port.to_be_bytes());
        p.extend_from_slice(&self.dst_port.to_be_bytes());
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ack.to_be_bytes());
        p.push((((20 + opts.len()) / 4) as u8) << 4);
        p.push(self.flags);
        p.extend_from_slice(&self.window.to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(&self.urg.to_be_bytes());
        p.extend_from_slice(&opts);
        p.extend_from_slice(&self.payload);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src.octets());
        pseudo.extend_from_slice(&dst.octets());
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        let c = checksum(&[&pseudo, &p[20..]]);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }
}

/// RFC 1071 checksum over concatenated parts (each of even length but the last).
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let bytes: Vec<u8> = parts.concat();
    for pair in bytes.chunks(2) {
        let w = if pair.len() == 2 {
            u16::from_be_bytes([pair[0], pair[1]])
        } else {
            (pair[0] as u16) << 8
        };
        sum += w as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Parse an outbound packet; panics (fails the test) on anything malformed.
pub fn parse(packet: &[u8]) -> (Ipv4Addr, Ipv4Addr, u8, Vec<u8>) {
    let ip = Ipv4Packet::new_checked(packet).expect("valid IPv4 packet");
    assert!(
        ip.verify_checksum(),
        "bad IPv4 header checksum in {packet:02x?}"
    );
    let src: Ipv4Addr = ip.src_addr();
    let dst: Ipv4Addr = ip.dst_addr();
    (src, dst, ip.next_header().into(), ip.payload().to_vec())
}

/// Parse an outbound TCP segment, verifying its checksum.
pub fn parse_tcp(packet: &[u8]) -> Seg {
    let (src, dst, proto, payload) = parse(packet);
    assert_eq!(proto, 6, "not TCP");
    let tcp = TcpPacket::new_checked(&payload[..]).expect("valid TCP header");
    let (s, d): (Ipv4Address, Ipv4Address) = (src, dst);
    assert!(
        tcp.verify_checksum(&IpAddress::Ipv4(s), &IpAddress::Ipv4(d)),
        "bad TCP checksum"
    );
    let b = &payload;
    let off = ((b[12] >> 4) as usize) * 4;
    let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut seg = Seg::new(
        u16::from_be_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]]),
        b[13],
        be32(4),
        be32(8),
    );
    seg.window = u16::from_be_bytes([b[14], b[15]]);
    seg.urg = u16::from_be_bytes([b[18], b[19]]);
    assert!(off <= 60, "data offset {off}");
    let mut i = 20;
    while i < off {
        match b[i] {
            0 => break,
            1 => i += 1,
            k => {
                let l = b[i + 1] as usize;
                assert!(l >= 2 && i + l <= off, "bad option length {l} in {b:02x?}");
                match (k, l) {
                    (2, 4) => seg.mss = Some(u16::from_be_bytes([b[i + 2], b[i + 3]])),
                    (3, 3) => seg.wscale = Some(b[i + 2]),
                    (4, 2) => seg.sack_perm = true,
                    (8, 10) => seg.ts = Some((be32(i + 2), be32(i + 6))),
                    (5, _) => {
                        assert!(l >= 10 && (l - 2).is_multiple_of(8), "bad SACK length {l}");
                        seg.sack = (0..(l - 2) / 8)
                            .map(|k| (be32(i + 2 + 8 * k), be32(i + 6 + 8 * k)))
                            .collect();
                    }
                    _ => panic!("unexpected option kind {k} length {l}"),
                }
                i += l;
            }
        }
    }
    seg.payload = b[off..].to_vec();
    seg
}

/// What a test expects of one outbound segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exp {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub len: usize,
}

/// Shorthand for an expectation.
pub fn exp(flags: u8, seq: u32, ack: u32, len: usize) -> Exp {
    Exp {
        flags,
        seq,
        ack,
        len,
    }
}

/// The stack under test and the scripted peer.
pub struct Harness {
    pub stack: Stack,
    pub now: Instant,
    pub events: Vec<Event>,
}

/// The configuration tests start from.
pub fn config() -> StackConfig {
    let mut c = StackConfig::new(US, 24);
    c.seed = 42;
    c
}

impl Harness {
    pub fn new(config: StackConfig) -> Harness {
        Harness {
            stack: Stack::new(config),
            now: 0,
            events: Vec::new(),
        }
    }

    /// Move virtual time to `t` and fire due timers.
    pub fn at(&mut self, t: Instant) {
        assert!(t >= self.now, "time runs forward");
        self.now = t;
        self.stack.poll(t);
        self.collect();
    }

    /// Deliver a segment from the peer at the current time.
    pub fn feed(&mut self, seg: &Seg) {
        let p = seg.to_packet(PEER, US);
        self.stack.receive(self.now, &p);
        self.collect();
    }

    /// Deliver a raw packet.
    pub fn feed_raw(&mut self, p: &[u8]) {
        self.stack.receive(self.now, p);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(e) = self.stack.poll_event() {
            self.events.push(e);
        }
    }

    /// Take the events seen so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.collect();
        std::mem::take(&mut self.events)
    }

    /// Every outbound packet, raw.
    pub fn out_raw(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        self.stack.transmit(&mut |p| v.push(p.to_vec()));
        v
    }

    /// Every outbound TCP segment, parsed and checked.
    pub fn out(&mut self) -> Vec<Seg> {
        self.out_raw()
            .iter()
            .map(|p| {
                let s = parse_tcp(p);
                let (src, dst, _, _) = parse(p);
                assert_eq!((src, dst), (US, PEER), "addresses of {s:?}");
                s
            })
            .collect()
    }

    /// Assert exactly these segments went out, in order; return them.
    #[track_caller]
    pub fn expect(&mut self, expected: &[Exp]) -> Vec<Seg> {
        let got = self.out();
        let summary: Vec<Exp> = got
            .iter()
            .map(|s| exp(s.flags, s.seq, s.ack, s.payload.len()))
            .collect();
        assert_eq!(
            summary, expected,
            "at t={} µs, full segments: {got:?}",
            self.now
        );
        got
    }

    /// Assert nothing went out.
    #[track_caller]
    pub fn silent(&mut self) {
        let got = self.out();
        assert!(
            got.is_empty(),
            "expected silence at t={} µs, got {got:?}",
            self.now
        );
    }

    pub fn state(&self, id: SocketId) -> State {
        self.stack.tcp_info(id).expect("connection exists").state
    }
}

/// A connection established by the stack's active open with the peer
/// at `PEER:80`. Returns (harness, id, our ISS+1, peer ISS+1, our port).
pub fn connected(
    config: StackConfig,
    peer_mss: u16,
    peer_window: u16,
) -> (Harness, SocketId, u32, u32, u16) {
    let (h, id, iss1, peer1, port, _) =
        connected_with(config, |s| s.mss(peer_mss).win(peer_window));
    (h, id, iss1, peer1, port)
}

/// Like `connected`, with the peer's SYN-ACK (ISS 5000, sent at 10 ms)
/// shaped by `synack`. Also returns our SYN.
pub fn connected_with(
    config: StackConfig,
    synack: impl FnOnce(Seg) -> Seg,
) -> (Harness, SocketId, u32, u32, u16, Seg) {
    let mut h = Harness::new(config);
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    let syn = h.out().pop().expect("SYN");
    assert_eq!(syn.flags, SYN);
    let port = syn.src_port;
    let peer_iss = 5_000u32;
    h.at(10 * MS);
    h.feed(&synack(Seg::new(
        80,
        port,
        SYN | ACK,
        peer_iss,
        syn.seq.wrapping_add(1),
    )));
    h.expect(&[exp(ACK, syn.seq.wrapping_add(1), peer_iss + 1, 0)]);
    assert_eq!(h.state(id), State::Established);
    h.take_events();
    (h, id, syn.seq.wrapping_add(1), peer_iss + 1, port, syn)
}

/// A connection established by a passive open on port 80 (peer port 40000).
/// Returns (harness, listener, connection, our ISS+1, peer ISS+1).
pub fn accepted(
    config: StackConfig,
    peer_mss: u16,
    peer_window: u16,
) -> (Harness, SocketId, SocketId, u32, u32) {
    let (h, l, id, iss1, peer1, _) = accepted_with(
        config,
        |s| s.mss(peer_mss).win(peer_window),
        |s| s.win(peer_window),
    );
    (h, l, id, iss1, peer1)
}

/// Like `accepted`, with the peer's SYN (ISS 1000) and completing ACK
/// (sent at 10 ms) shaped by `syn` and `ack`. Also returns our SYN-ACK.
pub fn accepted_with(
    config: StackConfig,
    syn: impl FnOnce(Seg) -> Seg,
    ack: impl FnOnce(Seg) -> Seg,
) -> (Harness, SocketId, SocketId, u32, u32, Seg) {
    let mut h = Harness::new(config);
    let l = h
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
        .unwrap();
    h.feed(&syn(Seg::new(40000, 80, SYN, 1000, 0)));
    let synack = h.out().pop().expect("SYN-ACK");
    assert_eq!(synack.flags, SYN | ACK);
    h.at(10 * MS);
    h.feed(&ack(Seg::new(
        40000,
        80,
        ACK,
        1001,
        synack.seq.wrapping_add(1),
    )));
    h.silent();
    let id = h.stack.tcp_accept(l).expect("accepted");
    h.take_events();
    (h, l, id, synack.seq.wrapping_add(1), 1001, synack)
}
