//! What the engine reports to its driver. Events are edge-triggered hints:
//! the driver reacts by calling the matching `Stack` method.

use crate::error::Error;
use crate::stack::SocketId;
use crate::tcp::state::State;
use std::net::SocketAddrV4;

/// One event, taken from the queue with [`crate::Stack::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A listener's accept queue went from empty to non-empty; call
    /// `tcp_accept` until it returns `None`.
    Acceptable { listener: SocketId },
    /// An active open completed (SYN_SENT → ESTABLISHED).
    Connected { id: SocketId },
    /// New in-order data (or the FIN) is available to `tcp_recv`.
    Readable { id: SocketId },
    /// Send-buffer space became free after a `tcp_send` that accepted fewer
    /// bytes than offered.
    Writable { id: SocketId },
    /// Every byte we queued (and our FIN, if sent) has been acknowledged.
    Flushed { id: SocketId },
    /// The connection ended. `error` is `None` after an orderly close and
    /// the reason (refused, reset, timed out) otherwise. The handle stays
    /// valid until `tcp_release`.
    Closed { id: SocketId, error: Option<Error> },
    /// A state transition, for tracing and the opt-in 'tcp' event.
    StateChanged {
        id: SocketId,
        from: State,
        to: State,
    },
    /// A segment was retransmitted: after a timeout (`attempt` = 1, 2, …,
    /// the backoff count; SYN/SYN-ACK retransmissions have `len` 0), or by
    /// fast retransmit on three duplicate ACKs (`attempt` = 0).
    Retransmit {
        id: SocketId,
        seq: u32,
        len: u32,
        attempt: u32,
        rto_us: u64,
    },
    /// Something the opt-in 'tcp' events report and nothing needs to act
    /// on: a RST sent or received, a challenge ACK.
    Note { id: SocketId, note: Note },
    /// The congestion window or slow-start threshold changed in response to
    /// a loss (or after idle): `cause` says why; `cwnd` and `ssthresh` (bytes)
    /// are the values after the change. Only at these moments, never per ACK.
    Congestion {
        id: SocketId,
        cause: CongestionCause,
        cwnd: u32,
        ssthresh: u32,
    },
    /// Something happened at a listener's queues (SYN queue, SYN cookies,
    /// accept queue), for the opt-in 'tcp' event of a server. `remote` is
    /// the peer the segment came from.
    Listen {
        listener: SocketId,
        remote: SocketAddrV4,
        what: ListenEvent,
    },
    /// Flow control (RFC 9293 §3.8.6): a window closed, was probed or
    /// reopened, for the opt-in 'tcp' events. Only at these moments,
    /// never per segment.
    Window { id: SocketId, what: WindowEvent },
    /// The peer's urgent octet arrived (URG, RFC 9293 §3.8.5; legacy, see
    /// RFC 6093): take it with `tcp_recv_urgent`.
    Urgent { id: SocketId },
    /// A UDP datagram is waiting in a bound UDP socket's queue; call `udp_recv`.
    UdpReadable { id: SocketId },
}

/// A diagnostic event of one connection (see [`Event::Note`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// We sent a RST, and why.
    ResetSent(ResetReason),
    /// A RST arrived, and what became of it.
    ResetReceived(ResetOutcome),
    /// We sent a challenge ACK (RFC 5961) in answer to a segment that may
    /// be a blind attack: the true peer answers it, an attacker cannot.
    ChallengeAck(ChallengeTrigger),
    /// An ICMP error about one of our segments arrived, and what it did.
    Icmp(IcmpNote),
}

/// An ICMP error quoting one of the connection's segments (RFC 1122
/// §4.2.3.9, RFC 9293 MUST-54).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpNote {
    /// ICMP type: 3 destination unreachable, 11 time exceeded, 12 parameter problem.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// What it did to the connection.
    pub action: IcmpAction,
}

