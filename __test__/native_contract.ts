// Compile-time check (`npm run typecheck:contract`, after a native build):
// the addon's generated types must satisfy the contract in ts/native.ts,
// the only view of the addon the TypeScript layer uses.

import type { NativeBinding } from '../ts/native.js';
import * as addon from '../index.cjs';

export const binding: NativeBinding = addon;
