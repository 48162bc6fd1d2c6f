// TCP over a memory link: the node:net behaviours code relies on.

import test from 'ava';
import type { Socket } from '../ts/index.js';
import { CLIENT_IP, SERVER_IP, bytes, closeOf, collect, errorOf, once, pair, sha256, until, within } from './helpers.js';

test('echo round trip, addresses and byte counters', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const server = p.server.createServer((s) => s.pipe(s));
  server.listen({ port: 7 });
  await once(server, 'listening');
  t.deepEqual(server.address(), { address: '0.0.0.0', family: 'IPv4', port: 7 });

  const payload = bytes(100_000, 7);
  const sock = p.client.connect({ host: SERVER_IP, port: 7 });
  t.true(sock.connecting);
  t.is(sock.readyState, 'opening');
  await once(sock, 'connect');
  t.false(sock.connecting);
  t.is(sock.readyState, 'open');
  t.is(sock.remoteAddress, SERVER_IP);
  t.is(sock.remotePort, 7);
  t.is(sock.remoteFamily, 'IPv4');
  t.is(sock.localAddress, CLIENT_IP);
  t.true(sock.localPort! >= 32768 && sock.localPort! <= 60999);
  t.deepEqual(sock.address(), { address: CLIENT_IP, family: 'IPv4', port: sock.localPort });

  const received = collect(sock);
  const closed = closeOf(sock);
  sock.end(payload);
  const back = await received;
  t.is(sha256(back), sha256(payload));
  t.is(sock.bytesRead, payload.length);
  t.is(sock.bytesWritten, payload.length);
  t.false(await closed);
  t.true(sock.destroyed);
});

test('writes made before connect are sent after the handshake, in order', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const got = new Promise<Buffer>((resolve) => {
    p.server.createServer((s) => collect(s).then(resolve)).listen(9000);
  });
  const sock = p.client.connect(9000, SERVER_IP);
  sock.write('one,');
  sock.write('two,');
  sock.end('three');
  t.true(sock.connecting);
  t.is((await within(got, 'server received')).toString(), 'one,two,three');
});

test('half-close: the client ends, the server keeps sending (allowHalfOpen)', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const serverState: string[] = [];
  p.server
    .createServer({ allowHalfOpen: true }, (s) => {
      collect(s).then((request) => {
        // The peer's FIN arrived: we are in CLOSE_WAIT and may still send.
        serverState.push(s.info()?.state ?? 'none');
        t.false(s.writableEnded);
        s.write(`got ${request.length} bytes; `);
        s.write('still talking after your FIN; ');
        s.end('bye');
      });
    })
    .listen(80);
  const sock = p.client.connect({ host: SERVER_IP, port: 80, allowHalfOpen: true });
  await once(sock, 'connect');
  const reply = collect(sock);
  const finished = once(sock, 'finish');
  const closed = closeOf(sock);
  sock.end('request');
  await finished;
  t.is((await reply).toString(), 'got 7 bytes; still talking after your FIN; bye');
  t.deepEqual(serverState, ['CLOSE_WAIT']);
  t.false(await closed);
});

test('without allowHalfOpen a socket ends its side after the peer ends', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const serverClosed = new Promise<void>((resolve) => {
    p.server.createServer((s) => s.on('close', () => resolve()).resume()).listen(81);
  });
  const sock = p.client.connect({ host: SERVER_IP, port: 81, allowHalfOpen: true });
  await once(sock, 'connect');
  const ended = collect(sock);
  sock.end();
  // The server (allowHalfOpen false) answers our FIN with its own.
  t.is((await ended).length, 0);
  await within(serverClosed, 'server socket close');
});

test('ECONNREFUSED when nothing listens', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const sock = p.client.connect({ host: SERVER_IP, port: 4242 });
  const closed = closeOf(sock);
  const err = await errorOf<NodeJS.ErrnoException & { address: string; port: number }>(sock);
  t.is(err.code, 'ECONNREFUSED');
  t.is(err.syscall, 'connect');
  t.is(err.address, SERVER_IP);
  t.is(err.port, 4242);
  t.true(typeof err.errno === 'number' && err.errno < 0);
  t.true(await closed);
});

