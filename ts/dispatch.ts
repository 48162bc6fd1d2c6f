/**
 * Routes the addon's event batches to the objects that own the ids.
 * @internal
 * @module
 */

import type { EventEmitter } from 'node:events';
import type { NativeEvent, NativeStack } from './native.js';
import type { Socket } from './socket.js';
import { systemError } from './errors.js';
import type {
  SegmentEvent,
  StackTcpEvent,
  TcpChallengeAckEvent,
  TcpIcmpEvent,
  TcpCongestionEvent,
  TcpListenEvent,
  TcpResetReceivedEvent,
  TcpResetSentEvent,
  TcpState,
  TcpSynDroppedEvent,
} from './tcp_events.js';

/** Anything that owns a native id. @internal */
export interface EventSink {
  /** One event for this sink's id, in batch order. */
  handleNative(ev: NativeEvent): void;
  /** The stack closed underneath: finish up without touching the addon. */
  stackClosed(): void;
}

/**
 * One per stack: the id → owner map and the batch loop.
 * @internal
 */
export class Dispatcher {
  /** Set right after `openStack` returns (no batch can arrive before: batches are delivered by the event loop). */
  native!: NativeStack;
  /** Owners of live ids: sockets, zombies waiting for 'closed', servers, UDP sockets. */
  readonly sinks = new Map<number, EventSink>();
  /** Sockets not yet closed in JS (connecting, open, accepted), for `stack.close()`. */
  readonly sockets = new Set<Socket>();
  /** The stack's MSL in ms (FIN_WAIT_2 and TIME_WAIT last 2×MSL). */
  mslMs = 30_000;
  /** True once `stack.close()` was called. */
  closing = false;
  /** True once the native stack is closed: no addon call may be made. */
  closed = false;
  readonly #stack: EventEmitter;

  constructor(stack: EventEmitter) {
    this.#stack = stack;
  }

  /** True when the stack itself has 'tcp' listeners (then sockets keep their ids until the native close, see Socket). */
  stackWantsTcp(): boolean {
    return this.#stack.listenerCount('tcp') > 0;
  }

  register(id: number, sink: EventSink): void {
    this.sinks.set(id, sink);
  }

  unregister(id: number, sink: EventSink): void {
    if (this.sinks.get(id) === sink) this.sinks.delete(id);
  }

