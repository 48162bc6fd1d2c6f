//! Scripted data transfer: ACKs, segmentation at the MSS, piggybacking,
//! Nagle, out-of-order reassembly, duplicates, RST rules.

mod common;
use common::*;
use std::net::SocketAddrV4;
use tunstack_core::{Error, Event, State};

#[test]
fn data_is_acked_and_delivered_in_order() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer, iss1).data(b"hello"));
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    // One small segment: the ACK waits for the delayed-ACK timer.
    h.silent();
    let t = h.now;
    h.at(t + 40 * MS);
    let ack = h.expect(&[exp(ACK, iss1, peer + 5, 0)]);
    // The peer offered no window scaling, so the window is capped at
    // 65535; unread data shrinks it and SWS avoidance keeps the right
    // edge where it was.
    assert_eq!(ack[0].window, 65535 - 5);
    // A second segment before reading: no second Readable edge.
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer + 5, iss1).data(b" world"));
    h.silent();
    h.at(t + 80 * MS);
    h.expect(&[exp(ACK, iss1, peer + 11, 0)]);
    assert!(h.take_events().is_empty());
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 100), Ok(11));
    assert_eq!(buf, b"hello world");
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 100), Ok(0));
    assert!(!h.stack.tcp_at_eof(id));
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.bytes_received, 11);
}

#[test]
fn sends_are_cut_at_the_mss_and_bounded_by_the_peer_window() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 2500);
    let data: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(4000));
    // Window 2500: two full segments; the 500 bytes left in the window are
    // less than half the largest window seen, so sender SWS avoidance
    // waits for the ACK clock instead of sending a runt.
    let segs = h.expect(&[
        exp(ACK | PSH, iss1, peer, 1000),
        exp(ACK | PSH, iss1 + 1000, peer, 1000),
    ]);
    assert_eq!(segs[1].payload, data[1000..2000]);
    // The MSS option is for SYNs only (RFC 9293 MUST-65).
    assert!(segs.iter().all(|s| s.mss.is_none()));
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_in_flight, 2000);
    h.at(50 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(2500));
    let segs = h.expect(&[
        exp(ACK | PSH, iss1 + 2000, peer, 1000),
        exp(ACK | PSH, iss1 + 3000, peer, 1000),
    ]);
    assert_eq!(segs[1].payload, data[3000..]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 4000).win(2500));
    h.silent();
    let ev = h.take_events();
    assert!(ev.contains(&Event::Flushed { id }), "{ev:?}");
    assert_eq!(h.stack.poll_at(), None, "nothing outstanding, no timer");
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_acked, 4000);
}

#[test]
fn acks_piggyback_on_data() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.feed(&Seg::new(80, port, ACK | PSH, peer, iss1).data(b"request"));
    // The ACK is delayed in the hope of a reply to carry it...
    h.silent();
    h.at(h.now + 5 * MS);
    // ...which comes: data queued now carries the current ACK,
    let sent = h.now;
    h.stack.tcp_send(h.now, id, b"response").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer + 7, 8)]);
    // and no separate ACK follows: the only timer left is the data's
    // retransmission timer.
    assert_eq!(h.stack.poll_at(), Some(sent + 200 * MS));
    h.at(sent + 100 * MS);
    h.silent();
}

#[test]
fn nagle_holds_small_segments_while_data_is_unacked() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"a").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    h.stack.tcp_send(h.now, id, b"b").unwrap();
    h.stack.tcp_send(h.now, id, b"c").unwrap();
    h.silent();
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
    h.expect(&[exp(ACK | PSH, iss1 + 1, peer, 2)]);
    // With TCP_NODELAY every write goes at once.
    h.stack.tcp_set_nodelay(id, true).unwrap();
    h.stack.tcp_send(h.now, id, b"d").unwrap();
    h.stack.tcp_send(h.now, id, b"e").unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1 + 3, peer, 1),
        exp(ACK | PSH, iss1 + 4, peer, 1),
    ]);
}

#[test]
fn out_of_order_segments_are_reassembled() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    // Segments 2 and 3 arrive first: each is held and answered with a
    // duplicate ACK for the hole.
    h.feed(&Seg::new(40000, 80, ACK, peer + 200, iss1).data(&data[200..]));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    h.feed(&Seg::new(40000, 80, ACK, peer + 100, iss1).data(&data[100..200]));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert!(h.take_events().is_empty(), "nothing readable yet");
    assert_eq!(h.stack.stats().tcp_ofo_queued, 2);
    // The hole fills: one cumulative ACK covers everything.
    h.feed(&Seg::new(40000, 80, ACK, peer, iss1).data(&data[..100]));
    h.expect(&[exp(ACK, iss1, peer + 300, 0)]);
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 1000), Ok(300));
    assert_eq!(buf, data);
}

#[test]
fn out_of_order_fin_is_held_until_the_hole_fills() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer + 5, iss1).data(b"world"));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::Established);
    h.feed(&Seg::new(40000, 80, ACK, peer, iss1).data(b"hello"));
    h.expect(&[exp(ACK, iss1, peer + 11, 0)]);
    assert_eq!(h.state(id), State::CloseWait);
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100).unwrap();
    assert_eq!(buf, b"helloworld");
    assert!(h.stack.tcp_at_eof(id));
}

