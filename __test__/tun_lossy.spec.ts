/**
 * Bulk transfer against the Linux kernel over a lossy TUN: the stack's own
 * seeded Impairment sits on the TUN in both directions (2% loss plus
 * reordering), and 100 MB go each way, checked by SHA-256 on both sides,
 * once per congestion control of ours (Reno and CUBIC). The data we send is
 * paced by our congestion control and repaired by our loss recovery; the
 * data the kernel sends is the kernel's (its own CUBIC), acknowledged and
 * SACKed by us.
 *
 * Goodput and retransmissions are logged (`npx ava --verbose`), never
 * asserted: timing does not decide a test. The namespace is created per
 * congestion control and always removed. Skipped unless root with
 * /dev/net/tun. `TUNSTACK_LOSSY_MB` sets the size each way (default 100).
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import type { CongestionControl, TcpInfo } from '../ts/index.ts';
import { Stack, type Socket } from '../ts/index.ts';
import type { ChildProcess } from 'node:child_process';
import { canUseTun, Netns, waitForExit } from './support/netns.ts';

const tunTest = canUseTun() ? test.serial : test.skip;
const MB = 1024 * 1024;
const SIZE = Math.round(Number(process.env.TUNSTACK_LOSSY_MB ?? 100) * MB);
/** Bound on one transfer: far above what it needs, so only a stall fails it. */
const TRANSFER_TIMEOUT_MS = 5 * 60_000;
const IMPAIR = { loss: 0.02, reorder: 0.02, direction: 'both', seed: 42 } as const;

/**
 * The kernel peer: one connection receives and answers with the SHA-256 of
 * what came; the next one sends SIZE random bytes and prints their SHA-256.
 * Each side's kernel TCP_INFO retransmission count goes to stdout.
 */
const SERVER = (host: string) => `
import socket, hashlib, os, struct
TCP_INFO_LEN = 104
def total_retrans(c):
    # struct tcp_info: tcpi_total_retrans is the u32 at offset 100.
    info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    return struct.unpack_from("I", info, 100)[0]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("${host}", 9000))
s.listen(4)
s.settimeout(${TRANSFER_TIMEOUT_MS / 1000})
print("ready", flush=True)
c, _ = s.accept(); c.settimeout(${TRANSFER_TIMEOUT_MS / 1000})
h = hashlib.sha256()
n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b)
    n += len(b)
c.sendall(h.hexdigest().encode())
c.close()
print("received", n, flush=True)
c, _ = s.accept(); c.settimeout(${TRANSFER_TIMEOUT_MS / 1000})
h = hashlib.sha256()
left = ${SIZE}
while left > 0:
    chunk = os.urandom(min(left, 1 << 20))
    h.update(chunk)
    c.sendall(chunk)
    left -= len(chunk)
c.shutdown(socket.SHUT_WR)
# Wait for our FIN so every byte was acknowledged before reading the counter.
c.recv(1)
print("kernel_retrans", total_retrans(c), flush=True)
print("sent", h.hexdigest(), flush=True)
c.close()
`;

