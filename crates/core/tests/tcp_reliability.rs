//! Scripted reliability and flow control: RTO with exponential backoff
//! and give-up, Karn's rule, fast retransmit and NewReno recovery, the
//! persist timer probing a zero window, window updates, keepalive.

mod common;
use common::*;
use tunstack_core::{CongestionAlgorithm, Error, Event, StackConfig, State};

/// Reno's numbers (RFC 5681) are what these scripts check; CUBIC's are in
/// congestion_control.rs.
fn reno() -> StackConfig {
    let mut c = config();
    c.tcp.congestion_control = CongestionAlgorithm::Reno;
    c
}

fn retransmits(ev: &[Event]) -> Vec<(u32, u32, u32, u64)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Retransmit {
                seq,
                len,
                attempt,
                rto_us,
                ..
            } => Some((*seq, *len, *attempt, *rto_us)),
            _ => None,
        })
        .collect()
}

#[test]
fn data_retransmits_with_exponential_backoff_then_times_out() {
    let mut c = config();
    c.tcp.max_retries = 3;
    // Handshake RTT 10 ms → RTO = max(10 ms + 4 × 5 ms, rto_min) = 200 ms.
    let (mut h, id, iss1, peer, _port) = connected(c, 1460, 65535);
    assert_eq!(h.stack.tcp_info(id).unwrap().rto_us, 200 * MS);
    h.at(SEC);
    h.stack.tcp_send(h.now, id, b"lost").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 4)]);
    assert_eq!(h.stack.poll_at(), Some(SEC + 200 * MS));
    let mut t = SEC + 200 * MS;
    let mut rto = 200 * MS;
    for attempt in 1..=3u32 {
        h.at(t - 1);
        h.silent();
        h.at(t);
        h.expect(&[exp(ACK | PSH, iss1, peer, 4)]);
        rto *= 2;
        assert_eq!(retransmits(&h.take_events()), vec![(iss1, 4, attempt, rto)]);
        assert_eq!(h.stack.tcp_info(id).unwrap().backoff, attempt);
        t += rto;
        assert_eq!(h.stack.poll_at(), Some(t));
    }
    h.at(t);
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
    assert_eq!(h.stack.stats().tcp_retrans_segs, 3);
    assert_eq!(h.stack.poll_at(), None);
}

#[test]
fn an_ack_ends_the_backoff_and_karn_skips_the_ambiguous_sample() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    let srtt = h.stack.tcp_info(id).unwrap().srtt_us;
    h.stack.tcp_send(h.now, id, b"abc").unwrap();
    h.out();
    h.at(h.now + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 3)]);
    assert_eq!(h.stack.tcp_info(id).unwrap().backoff, 1);
    h.at(h.now + 5 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3));
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.backoff, 0);
    assert_eq!(
        info.srtt_us, srtt,
        "no RTT sample from a retransmitted segment"
    );
    assert_eq!(h.stack.poll_at(), None);
    // A fresh segment gives a sample again.
    h.stack.tcp_send(h.now, id, b"d").unwrap();
    h.out();
    h.at(h.now + 50 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 4));
    assert_ne!(h.stack.tcp_info(id).unwrap().srtt_us, srtt);
}

#[test]
fn three_duplicate_acks_trigger_fast_retransmit_and_newreno_recovery() {
    let (mut h, id, iss1, peer, port) = connected(reno(), 1000, 65535);
    let data = vec![5u8; 6000];
    h.stack.tcp_send(h.now, id, &data).unwrap();
    assert_eq!(h.out().len(), 6);
    let cwnd0 = h.stack.tcp_info(id).unwrap().cwnd;
    assert_eq!(cwnd0, 10_000, "initial window of 10 segments");
    // Segments 1 and 3 are lost; the peer ACKs 1000 then repeats it.
    h.at(h.now + 20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.silent();
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.silent();
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.expect(&[exp(ACK | PSH, iss1 + 1000, peer, 1000)]);
    assert_eq!(
        retransmits(&h.take_events())
            .first()
            .map(|r| (r.0, r.1, r.2)),
        Some((iss1 + 1000, 1000, 0))
    );
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(info.ssthresh, 2500, "half of the 5000 bytes in flight");
    assert_eq!(info.cwnd, 2500 + 3000);
    // Partial ACK (up to the second hole): retransmit it at once.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3000));
    h.expect(&[exp(ACK | PSH, iss1 + 3000, peer, 1000)]);
    // Full ACK ends recovery with cwnd = ssthresh.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 6000));
    h.silent();
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!(
        info.cwnd, 1000,
        "min(ssthresh, flight + MSS) with nothing left in flight"
    );
    assert_eq!(info.bytes_in_flight, 0);
    assert_eq!(h.stack.stats().tcp_retrans_segs, 2);
}

#[test]
fn timeout_collapses_cwnd_and_goes_back() {
    let (mut h, id, iss1, peer, port) = connected(reno(), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[1u8; 3000]).unwrap();
    assert_eq!(h.out().len(), 3);
    h.at(h.now + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.cwnd, info.ssthresh), (1000, 2000));
    // The ACK for the first segment lets slow start resend the rest.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.expect(&[
        exp(ACK | PSH, iss1 + 1000, peer, 1000),
        exp(ACK | PSH, iss1 + 2000, peer, 1000),
    ]);
    // The receiver had them all: a cumulative ACK jumps to the end.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3000));
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_in_flight, 0);
}

