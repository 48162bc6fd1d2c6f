//! Segmentation offload on virtual time: with `OffloadConfig::tso_max_payload`
//! new data leaves as segments of several MSS (whole multiples, bounded by
//! cwnd, the peer's window, Nagle and the cap), each tagged with the MSS
//! the device cuts it at; retransmissions stay one MSS. And receive
//! offload: one 60 KB super-segment is one segment to TCP, ACKed at once,
//! with a checksum that is verified unless the device vouches for it.

mod common;
use common::*;
use std::net::SocketAddrV4;
use tunstack_core::{Event, RxMeta, StackConfig, TxMeta};

fn tso_config(max: u32) -> StackConfig {
    let mut c = config();
    c.offload.tso_max_payload = max;
    c
}

/// Outbound segments with their offload requests.
fn out_with_meta(h: &mut Harness) -> Vec<(Seg, TxMeta)> {
    let mut raw = Vec::new();
    h.stack
        .transmit_with(&mut |p, meta| raw.push((p.to_vec(), meta)));
    raw.into_iter().map(|(p, m)| (parse_tcp(&p), m)).collect()
}

#[test]
fn new_data_goes_as_whole_mss_multiples_within_cwnd() {
    let (mut h, id, iss1, peer, port) = connected(tso_config(64_000), 1000, 65535);
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(50_000));
    // The initial window (RFC 6928: 10 × 1000) goes as one segment that
    // the device cuts at 1000.
    let segs = out_with_meta(&mut h);
    assert_eq!(segs.len(), 1, "{segs:?}");
    let (seg, meta) = &segs[0];
    assert_eq!((seg.seq, seg.payload.len()), (iss1, 10_000));
    assert_eq!(seg.payload, data[..10_000]);
    assert_eq!(
        *meta,
        TxMeta {
            gso_size: 1000,
            checksum_partial: false
        }
    );
    assert_eq!(h.stack.stats().tcp_out_tso_segs, 1);
    assert_eq!(
        h.stack.stats().tcp_out_segs,
        3,
        "SYN, handshake ACK and one TSO segment"
    );

    // Each ACK releases what cwnd allows, in whole MSS, never past it.
    let mut acked = 0u32;
    let mut sent = 10_000u32;
    let mut t = 20 * MS;
    while acked < 50_000 {
        acked = sent;
        h.at(t);
        h.feed(&Seg::new(80, port, ACK, peer, iss1.wrapping_add(acked)).win(65535));
        let info = h.stack.tcp_info(id).unwrap();
        let segs = out_with_meta(&mut h);
        let mut flight = 0;
        for (seg, meta) in &segs {
            assert_eq!(seg.seq, iss1.wrapping_add(sent), "in order, no gaps");
            let len = seg.payload.len() as u32;
            let last_of_data = sent + len == 50_000;
            assert!(len.is_multiple_of(1000) || last_of_data, "len {len}");
            assert_eq!(meta.gso_size, if len > 1000 { 1000 } else { 0 });
            assert_eq!(seg.payload, data[sent as usize..(sent + len) as usize]);
            sent += len;
            flight += len;
        }
        assert!(flight <= info.cwnd, "flight {flight} > cwnd {}", info.cwnd);
        assert!(flight <= 65535, "peer window");
        t += 20 * MS;
        if segs.is_empty() {
            assert_eq!(sent, 50_000);
            break;
        }
    }
    assert_eq!(sent, 50_000);
    assert!(h.take_events().contains(&Event::Flushed { id }));
}

#[test]
fn peer_window_bounds_the_segment_and_sws_holds_the_runt() {
    let (mut h, id, iss1, peer, port) = connected(tso_config(64_000), 1000, 2500);
    let data = vec![7u8; 4000];
    assert_eq!(h.stack.tcp_send(h.now, id, &data), Ok(4000));
    // Two MSS fit the window: one segment of 2000; the 500 left over is a
    // runt that sender SWS avoidance keeps back.
    h.expect(&[exp(ACK | PSH, iss1, peer, 2000)]);
    h.at(50 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 2000).win(2500));
    h.expect(&[exp(ACK | PSH, iss1 + 2000, peer, 2000)]);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 4000).win(2500));
    h.silent();
}

#[test]
fn nagle_holds_the_tail_behind_full_segments_nodelay_and_fin_do_not() {
    // Nagle on: 3500 bytes go as 3000, the 500 tail waits for the ACK.
    let (mut h, id, iss1, peer, port) = connected(tso_config(64_000), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[1u8; 3500]).unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 3000)]);
    h.at(30 * MS);
    h.feed(&Seg::new(80, port, ACK, peer, iss1 + 3000).win(65535));
    h.expect(&[exp(ACK | PSH, iss1 + 3000, peer, 500)]);

    // TCP_NODELAY: the tail rides along in the same segment.
    let (mut h, id, iss1, peer, _) = connected(tso_config(64_000), 1000, 65535);
    h.stack.tcp_set_nodelay(id, true).unwrap();
    h.stack.tcp_send(h.now, id, &[1u8; 3500]).unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 3500)]);

    // A queued FIN: all of it and the FIN in one segment.
    let (mut h, id, iss1, peer, _) = connected(tso_config(64_000), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[1u8; 3500]).unwrap();
    h.expect(&[exp(ACK | PSH, iss1, peer, 3000)]);
    h.stack.tcp_shutdown(h.now, id).unwrap();
    h.expect(&[exp(ACK | PSH | FIN, iss1 + 3000, peer, 500)]);
}

