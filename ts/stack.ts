/**
 * A TCP/IP stack: one Rust thread running the engine over a device.
 * @module
 */

import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { loadAddon } from './addon.js';
import { Dispatcher } from './dispatch.js';
import { fromNative, systemError } from './errors.js';
import type { NativeDevice, NativeImpairment, NativeStackOptions, NativeTcpOptions } from './native.js';
import type { NetstatEntry } from './netstat.js';
import type { DeviceImpairmentOptions, StackOptions } from './options.js';
import { Server, type ServerOptions } from './server.js';
import { Socket, type ConnectOptions } from './socket.js';
import type { SegmentEvent, StackTcpEvent } from './tcp_events.js';
import { UdpSocket, type RemoteInfo, type UdpSocketOptions } from './udp.js';

/** Options of {@link Stack.close}. */
export interface CloseOptions {
  /**
   * How long to wait for connections to finish their close (FIN
   * exchanged) before the rest are reset, ms. Default 2000.
   */
  graceMs?: number;
}

const DEFAULT_GRACE_MS = 2000;

/**
 * A userspace TCP/IP stack with its own IPv4 address, running over a Linux
 * TUN device or one end of a {@link MemoryLink}. Its sockets mirror
 * node:net and node:dgram:
 *
 * ```ts
 * const stack = await Stack.open({ tun: { name: 'tun0', hostAddress: '10.7.0.1/24' }, address: '10.7.0.2/24' });
 * stack.createServer((socket) => socket.pipe(socket)).listen(7);
 * const sock = stack.connect({ host: '10.7.0.1', port: 80 }, () => sock.end('hello'));
 * ```
 *
 * Events: `'segment'` ({@link SegmentEvent}, while tracing), `'tcp'`
 * ({@link StackTcpEvent} for every connection, including handshakes not
 * accepted yet), `'error'` (the device failed or the stack's thread died;
 * without a listener this is reported as a process warning), `'close'`.
 *
 * A stack keeps the process alive until {@link Stack.close}.
 */
export class Stack extends EventEmitter {
  /** Our IPv4 address. */
  readonly address: string;
  /** Prefix length of our subnet. */
  readonly prefixLength: number;
  /** The device's name, e.g. `tun0` or `memory:a`. */
  readonly deviceName: string;
  readonly #d: Dispatcher;
  readonly #servers = new Set<Server>();
  readonly #udp = new Set<UdpSocket>();
  #closing: Promise<void> | undefined;

  private constructor(address: string, prefixLength: number, deviceName: string) {
    super();
    this.address = address;
    this.prefixLength = prefixLength;
    this.deviceName = deviceName;
    this.#d = new Dispatcher(this);
  }

