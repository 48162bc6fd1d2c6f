//! Scripted connection-management defences and limits: RST handling per
//! RFC 5961 (exact RST resets, in-window RST and SYN get a rate-limited
//! challenge ACK, out-of-window RST is dropped), too-old ACKs (RFC 5961
//! §5.2), RST in TIME_WAIT (RFC 1337), the TIME_WAIT bound, closing with
//! unread data, the user timeout, and keepalive's interval and count.

mod common;
use common::*;
use tunstack_core::event::{ChallengeTrigger, Note, ResetOutcome, ResetReason};
use tunstack_core::{Error, Event, SocketId, State};

fn closed_with(ev: &[Event], id: SocketId) -> Option<Option<Error>> {
    ev.iter().find_map(|e| match e {
        Event::Closed { id: i, error } if *i == id => Some(*error),
        _ => None,
    })
}

#[test]
fn rst_at_rcv_nxt_resets_the_connection() {
    let (mut h, id, _iss1, peer, port) = connected(config(), 1460, 65535);
    h.feed(&Seg::new(80, port, RST, peer, 0));
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Note {
        id,
        note: Note::ResetReceived(ResetOutcome::Accepted)
    }));
    assert_eq!(closed_with(&ev, id), Some(Some(Error::ConnectionReset)));
    assert_eq!(h.stack.stats().tcp_estab_resets, 1);
}

#[test]
fn in_window_rst_gets_one_rate_limited_challenge_ack_and_the_connection_survives() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.at(SEC);
    h.feed(&Seg::new(80, port, RST, peer + 100, 0));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    // A second blind guess right after: no second challenge ACK.
    h.feed(&Seg::new(80, port, RST, peer + 200, 0));
    h.silent();
    assert_eq!(h.state(id), State::Established);
    let ev = h.take_events();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(
                e,
                Event::Note {
                    note: Note::ResetReceived(ResetOutcome::Challenged),
                    ..
                }
            ))
            .count(),
        2
    );
    assert_eq!(
        ev.iter()
            .filter(|e| **e
                == Event::Note {
                    id,
                    note: Note::ChallengeAck(ChallengeTrigger::Rst)
                })
            .count(),
        1
    );
    let s = h.stack.stats();
    assert_eq!((s.tcp_challenge_acks, s.tcp_ack_skipped), (1, 1));
    // The true peer answers the challenge with an exact RST.
    h.feed(&Seg::new(80, port, RST, peer, 0));
    assert_eq!(h.state(id), State::Closed);
}

#[test]
fn out_of_window_rst_is_dropped_silently() {
    let (mut h, id, _iss1, peer, port) = connected(config(), 1460, 65535);
    h.feed(&Seg::new(80, port, RST, peer.wrapping_add(1 << 30), 0));
    h.feed(&Seg::new(80, port, RST, peer.wrapping_sub(10), 0));
    h.silent();
    assert_eq!(h.state(id), State::Established);
    let outcomes: Vec<_> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Note {
                note: Note::ResetReceived(outcome),
                ..
            } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![ResetOutcome::OutOfWindow, ResetOutcome::OutOfWindow]
    );
}

#[test]
fn syn_in_established_gets_a_challenge_ack_not_a_reset() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.at(SEC);
    // A SYN at the exact next sequence number (the old RFC 793 rule would reset).
    h.feed(&Seg::new(80, port, SYN, peer, 0));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    h.feed(&Seg::new(80, port, SYN, 77, 0));
    h.silent();
    assert_eq!(h.state(id), State::Established);
    assert!(h.take_events().contains(&Event::Note {
        id,
        note: Note::ChallengeAck(ChallengeTrigger::Syn)
    }));
    // Data still flows.
    h.stack.tcp_send(h.now, id, b"alive").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 5)]);
}

