//! ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 9293 MUST-54..56,
//! RFC 5927, RFC 1191): port unreachable refuses a connect, host
//! unreachable is soft (reported only when the retries give up), forged
//! messages quoting a sequence number we never sent are ignored,
//! "fragmentation needed" lowers the MSS and resends, source quench is
//! discarded.

mod common;
use common::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::event::Note;
use tunstack_core::{Error, Event, IcmpAction, IcmpNote, SocketId, StackConfig, State};

const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);

/// An ICMP error from `ROUTER` quoting `sent` (one of our packets): its IP
/// header and first 8 payload bytes, as RFC 792 routers do.
fn icmp_about(sent: &[u8], kind: u8, code: u8, mtu: u16) -> Vec<u8> {
    let mut icmp = vec![kind, code, 0, 0, 0, 0];
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(&sent[..28]);
    let c = checksum(&[&icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + icmp.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 1, 0, 0, 64, 1, 0, 0]);
    p.extend_from_slice(&ROUTER.octets());
    p.extend_from_slice(&US.octets());
    let c = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&icmp);
    p
}

fn closed_with(h: &mut Harness, id: SocketId) -> Option<Option<Error>> {
    h.take_events().into_iter().find_map(|e| match e {
        Event::Closed { id: i, error } if i == id => Some(error),
        _ => None,
    })
}

/// The ICMP notes reported so far (they stay in the harness's queue).
fn icmp_notes(h: &mut Harness) -> Vec<IcmpNote> {
    let ev = h.take_events();
    let notes = ev
        .iter()
        .filter_map(|e| match e {
            Event::Note {
                note: Note::Icmp(n),
                ..
            } => Some(*n),
            _ => None,
        })
        .collect();
    h.events = ev;
    notes
}

fn connecting(c: StackConfig) -> (Harness, SocketId, Vec<u8>) {
    let mut h = Harness::new(c);
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    let syn = h.out_raw().pop().expect("SYN");
    (h, id, syn)
}

#[test]
fn port_unreachable_refuses_a_connect() {
    let (mut h, id, syn) = connecting(config());
    h.at(5 * MS);
    h.feed_raw(&icmp_about(&syn, 3, 3, 0));
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(
        icmp_notes(&mut h),
        vec![IcmpNote {
            icmp_type: 3,
            code: 3,
            action: IcmpAction::Aborted(Error::ConnectionRefused)
        }]
    );
    assert_eq!(
        closed_with(&mut h, id),
        Some(Some(Error::ConnectionRefused))
    );
    assert_eq!(h.stack.stats().icmp_in_dest_unreachs, 1);
    assert_eq!(h.stack.poll_at(), None, "no SYN retransmission left");
}

#[test]
fn host_unreachable_is_soft_and_named_when_the_connect_times_out() {
    let mut c = config();
    c.tcp.syn_retries = 2;
    let (mut h, id, syn) = connecting(c);
    h.at(5 * MS);
    // RFC 9293 MUST-56: codes 0, 1 and 5 never abort.
    h.feed_raw(&icmp_about(&syn, 3, 1, 0));
    assert_eq!(h.state(id), State::SynSent);
    assert_eq!(
        icmp_notes(&mut h)
            .iter()
            .map(|n| n.action)
            .collect::<Vec<_>>(),
        vec![IcmpAction::Soft(Error::HostUnreachable)]
    );
    assert_eq!(closed_with(&mut h, id), None);
    // The retries run out (1 s, 2 s, 4 s): EHOSTUNREACH, not ETIMEDOUT.
    let mut t = 5 * MS;
    while h.state(id) != State::Closed && t < 60 * SEC {
        t += 100 * MS;
        h.at(t);
    }
    assert_eq!(h.out().iter().filter(|s| s.flags == SYN).count(), 2);
    assert_eq!(closed_with(&mut h, id), Some(Some(Error::HostUnreachable)));
}

