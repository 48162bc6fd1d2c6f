// The services of `tunstack serve` (echo, discard, HTTP), over a memory link.

import http from 'node:http';
import test from 'ava';
import { pattern, startDiscard, startEcho, startHttp } from '../ts/cli/services.js';
import { SERVER_IP, bytes, closeOf, collect, pair, sha256, within } from './helpers.js';
import type { Pair } from './helpers.js';

/** The documented pattern, computed independently of the implementation. */
function naive(start: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) % 251;
  return b;
}

test('the /bytes pattern: byte i is i % 251, from any offset', (t) => {
  for (const [start, n] of [
    [0, 0],
    [0, 1],
    [0, 251],
    [5, 1000],
    [250, 70_000],
    [123_456, 200_000],
  ] as const) {
    t.true(pattern(start, n).equals(naive(start, n)), `pattern(${start}, ${n})`);
  }
});

function get(p: Pair, method: string, path: string, body?: Buffer) {
  return within(
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.request(
        { method, host: SERVER_IP, port: 80, path, createConnection: () => p.client.connect({ host: SERVER_IP, port: 80 }) },
        (res) => collect(res, 60_000).then((b) => resolve({ status: res.statusCode ?? 0, body: b }), reject),
      );
      req.on('error', reject);
      req.end(body);
    }),
    `${method} ${path}`,
    60_000,
  );
}

test('HTTP service: /, /bytes/N, /echo, /sha256, 404', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  await startHttp(p.server, 80);
  const index = await get(p, 'GET', '/');
  t.is(index.status, 200);
  t.regex(index.body.toString(), /tunstack/);
  const n = 1_000_003;
  const data = await get(p, 'GET', `/bytes/${n}`);
  t.is(data.status, 200);
  t.is(data.body.length, n);
  t.is(sha256(data.body), sha256(naive(0, n)));
  t.is((await get(p, 'GET', '/bytes/0')).body.length, 0);
  const body = bytes(300_000, 9);
  const echoed = await get(p, 'POST', '/echo', body);
  t.is(sha256(echoed.body), sha256(body));
  const hashed = await get(p, 'POST', '/sha256', body);
  t.is(hashed.body.toString(), `${sha256(body)}\n`);
  t.is((await get(p, 'GET', '/nothing')).status, 404);
});

test('echo (RFC 862) and discard (RFC 863)', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  await startEcho(p.server, 7);
  await startDiscard(p.server, 9);
  const payload = bytes(200_000, 4);

  const e = p.client.connect({ host: SERVER_IP, port: 7 });
  const echoed = collect(e);
  e.end(payload);
  t.is(sha256(await echoed), sha256(payload));

  const d = p.client.connect({ host: SERVER_IP, port: 9 });
  const discarded = collect(d);
  const closed = closeOf(d);
  d.end(payload);
  t.is((await discarded).length, 0);
  t.false(await closed);
  t.is(d.bytesWritten, payload.length);
});
