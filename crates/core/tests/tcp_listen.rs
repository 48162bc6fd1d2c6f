//! Listen queues as Linux keeps them, scripted on virtual time: the accept
//! queue holding backlog+1, a full accept queue dropping the completing ACK
//! (SYN-ACK retransmitted with backoff until the application makes room) or
//! resetting it (abort-on-overflow), half-open expiry, and SYN cookies:
//! stateless SYN-ACKs whose ISN and TSval carry MSS, window scale and SACK,
//! forged and expired cookies refused, 'always' mode.

mod common;
use common::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{
    Event, ListenEvent, ListenOptions, SocketId, StackConfig, State, SynCookies, SynDropReason,
};

fn any(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
}

/// The listener events seen so far, as (peer port, what).
fn listen_events(h: &mut Harness) -> Vec<(u16, ListenEvent)> {
    h.take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Listen { remote, what, .. } => Some((remote.port(), what)),
            _ => None,
        })
        .collect()
}

/// SYN from `port` and the completing ACK, accepted into the queue.
/// Returns our ISS.
fn handshake(h: &mut Harness, port: u16, isn: u32) -> u32 {
    h.feed(&Seg::new(port, 80, SYN, isn, 0));
    let iss = h.out()[0].seq;
    h.feed(&Seg::new(port, 80, ACK, isn + 1, iss.wrapping_add(1)));
    h.silent();
    iss
}

fn count_state(h: &Harness, s: State) -> usize {
    h.stack.netstat().iter().filter(|e| e.state == s).count()
}

#[test]
fn full_accept_queue_drops_the_ack_retransmits_with_backoff_and_completes_after_accept() {
    let mut h = Harness::new(config());
    // backlog 1: the accept queue holds two (Linux's backlog + 1).
    let l = h.stack.tcp_listen(any(80), 1).unwrap();
    // Three clients connect at once: three SYNs, three half-open entries.
    for p in 1..=3 {
        h.feed(&Seg::new(40000 + p, 80, SYN, 100 * p as u32, 0));
    }
    let synacks = h.out();
    assert_eq!(synacks.len(), 3);
    let iss3 = synacks[2].seq;
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue), (3, 0));
    assert_eq!(
        listen_events(&mut h),
        vec![
            (40001, ListenEvent::SynQueued),
            (40002, ListenEvent::SynQueued),
            (40003, ListenEvent::SynQueued)
        ]
    );
    // Their ACKs: two fit, the third is dropped (no RST, no answer).
    for (p, s) in (1..=3).zip(&synacks) {
        h.feed(&Seg::new(
            40000 + p,
            80,
            ACK,
            100 * p as u32 + 1,
            s.seq.wrapping_add(1),
        ));
    }
    h.silent();
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue, q.accept_drops), (1, 2, 1));
    assert_eq!(
        listen_events(&mut h),
        vec![(40003, ListenEvent::AcceptOverflow { abort: false })]
    );
    assert_eq!(count_state(&h, State::Established), 2);
    assert_eq!(count_state(&h, State::SynReceived), 1);

    // The half-open entry retransmits its SYN-ACK with exponential backoff:
    // 1 s, then 2 s later, then 4 s later. The client answers each with the
    // ACK it believes completed the handshake long ago; each is dropped.
    for (i, t) in [SEC, 3 * SEC, 7 * SEC].into_iter().enumerate() {
        h.at(t - 1);
        h.silent();
        h.at(t);
        h.expect(&[exp(SYN | ACK, iss3, 301, 0)]);
        let ev = h.take_events();
        assert!(
            ev.iter().any(|e| matches!(e, Event::Retransmit { attempt, len: 0, .. } if *attempt == i as u32 + 1)),
            "{ev:?}"
        );
        h.feed(&Seg::new(40003, 80, ACK, 301, iss3.wrapping_add(1)));
        h.silent();
        assert_eq!(
            listen_events(&mut h),
            vec![(40003, ListenEvent::AcceptOverflow { abort: false })]
        );
    }
    assert_eq!(h.stack.listener_queues(l).unwrap().accept_drops, 4);

    // The application accepts one: room. The next SYN-ACK retransmission
    // (8 s later) draws the client's ACK, which now completes it.
    let first = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_info(first).unwrap().remote.port(), 40001);
    h.at(15 * SEC);
    h.expect(&[exp(SYN | ACK, iss3, 301, 0)]);
    h.feed(&Seg::new(40003, 80, ACK, 301, iss3.wrapping_add(1)));
    h.silent();
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue), (0, 2));
    let second = h.stack.tcp_accept(l).unwrap();
    let third = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_info(second).unwrap().remote.port(), 40002);
    assert_eq!(h.stack.tcp_info(third).unwrap().remote.port(), 40003);
    assert_eq!(h.state(third), State::Established);
    // No more SYN-ACKs.
    h.at(60 * SEC);
    h.silent();
}

