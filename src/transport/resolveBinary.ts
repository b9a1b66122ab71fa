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
export async function resolveBinary(
  binary: string,
  options: { cwd?: string; pathEnv?: string | undefined; runtime?: string | undefined } = {},
): Promise<ResolvedBinary> {
  const path = await findExecutable(binary, options);
  const target = await realpath(path).catch(() => path);
  const interpreter = await shebangInterpreter(target);
  // A runtime installed beside the binary (`npm install bun @oh-my-pi/pi-coding-agent` puts
  // both in one node_modules/.bin) is found first, then node_modules/.bin upwards, then PATH.
  const besideBinary = { ...options, firstDirs: [dirname(path)] };
  if (options.runtime !== undefined) {
    // An explicit runtime runs the script (omp under a Bun that isn't on PATH, pi 1.x under Bun).
    return { file: await findExecutable(options.runtime, besideBinary), prefixArgs: [target], resolvedPath: target };
  }
  if (interpreter === 'node' || (/\.(?:c|m)?js$/.test(target) && interpreter === undefined)) {
    return { file: process.execPath, prefixArgs: [target], resolvedPath: target };
  }
  if (interpreter === 'bun') {
    const bun = await findExecutable('bun', besideBinary).catch((error: unknown) => {
      throw new PiNotFoundError('bun', {
        searched: error instanceof PiNotFoundError ? error.searched : [],
        hint: `${target} is a Bun script (omp needs Bun >= 1.3): install bun (npm install bun) or set PiConfig.runtime.`,
      });
    });
    return { file: bun, prefixArgs: [target], resolvedPath: target };
  }
  return { file: path, prefixArgs: [], resolvedPath: target };
}

/** An absolute path, or the first match in node_modules/.bin upwards, then on PATH. */
async function findExecutable(name: string, options: { cwd?: string; pathEnv?: string | undefined; firstDirs?: readonly string[] }): Promise<string> {
  const searched: string[] = [];
  const candidates = isAbsolute(name)
    ? [name]
    : [...(options.firstDirs ?? []), ...binDirsUpwards(options.cwd ?? process.cwd()), ...pathDirs(options.pathEnv)].map((dir) => join(dir, name));
  for (const candidate of candidates) {
    searched.push(candidate);
    if (await isExecutable(candidate)) return candidate;
  }
  throw new PiNotFoundError(name, { searched: isAbsolute(name) ? [] : uniqueDirs(searched) });
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

/** `node` or `bun` from a `#!/usr/bin/env node`-style first line, if any. */
async function shebangInterpreter(path: string): Promise<'node' | 'bun' | 'other' | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(128), 0, 128, 0);
      const firstLine = buffer.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0] ?? '';
      if (!firstLine.startsWith('#!')) return undefined;
      if (/\bnode\b/.test(firstLine)) return 'node';
      if (/\bbun\b/.test(firstLine)) return 'bun';
      return 'other';
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
