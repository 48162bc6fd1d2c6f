/**
 * Loads the native addon, once, for both the ESM and the CommonJS build.
 *
 * The addon's loader is `index.cjs` at the package root. Its location
 * relative to this file differs between `ts/` (tests run the sources),
 * `dist/esm/` and `dist/cjs/`, and neither `import.meta.url` nor
 * `__dirname` compiles in both module systems. Package imports do: the
 * private specifier `#native` is mapped to `./index.cjs` by the `imports`
 * field of package.json, and Node resolves it from any file inside the
 * package scope, whatever the module system or the directory depth. A
 * dynamic `import()` compiles to `require()` in the CommonJS build and
 * stays an `import()` in the ESM build. dist/cjs is its own package scope
 * (its package.json says "type": "commonjs"), so scripts/cjs-package.mjs
 * gives it the same `#native` entry, through a shim that requires the
 * root `index.cjs`.
 * @internal
 * @module
 */

import type { NativeBinding } from './native.js';

let loading: Promise<NativeBinding> | undefined;

/**
 * The addon's exports. Loading is deferred to the first stack so that
 * `tunstack --help` and type-only imports work without a built addon.
 * @internal
 */
export function loadAddon(): Promise<NativeBinding> {
  if (loading === undefined) {
    loading = importAddon();
    // A failed load is retried on the next call (e.g. after a build).
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

async function importAddon(): Promise<NativeBinding> {
  // A variable, not a literal: the generated loader's types are checked
  // against the contract in native.ts, not inferred from index.d.cts
  // (which does not exist before the first native build).
  const specifier = '#native';
  let mod: { default?: unknown };
  try {
    mod = (await import(specifier)) as { default?: unknown };
  } catch (cause) {
    const err = new Error(
      'tunstack: cannot load the native addon (index.cjs and tunstack.*.node at the package root); ' +
        'build it with `npm run build:native` (or `npm run build:debug`)',
      { cause },
    );
    (err as NodeJS.ErrnoException).code = 'ERR_TUNSTACK_ADDON';
    throw err;
  }
  return (mod.default ?? mod) as NativeBinding;
}
