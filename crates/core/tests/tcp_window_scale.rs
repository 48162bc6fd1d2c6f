//! Window scaling (RFC 7323 §2): offered on every SYN we originate,
//! echoed on a SYN-ACK only when the peer's SYN offered it, never applied
//! to the window field of a SYN, and a peer without the option gets an
//! unscaled window of at most 65535.

mod common;
use common::*;
use tunstack_core::{Event, StackConfig};

/// 256 KiB needs shift 3: 65535 << 2 = 262140 is one short.
const DEFAULT_SHIFT: u8 = 3;

#[test]
fn active_open_offers_a_scale_and_uses_both_when_the_peer_agrees() {
    let (mut h, id, iss1, peer, port, syn) =
        connected_with(config(), |s| s.mss(1460).wscale(7).win(1000));
    assert_eq!(syn.wscale, Some(DEFAULT_SHIFT), "{syn:?}");
    assert_eq!(syn.window, 65535, "the SYN's window is not scaled");
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.snd_wnd, 1000, "the SYN-ACK's window is not scaled");
    // From now on both directions are scaled: the peer's field 100 means
    // 100 << 7, and ours carries the whole 256 KiB buffer >> 3.
    h.feed(&Seg::new(80, port, ACK, peer, iss1).win(100));
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 12_800);
    h.stack.tcp_send(h.now, id, &[7u8; 20_000]).unwrap();
    let segs = h.out();
    // 12 800 bytes of window (below the initial cwnd of 14 600): 8 full
    // segments, and the 1120 left are less than half the largest window
    // (sender SWS avoidance).
    assert_eq!(segs.len(), 8, "{segs:?}");
    assert!(segs.iter().all(|s| s.payload.len() == 1460));
    assert_eq!(segs[0].window, ((256 * 1024) >> DEFAULT_SHIFT) as u16);
    assert_eq!(segs[0].wscale, None, "only SYNs carry the option");
    assert_eq!(h.stack.tcp_info(id).unwrap().rcv_wnd, 256 * 1024);
}

#[test]
fn active_open_without_the_peers_option_stays_unscaled() {
    let (mut h, id, iss1, peer, port, syn) = connected_with(config(), |s| s.mss(1000).win(3000));
    assert_eq!(syn.wscale, Some(DEFAULT_SHIFT), "offered anyway");
    // The peer did not agree: its window fields are taken as they are,
    h.feed(&Seg::new(80, port, ACK, peer, iss1).win(2000));
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 2000);
    // and ours are plain byte counts, capped at 65535.
    h.stack.tcp_send(h.now, id, b"x").unwrap();
    let segs = h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    assert_eq!(segs[0].window, 65535);
    assert_eq!(h.stack.tcp_info(id).unwrap().rcv_wnd, 65535);
}

#[test]
fn passive_open_echoes_a_scale_only_when_offered() {
    // Offered: the SYN-ACK carries our shift, its own window unscaled.
    let (mut h, _l, id, iss1, peer, synack) = accepted_with(
        config(),
        |s| s.mss(1460).wscale(2).win(5000),
        |s| s.win(5000),
    );
    assert_eq!(synack.wscale, Some(DEFAULT_SHIFT));
    assert_eq!(synack.window, 65535);
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 20_000, "5000 << 2");
    h.stack.tcp_send(h.now, id, b"hi").unwrap();
    let segs = h.expect(&[exp(ACK | PSH, iss1, peer, 2)]);
    assert_eq!(segs[0].window, 32_768, "262144 >> 3");

    // Not offered: no option in the SYN-ACK, nothing scaled either way.
    let (mut h, _l, id, iss1, peer, synack) =
        accepted_with(config(), |s| s.mss(1460).win(5000), |s| s.win(5000));
    assert_eq!(synack.wscale, None, "{synack:?}");
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 5000);
    h.stack.tcp_send(h.now, id, b"hi").unwrap();
    let segs = h.expect(&[exp(ACK | PSH, iss1, peer, 2)]);
    assert_eq!(segs[0].window, 65535);
}

