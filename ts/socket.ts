/**
 * A TCP connection as a `stream.Duplex` with node:net's `Socket` semantics.
 * @module
 */

import { Duplex } from 'node:stream';
import type { Dispatcher } from './dispatch.js';
import { CONNECTION_TCP_EVENTS, toStackTcpEvents } from './dispatch.js';
import { fromNative, systemError } from './errors.js';
import type { NativeEvent } from './native.js';
import { checkCongestionControl, type SocketOptions } from './socket_options.js';
import type { AddressInfo, CongestionControl, TcpEvent, TcpInfo, TcpState } from './tcp_events.js';
import { isUrgentChunk, splitAtLastUrgent, urgentChunk, type UrgentMark } from './urgent.js';

export { checkCongestionControl, type ConnectOptions, type SocketOptions } from './socket_options.js';
export type { UrgentMark } from './urgent.js';

/** How a Socket starts. @internal */
export interface SocketInit {
  /** Absent when the connect call itself failed: the socket then only reports `error`. */
  id: number | undefined;
  connecting: boolean;
  remoteAddress?: string;
  remotePort?: number;
  /** For accepted sockets: do not start reading (`pauseOnConnect`). */
  paused?: boolean;
}

type WriteCallback = (error?: Error | null) => void;

interface PendingWrite {
  data: Buffer;
  cb: WriteCallback;
  /** Written with MSG_OOB (its last byte is urgent). */
  urgent?: boolean;
}

/**
 * A TCP connection of a {@link Stack}: a `stream.Duplex` that behaves like
 * node:net's `Socket` (events 'connect', 'ready', 'data', 'end', 'finish',
 * 'close' (hadError), 'error', 'timeout', 'drain'), so code written for
 * node:net — including node:http — runs on it unchanged. Made by
 * {@link Stack.connect} or handed to a {@link Server}'s 'connection' listener.
 *
 * Flow control is end to end: when the readable side is full (nobody reads)
 * the socket stops taking data from the stack, the receive buffer fills and
 * the advertised TCP window closes; when the send buffer is full `write()`
 * returns false until 'drain'.
 *
 * Extras beyond node:net: {@link Socket.info} (TCP_INFO), the opt-in
 * `'tcp'` event ({@link TcpEvent}: state changes, retransmissions, loss
 * recovery, zero windows and their probes), {@link Socket.setCork},
 * {@link Socket.setQuickAck} and {@link Socket.resetAndDestroy}. While `'tcp'` has listeners (on the
 * socket or its stack), the events continue after 'close' until the
 * connection reaches CLOSED, so the end of the close — FIN_WAIT_2,
 * TIME_WAIT and its 2×MSL, LAST_ACK — can be watched.
 */
export class Socket extends Duplex {
  readonly #d: Dispatcher;
  #id: number | undefined;
  #connecting: boolean;
  /** The addon reported 'closed' for the id (at TIME_WAIT or CLOSED, whichever comes first). */
  #nativeClosed = false;
  /** The last state the addon reported. */
  #state: TcpState | undefined;
  /** Destroyed, but the id is kept to observe the rest of the close (see #observeClose). */
  #observing = false;
  /** Bytes that were already received when observation began (an orphan drops them silently). */
  #unread = 0;
  /** FIN_WAIT_2 timeout of an observed close, as an orphan's. */
  #finWait2Timer: NodeJS.Timeout | undefined;
  /** The peer's FIN arrived (native 'end'). */
  #peerEnded = false;
  /** We called tcpShutdown (our FIN is queued). */
  #shutdown = false;
  /** The read credit given to the addon (the runtime starts every connection with reading on). */
  #reading = true;
  /** _read was called while connecting. */
  #wantRead = false;
  #resetting = false;
  /**
   * The write made before 'connect' (at most one: the Writable holds later
   * ones until its callback), and the _final callback if end() came first.
   */
  #preConnect: PendingWrite | undefined;
  #finalPending: WriteCallback | undefined;
  /** The rest of a write the send buffer could not take; completed on 'writable'. */
  #pending: PendingWrite | undefined;
  #bytesRead = 0;
  #bytesTaken = 0;
  #remoteAddress: string | undefined;
  #remotePort: number | undefined;
  #localAddress: string | undefined;
  #localPort: number | undefined;
  /** Per-socket switches set before there was a native id to apply them to. */
  #tuning: { noDelay?: boolean; cork?: boolean; quickAck?: boolean } = {};
  #keepAlive: { enable: boolean; delay: number } | undefined;
  #keepAliveProbes: { intervalMs: number; probes: number } | undefined;
  #userTimeoutMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timeoutMs = 0;

