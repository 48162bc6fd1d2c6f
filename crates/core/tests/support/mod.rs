//! Helpers shared by `interop/mod.rs` and `bad_input*.rs`: seeded test
//! data, a builder of raw IPv4/TCP packets (emitted with `smoltcp::wire`),
//! and a strict, independent parser that serves as the oracle deciding
//! whether a packet is well-formed. The parser deliberately does not use the
//! engine's code, so a bug there cannot hide itself.
//!
//! Each integration test is its own crate and uses only part of this module.
#![allow(dead_code)]

use smoltcp::wire::{IpAddress, IpProtocol, Ipv4Packet, TcpPacket, TcpSeqNumber};
use std::net::Ipv4Addr;
use tunstack_device::SplitMix64;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

/// `len` bytes of seeded pseudo-random data.
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// RFC 1071 Internet checksum over the concatenation of `parts` (only the
/// last part may have an odd length).
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for part in parts {
        let mut words = part.chunks_exact(2);
        for word in &mut words {
            sum += u64::from(u16::from_be_bytes([word[0], word[1]]));
        }
        if let [last] = words.remainder() {
            sum += u64::from(*last) << 8;
        }
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The TCP pseudo-header of RFC 9293 §3.1.
fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, tcp_len: usize) -> [u8; 12] {
    let mut p = [0u8; 12];
    p[0..4].copy_from_slice(&src.octets());
    p[4..8].copy_from_slice(&dst.octets());
    p[9] = 6;
    p[10..12].copy_from_slice(&(tcp_len as u16).to_be_bytes());
    p
}

/// Recompute the IPv4 header checksum over `min(IHL*4, len)` bytes, so a
/// mutated header still reaches whatever check comes after the checksum.
pub fn fix_ip_checksum(packet: &mut [u8]) {
    if packet.len() < 20 {
        return;
    }
    let hlen = (usize::from(packet[0] & 0x0f) * 4).clamp(20, packet.len());
    packet[10] = 0;
    packet[11] = 0;
    let sum = internet_checksum(&[&packet[..hlen]]);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// Recompute the TCP checksum of the segment the IP header describes (IP
/// total length clamped to the buffer), so a mutated TCP header reaches the
/// checks behind the checksum.
pub fn fix_tcp_checksum(packet: &mut [u8]) {
    if packet.len() < 20 {
        return;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]])).min(packet.len());
    if ihl < 20 || total < ihl + 18 {
        return;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    let tcp = &mut packet[ihl..total];
    tcp[16] = 0;
    tcp[17] = 0;
    let sum = internet_checksum(&[&pseudo_header(src, dst, tcp.len()), tcp]);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
}

/// A TCP segment to build. `options` are raw option bytes (padded with
/// zeros to a multiple of 4); `ip_options` likewise for the IPv4 header.
#[derive(Debug, Clone)]
pub struct SegmentSpec {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
    pub ip_options: Vec<u8>,
    pub ttl: u8,
    /// The urgent pointer field (sent whatever the URG flag says).
    pub urgent: u16,
}

