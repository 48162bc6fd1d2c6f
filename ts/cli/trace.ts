/**
 * Renders a TCP conversation for people learning TCP: one line per
 * segment (flags, relative sequence and acknowledgment numbers, window,
 * length), one per state change, one per retransmission, and a short
 * explanation when a phase begins — the handshake, data, the four-way
 * close, TIME_WAIT.
 * @internal
 * @module
 */

import type { SegmentEvent, StackTcpEvent, TcpListenEvent, TcpState } from '../tcp_events.js';

/** @internal */
export interface NarratorOptions {
  /** Writes one line. */
  out(line: string): void;
  /** Names of the addresses ("10.0.0.1" → "server"). */
  names: ReadonlyMap<string, string>;
  /** MSL in ms, for the TIME_WAIT explanation. */
  mslMs: number;
}

type Phase = 'handshake' | 'data' | 'close' | 'timewait';

/**
 * Keeps the per-direction initial sequence numbers so that numbers can be
 * shown relative to them (as Wireshark does): the SYN is seq 0, the first
 * data byte seq 1.
 * @internal
 */
export class Narrator {
  readonly #o: NarratorOptions;
  readonly #t0 = performance.now();
  readonly #isn = new Map<string, number>();
  readonly #phases = new Set<Phase>();
  /** Per side: connection ids that are listeners. */
  readonly #listeners = new Set<string>();

  constructor(options: NarratorOptions) {
    this.#o = options;
  }

  /** Milliseconds since the narrator was made, formatted. */
  time(): string {
    return `${(performance.now() - this.#t0).toFixed(1).padStart(8)} ms`;
  }

  /** A free-form line under the current time. */
  note(text: string): void {
    this.#o.out(`${this.time()}  ${text}`);
  }

  /** A phase header, printed once per phase. */
  phase(p: Phase, lines: string[]): void {
    if (this.#phases.has(p)) return;
    this.#phases.add(p);
    this.#o.out('');
    for (const l of lines) this.#o.out(l);
  }

  #name(endpoint: string): string {
    const [addr] = endpoint.split(':');
    return this.#o.names.get(addr ?? '') ?? endpoint;
  }

  /**
   * Learns initial sequence numbers from a segment without printing it
   * (give it the 'in' segments: a SYN may be received before its sender's
   * own trace of it arrives).
   */
  learn(ev: SegmentEvent): void {
    if (flagsOf(ev).includes('SYN')) {
      const dir = `${ev.src}>${ev.dst}`;
      if (!this.#isn.has(dir)) this.#isn.set(dir, ev.seq);
    }
  }

  /** One segment (call it for 'out' segments only, so each is printed once). */
  segment(ev: SegmentEvent): void {
    const flags = flagsOf(ev);
    const has = (f: string) => flags.includes(f);
    const dir = `${ev.src}>${ev.dst}`;
    const back = `${ev.dst}>${ev.src}`;
    this.learn(ev);
    const isn = this.#isn.get(dir);
    const peerIsn = this.#isn.get(back);
    const seq = isn === undefined ? ev.seq : (ev.seq - isn) >>> 0;
    const ack = has('ACK') ? String(peerIsn === undefined ? ev.ack : (ev.ack - peerIsn) >>> 0) : '-';
    if (ev.len > 0 && !has('SYN')) {
      this.phase('data', [
        '── Data transfer ──────────────────────────────────────────────────────────',
        'Each side numbers its bytes; an ACK carries the next byte it expects (cumulative',
        'acknowledgment), often piggybacked on data going the other way. The window (win)',
        'is the free space in the receiver\'s buffer: the sender never has more unacknowledged',
        'bytes in flight than that (flow control).',
      ]);
    }
    const from = this.#name(ev.src);
    const to = this.#name(ev.dst);
    const label = flags.length > 0 ? flags.join('+') : '(none)';
    this.#o.out(
      `${this.time()}  ${`${from} → ${to}`.padEnd(17)} ${label.padEnd(12)} seq=${String(seq).padEnd(7)} ack=${ack.padEnd(7)} win=${String(ev.window).padEnd(6)} len=${ev.len}`,
    );
    if (has('SYN') && isn !== undefined && !this.#isn.has(`${dir}#shown`)) {
      this.#isn.set(`${dir}#shown`, 1);
      this.#o.out(`${' '.repeat(13)}(${from}'s initial sequence number is ${isn}; numbers are shown relative to it)`);
    }
  }

