//! ICMP errors about our TCP segments (RFC 1122 §4.2.3.9, RFC 9293
//! MUST-54..56, RFC 5927, RFC 1191).
//!
//! - The quoted sequence number must lie in what we have in flight, or
//!   the message is a blind attack or stale: ignored and counted
//!   (RFC 5927 §4.1, as Linux does).
//! - "Fragmentation needed" lowers the path MTU (never below 552, Linux's
//!   floor, so a forged message cannot shrink segments to nothing) and
//!   resends what is in flight at the new size.
//! - Protocol or port unreachable while opening ends the attempt
//!   (ECONNREFUSED / ENOPROTOOPT, RFC 1122 SHOULD-26).
//! - Everything else — net/host unreachable (MUST-56: never abort on
//!   codes 0, 1, 5), time exceeded, parameter problem, and unreachables on
//!   a synchronized connection (Linux's default without IP_RECVERR) — is a
//!   soft error: remembered, and reported instead of ETIMEDOUT should the
//!   retransmissions give up.

use crate::error::Error;
use crate::event::{IcmpAction, IcmpNote, Note};
use crate::icmp::{QuotedError, DEST_UNREACHABLE, TIME_EXCEEDED};
use crate::stack::Stack;
use crate::tcp::seq::Seq;
use crate::tcp::state::State;
use std::net::SocketAddrV4;

const FRAGMENTATION_NEEDED: u8 = 4;
/// Linux's ip_rt_min_pmtu: the smallest path MTU an ICMP message may set.
const MIN_PMTU: u32 = 552;
/// IPv4 and TCP headers without options.
const HEADERS: u32 = 40;

/// What an ICMP error means for the connection it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// Path MTU learned: segments must fit in this many bytes.
    PathMtu(u32),
    /// Ends a connection attempt.
    Hard(Error),
    /// Remembered; reported only if the connection times out.
    Soft(Error),
}

fn meaning(err: &QuotedError<'_>) -> Option<Meaning> {
    Some(match (err.kind, err.code) {
        // Without a next-hop MTU (pre-RFC 1191 routers) there is nothing
        // safe to learn: keep retransmitting.
        (DEST_UNREACHABLE, FRAGMENTATION_NEEDED) if err.next_hop_mtu == 0 => return None,
        (DEST_UNREACHABLE, FRAGMENTATION_NEEDED) => Meaning::PathMtu(u32::from(err.next_hop_mtu)),
        (DEST_UNREACHABLE, 2) => Meaning::Hard(Error::ProtocolUnreachable),
        (DEST_UNREACHABLE, 3) => Meaning::Hard(Error::ConnectionRefused),
        (DEST_UNREACHABLE, 0 | 6 | 9 | 11) => Meaning::Soft(Error::NetUnreachable),
        (DEST_UNREACHABLE, _) => Meaning::Soft(Error::HostUnreachable),
        // A routing loop or a TTL too small: as Linux, EHOSTUNREACH.
        (TIME_EXCEEDED, _) => Meaning::Soft(Error::HostUnreachable),
        _ => Meaning::Soft(Error::InvalidInput),
    })
}

impl Stack {
    /// An ICMP error quoting a TCP segment from our address.
    pub(crate) fn tcp_icmp_error(&mut self, err: &QuotedError<'_>) {
        let t = err.transport;
        let local = SocketAddrV4::new(err.src, u16::from_be_bytes([t[0], t[1]]));
        let remote = SocketAddrV4::new(err.dst, u16::from_be_bytes([t[2], t[3]]));
        let seq = Seq(u32::from_be_bytes([t[4], t[5], t[6], t[7]]));
        let Some(&id) = self.conns.get(&(local, remote)) else {
            return;
        };
        let Some(meaning) = meaning(err) else {
            return;
        };
        let Some(tcb) = self.sockets.tcb_mut(id) else {
            return;
        };
        let note = |action| {
            Note::Icmp(IcmpNote {
                icmp_type: err.kind,
                code: err.code,
                action,
            })
        };
        if matches!(tcb.state, State::Closed | State::TimeWait) {
            self.env.stats.tcp_out_of_window_icmps += 1;
            return;
        }
        if seq.lt(tcb.snd_una) || tcb.snd_max.lt(seq) {
            self.env.stats.tcp_out_of_window_icmps += 1;
            tcb.note(&mut self.env, note(IcmpAction::OutOfWindow));
            return;
        }
        let env = &mut self.env;
        match meaning {
            Meaning::PathMtu(mtu) => {
                let mss = mtu.max(MIN_PMTU) - HEADERS;
                if mss >= tcb.snd_mss {
                    return;
                }
                env.stats.tcp_pmtu_reductions += 1;
                tcb.snd_mss = mss;
                tcb.note(env, note(IcmpAction::PathMtu { mss }));
                // What was in flight was too big to arrive: send it again
                // now, at the new size, without a congestion response (it
                // was not congestion; Linux's tcp_simple_retransmit).
                if tcb.snd_una != tcb.snd_max && tcb.state.is_synchronized() {
                    let head = tcb.snd_una;
                    let len = tcb.retransmit_head(env);
                    let fin = tcb.fin_sent() && head + len == tcb.send_buf.end_seq();
                    tcb.snd_nxt = head + len + fin as u32;
                    tcb.output(env);
                }
            }
            Meaning::Hard(error) if matches!(tcb.state, State::SynSent | State::SynReceived) => {
                env.stats.tcp_attempt_fails += 1;
                tcb.note(env, note(IcmpAction::Aborted(error)));
                tcb.terminate(env, Some(error));
            }
            Meaning::Hard(error) | Meaning::Soft(error) => {
                tcb.note(env, note(IcmpAction::Soft(error)));
                tcb.soft_error = Some(error);
            }
        }
        self.after_tcb(id);
        self.settle_timers();
    }
}