/// What an ICMP error did to the connection it quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpAction {
    /// It ended a connection attempt with this error (port or protocol
    /// unreachable while opening).
    Aborted(Error),
    /// Remembered as a soft error: reported instead of ETIMEDOUT should the
    /// retransmissions give up (RFC 9293 MUST-56).
    Soft(Error),
    /// "Fragmentation needed": the MSS became `mss` (RFC 1191).
    PathMtu { mss: u32 },
    /// It quoted a sequence number we do not have in flight: a blind
    /// attack or stale, ignored (RFC 5927 §4.1).
    OutOfWindow,
}

impl IcmpAction {
    /// A short name (for JS).
    pub fn name(self) -> &'static str {
        match self {
            IcmpAction::Aborted(_) => "aborted",
            IcmpAction::Soft(_) => "soft",
            IcmpAction::PathMtu { .. } => "path-mtu",
            IcmpAction::OutOfWindow => "out-of-window",
        }
    }
}

impl Note {
    /// The kind and its detail as short kebab-case names (for JS), e.g.
    /// `("rst-received", "challenged")`.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Note::ResetSent(r) => ("rst-sent", r.name()),
            Note::ResetReceived(o) => ("rst-received", o.name()),
            Note::ChallengeAck(t) => ("challenge-ack", t.name()),
            Note::Icmp(n) => ("icmp", n.action.name()),
        }
    }
}

/// A flow-control moment of one connection (see [`Event::Window`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEvent {
    /// The peer advertised a zero window while we have data to send: the
    /// persist timer now probes it (RFC 9293 §3.8.6.1).
    Zero,
    /// A zero-window probe went out. `probe` counts the probes since the
    /// window closed (1, 2, …); `next_us` is the interval until the next
    /// one, doubled per probe up to the maximum RTO (exponential backoff).
    Probe { probe: u32, next_us: u64 },
    /// The peer's window opened again after being zero: `window` bytes.
    Reopen { window: u32 },
    /// We advertise a window again after having advertised zero (the
    /// application read and freed space): `window` bytes.
    Update { window: u32 },
}

impl WindowEvent {
    /// The kebab-case name the TypeScript layer uses.
    pub fn name(self) -> &'static str {
        match self {
            WindowEvent::Zero => "zero-window",
            WindowEvent::Probe { .. } => "window-probe",
            WindowEvent::Reopen { .. } => "window-reopen",
            WindowEvent::Update { .. } => "window-update",
        }
    }
}

/// Why a connection sent a RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetReason {
    /// The application aborted it (`resetAndDestroy`, SO_LINGER 0).
    Aborted,
    /// The application closed it with received data still unread (RFC
    /// 9293 §3.10.4 permits, Linux does: the peer learns its data was lost).
    UnreadData,
    /// Data arrived after the application closed it: nobody can read it.
    DataAfterClose,
}

impl ResetReason {
    /// A short kebab-case name (for JS).
    pub fn name(self) -> &'static str {
        match self {
            ResetReason::Aborted => "aborted",
            ResetReason::UnreadData => "unread-data",
            ResetReason::DataAfterClose => "data-after-close",
        }
    }
}

/// What a connection did with a RST it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetOutcome {
    /// Its sequence number was exactly RCV.NXT: the connection is reset.
    Accepted,
    /// In the window but not exact: answered with a challenge ACK (RFC 5961 §3.2).
    Challenged,
    /// Outside the window: dropped silently.
    OutOfWindow,
    /// In TIME_WAIT: ignored (RFC 1337).
    Ignored,
}

impl ResetOutcome {
    /// A short kebab-case name (for JS).
    pub fn name(self) -> &'static str {
        match self {
            ResetOutcome::Accepted => "accepted",
            ResetOutcome::Challenged => "challenged",
            ResetOutcome::OutOfWindow => "out-of-window",
            ResetOutcome::Ignored => "ignored",
        }
    }
}

