//! The interop harness shared by `interop_smoltcp.rs` (clean link:
//! handshake, bulk transfer, close) and `interop_smoltcp_loss.rs` (loss,
//! duplication, reordering): our engine against smoltcp 0.14's TCP socket,
//! a TCP nobody here wrote, over an in-memory IP link (Medium::Ip, MTU
//! 1500) on virtual time. Each direction carries 1 MB+ of seeded data,
//! checked by SHA-256, and the connection must close completely on both
//! sides (through TIME_WAIT on the side that closed first).
//!
//! The link is a `tunstack_device::Impairment` per direction: a 1 ms
//! one-way delay, plus whatever loss, duplication, reordering and jitter
//! the scenario asks for. smoltcp runs with its defaults (Nagle, 10 ms
//! delayed ACK, its own RTO bounds); only its buffers are set, to 256 KiB so
//! that it offers window scaling. The clock jumps to the
//! earliest of our `poll_at`, smoltcp's `poll_at` and the links' release
//! times whenever nothing is ready, so a whole run takes milliseconds of
//! CPU. Every loop is bounded so an engine bug fails the test instead of
//! hanging it.

use crate::support::{self, pseudo_random_bytes, Segment, RST};
use sha2::{Digest, Sha256};
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use tunstack_core::{Error, Event, Instant, SocketId, Stack, StackConfig, State};
use tunstack_device::{Impairment, ImpairmentConfig};

pub const OUR_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const SMOL_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const MTU: usize = 1500;
pub const OUR_PORT: u16 = 80;
pub const SMOL_PORT: u16 = 8080;
pub const SMOL_EPHEMERAL_PORT: u16 = 49152;
pub const ONE_WAY_DELAY_US: u64 = 1_000;
/// smoltcp's socket buffers; above 64 KiB so smoltcp offers window scaling.
pub const SMOL_BUFFER: usize = 256 * 1024;
/// Bounds that turn a stuck engine into a failure, far above what a
/// correct run needs (a few thousand iterations, minutes of virtual time).
pub const MAX_ITERATIONS: u64 = 3_000_000;
pub const MAX_VIRTUAL_TIME_US: u64 = 3_600 * 1_000_000;

/// An in-memory smoltcp device: the test loop fills `rx` from the link and
/// drains `tx` into the other link.
pub struct QueueDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

pub struct RxToken(Vec<u8>);

pub struct TxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buffer = vec![0u8; len];
        let result = f(&mut buffer);
        self.0.push(buffer);
        result
    }
}

impl phy::Device for QueueDevice {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(RxToken, TxToken<'_>)> {
        let packet = self.rx.pop_front()?;
        Some((RxToken(packet), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = MTU;
        caps
    }
}

pub fn smol_now(now: Instant) -> SmolInstant {
    SmolInstant::from_micros(now as i64)
}

/// Which side listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OurRole {
    /// smoltcp connects to our listener.
    Server,
    /// We connect to a smoltcp listener.
    Client,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub our_role: OurRole,
    pub bytes_each_way: usize,
    pub loss: f64,
    /// Duplication and reordering probabilities; reordered packets also
    /// get up to 500 µs of jitter.
    pub duplicate: f64,
    pub reorder: f64,
    pub seed: u64,
}

/// Per-direction wire bookkeeping and the packet checks.
pub struct Wire {
    link: Impairment,
    /// Who sends on this link, for messages.
    name: &'static str,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    packets: u64,
    rsts: u64,
}

impl Wire {
    fn new(
        name: &'static str,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        scenario: &Scenario,
        seed: u64,
    ) -> Self {
        let link = Impairment::new(ImpairmentConfig {
            loss: scenario.loss,
            duplicate: scenario.duplicate,
            reorder: scenario.reorder,
            delay_us: ONE_WAY_DELAY_US,
            jitter_us: if scenario.reorder > 0.0 { 500 } else { 0 },
            seed,
            ..Default::default()
        });
        Wire {
            link,
            name,
            src,
            dst,
            packets: 0,
            rsts: 0,
        }
    }

