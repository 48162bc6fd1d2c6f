//! Tail loss probe (RFC 8985 §7): when a flight goes unanswered — its last
//! segments lost, or the one stretch ACK a Linux receiver sends for a
//! burst — a probe goes out after about two round trips instead of
//! waiting at least 200 ms for the RTO and collapsing cwnd to one segment.

mod common;
use common::*;
use tunstack_core::{SocketId, StackConfig};

const MSS: u32 = 1000;

/// Established with SACK; the SYN-ACK came back after 10 ms, so SRTT is
/// 10 ms and the PTO of a multi-segment flight 2·10 + 2 = 22 ms.
fn sack_connection(config: StackConfig) -> (Harness, SocketId, u32, u32, u16) {
    let (h, id, iss1, peer, port, _) =
        connected_with(config, |s| s.mss(MSS as u16).sack_perm().win(65535));
    assert_eq!(h.stack.tcp_info(id).unwrap().srtt_us, 10 * MS);
    (h, id, iss1, peer, port)
}

#[test]
fn a_lost_stretch_ack_is_answered_by_a_probe_of_new_data() {
    let (mut h, id, iss1, peer, port) = sack_connection(config());
    h.stack.tcp_send(h.now, id, &[1u8; 30_000]).unwrap();
    assert_eq!(h.out().len(), 10, "initial window");
    let sent = h.now;
    // The peer's one ACK for the whole burst is lost: nothing comes back.
    h.at(sent + 22 * MS - 1);
    h.silent();
    h.at(sent + 22 * MS);
    // The probe: the next new segment, beyond cwnd.
    h.expect(&[exp(ACK | PSH, iss1 + 10_000, peer, 1000)]);
    assert_eq!(h.stack.stats().tcp_loss_probes, 1);
    // One probe per flight.
    h.at(sent + 100 * MS);
    h.silent();
    // Its ACK covers everything: no timeout, no retransmission, and the
    // window was never cut.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 11_000));
    // Slow start goes on: the stretch ACK of 11 segments grows cwnd to 21
    // (every byte counts, as in Linux), enough for all 19 left.
    assert_eq!(h.out().len(), 19);
    let stats = h.stack.stats();
    assert_eq!((stats.tcp_timeouts, stats.tcp_retrans_segs), (0, 0));
    assert!(h.stack.tcp_info(id).unwrap().cwnd > 10 * MSS);
}

#[test]
fn with_nothing_new_the_last_segment_is_probed() {
    let (mut h, id, iss1, peer, port) = sack_connection(config());
    h.stack.tcp_send(h.now, id, &[1u8; 5000]).unwrap();
    assert_eq!(h.out().len(), 5);
    let sent = h.now;
    h.at(sent + 22 * MS);
    h.expect(&[exp(ACK | PSH, iss1 + 4000, peer, 1000)]);
    let stats = h.stack.stats();
    assert_eq!((stats.tcp_loss_probes, stats.tcp_retrans_segs), (1, 1));
    // Segment 4 was the one lost: the probe's ACK completes the transfer.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 5000));
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_in_flight, 0);
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}

#[test]
fn a_single_segment_waits_for_a_delayed_ack_and_the_rto_still_backs_it() {
    let (mut h, id, iss1, peer, _port) = sack_connection(config());
    h.stack.tcp_send(h.now, id, &[1u8; 500]).unwrap();
    h.out();
    let sent = h.now;
    // One segment: its ACK may be delayed, so the PTO is 2·SRTT + 200 ms
    // — later than the RTO here (SRTT + 4·RTTVAR, at least 200 ms), so
    // the timer that fires is the RTO.
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    assert!(rto < 2 * 10 * MS + 200 * MS);
    h.at(sent + rto - 1);
    h.silent();
    h.at(sent + rto);
    h.expect(&[exp(ACK | PSH, iss1, peer, 500)]);
    let stats = h.stack.stats();
    assert_eq!((stats.tcp_loss_probes, stats.tcp_timeouts), (0, 1));
}

#[test]
fn without_sack_or_when_disabled_there_is_no_probe() {
    let mut c = config();
    c.tcp.tail_loss_probe = false;
    let (mut h, id, ..) = sack_connection(c);
    h.stack.tcp_send(h.now, id, &[1u8; 5000]).unwrap();
    h.out();
    h.at(h.now + 100 * MS);
    h.silent();
    assert_eq!(h.stack.stats().tcp_loss_probes, 0);

    let (mut h, id, ..) = connected(config(), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[1u8; 5000]).unwrap();
    h.out();
    h.at(h.now + 100 * MS);
    h.silent();
    assert_eq!(h.stack.stats().tcp_loss_probes, 0);
}

#[test]
fn in_sack_recovery_a_silent_flight_is_probed_too() {
    let (mut h, id, iss1, peer, port) = sack_connection(config());
    h.stack.tcp_send(h.now, id, &[1u8; 30_000]).unwrap();
    assert_eq!(h.out().len(), 10);
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    // Segment 0 is lost; three SACKs start the recovery (limited transmit
    // sends two new segments on the way).
    h.at(h.now + 10 * MS);
    for top in [2000, 3000, 4000] {
        h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(1000, top)]));
    }
    let segs = h.out();
    assert!(
        segs.iter().any(|s| s.seq == iss1),
        "fast retransmit: {segs:?}"
    );
    assert_eq!(h.stack.stats().tcp_loss_probes, 0);
    // Then silence: the stretch ACK for the rest of the flight is lost.
    let last = h.now;
    h.at(last + 22 * MS);
    let probe = h.out();
    assert_eq!(probe.len(), 1, "{probe:?}");
    assert_eq!(h.stack.stats().tcp_loss_probes, 1);
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}
