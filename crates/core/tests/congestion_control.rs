//! Congestion control on virtual time: CUBIC's loss response and growth
//! curve (RFC 9438), Reno's appropriate byte counting (RFC 3465), the
//! choice of algorithm per stack and per socket (inherited from a
//! listener, switched at any time), the Congestion events at loss
//! responses, and restart after idle (RFC 5681 §4.1).

mod common;
use common::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::tcp::cc::{cubic, CongestionAlgorithm, Controller};
use tunstack_core::{CongestionCause, Event, StackConfig};

const MSS: u32 = 1000;
const SEC: u64 = 1_000_000;

/// Drive a controller in congestion avoidance: one window of ACKs (one ACK
/// per segment) per `rtt`, from `from` to `until`; returns (t, cwnd
/// segments) at the end of each round.
fn rounds(cc: &mut Controller, from: u64, until: u64, rtt: u64) -> Vec<(u64, f64)> {
    let mut t = from;
    let mut out = Vec::new();
    while t < until {
        let segs = cc.cwnd() / MSS;
        for i in 0..segs {
            cc.on_ack(t + rtt * u64::from(i) / u64::from(segs), MSS, MSS, rtt);
        }
        t += rtt;
        out.push((t, f64::from(cc.cwnd()) / f64::from(MSS)));
    }
    out
}

/// A CUBIC controller in congestion avoidance at `w` segments that has
/// just taken a loss there.
fn cubic_after_loss(w: u32) -> Controller {
    let mut cc = Controller::new(CongestionAlgorithm::Cubic, MSS);
    // Slow start to w: 10 + 2 per ACK (ABC) ... simply ACK until there.
    while cc.cwnd() < w * MSS {
        cc.on_ack(0, MSS, MSS, 0);
    }
    assert_eq!(cc.cwnd(), w * MSS);
    cc.on_sack_recovery(0, w * MSS, MSS);
    cc.on_recovery_exit(w * MSS, MSS);
    cc
}

#[test]
fn cubic_loss_leaves_seven_tenths_of_the_window() {
    let mut cc = Controller::new(CongestionAlgorithm::Cubic, MSS);
    for _ in 0..90 {
        cc.on_ack(0, MSS, MSS, 0);
    }
    assert_eq!(cc.cwnd(), 100 * MSS, "slow start: one MSS per MSS ACKed");
    cc.on_sack_recovery(0, 100 * MSS, MSS);
    assert_eq!((cc.cwnd(), cc.ssthresh()), (70 * MSS, 70 * MSS), "β = 0.7");
    assert_eq!(cc.cubic().unwrap().w_max(), 100.0);
    // NewReno-style recovery inflates from the same ssthresh.
    let mut nr = Controller::new(CongestionAlgorithm::Cubic, MSS);
    nr.on_fast_retransmit(0, 10 * MSS, MSS);
    assert_eq!(
        (nr.ssthresh(), nr.cwnd()),
        (7 * MSS, 10 * MSS),
        "ssthresh = 0.7·cwnd, cwnd = ssthresh + 3 MSS"
    );
    // A timeout: one segment, ssthresh = 0.7·cwnd, only on the first expiry.
    let mut to = Controller::new(CongestionAlgorithm::Cubic, MSS);
    to.on_rto(0, 10 * MSS, MSS, true);
    assert_eq!((to.cwnd(), to.ssthresh()), (MSS, 7 * MSS));
    to.on_rto(0, MSS, MSS, false);
    assert_eq!((to.cwnd(), to.ssthresh()), (MSS, 7 * MSS));
}