#[test]
fn the_clients_first_data_completes_a_dropped_handshake() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(any(80), 0).unwrap();
    h.feed(&Seg::new(40001, 80, SYN, 100, 0));
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    let out = h.out();
    let iss = out[1].seq;
    h.feed(&Seg::new(40001, 80, ACK, 101, out[0].seq.wrapping_add(1)));
    h.feed(&Seg::new(40002, 80, ACK, 201, iss.wrapping_add(1)));
    h.silent();
    // The client believes it is connected and sends a request: dropped too.
    let req = Seg::new(40002, 80, ACK | PSH, 201, iss.wrapping_add(1)).data(b"GET /");
    h.feed(&req);
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().accept_drops, 2);
    h.stack.tcp_accept(l).unwrap();
    // Its retransmission finds room: ESTABLISHED with the data.
    h.at(200 * MS);
    h.feed(&req);
    h.at(300 * MS); // the (delayed) ACK of the request
    h.expect(&[exp(ACK, iss.wrapping_add(1), 206, 0)]);
    let id = h.stack.tcp_accept(l).unwrap();
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100).unwrap();
    assert_eq!(buf, b"GET /");
}

#[test]
fn a_syn_is_dropped_while_the_accept_queue_is_full() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(any(80), 0).unwrap();
    handshake(&mut h, 40001, 100);
    h.take_events();
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    h.silent();
    assert_eq!(
        listen_events(&mut h),
        vec![(
            40002,
            ListenEvent::SynDropped {
                reason: SynDropReason::AcceptQueueFull
            }
        )]
    );
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue, q.accept_drops), (0, 1, 1));
}

fn abort_on_overflow(config: StackConfig, options: ListenOptions) {
    let mut h = Harness::new(config);
    let l = h.stack.tcp_listen_with(any(80), 0, options).unwrap();
    h.feed(&Seg::new(40001, 80, SYN, 100, 0));
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    let s = h.out();
    h.feed(&Seg::new(40001, 80, ACK, 101, s[0].seq.wrapping_add(1)));
    h.silent();
    h.take_events();
    // The second completing ACK finds the queue full: RST, entry gone.
    h.feed(&Seg::new(40002, 80, ACK, 201, s[1].seq.wrapping_add(1)));
    h.expect(&[exp(RST | ACK, s[1].seq.wrapping_add(1), 201, 0)]);
    assert_eq!(
        listen_events(&mut h),
        vec![(40002, ListenEvent::AcceptOverflow { abort: true })]
    );
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue, q.accept_drops), (0, 1, 1));
    assert_eq!(h.stack.netstat().len(), 2, "listener and the accepted one");
    // No SYN-ACK retransmission follows.
    h.at(10 * SEC);
    h.silent();
}

#[test]
fn abort_on_overflow_resets_instead_stack_wide() {
    let mut c = config();
    c.tcp.abort_on_overflow = true;
    abort_on_overflow(c, ListenOptions::default());
}

#[test]
fn abort_on_overflow_resets_instead_per_listener() {
    abort_on_overflow(
        config(),
        ListenOptions {
            abort_on_overflow: Some(true),
            ..ListenOptions::default()
        },
    );
}

#[test]
fn a_listener_can_turn_abort_on_overflow_off() {
    let mut c = config();
    c.tcp.abort_on_overflow = true;
    let mut h = Harness::new(c);
    let opts = ListenOptions {
        abort_on_overflow: Some(false),
        ..ListenOptions::default()
    };
    let l = h.stack.tcp_listen_with(any(80), 0, opts).unwrap();
    h.feed(&Seg::new(40001, 80, SYN, 100, 0));
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    let s = h.out();
    h.feed(&Seg::new(40001, 80, ACK, 101, s[0].seq.wrapping_add(1)));
    h.feed(&Seg::new(40002, 80, ACK, 201, s[1].seq.wrapping_add(1)));
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 1);
}

