//! Acknowledging queued segments (RFC 1122 §4.2.2.21, RFC 9293 MUST-59):
//! segments that arrive together (`Stack::receive_batch`, or
//! `begin_batch`/`end_batch` around `receive`) are all processed before
//! the ACK that only acknowledges in-order data goes out — one cumulative
//! ACK per connection at the batch's end, or none if our own data carried
//! it — while the ACKs the peer's loss recovery runs on (duplicate ACKs
//! with SACK blocks, the hole filler), FIN ACKs, challenge ACKs and
//! quick-ACK mode stay immediate. Outside a batch nothing changes.

mod common;
use common::*;
use tunstack_core::SocketId;

/// The peer's segment `k`: `len` bytes at peer + len·k.
fn data(peer: u32, iss1: u32, k: u32, len: usize) -> Seg {
    Seg::new(40000, 80, ACK, peer + k * len as u32, iss1).data(&vec![k as u8; len])
}

/// Deliver `segs` as one batch (one device read).
fn feed_batch(h: &mut Harness, segs: &[Seg]) {
    let packets: Vec<Vec<u8>> = segs.iter().map(|s| s.to_packet(PEER, US)).collect();
    h.stack
        .receive_batch(h.now, packets.iter().map(|p| p.as_slice()));
    h.take_events();
}

/// Passive open with SACK offered, MSS 1000.
fn sack_accepted() -> (Harness, SocketId, u32, u32) {
    let (h, _l, id, iss1, peer, synack) =
        accepted_with(config(), |s| s.mss(1000).sack_perm(), |s| s);
    assert!(synack.sack_perm);
    (h, id, iss1, peer)
}

#[test]
fn eight_in_order_segments_draw_exactly_one_ack_at_the_end() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    let segs: Vec<Seg> = (0..8).map(|k| data(peer, iss1, k, 1000)).collect();
    feed_batch(&mut h, &segs);
    let a = h.expect(&[exp(ACK, iss1, peer + 8000, 0)]);
    assert!(a[0].sack.is_empty());
    assert_eq!(h.stack.poll_at(), None, "the delayed ACK went with it");

    // The same eight, one `receive` each: one ACK per two, as before.
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    for k in 0..8 {
        h.feed(&data(peer, iss1, k, 1000));
    }
    let acks: Vec<Exp> = (1..=4)
        .map(|n| exp(ACK, iss1, peer + 2000 * n, 0))
        .collect();
    h.expect(&acks);
}

#[test]
fn nothing_is_sent_until_the_batch_ends() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    h.stack.begin_batch();
    for k in 0..5 {
        h.feed(&data(peer, iss1, k, 1000));
        h.silent();
    }
    h.stack.end_batch(h.now);
    h.expect(&[exp(ACK, iss1, peer + 5000, 0)]);
    // Ending again (no batch open) sends nothing more.
    h.stack.end_batch(h.now);
    h.silent();
}

#[test]
fn a_hole_draws_an_immediate_duplicate_ack_with_sack_per_out_of_order_segment() {
    let (mut h, _id, iss1, peer) = sack_accepted();
    // Segment 2 is late: it arrives after 3, 4 and 5 in the same batch.
    let order = [0u32, 1, 3, 4, 5, 2, 6, 7];
    let segs: Vec<Seg> = order.iter().map(|&k| data(peer, iss1, k, 1000)).collect();
    feed_batch(&mut h, &segs);
    let a = h.expect(&[
        // 3, 4, 5: a duplicate ACK each, at once, in arrival order (the
        // first also acknowledges 0 and 1, whose ACK was being held).
        exp(ACK, iss1, peer + 2000, 0),
        exp(ACK, iss1, peer + 2000, 0),
        exp(ACK, iss1, peer + 2000, 0),
        // 2 fills the hole: acknowledged at once.
        exp(ACK, iss1, peer + 6000, 0),
        // 6 and 7, in order again: one ACK at the end.
        exp(ACK, iss1, peer + 8000, 0),
    ]);
    let k = |a: u32, b: u32| (peer + 1000 * a, peer + 1000 * b);
    assert_eq!(a[0].sack, vec![k(3, 4)]);
    assert_eq!(a[1].sack, vec![k(3, 5)]);
    assert_eq!(a[2].sack, vec![k(3, 6)]);
    assert!(a[3].sack.is_empty() && a[4].sack.is_empty(), "{a:?}");
}

#[test]
fn duplicates_in_a_batch_are_reported_at_once_with_dsack() {
    let (mut h, _id, iss1, peer) = sack_accepted();
    feed_batch(
        &mut h,
        &[
            data(peer, iss1, 0, 1000),
            data(peer, iss1, 1, 1000),
            data(peer, iss1, 0, 1000),
            data(peer, iss1, 2, 1000),
            data(peer, iss1, 3, 1000),
        ],
    );
    let a = h.expect(&[
        exp(ACK, iss1, peer + 2000, 0),
        exp(ACK, iss1, peer + 4000, 0),
    ]);
    assert_eq!(a[0].sack, vec![(peer, peer + 1000)], "D-SACK (RFC 2883)");
    assert!(a[1].sack.is_empty());
}

