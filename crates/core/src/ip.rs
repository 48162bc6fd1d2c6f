//! IPv4 (RFC 791) as an end host sees it: validate what arrives, build the
//! header of what leaves. No options are emitted, fragments are not
//! reassembled (they are dropped and counted by the caller).

use crate::checksum;
use std::net::Ipv4Addr;

/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// The fields of a validated inbound header.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    /// Header length in bytes (IHL × 4).
    pub header_len: usize,
    /// Total length from the header; bytes past it are link padding.
    pub total_len: usize,
    /// More-fragments set or a non-zero fragment offset.
    pub is_fragment: bool,
}

/// Why an inbound packet was rejected before any protocol saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpError {
    /// Shorter than its header or its total length claims.
    Truncated,
    /// Not version 4, IHL < 5 or total length < IHL.
    Header,
    /// Header checksum does not verify.
    Checksum,
}

/// Validate an inbound IPv4 header.
pub fn parse(packet: &[u8]) -> Result<Ipv4Header, IpError> {
    if packet.len() < HEADER_LEN {
        return Err(IpError::Truncated);
    }
    if packet[0] >> 4 != 4 {
        return Err(IpError::Header);
    }
    let header_len = ((packet[0] & 0x0f) as usize) * 4;
    if header_len < HEADER_LEN {
        return Err(IpError::Header);
    }
    if header_len > packet.len() {
        return Err(IpError::Truncated);
    }
    let total_len = u16::from_be_bytes([packet[2], packet[3]]) as usize;
    if total_len < header_len {
        return Err(IpError::Header);
    }
    if total_len > packet.len() {
        return Err(IpError::Truncated);
    }
    if !checksum::verify(checksum::partial(&packet[..header_len])) {
        return Err(IpError::Checksum);
    }
    let frag = u16::from_be_bytes([packet[6], packet[7]]);
    Ok(Ipv4Header {
        src: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
        dst: Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]),
        protocol: packet[9],
        header_len,
        total_len,
        is_fragment: frag & FLAG_MF != 0 || frag & OFFSET_MASK != 0,
    })
}

/// The fields of an outbound header, besides its length.
#[derive(Debug, Clone, Copy)]
pub struct HeaderFields {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    /// The DS field (DSCP and ECN).
    pub tos: u8,
    pub id: u16,
}

/// Append a 20-byte header for a payload of `payload_len` bytes (DF set:
/// path MTU discovery, RFC 1191).
pub fn write_header(buf: &mut Vec<u8>, h: &HeaderFields, payload_len: usize) {
    let HeaderFields {
        src,
        dst,
        protocol,
        ttl,
        tos,
        id,
    } = *h;
    let start = buf.len();
    let total = (HEADER_LEN + payload_len).min(u16::MAX as usize) as u16;
    buf.extend_from_slice(&[0x45, tos]);
    buf.extend_from_slice(&total.to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&FLAG_DF.to_be_bytes());
    buf.extend_from_slice(&[ttl, protocol, 0, 0]);
    buf.extend_from_slice(&src.octets());
    buf.extend_from_slice(&dst.octets());
    let sum = checksum::finish(checksum::partial(&buf[start..start + HEADER_LEN]));
    buf[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
}

/// True for addresses a unicast peer can never legitimately use as source.
pub fn is_bad_source(addr: Ipv4Addr) -> bool {
    addr.is_broadcast() || addr.is_multicast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        let h = HeaderFields {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: PROTO_TCP,
            ttl: 64,
            tos: 0,
            id: 7,
        };
        write_header(&mut b, &h, 4);
        b.extend_from_slice(&[1, 2, 3, 4]);
        b
    }

    #[test]
    fn roundtrip() {
        let p = sample();
        let h = parse(&p).unwrap();
        assert_eq!(h.src, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(h.dst, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(
            (h.protocol, h.header_len, h.total_len, h.is_fragment),
            (PROTO_TCP, 20, 24, false)
        );
    }

    #[test]
    fn rejects() {
        let p = sample();
        assert_eq!(parse(&p[..19]).unwrap_err(), IpError::Truncated);
        assert_eq!(parse(&p[..23]).unwrap_err(), IpError::Truncated);
        let mut bad = p.clone();
        bad[8] ^= 1;
        assert_eq!(parse(&bad).unwrap_err(), IpError::Checksum);
        let mut v6 = p.clone();
        v6[0] = 0x65;
        assert_eq!(parse(&v6).unwrap_err(), IpError::Header);
        let mut ihl = p;
        ihl[0] = 0x4f;
        assert_eq!(parse(&ihl).unwrap_err(), IpError::Truncated);
    }
}
