/**
 * A TCP listener with node:net's `Server` interface.
 * @module
 */

import { EventEmitter } from 'node:events';
import type { Dispatcher } from './dispatch.js';
import { CONNECTION_TCP_EVENTS, toListenEvent, toStackTcpEvents } from './dispatch.js';
import { fromNative } from './errors.js';
import type { NativeEvent } from './native.js';
import { checkCongestionControl, Socket, type SocketOptions } from './socket.js';
import type { AddressInfo, ListenerQueues, TcpEvent, TcpListenEvent } from './tcp_events.js';

/** Options of {@link Stack.createServer}. */
export interface ServerOptions
  extends Pick<
    SocketOptions,
    'allowHalfOpen' | 'noDelay' | 'keepAlive' | 'keepAliveInitialDelay' | 'congestionControl' | 'urgentInline'
  > {
  /** Accepted sockets start paused (no reading, so the window closes) until `resume()`. */
  pauseOnConnect?: boolean;
  /** IP_TOS of the listener's connections, from their SYN-ACK on (see {@link Socket.setTypeOfService}). */
  typeOfService?: number;
  /** highWaterMark of accepted sockets, both sides. */
  highWaterMark?: number;
}

/** Options of {@link Server.listen}. */
export interface ListenOptions {
  /** Port; 0 or absent picks an ephemeral port. */
  port?: number;
  /** Local address; `0.0.0.0` or absent = the stack's address. */
  host?: string;
  /**
   * Bound of the accept queue (connections that completed the handshake
   * and wait for accept). As on Linux it holds `backlog + 1`. Default 511.
   */
  backlog?: number;
  /**
   * When a handshake completes while the accept queue is full, reset it
   * instead of dropping its ACK (then the server stays in SYN_RECEIVED and
   * retransmits the SYN-ACK until there is room). Absent: the stack's
   * `tcp.abortOnOverflow` (default false, as Linux's `tcp_abort_on_overflow`).
   */
  abortOnOverflow?: boolean;
  /**
   * SO_REUSEADDR. Default true, as node:net always sets it: the port
   * conflicts only with another listener, so a restarted server listens
   * at once even while its old connections sit in TIME_WAIT. With false,
   * any connection still on the port (TIME_WAIT included) makes listen
   * fail with `EADDRINUSE`, as a Linux socket without SO_REUSEADDR does.
   */
  reuseAddress?: boolean;
}

const DEFAULT_BACKLOG = 511;

/**
 * A TCP server of a {@link Stack}, like node:net's `Server`: events
 * 'listening', 'connection' (a {@link Socket}), 'error', 'close', and the
 * opt-in 'tcp' ({@link TcpEvent}: the listener's own state changes and
 * its queue events, {@link TcpListenEvent}).
 * Connections are accepted as soon as the stack reports them, unless
 * accepting is paused ({@link Server.pauseAccepting}).
 */
export class Server extends EventEmitter {
  /** When set, connections beyond this many are closed as they are accepted (emitting 'drop'). */
  maxConnections: number | undefined;
  readonly #d: Dispatcher;
  readonly #options: ServerOptions;
  #id: number | undefined;
  #address: AddressInfo | undefined;
  readonly #connections = new Set<Socket>();