#[test]
fn an_ack_older_than_any_window_is_challenged_and_its_data_dropped() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 1000);
    for i in 0..3u32 {
        h.stack.tcp_send(h.now, id, &[7u8; 1000]).unwrap();
        h.expect(&[exp(ACK | PSH, iss1 + i * 1000, peer, 1000)]);
        h.feed(&Seg::new(80, port, ACK, peer, iss1 + (i + 1) * 1000).win(1000));
    }
    h.take_events();
    h.at(SEC);
    // ACK field 2000 bytes behind SND.UNA; the peer never opened more than 1000.
    h.feed(
        &Seg::new(80, port, ACK | PSH, peer, iss1 + 1000)
            .win(1000)
            .data(b"forged"),
    );
    h.expect(&[exp(ACK, iss1 + 3000, peer, 0)]);
    let ev = h.take_events();
    assert!(!ev.contains(&Event::Readable { id }), "{ev:?}");
    assert!(ev.contains(&Event::Note {
        id,
        note: Note::ChallengeAck(ChallengeTrigger::Ack)
    }));
    assert_eq!(h.stack.stats().tcp_old_acks, 1);
    // An old ACK within the window's reach is merely old: its data counts.
    h.feed(
        &Seg::new(80, port, ACK | PSH, peer, iss1 + 2500)
            .win(1000)
            .data(b"real"),
    );
    assert!(h.take_events().contains(&Event::Readable { id }));
}

/// Drive `id` (connected to PEER:80 from `port`) into TIME_WAIT.
fn into_time_wait(h: &mut Harness, id: SocketId, iss1: u32, peer: u32, port: u16) {
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 1));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::TimeWait);
}

#[test]
fn rst_in_time_wait_is_ignored_by_default_rfc_1337() {
    let mut c = config();
    c.tcp.msl = 5 * SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    into_time_wait(&mut h, id, iss1, peer, port);
    let entered = h.now;
    h.at(SEC);
    h.feed(&Seg::new(80, port, RST, peer + 1, 0));
    h.silent();
    assert_eq!(
        h.state(id),
        State::TimeWait,
        "TIME_WAIT is not assassinated"
    );
    assert_eq!(h.stack.poll_at(), Some(entered + 10 * SEC));
    assert!(h.take_events().contains(&Event::Note {
        id,
        note: Note::ResetReceived(ResetOutcome::Ignored)
    }));
    assert_eq!(h.stack.stats().tcp_rfc1337_ignored, 1);
}

#[test]
fn rst_in_time_wait_ends_it_when_rfc_1337_is_off() {
    let mut c = config();
    c.tcp.rfc1337 = false;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    into_time_wait(&mut h, id, iss1, peer, port);
    h.feed(&Seg::new(80, port, RST, peer + 1, 0));
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.stack.time_wait_count(), 0);
}

#[test]
fn time_wait_is_bounded_and_the_oldest_entry_goes_first() {
    let mut c = config();
    c.tcp.max_time_wait = 2;
    let mut h = Harness::new(c);
    let mut ids = Vec::new();
    for n in 0..3u32 {
        let remote = std::net::SocketAddrV4::new(PEER, 80 + n as u16);
        let id = h.stack.tcp_connect(h.now, remote, None).unwrap();
        let syn = h.out().pop().expect("SYN");
        let (port, iss1) = (syn.src_port, syn.seq.wrapping_add(1));
        h.at(h.now + MS);
        let p = |flags, seq, ack| Seg::new(80 + n as u16, port, flags, seq, ack);
        let data = p(SYN | ACK, 9000, iss1).to_packet(PEER, US);
        h.feed_raw(&data);
        h.expect(&[exp(ACK, iss1, 9001, 0)]);
        h.stack.tcp_shutdown(h.now, id).unwrap();
        h.expect(&[exp(ACK | FIN, iss1, 9001, 0)]);
        h.feed_raw(&p(ACK | FIN, 9001, iss1 + 1).to_packet(PEER, US));
        h.out();
        ids.push(id);
    }
    assert_eq!(h.stack.time_wait_count(), 2);
    assert_eq!(h.state(ids[0]), State::Closed, "the oldest was recycled");
    assert_eq!(h.state(ids[1]), State::TimeWait);
    assert_eq!(h.state(ids[2]), State::TimeWait);
    assert_eq!(h.stack.stats().tcp_time_wait_overflow, 1);
    // The others leave on their timers, and the count follows.
    h.at(h.now + 60 * SEC);
    assert_eq!(h.stack.time_wait_count(), 0);
    assert_eq!(h.stack.stats().tcp_time_wait_overflow, 1);
}