  /**
   * Opens a stack over a TUN device (`tun`) or a memory link end (`device`).
   * Fails with a {@link SystemError}: EPERM/EACCES when the TUN cannot be
   * created (the message says how to make a persistent TUN for an
   * unprivileged user), EINVAL for a bad address, EBUSY for a link end
   * already in use.
   * @param options - device, address and tunables
   * @returns the running stack
   */
  static async open(options: StackOptions): Promise<Stack> {
    const binding = await loadAddon();
    if ((options.tun === undefined) === (options.device === undefined)) {
      throw systemError('EINVAL', 'open', undefined, undefined, 'give exactly one of `tun` and `device`');
    }
    const [addr, prefix] = options.address.split('/');
    if (addr === undefined || !isIPv4(addr)) {
      throw systemError('EINVAL', 'open', options.address, undefined, 'address must be IPv4 with a prefix, e.g. 10.7.0.2/24');
    }
    // Checked before a device is opened or a link end taken.
    const sides = options.impair ? impairmentSides(options.impair) : undefined;
    let device: NativeDevice;
    if (options.device !== undefined) {
      device = options.device.take(binding);
    } else {
      const tun = options.tun!;
      try {
        device = binding.openTun(clean({ ...tun, mtu: tun.mtu ?? options.mtu }));
      } catch (err) {
        throw fromNative(err, 'open', tun.name);
      }
    }
    if (sides) device.impair(...sides);
    const stack = new Stack(addr, prefix === undefined ? 32 : Number(prefix), device.name);
    if (options.tcp?.mslMs !== undefined) stack.#d.mslMs = options.tcp.mslMs;
    const native: NativeStackOptions = clean({
      address: options.address,
      mtu: options.mtu,
      seed: options.seed,
      ttl: options.ttl,
      trace: options.trace,
      tcp: options.tcp ? clean({ ...options.tcp } as NativeTcpOptions) : undefined,
    });
    try {
      stack.#d.native = binding.openStack(device, native, stack.#d.onEvents);
    } catch (err) {
      throw fromNative(err, 'open', options.address);
    }
    openStacks.add(stack.#d);
    stack.once('close', () => openStacks.delete(stack.#d));
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', resetOnExit);
    }
    return stack;
  }

  /**
   * Creates a TCP server, like `net.createServer`.
   * @param options - accepted sockets' options
   * @param connectionListener - added as a 'connection' listener
   * @returns the server (call `listen`)
   */
  createServer(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void): Server {
    if (typeof options === 'function') {
      connectionListener = options;
      options = undefined;
    }
    const server = new Server(this.#d, options, connectionListener);
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    return server;
  }

  /**
   * Opens a TCP connection, like `net.connect`: `connect({ host, port, localPort }, cb)`
   * or `connect(port, host, cb)`. Errors (ECONNREFUSED, ETIMEDOUT,
   * EADDRINUSE) are emitted as 'error' on the socket.
   * @param args - {@link ConnectOptions} or port and host, then an optional 'connect' listener
   * @returns the socket, connecting
   */
  connect(...args: unknown[]): Socket {
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    let opts: ConnectOptions;
    if (typeof args[0] === 'object' && args[0] !== null) opts = args[0] as ConnectOptions;
    else opts = { port: Number(args[0]), host: args[1] as string };
    const { host, port } = opts;
    let id: number | undefined;
    let failure: Error | undefined;
    if (typeof host !== 'string' || !isIPv4(host)) {
      failure = systemError('ENOTFOUND', 'getaddrinfo', undefined, undefined, `tunstack resolves no names; give an IPv4 address (got ${String(host)})`);
    } else if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      const err = new RangeError(`Port should be > 0 and < 65536. Received ${String(port)}.`) as NodeJS.ErrnoException;
      err.code = 'ERR_SOCKET_BAD_PORT';
      failure = err;
    } else if (opts.localAddress !== undefined && opts.localAddress !== this.address && opts.localAddress !== '0.0.0.0') {
      failure = systemError('EADDRNOTAVAIL', 'bind', opts.localAddress, undefined, `this stack's address is ${this.address}`);
    } else if (this.#d.closing || this.#d.closed) {
      failure = systemError('EINVAL', 'connect', host, port, 'the stack is closed');
    } else if (opts.congestionControl !== undefined && opts.congestionControl !== 'cubic' && opts.congestionControl !== 'reno') {
      throw Object.assign(new TypeError(`congestionControl must be 'cubic' or 'reno', got ${String(opts.congestionControl)}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    } else {
      try {
        id = this.#d.native.tcpConnect(host, port, opts.localPort ?? null);
      } catch (err) {
        failure = fromNative(err, 'connect', host, port);
      }
    }
    const socket = new Socket(this.#d, { id, connecting: true, remoteAddress: host, remotePort: port }, opts);
    if (cb) socket.once('connect', cb);
    if (failure) {
      const err = failure;
      process.nextTick(() => socket.destroy(err));
    }
    return socket;
  }

  /**
   * Alias of {@link Stack.connect}, as `net.createConnection`.
   * @param args - as {@link Stack.connect}
   * @returns the socket, connecting
   */
  createConnection(...args: unknown[]): Socket {
    return this.connect(...args);
  }

  /**
   * Creates a UDP socket, like `dgram.createSocket`.
   * @param type - `'udp4'` or `{ type: 'udp4' }`
   * @param onMessage - added as a 'message' listener
   * @returns the socket (call `bind`, or just `send`)
   */
  createSocket(type: 'udp4' | UdpSocketOptions, onMessage?: (msg: Buffer, rinfo: RemoteInfo) => void): UdpSocket {
    const t = typeof type === 'string' ? type : type.type;
    if (t !== 'udp4') {
      const err = new TypeError(`Bad socket type specified. Valid types are: udp4 (got ${String(t)})`) as NodeJS.ErrnoException;
      err.code = 'ERR_SOCKET_BAD_TYPE';
      throw err;
    }
    const sock = new UdpSocket(this.#d, onMessage);
    this.#udp.add(sock);
    sock.once('close', () => this.#udp.delete(sock));
    return sock;
  }

  /**
   * Every socket of the stack, listeners and TIME_WAIT included, like `ss -tuan`
   * (render with {@link formatNetstat}).
   * @returns one entry per socket
   */
  netstat(): NetstatEntry[] {
    if (this.#d.closed) return [];
    return this.#d.native.netstat() as NetstatEntry[];
  }

  /**
   * Counters of the engine (like `nstat`: ipInReceives, tcpRetransSegs,
   * tcpOutRsts, tcpWinProbe, tcpToZeroWindowAdv, tcpFromZeroWindowAdv, ...
   * every drop counted by reason) and of the device.
   * @returns counter name → value
   */
  stats(): Record<string, number> {
    if (this.#d.closed) return {};
    return this.#d.native.stats();
  }

  /**
   * Turns the per-segment `'segment'` events on or off.
   * @param enabled - on or off
   */
  setTrace(enabled: boolean): void {
    if (!this.#d.closed) this.#d.native.setTrace(enabled);
  }

  /** True once {@link Stack.close} was called. */
  get closed(): boolean {
    return this.#d.closing;
  }

  /**
   * Closes the stack gracefully: servers stop listening, every connection
   * is shut down with a FIN (after the data already written), connections
   * still open after `graceMs` are reset, then the thread stops and the
   * device is released. Sockets still open in JS then end ('end', 'close').
   * Calling it again returns the same promise.
   * @param options - grace period
   * @returns resolves when the native stack is closed; then 'close' is emitted
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.graceMs ?? DEFAULT_GRACE_MS);
    return this.#closing;
  }

  /** Closes the stack (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(graceMs: number): Promise<void> {
    for (const server of [...this.#servers]) if (server.listening) server.close();
    this.#d.closing = true;
    for (const socket of [...this.#d.sockets]) if (!socket.destroyed && !socket.writableEnded) socket.end();
    try {
      await this.#d.native.close(graceMs);
    } finally {
      this.#d.closed = true;
      this.#d.closeAll();
      for (const socket of [...this.#d.sockets]) socket.stackClosed();
      for (const udp of [...this.#udp]) udp.stackClosed();
      for (const server of [...this.#servers]) server.stackClosed();
      process.nextTick(() => this.emit('close'));
    }
  }

}

export interface Stack {
  /** A TCP segment in or out (while tracing). */
  on(event: 'segment', listener: (ev: SegmentEvent) => void): this;
  /** A state change or retransmission of any connection of the stack. */
  on(event: 'tcp', listener: (ev: StackTcpEvent) => void): this;
  /** The stack closed. */
  on(event: 'close', listener: () => void): this;
  /** The stack hit a fault: its device failed or its thread died. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** Any other event. */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** See {@link Stack.on}. */
  once(event: 'segment', listener: (ev: SegmentEvent) => void): this;
  /** See {@link Stack.on}. */
  once(event: 'tcp', listener: (ev: StackTcpEvent) => void): this;
  /** See {@link Stack.on}. */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** Stacks not yet closed, for {@link resetOnExit}. */
const openStacks = new Set<Dispatcher>();
let exitHooked = false;

/** How long an exiting process waits for each stack's RSTs to go out. */
const EXIT_WAIT_MS = 1_000;

/**
 * A process that exits (process.exit, an uncaught exception, or an
 * unref'd stack) takes its stacks with it: no thread is left to finish a
 * FIN exchange as the kernel's orphaned sockets would. So every open
 * connection is reset before the thread stops: peers learn at once
 * (ECONNRESET) instead of waiting on a connection that will never answer.
 */
function resetOnExit(): void {
  for (const d of openStacks) if (!d.closed) d.native.closeSync(EXIT_WAIT_MS);
  openStacks.clear();
}

/**
 * The receive-side and send-side impairments `impair` asks for; with
 * `'both'` the send side uses `seed + 1` so the directions lose different packets.
 */
function impairmentSides(impair: DeviceImpairmentOptions): [NativeImpairment | undefined, NativeImpairment | undefined] {
  const { direction = 'receive', ...effects } = impair;
  if (direction !== 'receive' && direction !== 'send' && direction !== 'both') {
    throw Object.assign(new TypeError(`impair.direction must be 'receive', 'send' or 'both', got ${String(direction)}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const receive = direction === 'send' ? undefined : clean({ ...effects });
  const send = direction === 'receive' ? undefined : clean({ ...effects });
  if (send && direction === 'both') send.seed = (effects.seed ?? 0) + 1;
  return [receive, send];
}

/** Drops undefined fields, so the addon sees absent options as absent. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}
