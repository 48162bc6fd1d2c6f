//! ICMP (RFC 792), the parts an end host needs: answer echo requests (so
//! the kernel can ping the stack), report unreachable UDP ports, and pass
//! the errors that quote one of our own packets up to its transport
//! (RFC 1122 §3.2.2, RFC 9293 MUST-54).

use crate::checksum;
use crate::env::Env;
use crate::ip::{self, Ipv4Header};
use std::net::Ipv4Addr;

const ECHO_REPLY: u8 = 0;
pub(crate) const DEST_UNREACHABLE: u8 = 3;
const SOURCE_QUENCH: u8 = 4;
const PORT_UNREACHABLE: u8 = 3;
const ECHO_REQUEST: u8 = 8;
pub(crate) const TIME_EXCEEDED: u8 = 11;
const PARAMETER_PROBLEM: u8 = 12;

/// An ICMP error about a packet we sent, as the transport needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedError<'a> {
    /// ICMP type (3, 11 or 12).
    pub kind: u8,
    /// ICMP code.
    pub code: u8,
    /// Destination unreachable, fragmentation needed (code 4): the
    /// next-hop MTU (RFC 1191), 0 when the router did not say.
    pub next_hop_mtu: u16,
    /// The quoted packet's protocol, source (ours) and destination.
    pub protocol: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// The quoted transport header: at least its first 8 bytes.
    pub transport: &'a [u8],
}

/// Handle one inbound ICMP message (`data` is the IP payload). Returns
/// the error it reports about one of our packets, for the transport.
pub fn input<'a>(env: &mut Env, hdr: &Ipv4Header, data: &'a [u8]) -> Option<QuotedError<'a>> {
    if data.len() < 8 || !checksum::verify(checksum::partial(data)) {
        env.stats.icmp_in_errors += 1;
        return None;
    }
    match data[0] {
        DEST_UNREACHABLE => env.stats.icmp_in_dest_unreachs += 1,
        TIME_EXCEEDED => env.stats.icmp_in_time_excds += 1,
        PARAMETER_PROBLEM => env.stats.icmp_in_parm_probs += 1,
        // Deprecated (RFC 6633); RFC 9293 MUST-55: silently discarded.
        SOURCE_QUENCH => {
            env.stats.icmp_in_src_quenchs += 1;
            return None;
        }
        _ => {}
    }
    if matches!(
        data[0],
        DEST_UNREACHABLE | TIME_EXCEEDED | PARAMETER_PROBLEM
    ) {
        return quoted(data, env.config.address);
    }
    if data[0] == ECHO_REQUEST && data[1] == 0 {
        env.stats.icmp_in_echos += 1;
        let len = data.len();
        env.send_ip(hdr.src, ip::PROTO_ICMP, len, |buf| {
            let start = buf.len();
            buf.extend_from_slice(&[ECHO_REPLY, 0, 0, 0]);
            buf.extend_from_slice(&data[4..]);
            let sum = checksum::finish(checksum::partial(&buf[start..]));
            buf[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
        });
        env.stats.icmp_out_echo_reps += 1;
    }
    // Other types (echo replies, timestamps, redirects) are ignored.
    None
}

/// The packet an ICMP error quotes: its IP header (with options) and at
/// least 8 bytes of what followed (RFC 792). None unless it is whole
/// enough and was sent from our address.
fn quoted(data: &[u8], ours: Ipv4Addr) -> Option<QuotedError<'_>> {
    let inner = &data[8..];
    if inner.len() < ip::HEADER_LEN || inner[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(inner[0] & 0x0f) * 4;
    let transport = inner
        .get(ihl..)
        .filter(|t| ihl >= ip::HEADER_LEN && t.len() >= 8)?;
    let src = Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]);
    let dst = Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]);
    (src == ours).then_some(QuotedError {
        kind: data[0],
        code: data[1],
        next_hop_mtu: u16::from_be_bytes([data[6], data[7]]),
        protocol: inner[9],
        src,
        dst,
        transport,
    })
}

/// Send "port unreachable" about `packet` (header + first 8 payload bytes).
pub fn port_unreachable(env: &mut Env, hdr: &Ipv4Header, packet: &[u8]) {
    let quoted = &packet[..(hdr.header_len + 8).min(packet.len())];
    let len = 8 + quoted.len();
    env.send_ip(hdr.src, ip::PROTO_ICMP, len, |buf| {
        let start = buf.len();
        buf.extend_from_slice(&[DEST_UNREACHABLE, PORT_UNREACHABLE, 0, 0, 0, 0, 0, 0]);
        buf.extend_from_slice(quoted);
        let sum = checksum::finish(checksum::partial(&buf[start..]));
        buf[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
    });
}
