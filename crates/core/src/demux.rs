//! Inbound dispatch: validate the IP header, then hand the payload to
//! ICMP, UDP or TCP; TCP segments are matched to a connection by 4-tuple,
//! else to a listener by (address, port) with a wildcard fallback, else
//! answered with RST. Every rejected packet bumps exactly one counter.

use crate::event::Event;
use crate::icmp;
use crate::ip::{self, IpError, Ipv4Header};
use crate::stack::SocketId;
use crate::stack::Stack;
use crate::tcp::output::reply_rst;
use crate::tcp::segment::TcpHeader;
use crate::tcp::segment::{self, SegmentError};
use crate::tcp::state::State;
use crate::tx::RxMeta;
use crate::udp;
use std::net::{Ipv4Addr, SocketAddrV4};

impl Stack {
    /// `meta` says whether the transport checksum needs verifying.
    pub(crate) fn ip_input(&mut self, packet: &[u8], meta: RxMeta) {
        let stats = &mut self.env.stats;
        stats.ip_in_receives += 1;
        let hdr = match ip::parse(packet) {
            Ok(h) => h,
            Err(IpError::Truncated) => return stats.ip_in_truncated += 1,
            Err(IpError::Header) => return stats.ip_in_hdr_errors += 1,
            Err(IpError::Checksum) => return stats.ip_in_csum_errors += 1,
        };
        // Our own address as source is a martian (or a LAND attack).
        if hdr.dst != self.env.config.address || ip::is_bad_source(hdr.src) || hdr.src == hdr.dst {
            return stats.ip_in_addr_errors += 1;
        }
        if hdr.is_fragment {
            return stats.ip_in_fragments_dropped += 1;
        }
        let payload = &packet[hdr.header_len..hdr.total_len];
        match hdr.protocol {
            ip::PROTO_TCP => self.tcp_input(&hdr, payload, meta),
            ip::PROTO_UDP => self.udp_input(&hdr, payload, &packet[..hdr.total_len], meta),
            ip::PROTO_ICMP => {
                if let Some(err) = icmp::input(&mut self.env, &hdr, payload) {
                    if err.protocol == ip::PROTO_TCP {
                        self.tcp_icmp_error(&err);
                    }
                }
            }
            _ => stats.ip_in_unknown_protos += 1,
        }
    }

    fn tcp_input(&mut self, ip: &Ipv4Header, data: &[u8], meta: RxMeta) {
        let verify = !meta.checksum_trusted;
        let (seg, payload) = match segment::parse(data, ip.src, ip.dst, verify) {
            Ok(v) => v,
            Err(SegmentError::Malformed) => return self.env.stats.tcp_in_errs += 1,
            Err(SegmentError::Checksum) => return self.env.stats.tcp_in_csum_errors += 1,
        };
        self.env.stats.tcp_in_segs += 1;
        let local = SocketAddrV4::new(ip.dst, seg.dst_port);
        let remote = SocketAddrV4::new(ip.src, seg.src_port);
        if let Some(&id) = self.conns.get(&(local, remote)) {
            if self.time_wait_reusable(id, &seg) {
                // RFC 9293 §3.6.1 / RFC 6191: a new SYN above the old
                // connection's sequence space may end TIME_WAIT early.
                self.retire(id);
            } else {
                let parent = self.sockets.tcb(id).and_then(|t| t.parent);
                let room = parent
                    .and_then(|l| self.sockets.listener(l))
                    .is_none_or(|l| l.accept_room());
                if let Some(t) = self.sockets.tcb_mut(id) {
                    t.input(&mut self.env, &seg, payload, room);
                }
                self.after_tcb(id);
                return;
            }
        }
        let listener = self
            .listeners
            .get(&local)
            .or_else(|| {
                self.listeners
                    .get(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, local.port()))
            })
            .copied();
        if let Some(lid) = listener {
            return self.listen_input(lid, local, remote, &seg, payload);
        }
        // No socket (RFC 9293 §3.10.7.1): RST unless it was a RST.
        if !seg.rst() {
            let len = payload.len() as u32 + seg.syn() as u32 + seg.fin() as u32;
            let ack = seg.has_ack().then_some(seg.ack);
            reply_rst(&mut self.env, local, remote, seg.seq, ack, len);
        }
    }

    fn udp_input(&mut self, ip: &Ipv4Header, data: &[u8], packet: &[u8], meta: RxMeta) {
        let Some(d) = udp::parse(data, ip.src, ip.dst, !meta.checksum_trusted) else {
            return self.env.stats.udp_in_errors += 1;
        };
        let local = SocketAddrV4::new(ip.dst, d.dst_port);
        let id = self
            .udp
            .get(&local)
            .or_else(|| {
                self.udp
                    .get(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, d.dst_port))
            })
            .copied();
        let Some(id) = id else {
            self.env.stats.udp_no_ports += 1;
            icmp::port_unreachable(&mut self.env, ip, packet);
            return;
        };
        let from = SocketAddrV4::new(ip.src, d.src_port);
        if let Some(s) = self.sockets.udp_mut(id) {
            let was_empty = s.queued() == 0;
            if s.enqueue(from, d.payload) {
                self.env.stats.udp_in_datagrams += 1;
                if was_empty {
                    self.env.events.push_back(Event::UdpReadable { id });
                }
            } else {
                self.env.stats.udp_in_errors += 1;
            }
        }
    }
}

impl Stack {
    /// A SYN (no ACK) beyond the receive sequence space of a connection in
    /// TIME_WAIT, with a listener ready to take it.
    fn time_wait_reusable(&self, id: SocketId, seg: &TcpHeader) -> bool {
        if !seg.syn() || seg.has_ack() || seg.rst() {
            return false;
        }
        let Some(t) = self.sockets.tcb(id) else {
            return false;
        };
        // RFC 6191: with timestamps on both incarnations, a newer TSval
        // proves the SYN new; otherwise the sequence number must.
        let newer = match (t.ts_ok, seg.options.timestamps) {
            (true, Some((val, _))) => (val.wrapping_sub(t.ts_recent) as i32) > 0,
            _ => seg.seq.gt(t.rcv_nxt),
        };
        t.state == State::TimeWait
            && newer
            && (self.listeners.contains_key(&t.local)
                || self
                    .listeners
                    .contains_key(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, t.local.port())))
    }

    /// End a connection in TIME_WAIT now.
    pub(crate) fn retire(&mut self, id: SocketId) {
        if let Some(t) = self.sockets.tcb_mut(id) {
            t.set_state(&mut self.env, State::Closed);
        }
        self.after_tcb(id);
    }
}
