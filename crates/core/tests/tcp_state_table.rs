//! RFC 9293 §3.10.7.4's segment-arrival rules as a table: for every
//! synchronized state, what a RST (exact, in the window, outside it), a
//! SYN, an ACK of something never sent, data (in and outside the window)
//! and a FIN do — with RFC 5961's challenge ACKs and RFC 1337's TIME_WAIT
//! rule where they refine the base text. Each cell builds the state
//! afresh, feeds one segment, and checks what went out, the state after,
//! and the error reported.

mod common;
use common::*;
use tunstack_core::{Error, Event, SocketId, State};

/// A connection in `state`, with what a segment from the peer needs.
struct Ctx {
    h: Harness,
    id: SocketId,
    port: u16,
    /// RCV.NXT.
    rcv: u32,
    /// An ACK value that acknowledges nothing new (SND.UNA).
    una: u32,
    /// SND.MAX.
    snd_max: u32,
}

fn in_state(state: State) -> Ctx {
    let (mut h, id, iss1, peer, port) = connected(config(), 1460, 65535);
    let c = |h: Harness, rcv, una, snd_max| Ctx {
        h,
        id,
        port,
        rcv,
        una,
        snd_max,
    };
    let shutdown = |h: &mut Harness| {
        h.stack.tcp_shutdown(h.now, id).unwrap();
        h.expect(&[exp(ACK | FIN, iss1, peer, 0)]);
    };
    let ctx = match state {
        State::Established => c(h, peer, iss1, iss1),
        State::FinWait1 => {
            shutdown(&mut h);
            c(h, peer, iss1, iss1 + 1)
        }
        State::FinWait2 => {
            shutdown(&mut h);
            h.feed(&Seg::new(80, port, ACK, peer, iss1 + 1));
            c(h, peer, iss1 + 1, iss1 + 1)
        }
        State::CloseWait => {
            h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1));
            h.out();
            c(h, peer + 1, iss1, iss1)
        }
        State::Closing => {
            shutdown(&mut h);
            h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1));
            h.out();
            c(h, peer + 1, iss1, iss1 + 1)
        }
        State::LastAck => {
            h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1));
            h.out();
            h.stack.tcp_shutdown(h.now, id).unwrap();
            h.out();
            c(h, peer + 1, iss1, iss1 + 1)
        }
        State::TimeWait => {
            shutdown(&mut h);
            h.feed(&Seg::new(80, port, ACK | FIN, peer, iss1 + 1));
            h.out();
            c(h, peer + 1, iss1 + 1, iss1 + 1)
        }
        other => unreachable!("{other:?} is not in the table"),
    };
    assert_eq!(ctx.h.state(id), state, "setting up {state:?}");
    let mut ctx = ctx;
    ctx.h.take_events();
    // Out of the rate limit's reach of anything the setup provoked.
    let t = ctx.h.now + SEC;
    ctx.h.at(t);
    ctx.h.out();
    ctx
}

/// States in which the peer's FIN has been received.
fn fin_received(state: State) -> bool {
    matches!(
        state,
        State::CloseWait | State::Closing | State::LastAck | State::TimeWait
    )
}

#[derive(Debug, Clone, Copy)]
enum Arrival {
    RstExact,
    RstInWindow,
    RstOutOfWindow,
    Syn,
    AckOfUnsent,
    DataInWindow,
    DataOutOfWindow,
    Fin,
}

impl Arrival {
    const ALL: [Arrival; 8] = [
        Arrival::RstExact,
        Arrival::RstInWindow,
        Arrival::RstOutOfWindow,
        Arrival::Syn,
        Arrival::AckOfUnsent,
        Arrival::DataInWindow,
        Arrival::DataOutOfWindow,
        Arrival::Fin,
    ];
}

/// What must happen: the flags of the one segment sent (None: silence),
/// the state after, and the error the connection ends with (if it ends).
struct Outcome {
    reply: Option<u8>,
    state: State,
    error: Option<Error>,
}

