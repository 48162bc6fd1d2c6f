//! SYN cookies (RFC 4987 §3.6; Linux's net/ipv4/syncookies.c): when a
//! listener's SYN queue is full (or always, if configured), the SYN is
//! answered with a SYN-ACK whose ISN encodes what the connection needs and
//! no state is kept. The peer's ACK returns the ISN (ACK - 1); if it checks
//! out, the connection is created there and then, straight into the accept
//! queue.
//!
//! The ISN, as Linux builds it (`__cookie_v4_init_sequence`):
//!
//! ```text
//! ISN = H1(4-tuple) + client ISN + (count << 24) + ((H2(4-tuple, count) + mss index) mod 2^24)
//! ```
//!
//! H1 and H2 are SipHash-1-3 keyed from the stack seed; `count` advances
//! every 64 s and a cookie is good for the current and the previous value.
//! The MSS is one of four values ([`MSS_TABLE`], Linux's msstab), so it
//! takes two bits; a forged ACK passes only if its low 24 bits, less H2,
//! land on one of the four indices (1 in 2^22).
//!
//! The ISN has no room for window scaling and SACK-permitted; when the peer
//! uses timestamps they ride in the low 6 bits of our TSval instead
//! (Linux's `cookie_init_timestamp`), which the ACK echoes in TSecr. Without
//! timestamps the connection goes without them, as on Linux.

use super::options::OutOptions;
use super::segment::{SegmentOut, TcpHeader, ACK, SYN};
use super::seq::Seq;
use super::tcb::{Tcb, MAX_WINDOW};
use crate::config::MAX_BUFFER;
use crate::env::Env;
use crate::random::{KeyedState, SipHasher13};
use crate::time::{Instant, SECONDS};
use core::hash::Hasher;
use std::net::SocketAddrV4;

/// MSS values a cookie can carry (Linux's IPv4 msstab): the peer's MSS is
/// rounded down to the largest entry not above it.
pub const MSS_TABLE: [u16; 4] = [536, 1300, 1440, 1460];
/// How often the cookie counter advances (Linux: 64 s).
pub const PERIOD: u64 = 64 * SECONDS;
/// A cookie is valid while the counter moved by less than this (Linux's
/// MAX_SYNCOOKIE_AGE): the current and the previous period.
const MAX_AGE: u32 = 2;
const COOKIE_BITS: u32 = 24;
const COOKIE_MASK: u32 = (1 << COOKIE_BITS) - 1;
/// Low TSval bits carrying options (Linux's TSBITS).
const TS_BITS: u32 = 6;
/// Window scale in the low 4 bits; 0xf = no window scaling.
const TS_WSCALE_MASK: u32 = 0xf;
/// SACK-permitted.
const TS_SACK: u32 = 1 << 4;

/// What a valid cookie ACK gives back about the SYN it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieOptions {
    /// The peer's MSS, as rounded by [`MSS_TABLE`].
    pub mss: u16,
    /// The peer's window scale, if both sides use window scaling.
    pub wscale: Option<u8>,
    /// SACK-permitted was offered (and allowed).
    pub sack: bool,
    /// Timestamps are in use: (the ACK's TSval, its TSecr).
    pub timestamps: Option<(u32, u32)>,
}

/// The keyed MAC of cookies.
#[derive(Debug, Clone)]
pub struct CookieKey {
    key: KeyedState,
}

impl CookieKey {
    /// A key derived from the stack seed (its own domain: no other hash
    /// shares it).
    pub fn new(seed: u64) -> Self {
        CookieKey {
            key: KeyedState::new(seed, 0x5c00_c1e5),
        }
    }

    fn hash(&self, which: u8, local: SocketAddrV4, remote: SocketAddrV4, count: u32) -> u32 {
        let (k0, k1) = self.key.keys();
        let mut h = SipHasher13::new_with_keys(k0, k1);
        h.write(&[which]);
        h.write(&local.ip().octets());
        h.write(&local.port().to_be_bytes());
        h.write(&remote.ip().octets());
        h.write(&remote.port().to_be_bytes());
        h.write(&count.to_be_bytes());
        h.finish() as u32
    }

    /// The cookie ISN for a SYN from `remote` with sequence number
    /// `client_isn`, carrying MSS index `mss_index` (< 4).
    pub fn make(
        &self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        client_isn: Seq,
        mss_index: u32,
    ) -> Seq {
        let count = counter(now);
        let h1 = self.hash(1, local, remote, 0);
        let h2 = self.hash(2, local, remote, count);
        Seq(h1
            .wrapping_add(client_isn.0)
            .wrapping_add(count << COOKIE_BITS)
            .wrapping_add(h2.wrapping_add(mss_index) & COOKIE_MASK))
    }

