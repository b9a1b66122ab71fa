import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Dialect, PiConfig } from '../config/PiConfig.js';
import { resolveBinary } from './resolveBinary.js';

/** Dialects found so far, by resolved binary path (or launcher + binary). */
const cache = new Map<string, Promise<Dialect>>();

const PACKAGES: Readonly<Record<string, (version: string) => Dialect>> = {
  '@mariozechner/pi-coding-agent': (version) => (isBefore(version, [0, 74]) ? 'pi-0.73' : 'pi-1'),
  '@earendil-works/pi-coding-agent': () => 'pi-1',
  '@oh-my-pi/pi-coding-agent': () => 'omp',
};

/**
 * Which dialect a configured binary speaks, detected once per binary and cached.
 * `config.dialect` wins. Otherwise the `package.json` next to the resolved binary tells (no
 * process needed); failing that, `<binary> --version` (pi 0.73 prints it to *stderr* when stdin
 * is not a TTY, G26; omp prints `omp/<version>`), run through the launcher if there is one.
 */
export function detectDialect(config: PiConfig): Promise<Dialect> {
  if (config.dialect) return Promise.resolve(config.dialect);
  const key = JSON.stringify([config.launcher ?? [], config.binary, config.runtime ?? '']);
  let detected = cache.get(key);
  if (!detected) {
    detected = detect(config);
    cache.set(key, detected);
    detected.catch(() => cache.delete(key));
  }
  return detected;
}

async function detect(config: PiConfig): Promise<Dialect> {
  if (!config.launcher) {
    const resolved = await resolveBinary(config.binary, { pathEnv: config.toEnv()['PATH'] });
    const fromPackage = await dialectFromPackageJson(resolved.resolvedPath);
    if (fromPackage) return fromPackage;
  }
  const fromVersion = await probeVersion(config).catch(() => undefined);
  return fromVersion ?? (basename(config.binary) === 'omp' ? 'omp' : 'pi-0.73');
}

/** Walks up from the binary to its package's `package.json`. */
export async function dialectFromPackageJson(binaryPath: string): Promise<Dialect | undefined> {
  let dir = dirname(binaryPath);
  for (let depth = 0; depth < 6; depth++) {
    const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      try {
        const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
        const toDialect = typeof pkg.name === 'string' ? PACKAGES[pkg.name] : undefined;
        if (toDialect && typeof pkg.version === 'string') return toDialect(pkg.version);
      } catch {
        // not JSON: keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Reads a dialect from `--version` output (stdout and stderr together). */
export function dialectFromVersion(output: string): Dialect | undefined {
  if (/\bomp\//i.test(output) || /oh-my-pi/i.test(output)) return 'omp';
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) return undefined;
  return isBefore(match[0], [0, 74]) ? 'pi-0.73' : 'pi-1';
}

async function probeVersion(config: PiConfig): Promise<Dialect | undefined> {
  const env = config.toEnv();
  const [file, ...args] = config.launcher
    ? [...config.launcher, 'env', '-i', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), config.binary, '--version']
    : [config.binary, '--version'];
  if (!file) return undefined;
  const result = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 15_000, stdin: 'ignore', all: true });
  return dialectFromVersion(String(result.all ?? ''));
}

function isBefore(version: string, [major, minor]: readonly [number, number]): boolean {
  const [a = 0, b = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return a < major || (a === major && b < minor);
}
