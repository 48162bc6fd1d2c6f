//! Scripted opens: passive and active handshakes, simultaneous open, SYN
//! retransmission and give-up, refused connections, listener queues.

mod common;
use common::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{Error, Event, ListenEvent, SocketId, State, SynCookies};

#[test]
fn passive_open_three_way_handshake() {
    let mut h = Harness::new(config());
    let l = h
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 4)
        .unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0).mss(1460).win(29200));
    let synack = h.out();
    assert_eq!(synack.len(), 1);
    let s = &synack[0];
    assert_eq!(
        (s.flags, s.ack, s.src_port, s.dst_port),
        (SYN | ACK, 1001, 80, 40000)
    );
    assert_eq!(s.mss, Some(1460), "MSS option = MTU 1500 - 40");
    let iss = s.seq;
    let ev = h.take_events();
    assert!(
        matches!(
            ev.as_slice(),
            [
                Event::StateChanged {
                    from: State::Listen,
                    to: State::SynReceived,
                    ..
                },
                Event::Listen {
                    what: ListenEvent::SynQueued,
                    ..
                }
            ]
        ),
        "{ev:?}"
    );
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue), (1, 0));

    h.at(5 * MS);
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss.wrapping_add(1)).win(29200));
    h.silent();
    let ev = h.take_events();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Acceptable { listener } if *listener == l)),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::StateChanged {
            from: State::SynReceived,
            to: State::Established,
            ..
        }
    )));
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue), (0, 1));
    let id = h.stack.tcp_accept(l).unwrap();
    assert!(h.stack.tcp_accept(l).is_none());
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.state, State::Established);
    assert_eq!(info.remote, SocketAddrV4::new(PEER, 40000));
    assert_eq!(info.mss, 1460);
    assert_eq!(info.snd_wnd, 29200);
    assert!(id.0 < (1u64 << 53));
}

#[test]
fn active_open_three_way_handshake() {
    let mut h = Harness::new(config());
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    let syn = h.out();
    assert_eq!(syn.len(), 1);
    let s = &syn[0];
    assert_eq!((s.flags, s.ack, s.dst_port), (SYN, 0, 80));
    assert_eq!(s.mss, Some(1460));
    let c = config();
    assert!((c.tcp.ephemeral_first..=c.tcp.ephemeral_last).contains(&s.src_port));
    assert_eq!(h.state(id), State::SynSent);
    h.at(20 * MS);
    h.feed(&Seg::new(80, s.src_port, SYN | ACK, 777, s.seq.wrapping_add(1)).mss(1000));
    h.expect(&[exp(ACK, s.seq.wrapping_add(1), 778, 0)]);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Connected { id }), "{ev:?}");
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.state, info.mss), (State::Established, 1000));
    assert_eq!(info.srtt_us, 20 * MS, "the SYN gave the first RTT sample");
}

#[test]
fn mss_is_clamped_to_the_link_mtu() {
    let mut c = config();
    c.mtu = 1000;
    let (h, id, .., syn) = connected_with(c, |s| s.mss(9000).win(65535));
    // RFC 9293 §3.7.1: the MSS we offer is MMS_R − 20 (MUST-67), i.e.
    // the device MTU less both headers; what we send is the smaller of
    // the peer's MSS and ours (MUST-16).
    assert_eq!(syn.mss, Some(960), "MSS option = MTU 1000 - 40");
    assert_eq!(h.stack.tcp_info(id).unwrap().mss, 960);
    let mut c = config();
    c.mtu = 9000;
    let (_h, _l, _id, .., synack) = accepted_with(c, |s| s.mss(1460), |s| s);
    assert_eq!(synack.mss, Some(8960), "SYN-ACK: MTU 9000 - 40");
    let (h, _, id, ..) = accepted(config(), 100, 65535);
    assert_eq!(h.stack.tcp_info(id).unwrap().mss, 100);
}

