// node:http, unchanged, served by tunstack through a Linux TUN device.
//
// With a persistent TUN (made once by an admin; the app then needs no privileges):
//   sudo ip tuntap add dev tun0 mode tun user $USER
//   sudo ip addr add 10.7.0.1/24 dev tun0 && sudo ip link set tun0 up
//   npx tsx examples/http-tun.ts
//   curl http://10.7.0.2:8080/
//
// (In your own code: import { Stack } from 'tunstack'.)

import http from 'node:http';
import { Stack } from '../ts/index.js';

const stack = await Stack.open({ tun: { name: process.env.TUN ?? 'tun0' }, address: '10.7.0.2/24' });

const app = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.socket.remoteAddress}:${req.socket.remotePort}, this is tunstack\n`);
});
stack.createServer((socket) => app.emit('connection', socket)).listen(8080, () => {
  console.log(`listening on ${stack.address}:8080 via ${stack.deviceName}`);
});

process.once('SIGINT', () => void stack.close());