/// The segment a challenge ACK answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeTrigger {
    /// A RST in the window but not at RCV.NXT (RFC 5961 §3.2).
    Rst,
    /// A SYN in a synchronized state (RFC 5961 §4.2).
    Syn,
    /// An ACK too old to be believed (RFC 5961 §5.2).
    Ack,
}

impl ChallengeTrigger {
    /// A short name (for JS).
    pub fn name(self) -> &'static str {
        match self {
            ChallengeTrigger::Rst => "rst",
            ChallengeTrigger::Syn => "syn",
            ChallengeTrigger::Ack => "ack",
        }
    }
}

/// Why the congestion window changed (see [`Event::Congestion`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CongestionCause {
    /// Three duplicate ACKs without SACK: fast retransmit, NewReno fast
    /// recovery begins (RFC 5681 §3.2, RFC 6582).
    FastRecovery,
    /// The SACK scoreboard showed a loss: SACK-based recovery begins
    /// (RFC 6675).
    SackRecovery,
    /// Recovery ended: everything outstanding when it began is acknowledged.
    RecoveryExit,
    /// The retransmission timer expired: cwnd is the loss window (one segment).
    Timeout,
    /// Sending resumed after an idle period longer than the RTO: cwnd
    /// restarts from the restart window (RFC 5681 §4.1).
    IdleRestart,
}

impl CongestionCause {
    /// A short name (`fast-recovery`, `sack-recovery`, `recovery-exit`,
    /// `timeout`, `idle-restart`).
    pub fn name(self) -> &'static str {
        match self {
            CongestionCause::FastRecovery => "fast-recovery",
            CongestionCause::SackRecovery => "sack-recovery",
            CongestionCause::RecoveryExit => "recovery-exit",
            CongestionCause::Timeout => "timeout",
            CongestionCause::IdleRestart => "idle-restart",
        }
    }
}

/// What happened at a listener ([`Event::Listen`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenEvent {
    /// A SYN created a half-open entry (SYN_RECEIVED) in the SYN queue.
    SynQueued,
    /// A SYN was answered with a SYN cookie; no state was kept.
    CookieSent,
    /// An ACK returned a valid cookie: the connection was created.
    CookieValidated,
    /// An ACK reached the listener without a valid cookie: it was reset.
    CookieFailed,
    /// A SYN was dropped unanswered.
    SynDropped { reason: SynDropReason },
    /// A handshake completed while the accept queue was full: its ACK was
    /// dropped (the SYN-ACK is retransmitted later), or with `abort` the
    /// handshake was reset (tcp_abort_on_overflow).
    AcceptOverflow { abort: bool },
}

/// Why a listener dropped a SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynDropReason {
    /// The SYN queue was full and SYN cookies are off.
    SynQueueFull,
    /// The accept queue was full (Linux drops SYNs then too).
    AcceptQueueFull,
    /// The stack holds its maximum number of connections.
    MaxConnections,
}

impl ListenEvent {
    /// The kebab-case name the TypeScript layer uses.
    pub fn name(self) -> &'static str {
        match self {
            ListenEvent::SynQueued => "syn-queued",
            ListenEvent::CookieSent => "cookie-sent",
            ListenEvent::CookieValidated => "cookie-validated",
            ListenEvent::CookieFailed => "cookie-failed",
            ListenEvent::SynDropped { .. } => "syn-dropped",
            ListenEvent::AcceptOverflow { .. } => "accept-overflow",
        }
    }

    /// The detail: the drop reason, or `drop`/`abort` for an overflow.
    pub fn detail(self) -> Option<&'static str> {
        match self {
            ListenEvent::SynDropped { reason } => Some(match reason {
                SynDropReason::SynQueueFull => "syn-queue-full",
                SynDropReason::AcceptQueueFull => "accept-queue-full",
                SynDropReason::MaxConnections => "max-connections",
            }),
            ListenEvent::AcceptOverflow { abort } => Some(if abort { "abort" } else { "drop" }),
            _ => None,
        }
    }
}
