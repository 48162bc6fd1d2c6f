// Shared helpers of the ava tests: bounded waits on events, a pair of
// stacks on one memory link, byte collection and hashing.

import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { MemoryLink, Stack, type MemoryLinkOptions, type StackOptions } from '../ts/index.js';

/** Default bound of every wait: generous, it only turns a hang into a failure. */
export const WAIT_MS = 20_000;

/**
 * Resolves with the arguments of the next `event`; rejects on 'error'
 * (unless waiting for it) or when `ms` pass first.
 */
export function once<T extends unknown[] = any[]>(emitter: EventEmitter, event: string, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for '${event}'`));
    }, ms);
    const onEvent = (...args: unknown[]) => {
      cleanup();
      resolve(args as T);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.removeListener(event, onEvent);
      if (event !== 'error') emitter.removeListener('error', onError);
    };
    emitter.once(event, onEvent);
    if (event !== 'error') emitter.once('error', onError);
  });
}

/**
 * The socket's 'close' (resolves with hadError), listening from now on and
 * ignoring 'error'. Create it before the step that closes the socket:
 * 'close' follows 'end'/'error' within the same tick.
 */
export function closeOf(socket: EventEmitter, ms = WAIT_MS): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for 'close'")), ms);
    socket.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      resolve(Boolean(hadError));
    });
  });
}

/** The next 'error' (listening from now on), within `ms`. */
export function errorOf<E extends Error = NodeJS.ErrnoException>(emitter: EventEmitter, ms = WAIT_MS): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for 'error'")), ms);
    emitter.once('error', (err: E) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

/** Resolves with the first `event` whose arguments satisfy `pred`, within `ms`. */
export function until<T extends unknown[] = any[]>(
  emitter: EventEmitter,
  event: string,
  pred: (...args: T) => boolean,
  ms = WAIT_MS,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`timed out waiting for a matching '${event}'`));
    }, ms);
    const onEvent = (...args: unknown[]) => {
      if (!pred(...(args as T))) return;
      clearTimeout(timer);
      emitter.removeListener(event, onEvent);
      resolve(args as T);
    };
    emitter.on(event, onEvent);
  });
}

/** Races `p` against a timeout (for promises that are not events). */
export function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]);
}

/** Everything a readable stream delivers until 'end' (rejects on 'error' or timeout). */
export function collect(stream: NodeJS.ReadableStream & EventEmitter, ms = WAIT_MS): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
  return once(stream, 'end', ms).then(() => Buffer.concat(chunks));
}

export function sha256(data: Buffer | Buffer[]): string {
  const h = createHash('sha256');
  for (const b of Array.isArray(data) ? data : [data]) h.update(b);
  return h.digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface Pair {
  link: MemoryLink;
  /** 10.0.0.1 */
  server: Stack;
  /** 10.0.0.2 */
  client: Stack;
  close(): Promise<void>;
}

export const SERVER_IP = '10.0.0.1';
export const CLIENT_IP = '10.0.0.2';

/** Two stacks on one memory link. Always `await pair.close()` (use t.teardown). */
export async function pair(
  link: MemoryLinkOptions = {},
  extra: Partial<Omit<StackOptions, 'device' | 'address' | 'tun'>> = {},
): Promise<Pair> {
  const l = new MemoryLink(link);
  const server = await Stack.open({ device: l.a, address: `${SERVER_IP}/24`, seed: 1, ...extra });
  let client: Stack;
  try {
    client = await Stack.open({ device: l.b, address: `${CLIENT_IP}/24`, seed: 2, ...extra });
  } catch (err) {
    await server.close({ graceMs: 0 });
    throw err;
  }
  return {
    link: l,
    server,
    client,
    close: async () => {
      await Promise.all([server.close({ graceMs: 500 }), client.close({ graceMs: 500 })]);
    },
  };
}
