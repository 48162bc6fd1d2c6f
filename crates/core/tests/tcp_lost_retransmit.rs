//! A retransmission lost during SACK recovery is sent again as soon as the
//! peer SACKs more than DupThresh − 1 segments sent after it (the RACK idea,
//! RFC 8985, in sequence space), not after a retransmission timeout. On a
//! lossy path (the TUN test at 2 % loss) these timeouts were most of the
//! transfer time.

mod common;
use common::*;
use tunstack_core::{CongestionAlgorithm, Event};

const MSS: u32 = 1000;

#[test]
fn a_lost_fast_retransmission_is_resent_without_a_timeout() {
    let mut c = config();
    c.tcp.congestion_control = CongestionAlgorithm::Reno;
    let (mut h, id, iss1, peer, port, _) =
        connected_with(c, |s| s.mss(MSS as u16).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[7u8; 20_000]).unwrap();
    assert_eq!(h.out().len(), 10, "initial window");
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    // Segment 0 is lost; the others arrive and are SACKed one by one.
    let dup = |top: u32| Seg::new(80, port, ACK, peer, iss1).sack(&[ours(1000, top)]);
    h.at(h.now + 20 * MS);
    h.feed(&dup(2000));
    h.feed(&dup(3000));
    // Limited transmit (RFC 3042): one new segment per duplicate ACK.
    h.expect(&[
        exp(ACK | PSH, iss1 + 10_000, peer, 1000),
        exp(ACK | PSH, iss1 + 11_000, peer, 1000),
    ]);
    // Third duplicate ACK: fast retransmit of segment 0, with everything
    // below 12 000 sent before it.
    h.feed(&dup(4000));
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    let mark = 12_000;
    // The rest arrives; as the pipe drains, new data goes out after the
    // retransmission.
    let mut sent_after = Vec::new();
    for top in (5..=12).map(|k| k * 1000) {
        h.feed(&dup(top));
        sent_after.extend(h.out().into_iter().map(|s| s.seq.wrapping_sub(iss1)));
    }
    assert!(
        sent_after.len() >= 3 && sent_after.iter().all(|&s| s >= mark),
        "new data after the retransmission: {sent_after:?}"
    );
    // The retransmission of segment 0 is lost too. Two segments sent
    // after it arrive: that could still be reordering, so nothing yet.
    h.feed(&dup(mark + 1000));
    h.feed(&dup(mark + 2000));
    let segs = h.out();
    assert!(
        segs.iter().all(|s| s.seq != iss1),
        "resent too early: {segs:?}"
    );
    assert_eq!(h.stack.stats().tcp_lost_retransmit, 0);
    // A third one: the retransmission is deemed lost and sent again at
    // once, long before the 200 ms minimum RTO.
    h.take_events();
    h.feed(&dup(mark + 3000));
    let segs = h.out();
    let again: Vec<_> = segs.iter().filter(|s| s.seq == iss1).collect();
    assert_eq!(again.len(), 1, "{segs:?}");
    assert_eq!(again[0].payload.len(), MSS as usize);
    assert!(h.take_events().iter().any(|e| matches!(
        e,
        Event::Retransmit { seq, attempt: 0, .. } if *seq == iss1
    )));
    let stats = h.stack.stats();
    assert_eq!((stats.tcp_lost_retransmit, stats.tcp_timeouts), (1, 0));
    // The second copy arrives: one cumulative ACK covers everything
    // SACKed and the recovery goes on with no timeout.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + mark + 3000));
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.sacked_bytes, 0);
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}

#[test]
fn without_evidence_the_timer_still_decides() {
    // Nothing is sent after the retransmission (no more data): no SACK can
    // show it lost, so only the retransmission timer resends it.
    let (mut h, id, iss1, peer, port, _) =
        connected_with(config(), |s| s.mss(MSS as u16).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[7u8; 5000]).unwrap();
    assert_eq!(h.out().len(), 5);
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    h.at(h.now + 20 * MS);
    for top in [2000, 3000, 4000] {
        h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(1000, top)]));
    }
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(1000, 5000)]));
    let segs = h.out();
    assert!(segs.iter().all(|s| s.seq != iss1), "{segs:?}");
    assert_eq!(h.stack.stats().tcp_lost_retransmit, 0);
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    h.at(h.now + rto);
    let segs = h.out();
    assert!(segs.iter().any(|s| s.seq == iss1), "{segs:?}");
    assert_eq!(h.stack.stats().tcp_timeouts, 1);
}
