// Listen queues as Linux keeps them, over a memory link: the accept queue
// holds backlog+1; a client whose handshake completes while it is full
// believes it is connected while the server holds it in SYN_RECEIVED, and
// it completes once the application accepts. Plus SYN cookies and the
// listener's typed 'tcp' events.

import test from 'ava';
import type { Socket, TcpEvent, TcpListenEvent } from '../ts/index.js';
import { CLIENT_IP, SERVER_IP, closeOf, errorOf, once, pair, until } from './helpers.js';

/** Resolves when `n` sockets have emitted 'connect'. */
function allConnected(socks: Socket[]): Promise<unknown> {
  return Promise.all(socks.map((s) => once(s, 'connect')));
}

test('backlog 1, not accepting: two ESTABLISHED in the accept queue, the third SYN_RECEIVED while its client is connected; accept completes it', async (t) => {
  // A one-way delay makes the three SYNs arrive before any handshake
  // completes (as when clients connect at once); then the third completing
  // ACK meets a full accept queue. (A SYN meeting a full accept queue is
  // dropped outright, as on Linux.)
  const p = await pair({ delayMs: 20 });
  t.teardown(() => p.close());
  const server = p.server.createServer();
  const events: TcpListenEvent[] = [];
  server.on('tcp', (ev: TcpEvent) => {
    if ('remoteAddress' in ev) events.push(ev); // the listener's own events
  });
  server.pauseAccepting();
  t.true(server.acceptingPaused);
  server.listen({ port: 80, backlog: 1 });
  await once(server, 'listening');

  const socks = [1, 2, 3].map(() => p.client.connect({ host: SERVER_IP, port: 80 }));
  await allConnected(socks);
  // Every client says ESTABLISHED...
  for (const s of socks) t.is(s.info()?.state, 'ESTABLISHED');
  // ...but the server dropped the third completing ACK.
  await until(server, 'tcp', (ev: TcpEvent) => ev.type === 'accept-overflow');
  const q = server.queues()!;
  t.like(q, { acceptQueue: 2, backlog: 1, synReceived: 1, acceptDrops: 1, synDrops: 0, cookiesSent: 0 });
  const third = socks.find((s) => {
    const row = p.server.netstat().find((e) => e.remotePort === s.localPort);
    return row?.state === 'SYN_RECEIVED';
  });
  t.truthy(third, 'one client is half-open on the server');
  const serverRows = p.server.netstat().filter((e) => e.proto === 'tcp' && e.localPort === 80);
  t.deepEqual(serverRows.map((e) => e.state).sort(), ['ESTABLISHED', 'ESTABLISHED', 'LISTEN', 'SYN_RECEIVED']);
  t.deepEqual(
    events.filter((e) => e.type === 'syn-queued').map((e) => e.remotePort).sort(),
    socks.map((s) => s.localPort).sort(),
  );
  const overflow = events.find((e) => e.type === 'accept-overflow');
  t.like(overflow, { type: 'accept-overflow', action: 'drop', remoteAddress: CLIENT_IP, remotePort: third!.localPort });

  // The application accepts: the queue drains, and the SYN-ACK the server
  // retransmits draws the client's ACK, which now completes the third.
  const accepted: Socket[] = [];
  server.on('connection', (s: Socket) => accepted.push(s));
  const allThree = until(server, 'connection', () => accepted.length === 3);
  server.resumeAccepting();
  await allThree;
  t.deepEqual(accepted.map((s) => s.remotePort).sort(), socks.map((s) => s.localPort).sort());
  t.like(server.queues(), { acceptQueue: 0, synReceived: 0 });
  // The late one works like any other.
  const last = accepted.find((s) => s.remotePort === third!.localPort)!;
  last.write('hi');
  const [data] = await once<[Buffer]>(third!, 'data');
  t.is(String(data), 'hi');
});