#[test]
fn data_we_send_during_the_batch_carries_the_ack() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1000, 65535);
    h.stack.begin_batch();
    for k in 0..4 {
        h.feed(&data(peer, iss1, k, 1000));
    }
    h.silent();
    // The application answers before the batch ends: the reply acknowledges
    // everything so far, and no pure ACK follows.
    assert_eq!(h.stack.tcp_send(h.now, id, &[7; 300]), Ok(300));
    h.expect(&[exp(ACK | PSH, iss1, peer + 4000, 300)]);
    h.stack.end_batch(h.now);
    h.silent();
    // More in-order data after the reply: one ACK at the end for that.
    h.stack.begin_batch();
    for k in 4..6 {
        h.feed(&Seg::new(40000, 80, ACK, peer + 1000 * k, iss1 + 300).data(&[9; 1000]));
    }
    h.stack.end_batch(h.now);
    h.expect(&[exp(ACK, iss1 + 300, peer + 6000, 0)]);
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn the_window_update_after_a_read_joins_the_batch_ack() {
    let mut c = config();
    c.tcp.recv_buffer = 2000;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1000, 65535);
    h.stack.begin_batch();
    h.feed(&data(peer, iss1, 0, 1000));
    h.feed(&data(peer, iss1, 1, 1000));
    h.silent();
    // The reader empties the buffer within the same pass: one ACK, with
    // the reopened window, rather than a zero window then an update.
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 2000), Ok(2000));
    h.silent();
    h.stack.end_batch(h.now);
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].window, 2000);
}

#[test]
fn a_fin_is_acked_at_once_inside_a_batch() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    h.stack.begin_batch();
    h.feed(&data(peer, iss1, 0, 1000));
    h.feed(&data(peer, iss1, 1, 1000));
    h.silent();
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer + 2000, iss1));
    h.expect(&[exp(ACK, iss1, peer + 2001, 0)]);
    h.stack.end_batch(h.now);
    h.silent();
}

#[test]
fn a_challenge_ack_is_not_held_back() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    h.stack.begin_batch();
    h.feed(&data(peer, iss1, 0, 1000));
    h.feed(&data(peer, iss1, 1, 1000));
    h.silent();
    // A SYN in ESTABLISHED (RFC 5961 §4.2): challenged at once; the
    // challenge ACK acknowledges what was held too.
    h.feed(&Seg::new(40000, 80, SYN, 77, 0));
    h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    h.stack.end_batch(h.now);
    h.silent();
}

#[test]
fn quick_ack_mode_still_acks_every_segment() {
    let mut c = config();
    c.tcp.quick_ack = true;
    let (mut h, _l, _id, iss1, peer) = accepted(c, 1000, 65535);
    let segs: Vec<Seg> = (0..3).map(|k| data(peer, iss1, k, 1000)).collect();
    feed_batch(&mut h, &segs);
    h.expect(&[
        exp(ACK, iss1, peer + 1000, 0),
        exp(ACK, iss1, peer + 2000, 0),
        exp(ACK, iss1, peer + 3000, 0),
    ]);
}

#[test]
fn a_lone_segment_in_a_batch_still_waits_for_the_delayed_ack_timer() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    let t0 = h.now;
    feed_batch(&mut h, &[data(peer, iss1, 0, 1000)]);
    h.silent();
    assert_eq!(h.stack.poll_at(), Some(t0 + 40 * MS));
    h.at(t0 + 40 * MS);
    h.expect(&[exp(ACK, iss1, peer + 1000, 0)]);
}

#[test]
fn a_batch_never_ended_is_acked_by_the_delayed_ack_timer() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    let t0 = h.now;
    h.stack.begin_batch();
    for k in 0..4 {
        h.feed(&data(peer, iss1, k, 1000));
    }
    h.silent();
    h.at(t0 + 40 * MS);
    h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
}

#[test]
fn each_connection_gets_one_ack_per_batch() {
    let (mut h, l, _a, iss_a, peer) = accepted(config(), 1000, 65535);
    // A second connection from peer port 40001.
    h.feed(&Seg::new(40001, 80, SYN, 9000, 0).mss(1000));
    let synack = h.out().pop().expect("SYN-ACK");
    let iss_b = synack.seq.wrapping_add(1);
    h.feed(&Seg::new(40001, 80, ACK, 9001, iss_b));
    h.silent();
    h.stack.tcp_accept(l).expect("second connection");
    let b = |k: u32| Seg::new(40001, 80, ACK, 9001 + 1000 * k, iss_b).data(&[k as u8; 1000]);
    // Interleaved, four segments each.
    let mut segs = Vec::new();
    for k in 0..4 {
        segs.push(data(peer, iss_a, k, 1000));
        segs.push(b(k));
    }
    feed_batch(&mut h, &segs);
    let out = h.out();
    let mut acks: Vec<(u16, u32, u32)> = out.iter().map(|s| (s.dst_port, s.seq, s.ack)).collect();
    acks.sort();
    assert_eq!(
        acks,
        vec![(40000, iss_a, peer + 4000), (40001, iss_b, 9001 + 4000)],
        "{out:?}"
    );
    assert!(out.iter().all(|s| s.flags == ACK && s.payload.is_empty()));
}
