/**
 * Node-style system errors. node:net reports failures as `Error`s carrying
 * `code` (e.g. `ECONNREFUSED`), a negative `errno`, the `syscall` that
 * failed and, for connection errors, the peer's `address` and `port`;
 * code written for node:net inspects exactly these fields.
 * @module
 */

import { constants } from 'node:os';

/**
 * An error as node:net reports it: `err.code` is the Node.js error code
 * (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `EADDRINUSE`, `EPIPE`,
 * `EINVAL`, `EPERM`, ...).
 */
export interface SystemError extends Error {
  /** Node.js error code, e.g. `ECONNRESET`. */
  code: string;
  /** Negated errno value as Node reports it (e.g. -104 for ECONNRESET), when the code is an errno name. */
  errno?: number;
  /** The operation that failed: `connect`, `read`, `write`, `listen`, `bind`, `send`, `open`. */
  syscall?: string;
  /** The remote (or, for `listen`/`bind`, local) address involved. */
  address?: string;
  /** The port involved. */
  port?: number;
}

const errnos = constants.errno as Record<string, number | undefined>;

/**
 * Builds a {@link SystemError} with node's message format, e.g.
 * `connect ECONNREFUSED 10.0.0.1:80` or `read ECONNRESET`.
 * @internal
 */
export function systemError(
  code: string,
  syscall: string,
  address?: string,
  port?: number,
  detail?: string,
): SystemError {
  let message = `${syscall} ${code}`;
  if (detail) message += `: ${detail}`;
  if (address !== undefined) message += port !== undefined ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(message) as SystemError;
  err.code = code;
  const errno = errnos[code];
  if (errno !== undefined) err.errno = -errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/**
 * Re-labels an error thrown by the addon (which carries `code` and a
 * message) as a {@link SystemError} for `syscall`; the native message is
 * kept as the detail because it may explain what to do (EPERM on TUN).
 * Errors without a code are returned unchanged.
 * @internal
 */
export function fromNative(err: unknown, syscall: string, address?: string, port?: number): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return err;
  // The addon formats messages the way Node does ("listen EADDRINUSE:
  // address already in use"); keep only the explanation after the code.
  const text = err.message.replace(new RegExp(`^(?:\\w+ )?${code}:?\\s*`), '');
  const detail = text && text !== code ? text : undefined;
  const wrapped = systemError(code, syscall, address, port, detail);
  (wrapped as { cause?: unknown }).cause = err;
  return wrapped;
}
