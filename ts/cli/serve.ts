/**
 * `tunstack serve`: echo, discard and HTTP through a TUN device until
 * SIGINT/SIGTERM.
 * @internal
 * @module
 */

import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { Stack } from '../stack.js';
import { type Output, UsageError, impairment, impairmentFlags, impairmentHelp, nonNegative, port } from './args.js';
import { startDiscard, startEcho, startHttp } from './services.js';

/** @internal */
export const serveHelp = `Usage: tunstack serve --tun NAME --address ADDR/PREFIX [options]

Runs a tunstack stack on a Linux TUN device and serves:
  --echo PORT       RFC 862 echo (everything received is sent back)
  --discard PORT    RFC 863 discard (everything received is dropped)
  --http PORT       HTTP: GET / (a small page), GET /bytes/N (N bytes, byte i = i % 251),
                    POST /echo (the body back), POST /sha256 (hex SHA-256 of the body + "\\n")
At least one service is required. Prints one line when ready, e.g.
  tunstack: serving on 10.7.0.2 via tun tun0 (echo 7, discard 9, http 80)
then runs until SIGINT or SIGTERM, closes every connection gracefully and exits 0.
Exit status: 0 after a signal, 2 for bad arguments, 77 when the TUN cannot be
opened for lack of permission (EPERM/EACCES), 1 for other errors.

Options:
  --tun NAME            TUN interface: attached if it exists (a persistent TUN made with
                        \`ip tuntap add dev NAME mode tun user $USER\` needs no privileges),
                        created otherwise (needs CAP_NET_ADMIN)
  --address A/P         the stack's own address, e.g. 10.7.0.2/24
  --host-address A/P    give the kernel side of the TUN this address and bring it up
                        (needs CAP_NET_ADMIN), e.g. 10.7.0.1/24
  --netns NS            move the TUN's kernel side into network namespace NS first
  --mtu N               link MTU (default 1500)
  --impair-direction D  which packets the impairment below applies to: receive (default),
                        send, or both (the send side then uses seed + 1)
  -h, --help            this help

${impairmentHelp}`;

function prefixed(name: string, v: string | undefined, required: boolean): string | undefined {
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  const [addr, prefix] = v.split('/');
  const p = Number(prefix);
  if (!addr || !isIPv4(addr) || prefix === undefined || !Number.isInteger(p) || p < 0 || p > 32) {
    throw new UsageError(`--${name} must be an IPv4 address with a prefix length, e.g. 10.7.0.2/24 (got ${v})`);
  }
  return v;
}

/**
 * Runs until `stop` resolves (SIGINT/SIGTERM by default).
 * @internal
 */
export async function serve(argv: string[], io: Output, stop?: Promise<unknown>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...impairmentFlags,
      tun: { type: 'string' },
      address: { type: 'string' },
      'host-address': { type: 'string' },
      netns: { type: 'string' },
      mtu: { type: 'string' },
      'impair-direction': { type: 'string' },
      echo: { type: 'string' },
      discard: { type: 'string' },
      http: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.out(serveHelp);
    return 0;
  }
  const tun = values.tun;
  if (!tun) throw new UsageError('--tun is required');
  const address = prefixed('address', values.address, true)!;
  const hostAddress = prefixed('host-address', values['host-address'], false);
  const mtu = nonNegative('mtu', values.mtu);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw new UsageError(`--mtu must be an integer 576..65535 (got ${values.mtu})`);
  }
  const services = {
    echo: port('echo', values.echo),
    discard: port('discard', values.discard),
    http: port('http', values.http),
  };
  const chosen = Object.entries(services).filter(([, p]) => p !== undefined) as Array<[string, number]>;
  if (chosen.length === 0) throw new UsageError('give at least one of --echo, --discard, --http');
  if (new Set(chosen.map(([, p]) => p)).size !== chosen.length) throw new UsageError('each service needs its own port');
  const direction = values['impair-direction'];
  if (direction !== undefined && direction !== 'receive' && direction !== 'send' && direction !== 'both') {
    throw new UsageError(`--impair-direction must be receive, send or both (got ${direction})`);
  }
  const imp = impairment(values);

  // Signals are caught from the start, so a stop during startup still closes cleanly.
  const stopped = stop ?? waitForSignal();

  let stack: Stack;
  try {
    stack = await Stack.open({
      tun: { name: tun, hostAddress, mtu, netns: values.netns },
      address,
      mtu,
      impair: imp && { ...imp, direction },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.err(`tunstack: cannot open TUN ${tun}: ${e.message}`);
    return e.code === 'EPERM' || e.code === 'EACCES' ? 77 : 1;
  }
  stack.on('error', (err: Error) => io.err(`tunstack: ${err.message}`));
  try {
    if (services.echo !== undefined) await startEcho(stack, services.echo);
    if (services.discard !== undefined) await startDiscard(stack, services.discard);
    if (services.http !== undefined) await startHttp(stack, services.http);
  } catch (err) {
    io.err(`tunstack: ${(err as Error).message}`);
    await stack.close({ graceMs: 0 });
    return 1;
  }
  const list = chosen.map(([name, p]) => `${name} ${p}`).join(', ');
  io.out(`tunstack: serving on ${stack.address} via tun ${stack.deviceName} (${list})`);
  await stopped;
  await stack.close();
  return 0;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
