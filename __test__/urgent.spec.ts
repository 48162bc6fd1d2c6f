/**
 * Urgent data (URG; legacy, RFC 6093): `sendUrgent` and the 'urgent'
 * event, out of band (the default) and inline — between two tunstack
 * stacks over a memory link, and against the Linux kernel through a TUN
 * device in a network namespace this file creates and always removes
 * (python3's `send(MSG_OOB)` / `recv(MSG_OOB)` as the peer).
 */
import test from 'ava';
import type { Server, Socket, UrgentMark } from '../ts/index.js';
import { Stack } from '../ts/index.js';
import { SERVER_IP, once, pair, within } from './helpers.js';
import { canUseTun, Netns, waitForExit } from './support/netns.js';

/** Everything a socket receives until 'end': data and urgent bytes. */
interface Received {
  data: Buffer;
  urgent: Array<{ byte: string; mark: UrgentMark }>;
}

function receive(sock: Socket): Promise<Received> {
  const chunks: Buffer[] = [];
  const urgent: Received['urgent'] = [];
  sock.on('urgent', (b: Buffer, mark: UrgentMark) => urgent.push({ byte: b.toString('latin1'), mark }));
  return within(
    new Promise<Received>((resolve, reject) => {
      sock.on('data', (b: Buffer) => chunks.push(b));
      sock.on('end', () => resolve({ data: Buffer.concat(chunks), urgent }));
      sock.on('error', reject);
    }),
    'the stream to end',
  );
}

/**
 * Listens; `got` is what its first connection receives (wrapped: an async
 * function returning a promise would wait for it).
 */
async function serve(server: Server, port: number): Promise<{ got: Promise<Received> }> {
  const got = new Promise<Received>((resolve, reject) => {
    server.once('connection', (s: Socket) => {
      receive(s).then(resolve, reject);
      s.on('end', () => s.end());
    });
  });
  server.listen({ port });
  await once(server, 'listening');
  return { got };
}

test('out of band (default): the urgent byte leaves the stream and comes as an event', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { got } = await serve(p.server.createServer(), 7);
  const sock = p.client.connect({ host: SERVER_IP, port: 7 });
  // Written before the handshake completes: the urgent chunk keeps its
  // place between the others.
  sock.write('hello ');
  t.true(sock.sendUrgent('!'));
  sock.write('world');
  sock.end();
  const r = await got;
  t.is(r.data.toString(), 'hello world');
  t.deepEqual(r.urgent, [{ byte: '!', mark: { offset: 6, inline: false } }]);
});

test('inline (createServer urgentInline): the byte stays and the event tells where', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const { got } = await serve(p.server.createServer({ urgentInline: true }), 7);
  const sock = p.client.connect({ host: SERVER_IP, port: 7 });
  await once(sock, 'connect');
  sock.write('hello ');
  // A Buffer of several bytes: only its last byte is urgent (BSD/Linux).
  sock.sendUrgent(Buffer.from('ab!'));
  sock.end('world');
  const r = await got;
  t.is(r.data.toString(), 'hello ab!world');
  t.deepEqual(r.urgent, [{ byte: '!', mark: { offset: 8, inline: true } }]);
});

test('urgent data from the server; connect option urgentInline and setUrgentInline(false)', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const server = p.server.createServer((s) => {
    s.write('abc');
    s.sendUrgent(0x07, (err) => {
      if (err) t.fail(String(err));
    });
    s.end('def');
  });
  server.listen({ port: 8 });
  await once(server, 'listening');
  const inline = p.client.connect({ host: SERVER_IP, port: 8, urgentInline: true });
  const r = await receive(inline);
  t.is(r.data.toString('latin1'), 'abc\x07def');
  t.deepEqual(r.urgent, [{ byte: '\x07', mark: { offset: 3, inline: true } }]);

  const oob = p.client.connect({ host: SERVER_IP, port: 8, urgentInline: true });
  oob.setUrgentInline(false);
  const r2 = await receive(oob);
  t.is(r2.data.toString('latin1'), 'abcdef');
  t.deepEqual(r2.urgent, [{ byte: '\x07', mark: { offset: 3, inline: false } }]);
});