#[test]
fn zero_window_is_probed_with_backoff_and_reopening_is_found() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 2000);
    h.stack.tcp_send(h.now, id, &[3u8; 5000]).unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1, peer, 1000),
        exp(ACK | PSH, iss1 + 1000, peer, 1000),
    ]);
    // The receiver takes both but its buffer is full: window 0.
    h.at(h.now + 10 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(0));
    h.silent();
    let t0 = h.now;
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    assert_eq!(h.stack.poll_at(), Some(t0 + rto), "persist timer armed");
    // Probes: an old sequence number, no data; the interval doubles.
    h.at(t0 + rto);
    h.expect(&[exp(ACK, iss1 + 1999, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(0));
    h.silent();
    h.at(t0 + 3 * rto);
    h.expect(&[exp(ACK, iss1 + 1999, peer, 0)]);
    h.at(t0 + 7 * rto);
    h.expect(&[exp(ACK, iss1 + 1999, peer, 0)]);
    assert_eq!(
        h.state(id),
        State::Established,
        "probes answered or not, no give-up yet"
    );
    // The window opened but the update was lost; the next probe's answer
    // carries it and data flows again.
    h.at(t0 + 15 * rto);
    h.expect(&[exp(ACK, iss1 + 1999, peer, 0)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(3000));
    h.expect(&[
        exp(ACK | PSH, iss1 + 2000, peer, 1000),
        exp(ACK | PSH, iss1 + 3000, peer, 1000),
        exp(ACK | PSH, iss1 + 4000, peer, 1000),
    ]);
}

#[test]
fn we_advertise_a_zero_window_and_reopen_it() {
    let mut c = config();
    c.tcp.recv_buffer = 4000;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1000, 65535);
    for k in 0..4u32 {
        h.feed(&Seg::new(40000, 80, ACK, peer + k * 1000, iss1).data(&[k as u8; 1000]));
    }
    let acks = h.out();
    assert_eq!(
        acks.last().map(|a| (a.ack, a.window)),
        Some((peer + 4000, 0))
    );
    // A byte past the closed window is not accepted; the ACK repeats the window.
    h.feed(&Seg::new(40000, 80, ACK, peer + 4000, iss1).data(b"!"));
    let a = h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    assert_eq!(a[0].window, 0);
    // Reading less than min(buffer/2, the peer's segment size) = 1000
    // bytes sends nothing (receiver SWS avoidance); reading enough sends
    // a window update at once.
    let mut buf = Vec::new();
    h.stack.tcp_recv(h.now, id, &mut buf, 999).unwrap();
    h.silent();
    h.stack.tcp_recv(h.now, id, &mut buf, 1).unwrap();
    let upd = h.expect(&[exp(ACK, iss1, peer + 4000, 0)]);
    assert_eq!(upd[0].window, 1000);
}

#[test]
fn keepalive_probes_then_gives_up() {
    let mut c = config();
    c.tcp.keepalive_interval = 10 * SEC;
    let (mut h, id, iss1, peer, port) = connected(c, 1460, 65535);
    h.stack.tcp_set_keepalive(id, Some(10 * SEC)).unwrap();
    let start = h.now;
    assert_eq!(h.stack.poll_at(), Some(start + 10 * SEC));
    h.at(start + 10 * SEC);
    h.expect(&[exp(ACK, iss1 - 1, peer, 0)]);
    // Answered: the idle clock restarts from the answer.
    h.feed(&Seg::new(80, port, ACK, peer, iss1));
    let answered = h.now;
    h.at(answered + 10 * SEC - 1);
    h.silent();
    h.at(answered + 10 * SEC);
    h.expect(&[exp(ACK, iss1 - 1, peer, 0)]);
    // Unanswered: 9 probes, then ETIMEDOUT.
    let mut t = answered + 10 * SEC;
    for _ in 1..9 {
        t += 10 * SEC;
        h.at(t);
        h.expect(&[exp(ACK, iss1 - 1, peer, 0)]);
    }
    h.at(t + 10 * SEC);
    h.silent();
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::TimedOut)
        }),
        "{ev:?}"
    );
}

