/**
 * A process that exits with connections open: the kernel would finish its
 * sockets; tunstack's thread dies with the process, so it resets them on
 * the way out and the peer learns at once (ECONNRESET) instead of holding
 * a connection that will never answer. The peer is the Linux kernel in a
 * namespace this test creates and removes. Skipped unless root with TUN.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canUseTun, Netns, waitForExit, waitForLine } from './support/netns.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tunTest = canUseTun() ? test.serial : test.skip;
let ns: Netns | undefined;

test.after.always(() => ns?.remove());

tunTest('process.exit with an open connection: the kernel peer sees a reset, not a hang', async (t) => {
  ns = Netns.create('exit');
  const dev = `tsx${process.pid % 100000}`;
  // The kernel side: accept, answer one line, then wait for what comes.
  const server = ns.spawn(['python3', '-u', '-c', `
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 5050)); l.listen(1); print("listening", flush=True)
c, _ = l.accept(); c.settimeout(20)
assert c.recv(100) == b"hello\\n"
c.sendall(b"ok\\n")
try:
    print("eof" if c.recv(100) == b"" else "data", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
except socket.timeout:
    print("timeout", flush=True)
`]);
  try {
    await waitForLine(server, /listening/, 30_000);
    const child = spawn(process.execPath, [
      '--import=tsx', path.join(here, 'support/exit_child.ts'),
      dev, ns.name, '10.9.0.1/24', '10.9.0.2/24', '10.9.0.1', '5050',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const got = waitForLine(child, /^got /, 30_000);
    const verdict = waitForLine(server, /^(eof|data|reset|timeout)$/, 30_000);
    t.is(await got, 'got ok');
    t.is(await waitForExit(child, 30_000), 0);
    t.is(await verdict, 'reset');
  } finally {
    server.kill('SIGKILL');
  }
});