#[test]
fn half_open_entries_expire_after_synack_retries() {
    let mut c = config();
    c.tcp.synack_retries = 3;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(any(80), 4).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    let iss = h.out()[0].seq;
    // SYN-ACK retransmissions at 1, 3, 7 s; the entry goes at 15 s.
    for t in [SEC, 3 * SEC, 7 * SEC] {
        h.at(t);
        h.expect(&[exp(SYN | ACK, iss, 1001, 0)]);
    }
    h.at(15 * SEC - 1);
    assert_eq!(count_state(&h, State::SynReceived), 1);
    h.at(15 * SEC);
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 0);
    assert_eq!(count_state(&h, State::SynReceived), 0);
    assert!(h.take_events().iter().any(|e| matches!(
        e,
        Event::StateChanged {
            from: State::SynReceived,
            to: State::Closed,
            ..
        }
    )));
    assert_eq!(h.stack.poll_at(), None);
}

// ---- SYN cookies ----

/// A stack whose listener (backlog 8) has a SYN queue of one, with that
/// one entry taken: the next SYN gets a cookie (mode auto).
fn flooded(mut c: StackConfig) -> (Harness, SocketId) {
    c.tcp.syn_backlog = 1;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(any(80), 8).unwrap();
    h.feed(&Seg::new(39999, 80, SYN, 7, 0));
    h.out();
    h.take_events();
    (h, l)
}

#[test]
fn cookie_round_trip_recovers_mss_window_scale_and_sack() {
    let (mut h, l) = flooded(config());
    let conns = h.stack.netstat().len();
    h.feed(
        &Seg::new(40000, 80, SYN, 1000, 0)
            .mss(1400)
            .wscale(7)
            .sack_perm()
            .ts(555, 0)
            .win(64240),
    );
    let out = h.out();
    assert_eq!(out.len(), 1);
    let synack = &out[0];
    assert_eq!((synack.flags, synack.ack), (SYN | ACK, 1001));
    assert_eq!(synack.mss, Some(1460));
    assert_eq!(synack.wscale, Some(3), "our shift for a 256 KiB buffer");
    assert!(synack.sack_perm);
    let (tsval, tsecr) = synack.ts.expect("timestamps");
    assert_eq!(tsecr, 555);
    assert_eq!(tsval & 0x1f, 7 | 0x10, "wscale 7 and SACK in the low bits");
    // No state was kept.
    assert_eq!(h.stack.netstat().len(), conns);
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.cookies_sent), (1, 1));
    assert_eq!(
        listen_events(&mut h),
        vec![(40000, ListenEvent::CookieSent)]
    );

    // The ACK echoes the cookie: the connection appears, established, in
    // the accept queue, with what the SYN negotiated.
    h.at(20 * MS);
    h.feed(
        &Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1))
            .ts(556, tsval)
            .win(502),
    );
    h.silent();
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!(
        (q.syn_received, q.accept_queue, q.cookies_validated),
        (1, 1, 1)
    );
    assert_eq!(
        listen_events(&mut h),
        vec![(40000, ListenEvent::CookieValidated)]
    );
    // The stack-wide counters (nstat's Syncookies*) agree with the listener's.
    let st = h.stack.stats();
    assert_eq!(
        (
            st.tcp_syncookies_sent,
            st.tcp_syncookies_recv,
            st.tcp_syncookies_failed
        ),
        (1, 1, 0)
    );
    let id = h.stack.tcp_accept(l).unwrap();
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.state, State::Established);
    assert_eq!(
        info.mss,
        1300 - 12,
        "1400 rounded down to msstab's 1300, less timestamps"
    );
    assert_eq!((info.snd_wscale, info.rcv_wscale), (7, 3));
    assert!(info.sack && info.timestamps);
    assert_eq!(info.snd_wnd, 502 << 7);
    // It works: data both ways, timestamps echoed.
    assert_eq!(h.stack.tcp_send(h.now, id, b"hello").unwrap(), 5);
    let out = h.out();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].payload.as_slice()),
        (synack.seq.wrapping_add(1), 1001, &b"hello"[..])
    );
    let (val, ecr) = out[0].ts.unwrap();
    assert_eq!(ecr, 556);
    assert!(
        val.wrapping_sub(tsval) < 100,
        "TSvals go on from the cookie's"
    );
}

