import { defineConfig, type Options } from 'tsup';

// Declarations without the members tagged `@internal` (pidriver's own wiring, such as
// `PiSession.start`): they stay callable inside the package but are not part of the typed API.
const dts = { compilerOptions: { stripInternal: true } } satisfies Options['dts'];

// The Node entry points, built once as ESM and once as CommonJS.
const node = {
  entry: {
    index: 'src/index.ts',
    protocol: 'src/protocol/index.ts',
    testing: 'src/testing/index.ts',
    bridge: 'src/bridge/index.ts',
  },
  dts,
  sourcemap: true,
  // Not `clean`: the configs build in parallel, so cleaning in one could delete another's
  // output. `npm run build` empties dist/ before tsup runs.
  clean: false,
  // Keep class names (`UsageTotals.name`, error names in stack traces) as written.
  keepNames: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  splitting: true,
  treeshake: true,
} satisfies Options;

export default defineConfig([
  { ...node, format: ['esm'], external: ['rxjs', 'zod', 'execa'] },
  {
    ...node,
    format: ['cjs'],
    // execa is ESM-only, and `require()` of ESM needs Node >= 20.19 while `engines` says >= 20.6:
    // the CommonJS build carries its own copy of execa (and of its dependencies).
    // .ci/require-lowest-node.mjs proves `require('pidriver')` on the lowest Node allowed.
    external: ['rxjs', 'zod'],
    noExternal: ['execa'],
  },
  {
    // pidriver/browser: no Node built-ins (lint-enforced, and spec/browser/bundle.spec.ts checks the output).
    entry: { browser: 'src/browser/index.ts' },
    format: ['esm', 'cjs'],
    dts,
    sourcemap: true,
    clean: false,
    keepNames: true,
    target: 'es2022',
    platform: 'browser',
    splitting: false,
    treeshake: true,
    external: ['rxjs', 'zod'],
  },
  {
    // The pi approval extension: loaded by pi itself with `-e dist/extension/approval.js`.
    entry: { 'extension/approval': 'src/extension/approval.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    target: 'node20',
    platform: 'node',
  },
  {
    // The watchdog (src/transport/watchdog.ts): a plain script run as `node dist/transport/watchdog.js`.
    entry: { 'transport/watchdog': 'src/transport/watchdog.mjs' },
    format: ['esm'],
    dts: false,
    clean: false,
    target: 'node20',
    platform: 'node',
  },
]);