    /// Every packet either side emits must be a well-formed IPv4/TCP packet
    /// between the two addresses that fits the MTU.
    fn push(&mut self, now: Instant, packet: &[u8]) {
        let seg: Segment = support::parse(packet).unwrap_or_else(|why| {
            panic!(
                "{} emitted a malformed packet ({why:?}): {packet:02x?}",
                self.name
            )
        });
        assert!(
            packet.len() <= MTU,
            "{} emitted {} bytes, above the {MTU}-byte MTU: {seg}",
            self.name,
            packet.len()
        );
        assert_eq!(
            seg.ip_len,
            packet.len(),
            "{} emitted trailing bytes after the IP total length",
            self.name
        );
        assert_eq!(
            (seg.src, seg.dst),
            (self.src, self.dst),
            "{} emitted {seg}",
            self.name
        );
        if seg.has(RST) {
            self.rsts += 1;
        }
        self.packets += 1;
        self.link.push(now, packet);
    }
}

/// Our engine's side of the conversation. Driven strictly by events, as the
/// runtime drives it: read on `Readable`, write on `Writable`.
pub struct OurSide {
    stack: Stack,
    listener: Option<SocketId>,
    conn: Option<SocketId>,
    data: Vec<u8>,
    sent: usize,
    shut_down: bool,
    received: Sha256,
    received_len: usize,
    eof: bool,
    closed: Option<Option<Error>>,
    /// (from, to) transitions reported for our connection, in order.
    transitions: Vec<(State, State)>,
    /// StateChanged events of sockets we have not accepted yet.
    early_transitions: Vec<(SocketId, State, State)>,
    readable_events: u64,
    flushed: bool,
    /// The first segments from smoltcp our engine refused, for diagnosis.
    rejected: Vec<String>,
}

impl OurSide {
    fn try_send(&mut self, now: Instant) {
        let Some(id) = self.conn else { return };
        while self.sent < self.data.len() {
            match self.stack.tcp_send(now, id, &self.data[self.sent..]) {
                Ok(0) => break,
                Ok(n) => self.sent += n,
                Err(e) => panic!("tcp_send failed after {} bytes: {e}", self.sent),
            }
        }
    }

    fn try_recv(&mut self, now: Instant) {
        let Some(id) = self.conn else { return };
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            buf.clear();
            match self.stack.tcp_recv(now, id, &mut buf, 64 * 1024) {
                Ok(0) => break,
                Ok(n) => {
                    assert_eq!(
                        n,
                        buf.len(),
                        "tcp_recv returned {n} but appended {}",
                        buf.len()
                    );
                    self.received.update(&buf);
                    self.received_len += n;
                }
                Err(e) => panic!("tcp_recv failed after {} bytes: {e}", self.received_len),
            }
        }
        if self.stack.tcp_at_eof(id) {
            self.eof = true;
        }
    }

    fn maybe_shut_down(&mut self, now: Instant, role: OurRole) {
        let Some(id) = self.conn else { return };
        let policy = match role {
            // The client closes first, as soon as its data is queued.
            OurRole::Client => self.sent == self.data.len(),
            // The server closes once it has sent everything and read the EOF,
            // so it sends part of its data from CLOSE_WAIT (half-close).
            OurRole::Server => self.sent == self.data.len() && self.eof,
        };
        if policy && !self.shut_down && self.closed.is_none() {
            self.stack.tcp_shutdown(now, id).expect("tcp_shutdown");
            self.shut_down = true;
        }
    }

