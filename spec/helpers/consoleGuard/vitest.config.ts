// Runs consoleGuard.fixture.ts under the suite's own setup file, for spec/helpers/setup.spec.ts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['consoleGuard.fixture.ts'],
    setupFiles: [fileURLToPath(new URL('../setup.ts', import.meta.url))],
    pool: 'forks',
    reporters: ['json'],
  },
});
