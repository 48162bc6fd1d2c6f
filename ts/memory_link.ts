/**
 * An in-memory link: two device ends in one process, each to be given to a
 * {@link Stack}, with seeded impairments. No privileges needed.
 * @module
 */

import type { NativeBinding, NativeDevice, NativeImpairment } from './native.js';
import type { ImpairmentOptions } from './options.js';

/**
 * Options of a {@link MemoryLink}. The impairment fields at the top level
 * apply to both directions (side `b` uses `seed + 1` so the two directions
 * do not drop the same packets); `a` and `b` override them per direction.
 */
export interface MemoryLinkOptions extends ImpairmentOptions {
  /** Link MTU, bytes. Default 1500. */
  mtu?: number;
  /** Impairment of the packets arriving at side `a` (sent by `b`), over the common settings. */
  a?: ImpairmentOptions;
  /** Impairment of the packets arriving at side `b` (sent by `a`), over the common settings. */
  b?: ImpairmentOptions;
}

const impairmentKeys = ['loss', 'duplicate', 'reorder', 'corrupt', 'delayMs', 'jitterMs', 'rateBps'] as const;

/**
 * Two connected endpoints, `a` and `b`: what one stack sends through its end
 * the other receives. Give each end to {@link Stack.open} as `device`.
 *
 * ```ts
 * const link = new MemoryLink({ loss: 0.02, delayMs: 5, seed: 1 });
 * const server = await Stack.open({ device: link.a, address: '10.0.0.1/24' });
 * const client = await Stack.open({ device: link.b, address: '10.0.0.2/24' });
 * ```
 */
export class MemoryLink {
  /** One end (conventionally the server's). */
  readonly a: LinkEnd;
  /** The other end. */
  readonly b: LinkEnd;
  /** Link MTU, bytes. */
  readonly mtu: number;
  readonly #options: MemoryLinkOptions;
  #devices: NativeDevice[] | undefined;
  #up = true;

  /**
   * Describes a link; the native pair is created when the first end is opened by a stack.
   * @param options - MTU and impairments
   */
  constructor(options: MemoryLinkOptions = {}) {
    this.#options = { ...options };
    this.mtu = options.mtu ?? 1500;
    this.a = new LinkEnd(this, 'a');
    this.b = new LinkEnd(this, 'b');
  }

  /** Whether the link is up (see {@link MemoryLink.setUp}). */
  get up(): boolean {
    return this.#up;
  }

  /**
   * Take the link down — a pulled cable: every packet sent either way is
   * lost, and the stacks notice only through TCP's own timers
   * (retransmission, keepalive, user timeout) — or bring it back up.
   * Works while stacks run on it.
   * @param up - true: packets flow; false: they are lost
   */
  setUp(up: boolean): void {
    this.#up = up;
    this.#devices?.[0]?.setLinkUp(up);
  }

  /**
   * The impairment applied to packets arriving at `side`, or undefined for none.
   * @internal
   */
  impairmentOf(side: 'a' | 'b'): NativeImpairment | undefined {
    const { mtu: _mtu, a, b, ...common } = this.#options;
    const own = side === 'a' ? a : b;
    const merged: NativeImpairment = { ...common, ...own };
    if (own?.seed === undefined && common.seed !== undefined && side === 'b') merged.seed = common.seed + 1;
    return impairmentKeys.some((k) => (merged[k] ?? 0) !== 0) ? merged : undefined;
  }

  /** @internal */
  nativeEnd(binding: NativeBinding, side: 'a' | 'b'): NativeDevice {
    if (this.#devices === undefined) {
      const devices = binding.memoryLink(this.mtu);
      const [a, b] = devices;
      if (a === undefined || b === undefined) throw new Error('tunstack: memoryLink() did not return two devices');
      for (const [dev, s] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const imp = this.impairmentOf(s);
        if (imp) dev.impair(imp);
      }
      if (!this.#up) a.setLinkUp(false);
      this.#devices = devices;
    }
    return this.#devices[side === 'a' ? 0 : 1]!;
  }
}

/** One end of a {@link MemoryLink}; a device for exactly one {@link Stack}. */
export class LinkEnd {
  /** The link this end belongs to. */
  readonly link: MemoryLink;
  /** Which end: `'a'` or `'b'`. */
  readonly side: 'a' | 'b';
  #taken = false;

  /** @internal */
  constructor(link: MemoryLink, side: 'a' | 'b') {
    this.link = link;
    this.side = side;
  }

  /**
   * Hands the native device to a stack, once.
   * @internal
   */
  take(binding: NativeBinding): NativeDevice {
    if (this.#taken) {
      const err = new Error(`tunstack: memory link end '${this.side}' is already used by a stack`) as NodeJS.ErrnoException;
      err.code = 'EBUSY';
      throw err;
    }
    const dev = this.link.nativeEnd(binding, this.side);
    this.#taken = true;
    return dev;
  }
}
