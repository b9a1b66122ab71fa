#!/usr/bin/env node
/**
 * The closing line of `.ci/run`: `tests: N passed, N failed, N skipped`, from vitest's JSON report.
 *
 *     node .ci/summary.mjs <results.json> [vitest's exit status]
 *
 * A skipped test counts as failed unless its file is an opt-in one (OPTIONAL_SKIPS): CI relies on
 * every other test, so one that could not run (no Chromium, no build, no fixtures) must not pass
 * as green. A run that failed without a failed test (an error outside any test, temp files left
 * behind, a non-zero exit) counts as one failure. No report at all counts as one failure.
 * Exits 1 when anything failed, else 0.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Opt-in specs that skip unless their PIDRIVER_E2E_* variable is set (they install other pis). */
export const OPTIONAL_SKIPS = ['spec/dialects/omp.e2e.spec.ts', 'spec/dialects/pi1.e2e.spec.ts', 'spec/dialects/pi1.mcp.e2e.spec.ts'];

/**
 * Counts a vitest JSON report.
 *
 * @param {unknown} report The parsed report, or undefined when there is none.
 * @param {number} exitStatus vitest's exit status.
 * @param {{ root?: string, optional?: readonly string[] }} [options] Where relative file names start; the opt-in files.
 * @return {{ passed: number, failed: number, skipped: number, notes: string[] }}
 */
export function summarize(report, exitStatus, options = {}) {
  const { root = process.cwd(), optional = OPTIONAL_SKIPS } = options;
  if (!report || typeof report !== 'object' || !Array.isArray(report.testResults)) {
    return { passed: 0, failed: 1, skipped: 0, notes: ['no test report: the tests did not run'] };
  }
  const notes = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of report.testResults) {
    const name = relative(root, String(file.name ?? ''))
      .split('\\')
      .join('/');
    const tests = Array.isArray(file.assertionResults) ? file.assertionResults : [];
    if (file.status === 'failed' && !tests.some((test) => test.status === 'failed')) {
      failed++;
      notes.push(`failed outside any test: ${name}${file.message ? `: ${String(file.message).split('\n')[0]}` : ''}`);
    }
    for (const test of tests) {
      if (test.status === 'passed') passed++;
      else if (test.status === 'failed') failed++;
      else if (optional.includes(name)) skipped++;
      else {
        failed++;
        notes.push(`did not run (${test.status}), but CI relies on it: ${name} > ${test.fullName ?? test.title}`);
      }
    }
  }
  if (failed === 0 && (report.success === false || exitStatus !== 0)) {
    failed = 1;
    notes.push(`the test run failed (exit status ${exitStatus}) without a failed test: see its output above`);
  }
  return { passed, failed, skipped, notes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const [path = 'test-output/results.json', status = '0'] = process.argv.slice(2);
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    report = undefined;
  }
  const { passed, failed, skipped, notes } = summarize(report, Number(status));
  for (const note of notes) console.log(note);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = failed > 0 ? 1 : 0;
}