  /** @internal */
  constructor(d: Dispatcher, init: SocketInit, options: SocketOptions = {}) {
    super({
      allowHalfOpen: Boolean(options.allowHalfOpen),
      // node:net emits 'close' itself, with the hadError argument.
      emitClose: false,
      autoDestroy: true,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
    });
    this.#d = d;
    this.#id = init.id;
    this.#connecting = init.connecting;
    this.#remoteAddress = init.remoteAddress;
    this.#remotePort = init.remotePort;
    if (init.id !== undefined) d.register(init.id, this);
    d.sockets.add(this);
    if (options.congestionControl !== undefined) this.setCongestionControl(options.congestionControl);
    if (options.noDelay) this.setNoDelay(true);
    if (options.urgentInline) this.setUrgentInline(true);
    if (options.keepAlive) this.setKeepAlive(true, options.keepAliveInitialDelay);
    if (options.timeout) this.setTimeout(options.timeout);
    if (!init.connecting) {
      this.#learnAddresses();
      // Like node:net for accepted sockets: start reading unless paused.
      if (init.paused) this.#setReading(false);
      else this.read(0);
    }
  }

  // ---- node:net properties ----

  /** True while the handshake is in progress (before 'connect'). */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** True until connected, and again once the socket is destroyed. */
  get pending(): boolean {
    return this.#id === undefined || this.#connecting || this.destroyed;
  }

  /** `'opening'`, `'open'`, `'readOnly'`, `'writeOnly'` or `'closed'`, as node:net computes it. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.#connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** The peer's address. */
  get remoteAddress(): string | undefined {
    return this.#remoteAddress;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    return this.#remotePort;
  }

  /** `'IPv4'` once the peer is known. */
  get remoteFamily(): 'IPv4' | undefined {
    return this.#remoteAddress === undefined ? undefined : 'IPv4';
  }

  /** Our address. */
  get localAddress(): string | undefined {
    return this.#localAddress;
  }

  /** Our port. */
  get localPort(): number | undefined {
    return this.#localPort;
  }

  /** `'IPv4'` once bound. */
  get localFamily(): 'IPv4' | undefined {
    return this.#localAddress === undefined ? undefined : 'IPv4';
  }