test('EADDRINUSE on a second listen on the same port', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const first = p.server.createServer().listen(8080);
  await once(first, 'listening');
  const second = p.server.createServer().listen(8080);
  const [err] = await once<[NodeJS.ErrnoException]>(second, 'error');
  t.is(err.code, 'EADDRINUSE');
  t.is(err.syscall, 'listen');
  t.false(second.listening);
});

test('connect from localAddress and localPort: our own address works, another is EADDRNOTAVAIL', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const server = p.server.createServer((s) => s.pipe(s)).listen(7);
  await once(server, 'listening');
  const sock = p.client.connect({ host: SERVER_IP, port: 7, localAddress: CLIENT_IP, localPort: 40123 });
  await once(sock, 'connect');
  t.like(sock.address(), { address: CLIENT_IP, port: 40123 });
  sock.destroy();
  const bad = p.client.connect({ host: SERVER_IP, port: 7, localAddress: '10.99.0.1' });
  const err = await errorOf(bad);
  t.like(err, { code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.99.0.1' });
});

test('typeOfService: set per socket, inherited from the server, ECN bits masked, range checked', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer({ typeOfService: 0xb8 }, resolve).listen(7));
  const sock = p.client.connect({ host: SERVER_IP, port: 7 });
  await once(sock, 'connect');
  t.is((await within(accepted, 'accept')).getTypeOfService(), 0xb8);
  t.is(sock.getTypeOfService(), 0);
  t.is(sock.setTypeOfService(0x28 | 0b11).getTypeOfService(), 0x28);
  t.throws(() => sock.setTypeOfService(256), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => p.server.createServer({ typeOfService: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  sock.destroy();
});

test('resetAndDestroy sends RST: the peer gets ECONNRESET', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer(resolve).listen(82));
  const sock = p.client.connect({ host: SERVER_IP, port: 82 });
  await once(sock, 'connect');
  const s = await within(accepted, 'accept');
  const serverClosed = closeOf(s);
  const clientClosed = closeOf(sock);
  const error = errorOf(sock);
  s.resetAndDestroy();
  const err = await error;
  t.is(err.code, 'ECONNRESET');
  t.is(err.syscall, 'read');
  t.false(await serverClosed);
  t.true(await clientClosed);
  t.true(p.client.stats().tcpInRsts! >= 1);
});

test('netstat shows LISTEN and ESTABLISHED with addresses', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer(resolve).listen(83));
  const sock = p.client.connect({ host: SERVER_IP, port: 83 });
  await once(sock, 'connect');
  await within(accepted, 'accept');
  const rows = p.server.netstat().filter((e) => e.proto === 'tcp');
  t.truthy(rows.find((e) => e.state === 'LISTEN' && e.localPort === 83));
  t.truthy(
    rows.find(
      (e) =>
        e.state === 'ESTABLISHED' &&
        e.localAddress === SERVER_IP &&
        e.localPort === 83 &&
        e.remoteAddress === CLIENT_IP &&
        e.remotePort === sock.localPort,
    ),
  );
  const mine = p.client.netstat().find((e) => e.proto === 'tcp' && e.localPort === sock.localPort);
  t.is(mine?.state, 'ESTABLISHED');
  t.is(sock.info()?.state, 'ESTABLISHED');
});

