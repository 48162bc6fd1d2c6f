//! Timestamps (RFC 7323 §3–5): negotiated on the SYN exchange; TSval is a
//! per-connection offset plus milliseconds; TSecr echoes TS.Recent, which
//! only segments at or before our last ACK may update; RTT samples from
//! TSecr survive retransmissions; PAWS drops (and ACKs) segments with an
//! older TSval unless TS.Recent has been idle for more than 24 days.

mod common;
use common::*;
use tunstack_core::{Event, State};

/// A connection opened actively with timestamps; returns the harness,
/// id, our ISS+1, the peer's ISS+1, our port and our TSval offset (our
/// SYN left at t = 0, so its TSval is the offset).
fn ts_connected() -> (Harness, tunstack_core::SocketId, u32, u32, u16, u32) {
    let (h, id, iss1, peer, port, syn) =
        connected_with(config(), |s| s.mss(1460).ts(1000, 0).win(65535));
    let (offset, ecr) = syn.ts.expect("our SYN offers timestamps");
    assert_eq!(ecr, 0, "nothing to echo yet");
    (h, id, iss1, peer, port, offset)
}

#[test]
fn negotiated_only_when_both_syns_carry_the_option() {
    // Passive open, the peer offers: the SYN-ACK echoes its TSval.
    let (h, _l, id, _iss1, _peer, synack) =
        accepted_with(config(), |s| s.mss(1460).ts(777, 0), |s| s.ts(778, 0));
    let (_, ecr) = synack.ts.expect("SYN-ACK with timestamps");
    assert_eq!(ecr, 777);
    let info = h.stack.tcp_info(id).unwrap();
    assert!(info.timestamps);
    assert_eq!(info.mss, 1448, "12 bytes of every segment go to the option");
    // The peer does not offer: no option anywhere, full-size segments.
    let (mut h, _l, id, iss1, peer, synack) = accepted_with(config(), |s| s.mss(1460), |s| s);
    assert_eq!(synack.ts, None);
    assert!(!h.stack.tcp_info(id).unwrap().timestamps);
    h.stack.tcp_send(h.now, id, &[0u8; 2920]).unwrap();
    let segs = h.expect(&[
        exp(ACK | PSH, iss1, peer, 1460),
        exp(ACK | PSH, iss1 + 1460, peer, 1460),
    ]);
    assert!(segs.iter().all(|s| s.ts.is_none()));
    // Active open, the peer's SYN-ACK has none: not in use either.
    let (h, id, ..) = connected(config(), 1460, 65535);
    assert!(!h.stack.tcp_info(id).unwrap().timestamps);
}

#[test]
fn tsval_ticks_in_milliseconds_and_tsecr_echoes_the_earliest_unacked_segment() {
    let (mut h, id, iss1, peer, port, offset) = ts_connected();
    // The ACK of the SYN-ACK (at 10 ms) already echoed the peer's 1000.
    h.at(500 * MS);
    h.stack.tcp_send(h.now, id, &[1u8; 2896]).unwrap();
    let segs = h.expect(&[
        exp(ACK | PSH, iss1, peer, 1448),
        exp(ACK | PSH, iss1 + 1448, peer, 1448),
    ]);
    for s in &segs {
        assert_eq!(s.ts, Some((offset + 500, 1000)), "{s:?}");
    }
    // Two segments from the peer before we ACK (RFC 7323 §4.3 case A):
    // the ACK echoes the first one's TSval, so the peer's RTT includes
    // our ACK delay.
    h.at(520 * MS);
    h.feed(
        &Seg::new(80, port, ACK, peer, iss1 + 2896)
            .ts(1050, offset + 500)
            .data(&[2; 1448]),
    );
    h.silent();
    h.at(521 * MS);
    h.feed(
        &Seg::new(80, port, ACK, peer + 1448, iss1 + 2896)
            .ts(1051, offset + 500)
            .data(&[3; 1448]),
    );
    let ack = h.expect(&[exp(ACK, iss1 + 2896, peer + 2896, 0)]);
    assert_eq!(ack[0].ts, Some((offset + 521, 1050)));
    // Out of order (case C): a segment after a hole does not update
    // TS.Recent; the one filling the hole does.
    h.at(530 * MS);
    h.feed(
        &Seg::new(80, port, ACK, peer + 3896, iss1 + 2896)
            .ts(1062, offset + 500)
            .data(&[5; 1000]),
    );
    let dup = h.expect(&[exp(ACK, iss1 + 2896, peer + 2896, 0)]);
    assert_eq!(dup[0].ts, Some((offset + 530, 1050)), "echo unchanged");
    h.feed(
        &Seg::new(80, port, ACK, peer + 2896, iss1 + 2896)
            .ts(1063, offset + 500)
            .data(&[4; 1000]),
    );
    let ack = h.expect(&[exp(ACK, iss1 + 2896, peer + 4896, 0)]);
    assert_eq!(ack[0].ts, Some((offset + 530, 1063)));
    assert_eq!(h.state(id), State::Established);
}

