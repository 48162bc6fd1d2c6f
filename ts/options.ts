/**
 * Options of stacks, devices and impairments.
 * @module
 */

import type { LinkEnd } from './memory_link.js';
import type { CongestionControl } from './tcp_events.js';
import type { ListenOptions } from './server.js';

/**
 * Seeded, reproducible impairment of one direction of a link (kernel netem
 * is not available everywhere; this is the same idea in the stack). With the
 * same seed and the same traffic the same packets are lost, duplicated and
 * reordered.
 */
export interface ImpairmentOptions {
  /** Probability 0..1 that a packet is dropped. */
  loss?: number;
  /** Probability 0..1 that a packet is delivered twice. */
  duplicate?: number;
  /** Probability 0..1 that a packet is held back behind later ones. */
  reorder?: number;
  /** Probability 0..1 that one byte of a packet is flipped (checksums then reject it). */
  corrupt?: number;
  /** One-way delay in milliseconds. */
  delayMs?: number;
  /** Uniform random jitter added to the delay, in milliseconds. */
  jitterMs?: number;
  /** Rate limit in bits per second (0 or absent: unlimited). */
  rateBps?: number;
  /** Seed of the impairment's PRNG. */
  seed?: number;
}

/**
 * Which packets of a stack's device {@link StackOptions.impair} applies to:
 * `'receive'` — what the stack receives (the default, and the only choice
 * before `direction` existed); `'send'` — what the stack sends (for a TUN,
 * what the kernel receives); `'both'` — each direction impaired
 * independently with the same settings.
 */
export type ImpairmentDirection = 'receive' | 'send' | 'both';

/** A device impairment for {@link StackOptions.impair}: the effects, and which direction they apply to. */
export interface DeviceImpairmentOptions extends ImpairmentOptions {
  /**
   * Which packets are impaired; default `'receive'`. With `'both'` the send
   * side draws from `seed + 1`, so the two directions do not lose the same
   * packets (as with {@link MemoryLink}).
   */
  direction?: ImpairmentDirection;
}

/** A Linux TUN device for {@link StackOptions.tun}. */
export interface TunOptions {
  /**
   * Interface name (e.g. `tun0`). If an interface of that name exists (a
   * persistent TUN made with `ip tuntap add dev tun0 mode tun user $USER`)
   * the stack attaches to it, which needs no privileges; otherwise it is
   * created, which needs CAP_NET_ADMIN. Absent: the kernel picks `tunN`.
   */
  name?: string;
  /**
   * Give the kernel side of the interface this address with prefix
   * (`10.7.0.1/24`) and bring the link up (needs CAP_NET_ADMIN).
   */
  hostAddress?: string;
  /** Interface MTU. */
  mtu?: number;
  /**
   * Move the kernel side of the interface into this existing network
   * namespace (where `hostAddress` is then applied); the stack stays
   * attached. Used by tests to keep all traffic inside their own namespace.
   */
  netns?: string;
  /**
   * Segmentation and checksum offload, like a NIC's TSO/GRO (default true):
   * the TUN is opened with `IFF_VNET_HDR` and `TUNSETOFFLOAD`, so the kernel
   * and the stack exchange TCP segments of up to 64 KiB that the kernel
   * cuts into (or built from) MTU-sized ones, and leave checksums of
   * packets that never cross a wire uncomputed. Falls back to plain packets
   * when the kernel refuses. `false`: plain MTU-sized packets only.
   */
  offload?: boolean;
}

