/**
 * Command-line parsing shared by the commands.
 * @internal
 * @module
 */

import type { ImpairmentOptions } from '../options.js';

/** A usage error: printed with the command's help, exit status 2. @internal */
export class UsageError extends Error {}

/** Where a command writes. @internal */
export interface Output {
  /** One line of normal output. */
  out(line: string): void;
  /** One line of diagnostics. */
  err(line: string): void;
}

/** parseArgs option specs of the impairment flags every command takes. @internal */
export const impairmentFlags = {
  loss: { type: 'string' },
  reorder: { type: 'string' },
  duplicate: { type: 'string' },
  corrupt: { type: 'string' },
  delay: { type: 'string' },
  jitter: { type: 'string' },
  rate: { type: 'string' },
  seed: { type: 'string' },
} as const;

/** Help text of the impairment flags. @internal */
export const impairmentHelp = `Impairment (seeded, reproducible; applied to packets the stack receives):
  --loss P          drop each packet with probability P (0..1, or a percentage like 5%)
  --reorder P       hold a packet back behind later ones with probability P
  --duplicate P     deliver a packet twice with probability P
  --corrupt P       flip a byte with probability P (checksums reject it)
  --delay MS        one-way delay in milliseconds
  --jitter MS       uniform random extra delay in milliseconds
  --rate BPS        rate limit in bits per second
  --seed N          seed of every random choice (default 1)`;

/** A probability 0..1 ("0.05" or "5%"). @internal */
export function probability(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const pct = v.endsWith('%');
  const n = Number(pct ? v.slice(0, -1) : v) / (pct ? 100 : 1);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a probability between 0 and 1 (got ${v})`);
  return n;
}

/** A non-negative number. @internal */
export function nonNegative(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number (got ${v})`);
  return n;
}

/** A port 1..65535. @internal */
export function port(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${name} must be a port 1..65535 (got ${v})`);
  return n;
}

/** The impairment described by the flags, or undefined when none is set. @internal */
export function impairment(values: Record<string, string | boolean | undefined>): ImpairmentOptions | undefined {
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const imp: ImpairmentOptions = {
    loss: probability('loss', s('loss')),
    reorder: probability('reorder', s('reorder')),
    duplicate: probability('duplicate', s('duplicate')),
    corrupt: probability('corrupt', s('corrupt')),
    delayMs: nonNegative('delay', s('delay')),
    jitterMs: nonNegative('jitter', s('jitter')),
    rateBps: nonNegative('rate', s('rate')),
  };
  const any = Object.values(imp).some((v) => v !== undefined && v !== 0);
  if (!any) return undefined;
  imp.seed = seed(values);
  for (const k of Object.keys(imp) as Array<keyof ImpairmentOptions>) if (imp[k] === undefined) delete imp[k];
  return imp;
}

/** --seed, default 1. @internal */
export function seed(values: Record<string, string | boolean | undefined>): number {
  const v = values['seed'];
  if (typeof v !== 'string') return 1;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed must be a non-negative integer (got ${v})`);
  return n;
}