  /** One 'tcp' event of the stack named `side`. */
  tcp(side: string, ev: StackTcpEvent): void {
    if (ev.type === 'retransmit') {
      const rel = this.#relativeSeqOf(side, ev.seq);
      if (ev.reason === 'fast') {
        this.note(
          `!! ${side}: three duplicate ACKs — fast retransmit of seq=${rel} len=${ev.len} without waiting for the timer (快速重传)`,
        );
        return;
      }
      this.note(
        `!! ${side}: no ACK before the retransmission timer expired — resending seq=${rel} (attempt ${ev.attempt}); ` +
          `next timeout ${ev.rtoMs.toFixed(0)} ms: the RTO doubles each time (exponential backoff, 超时重传)`,
      );
      return;
    }
    if (ev.type === 'rst-sent') {
      this.note(`!! ${side}: sends RST (${ev.reason}) — the connection is aborted, not closed`);
      return;
    }
    if (ev.type === 'rst-received') {
      this.note(`!! ${side}: RST received — ${RST_OUTCOMES[ev.outcome]}`);
      return;
    }
    if (ev.type === 'challenge-ack') {
      this.note(`!! ${side}: challenge ACK for a suspicious ${ev.trigger.toUpperCase()} (RFC 5961): only the true peer can answer it`);
      return;
    }
    if (ev.type === 'rto' || ev.type === 'recovery') return; // told by the retransmit and congestion lines
    if (ev.type === 'congestion') {
      this.note(`!! ${side}: ${ev.cause} — cwnd ${ev.cwnd} bytes, ssthresh ${ev.ssthresh} bytes (拥塞控制)`);
      return;
    }
    switch (ev.type) {
      case 'zero-window':
        this.note(`!! ${side}: the peer's window is 0 — its receive buffer is full; sending stops, the persist timer will probe (零窗口)`);
        return;
      case 'window-probe':
        this.note(`!! ${side}: zero-window probe #${ev.probe}; next in ${ev.intervalMs.toFixed(0)} ms if the window stays closed (backoff, 坚持定时器)`);
        return;
      case 'window-reopen':
        this.note(`!! ${side}: the peer's window reopened (${ev.window} bytes) — sending resumes`);
        return;
      case 'window-update':
        this.note(`!! ${side}: the application read: window update, ${ev.window} bytes free again after advertising 0`);
        return;
      case 'icmp':
        this.note(`!! ${side}: ICMP type ${ev.icmpType} code ${ev.icmpCode} about our segment — ${ICMP_ACTIONS[ev.action]}${ev.error ? ` (${ev.error})` : ''}${ev.mss ? ` (MSS ${ev.mss})` : ''}`);
        return;
    }
    if (ev.type !== 'state') {
      this.#listenNote(side, ev);
      return;
    }
    const key = `${side}#${ev.id}`;
    if (ev.to === 'LISTEN') this.#listeners.add(key);
    this.#explain(side, ev.from, ev.to, this.#listeners.has(key));
    this.#o.out(`${this.time()}  [${side}] ${ev.from} → ${ev.to}`);
  }

