/**
 * A SYN flood over a real TUN device: scapy, inside a network namespace
 * this test creates (and always removes), sends thousands of SYNs from
 * spoofed addresses of the namespace's own subnet at a tunstack listener
 * whose SYN queue is small, while curl in the same namespace keeps making
 * real requests. SYN cookies (mode 'auto') must keep the listener
 * answering: every curl succeeds, cookies are sent and validated, and the
 * stack's connection count stays bounded by the SYN queue, not the flood.
 * The spoofed hosts do not exist, so nothing answers the SYN-ACKs sent to
 * them (the namespace's kernel drops them: it does not forward).
 *
 * Skipped unless root with /dev/net/tun and python3-scapy
 * (`apt-get install python3-scapy`; scripts/setup.sh installs it).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Stack } from '../ts/index.ts';
import { canUseTun, Netns, waitForExit, waitForLine } from './support/netns.ts';

/** A python3 that can import scapy (the distribution's, not a pyenv shim), if any. */
function scapyPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import scapy.all'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

const python = canUseTun() ? scapyPython() : undefined;
const why = !canUseTun() ? 'needs root and /dev/net/tun' : !python ? 'needs python3-scapy (apt-get install python3-scapy)' : '';
const floodTest = why === '' ? test.serial : test.skip;

const SYNS = 3000;
const CURLS = 10;
const SYN_BACKLOG = 16;

/** Sends `SYNS` SYNs to 10.7.3.2:80 from random spoofed 10.7.3.10-250 sources (raw IP socket: the kernel does not check the source). */
const FLOOD = `
import random, sys
from scapy.all import IP, TCP, conf, send
from scapy.supersocket import L3RawSocket
conf.L3socket = L3RawSocket
random.seed(1)
n = int(sys.argv[1])
pkts = [IP(src="10.7.3.%d" % random.randint(10, 250), dst="10.7.3.2") /
        TCP(sport=random.randint(1024, 65000), dport=80, flags="S",
            seq=random.getrandbits(32), options=[("MSS", 1460)])
        for _ in range(n)]
print("flooding", flush=True)
send(pkts, verbose=0)
print("sent", n, flush=True)
`;

let ns: Netns | undefined;
test.after.always(() => ns?.remove());

floodTest(`SYN flood from spoofed sources over TUN: SYN cookies keep curl connecting, connections stay bounded${why ? ` (skipped: ${why})` : ''}`, async (t) => {
  ns = Netns.create('flood');
  const stack = await Stack.open({
    tun: { name: `tfl${process.pid % 100000}`, netns: ns.name, hostAddress: '10.7.3.1/24' },
    address: '10.7.3.2/24',
    tcp: { synBacklog: SYN_BACKLOG, synCookies: 'auto' },
  });
  t.teardown(() => stack.close({ graceMs: 0 }));
  const server = stack.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  server.listen({ port: 80 });
  await new Promise<void>((resolve) => server.once('listening', resolve));

  // Watch the stack's connection count while the flood runs (observation
  // only: the assertion is on the maximum seen).
  let maxConns = 0;
  const sample = () => {
    const n = stack.netstat().filter((e) => e.proto === 'tcp' && e.state !== 'LISTEN').length;
    maxConns = Math.max(maxConns, n);
  };
  const sampler = setInterval(sample, 20);
  t.teardown(() => clearInterval(sampler));

  const flood = ns.spawn([python!, '-c', FLOOD, String(SYNS)]);
  await waitForLine(flood, /flooding/, 60_000);
  // Real clients while the flood is on.
  let ok = 0;
  const failures: string[] = [];
  for (let i = 0; i < CURLS; i++) {
    const r = await ns.exec(['curl', '-sS', '--max-time', '20', 'http://10.7.3.2/'], { timeoutMs: 30_000 });
    if (r.code === 0 && r.stdout === 'ok') ok++;
    else failures.push(`curl ${i}: ${r.code} ${r.stderr}`);
    sample();
  }
  t.is(await waitForExit(flood, 120_000), 0, 'the flood ran to the end');
  sample();
  clearInterval(sampler);

  t.deepEqual(failures, []);
  t.is(ok, CURLS);
  const q = server.queues()!;
  t.log(`queues after ${SYNS} spoofed SYNs and ${CURLS} curls: ${JSON.stringify(q)}; max connections seen: ${maxConns}`);
  t.true(q.cookiesSent > 0, 'SYN cookies were sent');
  t.true(q.cookiesValidated > 0, 'real clients came in through cookies');
  t.is(q.cookiesFailed, 0);
  t.true(q.synReceived <= SYN_BACKLOG, 'the SYN queue stays within synBacklog');
  // Half-open entries (≤ synBacklog) plus the curl connections (server side
  // in TIME_WAIT after closing): bounded by the queue, not by the flood.
  t.true(maxConns <= SYN_BACKLOG + CURLS + 1, `at most ${SYN_BACKLOG + CURLS + 1} connections, saw ${maxConns}`);
});