#[test]
fn tsecr_gives_an_rtt_sample_for_a_retransmission() {
    let (mut h, id, iss1, peer, port, offset) = ts_connected();
    let srtt = h.stack.tcp_info(id).unwrap().srtt_us;
    assert_eq!(srtt, 10 * MS, "the SYN was timed");
    h.at(SEC);
    h.stack.tcp_send(h.now, id, b"lost").unwrap();
    h.out();
    // RTO (200 ms): the retransmission carries a new TSval.
    h.at(SEC + 200 * MS);
    let rtx = h.expect(&[exp(ACK | PSH, iss1, peer, 4)]);
    assert_eq!(rtx[0].ts.map(|t| t.0), Some(offset + 1200));
    // Its ACK comes 50 ms later and echoes that TSval: without timestamps
    // Karn's rule would forbid a sample, with them it is unambiguous.
    h.at(SEC + 250 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 4).ts(2000, offset + 1200));
    let info = h.stack.tcp_info(id).unwrap();
    // RFC 6298: SRTT = 7/8 · 10 ms + 1/8 · 50 ms.
    assert_eq!(info.srtt_us, 15 * MS);
    assert_eq!(info.backoff, 0);

    // Again, but the ACK that comes echoes a TSval from before the
    // retransmission (the peer took our resend as a duplicate, its
    // TS.Recent stayed): it measures the timeout, not the path. No sample.
    h.at(2 * SEC);
    h.stack.tcp_send(h.now, id, b"again").unwrap();
    h.out();
    h.at(2 * SEC + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1 + 4, peer, 5)]);
    h.at(2 * SEC + 220 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 9).ts(2001, offset + 2000));
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.srtt_us, 15 * MS, "the 220 ms 'sample' was refused");
    assert_eq!((info.backoff, info.bytes_in_flight), (0, 0));
}

#[test]
fn paws_drops_and_acks_a_segment_with_an_old_timestamp() {
    let (mut h, id, iss1, peer, port, offset) = ts_connected();
    h.at(100 * MS);
    h.feed(
        &Seg::new(80, port, ACK, peer, iss1)
            .ts(1100, offset)
            .data(b"new"),
    );
    h.at(140 * MS);
    h.expect(&[exp(ACK, iss1, peer + 3, 0)]);
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    // An old duplicate from a previous wrap of the sequence space: in
    // window, but its TSval (1098) is older than TS.Recent (1100) by more
    // than the one tick Linux forgives (TCP_PAWS_WINDOW).
    h.feed(
        &Seg::new(80, port, ACK, peer + 3, iss1)
            .ts(1098, offset)
            .data(b"old"),
    );
    let ack = h.expect(&[exp(ACK, iss1, peer + 3, 0)]);
    assert_eq!(ack[0].ts, Some((offset + 140, 1100)));
    assert_eq!(h.stack.stats().tcp_paws_rejected, 1);
    assert!(h.take_events().is_empty(), "nothing delivered");
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_received, 3);
    // The same bytes only one tick behind TS.Recent — reordered, not
    // old — are taken.
    h.feed(
        &Seg::new(80, port, ACK, peer + 3, iss1)
            .ts(1099, offset)
            .data(b"now"),
    );
    h.at(180 * MS);
    h.expect(&[exp(ACK, iss1, peer + 6, 0)]);
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100).unwrap();
    assert_eq!(buf, b"newnow");
    // A RST is never subject to PAWS (RFC 7323 §5.3 R1).
    h.feed(&Seg::new(80, port, RST, peer + 6, 0).ts(5, 0));
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.stack.stats().tcp_paws_rejected, 1);
}

#[test]
fn paws_forgets_a_ts_recent_idle_for_more_than_24_days() {
    let (mut h, id, iss1, peer, port, offset) = ts_connected();
    let day = 24 * 3600 * SEC;
    // 24 days of silence: TS.Recent (1000) still judges.
    h.at(24 * day);
    h.feed(
        &Seg::new(80, port, ACK, peer, iss1)
            .ts(900, offset)
            .data(b"x"),
    );
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.stack.stats().tcp_paws_rejected, 1);
    // A day more and it is too old to compare with (the peer's clock may
    // have wrapped): the segment is accepted and its TSval becomes TS.Recent.
    h.at(25 * day);
    h.feed(
        &Seg::new(80, port, ACK, peer, iss1)
            .ts(900, offset)
            .data(b"y"),
    );
    h.at(25 * day + 40 * MS);
    let ack = h.expect(&[exp(ACK, iss1, peer + 1, 0)]);
    assert_eq!(ack[0].ts.map(|t| t.1), Some(900));
    assert_eq!(h.stack.stats().tcp_paws_rejected, 1);
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_received, 1);
}

#[test]
fn time_wait_is_reused_by_a_syn_with_a_newer_timestamp() {
    let (mut h, l, id, iss1, peer, synack) =
        accepted_with(config(), |s| s.mss(1460).ts(100, 0), |s| s.ts(101, 0));
    let (ours, _) = synack.ts.unwrap();
    // We close first: TIME_WAIT is on our side, TS.Recent = 200.
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer, iss1 + 1).ts(200, ours));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.state(id), State::TimeWait);
    h.stack.tcp_release(h.now, id);
    // A higher sequence number but an older timestamp: an old duplicate
    // (RFC 6191), PAWS answers it and TIME_WAIT stays.
    h.feed(&Seg::new(40000, 80, SYN, peer + 100_000, 0).ts(150, 0));
    h.expect(&[exp(ACK, iss1 + 1, peer + 1, 0)]);
    assert_eq!(h.stack.stats().tcp_paws_rejected, 1);
    // A lower sequence number (the client's ISN clock wrapped, say) but a
    // newer timestamp: a new incarnation, TIME_WAIT ends.
    h.at(SEC);
    h.feed(&Seg::new(40000, 80, SYN, peer - 10, 0).mss(1460).ts(300, 0));
    let synack = h.out();
    assert_eq!(synack.len(), 1, "{synack:?}");
    assert_eq!((synack[0].flags, synack[0].ack), (SYN | ACK, peer - 9));
    assert_eq!(synack[0].ts.map(|t| t.1), Some(300));
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 1);
}
