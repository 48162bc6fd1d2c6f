//! Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret),
//! M a clock ticking every 4 µs, F a keyed hash (SipHash-1-3 keyed from
//! the stack seed), so ISNs are unpredictable off-path yet monotonic for
//! reincarnations of the same 4-tuple.

use super::seq::Seq;
use crate::random::{KeyedState, SipHasher13};
use crate::time::Instant;
use core::hash::Hasher;
use std::net::SocketAddrV4;

/// ISN generator holding the secret key.
#[derive(Debug, Clone)]
pub struct IsnGenerator {
    key: KeyedState,
}

impl IsnGenerator {
    /// A generator keyed from the stack seed.
    pub fn new(seed: u64) -> Self {
        IsnGenerator {
            key: KeyedState::new(seed, 0x6528),
        }
    }

    /// The ISN for a connection from `local` to `remote` opened at `now`.
    pub fn isn(&self, now: Instant, local: SocketAddrV4, remote: SocketAddrV4) -> Seq {
        let (k0, k1) = self.key.keys();
        let mut h = SipHasher13::new_with_keys(k0, k1);
        h.write(&local.ip().octets());
        h.write(&local.port().to_be_bytes());
        h.write(&remote.ip().octets());
        h.write(&remote.port().to_be_bytes());
        let m = (now / 4) as u32;
        Seq(m.wrapping_add(h.finish() as u32))
    }

    /// The per-connection timestamp offset (RFC 7323 §7.1, like Linux's
    /// `secure_tcp_ts_off`): TSval = offset + milliseconds, so TSvals say
    /// nothing about the host's uptime or its other connections.
    pub fn ts_offset(&self, local: SocketAddrV4, remote: SocketAddrV4) -> u32 {
        let (k0, k1) = self.key.keys();
        let mut h = SipHasher13::new_with_keys(k1, k0);
        h.write(b"ts");
        h.write(&local.ip().octets());
        h.write(&local.port().to_be_bytes());
        h.write(&remote.ip().octets());
        h.write(&remote.port().to_be_bytes());
        h.finish() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn keyed_tuple_dependent_and_clocked() {
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 1000);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
        let c = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 81);
        let g = IsnGenerator::new(1);
        assert_ne!(g.isn(0, a, b), g.isn(0, a, c));
        assert_ne!(g.isn(0, a, b), IsnGenerator::new(2).isn(0, a, b));
        assert_eq!(
            g.isn(400, a, b).diff(g.isn(0, a, b)),
            100,
            "M advances every 4 µs"
        );
    }
}
