//! SACK (RFC 2018, RFC 2883): SACK-permitted on the SYN exchange; as a
//! receiver, blocks for the data held out of order — the block of the
//! latest segment first, at most 4 (3 next to timestamps) — and D-SACK
//! blocks for duplicates; as a sender, SACKed data is never sent again,
//! neither by fast retransmit nor by the go-back after a timeout.

mod common;
use common::*;
use tunstack_core::SocketId;

/// Passive open whose peer offers SACK (and timestamps when `ts`), MSS 1000.
fn sack_accepted(ts: bool) -> (Harness, SocketId, u32, u32) {
    let (h, _l, id, iss1, peer, synack) = accepted_with(
        config(),
        |s| {
            let s = s.mss(1000).sack_perm();
            if ts {
                s.ts(1, 0)
            } else {
                s
            }
        },
        |s| if ts { s.ts(2, 0) } else { s },
    );
    assert!(synack.sack_perm, "{synack:?}");
    assert!(h.stack.tcp_info(id).unwrap().sack);
    (h, id, iss1, peer)
}

/// The peer's segment `k` (1000 bytes at peer + 1000·k).
fn seg(peer: u32, iss1: u32, k: u32, ts: bool) -> Seg {
    let s = Seg::new(40000, 80, ACK, peer + 1000 * k, iss1).data(&[k as u8; 1000]);
    if ts {
        s.ts(10 + k, 0)
    } else {
        s
    }
}

fn blocks(peer: u32, ks: &[(u32, u32)]) -> Vec<(u32, u32)> {
    ks.iter()
        .map(|&(a, b)| (peer + 1000 * a, peer + 1000 * b))
        .collect()
}

#[test]
fn sack_permitted_is_echoed_only_when_offered() {
    let (h, _l, id, .., synack) = accepted_with(config(), |s| s.mss(1000), |s| s);
    assert!(!synack.sack_perm);
    assert!(!h.stack.tcp_info(id).unwrap().sack);
    let (_, _, _, _, _, syn) = connected_with(config(), |s| s.mss(1000));
    assert!(syn.sack_perm, "our SYN always offers it");
}

#[test]
fn receiver_reports_the_latest_block_first_and_at_most_four() {
    let (mut h, _id, iss1, peer) = sack_accepted(false);
    // Segment 0 is lost; 1, 3, 5, 7, 9 arrive: each draws an immediate
    // duplicate ACK whose first block holds the segment just received.
    let mut expected: Vec<(u32, u32)> = Vec::new();
    for k in [1u32, 3, 5, 7, 9] {
        h.feed(&seg(peer, iss1, k, false));
        let a = h.expect(&[exp(ACK, iss1, peer, 0)]);
        expected.insert(0, (k, k + 1));
        expected.truncate(4);
        assert_eq!(a[0].sack, blocks(peer, &expected), "after segment {k}");
    }
    // Segment 2 joins blocks 1 and 3: that block comes first, the rest
    // follow in the order they were last reported.
    h.feed(&seg(peer, iss1, 2, false));
    let a = h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(1, 4), (9, 10), (7, 8), (5, 6)]));
    // Segment 0 fills the first hole: cumulative ACK to 4000 at once, the
    // remaining blocks still reported.
    h.feed(&seg(peer, iss1, 0, false));
    let a = h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(9, 10), (7, 8), (5, 6)]));
    for k in [4u32, 6, 8] {
        h.feed(&seg(peer, iss1, k, false));
        h.out();
    }
    // No hole left: no SACK option.
    let a = h.stack.tcp_info(_id).unwrap();
    assert_eq!(a.bytes_received, 10_000);
    h.feed(&seg(peer, iss1, 10, false));
    h.at(h.now + 40 * MS);
    let a = h.expect(&[exp(ACK, iss1, peer + 11_000, 0)]);
    assert!(a[0].sack.is_empty(), "{a:?}");
}

#[test]
fn next_to_timestamps_three_blocks_fit() {
    let (mut h, _id, iss1, peer) = sack_accepted(true);
    for k in [1u32, 3, 5, 7] {
        h.feed(&seg(peer, iss1, k, true));
        h.out();
    }
    h.feed(&seg(peer, iss1, 9, true));
    let a = h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(9, 10), (7, 8), (5, 6)]));
    assert!(a[0].ts.is_some());
}

#[test]
fn duplicates_are_reported_with_dsack() {
    let (mut h, _id, iss1, peer) = sack_accepted(false);
    h.feed(&seg(peer, iss1, 0, false));
    h.feed(&seg(peer, iss1, 1, false));
    h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    // Segment 1 again (our ACK was lost, say): D-SACK block below the ACK.
    h.feed(&seg(peer, iss1, 1, false));
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(1, 2)]));
    // A duplicate of data held out of order: the D-SACK block first, then
    // the block that holds it (RFC 2883 §4.2).
    h.feed(&seg(peer, iss1, 3, false));
    h.out();
    h.feed(&seg(peer, iss1, 3, false));
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(3, 4), (3, 4)]));
    // Reported once: the next ACK carries the plain block.
    h.feed(&seg(peer, iss1, 5, false));
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].sack, blocks(peer, &[(5, 6), (3, 4)]));
}

