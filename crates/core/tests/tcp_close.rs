//! Scripted closes: four-way close with TIME_WAIT of exactly 2×MSL, the
//! passive side's CLOSE_WAIT/LAST_ACK, simultaneous close, half-close,
//! orphaned connections after release.

mod common;
use common::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{Error, Event, ListenOptions, SocketId, State};

fn transitions(ev: &[Event], id: SocketId) -> Vec<(State, State)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::StateChanged { id: i, from, to } if *i == id => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

#[test]
fn active_close_four_way_with_time_wait_of_exactly_two_msl() {
    let mut c = config();
    c.tcp.msl = 5 * SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::FinWait1);
    h.at(20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
    h.silent();
    assert_eq!(h.state(id), State::FinWait2);
    let mut ev = h.take_events();
    assert!(
        ev.contains(&Event::Flushed { id }),
        "FIN acknowledged: {ev:?}"
    );
    h.at(30 * MS);
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 1));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::TimeWait);
    assert!(h.stack.tcp_at_eof(id));
    let entered = h.now;
    assert_eq!(h.stack.poll_at(), Some(entered + 10 * SEC));
    ev.extend(h.take_events());
    assert_eq!(
        transitions(&ev, id),
        vec![
            (State::Established, State::FinWait1),
            (State::FinWait1, State::FinWait2),
            (State::FinWait2, State::TimeWait)
        ]
    );
    assert!(
        ev.contains(&Event::Closed { id, error: None }),
        "the user's socket is done at TIME_WAIT"
    );
    // A retransmitted FIN in TIME_WAIT is ACKed again and restarts 2MSL.
    h.at(entered + SEC);
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 1));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    let restarted = h.now;
    h.at(restarted + 10 * SEC - 1);
    assert_eq!(h.state(id), State::TimeWait);
    h.at(restarted + 10 * SEC);
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(
        transitions(&h.take_events(), id),
        vec![(State::TimeWait, State::Closed)]
    );
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn passive_close_close_wait_then_last_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer, iss1));
    h.expect(&[exp(ACK, iss1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::CloseWait);
    assert_eq!(
        h.take_events(),
        vec![
            Event::StateChanged {
                id,
                from: State::Established,
                to: State::CloseWait
            },
            Event::Readable { id }
        ]
    );
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 10), Ok(0));
    assert!(h.stack.tcp_at_eof(id));
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::LastAck);
    h.feed(&Seg::new(40000, 80, ACK, peer + 1, iss1 + 1));
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    let ev = h.take_events();
    assert_eq!(
        transitions(&ev, id),
        vec![
            (State::CloseWait, State::LastAck),
            (State::LastAck, State::Closed)
        ]
    );
    assert!(ev.contains(&Event::Closed { id, error: None }));
    assert_eq!(
        h.stack.poll_at(),
        None,
        "the passive closer has no TIME_WAIT"
    );
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut c = config();
    c.tcp.msl = SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::Closing);
    h.at(h.now + 5 * MS);
    h.feed(&Seg::new(80, port, ACK, peer + 1, iss1 + 1));
    assert_eq!(h.state(id), State::TimeWait);
    let t = h.now;
    assert_eq!(
        transitions(&h.take_events(), id),
        vec![
            (State::Established, State::FinWait1),
            (State::FinWait1, State::Closing),
            (State::Closing, State::TimeWait)
        ]
    );
    assert_eq!(h.stack.poll_at(), Some(t + 2 * SEC));
    h.at(t + 2 * SEC);
    assert_eq!(h.state(id), State::Closed);
}

#[test]
fn half_close_data_keeps_flowing_after_the_peer_fin() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1000, 65535);
    h.feed(&Seg::new(40000, 80, ACK | PSH | FIN, peer, iss1).data(b"last words"));
    h.expect(&[exp(ACK, iss1, peer + 11, 0)]);
    assert_eq!(h.state(id), State::CloseWait);
    let reply = vec![9u8; 2500];
    assert_eq!(h.stack.tcp_send(h.now, id, &reply), Ok(2500));
    h.expect(&[
        exp(ACK | PSH, iss1, peer + 11, 1000),
        exp(ACK | PSH, iss1 + 1000, peer + 11, 1000),
    ]);
    // Nagle holds the 500-byte tail until the ACK.
    h.feed(&Seg::new(40000, 80, ACK, peer + 11, iss1 + 2000));
    h.expect(&[exp(ACK | PSH, iss1 + 2000, peer + 11, 500)]);
    h.feed(&Seg::new(40000, 80, ACK, peer + 11, iss1 + 2500));
    h.silent();
    assert_eq!(h.state(id), State::CloseWait);
    h.stack.tcp_send(h.now, id, b"more").unwrap();
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1 + 2500, peer + 11, 4),
        exp(ACK | FIN, iss1 + 2504, peer + 11, 0),
    ]);
    assert_eq!(h.stack.tcp_send(h.now, id, b"x"), Err(Error::BrokenPipe));
}

#[test]
fn our_half_close_still_receives() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
    assert_eq!(h.state(id), State::FinWait2);
    h.feed(&Seg::new(80, port, ACK | PSH, peer, iss1 + 1).data(b"still talking"));
    h.silent();
    h.at(h.now + 40 * MS);
    h.expect(&[exp(ACK, iss1 + 1, peer + 13, 0)]);
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 100), Ok(13));
    assert_eq!(buf, b"still talking");
}

#[test]
fn fin_waits_for_queued_data() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 1000);
    h.stack.tcp_send(h.now, id, &[1u8; 1500]).unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    assert_eq!(h.state(id), State::FinWait1, "state changes at once");
    h.silent();
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000).win(1000));
    h.expect(&[exp(ACK | PSH | FIN, iss1 + 1000, peer, 500)]);
}

