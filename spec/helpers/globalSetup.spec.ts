/**
 * The global setup's temp-dir check (spec/helpers/globalSetup.ts): a private TMPDIR for the run,
 * and anything a spec leaves in it fails the run, named.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import setup from './globalSetup.js';

describe('the global setup', () => {
  const exitCode = process.exitCode;
  const tmp = process.env['TMPDIR'];
  afterEach(() => {
    process.exitCode = exitCode;
    if (tmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = tmp;
  });

  it('gives the run its own TMPDIR, and removes it; tool caches are no leak', () => {
    const teardown = setup();
    const root = tmpdir();
    expect(root).not.toBe(tmp);
    mkdirSync(join(root, 'tsx-0'));
    mkdirSync(join(root, 'jiti'));
    teardown();
    expect(existsSync(root)).toBe(false);
    expect(process.env['TMPDIR']).toBe(tmp);
    expect(process.exitCode).toBe(exitCode);
  });

  it('fails the run (exit code 1), naming what a spec left behind', () => {
    const teardown = setup();
    const root = tmpdir();
    const left = mkdtempSync(join(root, 'pidriver-rel-'));
    expect(teardown).toThrow(`the specs left 1 entry in the temporary directory (removed now): ${left.slice(root.length + 1)}.`);
    expect(process.exitCode).toBe(1);
    expect(existsSync(root)).toBe(false);
  });
});