test('sendUrgent rejects empty data and values that are not bytes', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const sock = p.client.connect({ host: SERVER_IP, port: 9 });
  sock.on('error', () => {});
  t.throws(() => sock.sendUrgent(''), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => sock.sendUrgent(Buffer.alloc(0)), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => sock.sendUrgent(256), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => sock.sendUrgent(1.5), { code: 'ERR_INVALID_ARG_VALUE' });
  sock.destroy();
});

// ---- against the Linux kernel ----

const tunTest = canUseTun() ? test.serial : test.skip;

tunTest('Linux peer: python3 send(MSG_OOB) reaches the urgent event; sendUrgent reaches recv(MSG_OOB)', async (t) => {
  const ns = Netns.create('urg');
  let stack: Stack | undefined;
  try {
    stack = await Stack.open({
      tun: { name: `turg${process.pid % 100000}`, netns: ns.name, hostAddress: '10.7.9.1/24' },
      address: '10.7.9.2/24',
    });

    // Kernel → tunstack, out of band and inline.
    const { got: oob } = await serve(stack.createServer(), 9100);
    const { got: inline } = await serve(stack.createServer({ urgentInline: true }), 9101);
    const client = await ns.exec(
      [
        'python3',
        '-c',
        `
import socket
for port in (9100, 9101):
    s = socket.create_connection(("10.7.9.2", port), timeout=20)
    s.sendall(b"abc")
    s.send(b"!", socket.MSG_OOB)
    s.sendall(b"def")
    s.shutdown(socket.SHUT_WR)
    while s.recv(100):
        pass
    s.close()
print("ok")
`,
      ],
      { timeoutMs: 30_000 },
    );
    t.is(client.code, 0, client.stderr);
    const a = await oob;
    t.is(a.data.toString(), 'abcdef');
    t.deepEqual(a.urgent, [{ byte: '!', mark: { offset: 3, inline: false } }]);
    const b = await inline;
    t.is(b.data.toString(), 'abc!def');
    t.deepEqual(b.urgent, [{ byte: '!', mark: { offset: 3, inline: true } }]);

    // tunstack → kernel: python waits (bounded) in select() for the
    // exceptional condition, takes the byte with recv(MSG_OOB), then
    // reads the stream, from which Linux has taken the byte out.
    const server = ns.spawn([
      'python3',
      '-u',
      '-c',
      `
import socket, select, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.7.9.1", 9200))
s.listen(1)
s.settimeout(20)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(20)
_, _, x = select.select([], [], [c], 20)
if not x:
    sys.exit("no urgent data within 20 s")
oob = c.recv(1, socket.MSG_OOB)
data = b""
while True:
    b = c.recv(100)
    if not b:
        break
    data += b
print("oob", oob.hex(), "stream", data.decode(), flush=True)
c.close()
`,
    ]);
    try {
      const lines = collectLines(server);
      await within(lines.waitFor(/ready/), 'python ready');
      const sock = stack.connect({ host: '10.7.9.1', port: 9200 });
      await once(sock, 'connect');
      sock.write('abc');
      sock.sendUrgent('!');
      sock.end('def');
      const line = await within(lines.waitFor(/^oob /), 'python to report');
      t.is(line.trim(), `oob ${Buffer.from('!').toString('hex')} stream abcdef`);
      t.is(await waitForExit(server, 20_000), 0, lines.all());
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  } finally {
    await stack?.close({ graceMs: 200 });
    ns.remove();
  }
});

/**
 * Complete lines of a child's stdout and stderr (an unbuffered python3
 * writes a line in pieces), with a wait for a matching one.
 */
function collectLines(child: import('node:child_process').ChildProcess) {
  let text = '';
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const feed = (b: Buffer) => {
    text += b.toString();
    for (const w of [...waiters]) {
      const line = text.split('\n').slice(0, -1).find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  return {
    waitFor(re: RegExp): Promise<string> {
      const line = text.split('\n').slice(0, -1).find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
    all: () => text,
  };
}