/** TCP tunables. Defaults follow Linux. */
export interface TcpOptions {
  /** Maximum segment lifetime in ms; TIME_WAIT lasts 2×MSL. Default 30000 (Linux's TIME_WAIT is 60 s). */
  mslMs?: number;
  /** Data retransmissions before the connection fails with ETIMEDOUT. Default 15. */
  maxRetries?: number;
  /**
   * SYN retransmissions before `connect` fails with ETIMEDOUT. Default 7
   * (the attempt lasts 255 s: RFC 9293 MUST-23 wants at least 3 minutes);
   * Linux's default is 6 (127 s).
   */
  synRetries?: number;
  /** SYN-ACK retransmissions for a half-open connection. Default 5. */
  synackRetries?: number;
  /** Retransmission timeout before the first RTT sample, ms. Default 1000 (RFC 6298). */
  rtoInitialMs?: number;
  /** Lower bound of the retransmission timeout, ms. Default 200. */
  rtoMinMs?: number;
  /** Upper bound of the retransmission timeout, ms. Default 120000. */
  rtoMaxMs?: number;
  /** Send buffer per connection, bytes. A full buffer makes `write()` return false until 'drain'. */
  sendBuffer?: number;
  /** Receive buffer per connection, bytes; the advertised window is its free part. */
  recvBuffer?: number;
  /** Bound of each listener's half-open (SYN_RECEIVED) queue. Default 256. */
  synBacklog?: number;
  /**
   * SYN cookies (Linux `tcp_syncookies`): `'auto'` answers SYNs with a
   * cookie only while a listener's SYN queue is full (the default, Linux's
   * 1); `'always'` answers every SYN with one and keeps no half-open state
   * (Linux's 2); `'never'` drops SYNs beyond the SYN queue (Linux's 0).
   * With timestamps the cookie also carries window scaling and SACK.
   */
  synCookies?: 'auto' | 'always' | 'never';
  /**
   * When a handshake completes while the accept queue is full, reset it
   * (true) instead of dropping the ACK and retransmitting the SYN-ACK until
   * the application makes room (false, the default; Linux
   * `tcp_abort_on_overflow`). A listener can override it
   * ({@link ListenOptions.abortOnOverflow}).
   */
  abortOnOverflow?: boolean;
  /** Maximum number of connections of the stack (listeners excluded). */
  maxConnections?: number;
  /** First ephemeral port (inclusive). Default 32768. */
  ephemeralFirst?: number;
  /** Last ephemeral port (inclusive). Default 60999. */
  ephemeralLast?: number;
  /**
   * Ignore a RST that arrives in TIME_WAIT instead of letting it end
   * TIME_WAIT early ("TIME_WAIT assassination", RFC 1337). Default true.
   */
  rfc1337?: boolean;
  /**
   * Send a tail loss probe (RFC 8985 §7) when a flight goes unanswered for
   * about two round trips, instead of waiting for the retransmission
   * timeout; needs SACK. Default true (Linux: tcp_early_retrans = 3).
   */
  tailLossProbe?: boolean;
  /** Most connections in TIME_WAIT; beyond it the oldest is ended early (Linux tcp_max_tw_buckets). Default 262144. */
  maxTimeWait?: number;
  /** Idle time before the first keepalive probe when `setKeepAlive(true)` gives none, ms. Default 7200000 (2 h, as Linux). */
  keepAliveTimeMs?: number;
  /** Interval between unanswered keepalive probes, ms (TCP_KEEPINTVL). Default 75000. */
  keepAliveIntervalMs?: number;
  /** Unanswered keepalive probes before the connection fails with ETIMEDOUT (TCP_KEEPCNT). Default 9. */
  keepAliveProbes?: number;
  /**
   * Fail a connection with ETIMEDOUT when data it sent stays unacknowledged
   * this long, ms (TCP_USER_TIMEOUT, RFC 5482); it also bounds zero-window
   * probing and keepalive. 0 (default): the retry counts decide.
   */
  userTimeoutMs?: number;
  /**
   * Congestion control of new connections, like Linux's
   * `net.ipv4.tcp_congestion_control`: `'cubic'` (RFC 9438, the default,
   * as on Linux) or `'reno'` (RFC 5681 NewReno). Sockets can choose their
   * own ({@link SocketOptions.congestionControl},
   * {@link Socket.setCongestionControl}).
   */
  congestionControl?: CongestionControl;
  /**
   * Most segments one ACK may add to the congestion window in slow start
   * (RFC 3465's L, which it recommends as 2). Default 0: every byte an
   * ACK covers counts, as in Linux — receivers that coalesce ACKs (GRO)
   * acknowledge dozens of segments at once, and a limit makes slow start crawl.
   */
  abcLimit?: number;
  /**
   * Quick-ACK mode for new connections (Linux TCP_QUICKACK): acknowledge
   * every data segment at once instead of delaying ACKs (every second
   * full-size segment, or after 40 ms). Default false, as Linux. Sockets
   * can switch it ({@link Socket.setQuickAck}).
   */
  quickAck?: boolean;
}

/**
 * Options of {@link Stack.open}. Exactly one of `tun` and `device` must be given.
 */
export interface StackOptions {
  /** Run over a Linux TUN device. */
  tun?: TunOptions;
  /** Run over one end of a {@link MemoryLink}. */
  device?: LinkEnd;
  /** The stack's IPv4 address with prefix length, e.g. `10.7.0.2/24`. */
  address: string;
  /** Link MTU (IP packet size) in bytes; the TCP MSS is clamped to it. Default 1500. */
  mtu?: number;
  /** Seed for initial sequence numbers, ephemeral ports and hash keys. Absent: random. Fix it for reproducible runs. */
  seed?: number;
  /** TTL of the packets the stack sends, 1..255 (RFC 9293 MUST-49). Default 64, as Linux. */
  ttl?: number;
  /** Emit a `'segment'` event for every TCP segment in and out (see {@link Stack.setTrace}). */
  trace?: boolean;
  /** TCP tunables. */
  tcp?: TcpOptions;
  /**
   * Impair the packets the stack receives from its device (TUN or memory
   * link) and, with `direction: 'send'` or `'both'`, the packets it sends.
   */
  impair?: DeviceImpairmentOptions;
}
