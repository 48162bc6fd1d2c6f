// Dead peers and closing, over a memory link whose cable can be pulled
// (`link.setUp(false)`): keepalive finds a vanished peer (ETIMEDOUT) and a
// peer that lost the connection (ECONNRESET); the user timeout bounds
// unacknowledged data; closing with unread data resets.

import test from 'ava';
import type { Socket, StackTcpEvent, TcpEvent } from '../ts/index.js';
import { SERVER_IP, closeOf, errorOf, once, pair, until, within } from './helpers.js';

/** A connected client socket and the server's side of it. */
async function connected(p: Awaited<ReturnType<typeof pair>>, port: number, pauseOnConnect = false) {
  const accepted = new Promise<Socket>((resolve) =>
    p.server
      .createServer({ pauseOnConnect }, (s) => {
        // The tests look at the client's errors; the server side may be reset too.
        s.on('error', () => {});
        resolve(s);
      })
      .listen(port),
  );
  const client = p.client.connect({ host: SERVER_IP, port });
  await once(client, 'connect');
  const server = await within(accepted, 'accept');
  return { client, server };
}

test('keepalive: a peer that vanished (cable pulled) is detected with ETIMEDOUT after the probes', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { client } = await connected(p, 7000);
  const events: TcpEvent[] = [];
  client.on('tcp', (ev) => events.push(ev));
  client.setKeepAliveProbes(50, 3);
  client.setKeepAlive(true, 100);
  const error = errorOf(client);
  p.link.setUp(false);
  const err = await error;
  t.is(err.code, 'ETIMEDOUT');
  t.deepEqual(events.at(-1), { type: 'state', from: 'ESTABLISHED', to: 'CLOSED' });
  t.is(p.client.stats().tcpAbortOnTimeout, 1);
});

test('keepalive: a peer that lost the connection answers the probe with RST: ECONNRESET', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { client, server } = await connected(p, 7001);
  const rst = until<[TcpEvent]>(client, 'tcp', (ev) => ev.type === 'rst-received');
  // The server forgets the connection while the link is down: its RST is lost.
  p.link.setUp(false);
  const serverGone = closeOf(server);
  server.resetAndDestroy();
  await serverGone;
  p.link.setUp(true);
  const error = errorOf(client);
  client.setKeepAlive(true, 50);
  t.is((await error).code, 'ECONNRESET');
  t.deepEqual((await rst)[0], { type: 'rst-received', outcome: 'accepted' });
});

test('user timeout: unacknowledged data fails the connection with ETIMEDOUT', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { client } = await connected(p, 7002);
  const retransmits: TcpEvent[] = [];
  client.on('tcp', (ev) => {
    if (ev.type === 'retransmit') retransmits.push(ev);
  });
  client.setUserTimeout(400);
  p.link.setUp(false);
  const error = errorOf(client);
  client.write('into the void');
  t.is((await error).code, 'ETIMEDOUT');
  // Far fewer than the 15 retries the retry count alone would allow.
  t.true(retransmits.length >= 1 && retransmits.length < 15, `${retransmits.length} retransmissions`);
});

test('closing with unread data sends RST; the peer gets ECONNRESET', async (t) => {
  const p = await pair({}, { trace: true });
  t.teardown(() => p.close());
  // The server never reads (pauseOnConnect): the bytes stay in its stack's
  // receive buffer, as in the kernel's for a node:net server.
  const { client, server } = await connected(p, 7003, true);
  const arrived = until<[{ dir: string; len: number; dst: string }]>(
    p.server,
    'segment',
    (seg) => seg.dir === 'in' && seg.len > 0 && seg.dst.endsWith(':7003'),
  );
  client.write('never read');
  await arrived;
  const error = errorOf(client);
  server.destroy();
  t.is((await error).code, 'ECONNRESET');
  t.is(p.server.stats().tcpAbortOnClose, 1);
});

test('without unread data, destroy closes with a FIN: the peer sees an orderly end', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { client, server } = await connected(p, 7004);
  const ended = once(client, 'end');
  client.resume();
  server.destroy();
  await ended;
  t.is(p.server.stats().tcpAbortOnClose, 0);
});

test('resetAndDestroy is reported as an rst-sent event with its reason', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { client } = await connected(p, 7005);
  const sent = until<[StackTcpEvent]>(p.client, 'tcp', (ev) => ev.type === 'rst-sent');
  const closed = closeOf(client);
  client.resetAndDestroy();
  const [ev] = await sent;
  t.like(ev, { type: 'rst-sent', reason: 'aborted' });
  await closed;
});

test("stack.close() finishes connections as the kernel finishes a dying process's: FIN, or RST where data is unread", async (t) => {
  const p = await pair({}, { trace: true });
  t.teardown(() => p.close());
  const quiet = await connected(p, 7006);
  const unread = await connected(p, 7007, true);
  const arrived = until<[{ dir: string; len: number; dst: string }]>(
    p.server,
    'segment',
    (seg) => seg.dir === 'in' && seg.len > 0 && seg.dst.endsWith(':7007'),
  );
  unread.client.write('never read');
  await arrived;
  const ended = once(quiet.client, 'end');
  quiet.client.resume();
  const reset = errorOf(unread.client);
  const closing = p.server.close({ graceMs: 5_000 });
  await ended;
  t.is((await reset).code, 'ECONNRESET');
  await closing;
});