for (const cc of ['reno', 'cubic'] as const satisfies readonly CongestionControl[]) {
  tunTest(`${SIZE / MB} MB each way with the kernel over TUN, 2% loss + reordering both directions, ${cc}`, async (t) => {
    t.timeout(2 * TRANSFER_TIMEOUT_MS + 60_000);
    const tag = cc === 'reno' ? 0 : 1;
    const ns = Netns.create(`lossy${cc}`);
    const hostIp = `10.7.${20 + tag}.1`;
    const dev = `tls${tag}${process.pid % 10000}`;
    let stack: Stack | undefined;
    let server: ChildProcess | undefined;
    try {
      stack = await Stack.open({
        tun: { name: dev, netns: ns.name, hostAddress: `${hostIp}/24` },
        address: `10.7.${20 + tag}.2/24`,
        seed: 7,
        impair: IMPAIR,
        tcp: { congestionControl: cc },
      });
      // Started once its address exists; every line is kept, so none is missed.
      server = ns.spawn(['python3', '-u', '-c', SERVER(hostIp)]);
      const lines = new Lines(server);
      await lines.next(/^ready$/, 20_000);

      // Upload: our congestion control and loss recovery carry the data.
      const body = randomBytes(SIZE);
      const bodySha = createHash('sha256').update(body).digest('hex');
      const t0 = performance.now();
      const up = stack.connect({ host: hostIp, port: 9000 });
      const upInfo = untilEnd(up);
      for (let off = 0; off < body.length; off += MB) up.write(body.subarray(off, off + MB));
      up.end();
      const reply = await upInfo;
      const upSecs = (performance.now() - t0) / 1000;
      t.is(reply.text, bodySha);
      t.is(reply.info?.congestionControl, cc);
      t.is(await lines.next(/^received /, 60_000), `received ${SIZE}`);

      // Download: the kernel's congestion control sends; we ACK and SACK.
      const t1 = performance.now();
      const down = stack.connect({ host: hostIp, port: 9000 });
      const got = await untilEnd(down);
      const downSecs = (performance.now() - t1) / 1000;
      down.end();
      t.is(got.bytes, SIZE);
      const kernelRetrans = await lines.next(/^kernel_retrans /, 60_000);
      // Both directions were impaired: each side had to retransmit.
      t.true(Number(kernelRetrans.split(' ')[1]) > 0, kernelRetrans);
      t.true((reply.info?.retransmits ?? 0) > 0);
      t.is(await lines.next(/^sent /, 60_000), `sent ${got.sha}`);
      t.is(await waitForExit(server, 60_000), 0);

      // The kernel's own view (its namespace's counters): what it resent,
      // and whether our segments were all accepted.
      const nstat = await ns.exec(['nstat', '-az']);
      t.log(`${cc} kernel: ${kernelCounters(nstat.stdout)}`);
      const stats = stack.stats();
      const mbit = (secs: number) => ((SIZE * 8) / secs / 1e6).toFixed(1);
      t.log(
        `${cc} upload (tunstack -> kernel): ${mbit(upSecs)} Mbit/s, ${upSecs.toFixed(1)} s, ` +
          `retransmitted segments ${reply.info?.retransmits}, RTOs ${reply.timeouts}`,
      );
      t.log(
        `${cc} download (kernel -> tunstack): ${mbit(downSecs)} Mbit/s, ${downSecs.toFixed(1)} s, ` +
          `kernel retransmitted ${kernelRetrans.split(' ')[1]} segments`,
      );
      t.log(`${cc} stack: ${JSON.stringify(pick(stats, ['tcpRetransSegs', 'tcpTimeouts', 'tcpOfoQueued', 'tcpDupSegs', 'tcpLostRetransmit', 'tcpLossProbes', 'tcpPawsRejected', 'deviceRxPackets', 'deviceTxPackets']))}`);
    } finally {
      if (server && server.exitCode === null) server.kill('SIGKILL');
      try {
        await stack?.close();
      } finally {
        ns.remove();
      }
    }
  });
}

/** What a socket delivered by its end: byte count, SHA-256, and its TCP info and RTO count just before closing. */
interface Ended {
  bytes: number;
  sha: string;
  text: string | undefined;
  info: TcpInfo | null;
  timeouts: number;
}

/**
 * Reads a socket to its end, hashing as it goes; rejects on error or after
 * TRANSFER_TIMEOUT_MS. Short replies are also kept as text.
 */
function untilEnd(sock: Socket): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const head: Buffer[] = [];
    let timeouts = 0;
    sock.on('tcp', (ev) => {
      if (ev.type === 'retransmit' && ev.reason === 'timeout') timeouts++;
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out after ${bytes} bytes`));
    }, TRANSFER_TIMEOUT_MS);
    sock.on('data', (b: Buffer) => {
      hash.update(b);
      bytes += b.length;
      if (bytes <= 1024) head.push(b);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      resolve({
        bytes,
        sha: hash.digest('hex'),
        text: bytes <= 1024 ? Buffer.concat(head).toString() : undefined,
        info: sock.info(),
        timeouts,
      });
    });
    sock.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Kernel TCP counters that tell how the kernel's side of the transfers went (nstat names). */
const KERNEL_COUNTERS = ['TcpRetransSegs', 'TcpExtTCPTimeouts', 'TcpExtTCPLossProbes', 'TcpExtTCPLostRetransmit', 'TcpExtTCPSackRecovery', 'TcpExtPAWSEstab', 'TcpExtTCPOFOQueue'];

function kernelCounters(nstat: string): string {
  const values = new Map(nstat.split('\n').map((l) => l.trim().split(/\s+/) as [string, string]));
  return KERNEL_COUNTERS.map((k) => `${k}=${values.get(k) ?? '?'}`).join(' ');
}

function pick(o: Record<string, number>, keys: string[]): Record<string, number | undefined> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

/**
 * Every stdout line of a child, kept from the start, so a line printed
 * before anyone waits for it is not lost.
 */
class Lines {
  readonly #lines: string[] = [];
  #partial = '';
  #stderr = '';
  #exited = false;
  #wake: (() => void) | undefined;

  constructor(child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => {
      const parts = (this.#partial + b.toString()).split('\n');
      this.#partial = parts.pop() ?? '';
      this.#lines.push(...parts);
      this.#wake?.();
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.#stderr += b.toString();
    });
    child.on('exit', () => {
      this.#exited = true;
      this.#wake?.();
    });
  }

  /** Takes the first kept line matching `re` (and the lines before it), waiting up to `timeoutMs`. */
  async next(re: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => re.test(l));
      if (i >= 0) return this.#lines.splice(0, i + 1)[i]!;
      if (this.#exited) throw new Error(`exited before a line matching ${re}; stderr: ${this.#stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