fn expected(state: State, a: Arrival) -> Outcome {
    use Arrival::*;
    let same = |reply| Outcome {
        reply,
        state,
        error: None,
    };
    let fin_received = fin_received(state);
    match a {
        RstExact => match state {
            State::TimeWait => same(None), // RFC 1337
            State::Closing | State::LastAck => Outcome {
                reply: None,
                state: State::Closed,
                error: None,
            },
            _ => Outcome {
                reply: None,
                state: State::Closed,
                error: Some(Error::ConnectionReset),
            },
        },
        RstInWindow if state == State::TimeWait => same(None),
        RstInWindow => same(Some(ACK)), // challenge ACK (RFC 5961 §3.2)
        RstOutOfWindow => same(None),
        Syn => same(Some(ACK)),         // challenge ACK (RFC 5961 §4.2)
        AckOfUnsent => same(Some(ACK)), // "send an ACK, drop the segment"
        DataOutOfWindow => same(Some(ACK)),
        DataInWindow => same(None), // accepted (delayed ACK) or, after a FIN, ignored
        Fin if fin_received => same(Some(ACK)), // a retransmitted FIN is re-ACKed
        Fin => Outcome {
            reply: Some(ACK),
            state: match state {
                State::Established => State::CloseWait,
                State::FinWait1 => State::Closing,
                State::FinWait2 => State::TimeWait,
                s => s,
            },
            error: None,
        },
    }
}

fn segment(ctx: &Ctx, state: State, a: Arrival) -> Seg {
    use Arrival::*;
    let p = |flags, seq, ack| Seg::new(80, ctx.port, flags, seq, ack);
    let fin_received = fin_received(state);
    match a {
        RstExact => p(RST, ctx.rcv, 0),
        RstInWindow => p(RST, ctx.rcv + 100, 0),
        RstOutOfWindow => p(RST, ctx.rcv.wrapping_add(1 << 30), 0),
        Syn => p(SYN, ctx.rcv, 0),
        AckOfUnsent => p(ACK, ctx.rcv, ctx.snd_max + 1000),
        DataInWindow => p(ACK | PSH, ctx.rcv, ctx.una).data(b"x"),
        DataOutOfWindow => p(ACK | PSH, ctx.rcv.wrapping_add(1 << 30), ctx.una).data(b"x"),
        Fin if fin_received => p(ACK | FIN, ctx.rcv - 1, ctx.una),
        Fin => p(ACK | FIN, ctx.rcv, ctx.una),
    }
}

#[test]
fn every_synchronized_state_against_every_kind_of_arrival() {
    use Arrival::*;
    let states = [
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];
    let mut cells = 0;
    for state in states {
        for a in Arrival::ALL {
            let mut ctx = in_state(state);
            let seg = segment(&ctx, state, a);
            let want = expected(state, a);
            ctx.h.feed(&seg);
            let out = ctx.h.out();
            let what = format!("{state:?} + {a:?}");
            match want.reply {
                None => assert!(out.is_empty(), "{what}: expected silence, got {out:?}"),
                Some(flags) => {
                    assert_eq!(out.len(), 1, "{what}: {out:?}");
                    assert_eq!(out[0].flags, flags, "{what}: {out:?}");
                    // A new FIN is consumed: RCV.NXT moves past it.
                    let new_fin = matches!(a, Fin) && !fin_received(state);
                    let rcv_nxt = ctx.rcv + new_fin as u32;
                    assert_eq!(out[0].ack, rcv_nxt, "{what}: ACKs RCV.NXT");
                    assert_eq!(out[0].seq, ctx.snd_max, "{what}: at SND.NXT");
                }
            }
            let id = ctx.id;
            let now = ctx.h.stack.tcp_info(id).map(|i| i.state);
            assert_eq!(now, Some(want.state), "{what}: state after");
            let events = ctx.h.take_events();
            let ended = events.iter().find_map(|e| match e {
                Event::Closed { id: i, error } if *i == id => Some(*error),
                _ => None,
            });
            if want.state == State::Closed {
                assert_eq!(ended, Some(want.error), "{what}: {events:?}");
            }
            let readable = events.contains(&Event::Readable { id });
            let takes_data = matches!(
                (state, a),
                (
                    State::Established | State::FinWait1 | State::FinWait2,
                    DataInWindow
                ) | (State::Established | State::FinWait1 | State::FinWait2, Fin)
            );
            assert_eq!(
                readable, takes_data,
                "{what}: data/FIN delivered? {events:?}"
            );
            cells += 1;
        }
    }
    assert_eq!(cells, 56);
}