#[test]
fn syn_retransmits_with_backoff_then_times_out() {
    let mut c = config();
    c.tcp.syn_retries = 2;
    let mut h = Harness::new(c);
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    let iss = h.out()[0].seq;
    assert_eq!(h.stack.poll_at(), Some(SEC));
    h.at(SEC - 1);
    h.silent();
    h.at(SEC);
    h.expect(&[exp(SYN, iss, 0, 0)]);
    assert_eq!(h.stack.poll_at(), Some(3 * SEC), "RTO doubled to 2 s");
    h.at(3 * SEC);
    h.expect(&[exp(SYN, iss, 0, 0)]);
    assert_eq!(h.stack.poll_at(), Some(7 * SEC));
    let ev = h.take_events();
    let attempts: Vec<(u32, u64)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Retransmit {
                attempt, rto_us, ..
            } => Some((*attempt, *rto_us)),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![(1, 2 * SEC), (2, 4 * SEC)]);
    h.at(7 * SEC);
    h.silent();
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::TimedOut)
        }),
        "{ev:?}"
    );
    assert_eq!(h.state(id), State::Closed);
    assert_eq!(h.stack.poll_at(), None);
    assert_eq!(h.stack.stats().tcp_attempt_fails, 1);
}

#[test]
fn rst_answering_our_syn_is_connection_refused() {
    let mut h = Harness::new(config());
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
        .unwrap();
    let syn = h.out().pop().unwrap();
    // A RST whose ACK does not cover our SYN is ignored (RFC 9293 §3.10.7.3).
    h.feed(&Seg::new(
        80,
        syn.src_port,
        RST | ACK,
        0,
        syn.seq.wrapping_add(5),
    ));
    assert_eq!(h.state(id), State::SynSent);
    // An ACK for something we never sent draws a RST.
    h.feed(&Seg::new(80, syn.src_port, ACK, 9, syn.seq.wrapping_add(5)));
    h.expect(&[exp(RST, syn.seq.wrapping_add(5), 0, 0)]);
    h.feed(&Seg::new(
        80,
        syn.src_port,
        RST | ACK,
        0,
        syn.seq.wrapping_add(1),
    ));
    h.silent();
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::ConnectionRefused)
        }),
        "{ev:?}"
    );
    assert_eq!(
        h.stack.poll_at(),
        None,
        "no timer survives a refused connection"
    );
}

/// An active open from port 5555 whose SYN crossed the peer's (ISS 9000):
/// we answered with SYN-ACK and sit in SYN-RECEIVED. Returns our ISS.
fn crossed_syns() -> (Harness, SocketId, u32) {
    let mut h = Harness::new(config());
    let id = h
        .stack
        .tcp_connect(0, SocketAddrV4::new(PEER, 80), Some(5555))
        .unwrap();
    let syn = h.out().pop().unwrap();
    assert_eq!(syn.src_port, 5555);
    let iss = syn.seq;
    h.feed(&Seg::new(80, 5555, SYN, 9000, 0).mss(1200));
    h.expect(&[exp(SYN | ACK, iss, 9001, 0)]);
    assert_eq!(h.state(id), State::SynReceived);
    (h, id, iss)
}

#[test]
fn simultaneous_open() {
    let (mut h, id, iss) = crossed_syns();
    h.take_events();
    // Then its SYN-ACK for our SYN arrives.
    h.feed(&Seg::new(80, 5555, SYN | ACK, 9000, iss.wrapping_add(1)));
    assert_eq!(h.state(id), State::Established);
    let ev = h.take_events();
    assert!(ev.contains(&Event::Connected { id }), "{ev:?}");
    let states: Vec<(State, State)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![(State::SynReceived, State::Established)],
        "SYN_SENT → SYN_RECEIVED was reported before"
    );
    // Data flows.
    assert_eq!(h.stack.tcp_send(h.now, id, b"hi").unwrap(), 2);
    h.expect(&[exp(ACK | PSH, iss.wrapping_add(1), 9001, 2)]);
}

#[test]
fn repeated_syn_in_syn_received_repeats_the_syn_ack() {
    let mut h = Harness::new(config());
    h.stack.tcp_listen(SocketAddrV4::new(US, 80), 4).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    let iss = h.out()[0].seq;
    h.at(100 * MS);
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    h.expect(&[exp(SYN | ACK, iss, 1001, 0)]);
}

