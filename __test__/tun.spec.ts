/**
 * tunstack over a real TUN device with the Linux kernel as the peer. Each
 * test file creates its own network namespace, moves the TUN into it, runs
 * the kernel-side programs (curl, python3, ping) inside it, and removes it
 * afterwards, even on failure. Skipped unless root with /dev/net/tun.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from '../ts/index.ts';
import { canUseTun, Netns, waitForExit, waitForLine } from './support/netns.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tunTest = canUseTun() ? test.serial : test.skip;
const MB20 = 20 * 1024 * 1024;

/** The deterministic body of `GET /bytes/N`: byte i is i mod 251. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let ns: Netns | undefined;
const scratch = mkdtempSync(path.join(tmpdir(), 'tstk-'));

test.after.always(() => {
  ns?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

tunTest('kernel peers against `tunstack serve` through TUN: curl, python3 echo, ping, 20 MB each way', async (t) => {
  ns = Netns.create('serve');
  const dev = `tsv${process.pid % 100000}`;
  const serve = spawn(process.execPath, [
    path.join(root, 'bin/tunstack.cjs'), 'serve',
    '--tun', dev, '--netns', ns.name, '--address', '10.7.0.2/24', '--host-address', '10.7.0.1/24',
    '--echo', '7', '--discard', '9', '--http', '80',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForLine(serve, /serving/, 30_000);

    const ping = await ns.exec(['ping', '-c', '3', '-W', '5', '10.7.0.2'], { timeoutMs: 30_000 });
    t.is(ping.code, 0, `ping: ${ping.stdout}${ping.stderr}`);
    t.regex(ping.stdout, /3 received/);

    const page = await ns.exec(['curl', '-sS', '--max-time', '30', 'http://10.7.0.2/']);
    t.is(page.code, 0, page.stderr);
    t.regex(page.stdout, /tunstack/i);

    // 20 MB tunstack -> kernel.
    const down = await ns.exec(['sh', '-c', `curl -sS --max-time 120 http://10.7.0.2/bytes/${MB20} | sha256sum`], { timeoutMs: 150_000 });
    t.is(down.code, 0, down.stderr);
    t.is(down.stdout.split(' ')[0], sha256(pattern(MB20)));

    // 20 MB kernel -> tunstack.
    const body = randomBytes(MB20);
    const file = path.join(scratch, 'up.bin');
    writeFileSync(file, body);
    const up = await ns.exec(['curl', '-sS', '--max-time', '120', '--data-binary', `@${file}`, 'http://10.7.0.2/sha256'], { timeoutMs: 150_000 });
    t.is(up.code, 0, up.stderr);
    t.is(up.stdout.trim(), sha256(body));

    // A python3 socket client against RFC 862 echo.
    const echo = await ns.exec(['python3', '-c', `
import socket, hashlib, os
data = os.urandom(1 << 20)
s = socket.create_connection(("10.7.0.2", 7), timeout=30)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    b = s.recv(65536)
    if not b: break
    got += b
print(hashlib.sha256(data).hexdigest() == hashlib.sha256(got).hexdigest(), len(got))
`], { timeoutMs: 60_000 });
    t.is(echo.code, 0, echo.stderr);
    t.is(echo.stdout.trim(), `True ${1 << 20}`);

    // RFC 863 discard swallows everything and the connection closes cleanly.
    const discard = await ns.exec(['python3', '-c', `
import socket
s = socket.create_connection(("10.7.0.2", 9), timeout=30)
s.sendall(b"x" * 500000)
s.shutdown(socket.SHUT_WR)
print(repr(s.recv(10)))
`], { timeoutMs: 60_000 });
    t.is(discard.code, 0, discard.stderr);
    t.is(discard.stdout.trim(), "b''");

    serve.kill('SIGTERM');
    t.is(await waitForExit(serve, 30_000), 0);
  } finally {
    if (serve.exitCode === null) serve.kill('SIGKILL');
    ns.remove();
  }
});

for (const offload of [true, false]) {
  const what = offload ? 'segmentation offload (64 KiB segments, the kernel cuts and merges)' : 'offload off (1500-byte packets)';
  tunTest(`a tunstack client against a python3 server in the namespace: 20 MB each way, ${what}`, async (t) => {
    const cns = Netns.create(offload ? 'client' : 'client-plain');
    const stack = await Stack.open({
      tun: { name: `${offload ? 'tcl' : 'tcp'}${process.pid % 100000}`, netns: cns.name, hostAddress: '10.7.1.1/24', offload },
      address: '10.7.1.2/24',
    });
    const server = cns.spawn(['python3', '-u', '-c', `
import socket, hashlib, os
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.7.1.1", 9000))
s.listen(4)
s.settimeout(60)
print("ready", flush=True)
c, _ = s.accept(); c.settimeout(60)
h = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b)
c.sendall(h.hexdigest().encode())
c.close()
c, _ = s.accept(); c.settimeout(60)
data = os.urandom(${MB20})
print("sent", hashlib.sha256(data).hexdigest(), flush=True)
c.sendall(data)
c.close()
`]);
    try {
      await waitForLine(server, /ready/, 20_000);

      // Upload 20 MB; the server answers with the SHA-256 of what it received.
      const body = randomBytes(MB20);
      const up = stack.connect({ host: '10.7.1.1', port: 9000 });
      const reply = collect(up);
      for (let off = 0; off < body.length; off += 1 << 20) up.write(body.subarray(off, off + (1 << 20)));
      up.end();
      t.is((await reply).toString(), sha256(body));

      // Download 20 MB.
      const sent = waitForLine(server, /^sent /, 60_000);
      const down = stack.connect({ host: '10.7.1.1', port: 9000 });
      const got = await collect(down);
      t.is(got.length, MB20);
      t.is(`sent ${sha256(got)}`, (await sent).trim());
      t.is(await waitForExit(server, 30_000), 0);
      // With offload, bulk data left as TSO segments the kernel cut at the
      // MSS (byte-exact at the far end, as checked above); without, none did.
      const tso = stack.stats()['tcpOutTsoSegs'] ?? -1;
      if (offload) t.true(tso > 0, `tcpOutTsoSegs ${tso}`);
      else t.is(tso, 0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      await stack.close();
      cns.remove();
    }
  });
}

/** Reads a socket to its end, rejecting on error or after 120 s. */
function collect(sock: NodeJS.ReadableStream & { destroy(e?: Error): void }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timed out reading the socket'));
    }, 120_000);
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