test("abortOnOverflow: the handshake that finds the accept queue full is reset", async (t) => {
  const p = await pair({ delayMs: 20 });
  t.teardown(() => p.close());
  const server = p.server.createServer();
  server.pauseAccepting();
  server.listen({ port: 80, backlog: 0, abortOnOverflow: true });
  await once(server, 'listening');
  const overflow = until(server, 'tcp', (ev: TcpEvent) => ev.type === 'accept-overflow');
  const socks = [1, 2].map(() => p.client.connect({ host: SERVER_IP, port: 80 }));
  const errors = socks.map((s) => new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    s.once('error', resolve);
    s.once('close', () => resolve(undefined));
  }));
  const [ev] = await overflow;
  t.like(ev, { type: 'accept-overflow', action: 'abort' });
  // One client is reset (it had believed itself connected).
  const first = await Promise.race(errors);
  t.is(first?.code, 'ECONNRESET');
  t.like(server.queues(), { acceptQueue: 1, synReceived: 0, acceptDrops: 1 });
});

test("synCookies 'always': no half-open state, connections still work, cookies counted", async (t) => {
  const p = await pair({}, { tcp: { synCookies: 'always' } });
  t.teardown(() => p.close());
  const server = p.server.createServer((s) => s.pipe(s));
  const kinds: string[] = [];
  server.on('tcp', (ev: TcpEvent) => kinds.push(ev.type));
  server.listen({ port: 80 });
  await once(server, 'listening');
  const sock = p.client.connect({ host: SERVER_IP, port: 80 });
  await once(sock, 'connect');
  sock.write('echo me');
  const [data] = await once<[Buffer]>(sock, 'data');
  t.is(String(data), 'echo me');
  t.like(server.queues(), { cookiesSent: 1, cookiesValidated: 1, cookiesFailed: 0, synReceived: 0 });
  t.deepEqual(kinds.filter((k) => k.startsWith('cookie')), ['cookie-sent', 'cookie-validated']);
  t.is(sock.info()?.state, 'ESTABLISHED');
  // The stack-wide counters (nstat's Syncookies*) agree.
  t.like(p.server.stats(), { tcpSyncookiesSent: 1, tcpSyncookiesRecv: 1, tcpSyncookiesFailed: 0 });
});

test('a restarted server listens at once over TIME_WAIT; reuseAddress: false refuses while it lasts', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  // The server closes first, so TIME_WAIT sits on its side, on port 80.
  let serverSide: Promise<boolean> | undefined;
  const first = p.server.createServer((s) => {
    serverSide = closeOf(s);
    s.resume().end();
  });
  first.listen({ port: 80 });
  await once(first, 'listening');
  const sock = p.client.connect({ host: SERVER_IP, port: 80 }).resume();
  await closeOf(sock);
  await serverSide; // 'close' comes as its connection enters TIME_WAIT
  t.true(p.server.netstat().some((e) => e.localPort === 80 && e.state === 'TIME_WAIT'));
  first.close();
  await once(first, 'close');

  const strict = p.server.createServer();
  const refused = errorOf(strict);
  strict.listen({ port: 80, reuseAddress: false });
  t.is((await refused).code, 'EADDRINUSE');

  // node:net's default (SO_REUSEADDR): listening works while TIME_WAIT lasts.
  const again = p.server.createServer((s) => s.pipe(s));
  again.listen({ port: 80 });
  await once(again, 'listening');
  t.true(p.server.netstat().some((e) => e.localPort === 80 && e.state === 'TIME_WAIT'));
  const second = p.client.connect({ host: SERVER_IP, port: 80 });
  second.write('still serving');
  const [data] = await once<[Buffer]>(second, 'data');
  t.is(String(data), 'still serving');
  second.destroy();
});

test('stack tcp options are validated', async (t) => {
  await t.throwsAsync(
    pair({}, { tcp: { synCookies: 'sometimes' as 'auto' } }),
    { message: /synCookies/ },
  );
  await t.throwsAsync(pair({}, { ttl: 0 }), { message: /ttl/ });
  await t.throwsAsync(pair({}, { ttl: 256 }), { message: /ttl/ });
});
