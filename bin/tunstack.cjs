#!/usr/bin/env node
'use strict';
// The `tunstack` command. The implementation is the compiled TypeScript in
// dist/cjs (build it with `npm run build`).
let cli;
try {
  cli = require('../dist/cjs/cli/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/cjs/cli/main.js')) {
    process.stderr.write('tunstack: not built yet; run `npm run build` (or `npm run build:ts`) first\n');
    process.exit(1);
  }
  throw err;
}
cli.run();