#[test]
fn released_connection_closes_gracefully_and_silently() {
    let mut c = config();
    c.tcp.msl = SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_send(h.now, id, b"bye").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 3)]);
    h.stack.tcp_release(h.now, id);
    h.expect(&[exp(ACK | FIN, iss1 + 3, peer, 0)]);
    assert!(h.take_events().is_empty(), "no events for an orphan");
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 4));
    h.expect(&[exp(ACK, iss1 + 4, peer + 1, 0)]);
    assert!(h.take_events().is_empty());
    assert_eq!(h.stack.netstat().len(), 1);
    assert_eq!(h.stack.netstat()[0].state, State::TimeWait);
    h.at(h.now + 2 * SEC);
    assert!(h.stack.netstat().is_empty(), "freed after TIME_WAIT");
    assert!(h.take_events().is_empty());
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn close_like_a_dying_process_fins_or_resets_where_data_is_unread() {
    // Nothing unread: FIN after the queued data, and events keep coming.
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"bye").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 3)]);
    h.stack.tcp_close(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1 + 3, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 4));
    h.expect(&[exp(ACK, iss1 + 4, peer + 1, 0)]);
    assert_eq!(
        transitions(&h.take_events(), id).last(),
        Some(&(State::FinWait2, State::TimeWait))
    );

    // Data received and never read: RST, counted as TCPAbortOnClose.
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.feed(&Seg::new(80, port, ACK | PSH, peer, iss1).data(b"unread"));
    h.take_events();
    h.out();
    h.stack.tcp_close(h.now, id).unwrap();
    h.expect(&[exp(RST | ACK, iss1, peer + 6, 0)]);
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.stack.stats().tcp_abort_on_close, 1);
}

#[test]
fn orphan_in_fin_wait_2_times_out() {
    let mut c = config();
    c.tcp.msl = SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_release(h.now, id);
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
    assert_eq!(h.stack.netstat()[0].state, State::FinWait2);
    let t = h.now;
    assert_eq!(h.stack.poll_at(), Some(t + 2 * SEC));
    h.at(t + 2 * SEC);
    assert!(h.stack.netstat().is_empty());
}

#[test]
fn orphan_receiving_data_resets() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_release(h.now, id);
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK | PSH, peer, iss1 + 1).data(b"unwanted"));
    h.expect(&[exp(RST | ACK, iss1 + 1, peer, 0)]);
    assert!(h.stack.netstat().is_empty());
}

/// An accepted connection (MSL 30 s) that we closed first, so TIME_WAIT is
/// on our (server) side, released as its owner would. Returns the
/// harness, the listener, our ISS+1 and the peer's.
fn server_in_time_wait() -> (Harness, SocketId, u32, u32) {
    let mut c = config();
    c.tcp.msl = 30 * SEC;
    let (mut h, l, id, iss1, peer) = accepted(c, 1460, 65535);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer, iss1 + 1));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::TimeWait);
    h.stack.tcp_release(h.now, id);
    (h, l, iss1, peer)
}

#[test]
fn new_syn_ends_time_wait_on_a_listening_port() {
    let (mut h, l, iss1, peer) = server_in_time_wait();
    // An old-looking SYN is just ACKed (challenge), TIME_WAIT stays.
    h.feed(&Seg::new(40000, 80, SYN, peer - 10, 0));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    // The client reuses its port with a higher ISN: a new connection.
    h.at(SEC);
    h.feed(&Seg::new(40000, 80, SYN, peer + 100_000, 0));
    let synack = h.out();
    assert_eq!(synack.len(), 1);
    assert_eq!(
        (synack[0].flags, synack[0].ack),
        (SYN | ACK, peer + 100_001)
    );
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 1);
    let states: Vec<State> = h.stack.netstat().iter().map(|n| n.state).collect();
    assert!(!states.contains(&State::TimeWait), "{states:?}");
}

#[test]
fn a_restarted_server_listens_over_time_wait_unless_reuse_address_is_off() {
    let (mut h, l, _, _) = server_in_time_wait();
    let entered = h.now;
    // The server process "exits": its listener goes, TIME_WAIT stays.
    h.stack.tcp_release(h.now, l);
    let port80 = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80);
    let strict = ListenOptions {
        reuse_address: false,
        ..ListenOptions::default()
    };
    // Without SO_REUSEADDR the TIME_WAIT connection still holds the port.
    assert_eq!(
        h.stack.tcp_listen_with(port80, 8, strict),
        Err(Error::AddrInUse)
    );
    // node:net's default (SO_REUSEADDR) listens at once.
    let l2 = h.stack.tcp_listen(port80, 8).unwrap();
    // A second live listener is refused either way.
    assert_eq!(h.stack.tcp_listen(port80, 8), Err(Error::AddrInUse));
    h.stack.tcp_release(h.now, l2);
    // Once TIME_WAIT has run out (2×MSL), even the strict bind succeeds.
    h.at(entered + 60 * SEC - 1);
    assert_eq!(
        h.stack.tcp_listen_with(port80, 8, strict),
        Err(Error::AddrInUse)
    );
    h.at(entered + 60 * SEC);
    assert!(h.stack.netstat().is_empty());
    assert!(h.stack.tcp_listen_with(port80, 8, strict).is_ok());
}

#[test]
fn packets_claiming_our_own_address_are_dropped() {
    let mut h = Harness::new(config());
    h.stack
        .tcp_listen(std::net::SocketAddrV4::new(US, 80), 1)
        .unwrap();
    let p = Seg::new(80, 80, SYN, 1, 0).to_packet(US, US);
    h.feed_raw(&p);
    h.silent();
    assert_eq!(h.stack.stats().ip_in_addr_errors, 1);
}
