import { constants } from 'node:fs';
import { access, open, realpath } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { PiNotFoundError } from '../errors.js';

/** What to spawn for a configured binary. */
export interface ResolvedBinary {
  /** The executable to spawn (`process.execPath` for a Node script). */
  readonly file: string;
  /** Arguments that go before pi's own (the script path for a Node script). */
  readonly prefixArgs: readonly string[];
  /** The path the binary resolved to. */
  readonly resolvedPath: string;
}

/**
 * Finds the pi executable. Absolute paths are used as they are. `pi`/`omp` are looked up in
 * `node_modules/.bin` from `cwd` upwards first (like `npx`: the version the project pinned
 * wins), then on `PATH`.
 *
 * A Node script (pi's bin is `dist/cli.js` with a `#!/usr/bin/env node` shebang) is run with
 * the current `node` (`process.execPath`), so the child doesn't depend on `node` being on the
 * scrubbed `PATH`.
 */
export async function resolveBinary(binary: string, options: { cwd?: string; pathEnv?: string | undefined } = {}): Promise<ResolvedBinary> {
  const searched: string[] = [];
  const candidates = isAbsolute(binary) ? [binary] : [...binDirsUpwards(options.cwd ?? process.cwd()), ...pathDirs(options.pathEnv)].map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    searched.push(candidate);
    if (await isExecutable(candidate)) return describe(candidate);
  }
  throw new PiNotFoundError(binary, { searched: isAbsolute(binary) ? [] : uniqueDirs(searched) });
}

function* binDirsUpwards(from: string): Generator<string> {
  let dir = from;
  for (;;) {
    yield join(dir, 'node_modules', '.bin');
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function pathDirs(pathEnv: string | undefined): string[] {
  return (pathEnv ?? '').split(delimiter).filter((dir) => dir.length > 0);
}

function uniqueDirs(paths: readonly string[]): string[] {
  return [...new Set(paths.map((path) => dirname(path)))];
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function describe(path: string): Promise<ResolvedBinary> {
  const target = await realpath(path).catch(() => path);
  if (await isNodeScript(target)) return { file: process.execPath, prefixArgs: [target], resolvedPath: target };
  return { file: path, prefixArgs: [], resolvedPath: target };
}

async function isNodeScript(path: string): Promise<boolean> {
  if (/\.(?:c|m)?js$/.test(path)) return true;
  try {
    const handle = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(128), 0, 128, 0);
      const firstLine = buffer.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0] ?? '';
      return /^#!.*\bnode\b/.test(firstLine);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