#[test]
fn limited_transmit_sends_a_segment_per_early_duplicate_ack() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[2u8; 5000]).unwrap();
    assert_eq!(h.out().len(), 5);
    // Timeout: cwnd = 1 MSS, only the head goes again.
    h.at(h.now + 200 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    // Each of the first two duplicate ACKs lets one more segment out
    // (RFC 3042); the third does not start a fast retransmit because it
    // does not cover the data outstanding at the timeout (RFC 6582).
    h.feed(&Seg::new(80, port, ACK, peer, iss1));
    h.expect(&[exp(ACK | PSH, iss1 + 1000, peer, 1000)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1));
    h.expect(&[exp(ACK | PSH, iss1 + 2000, peer, 1000)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1));
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().cwnd, 1000);
}

#[test]
fn a_retransmission_never_carries_bytes_not_sent_before() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 65535);
    h.stack.tcp_send(h.now, id, b"a").unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    // Nagle holds the next bytes while "a" is unacknowledged.
    h.stack.tcp_send(h.now, id, b"bc").unwrap();
    h.silent();
    // The timeout resends "a" alone: "bc" would lie beyond SND.MAX, and a
    // peer acknowledging it would look like it acknowledged unsent data.
    h.at(h.now + 200 * MS);
    let rtx = h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    assert_eq!(rtx[0].payload, b"a");
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
    let segs = h.expect(&[exp(ACK | PSH, iss1 + 1, peer, 2)]);
    assert_eq!(segs[0].payload, b"bc");
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3));
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_in_flight, 0);
}

#[test]
fn unacceptable_empty_segments_are_answered_at_most_twice_a_second() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1000, 65535);
    // A pure ACK from before our window (an old duplicate, or a peer that
    // disagrees about the sequence space): ACK it, but not in a loop.
    let old = Seg::new(40000, 80, ACK, peer.wrapping_sub(5000), iss1);
    h.feed(&old);
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    for _ in 0..3 {
        h.at(h.now + 100 * MS);
        h.feed(&old);
        h.silent();
    }
    h.at(h.now + 200 * MS);
    h.feed(&old);
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    // Unacceptable data is always answered (it is not part of an ACK loop).
    let old_data = Seg::new(40000, 80, ACK, peer.wrapping_sub(5000), iss1).data(b"zz");
    h.feed(&old_data);
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    h.feed(&old_data);
    h.expect(&[exp(ACK, iss1, peer, 0)]);
    assert_eq!(h.state(id), State::Established);
}

#[test]
fn the_rto_is_bounded_by_rto_min_and_rto_max() {
    // rto_min is configurable: a 10 ms handshake RTT gives SRTT + 4·RTTVAR
    // = 30 ms, which 50 ms bounds from below (RFC 6298 §2.4 lets the
    // minimum be lower than 1 s; Linux's is 200 ms, the default).
    let mut c = config();
    c.tcp.rto_min = 50 * MS;
    let (mut h, id, iss1, peer, _port) = connected(c, 1460, 65535);
    assert_eq!(h.stack.tcp_info(id).unwrap().rto_us, 50 * MS);
    h.stack.tcp_send(h.now, id, b"x").unwrap();
    h.out();
    let t0 = h.now;
    h.at(t0 + 50 * MS - 1);
    h.silent();
    h.at(t0 + 50 * MS);
    h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);

    // rto_max (default 120 s, RFC 6298 §2.5 allows a maximum of at least
    // 60 s) caps the doubling: 0.2 s · 2^k stops at 120 s.
    let mut c = config();
    c.tcp.max_retries = 13;
    let (mut h, id, iss1, peer, _port) = connected(c, 1460, 65535);
    h.stack.tcp_send(h.now, id, b"x").unwrap();
    h.out();
    let mut t = h.now;
    let mut gaps = Vec::new();
    while let Some(next) = h.stack.poll_at() {
        gaps.push((next - t) / MS);
        t = next;
        h.at(t);
        if h.state(id) == State::Closed {
            break;
        }
        h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    }
    assert_eq!(
        gaps,
        vec![
            200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 102_400, 120_000, 120_000,
            120_000, 120_000
        ]
    );
    let mut c = config();
    c.tcp.rto_max = SEC;
    let (mut h, id, ..) = connected(c, 1460, 65535);
    h.stack.tcp_send(h.now, id, b"x").unwrap();
    h.out();
    for expected in [200 * MS, 400 * MS, 800 * MS, SEC, SEC] {
        let t = h.now;
        let next = h.stack.poll_at().unwrap();
        assert_eq!(next - t, expected);
        h.at(next);
        h.out();
    }
}