#[test]
fn syn_ack_retransmits_then_the_half_open_entry_is_dropped() {
    let mut c = config();
    c.tcp.synack_retries = 2;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 4).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    let iss = h.out()[0].seq;
    h.at(SEC);
    h.expect(&[exp(SYN | ACK, iss, 1001, 0)]);
    h.at(3 * SEC);
    h.expect(&[exp(SYN | ACK, iss, 1001, 0)]);
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 1);
    h.at(7 * SEC);
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 0);
    assert_eq!(h.stack.netstat().len(), 1, "only the listener is left");
    // The client's late ACK now meets only the listener: RST.
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss.wrapping_add(1)));
    h.expect(&[exp(RST, iss.wrapping_add(1), 0, 0)]);
}

#[test]
fn full_accept_queue_keeps_the_client_half_open() {
    // backlog 0: the accept queue holds one connection (Linux: backlog + 1).
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 0).unwrap();
    h.feed(&Seg::new(40001, 80, SYN, 100, 0));
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    let acks = h.out();
    assert_eq!(acks.len(), 2);
    let (iss1, iss2) = (acks[0].seq, acks[1].seq);
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 2);
    h.feed(&Seg::new(40001, 80, ACK, 101, iss1.wrapping_add(1)));
    h.feed(&Seg::new(40002, 80, ACK, 201, iss2.wrapping_add(1)));
    h.silent();
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.accept_queue, q.accept_drops), (1, 1, 1));
    // A third client's SYN is dropped while the queue is full.
    h.feed(&Seg::new(40003, 80, SYN, 300, 0));
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().accept_drops, 2);
    // The half-open entry keeps retransmitting its SYN-ACK.
    h.at(SEC);
    h.expect(&[exp(SYN | ACK, iss2, 201, 0)]);
    // Once the application accepts, the client's next ACK completes it.
    let first = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_info(first).unwrap().remote.port(), 40001);
    h.feed(&Seg::new(40002, 80, ACK, 201, iss2.wrapping_add(1)));
    let second = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_info(second).unwrap().remote.port(), 40002);
    assert_eq!(h.stack.tcp_info(second).unwrap().state, State::Established);
}

#[test]
fn syn_queue_is_bounded() {
    let mut c = config();
    c.tcp.syn_backlog = 2;
    c.tcp.syn_cookies = SynCookies::Never;
    let mut h = Harness::new(c);
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 10).unwrap();
    for p in 0..3 {
        h.feed(&Seg::new(41000 + p, 80, SYN, 5, 0));
    }
    assert_eq!(h.out().len(), 2);
    let q = h.stack.listener_queues(l).unwrap();
    assert_eq!((q.syn_received, q.syn_backlog, q.syn_drops), (2, 2, 1));
    assert_eq!(h.stack.stats().tcp_syn_queue_drops, 1);
}

#[test]
fn releasing_a_listener_resets_unaccepted_connections() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 4).unwrap();
    h.feed(&Seg::new(40001, 80, SYN, 100, 0));
    let iss = h.out()[0].seq;
    h.feed(&Seg::new(40001, 80, ACK, 101, iss.wrapping_add(1)));
    h.feed(&Seg::new(40002, 80, SYN, 200, 0));
    let iss2 = h.out()[0].seq;
    h.stack.tcp_release(h.now, l);
    let mut rsts: Vec<(u16, u32)> = h.out().iter().map(|s| (s.dst_port, s.seq)).collect();
    rsts.sort();
    assert_eq!(
        rsts,
        vec![(40001, iss.wrapping_add(1)), (40002, iss2.wrapping_add(1))]
    );
    assert!(h.stack.netstat().is_empty());
    assert_eq!(h.stack.poll_at(), None);
    // The port is free again and now closed.
    h.feed(&Seg::new(40003, 80, SYN, 7, 0));
    h.expect(&[exp(RST | ACK, 0, 8, 0)]);
}