#[test]
fn cubic_grows_concave_to_w_max_at_k_then_convex() {
    // A large window on a 100 ms RTT (the Reno-friendly estimate, +0.53
    // segments per RTT, stays below the cubic): W_max = 1000,
    // K = ∛(300 / 0.4) ≈ 9.09 s.
    let mut cc = cubic_after_loss(1000);
    assert_eq!(cc.cwnd(), 700 * MSS);
    let rtt = 100_000;
    let trace = rounds(&mut cc, SEC, 20 * SEC, rtt);
    let k = cc.cubic().unwrap().k();
    assert!((k - 9.0856).abs() < 0.01, "K = {k}");
    let at = |secs: f64| {
        let t = SEC + (secs * SEC as f64) as u64;
        trace.iter().find(|(x, _)| *x >= t).unwrap().1
    };
    // Every sample follows the curve W_cubic(t + RTT) closely.
    let c = cc.cubic().unwrap().clone();
    for &s in &[1.0, 3.0, 6.0, 9.0, 12.0, 15.0] {
        let expect = c.w_cubic(s + 0.1);
        let got = at(s);
        assert!(
            (got - expect).abs() / expect < 0.02,
            "t = {s} s: cwnd {got} segments, W_cubic {expect}"
        );
    }
    // Concave below W_max: the gains shrink; it reaches W_max at t ≈ K.
    let g1 = at(2.0) - at(1.0);
    let g2 = at(5.0) - at(4.0);
    let g3 = at(8.0) - at(7.0);
    assert!(g1 > g2 && g2 > g3, "concave: {g1} > {g2} > {g3}");
    assert!(at(k - 0.5) < 1000.0);
    assert!((at(k) - 1000.0).abs() < 2.0, "W_max at K: {}", at(k));
    // Convex above it: the gains grow again.
    let h1 = at(11.0) - at(10.0);
    let h2 = at(14.0) - at(13.0);
    assert!(h2 > h1, "convex: {h1} < {h2}");
}

#[test]
fn cubic_follows_reno_where_reno_is_faster() {
    // Small window, short RTT: Reno's estimate (α = 0.53 per RTT, then 1)
    // outgrows the cubic, which needs K ≈ 2.47 s to get back to 20.
    let mut cc = cubic_after_loss(20);
    assert_eq!(cc.cwnd(), 14 * MSS);
    let rtt = 10_000;
    let trace = rounds(&mut cc, SEC, SEC + SEC / 2, rtt);
    let c = cc.cubic().unwrap();
    let (_, w) = *trace.last().unwrap();
    assert!(
        c.w_cubic(0.5) < 17.5,
        "the cubic alone would be at {}",
        c.w_cubic(0.5)
    );
    assert!(
        w > 30.0,
        "Reno-friendly region: cwnd follows W_est ({w} segments)"
    );
    assert!(
        (w - c.w_est()).abs() < 1.0,
        "cwnd {w} ≈ W_est {}",
        c.w_est()
    );
}

#[test]
fn cubic_fast_convergence_lowers_w_max() {
    let mut cc = cubic_after_loss(100);
    assert_eq!(cc.cubic().unwrap().w_max(), 100.0);
    // Another loss at 80, before W_max was regained: release bandwidth,
    // W_max = 80 · (1 + 0.7) / 2 = 68.
    rounds(&mut cc, SEC, 2 * SEC, 100_000);
    let w = cc.cwnd();
    assert!(w < 100 * MSS);
    cc.on_sack_recovery(2 * SEC, w, MSS);
    let expect = f64::from(w) / f64::from(MSS) * (1.0 + cubic::BETA) / 2.0;
    assert!((cc.cubic().unwrap().w_max() - expect).abs() < 1e-9);
    // A loss above W_max sets it to the window itself.
    let mut cc = cubic_after_loss(10);
    rounds(&mut cc, SEC, 10 * SEC, 100_000);
    let w = cc.cwnd();
    assert!(w > 10 * MSS);
    cc.on_sack_recovery(10 * SEC, w, MSS);
    assert_eq!(cc.cubic().unwrap().w_max(), f64::from(w) / f64::from(MSS));
}

