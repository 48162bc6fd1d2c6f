/**
 * What a {@link Socket} is configured with: the options of
 * {@link Stack.connect} and of a {@link Server}'s sockets, and their checks.
 * @module
 */

import type { CongestionControl } from './tcp_events.js';

/** Options shared by sockets made with {@link Stack.connect} and by a {@link Server}'s sockets. */
export interface SocketOptions {
  /**
   * As in node:net: if false (the default), the socket ends its writable
   * side automatically after the peer's FIN ('end'); if true it stays
   * writable (TCP half-close: CLOSE_WAIT, still sending) until `end()`.
   */
  allowHalfOpen?: boolean;
  /** Disable Nagle's algorithm right away (`setNoDelay(true)`). */
  noDelay?: boolean;
  /** Enable keepalive right away (`setKeepAlive(true, keepAliveInitialDelay)`). */
  keepAlive?: boolean;
  /** Keepalive idle time in ms for `keepAlive`. */
  keepAliveInitialDelay?: number;
  /** Idle timeout in ms (`setTimeout(timeout)`). */
  timeout?: number;
  /** Readable-side buffer size of the stream; above it the socket stops reading and the TCP window closes. */
  readableHighWaterMark?: number;
  /** Writable-side buffer size of the stream. */
  writableHighWaterMark?: number;
  /**
   * Congestion control of this connection (`setCongestionControl`), instead
   * of the stack's {@link TcpOptions.congestionControl}.
   */
  congestionControl?: CongestionControl;
  /**
   * SO_OOBINLINE: leave the peer's urgent bytes in the data stream
   * (`setUrgentInline(true)`). Legacy (RFC 6093); see {@link Socket.sendUrgent}.
   */
  urgentInline?: boolean;
}

/** Options of {@link Stack.connect}. */
export interface ConnectOptions extends SocketOptions {
  /** Peer IPv4 address (a literal: the stack resolves no names). */
  host: string;
  /** Peer port. */
  port: number;
  /** Local port to connect from (default: an ephemeral port). */
  localPort?: number;
  /**
   * Local address to connect from: the stack's own address or `0.0.0.0`
   * (a stack has one address); any other fails with `EADDRNOTAVAIL`, as
   * binding to an address the host does not have does.
   */
  localAddress?: string;
}

/**
 * Throws unless `name` is a known congestion control.
 * @internal
 */
export function checkCongestionControl(name: unknown): asserts name is CongestionControl {
  if (name !== 'cubic' && name !== 'reno') {
    const err = new TypeError(`congestionControl must be 'cubic' or 'reno', got ${String(name)}`) as NodeJS.ErrnoException;
    err.code = 'ERR_INVALID_ARG_VALUE';
    throw err;
  }
}

/**
 * A TypeError with node's ERR_INVALID_ARG_VALUE code.
 * @internal
 */
export function invalidArg(message: string): Error {
  const err = new TypeError(message) as NodeJS.ErrnoException;
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}