/// Send a cookie SYN from `port` (options shaped by `syn`); return the SYN-ACK.
fn cookie_synack(h: &mut Harness, port: u16, syn: impl FnOnce(Seg) -> Seg) -> Seg {
    h.feed(&syn(Seg::new(port, 80, SYN, 1000, 0)));
    let mut out = h.out();
    assert_eq!(out.len(), 1);
    let s = out.pop().unwrap();
    assert_eq!((s.flags, s.ack), (SYN | ACK, 1001));
    s
}

#[test]
fn without_timestamps_a_cookie_carries_only_the_mss() {
    let (mut h, l) = flooded(config());
    let synack = cookie_synack(&mut h, 40000, |s| s.mss(536).wscale(7).sack_perm());
    // No timestamps to carry them: window scaling and SACK are not offered.
    assert_eq!(
        (synack.mss, synack.wscale, synack.sack_perm, synack.ts),
        (Some(1460), None, false, None)
    );
    h.feed(&Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1)).win(1000));
    let id = h.stack.tcp_accept(l).unwrap();
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.mss, 536);
    assert_eq!(
        (info.snd_wscale, info.rcv_wscale, info.sack, info.timestamps),
        (0, 0, false, false)
    );
    assert_eq!(info.snd_wnd, 1000);
}

#[test]
fn a_cookie_ack_carrying_data_delivers_it() {
    let (mut h, l) = flooded(config());
    let synack = cookie_synack(&mut h, 40000, |s| s.mss(1460));
    h.feed(&Seg::new(40000, 80, ACK | PSH, 1001, synack.seq.wrapping_add(1)).data(b"ping"));
    h.out(); // our ACK (delayed or not) is not the point here
    let id = h.stack.tcp_accept(l).unwrap();
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 100).unwrap();
    assert_eq!(buf, b"ping");
}

#[test]
fn forged_cookies_are_reset_and_counted() {
    let (mut h, l) = flooded(config());
    let synack = cookie_synack(&mut h, 40000, |s| s);
    h.take_events();
    // Wrong ISN echoed, wrong client sequence number, another port. (The
    // MSS index is added to the MAC, so ACK+1 would be another valid
    // cookie, as on Linux: only someone who saw a cookie can make one.)
    let bad = [
        Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1000)),
        Seg::new(40000, 80, ACK, 5001, synack.seq.wrapping_add(1)),
        Seg::new(40005, 80, ACK, 1001, synack.seq.wrapping_add(1)),
    ];
    for seg in &bad {
        h.feed(seg);
        h.expect(&[exp(RST, seg.ack, 0, 0)]);
    }
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!(
        (q.cookies_validated, q.cookies_failed, q.accept_queue),
        (0, 3, 0)
    );
    assert_eq!(h.stack.stats().tcp_syncookies_failed, 3);
    assert_eq!(
        listen_events(&mut h),
        vec![
            (40000, ListenEvent::CookieFailed),
            (40000, ListenEvent::CookieFailed),
            (40005, ListenEvent::CookieFailed)
        ]
    );
    // The real one still works.
    h.feed(&Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1)));
    h.silent();
    assert!(h.stack.tcp_accept(l).is_some());
}

#[test]
fn a_cookie_is_good_for_the_current_and_previous_counter_only() {
    let mut c = config();
    c.tcp.syn_cookies = SynCookies::Always;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(any(80), 8).unwrap();
    let synack = cookie_synack(&mut h, 40000, |s| s);
    let ack = Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1));
    // The counter ticks every 64 s: after two ticks it is stale.
    h.at(128 * SEC);
    h.feed(&ack);
    h.expect(&[exp(RST, synack.seq.wrapping_add(1), 0, 0)]);
    assert_eq!(h.stack.listener_queues(l).unwrap().cookies_failed, 1);
    // A fresh one, answered within the next counter period, is fine.
    let synack = cookie_synack(&mut h, 40001, |s| s);
    h.at(128 * SEC + 64 * SEC);
    h.feed(&Seg::new(40001, 80, ACK, 1001, synack.seq.wrapping_add(1)));
    h.silent();
    assert!(h.stack.tcp_accept(l).is_some());
}