#[test]
fn a_window_shrunk_to_zero_under_outstanding_data_is_probed_not_timed_out() {
    // The peer moves its right edge back (RFC 9293 §3.8.6: it SHOULD NOT,
    // but a sender MUST be robust against it, MUST-34).
    let mut c = config();
    c.tcp.max_retries = 3;
    let (mut h, id, iss1, peer, port) = connected(c, 1000, 65535);
    h.stack.tcp_send(h.now, id, &[9u8; 8000]).unwrap();
    assert_eq!(h.out().len(), 8);
    // ACK of the first segment, window 1000: the right edge moves from
    // 65535 back to 2000, below SND.NXT = 8000. No new data may go
    // (SHLD-15), and nothing breaks on the "negative" usable window.
    h.at(h.now + 20 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000).win(1000));
    h.silent();
    assert_eq!(h.stack.tcp_info(id).unwrap().snd_wnd, 1000);
    // The window closes altogether while 7000 bytes are outstanding. The
    // retransmission timer keeps running; each expiry resends the head as
    // a probe (MUST-35, MAY-7), and since the peer answers, the
    // connection is not timed out (SHLD-17, MUST-37) — more expiries than
    // max_retries = 3 pass.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000).win(0));
    h.silent();
    for _ in 0..6 {
        let at = h.stack.poll_at().expect("retransmission timer");
        h.at(at);
        h.expect(&[exp(ACK | PSH, iss1 + 1000, peer, 1000)]);
        h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000).win(0));
        h.silent();
        assert_eq!(h.state(id), State::Established);
    }
    // The window reopens: the ACK takes the last probe's data and slow
    // start goes on from the loss window (cwnd 1 → 2 segments).
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(65535));
    h.expect(&[
        exp(ACK | PSH, iss1 + 2000, peer, 1000),
        exp(ACK | PSH, iss1 + 3000, peer, 1000),
    ]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 8000));
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_in_flight, 0);

    // A peer that falls silent behind a zero window is given up on once
    // nothing was heard from it for rto_max (Linux's tcp_retransmit_timer).
    h.stack.tcp_send(h.now, id, &[1u8; 1000]).unwrap();
    h.out();
    let silent_since = h.now;
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 8000).win(0));
    let mut rounds = 0;
    while h.state(id) != State::Closed {
        let at = h.stack.poll_at().expect("a timer");
        h.at(at);
        h.out();
        rounds += 1;
        assert!(rounds < 40, "never gave up");
    }
    assert!(
        h.now - silent_since > 120 * SEC,
        "gave up after {} s",
        (h.now - silent_since) / SEC
    );
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Closed {
            id,
            error: Some(Error::TimedOut)
        }),
        "{ev:?}"
    );
}

#[test]
fn limited_transmit_then_fast_retransmit_on_exactly_the_third_duplicate() {
    let (mut h, id, iss1, peer, port) = connected(reno(), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[7u8; 20_000]).unwrap();
    assert_eq!(h.out().len(), 10, "IW10 fills cwnd, the rest waits");
    // Segment 0 is lost; each later one draws a duplicate ACK.
    h.at(h.now + 20 * MS);
    let dup = Seg::new(80, port, ACK, peer, iss1);
    // First and second: no retransmission (a reordering is not a loss),
    // but one new segment each (RFC 3042), cwnd unchanged.
    h.feed(&dup);
    h.expect(&[exp(ACK | PSH, iss1 + 10_000, peer, 1000)]);
    h.feed(&dup);
    h.expect(&[exp(ACK | PSH, iss1 + 11_000, peer, 1000)]);
    assert_eq!(h.stack.tcp_info(id).unwrap().cwnd, 10_000);
    // Third: fast retransmit of the head (RFC 5681 §3.2 step 2), and
    // nothing new. ssthresh = FlightSize / 2 without the two limited
    // transmit segments (10 000 / 2, not 12 000 / 2); cwnd = ssthresh + 3.
    h.feed(&dup);
    h.expect(&[exp(ACK | PSH, iss1, peer, 1000)]);
    let info = h.stack.tcp_info(id).unwrap();
    assert_eq!((info.ssthresh, info.cwnd), (5_000, 8_000));
    assert_eq!(h.stack.stats().tcp_timeouts, 0);
}

#[test]
fn a_rst_is_processed_while_our_window_is_zero() {
    // RFC 9293 §3.8.6.1: RST (and URG) MUST be processed even when the
    // receive window is zero (MUST-66).
    let mut c = config();
    c.tcp.recv_buffer = 2000;
    let (mut h, _l, id, iss1, peer) = accepted(c, 1000, 65535);
    for k in 0..2u32 {
        h.feed(&Seg::new(40000, 80, ACK, peer + k * 1000, iss1).data(&[1; 1000]));
    }
    assert_eq!(h.out().last().map(|a| a.window), Some(0));
    h.feed(&Seg::new(40000, 80, RST, peer + 2000, 0));
    assert_eq!(h.state(id), State::Closed);
    assert!(h.take_events().contains(&Event::Closed {
        id,
        error: Some(Error::ConnectionReset)
    }));
}
