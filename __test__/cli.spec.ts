// The command line: argument handling and the demo, run in-process.

import test from 'ava';
import { main } from '../ts/cli/main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

test('--help for the tool and for each command', async (t) => {
  for (const argv of [['--help'], ['demo', '--help'], ['serve', '--help'], ['help', 'serve']]) {
    const c = capture();
    t.is(await main(argv, c.io), 0, argv.join(' '));
    t.regex(c.out.join('\n'), /^Usage: tunstack/);
  }
});

test('bad arguments exit 2 with a message and the usage', async (t) => {
  for (const argv of [
    ['frobnicate'],
    ['demo', '--bogus'],
    ['demo', '--loss', '2'],
    ['serve'],
    ['serve', '--tun', 'tun9'],
    ['serve', '--tun', 'tun9', '--address', '10.7.0.2'],
    ['serve', '--tun', 'tun9', '--address', '10.7.0.2/24'],
    ['serve', '--tun', 'tun9', '--address', '10.7.0.2/24', '--http', '0'],
    ['serve', '--tun', 'tun9', '--address', '10.7.0.2/24', '--http', '80', '--echo', '80'],
    ['serve', '--tun', 'tun9', '--address', '10.7.0.2/24', '--http', '80', '--loss', '1%', '--impair-direction', 'sideways'],
  ]) {
    const c = capture();
    t.is(await main(argv, c.io), 2, argv.join(' '));
    t.regex(c.err[0] ?? '', /^tunstack: /);
    t.true(c.err.some((l) => l.startsWith('Usage: tunstack')));
  }
});

test('demo: handshake, data, four-way close and TIME_WAIT on both sides; exit 0', async (t) => {
  const c = capture();
  const code = await main(['demo', '--msl', '100'], c.io);
  const text = c.out.join('\n');
  t.is(code, 0, c.err.join('\n'));
  for (const needle of [
    '[client] CLOSED → SYN_SENT',
    '[server] SYN_RECEIVED → ESTABLISHED',
    '[client] SYN_SENT → ESTABLISHED',
    'TIME_WAIT',
    '→ CLOSED',
    'Three-way handshake',
    'Four-way close',
    'client → server   SYN ',
    'server → client   SYN+ACK',
    'FIN',
    'OK — page fetched',
  ]) {
    t.true(text.includes(needle), `output has ${JSON.stringify(needle)}`);
  }
  // Relative numbering: the SYN is seq 0, the SYN+ACK acknowledges 1.
  t.regex(text, /client → server\s+SYN\s+seq=0\s/);
  t.regex(text, /server → client\s+SYN\+ACK\s+seq=0\s+ack=1\s/);
});

test('demo under loss: retransmissions recover, exit 0', async (t) => {
  const c = capture();
  const code = await main(['demo', '--loss', '0.3', '--seed', '7', '--msl', '100'], c.io);
  t.is(code, 0, c.err.join('\n'));
  t.regex(c.out.join('\n'), /OK — page fetched/);
});

test('demo --quiet prints only the outcome', async (t) => {
  const c = capture();
  t.is(await main(['demo', '--quiet', '--msl', '50'], c.io), 0, c.err.join('\n'));
  t.is(c.out.length, 1);
  t.regex(c.out[0]!, /^tunstack demo: OK/);
});