#[test]
fn reno_appropriate_byte_counting() {
    let mut cc = Controller::new(CongestionAlgorithm::Reno, MSS);
    assert_eq!(cc.cwnd(), 10 * MSS, "IW = 10 (RFC 6928)");
    // By default (Linux) a stretch ACK counts every byte it covers.
    let mut linux = Controller::new(CongestionAlgorithm::Reno, MSS);
    linux.on_ack(0, 40 * MSS, MSS, 0);
    assert_eq!(linux.cwnd(), 50 * MSS);
    // With RFC 3465's L = 2 SMSS, a stretch ACK of 4 segments adds 2.
    cc.set_abc_limit(2);
    cc.on_ack(0, 4 * MSS, MSS, 0);
    assert_eq!(cc.cwnd(), 12 * MSS);
    // Small ACKs count their bytes, not one MSS each.
    for _ in 0..4 {
        cc.on_ack(0, 250, MSS, 0);
    }
    assert_eq!(cc.cwnd(), 13 * MSS);
    cc.on_sack_recovery(0, 12 * MSS, MSS);
    assert_eq!(
        (cc.cwnd(), cc.ssthresh()),
        (6 * MSS, 6 * MSS),
        "halved flight"
    );
    // Congestion avoidance: one MSS per cwnd of bytes ACKed, whatever the
    // ACK sizes.
    for _ in 0..12 {
        cc.on_ack(0, 500, MSS, 0);
    }
    assert_eq!(cc.cwnd(), 7 * MSS);
    cc.on_ack(0, 7 * MSS - 1, MSS, 0);
    assert_eq!(cc.cwnd(), 7 * MSS);
    cc.on_ack(0, 1, MSS, 0);
    assert_eq!(cc.cwnd(), 8 * MSS);
}

#[test]
fn algorithm_per_stack_per_listener_and_per_socket() {
    // Stack default: CUBIC, like Linux.
    let (mut h, id, ..) = connected(config(), 1000, 65535);
    assert_eq!(
        h.stack.tcp_info(id).unwrap().congestion_control,
        CongestionAlgorithm::Cubic
    );
    // Switched at any time; cwnd and ssthresh carry over.
    let before = h.stack.tcp_info(id).unwrap();
    h.stack
        .tcp_set_congestion_control(id, CongestionAlgorithm::Reno)
        .unwrap();
    let after = h.stack.tcp_info(id).unwrap();
    assert_eq!(after.congestion_control, CongestionAlgorithm::Reno);
    assert_eq!((after.cwnd, after.ssthresh), (before.cwnd, before.ssthresh));

    // Stack-wide Reno; a listener set to CUBIC gives its connections CUBIC.
    let mut c: StackConfig = config();
    c.tcp.congestion_control = CongestionAlgorithm::Reno;
    let (h2, _l, id2, ..) = accepted(c.clone(), 1000, 65535);
    assert_eq!(
        h2.stack.tcp_info(id2).unwrap().congestion_control,
        CongestionAlgorithm::Reno
    );
    let mut h3 = Harness::new(c);
    let l = h3
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
        .unwrap();
    h3.stack
        .tcp_set_congestion_control(l, CongestionAlgorithm::Cubic)
        .unwrap();
    h3.feed(&Seg::new(40000, 80, SYN, 1000, 0).mss(1000));
    let synack = h3.out().pop().unwrap();
    h3.feed(&Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1)));
    let child = h3.stack.tcp_accept(l).expect("accepted");
    assert_eq!(
        h3.stack.tcp_info(child).unwrap().congestion_control,
        CongestionAlgorithm::Cubic
    );
}

