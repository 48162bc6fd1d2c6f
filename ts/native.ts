/**
 * CONTRACT between the napi addon (src/, Rust) and the TypeScript layer.
 * The addon's generated `index.d.ts` must be structurally compatible with
 * these interfaces; the TS layer only ever talks to the addon through them.
 *
 * Socket ids are JS numbers (the engine keeps them below 2^53).
 * Every method that fails throws an Error whose `code` is a Node.js error
 * code (ECONNREFUSED, EADDRINUSE, EINVAL, EPERM, ...).
 * @internal
 * @module
 */

/** One direction's impairment of a device's packets (seeded, reproducible). @internal */
export interface NativeImpairment {
  /** Probability 0..1 that a packet is dropped. */
  loss?: number;
  /** Probability 0..1 that a packet is delivered twice. */
  duplicate?: number;
  /** Probability 0..1 that a packet is held back behind later ones. */
  reorder?: number;
  /** Probability 0..1 that one byte of a packet is flipped. */
  corrupt?: number;
  /** One-way delay in milliseconds. */
  delayMs?: number;
  /** Uniform jitter added to the delay, in milliseconds. */
  jitterMs?: number;
  /** Rate limit in bits per second (0 or absent = unlimited). */
  rateBps?: number;
  /** PRNG seed. */
  seed?: number;
}

/** @internal */
export interface NativeTunOptions {
  /** Interface name; absent = kernel picks tunN. */
  name?: string;
  /** Give the kernel side this address ("10.7.0.1/24") and bring the link up. */
  hostAddress?: string;
  mtu?: number;
  /**
   * Move the kernel side of the interface into this existing network
   * namespace (where `hostAddress` is then applied). Tests use this to keep
   * all traffic inside a namespace they created; our fd stays attached.
   */
  netns?: string;
  /** Segmentation and checksum offload (IFF_VNET_HDR + TUNSETOFFLOAD); default true. */
  offload?: boolean;
}

/** A device not yet owned by a stack. Opening a stack consumes it. @internal */
export interface NativeDevice {
  /** Device name, e.g. "tun0" or "memory:a". */
  readonly name: string;
  /**
   * Wrap this device with impairments: `receive` on the packets it delivers
   * to the stack, `send` on the packets the stack writes to it. Either may be absent.
   */
  impair(receive?: NativeImpairment | null, send?: NativeImpairment | null): void;
  /** Memory links only: take the whole link down (every packet lost) or up; works while stacks run on it. */
  setLinkUp(up: boolean): void;
}

/** @internal */
export interface NativeTcpOptions {
  mslMs?: number;
  maxRetries?: number;
  synRetries?: number;
  synackRetries?: number;
  rtoInitialMs?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  sendBuffer?: number;
  recvBuffer?: number;
  synBacklog?: number;
  /** 'auto' | 'always' | 'never'. */
  synCookies?: string;
  abortOnOverflow?: boolean;
  maxConnections?: number;
  ephemeralFirst?: number;
  ephemeralLast?: number;
  rfc1337?: boolean;
  tailLossProbe?: boolean;
  maxTimeWait?: number;
  keepAliveTimeMs?: number;
  keepAliveIntervalMs?: number;
  keepAliveProbes?: number;
  userTimeoutMs?: number;
  /** 'cubic' (default) or 'reno'. */
  congestionControl?: string;
  abcLimit?: number;
  quickAck?: boolean;
}

/** @internal */
export interface NativeStackOptions {
  /** Our address with prefix, "10.7.0.2/24". */
  address: string;
  mtu?: number;
  /** Seed for ISNs/ports; absent = random. */
  seed?: number;
  /** TTL of the packets we originate (1..255). */
  ttl?: number;
  /** Emit one 'segment' event per packet in and out (for demos/tracing). */
  trace?: boolean;
  tcp?: NativeTcpOptions;
}

/**
 * One event of a batch. `type` decides which other fields are set:
 * - 'acceptable' {id: listener}: call tcpAccept until null.
 * - 'connected' {id}
 * - 'data' {id, data}: bytes read from the connection (only while reading is on).
 * - 'end' {id}: the peer's FIN, after all data (sent once).
 * - 'urgent' {id, data, offset, inline}: the peer's urgent byte (a Buffer of 1);
 *   offset = stream bytes before the mark; inline = the byte also stays in the stream.
 * - 'writable' {id}: send-buffer space freed; retry pending writes.
 * - 'flushed' {id}: all written bytes (and FIN) acknowledged.
 * - 'closed' {id, error?}: connection over; error is a Node code or absent.
 * - 'state' {id, from, to}: TCP state change.
 * - 'retransmit' {id, seq, len, attempt, rtoMs}
 * - 'congestion' {id, cause, cwnd, ssthresh}: cwnd/ssthresh after a loss
 *   response; cause 'fast-recovery' | 'sack-recovery' | 'recovery-exit' |
 *   'timeout' | 'idle-restart'.
 * - 'segment' {dir, text, src, dst, flags, seq, ack, window, len}: trace only.
 * - 'udp' {id, data, address, port}: one datagram.
 * - 'listen' {id: listener, what, reason?, address, port}: a listener's queues
 *   (what: 'syn-queued' | 'cookie-sent' | 'cookie-validated' | 'cookie-failed' |
 *   'syn-dropped' (reason 'syn-queue-full' | 'accept-queue-full' | 'max-connections') |
 *   'accept-overflow' (reason 'drop' | 'abort')); address/port: the peer.
 * @internal
 */