#[test]
fn listen_address_rules() {
    let mut h = Harness::new(config());
    h.stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 1)
        .unwrap();
    assert_eq!(
        h.stack.tcp_listen(SocketAddrV4::new(US, 80), 1),
        Err(Error::AddrInUse)
    );
    assert_eq!(
        h.stack.tcp_listen(SocketAddrV4::new(PEER, 81), 1),
        Err(Error::AddrNotAvailable)
    );
    let e = h.stack.tcp_listen(SocketAddrV4::new(US, 0), 1).unwrap();
    let port = h.stack.local_addr(e).unwrap().port();
    assert!((32768..=60999).contains(&port), "{port}");
}

#[test]
fn unacceptable_ack_in_syn_received_draws_a_rst() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 4).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    let iss = h.out()[0].seq;
    // RFC 9293 §3.10.7.4: an ACK outside SND.UNA < SEG.ACK =< SND.NXT in
    // SYN_RECEIVED gets <SEQ=SEG.ACK><CTL=RST>, and the entry stays.
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss.wrapping_add(77)));
    h.expect(&[exp(RST, iss.wrapping_add(77), 0, 0)]);
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 1);
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss.wrapping_add(1)));
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().accept_queue, 1);
}

#[test]
fn rst_from_the_client_removes_the_half_open_entry() {
    let mut h = Harness::new(config());
    let l = h.stack.tcp_listen(SocketAddrV4::new(US, 80), 4).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    h.out();
    h.feed(&Seg::new(40000, 80, RST, 1001, 0));
    h.silent();
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 0);
    assert_eq!(h.stack.netstat().len(), 1);
    assert_eq!(h.stack.poll_at(), None);
}

/// A listener's harness and SYN-ACK in answer to a SYN whose option
/// bytes are `options` (padded to a multiple of 4 with EOL), built by hand.
fn synack_to_raw_options(options: &[u8]) -> (Harness, SocketId, Seg) {
    let mut h = Harness::new(config());
    let l = h
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 8)
        .unwrap();
    let mut opts = options.to_vec();
    while !opts.len().is_multiple_of(4) {
        opts.push(0);
    }
    let mut p = Seg::new(40000, 80, SYN, 1000, 0).to_packet(PEER, US);
    // Splice the options in after the fixed TCP header; fix the lengths
    // and both checksums.
    p.splice(40..40, opts.iter().copied());
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[32] = (((20 + opts.len()) / 4) as u8) << 4;
    p[36..38].copy_from_slice(&[0, 0]);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&PEER.octets());
    pseudo.extend_from_slice(&US.octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&((p.len() - 20) as u16).to_be_bytes());
    let c = checksum(&[&pseudo, &p[20..]]);
    p[36..38].copy_from_slice(&c.to_be_bytes());
    h.feed_raw(&p);
    let synack = h.out().pop().expect("SYN-ACK");
    (h, l, synack)
}

#[test]
fn options_are_parsed_unaligned_and_unknown_ones_skipped() {
    // RFC 9293 §3.1-3.2: an unknown option with a length is skipped
    // (MUST-6), options need not start on a word boundary (MUST-64), and
    // EOL ends the list. MSS 1000 at offset 1, window scale 5 right after
    // an unknown 5-byte option, SACK-permitted at an odd offset.
    let (mut h, l, synack) = synack_to_raw_options(&[
        1, 2, 4, 0x03, 0xe8, 99, 5, 0xde, 0xad, 0xbe, 3, 3, 5, 4, 2, 0, 77, 4, 1, 1,
    ]);
    assert_eq!(synack.flags, SYN | ACK, "{synack:?}");
    assert!(synack.wscale.is_some() && synack.sack_perm, "{synack:?}");
    h.feed(&Seg::new(40000, 80, ACK, 1001, synack.seq.wrapping_add(1)));
    let id = h.stack.tcp_accept(l).expect("accepted");
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.mss, info.snd_wscale, info.sack), (1000, 5, true));
    // What follows EOL is not parsed: no window scale here.
    let (.., synack) = synack_to_raw_options(&[2, 4, 0x03, 0xe8, 0, 3, 3, 5]);
    assert_eq!(synack.wscale, None, "{synack:?}");
}