#[test]
fn duplicate_segments_are_discarded_and_acked() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK, peer, iss1).data(b"abc"));
    h.silent(); // a delayed ACK
                // A duplicate means our ACK may have been lost: ACK at once.
    h.feed(&Seg::new(40000, 80, ACK, peer, iss1).data(b"abc"));
    h.expect(&[exp(ACK, iss1, peer + 3, 0)]);
    // Partly new: only the new part is kept, and the ACK is immediate too.
    h.feed(&Seg::new(40000, 80, ACK, peer + 1, iss1).data(b"bcde"));
    h.expect(&[exp(ACK, iss1, peer + 5, 0)]);
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100).unwrap();
    assert_eq!(buf, b"abcde");
    assert!(h.stack.stats().tcp_dup_segs >= 1);
}

#[test]
fn ack_of_unsent_data_is_answered_with_an_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK, peer, iss1 + 100).data(b"x"));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::Established);
}

#[test]
fn segment_outside_the_window_is_answered_with_an_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, ACK, peer + 70_000, iss1).data(b"far"));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert!(h.take_events().is_empty());
    assert_eq!(h.state(id), State::Established);
}

#[test]
fn rst_to_closed_port_follows_rfc9293() {
    let mut h = Harness::new(config());
    // No ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN counts 1.
    h.feed(&Seg::new(40000, 81, SYN, 500, 0));
    h.expect(&[exp(RST | ACK, 0, 501, 0)]);
    h.feed(&Seg::new(40000, 81, PSH, 500, 0).data(b"0123456789"));
    h.expect(&[exp(RST | ACK, 0, 510, 0)]);
    h.feed(&Seg::new(40000, 81, FIN, 700, 0).data(b"xy"));
    h.expect(&[exp(RST | ACK, 0, 703, 0)]);
    // ACK bit: <SEQ=SEG.ACK><CTL=RST>.
    h.feed(&Seg::new(40000, 81, ACK, 7, 12345));
    h.expect(&[exp(RST, 12345, 0, 0)]);
    h.feed(&Seg::new(40000, 81, ACK | PSH, 7, 99).data(b"zz"));
    h.expect(&[exp(RST, 99, 0, 0)]);
    // Never a RST for a RST.
    h.feed(&Seg::new(40000, 81, RST, 7, 0));
    h.feed(&Seg::new(40000, 81, RST | ACK, 7, 9));
    h.silent();
    assert_eq!(h.stack.stats().tcp_out_rsts, 5);
}

#[test]
fn exact_rst_resets_inexact_rst_draws_a_challenge_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, RST, peer + 10, 0));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::Established);
    h.feed(&Seg::new(40000, 80, RST, peer + 100_000, 0));
    h.silent();
    h.feed(&Seg::new(40000, 80, RST, peer, 0));
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::ConnectionReset)
        }),
        "{ev:?}"
    );
    let mut buf = Vec::new();
    assert_eq!(
        h.stack.tcp_recv(h.now, id, &mut buf, 10),
        Err(Error::ConnectionReset)
    );
    assert_eq!(
        h.stack.tcp_send(h.now, id, b"x"),
        Err(Error::ConnectionReset)
    );
    // The 4-tuple is free: a new SYN from the same port gets a fresh handshake.
    h.stack.tcp_release(h.now, id);
    assert_eq!(h.stack.tcp_info(id), None);
}

#[test]
fn syn_on_an_established_connection_draws_a_challenge_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&Seg::new(40000, 80, SYN, peer + 5, 0));
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::Established);
}

#[test]
fn abort_sends_rst() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.stack.tcp_send(h.now, id, b"pending").unwrap();
    h.out();
    h.stack.tcp_abort(h.now, id);
    h.expect(&[exp(RST | ACK, iss1 + 7, peer, 0)]);
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.stack.poll_at(), None);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Closed { id, error: None }), "{ev:?}");
}

#[test]
fn send_buffer_is_bounded_and_writable_follows() {
    let mut c = config();
    c.tcp.send_buffer = 3000;
    let (mut h, id, iss1, peer, port) = connected(c, 1000, 65535);
    let data = vec![7u8; 5000];
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(3000));
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(0));
    assert_eq!(h.out().len(), 3);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    assert!(
        h.take_events().is_empty(),
        "a third free is not enough to wake the writer"
    );
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000));
    assert_eq!(h.take_events(), vec![Event::Writable { id }]);
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(2000));
}

#[test]
fn ephemeral_ports_skip_tuples_in_use() {
    let mut h = Harness::new(config());
    let mut ports = std::collections::HashSet::new();
    for _ in 0..200 {
        let id = h
            .stack
            .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
            .unwrap();
        let p = h.stack.local_addr(id).unwrap().port();
        assert!((32768..=60999).contains(&p));
        assert!(ports.insert(p), "port {p} handed out twice");
    }
    let mut c = config();
    c.tcp.ephemeral_first = 50000;
    c.tcp.ephemeral_last = 50001;
    let mut h = Harness::new(c);
    h.stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    h.stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    assert_eq!(
        h.stack.tcp_connect(0, SocketAddrV4::new(PEER, 80), None),
        Err(Error::AddrNotAvailable)
    );
    // Another destination can reuse the same local ports.
    assert!(h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 81), None)
        .is_ok());
}
