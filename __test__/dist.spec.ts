// The published builds: dist/esm (import) and dist/cjs (require) both load
// the addon and run a connection. Needs `npm run build:ts` first.

import { createRequire } from 'node:module';
import test from 'ava';

const require = createRequire(import.meta.url);

async function roundTrip(mod: typeof import('../ts/index.js')): Promise<string> {
  const link = new mod.MemoryLink();
  const a = await mod.Stack.open({ device: link.a, address: '10.0.0.1/24' });
  const b = await mod.Stack.open({ device: link.b, address: '10.0.0.2/24' });
  try {
    a.createServer((s) => s.pipe(s)).listen(7);
    return await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const sock = b.connect({ host: '10.0.0.1', port: 7 }, () => sock.end('via dist'));
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', () => resolve(Buffer.concat(chunks).toString()));
      sock.on('error', reject);
      setTimeout(() => reject(new Error('timed out')), 20_000).unref();
    });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

test('ESM build', async (t) => {
  const mod = (await import('../dist/esm/index.js' as string)) as typeof import('../ts/index.js');
  t.is(await roundTrip(mod), 'via dist');
});

test('CommonJS build', async (t) => {
  const mod = require('../dist/cjs/index.js') as typeof import('../ts/index.js');
  t.is(await roundTrip(mod), 'via dist');
});