#[test]
fn always_mode_keeps_no_half_open_state() {
    let mut c = config();
    c.tcp.syn_cookies = SynCookies::Always;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(any(80), 8).unwrap();
    let synacks: Vec<Seg> = (0..5)
        .map(|i| cookie_synack(&mut h, 40000 + i, |s| s.mss(1460)))
        .collect();
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.cookies_sent), (0, 5));
    assert_eq!(h.stack.netstat().len(), 1, "only the listener");
    assert_eq!(
        h.stack.poll_at(),
        None,
        "no timers: nothing is retransmitted"
    );
    for (i, s) in synacks.iter().enumerate() {
        h.feed(&Seg::new(
            40000 + i as u16,
            80,
            ACK,
            1001,
            s.seq.wrapping_add(1),
        ));
    }
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().accept_queue, 5);
    assert_eq!(count_state(&h, State::Established), 5);
}

#[test]
fn a_valid_cookie_finding_the_accept_queue_full_is_dropped_or_reset() {
    for abort in [false, true] {
        let mut c = config();
        c.tcp.syn_cookies = SynCookies::Always;
        c.tcp.abort_on_overflow = abort;
        let mut h = Harness::new(c);
        let l = h.stack.tcp_listen(any(80), 0).unwrap();
        let s1 = cookie_synack(&mut h, 40001, |s| s);
        let s2 = cookie_synack(&mut h, 40002, |s| s);
        h.feed(&Seg::new(40001, 80, ACK, 1001, s1.seq.wrapping_add(1)));
        h.silent();
        h.take_events();
        h.feed(&Seg::new(40002, 80, ACK, 1001, s2.seq.wrapping_add(1)));
        if abort {
            h.expect(&[exp(RST, s2.seq.wrapping_add(1), 0, 0)]);
        } else {
            h.silent();
        }
        assert_eq!(
            listen_events(&mut h),
            vec![
                (40002, ListenEvent::CookieValidated),
                (40002, ListenEvent::AcceptOverflow { abort })
            ]
        );
        let q = h.stack.listener_queues(l).unwrap();
        assert_eq!((q.accept_queue, q.accept_drops), (1, 1));
        // Without abort, the client's next segment (its data) gets in once
        // there is room: the cookie is still valid.
        if !abort {
            h.stack.tcp_accept(l).unwrap();
            h.feed(&Seg::new(40002, 80, ACK | PSH, 1001, s2.seq.wrapping_add(1)).data(b"x"));
            assert!(h.stack.tcp_accept(l).is_some());
        }
    }
}

#[test]
fn never_mode_drops_syns_beyond_the_syn_queue() {
    let mut c = config();
    c.tcp.syn_cookies = SynCookies::Never;
    let (mut h, l) = flooded(c);
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    h.silent();
    assert_eq!(
        listen_events(&mut h),
        vec![(
            40000,
            ListenEvent::SynDropped {
                reason: SynDropReason::SynQueueFull
            }
        )]
    );
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_drops, q.cookies_sent), (1, 0));
}

#[test]
fn stray_acks_are_not_checked_as_cookies_when_none_were_sent() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(any(80), 8).unwrap();
    h.feed(&Seg::new(40000, 80, ACK, 1, 2));
    h.expect(&[exp(RST, 2, 0, 0)]);
    assert_eq!(h.stack.listener_queues(l).unwrap().cookies_failed, 0);
}

#[test]
fn the_stack_wide_connection_limit_drops_syns_and_refuses_connects() {
    let mut c = config();
    c.tcp.max_connections = 2;
    c.tcp.syn_cookies = SynCookies::Never;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(any(80), 8).unwrap();
    handshake(&mut h, 40001, 100);
    handshake(&mut h, 40002, 200);
    listen_events(&mut h);
    // A third SYN finds the table full: dropped, no state, counted.
    h.feed(&Seg::new(40003, 80, SYN, 300, 0));
    h.silent();
    assert_eq!(
        listen_events(&mut h),
        vec![(
            40003,
            ListenEvent::SynDropped {
                reason: SynDropReason::MaxConnections
            }
        )]
    );
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_drops, 1);
    assert_eq!(h.stack.stats().tcp_syn_queue_drops, 1);
    // And connecting out is refused the same way (ENOBUFS).
    let remote = SocketAddrV4::new(PEER, 9);
    assert_eq!(
        h.stack.tcp_connect(h.now, remote, None),
        Err(tunstack_core::Error::NoBuffers)
    );
    // One goes (accepted and aborted): there is room again.
    let a = h.stack.tcp_accept(l).unwrap();
    h.stack.tcp_abort(h.now, a);
    h.out();
    h.stack.tcp_release(h.now, a);
    assert!(h.stack.tcp_connect(h.now, remote, None).is_ok());
}