    /// Process every pending event; true if there was any.
    fn handle_events(&mut self, now: Instant, role: OurRole) -> bool {
        let mut any = false;
        while let Some(event) = self.stack.poll_event() {
            any = true;
            match event {
                Event::Acceptable { listener } => {
                    assert_eq!(
                        Some(listener),
                        self.listener,
                        "Acceptable for an unknown listener"
                    );
                    while let Some(id) = self.stack.tcp_accept(listener) {
                        assert!(
                            self.conn.is_none(),
                            "a second connection was accepted: {id:?}"
                        );
                        self.conn = Some(id);
                        for (sid, from, to) in std::mem::take(&mut self.early_transitions) {
                            if sid == id {
                                self.transitions.push((from, to));
                            }
                        }
                        // Edges for this connection may have fired before we
                        // knew its id.
                        self.try_recv(now);
                        self.try_send(now);
                    }
                }
                Event::Connected { id } => {
                    assert_eq!(Some(id), self.conn, "Connected for an unknown socket");
                    self.try_send(now);
                }
                Event::Readable { id } if Some(id) == self.conn => {
                    self.readable_events += 1;
                    self.try_recv(now);
                }
                Event::Writable { id } if Some(id) == self.conn => self.try_send(now),
                Event::Flushed { id } if Some(id) == self.conn => self.flushed = true,
                Event::Closed { id, error } if Some(id) == self.conn => {
                    assert!(self.closed.is_none(), "Closed reported twice");
                    self.closed = Some(error);
                }
                Event::StateChanged { id, from, to } => {
                    if Some(id) == self.conn {
                        self.transitions.push((from, to));
                    } else {
                        self.early_transitions.push((id, from, to));
                    }
                }
                Event::Retransmit { .. }
                | Event::Note { .. }
                | Event::Congestion { .. }
                | Event::Window { .. }
                | Event::Listen { .. } => {}
                // Edges of a connection not accepted yet: handled at accept.
                Event::Readable { .. } | Event::Writable { .. } | Event::Flushed { .. } => {}
                other => panic!("unexpected event {other:?}"),
            }
            self.maybe_shut_down(now, role);
        }
        any
    }
}

/// smoltcp's side, driven by polling its socket every iteration.
pub struct SmolSide {
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    device: QueueDevice,
    data: Vec<u8>,
    sent: usize,
    closed_called: bool,
    received: Sha256,
    received_len: usize,
    eof: bool,
    /// Every distinct state the socket was seen in, in order.
    states: Vec<tcp::State>,
}

impl SmolSide {
    fn new(seed: u64, data: Vec<u8>) -> Self {
        let mut device = QueueDevice {
            rx: VecDeque::new(),
            tx: Vec::new(),
        };
        let mut config = IfaceConfig::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut device, smol_now(0));
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(SMOL_ADDR), 24))
                .expect("one address fits");
        });
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; SMOL_BUFFER]),
            tcp::SocketBuffer::new(vec![0u8; SMOL_BUFFER]),
        );
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(socket);
        SmolSide {
            iface,
            sockets,
            handle,
            device,
            data,
            sent: 0,
            closed_called: false,
            received: Sha256::new(),
            received_len: 0,
            eof: false,
            states: vec![tcp::State::Closed],
        }
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }

    fn state(&self) -> tcp::State {
        self.sockets.get::<tcp::Socket>(self.handle).state()
    }

    fn note_state(&mut self) {
        let state = self.state();
        if self.states.last() != Some(&state) {
            self.states.push(state);
        }
    }

    /// Move application data in and out of the socket; true if any moved.
    fn run_app(&mut self, role: OurRole) -> bool {
        let mut progress = false;
        let socket = self.sockets.get_mut::<tcp::Socket>(self.handle);
        loop {
            let received = &mut self.received;
            match socket.recv(|data| {
                received.update(&*data);
                (data.len(), data.len())
            }) {
                Ok(0) => break,
                Ok(n) => {
                    self.received_len += n;
                    progress = true;
                }
                Err(tcp::RecvError::Finished) => {
                    progress |= !self.eof;
                    self.eof = true;
                    break;
                }
                Err(tcp::RecvError::InvalidState) => break,
            }
        }
        while self.sent < self.data.len() && socket.may_send() {
            match socket.send_slice(&self.data[self.sent..]) {
                Ok(0) => break,
                Ok(n) => {
                    self.sent += n;
                    progress = true;
                }
                Err(e) => panic!("smoltcp send failed: {e}"),
            }
        }
        let policy = match role {
            // smoltcp is the client: it closes first, once its data is queued.
            OurRole::Server => self.sent == self.data.len(),
            // smoltcp is the server: it closes after the EOF and its data.
            OurRole::Client => self.sent == self.data.len() && self.eof,
        };
        if policy && !self.closed_called && socket.may_send() {
            socket.close();
            self.closed_called = true;
            progress = true;
        }
        progress
    }
}

