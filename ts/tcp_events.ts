/**
 * What the stack lets you observe of TCP's internals: connection states,
 * TCP_INFO-like snapshots, typed events, traced segments, listener queues.
 * @module
 */

/** The eleven connection states of RFC 9293, named as `ss`/`netstat` name them. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

/** A congestion-control algorithm: `'cubic'` (RFC 9438, Linux's default) or `'reno'` (RFC 5681, NewReno). */
export type CongestionControl = 'cubic' | 'reno';

/** A snapshot of one connection's internals, like Linux's TCP_INFO (`ss -ti`). */
export interface TcpInfo {
  /** Current state. */
  state: TcpState;
  /** Our address. */
  localAddress: string;
  /** Our port. */
  localPort: number;
  /** The peer's address. */
  remoteAddress: string;
  /** The peer's port. */
  remotePort: number;
  /** Smoothed round-trip time (SRTT), ms; 0 before the first sample. */
  rttMs: number;
  /** Round-trip time variation (RTTVAR), ms. */
  rttvarMs: number;
  /** Current retransmission timeout (RTO), ms. */
  rtoMs: number;
  /** Maximum segment size we send. */
  mss: number;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh: number;
  /** The window the peer advertises (how much more it will accept), bytes. 0: the peer's receive buffer is full. */
  sndWnd: number;
  /** The window we advertise (free space in our receive buffer), bytes. 0: we are not reading. */
  rcvWnd: number;
  /** Bytes sent and not yet acknowledged. */
  bytesInFlight: number;
  /** Consecutive timeouts of the segment being timed (exponential backoff count). */
  backoff: number;
  /** Segments retransmitted over the connection's life. */
  retransmits: number;
  /** Bytes the peer acknowledged. */
  bytesAcked: number;
  /** Bytes received in order. */
  bytesReceived: number;
  /** Bytes sent (first transmissions). */
  bytesSent: number;
  /** Bytes in our send buffer not yet acknowledged (`ss` Send-Q). */
  sendQueue: number;
  /** Bytes received and not yet read by the application (`ss` Recv-Q). */
  recvQueue: number;
  /** The congestion-control algorithm in use. */
  congestionControl: CongestionControl;
  /** Segments the peer has SACKed now, above the cumulative ACK (Linux `tcpi_sacked`). */
  sackedSegments: number;
  /** Segments deemed lost now and not yet retransmitted (Linux `tcpi_lost`). */
  lostSegments: number;
  /** Retransmitted segments not yet acknowledged (Linux `tcpi_retrans`). */
  retransmittedSegments: number;
  /** Segments retransmitted over the connection's life, as Linux names it (`tcpi_total_retrans`; same as `retransmits`). */
  totalRetransmits: number;
}

/** A connection changed state, e.g. `SYN_SENT` → `ESTABLISHED`. */
export interface TcpStateEvent {
  /** Discriminant. */
  type: 'state';
  /** State before. */
  from: TcpState;
  /** State after. */
  to: TcpState;
}

/**
 * A segment was retransmitted: its retransmission timer expired
 * (`reason: 'timeout'`), or three duplicate ACKs announced its loss
 * before that (`reason: 'fast'`, fast retransmit).
 */
export interface TcpRetransmitEvent {
  /** Discriminant. */
  type: 'retransmit';
  /** `'timeout'`: the retransmission timer expired; `'fast'`: three duplicate ACKs (fast retransmit). */
  reason: 'timeout' | 'fast';
  /** Sequence number of the retransmitted segment (absolute). */
  seq: number;
  /** Its length (SYN and FIN count as one). */
  len: number;
  /** Consecutive timeouts of this segment: 1 for the first, 2 for the second, ...; 0 for a fast retransmit. */
  attempt: number;
  /** The retransmission timeout now in force, ms (it doubles with each timeout: exponential backoff). */
  rtoMs: number;
}

/** Fields every listener event ({@link TcpListenEvent}) carries: the peer it concerns. */
export interface TcpListenEventBase {
  /** The peer's address (the source of the SYN or ACK). */
  remoteAddress: string;
  /** The peer's port. */
  remotePort: number;
}

