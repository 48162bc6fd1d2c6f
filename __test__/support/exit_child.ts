/**
 * Child process of process_exit.spec.ts: opens a stack over TUN (the
 * kernel side in the namespace given), connects to the kernel's server,
 * exchanges one line, then exits the process abruptly with the
 * connection open. argv: tun name, namespace, host address, our address,
 * peer ip, peer port.
 */
import { Stack } from '../../ts/index.ts';

const [name, netns, hostAddress, address, host, port] = process.argv.slice(2) as [string, string, string, string, string, string];
const stack = await Stack.open({ tun: { name, netns, hostAddress }, address });
const sock = stack.connect({ host, port: Number(port) });
sock.on('error', (err) => {
  console.error(`socket error: ${err.message}`);
  process.exit(2);
});
sock.once('connect', () => sock.write('hello\n'));
sock.once('data', (reply: Buffer) => {
  console.log(`got ${reply.toString().trim()}`);
  // Exit with the connection open and the stack never closed.
  process.exit(0);
});