export interface NativeEvent {
  type: string;
  id?: number;
  data?: Buffer;
  error?: string;
  from?: string;
  to?: string;
  seq?: number;
  ack?: number;
  len?: number;
  attempt?: number;
  rtoMs?: number;
  dir?: string;
  text?: string;
  src?: string;
  dst?: string;
  flags?: string;
  window?: number;
  address?: string;
  port?: number;
  /** rst-sent: why; rst-received: what became of it; challenge-ack: what triggered it. */
  reason?: string;
  cause?: string;
  cwnd?: number;
  ssthresh?: number;
  what?: string;
  offset?: number;
  inline?: boolean;
  /** window-probe: ms until the next probe. */
  intervalMs?: number;
  /** icmp: the ICMP type and code of the error. */
  icmpType?: number;
  /** icmp: see icmpType. */
  icmpCode?: number;
  /** icmp path-mtu: the new MSS. */
  mss?: number;
}

/** @internal */
export interface NativeAddress {
  address: string;
  port: number;
}

/** @internal */
export interface NativeTcpInfo {
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  rttMs: number;
  rttvarMs: number;
  rtoMs: number;
  mss: number;
  cwnd: number;
  ssthresh: number;
  sndWnd: number;
  rcvWnd: number;
  bytesInFlight: number;
  backoff: number;
  retransmits: number;
  bytesAcked: number;
  bytesReceived: number;
  bytesSent: number;
  sendQueue: number;
  recvQueue: number;
  congestionControl: string;
  sackedSegments: number;
  lostSegments: number;
  retransmittedSegments: number;
  totalRetransmits: number;
}

/** @internal */
export interface NativeQueues {
  synReceived: number;
  synBacklog: number;
  acceptQueue: number;
  backlog: number;
  synDrops: number;
  acceptDrops: number;
  cookiesSent: number;
  cookiesValidated: number;
  cookiesFailed: number;
}

/** @internal */
export interface NativeNetstatEntry {
  proto: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  recvQ: number;
  sendQ: number;
}

/** A running stack: one Rust thread driving the engine over a device. @internal */
export interface NativeStack {
  /**
   * `abortOnOverflow` absent or null: the stack's `tcp.abortOnOverflow`.
   * `reuseAddress` absent or null: true (SO_REUSEADDR, as node:net).
   */
  tcpListen(
    host: string,
    port: number,
    backlog: number,
    abortOnOverflow?: boolean | null,
    reuseAddress?: boolean | null,
  ): number;
  tcpAccept(listener: number): number | null;
  tcpConnect(host: string, port: number, localPort?: number | null): number;
  /** Copy as much of `data` as fits into the send buffer; returns bytes taken. */
  tcpWrite(id: number, data: Buffer): number;
  /** Like tcpWrite, with MSG_OOB: the last byte taken becomes urgent data (EINVAL when empty). */
  tcpWriteUrgent(id: number, data: Buffer): number;
  /** SO_OOBINLINE on a connection, or on a listener (inherited on accept). */
  tcpSetUrgentInline(id: number, inline: boolean): void;
  /** IP_TOS of a connection or listener (the ECN bits are ignored). */
  tcpSetTos(id: number, tos: number): void;
  /** The DS field of a connection or listener. */
  tcpTos(id: number): number;
  /** Read credit: while false the runtime leaves data in the engine, so the window closes. */
  tcpSetReading(id: number, reading: boolean): void;
  tcpShutdown(id: number): void;
  tcpAbort(id: number): void;
  tcpRelease(id: number): void;
  tcpSetNoDelay(id: number, noDelay: boolean): void;
  /** TCP_CORK: hold back sub-MSS segments while true; false sends them. */
  tcpSetCork(id: number, cork: boolean): void;
  /** TCP_QUICKACK: ACK every data segment at once while true. */
  tcpSetQuickAck(id: number, quickAck: boolean): void;
  /** `idleMs` 0: the stack's keepAliveTimeMs. */
  tcpSetKeepAlive(id: number, enable: boolean, idleMs: number): void;
  tcpSetKeepAliveProbes(id: number, intervalMs: number, probes: number): void;
  /** 0 turns it off. */
  tcpSetUserTimeout(id: number, timeoutMs: number): void;
  /** TCP_CONGESTION ('cubic', 'reno') of a connection or listener; EINVAL for another name. */
  tcpSetCongestionControl(id: number, name: string): void;
  tcpInfo(id: number): NativeTcpInfo | null;
  localAddress(id: number): NativeAddress | null;
  listenerQueues(id: number): NativeQueues | null;
  netstat(): NativeNetstatEntry[];
  /** Counters of the engine (Stats fields in camelCase) and of the device. */
  stats(): Record<string, number>;
  udpBind(host: string, port: number): number;
  udpSend(id: number, host: string, port: number, data: Buffer): void;
  udpRelease(id: number): void;
  setTrace(enabled: boolean): void;
  /**
   * Shut down every open connection gracefully (FIN), wait up to `graceMs`
   * for them to finish, reset what remains, stop the thread, release the device.
   */
  close(graceMs: number): Promise<void>;
  /**
   * For a process that is exiting: reset every open connection, stop the
   * thread, wait at most `waitMs` for it. True when it finished in time.
   */
  closeSync(waitMs: number): boolean;
}

/** The addon's exports. @internal */
export interface NativeBinding {
  openTun(options: NativeTunOptions): NativeDevice;
  /** Two connected in-memory endpoints [a, b]; either end's setLinkUp switches the whole link. */
  memoryLink(mtu?: number | null): NativeDevice[];
  openStack(
    device: NativeDevice,
    options: NativeStackOptions,
    onEvents: (batch: NativeEvent[]) => void,
  ): NativeStack;
}