test('server.close stops listening, then emits close after its connections closed', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const server = p.server.createServer().listen(84);
  const accepted = new Promise<Socket>((resolve) => server.on('connection', resolve));
  const sock = p.client.connect({ host: SERVER_IP, port: 84 });
  await once(sock, 'connect');
  const s = await within(accepted, 'accept');
  let count = -1;
  server.getConnections((_err, n) => (count = n));
  const closed = once(server, 'close');
  server.close();
  t.false(server.listening);
  t.is(server.address(), null);
  // New connections are refused now; the open one still works.
  const refused = p.client.connect({ host: SERVER_IP, port: 84 });
  const err = await errorOf(refused);
  t.is(err.code, 'ECONNREFUSED');
  t.is(count, 1);
  s.resume(); // so its 'end' is emitted and it closes
  s.end('last words');
  t.is((await collect(sock)).toString(), 'last words');
  await closed;
});

test('stack.close() ends open connections with a FIN', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer(resolve).listen(85));
  const sock = p.client.connect({ host: SERVER_IP, port: 85 });
  await once(sock, 'connect');
  const s = await within(accepted, 'accept');
  const serverSocketClosed = closeOf(s);
  const clientClosed = closeOf(sock);
  const received = collect(sock);
  s.write('before close');
  await within(p.server.close(), 'stack.close');
  t.is((await received).toString(), 'before close');
  await serverSocketClosed;
  t.false(await clientClosed);
  t.true(p.server.closed);
  t.deepEqual(p.server.netstat(), []);
});

test('setTimeout emits timeout after inactivity and does not close', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  p.server.createServer((s) => s.resume()).listen(86);
  const sock = p.client.connect({ host: SERVER_IP, port: 86 });
  await once(sock, 'connect');
  sock.setTimeout(50);
  t.is(sock.timeout, 50);
  await once(sock, 'timeout');
  t.false(sock.destroyed);
  sock.setTimeout(0);
  t.is(sock.timeout, undefined);
  const closed = closeOf(sock);
  sock.destroy();
  t.false(await closed);
});

test('info() reports TCP internals of an established connection', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  p.server.createServer((s) => s.pipe(s)).listen(87);
  const sock = p.client.connect({ host: SERVER_IP, port: 87 });
  await once(sock, 'connect');
  sock.write(bytes(10_000));
  await until(sock, 'data', () => sock.bytesRead >= 10_000);
  const info = sock.info()!;
  t.is(info.state, 'ESTABLISHED');
  t.is(info.remotePort, 87);
  t.is(info.localPort, sock.localPort!);
  t.true(info.mss > 0 && info.mss <= 1460);
  t.true(info.rtoMs > 0);
  t.true(info.bytesAcked >= 10_000);
  t.true(info.rcvWnd > 0);
  const closed = closeOf(sock);
  sock.destroy();
  await closed;
  t.is(sock.info(), null);
});

test('writing after the peer ended (no allowHalfOpen) fails with EPIPE', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  p.server.createServer((s) => s.end('bye')).listen(88);
  const sock = p.client.connect({ host: SERVER_IP, port: 88 });
  const finished = once(sock, 'finish');
  const received = collect(sock);
  t.is((await received).toString(), 'bye');
  await finished; // our side ended by itself after 'end'
  const cbErr = await new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => sock.write('late', resolve));
  t.is(cbErr?.code, 'EPIPE');
  t.is(cbErr?.message, 'This socket has been ended by the other party');
});

test('maxConnections: connections beyond it are dropped as they are accepted', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const server = p.server.createServer((s) => s.resume());
  server.maxConnections = 1;
  server.listen(89);
  await once(server, 'listening');
  const first = p.client.connect({ host: SERVER_IP, port: 89 });
  await once(first, 'connect');
  const dropped = once<[{ remotePort: number }]>(server, 'drop');
  const second = p.client.connect({ host: SERVER_IP, port: 89 });
  const connected = once(second, 'connect');
  const [info] = await dropped;
  await connected;
  t.is(info.remotePort, second.localPort!);
  // The dropped connection is closed by the server: the client reads EOF.
  t.is((await collect(second)).length, 0);
  let count = -1;
  await new Promise<void>((resolve) =>
    server.getConnections((_e, n) => {
      count = n;
      resolve();
    }),
  );
  t.is(count, 1);
});