#[test]
fn loss_responses_are_reported_with_the_new_window() {
    // CUBIC over SACK: ten segments, the second lost.
    let (mut h, id, iss1, peer, port, _) =
        connected_with(config(), |s| s.mss(1000).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[1u8; 10_000]).unwrap();
    assert_eq!(h.out().len(), 10);
    let cwnd0 = h.stack.tcp_info(id).unwrap().cwnd;
    h.at(h.now + 20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    let ack =
        |hi: u32| Seg::new(80, port, ACK, peer, iss1 + 1000).sack(&[(iss1 + 2000, iss1 + hi)]);
    h.feed(&ack(3000));
    h.feed(&ack(4000));
    h.feed(&ack(5000));
    let info = h.stack.tcp_info(id).unwrap();
    // ABC grew cwnd by the 1000 bytes ACKed first.
    let w = cwnd0 + 1000;
    assert_eq!(info.ssthresh, (w as f64 * 0.7).round() as u32);
    assert_eq!(info.cwnd, info.ssthresh);
    assert_eq!(info.sacked_segments, 3);
    let congestion = |evs: &[Event]| -> Vec<(CongestionCause, u32, u32)> {
        evs.iter()
            .filter_map(|e| match e {
                Event::Congestion {
                    cause,
                    cwnd,
                    ssthresh,
                    ..
                } => Some((*cause, *cwnd, *ssthresh)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        congestion(&h.take_events()),
        vec![(CongestionCause::SackRecovery, info.cwnd, info.ssthresh)]
    );
    assert!(info.retrans_segments >= 1, "{info:?}");
    // Everything ACKed: recovery ends.
    h.out();
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 10_000));
    let evs = congestion(&h.take_events());
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].0, CongestionCause::RecoveryExit);
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.sacked_segments, info.retrans_segments), (0, 0));

    // A timeout (a fresh connection, IW = 10): cwnd = 1 MSS, ssthresh =
    // 0.7·cwnd (CUBIC); the head is resent, the rest waits as lost.
    let (mut h, id, ..) = connected_with(config(), |s| s.mss(1000).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[2u8; 3000]).unwrap();
    assert_eq!(h.out().len(), 3);
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    h.at(h.now + rto);
    assert_eq!(
        congestion(&h.take_events()),
        vec![(CongestionCause::Timeout, 1000, 7000)]
    );
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.lost_segments, 2, "two segments still to resend");
    assert_eq!(info.retrans_segments, 1);
}

#[test]
fn restart_after_idle_returns_to_the_restart_window() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 65535);
    // Grow cwnd beyond IW: 20 segments ACKed.
    for i in 0..2u32 {
        h.stack.tcp_send(h.now, id, &[3u8; 10_000]).unwrap();
        h.out();
        h.at(h.now + 10 * MS);
        h.feed(&Seg::new(80, port, ACK, peer, iss1 + 10_000 * (i + 1)));
        h.out();
    }
    let grown = h.stack.tcp_info(id).unwrap();
    assert!(grown.cwnd > 10_000, "{grown:?}");
    h.take_events();
    // Idle for longer than the RTO, then a burst: only IW goes out.
    h.at(h.now + 5 * grown.rto_us);
    h.stack.tcp_send(h.now, id, &[4u8; 30_000]).unwrap();
    assert_eq!(h.out().len(), 10, "restart window = IW");
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.cwnd, 10_000);
    assert_eq!(info.ssthresh, u32::MAX, "no loss: ssthresh stays high");
    let evs: Vec<_> = h
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Congestion { .. }))
        .collect();
    assert_eq!(evs.len(), 1);
    assert!(matches!(
        evs[0],
        Event::Congestion {
            cause: CongestionCause::IdleRestart,
            cwnd: 10_000,
            ..
        }
    ));
}

#[test]
fn the_initial_window_is_ten_segments_within_rfc_6928s_byte_cap() {
    // IW = min(10·MSS, max(2·MSS, 14600)) (RFC 6928 §2), for Reno and
    // CUBIC alike: (link MTU, peer's MSS, IW, full segments in the first
    // flight of a 100 kB write).
    for alg in [CongestionAlgorithm::Reno, CongestionAlgorithm::Cubic] {
        for (mtu, mss, iw, segments) in [
            (1500u16, 536u16, 5_360u32, 10usize),
            (1500, 1000, 10_000, 10),
            (1500, 1460, 14_600, 10),
            // 14 600 bytes: three segments of 3960, and the 2720 bytes of
            // cwnd left would make a runt (sender SWS avoidance waits).
            (4000, 3960, 14_600, 3),
            // Jumbo frames: two segments, the floor.
            (9000, 8960, 17_920, 2),
        ] {
            let mut c = config();
            c.mtu = mtu;
            c.tcp.congestion_control = alg;
            let (mut h, id, ..) = connected(c, mss, 65535);
            let info = h.stack.tcp_info(id).unwrap();
            assert_eq!(
                (info.mss, info.cwnd),
                (u32::from(mss), iw),
                "{alg:?} MSS {mss}"
            );
            h.stack.tcp_send(h.now, id, &[5u8; 100_000]).unwrap();
            let segs = h.out();
            assert_eq!(segs.len(), segments, "{alg:?} MSS {mss}: {segs:?}");
            assert!(segs.iter().all(|s| s.payload.len() == usize::from(mss)));
        }
    }
}