/** A SYN created a half-open entry (SYN_RECEIVED) in the listener's SYN queue; a SYN-ACK went out. */
export interface TcpSynQueuedEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'syn-queued';
}

/**
 * A SYN was answered with a SYN cookie and no state was kept (the SYN
 * queue was full, or `tcp.synCookies` is `'always'`).
 */
export interface TcpCookieSentEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'cookie-sent';
}

/** An ACK returned a valid SYN cookie: the connection was created (into the accept queue if there is room). */
export interface TcpCookieValidatedEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'cookie-validated';
}

/** An ACK reached the listener while cookies were out but did not carry a valid one: it was reset. */
export interface TcpCookieFailedEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'cookie-failed';
}

/** A SYN was dropped unanswered (the client will retransmit it). */
export interface TcpSynDroppedEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'syn-dropped';
  /**
   * `'syn-queue-full'`: the SYN queue is full and SYN cookies are off;
   * `'accept-queue-full'`: the accept queue is full (Linux drops SYNs then,
   * cookies or not); `'max-connections'`: the stack's connection limit.
   */
  reason: 'syn-queue-full' | 'accept-queue-full' | 'max-connections';
}

/**
 * A handshake completed while the accept queue was full. `'drop'`: its
 * ACK was dropped, the server stays in SYN_RECEIVED and retransmits the
 * SYN-ACK (the client already believes it is connected) until the
 * application accepts and there is room. `'abort'`: it was reset
 * (abort-on-overflow).
 */
export interface TcpAcceptOverflowEvent extends TcpListenEventBase {
  /** Discriminant. */
  type: 'accept-overflow';
  /** What was done with the handshake. */
  action: 'drop' | 'abort';
}

/** What happened at a listener's queues: the `'tcp'` events of a {@link Server} besides its own state changes. */
export type TcpListenEvent =
  | TcpSynQueuedEvent
  | TcpCookieSentEvent
  | TcpCookieValidatedEvent
  | TcpCookieFailedEvent
  | TcpSynDroppedEvent
  | TcpAcceptOverflowEvent;

/**
 * We sent a RST: the application aborted the connection
 * (`resetAndDestroy`), closed it with received data still unread (as
 * Linux does, so the peer learns its data was lost), or data arrived after
 * it was closed.
 */
export interface TcpResetSentEvent {
  /** Discriminant. */
  type: 'rst-sent';
  /** Why. */
  reason: 'aborted' | 'unread-data' | 'data-after-close';
}

/**
 * An ICMP error quoting one of the connection's segments arrived (RFC 1122
 * §4.2.3.9). `'aborted'`: port or protocol unreachable while connecting —
 * the connect fails with `error`. `'soft'`: remembered, and `error` is
 * what the socket reports instead of ETIMEDOUT if the retransmissions give
 * up (host/net unreachable never abort, RFC 9293 MUST-56). `'path-mtu'`:
 * "fragmentation needed" lowered the MSS to `mss` and what was in flight
 * is resent. `'out-of-window'`: it quoted a sequence number we do not have
 * in flight (forged or stale, RFC 5927) and was ignored.
 */
export interface TcpIcmpEvent {
  /** Discriminant. */
  type: 'icmp';
  /** What it did. */
  action: 'aborted' | 'soft' | 'path-mtu' | 'out-of-window';
  /** ICMP type: 3 destination unreachable, 11 time exceeded, 12 parameter problem. */
  icmpType: number;
  /** ICMP code (for type 3: 0 net, 1 host, 2 protocol, 3 port, 4 fragmentation needed, 13 prohibited, ...). */
  icmpCode: number;
  /** `'aborted'` and `'soft'`: the error code it stands for, e.g. `EHOSTUNREACH`. */
  error?: string;
  /** `'path-mtu'`: the new maximum segment size. */
  mss?: number;
}

/**
 * A RST arrived, and what the connection did with it (RFC 5961 §3): one at
 * exactly the next expected sequence number resets the connection
 * (`'accepted'`); one elsewhere in the window may be a blind attack and is
 * answered with a challenge ACK (`'challenged'`); one outside the window is
 * dropped (`'out-of-window'`); one in TIME_WAIT is ignored (`'ignored'`,
 * RFC 1337).
 */
