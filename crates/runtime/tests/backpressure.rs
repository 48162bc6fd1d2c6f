//! Read credit is TCP flow control: with reading off the receiver's window
//! closes and the sender's writes stop being accepted; turning reading on
//! delivers everything and the writes resume.

mod common;

use common::{Pair, Side};
use tunstack_runtime::RtEvent;

/// More than a send buffer plus a receive buffer (256 KiB each by default),
/// so the writer must block while the reader is off.
const SIZE: usize = 2 << 20;

#[test]
fn reading_off_closes_the_window_and_reading_on_resumes() {
    let mut pair = Pair::new();
    let (client, server) = pair.connect(9000);
    // Nothing has been written yet, so nothing can have been read.
    pair.b.tcp_set_reading(server, false).unwrap();
    // Every packet in or out becomes an event, so the test wakes for each
    // window change (the sender's 'writable' only fires once half its
    // buffer is free, which a closing window may never allow).
    pair.a.set_trace(true).unwrap();
    pair.b.set_trace(true).unwrap();

    let out = common::pattern(7, SIZE);
    let mut sent = 0usize;
    let mut got = Vec::new();
    let write = |pair: &Pair, sent: &mut usize| {
        while *sent < out.len() {
            match pair.a.tcp_write(client, &out[*sent..]).unwrap() {
                0 => break,
                n => *sent += n,
            }
        }
    };
    write(&pair, &mut sent);

    // Phase 1: the window closes. Every batch is re-checked against the
    // stall condition; B must deliver no data meanwhile.
    let stalled = |pair: &Pair| {
        let b = pair.b.tcp_info(server).unwrap().unwrap();
        let a = pair.a.tcp_info(client).unwrap().unwrap();
        b.rcv_wnd == 0 && a.snd_wnd == 0
    };
    while !stalled(&pair) {
        let (side, events) = pair.next();
        for event in events {
            match (side, event) {
                (Side::B, RtEvent::Data { .. }) => panic!("data delivered while reading was off"),
                (Side::A, RtEvent::Writable { .. }) => write(&pair, &mut sent),
                (_, RtEvent::Closed { error: Some(e), .. }) => panic!("connection failed: {e}"),
                _ => {}
            }
        }
    }
    // Zero window and a full send buffer: writes take nothing now.
    write(&pair, &mut sent);
    assert_eq!(pair.a.tcp_write(client, &out[sent..]).unwrap(), 0);
    assert!(
        sent < SIZE,
        "the whole payload fit while the reader was off"
    );
    let b = pair.b.tcp_info(server).unwrap().unwrap();
    assert!(b.recv_queue > 0, "the receiver holds the unread bytes");
    let stalled_at = sent;

    // Phase 2: reading on. Everything arrives, in order, and writes resume.
    pair.a.set_trace(false).unwrap();
    pair.b.set_trace(false).unwrap();
    pair.b.tcp_set_reading(server, true).unwrap();
    let mut shut = false;
    let finish = |pair: &Pair, sent: usize, shut: &mut bool| {
        if sent == SIZE && !*shut {
            pair.a.tcp_shutdown(client).unwrap();
            *shut = true;
        }
    };
    let mut eof = false;
    while !eof {
        let (side, events) = pair.next();
        for event in events {
            match (side, event) {
                (Side::B, RtEvent::Data { id, data }) => {
                    assert_eq!(id, server);
                    got.extend_from_slice(&data);
                }
                (Side::B, RtEvent::End { id }) => {
                    assert_eq!(id, server);
                    eof = true;
                }
                (Side::A, RtEvent::Writable { .. }) => {
                    write(&pair, &mut sent);
                    finish(&pair, sent, &mut shut);
                }
                (_, RtEvent::Closed { error: Some(e), .. }) => panic!("connection failed: {e}"),
                _ => {}
            }
        }
    }
    assert!(sent > stalled_at, "writes resumed");
    assert_eq!(sent, SIZE);
    assert!(
        got == out,
        "received {} bytes, not the data sent",
        got.len()
    );
}
