/**
 * Urgent data on the sending side's stream (URG, RFC 9293 §3.8.5; legacy,
 * RFC 6093): which written chunks are urgent, and where the peer's urgent
 * byte sits.
 * @module
 */

import { invalidArg } from './socket_options.js';

/**
 * Where the peer's urgent byte sits in the stream: the second argument of
 * a {@link Socket}'s `'urgent'` event (what SIOCATMARK tells a C program).
 */
export interface UrgentMark {
  /**
   * Bytes of the stream ('data') that come before the mark. Inline, the
   * urgent byte itself is the stream byte at this offset; out of band, it
   * was taken out from between offsets `offset - 1` and `offset`.
   */
  offset: number;
  /** The byte also stays in the stream (inline mode). */
  inline: boolean;
}

/** Chunks queued by {@link Socket.sendUrgent} (fresh Buffers, so identity marks them). */
const urgentChunks = new WeakSet<Buffer>();

/**
 * The chunk `sendUrgent(data)` writes: a fresh Buffer, remembered as urgent.
 * @internal
 */
export function urgentChunk(data: number | Buffer | string): Buffer {
  let buf: Buffer;
  if (typeof data === 'number') {
    if (!Number.isInteger(data) || data < 0 || data > 255) {
      throw invalidArg(`sendUrgent: a byte value must be an integer 0..255, got ${data}`);
    }
    buf = Buffer.from([data]);
  } else if (typeof data === 'string') {
    buf = Buffer.from(data, 'utf8');
  } else if (Buffer.isBuffer(data)) {
    buf = Buffer.from(data); // a fresh Buffer: its identity marks it urgent
  } else {
    throw invalidArg('sendUrgent: data must be a number, a Buffer or a string');
  }
  if (buf.length === 0) throw invalidArg('sendUrgent: data must not be empty');
  urgentChunks.add(buf);
  return buf;
}

/**
 * Whether `sendUrgent` wrote this chunk.
 * @internal
 */
export function isUrgentChunk(chunk: Buffer): boolean {
  return urgentChunks.has(chunk);
}

/**
 * Several chunks written at once (`_writev`) as at most two writes: up to
 * the last urgent chunk one urgent write (only its last byte is urgent, as
 * a later send(MSG_OOB) moves the mark on Linux), then the rest plain.
 * @internal
 */
export function splitAtLastUrgent(bufs: Buffer[]): { urgent: Buffer | undefined; plain: Buffer | undefined } {
  let last = -1;
  bufs.forEach((b, i) => {
    if (urgentChunks.has(b)) last = i;
  });
  const join = (list: Buffer[]): Buffer | undefined =>
    list.length === 0 ? undefined : list.length === 1 ? list[0]! : Buffer.concat(list);
  return { urgent: join(bufs.slice(0, last + 1)), plain: join(bufs.slice(last + 1)) };
}
