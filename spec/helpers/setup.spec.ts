/**
 * The console guard of spec/helpers/setup.ts holds for every test of a file, not only the first:
 * a child vitest runs spec/helpers/consoleGuard/consoleGuard.fixture.ts with the suite's setup
 * file, and its JSON report must show exactly the tests with stray output as failed.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface JsonReport {
  readonly testResults: readonly {
    readonly assertionResults: readonly { readonly title: string; readonly status: string; readonly failureMessages: readonly string[] }[];
  }[];
}

it('fails every test with stray console output, in any position in its file', async () => {
  // A fresh vitest, not a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS' && name !== 'CI'));
  const run = await promisify(execFile)(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'spec/helpers/consoleGuard/vitest.config.ts'], {
    cwd: root,
    env,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => error); // vitest exits 1: some tests fail on purpose
  const stdout = run.stdout ?? '';
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as JsonReport;
  const results = report.testResults.flatMap((file) => file.assertionResults);
  expect(results.map((test) => [test.title, test.status])).toEqual([
    ['1 prints nothing', 'passed'],
    ['2 warns', 'failed'],
    ['3 logs an error that the code under test swallows', 'failed'],
    ['4 stubs console.warn locally and warns', 'passed'],
    ['5 warns after a test that stubbed console.warn', 'failed'],
  ]);
  expect(results[1]?.failureMessages.join('\n')).toContain('unexpected console.warn: second test');
  expect(results[2]?.failureMessages.join('\n')).toContain('unexpected console.error: swallowed');
  expect(results[4]?.failureMessages.join('\n')).toContain('unexpected console.warn: fifth test');
});