/// Counters of inbound packets refused as malformed or unacceptable. A
/// correct peer on a link that only loses packets should never hit them.
pub fn rejections(s: &tunstack_core::Stats) -> u64 {
    s.ip_in_hdr_errors
        + s.ip_in_csum_errors
        + s.ip_in_addr_errors
        + s.ip_in_truncated
        + s.ip_in_fragments_dropped
        + s.tcp_in_errs
        + s.tcp_in_csum_errors
}

pub fn digest(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Legal transitions of RFC 9293 §3.3.2 (Figure 5), plus any state to
/// CLOSED (reset, abort, timeout — the close reason is checked separately).
pub fn legal_transition(from: State, to: State) -> bool {
    use State::*;
    to == Closed
        || matches!(
            (from, to),
            (Closed, Listen)
                | (Closed, SynSent)
                // A child of a listener may be reported as born in SYN_RECEIVED.
                | (Closed, SynReceived)
                | (Listen, SynReceived)
                | (Listen, SynSent)
                | (SynSent, SynReceived)
                | (SynSent, Established)
                | (SynReceived, Established)
                | (SynReceived, FinWait1)
                | (SynReceived, Listen)
                | (Established, FinWait1)
                | (Established, CloseWait)
                | (FinWait1, FinWait2)
                | (FinWait1, Closing)
                | (FinWait1, TimeWait)
                | (FinWait2, TimeWait)
                | (CloseWait, LastAck)
                | (Closing, TimeWait)
        )
}

/// Everything delivered both ways, and both sides fully closed.
pub fn finished(ours: &OurSide, smol: &SmolSide) -> bool {
    ours.received_len == smol.data.len()
        && ours.eof
        && smol.received_len == ours.data.len()
        && smol.eof
        && ours.closed.is_some()
        && ours.transitions.last().map(|t| t.1) == Some(State::Closed)
        && smol.state() == tcp::State::Closed
}

pub struct Outcome {
    ours: OurSide,
    smol: SmolSide,
    to_smol: Wire,
    to_ours: Wire,
    iterations: u64,
    now: Instant,
}

pub fn run(scenario: &Scenario) -> Outcome {
    let our_data = pseudo_random_bytes(scenario.seed ^ 0x0a, scenario.bytes_each_way);
    let smol_data = pseudo_random_bytes(scenario.seed ^ 0x0b, scenario.bytes_each_way + 4321);

    let mut config = StackConfig::new(OUR_ADDR, 24);
    config.mtu = MTU as u16;
    config.seed = scenario.seed;
    let mut ours = OurSide {
        stack: Stack::new(config),
        listener: None,
        conn: None,
        data: our_data,
        sent: 0,
        shut_down: false,
        received: Sha256::new(),
        received_len: 0,
        eof: false,
        closed: None,
        transitions: Vec::new(),
        early_transitions: Vec::new(),
        readable_events: 0,
        flushed: false,
        rejected: Vec::new(),
    };
    let mut smol = SmolSide::new(scenario.seed.wrapping_add(1), smol_data);
    let mut to_smol = Wire::new(
        "our engine",
        OUR_ADDR,
        SMOL_ADDR,
        scenario,
        scenario.seed ^ 0x51,
    );
    let mut to_ours = Wire::new(
        "smoltcp",
        SMOL_ADDR,
        OUR_ADDR,
        scenario,
        scenario.seed ^ 0x52,
    );

    let mut now: Instant = 0;
    match scenario.our_role {
        OurRole::Server => {
            let listener = ours
                .stack
                .tcp_listen(SocketAddrV4::new(OUR_ADDR, OUR_PORT), 8)
                .expect("tcp_listen");
            ours.listener = Some(listener);
            let cx = smol.iface.context();
            smol.sockets
                .get_mut::<tcp::Socket>(smol.handle)
                .connect(
                    cx,
                    (IpAddress::Ipv4(OUR_ADDR), OUR_PORT),
                    SMOL_EPHEMERAL_PORT,
                )
                .expect("smoltcp connect");
        }
        OurRole::Client => {
            smol.socket().listen(SMOL_PORT).expect("smoltcp listen");
            let id = ours
                .stack
                .tcp_connect(now, SocketAddrV4::new(SMOL_ADDR, SMOL_PORT), None)
                .expect("tcp_connect");
            ours.conn = Some(id);
        }
    }
    smol.note_state();

    let mut iterations = 0u64;
    loop {
        iterations += 1;
        if finished(&ours, &smol) {
            break;
        }
        assert!(
            iterations < MAX_ITERATIONS && now < MAX_VIRTUAL_TIME_US,
            "no completion after {iterations} iterations / {now} µs of virtual time: \
             ours sent {}/{} received {}/{} eof {} closed {:?} transitions {:?} info {:?}; \
             smoltcp sent {}/{} received {}/{} eof {} states {:?}",
            ours.sent,
            ours.data.len(),
            ours.received_len,
            smol.data.len(),
            ours.eof,
            ours.closed,
            ours.transitions,
            ours.conn.and_then(|id| ours.stack.tcp_info(id)),
            smol.sent,
            smol.data.len(),
            smol.received_len,
            ours.data.len(),
            smol.eof,
            smol.states,
        );
        let mut progress = false;

        // Our engine: input, timers, events, output.
        while let Some(packet) = to_ours.link.pop(now) {
            let before = rejections(ours.stack.stats());
            let info = ours.conn.and_then(|id| ours.stack.tcp_info(id));
            ours.stack.receive(now, &packet);
            if rejections(ours.stack.stats()) != before && ours.rejected.len() < 4 {
                let seg = support::parse(&packet).expect("checked when sent");
                ours.rejected
                    .push(format!("at {now} µs: {seg}, our state before: {info:?}"));
            }
            progress = true;
        }
        ours.stack.poll(now);
        progress |= ours.handle_events(now, scenario.our_role);
        ours.stack.transmit(&mut |packet| {
            to_smol.push(now, packet);
            progress = true;
        });

        // smoltcp: input, its socket, output.
        while let Some(packet) = to_smol.link.pop(now) {
            smol.device.rx.push_back(packet);
        }
        smol.iface
            .poll(smol_now(now), &mut smol.device, &mut smol.sockets);
        smol.note_state();
        progress |= smol.run_app(scenario.our_role);
        smol.iface
            .poll(smol_now(now), &mut smol.device, &mut smol.sockets);
        smol.note_state();
        for packet in std::mem::take(&mut smol.device.tx) {
            to_ours.push(now, &packet);
            progress = true;
        }

        if progress {
            continue;
        }
        let smol_at = smol
            .iface
            .poll_at(smol_now(now), &smol.sockets)
            .map(|t| t.total_micros().max(0) as u64);
        let next = [
            ours.stack.poll_at(),
            smol_at,
            to_ours.link.poll_at(),
            to_smol.link.poll_at(),
        ]
        .into_iter()
        .flatten()
        .min();
        if next.is_none() && finished(&ours, &smol) {
            break;
        }
        let next = next.unwrap_or_else(|| {
            panic!(
                "deadlock at {now} µs: nothing in flight and no timer armed; \
                     ours sent {}/{} received {} eof {} transitions {:?}; \
                     smoltcp sent {}/{} received {} eof {} states {:?}",
                ours.sent,
                ours.data.len(),
                ours.received_len,
                ours.eof,
                ours.transitions,
                smol.sent,
                smol.data.len(),
                smol.received_len,
                smol.eof,
                smol.states
            )
        });
        // A deadline in the past with nothing to do still moves the clock,
        // so a stale deadline cannot spin the loop at one instant.
        now = next.max(now + 1);
    }
    Outcome {
        ours,
        smol,
        to_smol,
        to_ours,
        iterations,
        now,
    }
}

/// The checks every scenario shares.
pub fn check(scenario: &Scenario, mut out: Outcome) {
    let ctx = format!(
        "{scenario:?} after {} iterations, {} µs virtual",
        out.iterations, out.now
    );
    // Byte-exact in both directions.
    assert_eq!(
        out.ours.received_len,
        out.smol.data.len(),
        "{ctx}: bytes we received"
    );
    assert_eq!(
        out.ours.received.clone().finalize().to_vec(),
        digest(&out.smol.data),
        "{ctx}: SHA-256 of smoltcp → us"
    );
    assert_eq!(
        out.smol.received_len,
        out.ours.data.len(),
        "{ctx}: bytes smoltcp received"
    );
    assert_eq!(
        out.smol.received.clone().finalize().to_vec(),
        digest(&out.ours.data),
        "{ctx}: SHA-256 of us → smoltcp"
    );
    assert!(out.ours.readable_events > 0, "{ctx}: no Readable event");
    assert!(
        out.ours.flushed,
        "{ctx}: no Flushed event although everything was acknowledged"
    );

    // Our close: orderly, along legal RFC 9293 transitions, ending CLOSED.
    assert_eq!(out.ours.closed, Some(None), "{ctx}: our Closed event");
    let transitions = &out.ours.transitions;
    assert!(!transitions.is_empty(), "{ctx}: no StateChanged events");
    for pair in transitions.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].0,
            "{ctx}: transitions not contiguous: {transitions:?}"
        );
    }
    for &(from, to) in transitions {
        assert!(
            legal_transition(from, to),
            "{ctx}: illegal {from} → {to} in {transitions:?}"
        );
    }
    let visited: Vec<State> = transitions.iter().map(|t| t.1).collect();
    assert!(
        visited.contains(&State::Established),
        "{ctx}: never ESTABLISHED: {transitions:?}"
    );
    let smol_states = &out.smol.states;
    assert!(
        smol_states.contains(&tcp::State::Established),
        "{ctx}: smoltcp never Established: {smol_states:?}"
    );
    assert_eq!(
        smol_states.last(),
        Some(&tcp::State::Closed),
        "{ctx}: smoltcp states {smol_states:?}"
    );

    // The client closes first, so it passes through TIME_WAIT and the
    // server through CLOSE_WAIT and LAST_ACK (RFC 9293 Figure 13).
    match scenario.our_role {
        OurRole::Client => {
            for s in [State::FinWait1, State::TimeWait] {
                assert!(
                    visited.contains(&s),
                    "{ctx}: we closed first but never reached {s}: {transitions:?}"
                );
            }
            assert!(
                smol_states.contains(&tcp::State::LastAck),
                "{ctx}: smoltcp closed second but never LastAck: {smol_states:?}"
            );
        }
        OurRole::Server => {
            for s in [State::CloseWait, State::LastAck] {
                assert!(
                    visited.contains(&s),
                    "{ctx}: we closed second but never reached {s}: {transitions:?}"
                );
            }
            assert!(
                smol_states.contains(&tcp::State::TimeWait),
                "{ctx}: smoltcp closed first but never TimeWait: {smol_states:?}"
            );
        }
    }

    let stats = out.ours.stack.stats().clone();
    // smoltcp never sends malformed segments, and never sends outside the
    // window we advertised, so our engine must not refuse any of them. (A
    // pure ACK at exactly RCV.NXT + RCV.WND, which a sender that filled the
    // window emits, is accepted by Linux and BSD; refusing it loses the ACK.)
    assert_eq!(
        rejections(&stats),
        0,
        "{ctx}: our engine refused segments from smoltcp; first ones: {:#?}; {stats:?}",
        out.ours.rejected
    );

    if scenario.loss == 0.0 {
        // A lossless link with a fixed delay gives no reason to retransmit
        // or reset.
        assert_eq!(
            stats.tcp_retrans_segs, 0,
            "{ctx}: spurious retransmissions: {stats:?}"
        );
        assert_eq!(
            out.to_smol.rsts + out.to_ours.rsts,
            0,
            "{ctx}: RST on a clean run"
        );
    } else {
        assert!(out.to_smol.link.stats().dropped > 0 && out.to_ours.link.stats().dropped > 0);
        assert!(
            stats.tcp_retrans_segs > 0,
            "{ctx}: loss but no retransmission: {stats:?}"
        );
    }
    if let Some(id) = out.ours.conn {
        out.ours.stack.tcp_release(out.now, id);
    }
    assert!(out.to_smol.packets > 0 && out.to_ours.packets > 0);
}
