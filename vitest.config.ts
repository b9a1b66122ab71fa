import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; tests run them against the source.
    alias: [
      { find: /^pidriver$/, replacement: src('index.ts') },
      { find: /^pidriver\/testing$/, replacement: src('testing/index.ts') },
      { find: /^pidriver\/protocol$/, replacement: src('protocol/index.ts') },
      { find: /^pidriver\/bridge$/, replacement: src('bridge/index.ts') },
      { find: /^pidriver\/browser$/, replacement: src('browser/index.ts') },
    ],
  },
  test: {
    include: ['spec/**/*.spec.ts', 'examples/**/*.spec.ts'],
    // End-to-end specs spawn the real pi CLI (about 0.7 s to start each); generous bounds, no sleeps.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['spec/helpers/setup.ts'],
    // A private TMPDIR for the run; temp files a spec leaves behind fail the run (named).
    globalSetup: ['spec/helpers/globalSetup.ts'],
    // CI also writes a JSON report; .ci/summary.mjs reads it for the closing `tests: N passed, N failed, N skipped` line.
    reporters: process.env['CI'] ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-output/results.json' },
  },
});
