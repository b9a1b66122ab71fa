/**
 * `.ci/run`'s closing line (`.ci/summary.mjs`): skips are counted and shown, and a test CI relies
 * on that did not run fails CI instead of passing as green.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { summarize as summarizeReport } from '../../.ci/summary.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const test = (title: string, status: string) => ({ title, fullName: `suite ${title}`, status });
const file = (name: string, tests: object[], status = 'passed', message = '') => ({ name: join(root, name), status, message, assertionResults: tests });
const report = (files: object[], success = true) => ({ success, testResults: files });

describe('.ci/summary.mjs', () => {
  it('counts passed, failed and opt-in skipped tests', () => {
    const summary = summarizeReport(
      report(
        [
          file('spec/a.spec.ts', [test('one', 'passed'), test('two', 'passed'), test('three', 'failed')]),
          file('spec/dialects/omp.e2e.spec.ts', [test('omp e2e skipped', 'skipped')]),
          file('spec/dialects/pi1.e2e.spec.ts', [test('pi 1.x e2e skipped', 'skipped')]),
        ],
        false,
      ),
      1,
      { root },
    );
    expect(summary).toEqual({ passed: 2, failed: 1, skipped: 2, notes: [] });
  });

  it('fails a skipped or todo test that CI relies on, naming it', () => {
    const summary = summarizeReport(
      report([
        file('spec/browser/web-example.e2e.spec.ts', [test('in Chromium', 'skipped')]),
        file('spec/b.spec.ts', [test('later', 'todo'), test('ok', 'passed')]),
      ]),
      0,
      { root },
    );
    expect(summary).toMatchObject({ passed: 1, failed: 2, skipped: 0 });
    expect(summary.notes).toEqual([
      'did not run (skipped), but CI relies on it: spec/browser/web-example.e2e.spec.ts > suite in Chromium',
      'did not run (todo), but CI relies on it: spec/b.spec.ts > suite later',
    ]);
  });

  it('counts a failure outside any test, a failed run and a missing report as one failure each', () => {
    const broken = summarizeReport(report([file('spec/c.spec.ts', [], 'failed', 'SyntaxError: oops\n at …')], false), 1, { root });
    expect(broken).toMatchObject({ passed: 0, failed: 1, notes: ['failed outside any test: spec/c.spec.ts: SyntaxError: oops'] });
    // All tests passed, but vitest exited 1 (e.g. the global setup found temp files left behind).
    expect(summarizeReport(report([file('spec/d.spec.ts', [test('ok', 'passed')])]), 1, { root })).toMatchObject({ passed: 1, failed: 1 });
    expect(summarizeReport(undefined, 0, { root })).toMatchObject({ passed: 0, failed: 1, notes: ['no test report: the tests did not run'] });
  });

  describe('as a script', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['.ci/summary.mjs', ...args], { cwd: root }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );

    it('ends with `tests: N passed, N failed, N skipped` and exits 1 on any failure', async () => {
      dir = mkdtempSync(join(tmpdir(), 'pidriver-summary-'));
      const green = join(dir, 'green.json');
      writeFileSync(
        green,
        JSON.stringify(report([file('spec/a.spec.ts', [test('ok', 'passed')]), file('spec/dialects/pi1.e2e.spec.ts', [test('s', 'skipped')])])),
      );
      expect(await run(green, '0')).toEqual({ code: 0, stdout: 'tests: 1 passed, 0 failed, 1 skipped\n' });
      const skippedBrowser = join(dir, 'skipped.json');
      writeFileSync(skippedBrowser, JSON.stringify(report([file('spec/browser/web-example.e2e.spec.ts', [test('in Chromium', 'skipped')])])));
      const red = await run(skippedBrowser, '0');
      expect(red.code).toBe(1);
      expect(red.stdout.trim().split('\n').at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
      expect(await run(join(dir, 'missing.json'), '1')).toEqual({
        code: 1,
        stdout: 'no test report: the tests did not run\ntests: 0 passed, 1 failed, 0 skipped\n',
      });
    });
  });
});
