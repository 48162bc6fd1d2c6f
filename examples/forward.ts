// A port forwarder between the two stacks of this process: connections to
// tunstack's 10.7.0.2:8080 (through TUN) are relayed to a host service over
// the kernel's own TCP (node:net), and the bytes flow both ways with
// backpressure on each side. The building block of tun2socks-style proxies.
//
//   TARGET=127.0.0.1:80 npx tsx examples/forward.ts     (TUN setup as in http-tun.ts)
//
// (In your own code: import { Stack } from 'tunstack'.)

import net from 'node:net';
import { pipeline } from 'node:stream';
import { Stack } from '../ts/index.js';

const [host, port] = (process.env.TARGET ?? '127.0.0.1:80').split(':');
const stack = await Stack.open({ tun: { name: process.env.TUN ?? 'tun0' }, address: '10.7.0.2/24' });

stack
  .createServer({ allowHalfOpen: true }, (inside) => {
    const outside = net.connect({ host, port: Number(port), allowHalfOpen: true });
    // pipeline() forwards end() (half-close) and tears both down on error.
    pipeline(inside, outside, inside, (err) => {
      if (err) console.error(`forward ${inside.remoteAddress}:${inside.remotePort}: ${err.message}`);
    });
  })
  .listen(8080, () => console.log(`forwarding ${stack.address}:8080 → ${host}:${port}`));

process.once('SIGINT', () => void stack.close());