  /**
   * The addon's callback: one call per batch. Events are handled strictly
   * in order, so a connection's data is pushed before its 'end' and its
   * 'closed'. An exception from user code (a listener) does not stop the
   * batch; the first one is rethrown afterwards, asynchronously, so it
   * surfaces as an uncaught exception exactly as a throwing listener on a
   * node:net socket would.
   */
  readonly onEvents = (batch: NativeEvent[]): void => {
    let failure: { error: unknown } | undefined;
    for (const ev of batch) {
      try {
        this.#dispatch(ev);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) {
      const { error } = failure;
      process.nextTick(() => {
        throw error;
      });
    }
  };

  #dispatch(ev: NativeEvent): void {
    switch (ev.type) {
      case 'segment':
        if (this.#stack.listenerCount('segment') > 0) this.#stack.emit('segment', toSegment(ev));
        return;
      case 'error': {
        // The stack hit a fault (its device failed, or its thread died).
        const err = systemError(ev.error ?? 'EIO', 'stack', undefined, undefined, ev.text);
        if (this.#stack.listenerCount('error') > 0) this.#stack.emit('error', err);
        else process.emitWarning(err.message, { code: err.code, type: 'TunstackWarning' });
        return;
      }
    }
    const tcp = ev.type === 'listen' || CONNECTION_TCP_EVENTS.has(ev.type);
    if (tcp && ev.id !== undefined && this.#stack.listenerCount('tcp') > 0) {
      for (const e of toStackTcpEvents(ev)) this.#stack.emit('tcp', e);
    }
    if (ev.id === undefined) return;
    this.sinks.get(ev.id)?.handleNative(ev);
  }

  /** Tells every owner that the native stack is gone. */
  closeAll(): void {
    const sinks = [...this.sinks.values()];
    this.sinks.clear();
    for (const s of sinks) s.stackClosed();
  }
}

function toSegment(ev: NativeEvent): SegmentEvent {
  return {
    dir: ev.dir === 'in' ? 'in' : 'out',
    src: ev.src ?? '',
    dst: ev.dst ?? '',
    flags: ev.flags ?? '',
    seq: ev.seq ?? 0,
    ack: ev.ack ?? 0,
    window: ev.window ?? 0,
    len: ev.len ?? 0,
    text: ev.text ?? '',
  };
}

/**
 * The typed 'tcp' events of one native event: a 'congestion' event also
 * yields the 'recovery' or 'rto' event it marks (that one first).
 * @internal
 */
export function toStackTcpEvents(ev: NativeEvent): StackTcpEvent[] {
  if (ev.type !== 'congestion') return [toStackTcpEvent(ev)];
  const id = ev.id ?? -1;
  const cwnd = ev.cwnd ?? 0;
  const ssthresh = ev.ssthresh ?? 0;
  const cause = (ev.cause ?? 'timeout') as TcpCongestionEvent['cause'];
  const out: StackTcpEvent[] = [];
  if (cause === 'fast-recovery' || cause === 'sack-recovery') {
    out.push({ type: 'recovery', id, phase: 'enter', mode: cause === 'fast-recovery' ? 'fast' : 'sack', cwnd, ssthresh });
  } else if (cause === 'recovery-exit') {
    out.push({ type: 'recovery', id, phase: 'exit', cwnd, ssthresh });
  } else if (cause === 'timeout') {
    out.push({ type: 'rto', id, cwnd, ssthresh });
  }
  out.push({ type: 'congestion', id, cause, cwnd, ssthresh });
  return out;
}

/**
 * The native event types that are a connection's opt-in `'tcp'` events
 * (the stack, the socket and the server each pass them on).
 * @internal
 */
export const CONNECTION_TCP_EVENTS: ReadonlySet<string> = new Set([
  'state',
  'retransmit',
  'rst-sent',
  'rst-received',
  'challenge-ack',
  'icmp',
  'congestion',
  'zero-window',
  'window-probe',
  'window-reopen',
  'window-update',
]);

/** @internal */
export function toStackTcpEvent(ev: NativeEvent): StackTcpEvent {
  const id = ev.id ?? -1;
  switch (ev.type) {
    case 'state':
      return { type: 'state', id, from: (ev.from ?? 'CLOSED') as TcpState, to: (ev.to ?? 'CLOSED') as TcpState };
    case 'rst-sent':
      return { type: 'rst-sent', id, reason: ev.reason as TcpResetSentEvent['reason'] };
    case 'rst-received':
      return { type: 'rst-received', id, outcome: ev.reason as TcpResetReceivedEvent['outcome'] };
    case 'challenge-ack':
      return { type: 'challenge-ack', id, trigger: ev.reason as TcpChallengeAckEvent['trigger'] };
    case 'icmp': {
      const icmp: StackTcpEvent = {
        type: 'icmp',
        id,
        action: ev.reason as TcpIcmpEvent['action'],
        icmpType: ev.icmpType ?? 0,
        icmpCode: ev.icmpCode ?? 0,
      };
      if (ev.error !== undefined) icmp.error = ev.error;
      if (ev.mss !== undefined) icmp.mss = ev.mss;
      return icmp;
    }
    case 'zero-window':
      return { type: 'zero-window', id };
    case 'window-probe':
      return { type: 'window-probe', id, probe: ev.attempt ?? 0, intervalMs: ev.intervalMs ?? 0 };
    case 'window-reopen':
    case 'window-update':
      return { type: ev.type, id, window: ev.window ?? 0 };
  }
  if (ev.type === 'listen') return { ...toListenEvent(ev), id };
  const attempt = ev.attempt ?? 0;
  return {
    type: 'retransmit',
    id,
    // The engine marks a fast retransmit with attempt 0.
    reason: attempt === 0 ? 'fast' : 'timeout',
    seq: ev.seq ?? 0,
    len: ev.len ?? 0,
    attempt,
    rtoMs: ev.rtoMs ?? 0,
  };
}

/** @internal */
export function toListenEvent(ev: NativeEvent): TcpListenEvent {
  const peer = { remoteAddress: ev.address ?? '', remotePort: ev.port ?? 0 };
  switch (ev.what) {
    case 'syn-dropped':
      return { type: 'syn-dropped', reason: (ev.reason ?? 'syn-queue-full') as TcpSynDroppedEvent['reason'], ...peer };
    case 'accept-overflow':
      return { type: 'accept-overflow', action: ev.reason === 'abort' ? 'abort' : 'drop', ...peer };
    case 'cookie-sent':
    case 'cookie-validated':
    case 'cookie-failed':
      return { type: ev.what, ...peer };
    default:
      return { type: 'syn-queued', ...peer };
  }
}