  /** @internal */
  constructor(d: Dispatcher, options: ServerOptions = {}, connectionListener?: (socket: Socket) => void) {
    super();
    this.#d = d;
    this.#options = { ...options };
    if (options.congestionControl !== undefined) checkCongestionControl(options.congestionControl);
    const tos = options.typeOfService;
    if (tos !== undefined && (!Number.isInteger(tos) || tos < 0 || tos > 255)) {
      throw Object.assign(new RangeError(`typeOfService must be an integer 0..255, got ${String(tos)}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    if (connectionListener) this.on('connection', connectionListener);
  }

  /** True while listening. */
  get listening(): boolean {
    return this.#id !== undefined;
  }

  /**
   * Starts listening, like `net.Server.listen`: `listen(port, host, backlog, cb)`,
   * `listen(port, cb)`, `listen({ port, host, backlog }, cb)` or `listen(cb)`.
   * Errors (EADDRINUSE, EADDRNOTAVAIL, EINVAL) are emitted as 'error'.
   * @param args - port/host/backlog or a {@link ListenOptions}, then an optional 'listening' callback
   * @returns this
   */
  listen(...args: unknown[]): this {
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    let opts: ListenOptions;
    if (typeof args[0] === 'object' && args[0] !== null) {
      opts = args[0] as ListenOptions;
    } else {
      opts = {};
      if (args[0] !== undefined && args[0] !== null) opts.port = Number(args[0]);
      for (const a of args.slice(1)) {
        if (typeof a === 'string') opts.host = a;
        else if (typeof a === 'number') opts.backlog = a;
      }
    }
    if (this.#id !== undefined) {
      const err = new Error('Listen method has been called more than once without closing.') as NodeJS.ErrnoException;
      err.code = 'ERR_SERVER_ALREADY_LISTEN';
      throw err;
    }
    const host = opts.host ?? '0.0.0.0';
    const port = opts.port ?? 0;
    const backlog = opts.backlog ?? DEFAULT_BACKLOG;
    if (cb) this.once('listening', cb);
    if (this.#d.closing || this.#d.closed) {
      process.nextTick(() => this.emit('error', fromNative(closedError(), 'listen', host, port)));
      return this;
    }
    let id: number;
    try {
      id = this.#d.native.tcpListen(host, port, backlog, opts.abortOnOverflow ?? null, opts.reuseAddress ?? null);
    } catch (err) {
      process.nextTick(() => this.emit('error', fromNative(err, 'listen', host, port)));
      return this;
    }
    this.#id = id;
    this.#d.register(id, this);
    const cc = this.#options.congestionControl;
    // Set on the listener, so connections get it from their SYN on.
    if (cc !== undefined) this.#d.native.tcpSetCongestionControl(id, cc);
    // Set on the listener, so a connection has it before any of its data is read.
    if (this.#options.urgentInline) this.#d.native.tcpSetUrgentInline(id, true);
    if (this.#options.typeOfService !== undefined) this.#d.native.tcpSetTos(id, this.#options.typeOfService);
    const local = this.#d.native.localAddress(id);
    this.#address = { address: local?.address ?? host, family: 'IPv4', port: local?.port ?? port };
    process.nextTick(() => {
      if (this.#id === id) this.emit('listening');
    });
    return this;
  }

  /**
   * The bound address, as `net.Server.address()`.
   * @returns `{ address, family, port }`, or null when not listening
   */
  address(): AddressInfo | null {
    return this.#id === undefined ? null : { ...this.#address! };
  }

  /**
   * Counts open connections, like `net.Server.getConnections`.
   * @param cb - called with (null, count)
   * @returns this
   */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.#connections.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  /**
   * Stops accepting (connections still in the accept queue are reset, as
   * when a listening socket is closed); 'close' is emitted once every
   * accepted connection has closed, as node:net does.
   * @param cb - called on 'close'; with ERR_SERVER_NOT_RUNNING if the server was not listening
   * @returns this
   */
  close(cb?: (err?: Error) => void): this {
    if (cb) {
      if (this.#id === undefined) {
        this.once('close', () => {
          const err = new Error('Server is not running.') as NodeJS.ErrnoException;
          err.code = 'ERR_SERVER_NOT_RUNNING';
          cb(err);
        });
      } else {
        this.once('close', () => cb());
      }
    }
    const id = this.#id;
    if (id !== undefined) {
      this.#id = undefined;
      this.#d.unregister(id, this);
      if (!this.#d.closed) {
        try {
          this.#d.native.tcpRelease(id);
        } catch {
          // Already gone with the stack.
        }
      }
    }
    this.#closing = true;
    this.#emitCloseIfDrained();
    return this;
  }

  /**
   * The listener's queues: the half-open (SYN_RECEIVED) queue and the
   * accept queue with their bounds and drop counters.
   * @returns the queues, or null when not listening
   */
  queues(): ListenerQueues | null {
    if (this.#id === undefined || this.#d.closed) return null;
    return this.#d.native.listenerQueues(this.#id);
  }

  /**
   * Stops taking connections from the accept queue (no 'connection'
   * events) until {@link Server.resumeAccepting}, like an application that
   * does not call accept(2). Handshakes still complete into the accept
   * queue; once it is full (backlog + 1), further completing ACKs are
   * dropped and those clients, already connected in their own view, wait in
   * SYN_RECEIVED on this side (see {@link Server.queues}), as on Linux.
   * @returns this
   */
  pauseAccepting(): this {
    this.#acceptPaused = true;
    return this;
  }

  /**
   * Accepts again after {@link Server.pauseAccepting}: everything waiting in
   * the accept queue is emitted as 'connection' (asynchronously), which
   * makes room for the handshakes held in SYN_RECEIVED.
   * @returns this
   */
  resumeAccepting(): this {
    if (!this.#acceptPaused) return this;
    this.#acceptPaused = false;
    process.nextTick(() => this.#acceptAll());
    return this;
  }

  /** True while accepting is paused ({@link Server.pauseAccepting}). */
  get acceptingPaused(): boolean {
    return this.#acceptPaused;
  }

  #acceptPaused = false;

  /**
   * No-op, for node:net compatibility (the stack keeps the process alive until `stack.close()`).
   * @returns this
   */
  ref(): this {
    return this;
  }

  /**
   * No-op, for node:net compatibility.
   * @returns this
   */
  unref(): this {
    return this;
  }

  /** Closes the server (for `using`/`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#id === undefined) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }

  #closing = false;
  #closeEmitted = false;

  #emitCloseIfDrained(): void {
    if (!this.#closing || this.#closeEmitted || this.#id !== undefined || this.#connections.size > 0) return;
    this.#closeEmitted = true;
    process.nextTick(() => this.emit('close'));
  }

  /** @internal */
  handleNative(ev: NativeEvent): void {
    if (CONNECTION_TCP_EVENTS.has(ev.type)) {
      // The listener's own (its state changes).
      if (this.listenerCount('tcp') > 0) {
        for (const { id: _id, ...tcp } of toStackTcpEvents(ev)) this.emit('tcp', tcp as TcpEvent);
      }
      return;
    }
    switch (ev.type) {
      case 'acceptable':
        this.#acceptAll();
        return;
      case 'listen':
        if (this.listenerCount('tcp') > 0) this.emit('tcp', toListenEvent(ev));
        return;
    }
  }

  /** @internal */
  stackClosed(): void {
    if (this.#id !== undefined) {
      this.#id = undefined;
      this.#closing = true;
    }
    this.#emitCloseIfDrained();
  }

  #acceptAll(): void {
    const listener = this.#id;
    if (listener === undefined) return;
    for (;;) {
      if (this.#id !== listener || this.#d.closed || this.#acceptPaused) return;
      let id: number | null;
      try {
        id = this.#d.native.tcpAccept(listener);
      } catch (err) {
        this.emit('error', fromNative(err, 'accept'));
        return;
      }
      if (id === null || id === undefined) return;
      const o = this.#options;
      const socket = new Socket(
        this.#d,
        { id, connecting: false, paused: o.pauseOnConnect },
        {
          allowHalfOpen: o.allowHalfOpen,
          noDelay: o.noDelay,
          keepAlive: o.keepAlive,
          keepAliveInitialDelay: o.keepAliveInitialDelay,
          congestionControl: o.congestionControl,
          readableHighWaterMark: o.highWaterMark,
          writableHighWaterMark: o.highWaterMark,
        },
      );
      if (this.maxConnections !== undefined && this.#connections.size >= this.maxConnections) {
        this.emit('drop', {
          localAddress: socket.localAddress,
          localPort: socket.localPort,
          localFamily: socket.localFamily,
          remoteAddress: socket.remoteAddress,
          remotePort: socket.remotePort,
          remoteFamily: socket.remoteFamily,
        });
        socket.destroy();
        continue;
      }
      this.#connections.add(socket);
      socket.once('close', () => {
        this.#connections.delete(socket);
        this.#emitCloseIfDrained();
      });
      this.emit('connection', socket);
    }
  }
}

function closedError(): Error {
  const err = new Error('the stack is closed') as NodeJS.ErrnoException;
  err.code = 'EINVAL';
  return err;
}

export interface Server {
  /** A connection completed the handshake and was accepted. */
  on(event: 'connection', listener: (socket: Socket) => void): this;
  /** Listening started. */
  on(event: 'listening', listener: () => void): this;
  /** The server closed and every accepted connection has closed. */
  on(event: 'close', listener: () => void): this;
  /** A listen error such as EADDRINUSE. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** The listener's own state changes and its queue events ({@link TcpListenEvent}: SYN queued, cookie sent, SYN dropped, accept-queue overflow, ...). */
  on(event: 'tcp', listener: (ev: TcpEvent) => void): this;
  /** Any other event. */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** See {@link Server.on}. */
  once(event: 'connection', listener: (socket: Socket) => void): this;
  /** See {@link Server.on}. */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
