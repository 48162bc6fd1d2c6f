//! Ephemeral port selection (RFC 6056 style): a keyed hash of the
//! destination plus a running counter picks where to start in the
//! configured range; ports whose 4-tuple is taken, or that a listener
//! holds, are skipped.

use crate::random::SipHasher13;
use crate::stack::Stack;
use core::hash::Hasher;
use std::net::{Ipv4Addr, SocketAddrV4};

impl Stack {
    fn port_range(&self) -> (u16, u32) {
        let (a, b) = (
            self.env.config.tcp.ephemeral_first,
            self.env.config.tcp.ephemeral_last,
        );
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let lo = lo.max(1);
        (lo, (hi.max(lo) - lo) as u32 + 1)
    }

    fn port_start(&mut self, remote: Option<SocketAddrV4>) -> u32 {
        let (k0, k1) = self.port_key.keys();
        let mut h = SipHasher13::new_with_keys(k0, k1);
        if let Some(r) = remote {
            h.write(&r.ip().octets());
            h.write(&r.port().to_be_bytes());
        }
        self.port_counter = self.port_counter.wrapping_add(1);
        (h.finish() as u32).wrapping_add(self.port_counter)
    }

    fn tcp_port_listened(&self, port: u16) -> bool {
        self.listeners
            .contains_key(&SocketAddrV4::new(self.env.config.address, port))
            || self
                .listeners
                .contains_key(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))
    }

    /// A local port for a connection to `remote`.
    pub(crate) fn ephemeral_connect_port(&mut self, remote: SocketAddrV4) -> Option<u16> {
        let (lo, n) = self.port_range();
        let start = self.port_start(Some(remote));
        let addr = self.env.config.address;
        (0..n)
            .map(|i| lo + ((start.wrapping_add(i)) % n) as u16)
            .find(|&p| {
                !self.tcp_port_listened(p)
                    && !self
                        .conns
                        .contains_key(&(SocketAddrV4::new(addr, p), remote))
            })
    }

    /// A port no listener holds.
    pub(crate) fn ephemeral_listen_port(&mut self) -> Option<u16> {
        let (lo, n) = self.port_range();
        let start = self.port_start(None);
        (0..n)
            .map(|i| lo + ((start.wrapping_add(i)) % n) as u16)
            .find(|&p| !self.tcp_port_listened(p))
    }

    /// A free UDP port.
    pub(crate) fn ephemeral_udp_port(&mut self) -> Option<u16> {
        let (lo, n) = self.port_range();
        let start = self.port_start(None);
        let addr = self.env.config.address;
        (0..n)
            .map(|i| lo + ((start.wrapping_add(i)) % n) as u16)
            .find(|&p| {
                !self.udp.contains_key(&SocketAddrV4::new(addr, p))
                    && !self
                        .udp
                        .contains_key(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p))
            })
    }
}