impl SegmentSpec {
    /// A segment with no options, window 65535, TTL 64.
    pub fn new(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), seq: u32, ack: u32, flags: u8) -> Self {
        SegmentSpec {
            src: src.0,
            dst: dst.0,
            src_port: src.1,
            dst_port: dst.1,
            seq,
            ack,
            flags,
            window: 65535,
            options: Vec::new(),
            payload: Vec::new(),
            ip_options: Vec::new(),
            ttl: 64,
            urgent: 0,
        }
    }

    pub fn options(mut self, options: &[u8]) -> Self {
        self.options = options.to_vec();
        self
    }

    pub fn payload(mut self, payload: &[u8]) -> Self {
        self.payload = payload.to_vec();
        self
    }

    /// The urgent pointer field.
    pub fn urgent(mut self, pointer: u16) -> Self {
        self.urgent = pointer;
        self
    }

    pub fn window(mut self, window: u16) -> Self {
        self.window = window;
        self
    }

    pub fn ip_options(mut self, options: &[u8]) -> Self {
        self.ip_options = options.to_vec();
        self
    }

    /// The packet, with both checksums valid.
    pub fn build(&self) -> Vec<u8> {
        let pad4 = |n: usize| n.div_ceil(4) * 4;
        let ip_hlen = 20 + pad4(self.ip_options.len());
        let tcp_hlen = 20 + pad4(self.options.len());
        assert!(
            ip_hlen <= 60 && tcp_hlen <= 60,
            "test bug: options too long"
        );
        let total = ip_hlen + tcp_hlen + self.payload.len();
        let mut buf = vec![0u8; total];
        {
            let mut ip = Ipv4Packet::new_unchecked(&mut buf[..]);
            ip.set_version(4);
            ip.set_header_len(ip_hlen as u8);
            ip.set_dscp(0);
            ip.set_ecn(0);
            ip.set_total_len(total as u16);
            ip.set_ident(0x1234);
            ip.clear_flags();
            ip.set_dont_frag(true);
            ip.set_frag_offset(0);
            ip.set_hop_limit(self.ttl);
            ip.set_next_header(IpProtocol::Tcp);
            ip.set_src_addr(self.src);
            ip.set_dst_addr(self.dst);
        }
        buf[20..20 + self.ip_options.len()].copy_from_slice(&self.ip_options);
        Ipv4Packet::new_unchecked(&mut buf[..]).fill_checksum();
        {
            let tcp_bytes = &mut buf[ip_hlen..];
            tcp_bytes[20..20 + self.options.len()].copy_from_slice(&self.options);
            let mut tcp = TcpPacket::new_unchecked(tcp_bytes);
            tcp.set_src_port(self.src_port);
            tcp.set_dst_port(self.dst_port);
            tcp.set_seq_number(TcpSeqNumber(self.seq as i32));
            tcp.set_ack_number(TcpSeqNumber(self.ack as i32));
            tcp.set_header_len(tcp_hlen as u8);
            tcp.clear_flags();
            tcp.set_fin(self.flags & FIN != 0);
            tcp.set_syn(self.flags & SYN != 0);
            tcp.set_rst(self.flags & RST != 0);
            tcp.set_psh(self.flags & PSH != 0);
            tcp.set_ack(self.flags & ACK != 0);
            tcp.set_urg(self.flags & URG != 0);
            tcp.set_window_len(self.window);
            tcp.set_urgent_at(self.urgent);
            tcp.payload_mut()[..self.payload.len()].copy_from_slice(&self.payload);
            tcp.fill_checksum(&IpAddress::Ipv4(self.src), &IpAddress::Ipv4(self.dst));
        }
        buf
    }
}

/// Why the oracle refuses a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Broken at the IP layer (length, version, header length, checksum, fragment).
    Ip(&'static str),
    /// IP is fine but the TCP segment is broken (length, offset, checksum, option length).
    Tcp(&'static str),
    /// A well-formed IPv4 packet that does not carry TCP.
    NotTcp,
    /// Structurally sound but with a known option of the wrong size: RFC
    /// 9293 leaves the reaction open, so tests do not judge it.
    Ambiguous(&'static str),
}

/// A well-formed IPv4/TCP packet, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
    /// IP total length.
    pub ip_len: usize,
}

impl Segment {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Length in sequence space (payload plus SYN and FIN).
    pub fn seg_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.has(SYN)) + u32::from(self.has(FIN))
    }

    /// The value of the option `kind` if present with `len` total bytes.
    fn option(&self, kind: u8, len: usize) -> Option<&[u8]> {
        let mut i = 0;
        while i < self.options.len() {
            match self.options[i] {
                0 => return None,
                1 => i += 1,
                k => {
                    let l = usize::from(*self.options.get(i + 1)?);
                    if k == kind && l == len {
                        return self.options.get(i + 2..i + l);
                    }
                    i += l.max(2);
                }
            }
        }
        None
    }

    pub fn mss(&self) -> Option<u16> {
        self.option(2, 4).map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    pub fn window_scale(&self) -> Option<u8> {
        self.option(3, 3).map(|v| v[0])
    }

    pub fn flag_names(&self) -> String {
        let names = [
            (SYN, "S"),
            (FIN, "F"),
            (RST, "R"),
            (PSH, "P"),
            (ACK, "."),
            (URG, "U"),
        ];
        names
            .iter()
            .filter(|(f, _)| self.has(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} > {}:{} [{}] seq {} ack {} win {} len {}",
            self.src,
            self.src_port,
            self.dst,
            self.dst_port,
            self.flag_names(),
            self.seq,
            self.ack,
            self.window,
            self.payload.len()
        )
    }
}

