//! Scripted urgent data (URG, RFC 9293 §3.8.5, RFC 6093; Linux/BSD
//! semantics: the pointer points past the last urgent byte, and only that
//! byte is urgent). Sender: URG and the pointer on every segment before
//! SND.UP, across segmentation and retransmission, until SND.UP is
//! acknowledged; Nagle does not hold urgent data. Receiver: the urgent
//! byte is taken out of the stream (or left inline), a later mark replaces
//! an unread one, and pointers across the sequence-number wrap work.

mod common;
use common::*;
use tunstack_core::{Event, UrgentByte};

fn read(h: &mut Harness, id: tunstack_core::SocketId) -> Vec<u8> {
    let mut out = Vec::new();
    while h.stack.tcp_recv(h.now, id, &mut out, 1 << 20).unwrap() > 0 {}
    out
}

#[test]
fn sender_marks_every_segment_before_the_pointer_until_it_is_acked() {
    let (mut h, id, iss1, peer, port) = connected(config(), 1000, 65535);
    let mut data = vec![b'.'; 2500];
    data[2499] = b'!';
    assert_eq!(h.stack.tcp_send_urgent(h.now, id, &data), Ok(2500));
    // SND.UP = iss1 + 2500: each segment points to it from its own start.
    let segs = h.expect(&[
        exp(URG | ACK | PSH, iss1, peer, 1000),
        exp(URG | ACK | PSH, iss1 + 1000, peer, 1000),
        exp(URG | ACK | PSH, iss1 + 2000, peer, 500),
    ]);
    let ptrs: Vec<u16> = segs.iter().map(|s| s.urg).collect();
    assert_eq!(ptrs, [2500, 1500, 500]);
    // The first segment is acknowledged; the rest is lost. The timeout
    // retransmission still carries the mark.
    h.at(50 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1000));
    h.silent();
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    h.at(50 * MS + rto);
    let rtx = h.expect(&[exp(URG | ACK | PSH, iss1 + 1000, peer, 1000)]);
    assert_eq!(rtx[0].urg, 1500);
    // Everything up to SND.UP acknowledged: urgent mode ends, later data
    // goes without URG.
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2500));
    h.take_events();
    assert_eq!(h.stack.tcp_send(h.now, id, b"plain"), Ok(5));
    let segs = h.expect(&[exp(ACK | PSH, iss1 + 2500, peer, 5)]);
    assert_eq!(segs[0].urg, 0);
}

#[test]
fn a_pointer_beyond_64k_is_sent_as_0xffff_then_exactly() {
    // Window-scaled peer with a large window, so 70 000 bytes go at once.
    let mut c = config();
    c.tcp.send_buffer = 1 << 20;
    let (mut h, id, iss1, peer, port, _) = connected_with(c, |s| s.mss(1460).win(65535).wscale(7));
    let data = vec![7u8; 70_000];
    assert_eq!(h.stack.tcp_send_urgent(h.now, id, &data), Ok(70_000));
    let mut segs = h.out();
    // Open the congestion window enough by acknowledging as we go.
    let mut t = 10 * MS;
    while segs
        .last()
        .map(|s| s.seq.wrapping_sub(iss1) as usize + s.payload.len())
        != Some(70_000)
    {
        let last = segs.last().expect("some data went out").clone();
        t += 10 * MS;
        h.at(t);
        let acked = last.seq.wrapping_add(last.payload.len() as u32);
        h.feed(&Seg::new(80, port, ACK, peer, acked).win(65535));
        let more = h.out();
        assert!(!more.is_empty(), "sending stalled");
        segs.extend(more);
    }
    for s in segs.iter().filter(|s| !s.payload.is_empty()) {
        let to_up = iss1.wrapping_add(70_000).wrapping_sub(s.seq);
        assert!(s.flags & URG != 0, "{s:?} lacks URG");
        if to_up <= 0xFFFF {
            assert_eq!(s.urg as u32, to_up, "{s:?}");
        } else {
            assert_eq!(s.urg, 0xFFFF, "{s:?}");
        }
    }
}

#[test]
fn nagle_does_not_hold_urgent_data() {
    let (mut h, id, iss1, peer, _port) = connected(config(), 1000, 65535);
    assert_eq!(h.stack.tcp_send(h.now, id, b"a"), Ok(1));
    h.expect(&[exp(ACK | PSH, iss1, peer, 1)]);
    // One small segment in flight: Nagle holds the next one...
    assert_eq!(h.stack.tcp_send(h.now, id, b"b"), Ok(1));
    h.silent();
    // ...but not urgent data, which pushes what waits before it too.
    assert_eq!(h.stack.tcp_send_urgent(h.now, id, b"!"), Ok(1));
    let segs = h.expect(&[exp(URG | ACK | PSH, iss1 + 1, peer, 2)]);
    assert_eq!((segs[0].payload.as_slice(), segs[0].urg), (&b"b!"[..], 2));
    assert_eq!(
        h.stack.tcp_send_urgent(h.now, id, b""),
        Err(tunstack_core::Error::InvalidInput)
    );
}

