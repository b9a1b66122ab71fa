import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      protocol: 'src/protocol/index.ts',
      testing: 'src/testing/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: true,
    treeshake: true,
    external: ['rxjs', 'zod', 'execa'],
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
]);
