// Finishes the CommonJS build in dist/cjs:
// - package.json {"type": "commonjs"}: the root package.json says
//   "type": "module", so without it Node would parse tsc's CommonJS output
//   as ESM;
// - the `#native` import (see ts/addon.ts): that package.json becomes the
//   package scope of dist/cjs, so it needs its own "imports" entry, pointing
//   at a one-line shim that requires the root loader (imports targets must
//   stay inside their package scope).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'cjs');
mkdirSync(dir, { recursive: true });
const pkg = { type: 'commonjs', imports: { '#native': './native-loader.cjs' } };
writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  join(dir, 'native-loader.cjs'),
  "'use strict';\n// The napi-rs loader at the package root (see scripts/cjs-package.mjs).\nmodule.exports = require('../../index.cjs');\n",
);