  /** Explains what happened at a listener's queues (SYN queue, cookies, accept queue). */
  #listenNote(side: string, ev: TcpListenEvent): void {
    const peer = `${ev.remoteAddress}:${ev.remotePort}`;
    switch (ev.type) {
      case 'syn-queued':
        return; // the state change LISTEN → SYN_RECEIVED tells it
      case 'cookie-sent':
        this.#o.out(`${this.time()}  [${side}] SYN from ${peer} answered with a SYN cookie: no half-open state kept (SYN queue full or cookies always on)`);
        return;
      case 'cookie-validated':
        this.#o.out(`${this.time()}  [${side}] ACK from ${peer} returned a valid SYN cookie: the connection is created now`);
        return;
      case 'cookie-failed':
        this.#o.out(`${this.time()}  [${side}] ACK from ${peer} carried no valid SYN cookie: reset`);
        return;
      case 'syn-dropped':
        this.#o.out(`${this.time()}  [${side}] SYN from ${peer} dropped (${ev.reason}); the client will retransmit it`);
        return;
      case 'accept-overflow':
        this.note(
          ev.action === 'drop'
            ? `!! ${side}: the accept queue is full (backlog+1 waiting for accept): the ACK from ${peer} is dropped. ` +
                'The client believes it is connected; the server stays in SYN_RECEIVED and retransmits its SYN-ACK until the application accepts (全连接队列满)'
            : `!! ${side}: the accept queue is full: the handshake with ${peer} is reset (abortOnOverflow)`,
        );
        return;
    }
  }

  #relativeSeqOf(side: string, seq: number): number {
    for (const [dir, isn] of this.#isn) {
      if (dir.includes('#')) continue;
      const src = dir.split('>')[0] ?? '';
      if (this.#name(src) === side) return (seq - isn) >>> 0;
    }
    return seq;
  }

  #explain(side: string, from: TcpState, to: TcpState, listener: boolean): void {
    const say = (text: string) => this.#o.out(`${' '.repeat(13)}${side}: ${text}`);
    if (listener) {
      if (to === 'LISTEN') say('listen() — the listening socket waits for SYNs in LISTEN');
      if (to === 'CLOSED') say('the listening socket is closed');
      return;
    }
    switch (to) {
      case 'SYN_SENT':
        this.phase('handshake', [
          '── Three-way handshake (三次握手) ──────────────────────────────────────────',
          'SYN (seq=x) → SYN+ACK (seq=y, ack=x+1) → ACK (ack=y+1). A SYN takes one sequence',
          'number, so the first data byte of each side is seq 1.',
        ]);
        say('connect() sends SYN and enters SYN_SENT');
        return;
      case 'SYN_RECEIVED':
        say('got the SYN; answers SYN+ACK and enters SYN_RECEIVED (half-open, in the SYN queue)');
        return;
      case 'ESTABLISHED':
        if (from === 'SYN_SENT') say('got SYN+ACK; sends the final ACK: ESTABLISHED');
        else say('got the final ACK: ESTABLISHED; the connection waits in the accept queue for accept()');
        return;
      case 'FIN_WAIT_1':
        this.phase('close', [
          '── Four-way close (四次挥手) ───────────────────────────────────────────────',
          'Each direction is closed on its own: FIN → ACK, then FIN → ACK the other way.',
          'A FIN takes one sequence number, so its ACK is the FIN\'s seq + 1.',
        ]);
        say('close() sends FIN (active close) and enters FIN_WAIT_1');
        return;
      case 'CLOSE_WAIT':
        this.phase('close', [
          '── Four-way close (四次挥手) ───────────────────────────────────────────────',
          'Each direction is closed on its own: FIN → ACK, then FIN → ACK the other way.',
        ]);
        say('got FIN; ACKs it and enters CLOSE_WAIT (passive close) — it may still send (half-close)');
        return;
      case 'FIN_WAIT_2':
        say('its FIN was acknowledged; waits for the peer\'s FIN in FIN_WAIT_2');
        return;
      case 'LAST_ACK':
        say('close() sends its own FIN and enters LAST_ACK');
        return;
      case 'CLOSING':
        say('got the peer\'s FIN before the ACK of its own: simultaneous close, CLOSING');
        return;
      case 'TIME_WAIT':
        this.phase('timewait', [
          '── TIME_WAIT (2MSL) ─────────────────────────────────────────────────────────',
          `The active closer waits 2×MSL (here 2×${this.#o.mslMs} ms; Linux waits 60 s) before the`,
          'connection is gone: if its last ACK is lost the peer resends its FIN, which must',
          'still be answered, and old duplicate segments die out before the same address',
          'pair can be reused (unless SO_REUSEADDR).',
        ]);
        if (from === 'CLOSING') say('its FIN was acknowledged too: TIME_WAIT (after a simultaneous close both sides wait)');
        else say('got the peer\'s FIN and sent the last ACK: TIME_WAIT');
        return;
      case 'CLOSED':
        if (from === 'TIME_WAIT') say('2MSL elapsed: CLOSED');
        else if (from === 'LAST_ACK') say('got the ACK of its FIN: CLOSED');
        else if (from === 'SYN_SENT') say('connect() failed: CLOSED');
        else say(`left ${from}: CLOSED`);
        return;
      default:
        return;
    }
  }
}

/** TCP flags of a traced segment as upper-case words (the addon spells them "SYN,ACK"). */
function flagsOf(ev: SegmentEvent): string[] {
  return ev.flags
    .split(/[^A-Za-z]+/)
    .filter(Boolean)
    .map((f) => f.toUpperCase());
}

/** What a received RST did, in words. */
const ICMP_ACTIONS = {
  aborted: 'the connection attempt fails',
  soft: 'remembered; reported if the retransmissions give up',
  'path-mtu': 'the path MTU is smaller: segments shrink and what was in flight is resent',
  'out-of-window': 'it quotes a sequence number we never sent: ignored',
} as const;

const RST_OUTCOMES: Record<'accepted' | 'challenged' | 'out-of-window' | 'ignored', string> = {
  accepted: 'its sequence number is exactly the next expected: the connection is reset (ECONNRESET)',
  challenged: 'in the window but not exact: answered with a challenge ACK instead (RFC 5961)',
  'out-of-window': 'outside the window: dropped',
  ignored: 'in TIME_WAIT: ignored so TIME_WAIT is not cut short (RFC 1337)',
};
