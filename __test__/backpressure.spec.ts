// End-to-end flow control: a reader that stops makes the TCP window close,
// the writer's write() returns false, and 'drain' follows once it reads again.

import test from 'ava';
import type { SegmentEvent, Socket } from '../ts/index.js';
import { SERVER_IP, bytes, collect, once, pair, sha256, until, within } from './helpers.js';

test('a stalled reader closes the window; write() false until drain; all bytes arrive', async (t) => {
  const BUF = 64 * 1024;
  const p = await pair({}, { trace: true, tcp: { sendBuffer: BUF, recvBuffer: BUF } });
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) => p.server.createServer(resolve).listen(90));
  // Zero windows, as the server advertises them and as the client receives them.
  const zeroOut = until<[SegmentEvent]>(p.server, 'segment', (ev) => ev.dir === 'out' && ev.src.endsWith(':90') && ev.window === 0 && !ev.flags.includes('RST'));
  const zeroIn = until<[SegmentEvent]>(p.client, 'segment', (ev) => ev.dir === 'in' && ev.src.endsWith(':90') && ev.window === 0 && !ev.flags.includes('RST'));

  const payload = bytes(2 * 1024 * 1024, 3);
  const sock = p.client.connect({ host: SERVER_IP, port: 90 });
  const errors: Error[] = [];
  sock.on('error', (err: Error) => errors.push(err));
  let sawFalse = false;
  let drains = 0;
  sock.on('drain', () => drains++);
  let server: Socket | undefined;
  const writer = (async () => {
    const CHUNK = 16 * 1024;
    for (let off = 0; off < payload.length; off += CHUNK) {
      if (!sock.write(payload.subarray(off, off + CHUNK))) {
        sawFalse = true;
        // On a stall, say where both ends stood (windows, queues, timers).
        await once(sock, 'drain').catch((err: Error) => {
          throw new Error(`${err.message} at byte ${off}; client ${JSON.stringify(sock.info())}; server ${JSON.stringify(server?.info())}`);
        });
      }
    }
    sock.end();
  })();

  // The server never reads: its stream buffer fills, then its receive buffer.
  const s = await within(accepted, 'accept');
  server = s;
  await within(zeroOut, 'server advertises a zero window');
  await within(zeroIn, 'client receives the zero window');
  t.true(sawFalse, 'write() returned false');
  t.true(sock.writableNeedDrain, 'the writer waits for drain');
  t.is(s.info()!.rcvWnd, 0, 'server advertises 0');
  t.is(sock.info()!.sndWnd, 0, 'client sees the peer window 0');
  t.true(s.info()!.recvQueue > 0, 'unread bytes wait in the receive buffer');
  const drainsBefore = drains;

  // Reading again opens the window; everything arrives, in order.
  const received = collect(s, 60_000);
  await within(writer, 'writer finished', 60_000);
  const data = await received;
  t.true(drains > drainsBefore, "'drain' after the reader resumed");
  t.is(data.length, payload.length);
  t.is(sha256(data), sha256(payload));
  t.deepEqual(errors, []);
});
