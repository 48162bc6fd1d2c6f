// Flow control told by the opt-in 'tcp' events: a paused reader closes the
// window, the writer's write() returns false, zero-window probes back off
// up to the maximum RTO, the reader resumes, the window reopens and no byte
// is lost. Also TCP_CORK (socket.setCork), node's stream cork()/uncork(),
// and TCP_QUICKACK (socket.setQuickAck, tcp.quickAck).

import test from 'ava';
import type { SegmentEvent, Socket, TcpEvent, TcpOptions, TcpWindowProbeEvent } from '../ts/index.js';
import { SERVER_IP, bytes, collect, once, pair, sha256, until, within } from './helpers.js';

/** Probes start at max(RTO, rtoMinMs) and double up to rtoMaxMs: small values keep the story short. */
const RTO_MIN_MS = 50;
const RTO_MAX_MS = 400;

test('a paused reader: zero window, probes with growing intervals, reopen, every byte arrives', async (t) => {
  const BUF = 16 * 1024;
  const p = await pair({}, { tcp: { sendBuffer: BUF, recvBuffer: BUF, rtoMinMs: RTO_MIN_MS, rtoMaxMs: RTO_MAX_MS } });
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer({ highWaterMark: BUF }, resolve).listen(91));

  const sock = p.client.connect({ host: SERVER_IP, port: 91 });
  const sent: TcpEvent[] = [];
  sock.on('tcp', (ev: TcpEvent) => sent.push(ev));
  const zero = until<[TcpEvent]>(sock, 'tcp', (ev) => ev.type === 'zero-window');
  // Wait for the backoff to reach its cap, after at least three probes.
  const capped = until<[TcpEvent]>(
    sock,
    'tcp',
    (ev) => ev.type === 'window-probe' && ev.probe >= 3 && ev.intervalMs === RTO_MAX_MS,
  );
  const reopen = until<[TcpEvent]>(sock, 'tcp', (ev) => ev.type === 'window-reopen');

  const payload = bytes(512 * 1024, 11);
  let sawFalse = false;
  const writer = (async () => {
    const CHUNK = 8 * 1024;
    for (let off = 0; off < payload.length; off += CHUNK) {
      if (!sock.write(payload.subarray(off, off + CHUNK))) {
        sawFalse = true;
        await once(sock, 'drain');
      }
    }
    sock.end();
  })();

  // The reader pauses at once: its stream, then its receive buffer fill up.
  const s = await within(accepted, 'accept');
  s.pause();
  const got: TcpEvent[] = [];
  s.on('tcp', (ev: TcpEvent) => got.push(ev));
  const update = until<[TcpEvent]>(s, 'tcp', (ev) => ev.type === 'window-update');

  await within(zero, "'zero-window' at the writer");
  t.true(sawFalse, 'write() returned false');
  t.is(sock.info()!.sndWnd, 0, 'the writer sees a zero window');
  t.is(s.info()!.rcvWnd, 0, 'the reader advertises a zero window');
  await within(capped, 'probes backing off to the cap', 20_000);
  const probes = sent.filter((ev): ev is TcpWindowProbeEvent => ev.type === 'window-probe');
  t.true(probes.length >= 3, `${probes.length} probes`);
  t.deepEqual(
    probes.map((ev) => ev.probe),
    probes.map((_, i) => i + 1),
    'numbered 1, 2, 3, ...',
  );
  const intervals = probes.map((ev) => ev.intervalMs);
  t.log(`probe intervals (ms): ${intervals.join(', ')}`);
  for (let i = 1; i < intervals.length; i++) {
    const [prev, cur] = [intervals[i - 1]!, intervals[i]!];
    t.true(cur <= RTO_MAX_MS, `interval ${cur} within the cap`);
    if (prev < RTO_MAX_MS) t.true(cur > prev, `strictly growing below the cap: ${intervals.join(', ')}`);
    else t.is(cur, RTO_MAX_MS, `steady at the cap: ${intervals.join(', ')}`);
  }
  t.false(
    sent.some((ev) => ev.type === 'window-reopen'),
    'no reopening while the reader is paused',
  );

  // The reader resumes: a window update goes out, the writer sees the window reopen.
  const received = collect(s, 60_000);
  s.resume();
  const [up] = await within(update, "'window-update' at the reader");
  t.true(up.type === 'window-update' && up.window > 0);
  const [re] = await within(reopen, "'window-reopen' at the writer");
  t.true(re.type === 'window-reopen' && re.window > 0);
  await within(writer, 'writer finished', 60_000);
  const data = await received;
  t.is(data.length, payload.length);
  t.is(sha256(data), sha256(payload), 'no byte lost, none duplicated');
  t.true(sent.some((ev) => ev.type === 'zero-window'));
  t.true(got.some((ev) => ev.type === 'window-update'));

  // The stack-wide counters (Linux TCPWinProbe, TCPToZeroWindowAdv, TCPFromZeroWindowAdv).
  const cs = p.client.stats();
  const ss = p.server.stats();
  t.true(cs.tcpWinProbe! >= probes.length, `tcpWinProbe ${cs.tcpWinProbe}`);
  t.true(ss.tcpToZeroWindowAdv! >= 1, `tcpToZeroWindowAdv ${ss.tcpToZeroWindowAdv}`);
  t.true(ss.tcpFromZeroWindowAdv! >= 1, `tcpFromZeroWindowAdv ${ss.tcpFromZeroWindowAdv}`);
});