#[test]
fn the_shift_follows_the_receive_buffer_up_to_sixteen_mebibytes() {
    for (buffer, shift, window) in [
        (65_535usize, 0u8, 65_535u32),
        (65_536, 1, 65_536),
        (1 << 20, 5, 1 << 20),
        (16 << 20, 9, 16 << 20),
        // Clamped to 16 MiB.
        (64 << 20, 9, 16 << 20),
    ] {
        let mut c: StackConfig = config();
        c.tcp.recv_buffer = buffer;
        let (mut h, _l, id, iss1, peer, synack) =
            accepted_with(c, |s| s.mss(1460).wscale(14), |s| s);
        assert_eq!(synack.wscale, Some(shift), "buffer {buffer}");
        assert_eq!(synack.window as u32, window.min(65_535));
        h.feed(&Seg::new(40000, 80, ACK | PSH, peer, iss1).data(&[1; 1000]));
        h.feed(&Seg::new(40000, 80, ACK | PSH, peer + 1000, iss1).data(&[2; 1000]));
        let ack = h.expect(&[exp(ACK, iss1, peer + 2000, 0)]);
        // Unread data shrinks the window; the peer computes field << shift,
        // which is the free space to within one unit of the scale.
        let offered = (ack[0].window as u32) << shift;
        assert!(
            offered + (1 << shift) > window - 2000 && offered <= window,
            "buffer {buffer}: window {offered}"
        );
        assert_eq!(h.stack.tcp_info(id).unwrap().rcv_wnd, offered);
    }
}

#[test]
fn a_scaled_window_closes_and_reopens() {
    let mut c = config();
    c.tcp.recv_buffer = 200_000; // shift 2
    let (mut h, _l, id, iss1, peer, synack) = accepted_with(c, |s| s.mss(1000).wscale(0), |s| s);
    assert_eq!(synack.wscale, Some(2));
    let mut last = None;
    for k in 0..200u32 {
        h.feed(&Seg::new(40000, 80, ACK, peer + k * 1000, iss1).data(&[k as u8; 1000]));
        last = h.out().pop().or(last);
    }
    let last = last.expect("ACKs");
    assert_eq!((last.ack, last.window), (peer + 200_000, 0));
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    // Reading opens it again: the update is scaled down by 2.
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100_000).unwrap();
    let upd = h.expect(&[exp(ACK, iss1, peer + 200_000, 0)]);
    assert_eq!(upd[0].window, 25_000, "100 000 bytes free >> 2");
}

#[test]
fn simultaneous_open_negotiates_from_the_crossing_syns() {
    let mut h = Harness::new(config());
    let id = h
        .stack
        .tcp_connect(0, std::net::SocketAddrV4::new(PEER, 80), Some(5555))
        .unwrap();
    let syn = h.out().pop().unwrap();
    assert_eq!(syn.wscale, Some(DEFAULT_SHIFT));
    let iss = syn.seq;
    // The peer's SYN crosses ours; both offered window scaling, so our
    // SYN-ACK carries it too.
    h.feed(
        &Seg::new(80, 5555, SYN, 9000, 0)
            .mss(1200)
            .wscale(4)
            .win(3000),
    );
    let synack = h.expect(&[exp(SYN | ACK, iss, 9001, 0)]);
    assert_eq!(synack[0].wscale, Some(DEFAULT_SHIFT));
    assert_eq!(synack[0].window, 65535, "not scaled in a SYN-ACK");
    // Its SYN-ACK's window is not scaled either: 2000, not 2000 << 4.
    h.feed(
        &Seg::new(80, 5555, SYN | ACK, 9000, iss.wrapping_add(1))
            .wscale(4)
            .win(2000),
    );
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(
        (info.snd_wnd, info.snd_wscale, info.rcv_wscale),
        (2000, 4, DEFAULT_SHIFT)
    );
    // Later segments are scaled.
    h.feed(&Seg::new(80, 5555, ACK, 9001, iss.wrapping_add(1)).win(2000));
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 32_000);
}

#[test]
fn a_shift_above_fourteen_is_taken_as_fourteen() {
    // RFC 7323 §2.3: a shift.cnt above 14 MUST be used as 14 (a window of
    // at most 2^30 bytes keeps sequence comparisons unambiguous).
    for offered in [15u8, 200, 255] {
        let (mut h, id, iss1, peer, port, _) =
            connected_with(config(), |s| s.mss(1460).wscale(offered).win(1000));
        assert_eq!(
            h.stack.tcp_info(id).unwrap().snd_wscale,
            14,
            "offered {offered}"
        );
        h.feed(&Seg::new(80, port, ACK, peer, iss1).win(3));
        assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 3 << 14);
        // Passive open alike.
        let (h, _l, id, ..) = accepted_with(config(), |s| s.mss(1460).wscale(offered), |s| s);
        assert_eq!(h.stack.tcp_info(id).unwrap().snd_wscale, 14);
    }
}
