//! Delayed ACKs the way Linux does them (RFC 9293 §3.8.6.3, RFC 5681
//! §4.2): at least every second full-size segment, otherwise after the
//! delayed-ACK timeout (40 ms by default, configurable, never beyond
//! 500 ms); at once for out-of-order data, for the segment that fills a
//! hole, and for a window update after a zero window; piggybacked on
//! outgoing data, which cancels the timer; quick-ACK mode ACKs each
//! segment.

mod common;
use common::*;

fn data(peer: u32, iss1: u32, k: u32, len: usize) -> Seg {
    Seg::new(40000, 80, ACK | PSH, peer + k * len as u32, iss1).data(&vec![k as u8; len])
}

#[test]
fn every_second_full_size_segment_is_acked_at_once() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1460, 65535);
    for pair in 0..3u32 {
        h.feed(&data(peer, iss1, 2 * pair, 1460));
        h.silent();
        h.feed(&data(peer, iss1, 2 * pair + 1, 1460));
        h.expect(&[exp(ACK, iss1, peer + 2920 * (pair + 1), 0)]);
    }
    assert_eq!(h.stack.poll_at(), None, "no timer left behind");
}

#[test]
fn a_lone_segment_is_acked_when_the_timer_expires() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1460, 65535);
    let t0 = h.now;
    h.feed(&data(peer, iss1, 0, 1460));
    h.silent();
    assert_eq!(h.stack.poll_at(), Some(t0 + 40 * MS));
    h.at(t0 + 40 * MS - 1);
    h.silent();
    h.at(t0 + 40 * MS);
    h.expect(&[exp(ACK, iss1, peer + 1460, 0)]);
    assert_eq!(h.stack.poll_at(), None);
    // Small segments: the timer keeps the deadline of the first one
    // until more than a full-size segment (the largest seen) is unacked.
    let t1 = t0 + 100 * MS;
    h.at(t1);
    h.feed(&Seg::new(40000, 80, ACK, peer + 1460, iss1).data(&[1; 700]));
    h.at(t1 + 30 * MS);
    h.feed(&Seg::new(40000, 80, ACK, peer + 2160, iss1).data(&[2; 700]));
    h.silent();
    h.at(t1 + 40 * MS);
    h.expect(&[exp(ACK, iss1, peer + 2860, 0)]);
    h.feed(&Seg::new(40000, 80, ACK, peer + 2860, iss1).data(&[3; 700]));
    h.silent();
    h.feed(&Seg::new(40000, 80, ACK, peer + 3560, iss1).data(&[4; 761]));
    h.expect(&[exp(ACK, iss1, peer + 4321, 0)]);
}

#[test]
fn the_timeout_is_configurable_and_capped_at_500_ms() {
    for (configured, effective) in [(100 * MS, 100 * MS), (2 * SEC, 500 * MS)] {
        let mut c = config();
        c.tcp.delayed_ack = configured;
        let (mut h, _l, _id, iss1, peer) = accepted(c, 1460, 65535);
        let t0 = h.now;
        h.feed(&data(peer, iss1, 0, 100));
        h.at(t0 + effective - 1);
        h.silent();
        h.at(t0 + effective);
        h.expect(&[exp(ACK, iss1, peer + 100, 0)]);
    }
    // 0: no delay at all.
    let mut c = config();
    c.tcp.delayed_ack = 0;
    let (mut h, _l, _id, iss1, peer) = accepted(c, 1460, 65535);
    h.feed(&data(peer, iss1, 0, 100));
    h.expect(&[exp(ACK, iss1, peer + 100, 0)]);
}

#[test]
fn out_of_order_data_and_the_hole_filler_are_acked_at_once() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1000, 65535);
    h.feed(&data(peer, iss1, 0, 1000));
    h.silent();
    // Segment 1 lost, 2 arrives: duplicate ACK at once (the sender's fast
    // retransmit counts them). It also acknowledges segment 0.
    h.feed(&data(peer, iss1, 2, 1000));
    h.expect(&[exp(ACK, iss1, peer + 1000, 0)]);
    h.feed(&data(peer, iss1, 3, 1000));
    h.expect(&[exp(ACK, iss1, peer + 1000, 0)]);
    // The retransmission fills the hole: ACK at once.
    h.feed(&data(peer, iss1, 1, 1000));
    h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    // In order again: back to delaying.
    h.feed(&data(peer, iss1, 4, 1000));
    h.silent();
}

#[test]
fn quick_ack_acks_every_segment_and_can_be_switched_per_socket() {
    let mut c = config();
    c.tcp.quick_ack = true;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1460, 65535);
    for k in 0..3u32 {
        h.feed(&data(peer, iss1, k, 100));
        h.expect(&[exp(ACK, iss1, peer + 100 * (k + 1), 0)]);
    }
    // Off for this socket: delayed again.
    h.stack.tcp_set_quickack(id, false).unwrap();
    h.feed(&data(peer, iss1, 3, 100));
    h.silent();
    // On again: the pending ACK goes at once.
    h.stack.tcp_set_quickack(id, true).unwrap();
    h.expect(&[exp(ACK, iss1, peer + 400, 0)]);
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn a_window_update_after_a_zero_window_is_immediate() {
    let mut c = config();
    c.tcp.recv_buffer = 2000;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1000, 65535);
    h.feed(&data(peer, iss1, 0, 1000));
    h.silent();
    h.feed(&data(peer, iss1, 1, 1000));
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].window, 0);
    // The reader frees the buffer: the reopened window is announced at
    // once, not after a delayed-ACK timeout.
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 2000).unwrap();
    let a = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
    assert_eq!(a[0].window, 2000);
}

#[test]
fn a_fin_is_acked_at_once() {
    let (mut h, _l, _id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(&data(peer, iss1, 0, 100));
    h.silent();
    h.feed(&Seg::new(40000, 80, ACK | FIN, peer + 100, iss1));
    h.expect(&[exp(ACK, iss1, peer + 101, 0)]);
    assert_eq!(h.stack.poll_at(), None, "the delayed ACK went with it");
}