export interface TcpResetReceivedEvent {
  /** Discriminant. */
  type: 'rst-received';
  /** What became of it. */
  outcome: 'accepted' | 'challenged' | 'out-of-window' | 'ignored';
}

/**
 * We answered a suspicious segment with a challenge ACK (RFC 5961): a RST
 * in the window but not exact, a SYN on an established connection, or an
 * ACK older than any window. The true peer answers it; a blind attacker
 * cannot. Rate-limited per connection.
 */
export interface TcpChallengeAckEvent {
  /** Discriminant. */
  type: 'challenge-ack';
  /** The segment that triggered it. */
  trigger: 'rst' | 'syn' | 'ack';
}

/**
 * Loss recovery began (`phase: 'enter'`: three duplicate ACKs, or the SACK
 * scoreboard showing a loss) or ended (`phase: 'exit'`: everything that was
 * outstanding when it began is acknowledged). `cwnd` and `ssthresh` are
 * the values after the change. A {@link TcpCongestionEvent} accompanies it.
 */
export interface TcpRecoveryEvent {
  /** Discriminant. */
  type: 'recovery';
  /** `'enter'` or `'exit'`. */
  phase: 'enter' | 'exit';
  /**
   * `'fast'`: NewReno fast recovery (RFC 5681 §3.2, RFC 6582), the window
   * inflated by one segment per duplicate ACK; `'sack'`: SACK-based
   * recovery (RFC 6675), paced by the pipe estimate. Absent on exit.
   */
  mode?: 'fast' | 'sack';
  /** Congestion window after the change, bytes. */
  cwnd: number;
  /** Slow-start threshold after the change, bytes. */
  ssthresh: number;
}

/**
 * The retransmission timer expired with data outstanding: cwnd falls to
 * one segment (the loss window) and, on the first timeout of a segment,
 * ssthresh is lowered (Reno: half the flight; CUBIC: 0.7·cwnd). A
 * {@link TcpRetransmitEvent} with `reason: 'timeout'` and a
 * {@link TcpCongestionEvent} accompany it.
 */
export interface TcpRtoEvent {
  /** Discriminant. */
  type: 'rto';
  /** Congestion window after the timeout, bytes (one segment). */
  cwnd: number;
  /** Slow-start threshold after the timeout, bytes. */
  ssthresh: number;
}

/**
 * The congestion window or slow-start threshold changed at a loss response
 * or after idle — never per ACK, so these events are what a cwnd plot
 * needs besides periodic {@link Socket.info} samples.
 */
export interface TcpCongestionEvent {
  /** Discriminant. */
  type: 'congestion';
  /**
   * Why: `'fast-recovery'` / `'sack-recovery'` (a loss detected by
   * duplicate ACKs or SACK: multiplicative decrease), `'recovery-exit'`,
   * `'timeout'` (RTO), `'idle-restart'` (sending resumed after more than
   * an RTO of silence: cwnd back to the restart window, RFC 5681 §4.1).
   */
  cause: 'fast-recovery' | 'sack-recovery' | 'recovery-exit' | 'timeout' | 'idle-restart';
  /** Congestion window after the change, bytes. */
  cwnd: number;
  /** Slow-start threshold after the change, bytes. */
  ssthresh: number;
}

/**
 * The peer advertised a zero window while we have data to send: its
 * receive buffer is full (its application is not reading). Nothing more
 * is sent until it reopens; meanwhile zero-window probes
 * ({@link TcpWindowProbeEvent}) ask for its window. Reported once per
 * closing, until {@link TcpWindowReopenEvent}.
 */
export interface TcpZeroWindowEvent {
  /** Discriminant. */
  type: 'zero-window';
}

/**
 * A zero-window probe went out (the persist timer, RFC 9293 §3.8.6.1):
 * a segment the peer must answer with its current window. The interval
 * doubles with each probe (exponential backoff) up to the maximum RTO;
 * the connection lives on as long as the probes are answered, however
 * long the window stays closed.
 */
export interface TcpWindowProbeEvent {
  /** Discriminant. */
  type: 'window-probe';
  /** Probes sent since the window closed: 1, 2, ... */
  probe: number;
  /** Time until the next probe if the window stays closed, ms. */
  intervalMs: number;
}