/**
 * Lengths of the data segments the client sends to the server's `port`, as
 * they go out; `fin` resolves once the client's FIN went out (trace events
 * come in their own batches, so wait for it before reading `lens`).
 */
function dataSegmentsTo(p: { client: NodeJS.EventEmitter }, port: number): { lens: number[]; fin: Promise<unknown> } {
  const lens: number[] = [];
  const toPort = (ev: SegmentEvent): boolean => ev.dir === 'out' && ev.dst.endsWith(`:${port}`);
  p.client.on('segment', (ev: SegmentEvent) => {
    if (toPort(ev) && ev.len > 0) lens.push(ev.len);
  });
  const fin = until<[SegmentEvent]>(p.client, 'segment', (ev) => toPort(ev) && ev.flags.includes('FIN'));
  return { lens, fin };
}

test('setCork(true) holds small writes; uncorking sends them as one segment', async (t) => {
  const p = await pair({}, { trace: true });
  t.teardown(() => p.close());
  const received = new Promise<Buffer>((resolve) =>
    p.server.createServer((s) => resolve(collect(s))).listen(92),
  );
  const sock = p.client.connect({ host: SERVER_IP, port: 92 });
  await once(sock, 'connect');
  const { lens, fin } = dataSegmentsTo(p, 92);
  sock.setCork(true);
  const parts = [bytes(100, 1), bytes(100, 2), bytes(100, 3)];
  sock.write(parts[0]!);
  sock.write(parts[1]!);
  // Once the stack holds all three, uncork.
  sock.write(parts[2]!, () => sock.setCork(false));
  sock.end();
  const data = await within(received, 'all data');
  t.is(sha256(data), sha256(parts));
  await within(fin, 'our FIN traced');
  // Without the cork the first 100 bytes would leave alone (nothing in
  // flight) and Nagle would hold the other 200.
  t.is(lens[0], 300, `data segments: ${lens.join(', ')}`);
});

test("node's stream cork()/uncork() still batch writes into one", async (t) => {
  const p = await pair({}, { trace: true });
  t.teardown(() => p.close());
  const received = new Promise<Buffer>((resolve) =>
    p.server.createServer((s) => resolve(collect(s))).listen(93),
  );
  const sock = p.client.connect({ host: SERVER_IP, port: 93 });
  await once(sock, 'connect');
  const { lens, fin } = dataSegmentsTo(p, 93);
  const parts = [bytes(100, 4), bytes(100, 5), bytes(100, 6)];
  sock.cork();
  for (const part of parts) sock.write(part);
  t.is(sock.writableCorked, 1);
  t.is(sock.writableLength, 300, 'held in the stream until uncork()');
  process.nextTick(() => {
    sock.uncork();
    sock.end();
  });
  const data = await within(received, 'all data');
  t.is(sha256(data), sha256(parts));
  await within(fin, 'our FIN traced');
  t.is(lens[0], 300, `one write of 300 bytes: ${lens.join(', ')}`);
});

/**
 * Sends 256 KiB from client to server and counts the server's pure ACKs
 * and the data segments it received. `tcp`: stack options; `quick`: call
 * setQuickAck(true) on the accepted socket before any data comes.
 */
async function ackCount(tcp: TcpOptions, quick: boolean): Promise<{ acks: number; dataIn: number }> {
  const p = await pair({}, { trace: true, tcp });
  try {
    let acks = 0;
    let dataIn = 0;
    p.server.on('segment', (ev: SegmentEvent) => {
      if (!ev.src.endsWith(':94') && !ev.dst.endsWith(':94')) return;
      if (ev.dir === 'in' && ev.len > 0) dataIn++;
      if (ev.dir === 'out' && ev.len === 0 && ev.flags === 'ACK') acks++;
    });
    const payload = bytes(256 * 1024, 9);
    const received = new Promise<Buffer>((resolve) =>
      p.server
        .createServer((s) => {
          if (quick) s.setQuickAck(true);
          resolve(collect(s));
          s.write('go'); // the client starts only now
        })
        .listen(94),
    );
    const sock = p.client.connect({ host: SERVER_IP, port: 94 });
    sock.once('data', () => sock.end(payload));
    const data = await within(received, 'all data');
    if (sha256(data) !== sha256(payload)) throw new Error('data corrupted');
    return { acks, dataIn };
  } finally {
    await p.close();
  }
}

test('quick ACK: every data segment is acknowledged (setQuickAck, tcp.quickAck); delayed ACKs by default', async (t) => {
  const delayed = await ackCount({}, false);
  t.log(`ACKs / data segments: delayed ${delayed.acks}/${delayed.dataIn}`);
  t.true(delayed.acks < delayed.dataIn, `delayed: ${delayed.acks} ACKs for ${delayed.dataIn} segments`);
  const perSocket = await ackCount({}, true);
  t.true(perSocket.acks >= perSocket.dataIn, `setQuickAck: ${perSocket.acks} ACKs for ${perSocket.dataIn} segments`);
  const stackWide = await ackCount({ quickAck: true }, false);
  t.true(stackWide.acks >= stackWide.dataIn, `tcp.quickAck: ${stackWide.acks} ACKs for ${stackWide.dataIn} segments`);
});