#[test]
fn broadcast_and_multicast_addresses_are_refused_both_ways() {
    // RFC 9293 MUST-46: an OPEN to a broadcast or multicast address fails.
    let mut h = Harness::new(config());
    for bad in [Ipv4Addr::BROADCAST, Ipv4Addr::new(224, 0, 0, 1)] {
        assert_eq!(
            h.stack.tcp_connect(0, SocketAddrV4::new(bad, 80), None),
            Err(Error::InvalidInput)
        );
    }
    h.silent();
    // MUST-63 / MUST-57: a SYN from such an address, or to one, is
    // silently discarded — no SYN-ACK, no RST, no half-open entry.
    let l = h
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 4)
        .unwrap();
    let syn = Seg::new(40000, 80, SYN, 100, 0);
    let dropped_before = h.stack.stats().ip_in_addr_errors;
    for (src, dst) in [
        (Ipv4Addr::BROADCAST, US),
        (Ipv4Addr::new(239, 1, 2, 3), US),
        (PEER, Ipv4Addr::BROADCAST),
        (PEER, Ipv4Addr::new(224, 0, 0, 1)),
    ] {
        h.feed_raw(&syn.to_packet(src, dst));
    }
    h.silent();
    assert_eq!(h.stack.stats().ip_in_addr_errors, dropped_before + 4);
    assert_eq!(h.stack.listener_queues(l).unwrap().syn_received, 0);
}

#[test]
fn rst_in_syn_received_after_a_simultaneous_open_refuses_the_connection() {
    // RFC 9293 MUST-11 / §3.10.7.3: SYN-RECEIVED remembers where it came
    // from. Reached from SYN-SENT (an active open), a RST means "connection
    // refused" — not a return to LISTEN, which only a passive open has
    // (rst_from_the_client_removes_the_half_open_entry).
    let (mut h, id, _) = crossed_syns();
    h.take_events();
    h.feed(&Seg::new(80, 5555, RST, 9001, 0));
    h.silent();
    assert_eq!(h.state(id), State::Closed);
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::ConnectionRefused)
        }),
        "{ev:?}"
    );
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn the_ttl_of_what_we_send_is_configurable() {
    // RFC 9293 MUST-49; Linux's default is 64.
    for (ttl, want) in [(None, 64u8), (Some(7u8), 7)] {
        let mut c = config();
        if let Some(t) = ttl {
            c.ttl = t;
        }
        let mut h = Harness::new(c);
        h.stack
            .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
            .unwrap();
        let syn = h.out_raw().pop().expect("SYN");
        assert_eq!(syn[8], want);
    }
}

#[test]
fn the_ds_field_is_set_per_listener_and_per_connection() {
    // RFC 9293 MUST-48 (IP_TOS). The ECN bits are the stack's: masked.
    let mut h = Harness::new(config());
    let l = h
        .stack
        .tcp_listen(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80), 4)
        .unwrap();
    h.stack.tcp_set_tos(l, 0xb8 | 0b11).unwrap();
    assert_eq!(h.stack.tcp_tos(l), Ok(0xb8));
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0));
    let synack = h.out_raw().pop().expect("SYN-ACK");
    assert_eq!(synack[1], 0xb8, "the SYN-ACK already carries it");
    let iss = parse_tcp(&synack).seq;
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss.wrapping_add(1)));
    let id = h.stack.tcp_accept(l).unwrap();
    assert_eq!(h.stack.tcp_tos(id), Ok(0xb8));
    // Changed on the connection: the next segment carries the new value.
    h.stack.tcp_set_tos(id, 0x28).unwrap();
    h.stack.tcp_send(h.now, id, b"af11").unwrap();
    let data = h.out_raw().pop().expect("data");
    assert_eq!(data[1], 0x28);
    // A RST for a port nobody listens on carries none.
    h.feed(&Seg::new(40001, 81, SYN, 7, 0));
    assert_eq!(h.out_raw().pop().expect("RST")[1], 0);
}
