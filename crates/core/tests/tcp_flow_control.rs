//! Flow control seen end to end on virtual time (RFC 9293 §3.8.6): a
//! zero window that lasts half an hour while the persist timer's probes
//! back off to the maximum RTO, the window events and counters on both
//! sides, and TCP_CORK (small writes coalesce into full segments; uncork
//! or the persist interval flushes the rest).

mod common;
use common::*;
use tunstack_core::{Event, SocketId, State, WindowEvent};

/// The window events of `id` among `events`, in order.
fn window_events(events: &[Event], id: SocketId) -> Vec<WindowEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Window { id: i, what } if *i == id => Some(*what),
            _ => None,
        })
        .collect()
}

#[test]
fn a_zero_window_may_last_half_an_hour_while_probes_back_off_to_the_cap() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 2000);
    h.stack.tcp_send(h.now, id, &[7u8; 5000]).unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1, peer, 1000),
        exp(ACK | PSH, iss1 + 1000, peer, 1000),
    ]);
    h.take_events();
    // The receiver takes both, and its buffer is full.
    h.at(h.now + 10 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(0));
    h.silent();
    assert_eq!(
        window_events(&h.take_events(), id),
        [WindowEvent::Zero],
        "the closed window is reported once, with data waiting"
    );
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    let rto_max = config().tcp.rto_max;
    let closed_at = h.now;
    let mut due = h.stack.poll_at().expect("persist timer armed");
    assert_eq!(due, closed_at + rto);
    // Every probe is answered, still with window 0, for 30 minutes.
    let mut intervals = Vec::new();
    let mut probes = 0u32;
    while due < closed_at + 30 * 60 * SEC {
        h.at(due - 1);
        h.silent();
        h.at(due);
        h.expect(&[exp(ACK, iss1 + 1999, peer, 0)]);
        probes += 1;
        let ev = window_events(&h.take_events(), id);
        let [WindowEvent::Probe { probe, next_us }] = ev[..] else {
            panic!("one probe event expected, got {ev:?}");
        };
        assert_eq!(probe, probes, "probes are numbered");
        h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(0));
        h.silent();
        let ev = h.take_events();
        assert!(ev.is_empty(), "an answered probe changes nothing: {ev:?}");
        assert_eq!(
            h.stack.poll_at(),
            Some(due + next_us),
            "the event tells the interval"
        );
        intervals.push(next_us);
        due += next_us;
    }
    assert_eq!(h.state(id), State::Established, "alive after 30 minutes");
    // Doubling from the RTO up to the cap, then steady at the cap.
    let mut expect = rto;
    for &i in &intervals {
        expect = (expect * 2).min(rto_max);
        assert_eq!(i, expect, "intervals {intervals:?}");
    }
    assert!(intervals.ends_with(&[rto_max; 5]), "{intervals:?}");
    assert_eq!(h.stack.stats().tcp_win_probe, u64::from(probes));
    assert!(probes >= 15, "{probes} probes in 30 minutes");

    // The window reopens: reported, and the rest of the data flows.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(3000));
    h.expect(&[
        exp(ACK | PSH, iss1 + 2000, peer, 1000),
        exp(ACK | PSH, iss1 + 3000, peer, 1000),
        exp(ACK | PSH, iss1 + 4000, peer, 1000),
    ]);
    assert_eq!(
        window_events(&h.take_events(), id),
        [WindowEvent::Reopen { window: 3000 }]
    );
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 5000).win(3000));
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_acked, 5000);
}

#[test]
fn a_zero_window_without_data_to_send_is_not_reported() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 2000);
    h.at(h.now + 10 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1).win(0));
    h.silent();
    assert_eq!(h.stack.poll_at(), None, "nothing to probe for");
    // Data written later meets the closed window: now it is reported.
    h.stack.tcp_send(h.now, id, b"hello").unwrap();
    h.silent();
    assert_eq!(window_events(&h.take_events(), id), [WindowEvent::Zero]);
    assert!(h.stack.poll_at().is_some(), "persist timer armed");
}

#[test]
fn our_window_closing_and_reopening_is_counted_and_reported() {
    let mut c = config();
    c.tcp.recv_buffer = 4000;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1000, 65535);
    for k in 0..4u32 {
        h.feed(&Seg::new(40000, 80, ACK, peer + k * 1000, iss1).data(&[k as u8; 1000]));
    }
    let acks = h.out();
    assert_eq!(acks.last().map(|a| a.window), Some(0));
    assert_eq!(h.stack.stats().tcp_to_zero_window_adv, 1);
    // Repeating a zero window is not another transition.
    h.feed(&Seg::new(40000, 80, ACK, peer + 4000, iss1).data(b"!"));
    h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    assert_eq!(h.stack.stats().tcp_to_zero_window_adv, 1);
    assert!(window_events(&h.take_events(), id).is_empty());
    // The application reads: a window update, reported with its size.
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 1000).unwrap();
    let upd = h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    assert_eq!(upd[0].window, 1000);
    assert_eq!(
        window_events(&h.take_events(), id),
        [WindowEvent::Update { window: 1000 }]
    );
    assert_eq!(h.stack.stats().tcp_from_zero_window_adv, 1);
}

#[test]
fn corked_small_writes_coalesce_into_full_segments_and_uncork_flushes() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 65535);
    h.stack.tcp_set_cork(id, true).unwrap();
    // Ten writes of 300 bytes: only full segments leave while corked.
    let mut sent = Vec::new();
    for k in 0..10u32 {
        h.stack.tcp_send(h.now, id, &[k as u8; 300]).unwrap();
        sent.extend(h.out());
    }
    let summary: Vec<Exp> = sent
        .iter()
        .map(|s| exp(s.flags, s.seq, s.ack, s.payload.len()))
        .collect();
    assert_eq!(
        summary,
        [
            exp(ACK | PSH, iss1, peer, 1000),
            exp(ACK | PSH, iss1 + 1000, peer, 1000),
            exp(ACK | PSH, iss1 + 2000, peer, 1000),
        ]
    );
    // A runt waits even with nothing in flight (Nagle alone would send it).
    h.at(h.now + 10 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3000).win(65535));
    h.silent();
    h.stack.tcp_send(h.now, id, &[9u8; 500]).unwrap();
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().send_queue, 500);
    // Uncorking sends it at once.
    h.stack.tcp_set_cork(id, false).unwrap();
    h.expect(&[exp(ACK | PSH, iss1 + 3000, peer, 500)]);
}

#[test]
fn a_corked_runt_is_sent_after_200_ms() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1000, 65535);
    h.stack.tcp_set_cork(id, true).unwrap();
    let t0 = h.now;
    h.stack.tcp_send(t0, id, &[1u8; 100]).unwrap();
    h.silent();
    // The persist interval: max(RTO, rto_min) = 200 ms here, as Linux.
    assert_eq!(h.stack.poll_at(), Some(t0 + 200 * MS));
    h.stack.tcp_send(t0 + 50 * MS, id, &[2u8; 100]).unwrap();
    h.at(t0 + 200 * MS - 1);
    h.silent();
    h.at(t0 + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 200)]);
    assert!(
        window_events(&h.take_events(), id).is_empty(),
        "a cork flush is no window probe"
    );
    assert_eq!(h.stack.stats().tcp_win_probe, 0);
}

#[test]
fn cork_never_holds_the_fin() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1000, 65535);
    h.stack.tcp_set_cork(id, true).unwrap();
    h.stack.tcp_send(h.now, id, &[1u8; 100]).unwrap();
    h.silent();
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | PSH | FIN, iss1, peer, 100)]);
}
