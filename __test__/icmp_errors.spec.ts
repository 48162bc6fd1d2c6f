/**
 * ICMP errors from the Linux kernel through TUN (RFC 1122 §4.2.3.9): the
 * namespace this test creates forwards, with an `unreachable` route and a
 * `prohibit` route; our SYNs to those addresses draw ICMP host unreachable
 * and administratively prohibited. They are soft errors (RFC 9293
 * MUST-56): the connect keeps retrying, and when it gives up the error is
 * EHOSTUNREACH, not ETIMEDOUT — as node:net reports on Linux.
 * Skipped unless root with /dev/net/tun.
 */
import test from 'ava';
import { Stack, type TcpEvent } from '../ts/index.ts';
import { errorOf } from './helpers.ts';
import { canUseTun, Netns } from './support/netns.ts';

const tunTest = canUseTun() ? test.serial : test.skip;

tunTest('ICMP host unreachable and prohibited from the kernel: connect fails with EHOSTUNREACH after its retries', async (t) => {
  const ns = Netns.create('icmp');
  let stack: Stack | undefined;
  try {
    stack = await Stack.open({
      tun: { name: `tic${process.pid % 100000}`, netns: ns.name, hostAddress: '10.7.3.1/24' },
      address: '10.7.3.2/24',
      tcp: { synRetries: 1 },
    });
    for (const args of [
      ['sysctl', '-qw', 'net.ipv4.ip_forward=1'],
      ['ip', 'route', 'add', 'unreachable', '10.7.3.77/32'],
      ['ip', 'route', 'add', 'prohibit', '10.7.3.78/32'],
    ]) {
      const r = await ns.exec(args);
      t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    // unreachable route: host unreachable (3/1); prohibit: administratively prohibited (3/13).
    for (const [host, code] of [['10.7.3.77', 1], ['10.7.3.78', 13]] as const) {
      const sock = stack.connect({ host, port: 80 });
      const events: TcpEvent[] = [];
      sock.on('tcp', (ev) => events.push(ev));
      const err = await errorOf(sock);
      t.is(err.code, 'EHOSTUNREACH', `${host}: ${err.message}`);
      t.like(err, { syscall: 'connect', address: host, port: 80 });
      const icmp = events.filter((e) => e.type === 'icmp');
      t.true(icmp.length >= 1, JSON.stringify(events));
      t.like(icmp[0], { type: 'icmp', action: 'soft', icmpType: 3, icmpCode: code, error: 'EHOSTUNREACH' });
    }
    const stats = stack.stats();
    t.true(stats.icmpInDestUnreachs! >= 2, JSON.stringify(stats));
    t.is(stats.tcpOutOfWindowIcmps, 0);
  } finally {
    await stack?.close();
    ns.remove();
  }
});
