/**
 * UDP datagram sockets with node:dgram's interface.
 * @module
 */

import { EventEmitter } from 'node:events';
import type { Dispatcher } from './dispatch.js';
import { fromNative } from './errors.js';
import type { NativeEvent } from './native.js';
import type { AddressInfo } from './tcp_events.js';

/** Sender of a received datagram, as node:dgram's `rinfo`. */
export interface RemoteInfo {
  /** Sender address. */
  address: string;
  /** Always `'IPv4'`. */
  family: 'IPv4';
  /** Sender port. */
  port: number;
  /** Payload size, bytes. */
  size: number;
}

/** Options of {@link Stack.createSocket}. */
export interface UdpSocketOptions {
  /** Only `'udp4'`. */
  type: 'udp4';
}

/** Options of {@link UdpSocket.bind}. */
export interface BindOptions {
  /** Port; 0 or absent = ephemeral. */
  port?: number;
  /** Local address; absent = any of ours. */
  address?: string;
}

/**
 * A UDP socket of a {@link Stack}, like node:dgram's `Socket`: `bind`,
 * `send`, 'message' (msg, rinfo), 'listening', 'close', 'error'.
 * Each datagram is delivered whole, as sent (UDP is message-oriented).
 */
export class UdpSocket extends EventEmitter {
  readonly #d: Dispatcher;
  #id: number | undefined;
  #address: AddressInfo | undefined;
  #closed = false;

  /** @internal */
  constructor(d: Dispatcher, onMessage?: (msg: Buffer, rinfo: RemoteInfo) => void) {
    super();
    this.#d = d;
    if (onMessage) this.on('message', onMessage);
  }

  /**
   * Binds, like `dgram.Socket.bind`: `bind(port, address, cb)`, `bind(port, cb)`,
   * `bind({ port, address }, cb)` or `bind(cb)`. Errors are emitted as 'error'.
   * @param args - port/address or {@link BindOptions}, then an optional 'listening' callback
   * @returns this
   */
  bind(...args: unknown[]): this {
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    let opts: BindOptions;
    if (typeof args[0] === 'object' && args[0] !== null) opts = args[0] as BindOptions;
    else opts = { port: args[0] === undefined ? 0 : Number(args[0]), address: args[1] as string | undefined };
    if (cb) this.once('listening', cb);
    this.#bind(opts.port ?? 0, opts.address ?? '0.0.0.0', true);
    return this;
  }

  /**
   * Sends one datagram, like `dgram.Socket.send(msg, port, address, cb)`;
   * binds to an ephemeral port first if needed.
   * @param msg - payload (an array is concatenated)
   * @param port - destination port
   * @param address - destination IPv4 address
   * @param cb - called once the datagram was handed to the stack (with an error if not)
   */
  send(msg: Buffer | Uint8Array | string | ReadonlyArray<Buffer | Uint8Array | string>, port: number, address: string, cb?: (err: Error | null, bytes: number) => void): void {
    const data = toBuffer(msg);
    const fail = (err: Error) => {
      if (cb) process.nextTick(cb, err, 0);
      else process.nextTick(() => this.emit('error', err));
    };
    if (this.#closed) {
      const err = new Error('Not running') as NodeJS.ErrnoException;
      err.code = 'ERR_SOCKET_DGRAM_NOT_RUNNING';
      fail(err);
      return;
    }
    if (this.#id === undefined && !this.#bind(0, '0.0.0.0', false)) {
      fail(fromNative(closedOr('EINVAL'), 'send', address, port));
      return;
    }
    try {
      this.#d.native.udpSend(this.#id!, address, port, data);
    } catch (err) {
      fail(fromNative(err, 'send', address, port));
      return;
    }
    if (cb) process.nextTick(cb, null, data.length);
  }

  /**
   * The bound address.
   * @returns `{ address, family, port }`
   */
  address(): AddressInfo {
    if (this.#address === undefined) {
      const err = new Error('getsockname EBADF') as NodeJS.ErrnoException;
      err.code = 'EBADF';
      throw err;
    }
    return { ...this.#address };
  }

  /**
   * Closes the socket; 'close' follows.
   * @param cb - added as a 'close' listener
   * @returns this
   */
  close(cb?: () => void): this {
    if (this.#closed) {
      const err = new Error('Not running') as NodeJS.ErrnoException;
      err.code = 'ERR_SOCKET_DGRAM_NOT_RUNNING';
      throw err;
    }
    if (cb) this.once('close', cb);
    this.#closed = true;
    const id = this.#id;
    this.#id = undefined;
    if (id !== undefined) {
      this.#d.unregister(id, this);
      if (!this.#d.closed) {
        try {
          this.#d.native.udpRelease(id);
        } catch {
          // Already gone with the stack.
        }
      }
    }
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /**
   * No-op, for node:dgram compatibility.
   * @returns this
   */
  ref(): this {
    return this;
  }

  /**
   * No-op, for node:dgram compatibility.
   * @returns this
   */
  unref(): this {
    return this;
  }

  /** @internal */
  handleNative(ev: NativeEvent): void {
    if (ev.type !== 'udp' || this.#closed || ev.data === undefined) return;
    const rinfo: RemoteInfo = { address: ev.address ?? '', family: 'IPv4', port: ev.port ?? 0, size: ev.data.length };
    this.emit('message', ev.data, rinfo);
  }

  /** @internal */
  stackClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#id = undefined;
    process.nextTick(() => this.emit('close'));
  }

  #bind(port: number, host: string, report: boolean): boolean {
    if (this.#closed || this.#id !== undefined || this.#d.closing || this.#d.closed) {
      if (report) {
        let err: Error;
        if (this.#id !== undefined) {
          err = new Error('Socket is already bound');
          (err as NodeJS.ErrnoException).code = 'ERR_SOCKET_ALREADY_BOUND';
        } else {
          err = fromNative(closedOr('EINVAL'), 'bind', host, port);
        }
        process.nextTick(() => this.emit('error', err));
      }
      return false;
    }
    let id: number;
    try {
      id = this.#d.native.udpBind(host, port);
    } catch (err) {
      if (report) process.nextTick(() => this.emit('error', fromNative(err, 'bind', host, port)));
      return false;
    }
    this.#id = id;
    this.#d.register(id, this);
    const local = this.#d.native.localAddress(id);
    this.#address = { address: local?.address ?? host, family: 'IPv4', port: local?.port ?? port };
    process.nextTick(() => this.emit('listening'));
    return true;
  }
}

function toBuffer(msg: Buffer | Uint8Array | string | ReadonlyArray<Buffer | Uint8Array | string>): Buffer {
  if (typeof msg === 'string') return Buffer.from(msg);
  if (Buffer.isBuffer(msg)) return msg;
  if (msg instanceof Uint8Array) return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  return Buffer.concat((msg as ReadonlyArray<Buffer | Uint8Array | string>).map((m) => (typeof m === 'string' ? Buffer.from(m) : m)));
}

function closedOr(code: string): Error {
  const err = new Error('the socket or its stack is closed') as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

export interface UdpSocket {
  /** A datagram arrived. */
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this;
  /** The socket is bound. */
  on(event: 'listening' | 'close', listener: () => void): this;
  /** A bind or send error. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** Any other event. */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** See {@link UdpSocket.on}. */
  once(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this;
  /** See {@link UdpSocket.on}. */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