    /// The MSS index `cookie` carries, if it is one we made for this
    /// 4-tuple and client ISN in the current or the previous period.
    pub fn check(
        &self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        client_isn: Seq,
        cookie: Seq,
    ) -> Option<u32> {
        let count = counter(now);
        let c = cookie
            .0
            .wrapping_sub(self.hash(1, local, remote, 0))
            .wrapping_sub(client_isn.0);
        let diff = count.wrapping_sub(c >> COOKIE_BITS) & (u32::MAX >> COOKIE_BITS);
        if diff >= MAX_AGE {
            return None;
        }
        let h2 = self.hash(2, local, remote, count.wrapping_sub(diff));
        let index = c.wrapping_sub(h2) & COOKIE_MASK;
        ((index as usize) < MSS_TABLE.len()).then_some(index)
    }
}

/// The cookie counter at `now`; its low 8 bits are what the ISN keeps.
fn counter(now: Instant) -> u32 {
    (now / PERIOD) as u32
}

/// Index of the largest [`MSS_TABLE`] entry not above `mss` (the smallest
/// entry if `mss` is below all of them, as Linux does).
pub fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// Our TSval for a cookie SYN-ACK: the clock `ts_now` with its low 6 bits
/// replaced by the options, never ahead of the clock (so the peer sees our
/// TSvals only grow once the connection exists).
pub fn encode_ts(ts_now: u32, wscale: Option<u8>, sack: bool) -> u32 {
    let mut opts = wscale.map_or(TS_WSCALE_MASK, |s| u32::from(s) & TS_WSCALE_MASK);
    if sack {
        opts |= TS_SACK;
    }
    let ts = (ts_now & !((1 << TS_BITS) - 1)) | opts;
    if ts > ts_now {
        ts.wrapping_sub(1 << TS_BITS)
    } else {
        ts
    }
}

/// Window scale and SACK-permitted from the TSecr of a cookie ACK.
pub fn decode_ts(tsecr: u32) -> (Option<u8>, bool) {
    let w = tsecr & TS_WSCALE_MASK;
    let wscale = (w != TS_WSCALE_MASK).then_some(w as u8);
    (wscale, tsecr & TS_SACK != 0)
}

/// Send a cookie SYN-ACK answering `syn` (which arrived from `remote` at
/// `local`), keeping no state.
pub fn send_cookie(env: &mut Env, local: SocketAddrV4, remote: SocketAddrV4, syn: &TcpHeader) {
    let tcp = &env.config.tcp;
    let peer_mss = syn.options.mss.unwrap_or(super::tcb::DEFAULT_MSS as u16);
    let index = mss_index(peer_mss);
    let iss = env.cookies.make(env.now, local, remote, syn.seq, index);
    let recv_limit = tcp.recv_buffer.clamp(1, MAX_BUFFER);
    // Without timestamps the ACK cannot tell us what was agreed: offer
    // neither window scaling nor SACK then (Linux clears them too).
    let ts_val = syn.options.timestamps.filter(|_| tcp.timestamps);
    let peer_shift = syn
        .options
        .wscale
        .filter(|_| tcp.window_scaling && ts_val.is_some());
    let sack = syn.options.sack_permitted && tcp.sack && ts_val.is_some();
    let timestamps = ts_val.map(|(val, _)| {
        // The peer's shift, not ours, is what the ACK must give back.
        let now_ts = env
            .isn
            .ts_offset(local, remote)
            .wrapping_add((env.now / 1000) as u32);
        (encode_ts(now_ts, peer_shift, sack), val)
    });
    let seg = SegmentOut {
        src_port: local.port(),
        dst_port: remote.port(),
        seq: iss,
        ack: syn.seq + 1,
        flags: SYN | ACK,
        window: recv_limit.min(MAX_WINDOW as usize) as u16,
        options: OutOptions {
            mss: Some(env.mss_limit().min(u16::MAX as u32) as u16),
            wscale: peer_shift.map(|_| super::tcb::wscale_for(recv_limit)),
            sack_permitted: sack,
            timestamps,
            sack: Default::default(),
        },
        urgent: 0,
        tos: 0,
        payload: (&[], &[]),
    };
    env.send_tcp(local, remote, &seg);
}

