// `impair.direction` on Stack.open: the stack's own impairment layer on the
// packets it receives (default), sends, or both.

import test from 'ava';
import { MemoryLink, Stack } from '../ts/index.js';
import { CLIENT_IP, SERVER_IP, bytes, collect, once, sha256 } from './helpers.js';

test('an unknown direction is refused before the device is taken', async (t) => {
  const link = new MemoryLink();
  const bad = { loss: 0.1, direction: 'sideways' } as unknown as { direction: 'both' };
  const err = await t.throwsAsync(Stack.open({ device: link.a, address: `${SERVER_IP}/24`, impair: bad }));
  t.is((err as NodeJS.ErrnoException).code, 'ERR_INVALID_ARG_VALUE');
  const stack = await Stack.open({ device: link.a, address: `${SERVER_IP}/24` });
  await stack.close();
});

test("direction 'send' loses what the stack sends: its data is retransmitted, and arrives intact", async (t) => {
  const link = new MemoryLink();
  // Only the server's outgoing packets are impaired; the link itself is clean.
  const server = await Stack.open({
    device: link.a,
    address: `${SERVER_IP}/24`,
    impair: { loss: 0.1, direction: 'send', seed: 5 },
  });
  const client = await Stack.open({ device: link.b, address: `${CLIENT_IP}/24` });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  const payload = bytes(1 << 20, 9);
  const srv = server.createServer((s) => s.end(payload));
  srv.listen({ port: 9 });
  await once(srv, 'listening');
  const got = await collect(client.connect({ host: SERVER_IP, port: 9 }));
  t.is(sha256(got), sha256(payload));
  t.true((server.stats()['tcpRetransSegs'] ?? 0) > 0, 'the server had to resend its lost data');
  // About a tenth of what the server wrote never reached the client (a
  // packet or two may still be in flight; a hundred cannot).
  const sent = server.stats()['deviceTxPackets'] ?? 0;
  const arrived = client.stats()['deviceRxPackets'] ?? 0;
  t.true(sent - arrived > 20, `server sent ${sent}, client received ${arrived}`);
});