#[test]
fn sender_does_not_retransmit_sacked_data() {
    let (mut h, id, iss1, peer, port, syn) =
        connected_with(config(), |s| s.mss(1000).sack_perm().win(65535));
    assert!(syn.sack_perm);
    h.stack.tcp_send(h.now, id, &[4u8; 6000]).unwrap();
    assert_eq!(h.out().len(), 6);
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    // Segments 0 and 2 are lost; the peer reports the others.
    h.at(h.now + 20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(1000, 2000)]));
    h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(3000, 4000), ours(1000, 2000)]));
    h.silent(); // limited transmit has nothing new to send
    assert_eq!(h.stack.tcp_info(id).unwrap().sacked_bytes, 2000);
    // The timeout (before a third duplicate): only the first hole goes.
    h.at(h.now + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    // Its ACK reports the rest SACKed: slow start resends the second hole
    // and skips everything the peer holds.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).sack(&[ours(3000, 6000)]));
    h.expect(&[exp(ACK | PSH, iss1 + 2000, peer, 1000)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 6000));
    h.silent();
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.bytes_in_flight, info.sacked_bytes), (0, 0));
    assert_eq!(h.stack.stats().tcp_retrans_segs, 2);
}

#[test]
fn fast_retransmit_sends_only_the_hole() {
    let (mut h, id, iss1, peer, port, _) =
        connected_with(config(), |s| s.mss(1000).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[4u8; 8000]).unwrap();
    assert_eq!(h.out().len(), 8);
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    h.at(h.now + 20 * MS);
    // The first half of segment 0 was lost (a middlebox split it, say);
    // everything from byte 500 on arrived.
    for end in [2000u32, 3000, 4000] {
        h.feed(&Seg::new(80, port, ACK, peer, iss1).sack(&[ours(500, end)]));
    }
    // Third duplicate ACK: the retransmission stops where the SACKed
    // data starts.
    h.expect(&[exp(ACK | PSH, iss1, peer, 500)]);
    assert_eq!(h.stack.stats().tcp_retrans_segs, 1);
}

#[test]
fn sack_recovery_repairs_several_holes_in_one_round_trip() {
    // Reno's halving (RFC 6675 §5 step 4.2) sets the pace counted below.
    let mut c = config();
    c.tcp.congestion_control = tunstack_core::CongestionAlgorithm::Reno;
    let (mut h, id, iss1, peer, port, _) =
        connected_with(c, |s| s.mss(1000).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[6u8; 10_000]).unwrap();
    assert_eq!(h.out().len(), 10);
    let ours = |a: u32, b: u32| (iss1 + a, iss1 + b);
    let ack = |blocks: &[(u32, u32)]| Seg::new(80, port, ACK, peer, iss1 + 1000).sack(blocks);
    // Segments 1, 3 and 5 are lost. Segment 0's ACK, then one duplicate
    // ACK per later segment, each SACKing something new.
    h.at(h.now + 20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.feed(&ack(&[ours(2000, 3000)]));
    h.feed(&ack(&[ours(4000, 5000), ours(2000, 3000)]));
    h.silent();
    // Third duplicate ACK: fast retransmit of the first hole; cwnd =
    // ssthresh = 9000/2, and the pipe (the other holes are not yet
    // deemed lost) leaves no room for more.
    h.feed(&ack(&[
        ours(6000, 7000),
        ours(4000, 5000),
        ours(2000, 3000),
    ]));
    h.expect(&[exp(ACK | PSH, iss1 + 1000, peer, 1000)]);
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(
        (info.cwnd, info.ssthresh),
        (4500, 4500),
        "no NewReno inflation"
    );
    // As more is SACKed, the holes below count as lost and the pipe
    // drains: both remaining holes go, without waiting for the first
    // retransmission to be acknowledged (NewReno would need a round trip
    // per hole).
    h.feed(&ack(&[
        ours(6000, 8000),
        ours(4000, 5000),
        ours(2000, 3000),
    ]));
    h.silent();
    h.feed(&ack(&[
        ours(6000, 9000),
        ours(4000, 5000),
        ours(2000, 3000),
    ]));
    h.expect(&[
        exp(ACK | PSH, iss1 + 3000, peer, 1000),
        exp(ACK | PSH, iss1 + 5000, peer, 1000),
    ]);
    h.feed(&ack(&[
        ours(6000, 10_000),
        ours(4000, 5000),
        ours(2000, 3000),
    ]));
    h.silent();
    // The retransmissions arrive: one cumulative ACK ends the recovery.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 10_000));
    h.silent();
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.bytes_in_flight, info.sacked_bytes), (0, 0));
    assert_eq!(h.stack.stats().tcp_retrans_segs, 3);
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}

#[test]
fn data_segments_with_new_sack_blocks_count_as_duplicate_acks() {
    let (mut h, id, iss1, peer, port, _) =
        connected_with(config(), |s| s.mss(1000).sack_perm().win(65535));
    h.stack.tcp_send(h.now, id, &[6u8; 5000]).unwrap();
    assert_eq!(h.out().len(), 5);
    h.at(h.now + 20 * MS);
    // Segment 0 is lost. The peer is sending data of its own, and each of
    // its segments carries the ACK and new SACK information (RFC 6675 §2:
    // that makes it a duplicate ACK, data or not).
    for k in 1..=3u32 {
        h.feed(
            &Seg::new(80, port, ACK | PSH, peer + 100 * (k - 1), iss1)
                .sack(&[(iss1 + 1000, iss1 + 1000 * (k + 1))])
                .data(&[k as u8; 100]),
        );
    }
    // The third one starts the fast retransmit (carrying our ACK of the
    // peer's data as well).
    let segs = h.out();
    let rtx: Vec<_> = segs.iter().filter(|s| !s.payload.is_empty()).collect();
    assert_eq!(rtx.len(), 1, "{segs:?}");
    assert_eq!((rtx[0].seq, rtx[0].payload.len()), (iss1, 1000));
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}