/// Check an ACK that reached a listener as the answer to a cookie. `None`:
/// not one of ours (or too old).
pub fn check_ack(
    env: &Env,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    ack: &TcpHeader,
) -> Option<CookieOptions> {
    let tcp = &env.config.tcp;
    let index = env
        .cookies
        .check(env.now, local, remote, ack.seq - 1, ack.ack - 1)?;
    let mss = MSS_TABLE[index as usize];
    let Some((val, ecr)) = ack.options.timestamps.filter(|_| tcp.timestamps) else {
        return Some(CookieOptions {
            mss,
            wscale: None,
            sack: false,
            timestamps: None,
        });
    };
    let (wscale, sack) = decode_ts(ecr);
    // Options we would not have offered mean the echo is not ours.
    if (sack && !tcp.sack) || (wscale.is_some() && !tcp.window_scaling) {
        return None;
    }
    if wscale.is_some_and(|s| s > super::options::MAX_WSCALE) {
        return None;
    }
    Some(CookieOptions {
        mss,
        wscale,
        sack,
        timestamps: Some((val, ecr)),
    })
}

impl Tcb {
    /// Rebuild, from a valid cookie ACK, the half-open connection the
    /// cookie stood for: as if we had kept it in SYN_RECEIVED after sending
    /// the SYN-ACK. The caller then feeds it the ACK.
    pub fn restore_from_cookie(&mut self, env: &Env, ack: &TcpHeader, opts: &CookieOptions) {
        let irs = ack.seq - 1;
        self.irs = irs;
        self.rcv_nxt = ack.seq;
        self.last_ack_sent = self.rcv_nxt;
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_nxt;
        match opts.wscale {
            Some(s) => {
                self.wscale_ok = true;
                self.snd_wscale = s;
                self.rcv_wscale = self.wscale_offer();
            }
            None => {
                self.wscale_ok = false;
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.sack_ok = opts.sack;
        if let Some((val, ecr)) = opts.timestamps {
            self.ts_ok = true;
            self.ts_recent = val;
            self.ts_recent_stamp = env.now;
            // The cookie TSval is not a send time (its low bits are
            // options): no RTT sample from its echo.
            self.rtx_ts = Some(ecr.wrapping_add(1));
        }
        self.set_peer_mss(Some(opts.mss), env.mss_limit());
        // The SYN-ACK advertised the unscaled window of an empty buffer.
        let _ = self.advertise_syn();
        self.snd_wl1 = irs;
        self.snd_wl2 = Seq(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn tuple() -> (SocketAddrV4, SocketAddrV4) {
        (
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000),
        )
    }

    #[test]
    fn round_trip_within_two_periods() {
        let k = CookieKey::new(7);
        let (l, r) = tuple();
        for index in 0..4 {
            let c = k.make(5 * SECONDS, l, r, Seq(1000), index);
            assert_eq!(k.check(5 * SECONDS, l, r, Seq(1000), c), Some(index));
            assert_eq!(
                k.check(PERIOD + 5 * SECONDS, l, r, Seq(1000), c),
                Some(index)
            );
            assert_eq!(k.check(2 * PERIOD + 5 * SECONDS, l, r, Seq(1000), c), None);
        }
    }

    #[test]
    fn bound_to_tuple_isn_and_key() {
        let k = CookieKey::new(7);
        let (l, r) = tuple();
        let c = k.make(0, l, r, Seq(1000), 3);
        let r2 = SocketAddrV4::new(*r.ip(), 40001);
        assert_eq!(k.check(0, l, r2, Seq(1000), c), None);
        assert_eq!(k.check(0, l, r, Seq(9000), c), None);
        assert_eq!(CookieKey::new(8).check(0, l, r, Seq(1000), c), None);
        assert_eq!(k.check(0, l, r, Seq(1000), c + 1), None);
    }

    #[test]
    fn forgeries_rarely_pass() {
        // A blind guess passes with probability 4 / 2^24 per period value.
        let k = CookieKey::new(1);
        let (l, r) = tuple();
        let passed = (0..100_000u32)
            .filter(|&i| {
                k.check(0, l, r, Seq(5), Seq(i.wrapping_mul(2_654_435_761)))
                    .is_some()
            })
            .count();
        assert!(passed <= 2, "{passed}");
    }

    #[test]
    fn mss_table_rounds_down() {
        assert_eq!(mss_index(1460), 3);
        assert_eq!(mss_index(9000), 3);
        assert_eq!(mss_index(1452), 2);
        assert_eq!(mss_index(1300), 1);
        assert_eq!(mss_index(600), 0);
        assert_eq!(mss_index(100), 0);
    }

    #[test]
    fn timestamp_bits() {
        for ts in [0u32, 63, 64, 1_000_000, u32::MAX, 12345] {
            for w in [None, Some(0), Some(7), Some(14)] {
                for sack in [false, true] {
                    let v = encode_ts(ts, w, sack);
                    assert_eq!(decode_ts(v), (w, sack));
                    assert!(ts.wrapping_sub(v) < 64, "never ahead, at most 63 behind");
                }
            }
        }
    }
}
