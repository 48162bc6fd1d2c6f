// An echo server and a client on two stacks joined by an in-memory link,
// with 5% loss: the bytes still arrive intact, and the client prints what
// TCP did to get them there. No privileges needed.
//
//   npx tsx examples/echo-memory.ts
//
// (In your own code: import { MemoryLink, Stack } from 'tunstack'.)

import { createHash } from 'node:crypto';
import { MemoryLink, Stack, formatNetstat } from '../ts/index.js';

const link = new MemoryLink({ loss: 0.05, delayMs: 2, seed: 42 });
const server = await Stack.open({ device: link.a, address: '10.0.0.1/24' });
const client = await Stack.open({ device: link.b, address: '10.0.0.2/24' });

server.createServer((socket) => socket.pipe(socket)).listen(7);

const payload = Buffer.alloc(1 << 20, 'tunstack ');
const sock = client.connect({ host: '10.0.0.1', port: 7 }, () => sock.end(payload));
sock.on('tcp', (ev) => {
  if (ev.type === 'retransmit') {
    console.log(ev.reason === 'fast' ? `fast retransmit seq=${ev.seq} (three duplicate ACKs)` : `timeout: retransmit seq=${ev.seq}, attempt ${ev.attempt}, next RTO ${ev.rtoMs} ms`);
  }
});
const hash = createHash('sha256');
let received = 0;
sock.on('data', (chunk: Buffer) => {
  hash.update(chunk);
  received += chunk.length;
  if (received === payload.length) {
    console.log(formatNetstat(client.netstat()));
    const info = sock.info();
    if (info) console.log(`srtt ${info.rttMs} ms, rto ${info.rtoMs} ms, cwnd ${info.cwnd}, retransmits ${info.retransmits}`);
  }
});
sock.on('end', async () => {
  const same = hash.digest('hex') === createHash('sha256').update(payload).digest('hex');
  console.log(`echoed ${received} bytes, ${same ? 'identical' : 'DIFFERENT'}`);
  await Promise.all([server.close(), client.close()]);
});
