// Congestion control from TypeScript: the stack default (CUBIC, like
// Linux), the stack option, per-socket choice on connect and createServer,
// setCongestionControl at any time, info() fields, and the typed
// recovery / rto / congestion 'tcp' events under loss.

import test from 'ava';
import type { Socket, StackTcpEvent, TcpEvent } from '../ts/index.js';
import { SERVER_IP, collect, once, pair, within } from './helpers.js';

test('CUBIC by default; per-stack, per-server and per-socket choice; switched at any time', async (t) => {
  const p = await pair({}, { tcp: { congestionControl: 'reno' } });
  t.teardown(() => p.close());
  const accepted = new Promise<Socket>((resolve) =>
    p.server.createServer({ congestionControl: 'cubic' }, resolve).listen(80),
  );
  const plain = p.client.connect({ host: SERVER_IP, port: 80 });
  await once(plain, 'connect');
  t.is(plain.info()?.congestionControl, 'reno', 'the stack option');
  const s = await within(accepted, 'accept');
  t.is(s.info()?.congestionControl, 'cubic', 'the server option');

  const chosen = p.client.connect({ host: SERVER_IP, port: 80, congestionControl: 'cubic' });
  await once(chosen, 'connect');
  const before = chosen.info()!;
  t.is(before.congestionControl, 'cubic', 'the connect option');
  chosen.setCongestionControl('reno');
  const after = chosen.info()!;
  t.is(after.congestionControl, 'reno', 'TCP_CONGESTION at any time');
  t.is(after.cwnd, before.cwnd, 'cwnd carries over');
  for (const k of ['bytesInFlight', 'sackedSegments', 'lostSegments', 'retransmittedSegments', 'totalRetransmits'] as const) {
    t.is(typeof after[k], 'number', k);
  }
  t.throws(() => chosen.setCongestionControl('vegas' as 'reno'), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => p.client.connect({ host: SERVER_IP, port: 80, congestionControl: 'bbr' as 'reno' }), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
  plain.destroy();
  chosen.destroy();
  s.destroy();

  const q = await pair();
  t.teardown(() => q.close());
  q.server.createServer(() => {}).listen(80);
  const d = q.client.connect({ host: SERVER_IP, port: 80 });
  await once(d, 'connect');
  t.is(d.info()?.congestionControl, 'cubic', 'CUBIC is the default, as on Linux');
  d.destroy();
});

test('recovery, rto and congestion events carry cwnd and ssthresh under loss', async (t) => {
  const p = await pair({ a: { loss: 0.05, seed: 9 } }, { tcp: { rtoInitialMs: 100, rtoMinMs: 20 } });
  t.teardown(() => p.close());
  const stackEvents: StackTcpEvent[] = [];
  p.client.on('tcp', (ev) => stackEvents.push(ev));
  const got = new Promise<Buffer>((resolve) => p.server.createServer((s) => collect(s, 60_000).then(resolve)).listen(80));
  const payload = Buffer.alloc(1_000_000, 0x33);
  const sock = p.client.connect({ host: SERVER_IP, port: 80 });
  const events: TcpEvent[] = [];
  sock.on('tcp', (ev) => events.push(ev));
  sock.end(payload);
  await once(sock, 'connect');
  const id = sock.connectionId;
  const data = await within(got, 'data under loss', 60_000);
  t.true(data.equals(payload));
  const congestion = events.filter((e) => e.type === 'congestion');
  t.true(congestion.length > 0, 'the losses changed cwnd');
  for (const e of congestion) {
    t.true(e.type === 'congestion' && e.cwnd > 0 && e.ssthresh > 0);
  }
  // Each recovery entry and each rto is followed at once by its congestion event.
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if ((e.type === 'recovery' && e.phase === 'enter') || e.type === 'rto') {
      const next = events[i + 1];
      t.is(next?.type, 'congestion');
      if (next?.type === 'congestion') {
        t.is(next.cwnd, e.cwnd);
        t.is(next.ssthresh, e.ssthresh);
        t.is(next.cause, e.type === 'rto' ? 'timeout' : e.mode === 'sack' ? 'sack-recovery' : 'fast-recovery');
      }
    }
  }
  const enters = events.filter((e) => e.type === 'recovery' && e.phase === 'enter');
  t.true(enters.length + events.filter((e) => e.type === 'rto').length > 0, 'some loss response');
  // The stack's 'tcp' sees the same, with the id.
  t.true(stackEvents.some((e) => e.type === 'congestion' && e.id === id));
});
