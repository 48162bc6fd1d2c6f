/**
 * Blind attacks from the kernel side through TUN (RFC 5961): a python3
 * client in a namespace this test creates holds a real kernel TCP
 * connection to a tunstack echo server, and a raw socket in the same
 * namespace forges segments for that 4-tuple — a RST in the window but not
 * at the expected sequence number, a SYN, data far outside the window, a
 * RST outside the window. The connection must survive all of them, answer
 * with challenge ACKs (rate-limited) instead of resetting, and keep echoing.
 * Skipped unless root with /dev/net/tun.
 */
import test from 'ava';
import { Stack, type SegmentEvent, type StackTcpEvent } from '../ts/index.ts';
import { canUseTun, Netns, waitForExit, waitForLine } from './support/netns.ts';

const tunTest = canUseTun() ? test.serial : test.skip;

// The kernel side: one real connection, then forged segments on a raw
// socket (IPPROTO_TCP: the kernel adds the IP header, we the TCP header
// with its checksum), then proof that the connection still works.
const SCRIPT = String.raw`
import socket, struct, sys

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

SRC, DST = "10.7.2.1", "10.7.2.2"
c = socket.create_connection((DST, 7), timeout=20)
c.sendall(b"one")
assert c.recv(16) == b"one"
sport = c.getsockname()[1]
print("port", sport, flush=True)
rcv_nxt, snd_nxt = (int(x) for x in sys.stdin.readline().split())

raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
def forge(flags, seq, ack=0, data=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, 7, seq % 2**32, ack % 2**32, 5 << 4, flags, 65535, 0, 0)
    pseudo = socket.inet_aton(SRC) + socket.inet_aton(DST) + struct.pack("!BBH", 0, 6, len(hdr) + len(data))
    hdr = hdr[:16] + struct.pack("!H", csum(pseudo + hdr + data)) + hdr[18:]
    raw.sendto(hdr + data, (DST, 0))

RST, SYN, PSH, ACK = 0x04, 0x02, 0x08, 0x10
forge(RST, rcv_nxt + 1000)                              # in the window, not exact
forge(SYN, 12345)                                       # SYN on an established connection
forge(PSH | ACK, rcv_nxt + 50_000_000, snd_nxt, b"evil")  # far outside the window
forge(RST, rcv_nxt - 100_000)                           # outside the window
raw.close()

c.sendall(b"two")
assert c.recv(16) == b"two"
print("alive", flush=True)
c.close()
`;

tunTest('blind RST, SYN and out-of-window data from the kernel side: challenge ACKs, and the connection survives', async (t) => {
  const ns = Netns.create('blind');
  let stack: Stack | undefined;
  const python = () => ns.spawn(['python3', '-u', '-c', SCRIPT]);
  let child: ReturnType<typeof python> | undefined;
  try {
    stack = await Stack.open({
      tun: { name: `tbl${process.pid % 100000}`, netns: ns.name, hostAddress: '10.7.2.1/24' },
      address: '10.7.2.2/24',
      trace: true,
    });
    const segments: SegmentEvent[] = [];
    const events: StackTcpEvent[] = [];
    stack.on('segment', (s) => segments.push(s));
    stack.on('tcp', (ev) => events.push(ev));
    stack.createServer((s) => s.pipe(s)).listen({ port: 7 });

    child = python();
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    const port = Number((await waitForLine(child, /^port \d+$/, 30_000)).split(' ')[1]);
    // What a blind attacker must guess, read from our own trace.
    const peer = `10.7.2.1:${port}`;
    const lastIn = segments.filter((s) => s.dir === 'in' && s.src === peer && s.len > 0).at(-1);
    const lastOut = segments.filter((s) => s.dir === 'out' && s.dst === peer && s.len > 0).at(-1);
    t.truthy(lastIn && lastOut, 'the echo exchange was traced');
    const rcvNxt = (lastIn!.seq + lastIn!.len) >>> 0;
    const sndNxt = (lastOut!.seq + lastOut!.len) >>> 0;
    const alive = waitForLine(child, /^alive$/, 30_000);
    child.stdin?.write(`${rcvNxt} ${sndNxt}\n`);
    await alive;
    t.is(await waitForExit(child, 30_000), 0, Buffer.concat(stderr).toString());

    const outcomes = events.flatMap((e) => (e.type === 'rst-received' ? [e.outcome] : []));
    t.deepEqual(outcomes, ['challenged', 'out-of-window']);
    t.true(events.some((e) => e.type === 'challenge-ack' && e.trigger === 'rst'));
    t.false(events.some((e) => e.type === 'state' && e.to === 'CLOSED' && e.from === 'ESTABLISHED'), 'never reset');
    const stats = stack.stats();
    // The SYN's challenge ACK is either sent or suppressed by the
    // per-connection rate limit, depending on how fast the forgeries came.
    t.true(stats.tcpChallengeAcks! + stats.tcpAckSkipped! >= 2, JSON.stringify(stats));
    t.is(stats.tcpEstabResets, 0);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await stack?.close();
    ns.remove();
  }
});