/// Check TCP options structurally: every option other than EOL/NOP has a
/// length byte, the length is at least 2 and the option ends inside the
/// header. Known options of the wrong size are `Ambiguous`.
fn check_options(options: &[u8]) -> Result<(), Malformed> {
    let mut i = 0;
    let mut ambiguous = None;
    while i < options.len() {
        match options[i] {
            0 => break,
            1 => i += 1,
            kind => {
                let Some(&len) = options.get(i + 1) else {
                    return Err(Malformed::Tcp("option without a length byte"));
                };
                let len = usize::from(len);
                if len < 2 {
                    return Err(Malformed::Tcp("option length below 2"));
                }
                if i + len > options.len() {
                    return Err(Malformed::Tcp("option runs past the header"));
                }
                let expected = match kind {
                    2 => Some(len == 4),
                    3 => Some(len == 3),
                    4 => Some(len == 2),
                    5 => Some(len >= 10 && (len - 2) % 8 == 0),
                    8 => Some(len == 10),
                    _ => None,
                };
                if expected == Some(false) {
                    ambiguous = Some("known option with the wrong length");
                }
                i += len;
            }
        }
    }
    match ambiguous {
        Some(why) => Err(Malformed::Ambiguous(why)),
        None => Ok(()),
    }
}

/// Decode `packet` if it is a well-formed IPv4/TCP packet (RFC 791, RFC
/// 9293): version 4, 5 ≤ IHL, IHL·4 ≤ total length ≤ buffer (bytes after
/// the total length are link padding), not a fragment, valid header
/// checksum, TCP header inside the packet with 5 ≤ data offset, valid TCP
/// checksum, options well-formed.
pub fn parse(packet: &[u8]) -> Result<Segment, Malformed> {
    if packet.len() < 20 {
        return Err(Malformed::Ip("shorter than an IPv4 header"));
    }
    if packet[0] >> 4 != 4 {
        return Err(Malformed::Ip("version is not 4"));
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(Malformed::Ip("IHL below 5"));
    }
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total > packet.len() {
        return Err(Malformed::Ip("total length beyond the buffer"));
    }
    if ihl > total {
        return Err(Malformed::Ip("header longer than the total length"));
    }
    if internet_checksum(&[&packet[..ihl]]) != 0 {
        return Err(Malformed::Ip("bad header checksum"));
    }
    let more_fragments = packet[6] & 0x20 != 0;
    let offset = u16::from_be_bytes([packet[6] & 0x1f, packet[7]]);
    if more_fragments || offset != 0 {
        return Err(Malformed::Ip("fragment"));
    }
    if packet[9] != 6 {
        return Err(Malformed::NotTcp);
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    let tcp = &packet[ihl..total];
    if tcp.len() < 20 {
        return Err(Malformed::Tcp("shorter than a TCP header"));
    }
    let data_offset = usize::from(tcp[12] >> 4) * 4;
    if data_offset < 20 {
        return Err(Malformed::Tcp("data offset below 5"));
    }
    if data_offset > tcp.len() {
        return Err(Malformed::Tcp("data offset past the end"));
    }
    if internet_checksum(&[&pseudo_header(src, dst, tcp.len()), tcp]) != 0 {
        return Err(Malformed::Tcp("bad checksum"));
    }
    check_options(&tcp[20..data_offset])?;
    Ok(Segment {
        src,
        dst,
        src_port: u16::from_be_bytes([tcp[0], tcp[1]]),
        dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
        seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
        ack: u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]),
        flags: tcp[13],
        window: u16::from_be_bytes([tcp[14], tcp[15]]),
        options: tcp[20..data_offset].to_vec(),
        payload: tcp[data_offset..].to_vec(),
        ip_len: total,
    })
}