#[test]
fn the_cap_is_a_whole_number_of_mss_and_retransmissions_are_one_mss() {
    // A cap of 4500 allows 4 × 1000 per segment.
    let (mut h, id, iss1, peer, _) = connected(tso_config(4500), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[3u8; 10_000]).unwrap();
    h.expect(&[
        exp(ACK | PSH, iss1, peer, 4000),
        exp(ACK | PSH, iss1 + 4000, peer, 4000),
        exp(ACK | PSH, iss1 + 8000, peer, 2000),
    ]);
    // Nothing is ACKed: the RTO (1 s initial, from the handshake's RTT
    // sample a little more than 200 ms min) resends one MSS, not a TSO
    // segment.
    let rto = h.stack.tcp_info(id).unwrap().rto_us;
    h.at(h.now + rto + MS);
    let segs = out_with_meta(&mut h);
    assert_eq!(segs.len(), 1, "{segs:?}");
    assert_eq!((segs[0].0.seq, segs[0].0.payload.len()), (iss1, 1000));
    assert_eq!(segs[0].1.gso_size, 0);
}

#[test]
fn without_offload_no_segment_exceeds_the_mss() {
    let (mut h, id, iss1, peer, _) = connected(config(), 1000, 65535);
    h.stack.tcp_send(h.now, id, &[3u8; 2500]).unwrap();
    let segs = out_with_meta(&mut h);
    assert_eq!(segs.len(), 2);
    assert!(segs
        .iter()
        .all(|(s, m)| s.payload.len() == 1000 && *m == TxMeta::default()));
    assert_eq!((segs[1].0.seq, segs[1].0.ack), (iss1 + 1000, peer));
}

#[test]
fn checksum_offload_leaves_the_pseudo_header_sum() {
    let mut c = tso_config(64_000);
    c.offload.tx_checksum = true;
    let (mut h, id, _, _, _) = {
        // The handshake's segments already carry partial checksums, which
        // the harness's checker rejects: complete them as the device would.
        let mut h = Harness::new(c);
        let id = h
            .stack
            .tcp_connect(0, SocketAddrV4::new(PEER, 80), None)
            .unwrap();
        let mut raw = Vec::new();
        h.stack
            .transmit_with(&mut |p, meta| raw.push((p.to_vec(), meta)));
        assert_eq!(raw.len(), 1);
        assert!(raw[0].1.checksum_partial);
        let mut p = raw[0].0.clone();
        let field = u16::from_be_bytes([p[36], p[37]]);
        let tcp_len = (p.len() - 20) as u16;
        let pseudo = checksum(&[&p[12..20], &[0, 6], &tcp_len.to_be_bytes()]);
        assert_eq!(field, !pseudo, "the field is the folded pseudo-header sum");
        // Completing it gives the checksum a non-offloading stack sends.
        p[36..38].copy_from_slice(&[0, 0]);
        let full = checksum(&[&p[12..20], &[0, 6], &tcp_len.to_be_bytes(), &p[20..]]);
        p[36..38].copy_from_slice(&full.to_be_bytes());
        let syn = parse_tcp(&p);
        (h, id, syn.seq, 0, syn.src_port)
    };
    assert!(h.stack.tcp_info(id).is_some());
    h.take_events();
}

#[test]
fn a_64k_super_segment_is_one_segment_acked_at_once() {
    let mut c = config();
    c.tcp.recv_buffer = 1 << 20;
    let (mut h, _l, id, iss1, peer, _) =
        accepted_with(c, |s| s.mss(1460).wscale(7).win(65535), |s| s.win(512));
    let data: Vec<u8> = (0..60_000u32).map(|i| (i * 13 % 256) as u8).collect();
    h.at(20 * MS);
    h.feed(&Seg::new(40000, 80, ACK | PSH, peer, iss1).data(&data));
    // More than one full-size segment unacknowledged: ACK now.
    let ack = h.expect(&[exp(ACK, iss1, peer + 60_000, 0)]);
    assert!(ack[0].window > 0);
    assert_eq!(h.take_events(), vec![Event::Readable { id }]);
    let mut buf = Vec::new();
    assert_eq!(h.stack.tcp_recv(h.now, id, &mut buf, 1 << 20), Ok(60_000));
    assert_eq!(buf, data);
    assert_eq!(h.stack.stats().tcp_in_csum_errors, 0);
    // Reading it all opened the window: a window update.
    h.expect(&[exp(ACK, iss1, peer + 60_000, 0)]);

    // A wrong checksum is caught unless the device vouches for the packet
    // (receive offload: the kernel left it partial or verified it).
    let mut bad = Seg::new(40000, 80, ACK | PSH, peer + 60_000, iss1)
        .data(&data)
        .to_packet(PEER, US);
    bad[36] ^= 0xff;
    h.stack.receive(h.now, &bad);
    assert_eq!(h.stack.stats().tcp_in_csum_errors, 1);
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_received, 60_000);
    h.stack.receive_with(
        h.now,
        &bad,
        RxMeta {
            checksum_trusted: true,
        },
    );
    assert_eq!(h.stack.stats().tcp_in_csum_errors, 1);
    assert_eq!(h.stack.tcp_info(id).unwrap().bytes_received, 120_000);
    h.expect(&[exp(ACK, iss1, peer + 120_000, 0)]);
}
