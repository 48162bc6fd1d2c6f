// The opt-in 'tcp' events: every state of the handshake and of the
// four-way close, on both sides, TIME_WAIT included.

import test from 'ava';
import type { Socket, StackTcpEvent, TcpEvent, TcpState } from '../ts/index.js';
import { SERVER_IP, collect, once, pair, until, within } from './helpers.js';

function transitions(events: readonly (TcpEvent | StackTcpEvent)[]): string[] {
  return events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? `${e.from}>${e.to}` : ''));
}

/** Each transition starts where the previous one ended. */
function chained(events: readonly string[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i]!.split('>')[0] !== events[i - 1]!.split('>')[1]) return false;
  return true;
}

test('state events: handshake, four-way close and TIME_WAIT → CLOSED on both sides', async (t) => {
  const p = await pair({}, { tcp: { mslMs: 50 } });
  t.teardown(() => p.close());
  const serverEvents: StackTcpEvent[] = [];
  const clientEvents: StackTcpEvent[] = [];
  p.server.on('tcp', (ev) => serverEvents.push(ev));
  p.client.on('tcp', (ev) => clientEvents.push(ev));

  const accepted = new Promise<Socket>((resolve) => p.server.createServer({ allowHalfOpen: true }, resolve).listen(80));
  const sock = p.client.connect({ host: SERVER_IP, port: 80 });
  const socketEvents: TcpEvent[] = [];
  sock.on('tcp', (ev) => socketEvents.push(ev));
  await once(sock, 'connect');
  const s = await within(accepted, 'accept');
  const cid = sock.connectionId!;
  const sid = s.connectionId!;

  // Active close by the client. The server ends its side only after the
  // client reached FIN_WAIT_2, so the close takes all four segments.
  const clientClosedNatively = until<[StackTcpEvent]>(p.client, 'tcp', (ev) => ev.id === cid && ev.type === 'state' && ev.to === 'CLOSED');
  const serverClosedNatively = until<[StackTcpEvent]>(p.server, 'tcp', (ev) => ev.id === sid && ev.type === 'state' && ev.to === 'CLOSED');
  const finWait2 = until<[StackTcpEvent]>(p.client, 'tcp', (ev) => ev.id === cid && ev.type === 'state' && ev.to === 'FIN_WAIT_2');
  s.resume();
  sock.end();
  await within(finWait2, 'client FIN_WAIT_2');
  s.end();
  await collect(sock);
  await within(clientClosedNatively, 'client TIME_WAIT → CLOSED');
  await within(serverClosedNatively, 'server LAST_ACK → CLOSED');

  const client = transitions(clientEvents.filter((e) => e.id === cid));
  const server = transitions(serverEvents.filter((e) => e.id === sid));
  t.deepEqual(client, [
    'CLOSED>SYN_SENT',
    'SYN_SENT>ESTABLISHED',
    'ESTABLISHED>FIN_WAIT_1',
    'FIN_WAIT_1>FIN_WAIT_2',
    'FIN_WAIT_2>TIME_WAIT',
    'TIME_WAIT>CLOSED',
  ]);
  t.true(chained(server));
  t.deepEqual(
    server.map((x) => x.split('>')[1] as TcpState),
    ['SYN_RECEIVED', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'],
  );
  // The socket's own 'tcp' events match the stack's for that connection
  // (the socket subscribed after connect() returned, before any event).
  t.deepEqual(transitions(socketEvents), client);
});

test('retransmit events under loss, and the transfer still completes', async (t) => {
  // Side a (server) loses 20% of what it receives: the client's segments
  // time out and are retransmitted, with exponential backoff.
  const p = await pair({ a: { loss: 0.2, seed: 5 } }, { tcp: { rtoInitialMs: 100, rtoMinMs: 20 } });
  t.teardown(() => p.close());
  const retransmits: StackTcpEvent[] = [];
  p.client.on('tcp', (ev) => ev.type === 'retransmit' && retransmits.push(ev));
  const got = new Promise<Buffer>((resolve) => p.server.createServer((s) => collect(s, 60_000).then(resolve)).listen(80));
  const payload = Buffer.alloc(200_000, 0x5a);
  const sock = p.client.connect({ host: SERVER_IP, port: 80 });
  sock.end(payload);
  const data = await within(got, 'data under loss', 60_000);
  t.is(data.length, payload.length);
  t.true(data.equals(payload));
  const timeouts = retransmits.filter((r) => r.type === 'retransmit' && r.reason === 'timeout');
  t.true(timeouts.length > 0, 'some segment was retransmitted after its timer expired');
  for (const r of timeouts) t.true(r.type === 'retransmit' && r.attempt >= 1 && r.rtoMs > 0);
  for (const r of retransmits) t.true(r.type === 'retransmit' && (r.reason === 'fast') === (r.attempt === 0));
  // Every event is a retransmitted segment (go-back-N after a timeout resends more).
  t.true(p.client.stats().tcpRetransSegs! >= retransmits.length);
});