#[test]
fn closing_with_unread_data_sends_rst_instead_of_fin() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.feed(&Seg::new(80, port, ACK | PSH, peer, iss1).data(b"never read"));
    h.take_events();
    h.out();
    h.stack.tcp_release(h.now, id);
    h.expect(&[exp(RST | ACK, iss1, peer + 10, 0)]);
    assert_eq!(h.stack.stats().tcp_abort_on_close, 1);
    assert!(h.stack.tcp_info(id).is_none(), "the connection is gone");
    // Without unread data, release is a graceful FIN.
    let (mut h, id, iss1, peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_release(h.now, id);
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    assert_eq!(h.stack.stats().tcp_abort_on_close, 0);
}

#[test]
fn abort_reports_why_it_reset() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_abort(h.now, id);
    h.expect(&[exp(RST | ACK, iss1, peer, 0)]);
    assert!(h.take_events().contains(&Event::Note {
        id,
        note: Note::ResetSent(ResetReason::Aborted)
    }));
}

#[test]
fn user_timeout_gives_up_on_unacknowledged_data_at_its_deadline() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_set_user_timeout(id, SEC).unwrap();
    let t0 = SEC;
    h.at(t0);
    h.stack.tcp_send(h.now, id, b"hello").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 5)]);
    // RTO 200 ms, then 400 ms; the next (800 ms) would overshoot t0 + 1 s.
    h.at(t0 + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 5)]);
    h.at(t0 + 600 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 5)]);
    assert_eq!(h.stack.poll_at(), Some(t0 + SEC));
    h.at(t0 + SEC - 1);
    assert_eq!(h.state(id), State::Established);
    h.at(t0 + SEC);
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(
        closed_with(&h.take_events(), id),
        Some(Some(Error::TimedOut))
    );
    assert_eq!(h.stack.stats().tcp_abort_on_timeout, 1);
    let _ = port;
}

#[test]
fn user_timeout_counts_from_the_last_progress() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_set_user_timeout(id, SEC).unwrap();
    h.at(SEC);
    h.stack.tcp_send(h.now, id, &[1u8; 2920]).unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1, peer, 1460),
        exp(ACK | PSH, iss1 + 1460, peer, 1460),
    ]);
    // Half is acknowledged 900 ms later: the clock restarts there.
    h.at(SEC + 200 * MS);
    h.out();
    h.at(SEC + 900 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1460));
    let progress = h.now;
    h.at(progress + SEC - 1);
    h.out();
    assert_eq!(h.state(id), State::Established);
    h.at(progress + SEC);
    assert_eq!(h.state(id), State::Closed);
}

#[test]
fn keepalive_interval_and_probe_count_are_per_socket() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1460, 65535);
    h.stack.tcp_set_keepalive(id, Some(10 * SEC)).unwrap();
    h.stack.tcp_set_keepalive_probes(id, SEC, 3).unwrap();
    let start = h.now;
    for i in 0..3 {
        h.at(start + 10 * SEC + i * SEC);
        h.expect(&[exp(ACK, iss1 - 1, peer, 0)]);
    }
    h.at(start + 13 * SEC - 1);
    assert_eq!(h.state(id), State::Established);
    h.at(start + 13 * SEC);
    h.silent();
    assert_eq!(
        closed_with(&h.take_events(), id),
        Some(Some(Error::TimedOut))
    );
    assert!(h.stack.tcp_set_keepalive_probes(id, 0, 3).is_err());
}

#[test]
fn keepalive_probe_answered_by_a_restarted_peer_resets() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_set_keepalive(id, Some(10 * SEC)).unwrap();
    let start = h.now;
    h.at(start + 10 * SEC);
    let probe = h.expect(&[exp(ACK, iss1 - 1, peer, 0)]);
    // A peer with no memory of the connection answers the probe's ACK
    // field with a RST at that sequence number (RFC 9293 §3.10.7.1).
    h.feed(&Seg::new(80, port, RST, probe[0].ack, 0));
    assert_eq!(
        closed_with(&h.take_events(), id),
        Some(Some(Error::ConnectionReset))
    );
}