#[test]
fn progress_clears_a_soft_error() {
    let mut c = config();
    c.tcp.max_retries = 2;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_send(h.now, id, b"one").unwrap();
    let sent = h.out_raw().pop().unwrap();
    h.feed_raw(&icmp_about(&sent, 11, 0, 0)); // time exceeded: soft
    assert_eq!(h.state(id), State::Established);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3));
    // An unanswered second write times out as ETIMEDOUT: the ACK above
    // showed the path works, so the old error no longer explains anything.
    h.stack.tcp_send(h.now, id, b"two").unwrap();
    let mut t = h.now;
    while h.state(id) != State::Closed && t < 600 * SEC {
        t += 100 * MS;
        h.at(t);
    }
    assert_eq!(closed_with(&mut h, id), Some(Some(Error::TimedOut)));
}

#[test]
fn an_icmp_error_quoting_a_sequence_number_never_sent_is_ignored() {
    let (mut h, id, _iss1, _peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"data").unwrap();
    let mut sent = h.out_raw().pop().unwrap();
    // A blind attacker guesses the ports but not the sequence number.
    let seq = u32::from_be_bytes([sent[24], sent[25], sent[26], sent[27]]);
    sent[24..28].copy_from_slice(&seq.wrapping_add(1_000_000).to_be_bytes());
    h.feed_raw(&icmp_about(&sent, 3, 3, 0));
    h.feed_raw(&icmp_about(&sent, 3, 4, 600));
    assert_eq!(h.state(id), State::Established);
    let st = h.stack.stats();
    assert_eq!((st.tcp_out_of_window_icmps, st.tcp_pmtu_reductions), (2, 0));
    let notes = icmp_notes(&mut h);
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n.action == IcmpAction::OutOfWindow));
    assert_eq!(h.stack.tcp_info(id).unwrap().mss, 1460);
}

#[test]
fn a_synchronized_connection_survives_port_unreachable_as_linux_does() {
    let (mut h, id, _iss1, _peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"data").unwrap();
    let sent = h.out_raw().pop().unwrap();
    h.feed_raw(&icmp_about(&sent, 3, 3, 0));
    assert_eq!(h.state(id), State::Established);
    assert_eq!(closed_with(&mut h, id), None);
}

#[test]
fn fragmentation_needed_lowers_the_mss_and_resends_what_is_in_flight() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, &[7u8; 2920]).unwrap();
    let sent = h.out_raw();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].len(), 1500);
    // A router with a 1000-byte next hop: everything in flight again, in
    // segments of 960, right away and without a congestion response.
    let cwnd = h.stack.tcp_info(id).unwrap().cwnd;
    h.at(h.now + MS);
    h.feed_raw(&icmp_about(&sent[0], 3, 4, 1000));
    let again_raw = h.out_raw();
    let again: Vec<Seg> = again_raw.iter().map(|p| parse_tcp(p)).collect();
    assert_eq!(
        again.iter().map(|s| (s.seq, s.len())).collect::<Vec<_>>(),
        vec![
            (iss1, 960),
            (iss1 + 960, 960),
            (iss1 + 1920, 960),
            (iss1 + 2880, 40)
        ]
    );
    assert!(again.iter().all(|s| s.ack == peer));
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.mss, info.cwnd), (960, cwnd));
    assert_eq!(h.stack.stats().tcp_pmtu_reductions, 1);
    assert_eq!(
        icmp_notes(&mut h)
            .iter()
            .map(|n| n.action)
            .collect::<Vec<_>>(),
        vec![IcmpAction::PathMtu { mss: 960 }]
    );
    // A forged tiny MTU cannot push segments below Linux's 552-byte floor.
    h.feed_raw(&icmp_about(&again_raw[0], 3, 4, 68));
    assert_eq!(h.stack.tcp_info(id).unwrap().mss, 512);
}

#[test]
fn source_quench_is_silently_discarded() {
    let (mut h, id, _iss1, _peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"data").unwrap();
    let sent = h.out_raw().pop().unwrap();
    h.feed_raw(&icmp_about(&sent, 4, 0, 0));
    h.silent();
    assert_eq!(h.stack.stats().icmp_in_src_quenchs, 1);
    assert_eq!(h.stack.tcp_info(id).unwrap().cwnd, 10 * 1460);
}