/** The peer's window opened again after a {@link TcpZeroWindowEvent}: sending resumes. */
export interface TcpWindowReopenEvent {
  /** Discriminant. */
  type: 'window-reopen';
  /** The window the peer now advertises, bytes. */
  window: number;
}

/**
 * We advertise a window again after having advertised zero: the
 * application read and freed receive-buffer space, and a window update
 * told the peer (the receiving side of {@link TcpWindowReopenEvent}).
 */
export interface TcpWindowUpdateEvent {
  /** Discriminant. */
  type: 'window-update';
  /** The window we now advertise, bytes. */
  window: number;
}

/** Flow-control moments: {@link TcpZeroWindowEvent}, {@link TcpWindowProbeEvent}, {@link TcpWindowReopenEvent}, {@link TcpWindowUpdateEvent}. */
export type TcpWindowEvent = TcpZeroWindowEvent | TcpWindowProbeEvent | TcpWindowReopenEvent | TcpWindowUpdateEvent;

/**
 * The opt-in `'tcp'` event of a {@link Socket}, {@link Server} or (with the
 * connection's or listener's `id`) a {@link Stack}; discriminated by `type`.
 * A server reports its listener's queue events ({@link TcpListenEvent}).
 */
export type TcpEvent =
  | TcpStateEvent
  | TcpRetransmitEvent
  | TcpResetSentEvent
  | TcpResetReceivedEvent
  | TcpChallengeAckEvent
  | TcpIcmpEvent
  | TcpRecoveryEvent
  | TcpRtoEvent
  | TcpCongestionEvent
  | TcpWindowEvent
  | TcpListenEvent;

/**
 * A {@link TcpEvent} as the {@link Stack} reports it, for every connection
 * including those not accepted yet (their handshake happens before
 * `accept`). `id` identifies the connection within its stack
 * (see {@link Socket.connectionId}).
 */
export type StackTcpEvent = TcpEvent & {
  /** The connection's (or listener's) id within the stack. */
  id: number;
};

/** One TCP segment sent or received, reported while tracing is on ({@link Stack.setTrace}). */
export interface SegmentEvent {
  /** `'in'`: received from the device; `'out'`: sent to it. */
  dir: 'in' | 'out';
  /** Sender, `address:port`. */
  src: string;
  /** Receiver, `address:port`. */
  dst: string;
  /** TCP flags as the addon spells them (e.g. `SYN,ACK`). */
  flags: string;
  /** Sequence number (absolute). */
  seq: number;
  /** Acknowledgment number (absolute; meaningful when ACK is set). */
  ack: number;
  /** Advertised window, bytes (after scaling). */
  window: number;
  /** Payload length, bytes. */
  len: number;
  /** A one-line rendering by the addon. */
  text: string;
}

/** A listener's queues (`server.queues()`), as in the classic listen(2) description. */
export interface ListenerQueues {
  /** Connections in SYN_RECEIVED: the half-open (SYN) queue. */
  synReceived: number;
  /** Bound of the half-open queue. */
  synBacklog: number;
  /** Established connections not yet accepted: the accept queue. */
  acceptQueue: number;
  /** The listen backlog bounding the accept queue (Linux lets it hold backlog+1). */
  backlog: number;
  /** SYNs dropped because the half-open queue was full (with SYN cookies off) or the stack's connection limit was reached. */
  synDrops: number;
  /** SYNs and completing ACKs dropped (or reset, with abort-on-overflow) because the accept queue was full. */
  acceptDrops: number;
  /** SYNs answered with a SYN cookie. */
  cookiesSent: number;
  /** ACKs that returned a valid SYN cookie. */
  cookiesValidated: number;
  /** ACKs checked as SYN cookies that did not verify (they were reset). */
  cookiesFailed: number;
}

/** A local or remote endpoint, as `net.Socket.address()` returns it. */
export interface AddressInfo {
  /** IPv4 address. */
  address: string;
  /** Always `'IPv4'` for now. */
  family: 'IPv4';
  /** Port. */
  port: number;
}
