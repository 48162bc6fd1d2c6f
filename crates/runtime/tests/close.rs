//! Closing a stack: FIN to every connection, wait for the closes within the
//! grace period, reset what remains, stop. Dropping a runtime resets.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::mpsc;
use std::time::Duration;

use common::{Pair, Side, WAIT};
use tunstack_runtime::{Error, RtError, RtEvent};

#[test]
fn close_sends_fin_and_completes_when_the_peer_closes_too() {
    let mut pair = Pair::new();
    let (client, server) = pair.connect(7000);
    let (done_tx, done_rx) = mpsc::channel();
    pair.a
        .close(Duration::from_secs(60), move || done_tx.send(()).unwrap());

    // B reads A's FIN and answers with its own, as an application would.
    pair.wait_for(
        |side, e| side == Side::B && *e == RtEvent::End { id: server },
        |_, _| {},
    );
    pair.b.tcp_shutdown(server).unwrap();
    let (_, closed) = pair.wait_for(
        |side, e| side == Side::B && matches!(e, RtEvent::Closed { id, .. } if *id == server),
        |_, _| {},
    );
    assert_eq!(
        closed,
        RtEvent::Closed {
            id: server,
            error: None
        }
    );
    done_rx.recv_timeout(WAIT).expect("close completed");

    assert!(pair.a.is_stopped());
    let err = pair.a.tcp_write(client, b"late").unwrap_err();
    assert_eq!(err, RtError::Closed);
    assert_eq!(err.code(), "ERR_STACK_CLOSED");
    // A second close after the stop calls back at once.
    let (tx, rx) = mpsc::channel();
    pair.a.close(Duration::ZERO, move || tx.send(()).unwrap());
    rx.try_recv().expect("immediate callback");
}

#[test]
fn close_resets_what_does_not_finish_within_the_grace_period() {
    let mut pair = Pair::new();
    let (_client, server) = pair.connect(7001);
    let (done_tx, done_rx) = mpsc::channel();
    // B never closes its side, so A's connection cannot finish gracefully.
    pair.a.close(Duration::from_millis(100), move || {
        done_tx.send(()).unwrap()
    });
    let (_, closed) = pair.wait_for(
        |side, e| side == Side::B && matches!(e, RtEvent::Closed { id, .. } if *id == server),
        |_, _| {},
    );
    assert_eq!(
        closed,
        RtEvent::Closed {
            id: server,
            error: Some(Error::ConnectionReset)
        }
    );
    done_rx.recv_timeout(WAIT).expect("close completed");
}

#[test]
fn dropping_a_runtime_resets_its_connections() {
    let mut pair = Pair::new();
    let (_client, server) = pair.connect(7002);
    let Pair { a, .. } = &mut pair;
    drop(std::mem::replace(a, start_idle()));
    let (_, closed) = pair.wait_for(
        |side, e| side == Side::B && matches!(e, RtEvent::Closed { id, .. } if *id == server),
        |_, _| {},
    );
    assert_eq!(
        closed,
        RtEvent::Closed {
            id: server,
            error: Some(Error::ConnectionReset)
        }
    );
}

#[test]
fn new_sockets_are_refused_while_closing() {
    let pair = Pair::new();
    pair.a.close(Duration::from_secs(60), || {});
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 1234);
    // Either still closing or already stopped: both refuse with ERR_STACK_CLOSED.
    assert_eq!(pair.a.tcp_listen(any, 1).unwrap_err(), RtError::Closed);
    assert_eq!(pair.a.udp_bind(any).unwrap_err(), RtError::Closed);
}

/// A runtime on a link nobody else uses, to stand in for a dropped one.
fn start_idle() -> tunstack_runtime::Runtime {
    let (dev, _peer) = tunstack_device::memory::pair(1500);
    tunstack_runtime::Runtime::start(
        Box::new(dev),
        common::config(common::ADDR_A, 9),
        Box::new(|_| {}),
    )
    .unwrap()
}
