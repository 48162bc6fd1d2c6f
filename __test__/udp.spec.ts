// UDP datagrams with node:dgram's interface.

import test from 'ava';
import type { RemoteInfo } from '../ts/index.js';
import { CLIENT_IP, SERVER_IP, once, pair, within } from './helpers.js';

test('UDP echo: datagrams keep their boundaries; rinfo names the sender', async (t) => {
  const p = await pair();
  t.teardown(() => p.close());
  const echo = p.server.createSocket('udp4', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
  echo.bind(7);
  await once(echo, 'listening');
  t.deepEqual(echo.address(), { address: '0.0.0.0', family: 'IPv4', port: 7 });

  const client = p.client.createSocket({ type: 'udp4' });
  const got: Array<[string, RemoteInfo]> = [];
  const three = new Promise<void>((resolve) =>
    client.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      got.push([msg.toString(), rinfo]);
      if (got.length === 3) resolve();
    }),
  );
  let sent = -1;
  client.send('one', 7, SERVER_IP, (err, n) => {
    t.is(err, null);
    sent = n;
  });
  client.send(Buffer.from('two two'), 7, SERVER_IP);
  client.send(['thr', 'ee'], 7, SERVER_IP);
  await within(three, 'three echoes');
  t.is(sent, 3);
  t.deepEqual(got.map(([m]) => m).sort(), ['one', 'thr' + 'ee', 'two two'].sort());
  for (const [m, r] of got) {
    t.is(r.address, SERVER_IP);
    t.is(r.port, 7);
    t.is(r.size, Buffer.byteLength(m));
  }
  // The client was bound implicitly, to an ephemeral port of its own address.
  const local = client.address();
  t.true(local.port > 0);
  const row = p.client.netstat().find((e) => e.proto === 'udp' && e.localPort === local.port);
  t.truthy(row);
  t.true([CLIENT_IP, '0.0.0.0'].includes(row!.localAddress));
  const closed = once(client, 'close');
  client.close();
  await closed;
  t.falsy(p.client.netstat().find((e) => e.proto === 'udp' && e.localPort === local.port));
});
