/**
 * `tunstack demo`: two stacks on one memory link, a node:http server on
 * one, a client on the other fetching a page, and every segment and state
 * change of both sides printed as it happens.
 * @internal
 * @module
 */

import http from 'node:http';
import { parseArgs } from 'node:util';
import { MemoryLink } from '../memory_link.js';
import { formatNetstat } from '../netstat.js';
import { Stack } from '../stack.js';
import type { SegmentEvent, StackTcpEvent } from '../tcp_events.js';
import { type Output, UsageError, impairment, impairmentFlags, impairmentHelp, nonNegative, seed } from './args.js';
import { Narrator } from './trace.js';

/** @internal */
export const demoHelp = `Usage: tunstack demo [options]

Two TCP/IP stacks in this process, joined by an in-memory link:
  server 10.0.0.1 runs node:http on port 80, client 10.0.0.2 fetches "/".
Prints every TCP segment (flags, relative seq/ack, window, length) and every
state change of both sides — three-way handshake, data, four-way close,
TIME_WAIT — with a short explanation of each phase. No privileges needed.
Exits 0 once the page was fetched and both connections reached CLOSED.

Options:
  --msl MS          maximum segment lifetime; TIME_WAIT lasts 2×MSL (default 500)
                    (the link's one-way --delay defaults to 2 ms here)
  --timeout MS      give up (exit 1) after this long (default 60000)
  --quiet           print only the outcome
  -h, --help        this help

${impairmentHelp}

Example: tunstack demo --loss 0.2 --seed 3   (retransmissions recover the lost segments)`;

const SERVER = '10.0.0.1';
const DEFAULT_DELAY_MS = 2;
const CLIENT = '10.0.0.2';

const PAGE = `<!doctype html>
<title>tunstack</title>
<h1>Hello from a userspace TCP/IP stack</h1>
<p>This page crossed a three-way handshake, a few data segments and a four-way close.</p>
`;

