/**
 * Vitest global setup: the whole run gets a private temporary directory (`TMPDIR`, which
 * `os.tmpdir()` reads, and which the workers and every process they start inherit). At the end,
 * anything a spec left in it fails the run, named; the directory is removed either way. So a run
 * leaves nothing in the machine's tmpdir, and a spec that forgets to clean up is caught, without
 * mistaking another run's files (a concurrent run, other tools) for ours.
 */
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Caches of tools the specs run (tsx, pi's extension loader), not files a spec made: not leaks. */
const TOOL_CACHES = /^(tsx-\d+|jiti|node-compile-cache)$/;

/** The entries of `dir` that are leaks: everything but tool caches. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !TOOL_CACHES.test(name))
    .sort();
}

export default function setup(): () => void {
  const previous = process.env['TMPDIR'];
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pidriver-vitest-')));
  process.env['TMPDIR'] = root;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    const left = leftovers(root);
    rmSync(root, { recursive: true, force: true });
    if (left.length > 0) {
      process.exitCode = 1; // vitest only logs an error thrown here ("error during close") and exits 0
      throw new Error(
        `the specs left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temporary directory (removed now): ${left.join(', ')}. Remove what a spec creates in its afterEach/afterAll.`,
      );
    }
  };
}
