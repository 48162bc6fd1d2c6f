//! ICMP (RFC 792), the parts an end host needs: answer echo requests (so
//! the kernel can ping the stack) and report unreachable UDP ports.

use crate::checksum;
use crate::env::Env;
use crate::ip::{self, Ipv4Header};

const ECHO_REPLY: u8 = 0;
const DEST_UNREACHABLE: u8 = 3;
const PORT_UNREACHABLE: u8 = 3;
const ECHO_REQUEST: u8 = 8;

/// Handle one inbound ICMP message (`data` is the IP payload).
pub fn input(env: &mut Env, hdr: &Ipv4Header, data: &[u8]) {
    if data.len() < 8 || !checksum::verify(checksum::partial(data)) {
        env.stats.icmp_in_errors += 1;
        return;
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
    // Other types (errors about our own packets, replies) are accepted
    // and ignored for now.
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