  /** Bytes received. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes written: taken by the stack's send buffer plus those still queued in the stream. */
  get bytesWritten(): number {
    let queued = this.writableLength;
    if (this.#preConnect) queued += this.#preConnect.data.length;
    if (this.#pending) queued += this.#pending.data.length;
    return this.#bytesTaken + queued;
  }

  /** The idle timeout set by {@link Socket.setTimeout}, ms (undefined when off). */
  get timeout(): number | undefined {
    return this.#timeoutMs > 0 ? this.#timeoutMs : undefined;
  }

  /**
   * The connection's id within its stack (as in {@link StackTcpEvent}),
   * undefined once the socket has let go of it.
   */
  get connectionId(): number | undefined {
    return this.#id;
  }

  /**
   * Our endpoint, as `net.Socket.address()`.
   * @returns `{ address, family, port }`, or `{}` when not bound
   */
  address(): AddressInfo | Record<string, never> {
    if (this.#localAddress === undefined || this.#localPort === undefined) return {};
    return { address: this.#localAddress, family: 'IPv4', port: this.#localPort };
  }

  // ---- node:net methods ----

  /**
   * TCP_NODELAY: with `true` (the default argument) segments are sent at
   * once instead of being coalesced by Nagle's algorithm.
   * @param noDelay - default true
   * @returns this
   */
  setNoDelay(noDelay = true): this {
    this.#tuning.noDelay = noDelay;
    if (!this.#connecting) this.#applyTuning();
    return this;
  }

  /**
   * TCP_CORK (Linux): while on, segments shorter than the MSS are held
   * back — full-size ones still go — so many small writes (a header, then
   * a body) leave as few full segments. Turning it off sends what is held.
   * A held partial segment goes out anyway after the persist interval
   * (max(RTO, `tcp.rtoMinMs`): 200 ms by default, Linux's ceiling); the
   * FIN and urgent data are never held. Unlike node's stream `cork()`,
   * which holds writes in JavaScript until `uncork()`, this acts on the
   * bytes already in the stack's send buffer; the two combine.
   * @param on - true to cork, false to uncork
   * @returns this
   */
  setCork(on: boolean): this {
    this.#tuning.cork = on;
    if (!this.#connecting) this.#applyTuning();
    return this;
  }

  /**
   * TCP_QUICKACK: with `true`, acknowledge every data segment at once
   * instead of delaying ACKs (every second full-size segment, or after the
   * delayed-ACK timeout); switching it on sends an ACK being delayed. Unlike
   * Linux's, it stays on until switched off. The stack-wide default is
   * {@link TcpOptions.quickAck}.
   * @param on - default true
   * @returns this
   */
  setQuickAck(on = true): this {
    this.#tuning.quickAck = on;
    if (!this.#connecting) this.#applyTuning();
    return this;
  }

  /**
   * SO_KEEPALIVE: probe an idle connection so a vanished peer is noticed.
   * @param enable - default false
   * @param initialDelay - idle time before the first probe, ms (0 or absent: the stack's `tcp.keepAliveTimeMs`, 2 hours by default as Linux)
   * @returns this
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = { enable, delay: initialDelay > 0 ? initialDelay : 0 };
    if (!this.#connecting) this.#applyKeepAlive();
    return this;
  }

  /**
   * TCP_KEEPINTVL and TCP_KEEPCNT: once keepalive probing starts, probe
   * every `intervalMs` and give up with ETIMEDOUT after `probes` go
   * unanswered. A peer that restarted answers a probe with RST: ECONNRESET.
   * Defaults come from the stack's `tcp.keepAliveIntervalMs` / `keepAliveProbes`.
   * @param intervalMs - time between unanswered probes, ms (> 0)
   * @param probes - unanswered probes before giving up (>= 1)
   * @returns this
   */
  setKeepAliveProbes(intervalMs: number, probes: number): this {
    if (!(intervalMs > 0) || !Number.isInteger(probes) || probes < 1) {
      throw new RangeError(`setKeepAliveProbes: need intervalMs > 0 and an integer probes >= 1, got ${intervalMs}, ${probes}`);
    }
    this.#keepAliveProbes = { intervalMs, probes };
    this.#applyKeepAlive();
    return this;
  }

  /**
   * TCP_USER_TIMEOUT (RFC 5482): fail with ETIMEDOUT when data sent stays
   * unacknowledged for `ms` (counted from the last progress), however
   * many retransmissions that allows; it also bounds how long a zero
   * window or unanswered keepalives are tolerated. 0 turns it off.
   * @param ms - the timeout, ms
   * @returns this
   */
  setUserTimeout(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`setUserTimeout: need a finite ms >= 0, got ${ms}`);
    this.#userTimeoutMs = ms;
    this.#applyKeepAlive();
    return this;
  }

  /**
   * Sends urgent data, like `send(fd, data, MSG_OOB)` on Linux: `data` is
   * written to the stream in order with everything written before it, and
   * its last byte is marked urgent (URG flag and urgent pointer, RFC 9293
   * §3.8.5; the pointer points past that byte, as BSD and Linux do). The
   * peer's TCP announces it ahead of the data (a kernel peer: `SIGURG`,
   * `select()`'s exceptional condition, `recv(MSG_OOB)`); Nagle never
   * delays it.
   *
   * LEGACY: RFC 6093 tells new applications not to use urgent data; it is
   * here for telnet (interrupt process), FTP (ABOR) and other old peers.
   * Only one byte is urgent at a time; a later mark replaces an unread one.
   * @param data - a byte value (0–255), a Buffer or a string (UTF-8); not empty
   * @param cb - called once the stack's send buffer took the data
   * @returns like `write()`: false when the caller should wait for 'drain'
   */
  sendUrgent(data: number | Buffer | string, cb?: (error: Error | null | undefined) => void): boolean {
    const buf = urgentChunk(data);
    return cb ? this.write(buf, cb) : this.write(buf);
  }

  /**
   * SO_OOBINLINE. Off (the default, as in Linux), the peer's urgent byte is
   * taken out of the data stream and handed only to the `'urgent'` event;
   * on, it stays in the stream and `'urgent'` tells where it is
   * ({@link UrgentMark}). Applies to data not yet read. Legacy (RFC 6093).
   * @param inline - default true
   * @returns this
   */
  setUrgentInline(inline = true): this {
    const id = this.#id;
    if (id !== undefined && !this.#d.closed) this.#call(() => this.#d.native.tcpSetUrgentInline(id, inline));
    return this;
  }

  /**
   * IP_TOS (RFC 9293 MUST-48), as node's `setTypeOfService`: the DS field
   * of what this connection sends from now on. The two ECN bits are
   * ignored (they are the stack's), as Linux does for TCP.
   * @param tos - 0..255
   * @returns this
   */
  setTypeOfService(tos: number): this {
    if (!Number.isInteger(tos) || tos < 0 || tos > 255) {
      throw Object.assign(new RangeError(`tos must be an integer 0..255, got ${String(tos)}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    const id = this.#id;
    if (id !== undefined && !this.#d.closed) this.#call(() => this.#d.native.tcpSetTos(id, tos));
    return this;
  }

  /** @returns the DS field this connection sends (a server's `typeOfService` for accepted ones); 0 once closed. */
  getTypeOfService(): number {
    const id = this.#id;
    return id === undefined || this.#d.closed ? 0 : (this.#call(() => this.#d.native.tcpTos(id)) ?? 0);
  }

  /**
   * Emit 'timeout' after `ms` of inactivity (no data in or out). As in
   * node:net the socket is not closed: the listener decides. 0 turns it off.
   * @param ms - idle time, ms
   * @param callback - added as a one-time 'timeout' listener
   * @returns this
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timeoutMs = ms > 0 && Number.isFinite(ms) ? ms : 0;
    if (callback) {
      if (this.#timeoutMs === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.emit('timeout');
      }, this.#timeoutMs);
      this.#timer.unref();
    }
    return this;
  }

  /**
   * Close the connection with a RST instead of a FIN (SO_LINGER 0), then
   * destroy the socket. The peer sees ECONNRESET.
   * @returns this
   */
  resetAndDestroy(): this {
    if (this.#id === undefined || this.destroyed) {
      const err = new Error('Socket is closed') as NodeJS.ErrnoException;
      err.code = 'ERR_SOCKET_CLOSED';
      this.destroy(err);
      return this;
    }
    this.#resetting = true;
    return this.destroy();
  }

  /**
   * node:net's `destroySoon`: end the writable side, destroy once it finished.
   * (node:http calls it.)
   */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /**
   * No-op, for node:net compatibility: the stack as a whole keeps the
   * process alive until `stack.close()`.
   * @returns this
   */
  ref(): this {
    return this;
  }

  /**
   * No-op, for node:net compatibility (see {@link Socket.ref}).
   * @returns this
   */
  unref(): this {
    return this;
  }

  /**
   * TCP_CONGESTION: switch this connection's congestion control, at any
   * time (cwnd and ssthresh carry over, as on Linux).
   * @param name - `'cubic'` or `'reno'`
   * @returns this
   * @throws TypeError (`ERR_INVALID_ARG_VALUE`) for another name
   */
  setCongestionControl(name: CongestionControl): this {
    checkCongestionControl(name);
    const id = this.#id;
    if (id !== undefined && !this.#d.closed) this.#call(() => this.#d.native.tcpSetCongestionControl(id, name));
    return this;
  }

  /**
   * TCP_INFO: a snapshot of the connection's internals (state, RTT, RTO,
   * windows, congestion window, retransmissions, queues).
   * @returns the snapshot, or null once the socket has let go of the connection
   */
  info(): TcpInfo | null {
    if (this.#id === undefined || this.#d.closed) return null;
    return this.#d.native.tcpInfo(this.#id) as TcpInfo | null;
  }

  /**
   * Writes data; as node:net, after the peer's FIN on a socket without
   * `allowHalfOpen` it fails with EPIPE.
   * @param chunk - data
   * @param encoding - encoding of a string chunk, or the callback
   * @param cb - called once the stack's send buffer took the data
   * @returns false when the caller should wait for 'drain'
   */
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error: Error | null | undefined) => void),
    cb?: (error: Error | null | undefined) => void,
  ): boolean {
    if (this.#peerEnded && !this.allowHalfOpen && this.writableEnded) {
      // node:net's writeAfterFIN.
      const callback = typeof encoding === 'function' ? encoding : cb;
      const err = new Error('This socket has been ended by the other party') as NodeJS.ErrnoException;
      err.code = 'EPIPE';
      if (callback) process.nextTick(callback, err);
      this.destroy(err);
      return false;
    }
    return typeof encoding === 'function' ? super.write(chunk, encoding) : super.write(chunk, encoding as BufferEncoding, cb);
  }

  // ---- stream.Duplex implementation ----

  /** @internal */
  override _read(): void {
    if (this.#connecting || this.#id === undefined) {
      this.#wantRead = true;
      return;
    }
    this.#setReading(true);
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    this.#writeChunk(chunk, isUrgentChunk(chunk), cb);
  }

  /** @internal */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: WriteCallback): void {
    const { urgent, plain } = splitAtLastUrgent(chunks.map((c) => c.chunk));
    if (!urgent) {
      this.#writeChunk(plain ?? Buffer.alloc(0), false, cb);
      return;
    }
    this.#writeChunk(urgent, true, (err) => {
      if (err || !plain) cb(err);
      else this.#writeChunk(plain, false, cb);
    });
  }

  #writeChunk(data: Buffer, urgent: boolean, cb: WriteCallback): void {
    if (this.#connecting) {
      this.#preConnect = { data, cb, urgent };
      return;
    }
    this.#writeNow(data, cb, urgent);
  }

  /** @internal */
  override _final(cb: WriteCallback): void {
    if (this.#connecting) {
      this.#finalPending = cb;
      return;
    }
    this.#shutdownNow(cb);
  }

  /** @internal */
  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#preConnect = undefined;
    this.#pending = undefined;
    this.#finalPending = undefined;
    const id = this.#id;
    if (id !== undefined && !this.#d.closed) {
      if (this.#resetting) this.#call(() => this.#d.native.tcpAbort(id));
      else if (this.#wantsObservation()) this.#observeClose(id);
      if (!this.#observing) this.#release();
    }
    this.#d.sockets.delete(this);
    cb(error);
    process.nextTick(() => this.emit('close', Boolean(error)));
  }

  // ---- events from the addon ----

  /** @internal */
  handleNative(ev: NativeEvent): void {
    if (CONNECTION_TCP_EVENTS.has(ev.type)) {
      if (ev.type === 'state') this.#state = ev.to as TcpState;
      if (this.listenerCount('tcp') > 0) {
        for (const { id: _id, ...tcp } of toStackTcpEvents(ev)) this.emit('tcp', tcp as TcpEvent);
      }
      if (this.#observing) this.#observedState();
      return;
    }
    switch (ev.type) {
      case 'closed':
        this.#nativeClosed = true;
        if (!this.destroyed) this.#onClosed(ev.error);
        return;
    }
    if (this.#observing) {
      if (ev.type === 'data') this.#observedData(ev.data?.length ?? 0);
      return;
    }
    if (this.destroyed) return;
    switch (ev.type) {
      case 'connected':
        this.#onConnected();
        return;
      case 'data':
        if (ev.data && ev.data.length > 0) {
          this.#bytesRead += ev.data.length;
          this.#touch();
          if (!this.push(ev.data)) this.#setReading(false);
        }
        return;
      case 'end':
        this.#peerEnded = true;
        this.push(null);
        return;
      case 'urgent':
        if (ev.data) {
          this.#touch();
          const mark: UrgentMark = { offset: ev.offset ?? 0, inline: ev.inline ?? false };
          this.emit('urgent', ev.data, mark);
        }
        return;
      case 'writable': {
        const p = this.#pending;
        if (p) {
          this.#pending = undefined;
          this.#writeNow(p.data, p.cb, p.urgent);
        }
        return;
      }
    }
  }

  /** @internal */
  stackClosed(): void {
    this.#stopObserving();
    this.#id = undefined;
    this.#nativeClosed = true;
    if (this.destroyed) return;
    if (this.#connecting) {
      this.destroy(systemError('ECONNABORTED', 'connect', this.#remoteAddress, this.#remotePort));
      return;
    }
    if (!this.#peerEnded) {
      this.#peerEnded = true;
      this.push(null);
    }
    this.destroy();
  }

  // ---- internals ----

  #onConnected(): void {
    this.#connecting = false;
    this.#learnAddresses();
    this.#applyTuning();
    this.#applyKeepAlive();
    this.#touch();
    this.emit('connect');
    this.emit('ready');
    if (this.destroyed) return;
    const w = this.#preConnect;
    this.#preConnect = undefined;
    if (w) this.#writeNow(w.data, w.cb, w.urgent);
    const f = this.#finalPending;
    this.#finalPending = undefined;
    if (f) this.#shutdownNow(f);
    if (this.#wantRead) {
      // _read was called while connecting; the Readable waits for a push.
      this.#wantRead = false;
      this.#setReading(true);
    } else if (!this.isPaused()) {
      this.read(0);
    }
  }

  #onClosed(error: string | undefined): void {
    if (error) {
      const syscall = this.#connecting ? 'connect' : error === 'EPIPE' ? 'write' : 'read';
      const withPeer = syscall === 'connect';
      this.destroy(
        systemError(error, syscall, withPeer ? this.#remoteAddress : undefined, withPeer ? this.#remotePort : undefined),
      );
      return;
    }
    // An orderly end: the peer's FIN came first ('end'), so the readable
    // side is already ending; nothing more will be sent or received.
    if (!this.#peerEnded) {
      this.#peerEnded = true;
      this.push(null);
    }
    if (this.#pending) {
      const p = this.#pending;
      this.#pending = undefined;
      p.cb(systemError('EPIPE', 'write'));
    }
  }

  #writeNow(data: Buffer, cb: WriteCallback, urgent = false): void {
    const id = this.#id;
    if (id === undefined || this.#nativeClosed || this.#d.closed) {
      cb(systemError('EPIPE', 'write'));
      return;
    }
    let taken: number;
    try {
      taken = urgent ? this.#d.native.tcpWriteUrgent(id, data) : this.#d.native.tcpWrite(id, data);
    } catch (err) {
      cb(fromNative(err, 'write'));
      return;
    }
    this.#bytesTaken += taken;
    if (taken > 0) this.#touch();
    if (taken >= data.length) {
      cb();
    } else {
      // The rest stays urgent: once it is taken, the mark is at its end.
      this.#pending = { data: data.subarray(taken), cb, urgent };
    }
  }

  #shutdownNow(cb: WriteCallback): void {
    const id = this.#id;
    if (id === undefined || this.#d.closed) {
      cb();
      return;
    }
    if (this.#nativeClosed) {
      cb();
      return;
    }
    try {
      this.#d.native.tcpShutdown(id);
      this.#shutdown = true;
    } catch (err) {
      cb(fromNative(err, 'shutdown'));
      return;
    }
    cb();
  }

  #setReading(on: boolean): void {
    if (this.#reading === on) return;
    const id = this.#id;
    if (id === undefined || this.#nativeClosed || this.#d.closed) return;
    this.#reading = on;
    this.#call(() => this.#d.native.tcpSetReading(id, on));
  }

  // ---- observing the end of a close ----
  //
  // Released connections live on as orphans in the engine (FIN_WAIT_2,
  // TIME_WAIT, LAST_ACK, ...) but report nothing, so after destroy() the
  // rest of the close would be invisible. When someone listens to 'tcp'
  // (on this socket or on the stack), a cleanly destroyed socket keeps its
  // id until the connection reaches CLOSED and does what tcp_release does
  // for an orphan itself: FIN, read and drop what was already received, RST
  // on new data ("data after close"), give up FIN_WAIT_2 after 2×MSL. The
  // peer sees the same segments either way, except when FIN_WAIT_2 times
  // out: the engine ends an orphan silently, this sends a RST, as Linux
  // does for orphans.

  #wantsObservation(): boolean {
    const st = this.#state;
    if (st === undefined || st === 'CLOSED' || st === 'SYN_SENT' || st === 'SYN_RECEIVED' || st === 'LISTEN') return false;
    return this.listenerCount('tcp') > 0 || this.#d.stackWantsTcp();
  }

  #observeClose(id: number): void {
    // With unread data the release resets (as Linux's close does), and
    // the engine ends the connection at once: nothing left to observe.
    if ((this.#call(() => this.#d.native.tcpInfo(id))?.recvQueue ?? 0) > 0) return;
    this.#observing = true;
    if (!this.#shutdown && !this.#nativeClosed) {
      this.#shutdown = true;
      this.#call(() => this.#d.native.tcpShutdown(id));
    }
    this.#unread = this.#call(() => this.#d.native.tcpInfo(id))?.recvQueue ?? 0;
    this.#reading = false;
    this.#setReading(true);
    this.#observedState();
  }

  #observedState(): void {
    if (this.#state !== 'FIN_WAIT_2' && this.#finWait2Timer !== undefined) {
      clearTimeout(this.#finWait2Timer);
      this.#finWait2Timer = undefined;
    }
    if (this.#state === 'CLOSED') {
      this.#stopObserving();
      this.#release();
    } else if (this.#state === 'FIN_WAIT_2' && this.#finWait2Timer === undefined) {
      this.#finWait2Timer = setTimeout(() => {
        // The peer never sent its FIN. Give up as Linux gives up an
        // orphaned FIN_WAIT_2 (tcp_fin_timeout, here 2×MSL): with a RST.
        // CLOSED follows, and with it the release.
        this.#finWait2Timer = undefined;
        const id = this.#id;
        if (id === undefined) return;
        this.#call(() => this.#d.native.tcpAbort(id));
      }, 2 * this.#d.mslMs);
      this.#finWait2Timer.unref();
    }
  }

  #observedData(n: number): void {
    if (n <= this.#unread) {
      this.#unread -= n;
      return;
    }
    const id = this.#id;
    this.#stopObserving();
    if (id !== undefined) this.#call(() => this.#d.native.tcpAbort(id));
    this.#release();
  }

  #stopObserving(): void {
    this.#observing = false;
    if (this.#finWait2Timer) clearTimeout(this.#finWait2Timer);
    this.#finWait2Timer = undefined;
  }

  #release(): void {
    const id = this.#id;
    if (id === undefined) return;
    this.#id = undefined;
    this.#d.unregister(id, this);
    if (!this.#d.closed) this.#call(() => this.#d.native.tcpRelease(id));
  }

  #learnAddresses(): void {
    const id = this.#id;
    if (id === undefined || this.#d.closed) return;
    const local = this.#call(() => this.#d.native.localAddress(id));
    if (local) {
      this.#localAddress = local.address;
      this.#localPort = local.port;
    }
    if (this.#remoteAddress === undefined) {
      // An accepted connection: its handshake was reported before we owned the id.
      const info = this.#call(() => this.#d.native.tcpInfo(id));
      if (info) {
        this.#state ??= info.state as TcpState;
        this.#remoteAddress = info.remoteAddress;
        this.#remotePort = info.remotePort;
        this.#localAddress ??= info.localAddress;
        this.#localPort ??= info.localPort;
      }
    }
  }

  /** TCP_NODELAY, TCP_CORK and TCP_QUICKACK, once there is a native id. */
  #applyTuning(): void {
    const id = this.#id;
    if (id === undefined || this.#d.closed) return;
    const { noDelay, cork, quickAck } = this.#tuning;
    if (noDelay !== undefined) this.#call(() => this.#d.native.tcpSetNoDelay(id, noDelay));
    if (cork !== undefined) this.#call(() => this.#d.native.tcpSetCork(id, cork));
    if (quickAck !== undefined) this.#call(() => this.#d.native.tcpSetQuickAck(id, quickAck));
  }

  /** Keepalive, its probes and the user timeout, once there is a native id. */
  #applyKeepAlive(): void {
    const id = this.#id;
    if (id === undefined || this.#d.closed) return;
    const ka = this.#keepAlive;
    if (ka !== undefined) this.#call(() => this.#d.native.tcpSetKeepAlive(id, ka.enable, ka.delay));
    const probes = this.#keepAliveProbes;
    if (probes !== undefined) this.#call(() => this.#d.native.tcpSetKeepAliveProbes(id, probes.intervalMs, probes.probes));
    const ut = this.#userTimeoutMs;
    if (ut !== undefined) this.#call(() => this.#d.native.tcpSetUserTimeout(id, ut));
  }

  /** Activity: restart the idle timer. */
  #touch(): void {
    this.#timer?.refresh();
  }

  /** Calls into the addon for options and bookkeeping, where a failure (the connection is already gone) changes nothing. */
  #call<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch {
      return undefined;
    }
  }
}

export interface Socket {
  /** The opt-in typed internals: state changes and retransmissions ({@link TcpEvent}), until CLOSED (even after 'close'). */
  on(event: 'tcp', listener: (ev: TcpEvent) => void): this;
  /** Emitted when the connection is established. */
  on(event: 'connect' | 'ready' | 'end' | 'finish' | 'drain' | 'timeout', listener: () => void): this;
  /** Emitted once the socket is fully closed; `hadError` tells whether an 'error' came first. */
  on(event: 'close', listener: (hadError: boolean) => void): this;
  /** Received data (a Buffer, or a string after `setEncoding`). */
  on(event: 'data', listener: (data: Buffer | string) => void): this;
  /**
   * The peer sent urgent data (URG; legacy, RFC 6093): `data` is the urgent
   * byte (a Buffer of 1), `mark` where it sits in the stream. Out of band
   * (the default) the byte is not in 'data'; inline it is.
   */
  on(event: 'urgent', listener: (data: Buffer, mark: UrgentMark) => void): this;
  /** A {@link SystemError} such as ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** Any other stream event. */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** See {@link Socket.on}. */
  once(event: 'tcp', listener: (ev: TcpEvent) => void): this;
  /** See {@link Socket.on}. */
  once(event: 'close', listener: (hadError: boolean) => void): this;
  /** See {@link Socket.on}. */
  once(event: 'urgent', listener: (data: Buffer, mark: UrgentMark) => void): this;
  /** See {@link Socket.on}. */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
