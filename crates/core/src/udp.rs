//! UDP (RFC 768): checked parsing (length, pseudo-header checksum),
//! emission, and bound sockets with a bounded receive queue.

use crate::checksum;
use crate::env::Env;
use crate::ip;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

/// UDP header length.
pub const HEADER_LEN: usize = 8;
/// Bytes of payload a socket may hold unread before datagrams are dropped.
pub const QUEUE_BYTES: usize = 256 * 1024;

/// A bound UDP socket.
#[derive(Debug)]
pub struct UdpSocket {
    pub local: SocketAddrV4,
    queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
    queued_bytes: usize,
}

impl UdpSocket {
    /// A socket bound to `local` with an empty queue.
    pub fn new(local: SocketAddrV4) -> Self {
        UdpSocket {
            local,
            queue: VecDeque::new(),
            queued_bytes: 0,
        }
    }

    /// Queue a datagram; false if the queue is full. The queue may exceed
    /// its bound by one datagram so that any single datagram fits.
    pub fn enqueue(&mut self, from: SocketAddrV4, data: &[u8]) -> bool {
        if self.queued_bytes >= QUEUE_BYTES {
            return false;
        }
        self.queued_bytes += data.len();
        self.queue.push_back((from, data.to_vec()));
        true
    }

    /// Take the oldest datagram.
    pub fn dequeue(&mut self, out: &mut Vec<u8>) -> Option<SocketAddrV4> {
        let (from, data) = self.queue.pop_front()?;
        self.queued_bytes -= data.len();
        out.extend_from_slice(&data);
        Some(from)
    }

    /// Datagrams waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Bytes waiting.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }
}

/// A parsed datagram.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

/// Validate `data` (the IP payload) as a UDP datagram; `None` = malformed
/// or bad checksum. `verify_checksum` false: the device vouched for it.
pub fn parse(
    data: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    verify_checksum: bool,
) -> Option<Datagram<'_>> {
    if data.len() < HEADER_LEN {
        return None;
    }
    let len = u16::from_be_bytes([data[4], data[5]]) as usize;
    if len < HEADER_LEN || len > data.len() {
        return None;
    }
    let data = &data[..len];
    let sum = u16::from_be_bytes([data[6], data[7]]);
    if verify_checksum
        && sum != 0
        && !checksum::verify(
            checksum::pseudo_header(src, dst, ip::PROTO_UDP, len) + checksum::partial(data),
        )
    {
        return None;
    }
    Some(Datagram {
        src_port: u16::from_be_bytes([data[0], data[1]]),
        dst_port: u16::from_be_bytes([data[2], data[3]]),
        payload: &data[HEADER_LEN..],
    })
}

/// Queue a datagram from `local` to `remote`.
pub fn send(env: &mut Env, local: SocketAddrV4, remote: SocketAddrV4, payload: &[u8]) {
    let len = HEADER_LEN + payload.len();
    env.send_ip(*remote.ip(), ip::PROTO_UDP, len, |buf| {
        let start = buf.len();
        buf.extend_from_slice(&local.port().to_be_bytes());
        buf.extend_from_slice(&remote.port().to_be_bytes());
        buf.extend_from_slice(&(len as u16).to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(payload);
        let sum = checksum::pseudo_header(*local.ip(), *remote.ip(), ip::PROTO_UDP, len)
            + checksum::partial(&buf[start..]);
        // 0 means "no checksum" in UDP; a computed 0 is sent as all ones.
        let sum = match checksum::finish(sum) {
            0 => 0xffff,
            s => s,
        };
        buf[start + 6..start + 8].copy_from_slice(&sum.to_be_bytes());
    });
    env.stats.udp_out_datagrams += 1;
}