/** @internal */
export async function demo(argv: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...impairmentFlags,
      msl: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    io.out(demoHelp);
    return 0;
  }
  const imp = impairment(values);
  const s = seed(values);
  const mslMs = nonNegative('msl', values.msl) ?? 500;
  const timeoutMs = nonNegative('timeout', values.timeout) ?? 60_000;
  if (mslMs <= 0) throw new UsageError('--msl must be positive');
  const quiet = Boolean(values.quiet);
  const out = quiet ? () => {} : (line: string) => io.out(line);

  // A little one-way delay (unless --delay says otherwise) keeps the two
  // stacks' reports in causal order: each stack's thread reports what it
  // sent long before the other one can have answered.
  const delayMs = imp?.delayMs ?? DEFAULT_DELAY_MS;
  const link = new MemoryLink({ mtu: 1500, seed: s, ...imp, delayMs });
  const tcp = { mslMs };
  const server = await Stack.open({ device: link.a, address: `${SERVER}/24`, seed: s, trace: !quiet, tcp });
  let client: Stack;
  try {
    client = await Stack.open({ device: link.b, address: `${CLIENT}/24`, seed: s + 1, trace: !quiet, tcp });
  } catch (err) {
    await server.close({ graceMs: 0 });
    throw err;
  }

  const n = new Narrator({ out, names: new Map([[SERVER, 'server'], [CLIENT, 'client']]), mslMs });
  out(`tunstack demo: server ${SERVER} (node:http on port 80) ⇄ client ${CLIENT}, over an in-memory link`);
  if (imp) {
    const parts = Object.entries(imp)
      .filter(([k]) => k !== 'seed')
      .map(([k, v]) => `${k}=${String(v)}`);
    out(`link impairment (both directions, seed ${s}): ${parts.join(', ')}`);
  }
  out(`MSL ${mslMs} ms, so TIME_WAIT lasts ${2 * mslMs} ms. Columns: time, direction, flags, seq, ack, window, payload length.`);

  // Trace: each segment once (as its sender sends it), every state change of both sides.
  const onSegment = (ev: SegmentEvent) => (ev.dir === 'out' ? n.segment(ev) : n.learn(ev));
  server.on('segment', onSegment);
  client.on('segment', onSegment);

  // Connections (not listeners) by side, and their last state.
  const last = new Map<string, string>();
  const listeners = new Set<string>();
  let retransmits = 0;
  let settle: () => void = () => {};
  const allClosed = new Promise<void>((resolve) => (settle = resolve));
  const check = () => {
    const conns = [...last.entries()].filter(([k]) => !listeners.has(k));
    const sides = new Set(conns.map(([k]) => k.split('#')[0]));
    if (sides.size === 2 && conns.every(([, st]) => st === 'CLOSED')) settle();
  };
  const onTcp = (side: string) => (ev: StackTcpEvent) => {
    n.tcp(side, ev);
    if (ev.type === 'retransmit') {
      retransmits++;
      return;
    }
    if (ev.type !== 'state') return;
    const key = `${side}#${ev.id}`;
    if (ev.to === 'LISTEN') listeners.add(key);
    last.set(key, ev.to);
    if (ev.to === 'TIME_WAIT') {
      // What `netstat -tan` would show now, on each side.
      for (const [name, st] of [
        ['server', server],
        ['client', client],
      ] as const) {
        out(`${' '.repeat(13)}netstat on the ${name}:`);
        for (const l of formatNetstat(st.netstat()).trimEnd().split('\n')) out(`${' '.repeat(15)}${l}`);
      }
    }
    check();
  };
  server.on('tcp', onTcp('server'));
  client.on('tcp', onTcp('client'));

  let fetched: { status: number; body: string } | undefined;
  let failure: unknown;
  const timer = setTimeout(() => settleTimeout(), timeoutMs);
  let settleTimeout: () => void = () => {};
  const timedOut = new Promise<'timeout'>((resolve) => (settleTimeout = () => resolve('timeout')));
  try {
    const app = http.createServer((req, res) => {
      n.note(`server: node:http got "${req.method} ${req.url}" and answers 200 with ${Buffer.byteLength(PAGE)} bytes of HTML`);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    });
    const listener = server.createServer((socket) => app.emit('connection', socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ port: 80 }, () => resolve());
    });
    const row = server.netstat().find((e) => e.proto === 'tcp' && e.localPort === 80);
    n.note(`server: listen(80) — the listening socket is in ${row?.state ?? '?'} (accept queue bound: backlog ${row?.sendQ ?? '?'})`);

    n.note(`client: http.get("http://${SERVER}/") over a tunstack socket`);
    const fetch = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(
        { host: SERVER, port: 80, path: '/', createConnection: () => client.connect({ host: SERVER, port: 80 }) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
    const got = await Promise.race([fetch, timedOut]);
    if (got === 'timeout') throw new Error(`no response within ${timeoutMs} ms`);
    fetched = got;
    n.note(`client: got HTTP ${got.status}, ${Buffer.byteLength(got.body)} bytes: "${got.body.split('\n')[2] ?? ''}"`);
    const closed = await Promise.race([allClosed.then(() => 'closed' as const), timedOut]);
    if (closed === 'timeout') throw new Error(`the connections did not reach CLOSED within ${timeoutMs} ms`);
    listener.close();
  } catch (err) {
    failure = err;
  } finally {
    clearTimeout(timer);
  }

  const sStats = server.stats();
  const cStats = client.stats();
  await Promise.all([server.close({ graceMs: 200 }), client.close({ graceMs: 200 })]);

  const ok = failure === undefined && fetched?.status === 200 && fetched.body === PAGE;
  out('');
  const summary =
    `segments sent: client ${cStats['tcpOutSegs'] ?? '?'}, server ${sStats['tcpOutSegs'] ?? '?'}; ` +
    `retransmitted: client ${cStats['tcpRetransSegs'] ?? '?'}, server ${sStats['tcpRetransSegs'] ?? '?'} ` +
    `(${retransmits} retransmission timeouts)`;
  if (ok) {
    io.out(`tunstack demo: OK — page fetched (HTTP 200, ${Buffer.byteLength(PAGE)} bytes) and both connections closed; ${summary}`);
    return 0;
  }
  const why = failure instanceof Error ? failure.message : failure !== undefined ? String(failure) : `unexpected response ${JSON.stringify(fetched)}`;
  io.err(`tunstack demo: FAILED — ${why}; ${summary}`);
  return 1;
}