#[test]
fn the_urgent_byte_is_taken_out_of_the_stream() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(4)
            .data(b"abc!"),
    );
    assert_eq!(
        h.take_events(),
        vec![Event::Urgent { id }, Event::Readable { id }]
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id),
        Some(UrgentByte {
            byte: b'!',
            offset: 3,
            inline: false
        })
    );
    assert_eq!(h.stack.tcp_recv_urgent(id), None, "taken once");
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer + 4, iss1).data(b"def"));
    assert_eq!(read(&mut h, id), b"abcdef");
    // The next mark's offset counts the stream the user sees.
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer + 7, iss1)
            .urgent(2)
            .data(b"g?"),
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((b'?', 7))
    );
    assert_eq!(read(&mut h, id), b"g");
}

#[test]
fn a_pointer_ahead_of_the_data_waits_for_its_byte() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    // The pointer arrives before the urgent byte (the sender's window
    // held it back): no event yet.
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(4)
            .data(b"ab"),
    );
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    assert_eq!(h.stack.tcp_recv_urgent(id), None);
    assert_eq!(read(&mut h, id), b"ab");
    // Out of order first: the byte is captured where it lands.
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer + 3, iss1).data(b"!z"));
    assert_eq!(h.take_events(), vec![Event::Urgent { id }]);
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((b'!', 3))
    );
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer + 2, iss1).data(b"c"));
    assert_eq!(read(&mut h, id), b"cz");
}

#[test]
fn inline_mode_leaves_the_byte_in_the_stream() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.stack.tcp_set_urgent_inline(id, true).unwrap();
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(4)
            .data(b"abc!def"),
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id),
        Some(UrgentByte {
            byte: b'!',
            offset: 3,
            inline: true
        })
    );
    assert_eq!(read(&mut h, id), b"abc!def");
}

#[test]
fn a_listener_passes_inline_mode_to_accepted_connections() {
    let mut h = Harness::new(config());
    let l = h
        .stack
        .tcp_listen(
            std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 80),
            8,
        )
        .unwrap();
    h.stack.tcp_set_urgent_inline(l, true).unwrap();
    h.feed(&Seg::new(40000, 80, SYN, 1000, 0).mss(1460));
    let synack = h.out().pop().unwrap();
    let iss1 = synack.seq.wrapping_add(1);
    h.feed(&Seg::new(40000, 80, ACK, 1001, iss1));
    // Urgent data before accept: announced on accept.
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, 1001, iss1)
            .urgent(2)
            .data(b"x!"),
    );
    h.take_events();
    let id = h.stack.tcp_accept(l).unwrap();
    assert!(h.take_events().contains(&Event::Urgent { id }));
    assert_eq!(
        h.stack.tcp_recv_urgent(id),
        Some(UrgentByte {
            byte: b'!',
            offset: 1,
            inline: true
        })
    );
    assert_eq!(read(&mut h, id), b"x!");
}

#[test]
fn a_later_mark_replaces_an_unread_one() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(2)
            .data(b"aA"),
    );
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer + 2, iss1)
            .urgent(2)
            .data(b"bB"),
    );
    // Nobody took 'A' before 'B' came: 'B' is the urgent byte, and 'A'
    // stays in the stream as ordinary data (Linux's tcp_check_urg).
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((b'B', 3))
    );
    assert_eq!(h.stack.tcp_recv_urgent(id), None);
    assert_eq!(read(&mut h, id), b"aAb");

    // Read in between: both urgent bytes are out of band.
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(2)
            .data(b"aA"),
    );
    assert_eq!(h.stack.tcp_recv_urgent(id).map(|u| u.byte), Some(b'A'));
    assert_eq!(read(&mut h, id), b"a");
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer + 2, iss1)
            .urgent(2)
            .data(b"bB"),
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((b'B', 2))
    );
    assert_eq!(read(&mut h, id), b"b");
}

#[test]
fn a_reader_at_the_old_mark_skips_it_when_a_new_one_comes() {
    let (mut h, _l, id, iss1, peer) = accepted(config(), 1460, 65535);
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer, iss1)
            .urgent(2)
            .data(b"aA"),
    );
    let mut out = Vec::new();
    // Read exactly up to the mark.
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut out, 1), Ok(1));
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, peer + 2, iss1)
            .urgent(2)
            .data(b"bB"),
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((b'B', 2))
    );
    assert_eq!(read(&mut h, id), b"b");
    assert_eq!(out, b"a");
}

#[test]
fn pointers_work_across_the_sequence_number_wrap() {
    let start = u32::MAX - 9;
    let (mut h, _l, id, iss1, _peer, _) = accepted_with(
        config(),
        |mut s| {
            s.seq = start;
            s.mss(1460)
        },
        |mut s| {
            s.seq = start.wrapping_add(1);
            s
        },
    );
    let data: Vec<u8> = (0..30u8).collect();
    // The urgent byte (index 19) lies past 2^32 in sequence space.
    h.feed(
        &Seg::new(40000, 80, ACK | PSH, start.wrapping_add(1), iss1)
            .urgent(20)
            .data(&data),
    );
    assert_eq!(
        h.stack.tcp_recv_urgent(id).map(|u| (u.byte, u.offset)),
        Some((19, 19))
    );
    let mut want = data.clone();
    want.remove(19);
    assert_eq!(read(&mut h, id), want);
}
