//! The TCP header on the wire (RFC 9293 §3.1): checked parsing of inbound
//! segments and emission of outbound ones, checksums included.

use super::options::{self, OutOptions, TcpOptions};
use super::seq::Seq;
use crate::checksum;
use crate::ip;
use std::net::Ipv4Addr;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

/// Length of the fixed TCP header.
pub const HEADER_LEN: usize = 20;

/// A parsed inbound TCP header.
#[derive(Debug, Clone, Copy)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: u8,
    pub window: u16,
    /// The urgent pointer field (meaningful only with URG).
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpHeader {
    #[inline]
    pub fn syn(&self) -> bool {
        self.flags & SYN != 0
    }
    #[inline]
    pub fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
    #[inline]
    pub fn rst(&self) -> bool {
        self.flags & RST != 0
    }
    #[inline]
    pub fn has_ack(&self) -> bool {
        self.flags & ACK != 0
    }
}

/// Why a segment was rejected before reaching a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentError {
    /// Truncated header, bad data offset, bad options, port 0.
    Malformed,
    /// Checksum over the pseudo-header does not verify.
    Checksum,
}

/// Validate `data` (the IP payload) as a TCP segment from `src` to `dst`.
/// `verify_checksum` false skips the checksum (the device vouched for it:
/// receive checksum offload).
pub fn parse(
    data: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    verify_checksum: bool,
) -> Result<(TcpHeader, &[u8]), SegmentError> {
    if data.len() < HEADER_LEN {
        return Err(SegmentError::Malformed);
    }
    let offset = ((data[12] >> 4) as usize) * 4;
    if offset < HEADER_LEN || offset > data.len() {
        return Err(SegmentError::Malformed);
    }
    if verify_checksum {
        let sum =
            checksum::pseudo_header(src, dst, ip::PROTO_TCP, data.len()) + checksum::partial(data);
        if !checksum::verify(sum) {
            return Err(SegmentError::Checksum);
        }
    }
    let options = options::parse(&data[HEADER_LEN..offset]).map_err(|_| SegmentError::Malformed)?;
    let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
    let hdr = TcpHeader {
        src_port: be16(0),
        dst_port: be16(2),
        seq: Seq(be32(4)),
        ack: Seq(be32(8)),
        flags: data[13],
        window: be16(14),
        urgent: be16(18),
        options,
    };
    if hdr.src_port == 0 || hdr.dst_port == 0 {
        return Err(SegmentError::Malformed);
    }
    Ok((hdr, &data[offset..]))
}

/// An outbound segment. The payload is given as two slices because it
/// usually comes straight out of a ring buffer.
#[derive(Debug, Clone, Copy)]
pub struct SegmentOut<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: u8,
    pub window: u16,
    /// The urgent pointer field (0 unless `flags` has URG).
    pub urgent: u16,
    /// The IP header's DS field (DSCP; the ECN bits stay 0).
    pub tos: u8,
    pub options: OutOptions,
    pub payload: (&'a [u8], &'a [u8]),
}

/// Append an IPv4 packet carrying `seg` to `buf`. With `partial_checksum`
/// the checksum field gets only the pseudo-header sum, folded and not
/// complemented, for the device to complete (checksum offload: the data
/// is not summed here at all).
pub fn emit(
    buf: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    ip_id: u16,
    seg: &SegmentOut,
    partial_checksum: bool,
) {
    let opt_len = seg.options.len();
    let tcp_len = HEADER_LEN + opt_len + seg.payload.0.len() + seg.payload.1.len();
    let h = ip::HeaderFields {
        src,
        dst,
        protocol: ip::PROTO_TCP,
        ttl,
        tos: seg.tos,
        id: ip_id,
    };
    ip::write_header(buf, &h, tcp_len);
    let start = buf.len();
    buf.extend_from_slice(&seg.src_port.to_be_bytes());
    buf.extend_from_slice(&seg.dst_port.to_be_bytes());
    buf.extend_from_slice(&seg.seq.0.to_be_bytes());
    buf.extend_from_slice(&seg.ack.0.to_be_bytes());
    buf.push((((HEADER_LEN + opt_len) / 4) as u8) << 4);
    buf.push(seg.flags);
    buf.extend_from_slice(&seg.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&seg.urgent.to_be_bytes());
    seg.options.write(buf);
    buf.extend_from_slice(seg.payload.0);
    buf.extend_from_slice(seg.payload.1);
    let pseudo = checksum::pseudo_header(src, dst, ip::PROTO_TCP, tcp_len);
    let sum = if partial_checksum {
        checksum::fold(pseudo)
    } else {
        checksum::finish(pseudo + checksum::partial(&buf[start..]))
    };
    buf[start + 16..start + 18].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let seg = SegmentOut {
            src_port: 1000,
            dst_port: 80,
            seq: Seq(7),
            ack: Seq(9),
            flags: SYN | ACK,
            window: 1234,
            urgent: 0,
            tos: 0,
            options: OutOptions {
                mss: Some(1460),
                ..Default::default()
            },
            payload: (b"ab", b"c"),
        };
        let mut buf = Vec::new();
        emit(&mut buf, a, b, 64, 1, &seg, false);
        let iph = ip::parse(&buf).unwrap();
        let (h, data) = parse(&buf[iph.header_len..], a, b, true).unwrap();
        assert_eq!(
            (h.src_port, h.dst_port, h.seq, h.ack, h.flags, h.window),
            (1000, 80, Seq(7), Seq(9), SYN | ACK, 1234)
        );
        assert_eq!(h.options.mss, Some(1460));
        assert_eq!(data, b"abc");
        let mut bad = buf.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        assert_eq!(
            parse(&bad[20..], a, b, true).unwrap_err(),
            SegmentError::Checksum
        );
        // Trusted (receive offload): the checksum is not looked at.
        assert!(parse(&bad[20..], a, b, false).is_ok());
        // A partial checksum plus the data's sum is the full one.
        let mut partial = Vec::new();
        emit(&mut partial, a, b, 64, 1, &seg, true);
        let pseudo = checksum::fold(checksum::pseudo_header(a, b, ip::PROTO_TCP, buf.len() - 20));
        assert_eq!(u16::from_be_bytes([partial[36], partial[37]]), pseudo);
        partial[36..38].copy_from_slice(&[0, 0]);
        let full = checksum::finish(
            checksum::pseudo_header(a, b, ip::PROTO_TCP, buf.len() - 20)
                + checksum::partial(&partial[20..]),
        );
        assert_eq!(full.to_be_bytes(), [buf[36], buf[37]]);
    }
}
