import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { PiConfig } from '../config/PiConfig.js';
import type { Dialect } from '../protocol/dialects.js';
import { versionAtLeast } from '../protocol/dialects.js';
import { resolveBinary } from './resolveBinary.js';

/** Which pi a binary is: its wire dialect and, when it could be read, its version. */
export interface DetectedPi {
  readonly dialect: Dialect;
  readonly version: string | undefined;
  /** How it was found out. */
  readonly source: 'config' | 'package.json' | '--version' | 'name';
}

/** Detections so far, by launcher + binary + runtime (+ the cwd names resolve from). */
const cache = new Map<string, Promise<DetectedPi>>();

const PACKAGES: Readonly<Record<string, (version: string) => Dialect>> = {
  '@mariozechner/pi-coding-agent': (version) => (versionAtLeast(version, '0.74.0') ? 'pi-1' : 'pi-0.73'),
  '@earendil-works/pi-coding-agent': () => 'pi-1',
  '@oh-my-pi/pi-coding-agent': () => 'omp',
};

/**
 * Which dialect a configured binary speaks, detected once per binary and cached.
 * `config.dialect` wins. Otherwise the `package.json` next to the resolved binary tells (no
 * process needed); failing that, `<binary> --version` (pi 0.73 prints it to *stderr* when stdin
 * is not a TTY; omp prints `omp/<version>`), run through the launcher if there is one.
 *
 * @see {@link detectPi} for the version too.
 */
export async function detectDialect(config: PiConfig, options: { readonly cwd?: string } = {}): Promise<Dialect> {
  return (await detectPi(config, options)).dialect;
}

/**
 * {@link detectDialect} with the version (`package.json` or `--version`) and how it was found.
 * With `config.dialect` set, the version is still read from `package.json` when that is cheap
 * (a local binary), since some capabilities depend on it (omp 18.2 vs 18.3).
 */
export function detectPi(config: PiConfig, options: { readonly cwd?: string } = {}): Promise<DetectedPi> {
  const key = JSON.stringify([config.launcher ?? [], config.binary, config.runtime ?? '', config.dialect ?? '', options.cwd ?? process.cwd()]);
  let detected = cache.get(key);
  if (!detected) {
    detected = detect(config, options.cwd);
    cache.set(key, detected);
    detected.catch(() => cache.delete(key));
  }
  return detected;
}

async function detect(config: PiConfig, cwd: string | undefined): Promise<DetectedPi> {
  const pinned = config.dialect;
  if (!config.launcher) {
    const resolved = await resolveBinary(config.binary, { cwd: cwd ?? process.cwd(), pathEnv: config.toEnv()['PATH'] }).catch((error: unknown) => {
      if (pinned) return undefined; // the transport reports a missing binary when it spawns
      throw error;
    });
    const fromPackage = resolved ? await piFromPackageJson(resolved.resolvedPath) : undefined;
    if (fromPackage && (!pinned || fromPackage.dialect === pinned)) return { ...fromPackage, source: pinned ? 'config' : 'package.json' };
  }
  if (pinned) return { dialect: pinned, version: undefined, source: 'config' };
  const fromVersion = await probeVersion(config).catch(() => undefined);
  if (fromVersion) return { ...fromVersion, source: '--version' };
  return { dialect: basename(config.binary) === 'omp' ? 'omp' : 'pi-0.73', version: undefined, source: 'name' };
}

/** Walks up from the binary to its package's `package.json`. */
export async function dialectFromPackageJson(binaryPath: string): Promise<Dialect | undefined> {
  return (await piFromPackageJson(binaryPath))?.dialect;
}

async function piFromPackageJson(binaryPath: string): Promise<Omit<DetectedPi, 'source'> | undefined> {
  // node_modules/.bin/pi is a symlink into the package: follow it.
  let dir = dirname(await realpath(binaryPath).catch(() => binaryPath));
  for (let depth = 0; depth < 6; depth++) {
    const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      try {
        const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
        const toDialect = typeof pkg.name === 'string' && Object.hasOwn(PACKAGES, pkg.name) ? PACKAGES[pkg.name] : undefined;
        if (toDialect && typeof pkg.version === 'string') return { dialect: toDialect(pkg.version), version: pkg.version };
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
  return piFromVersion(output)?.dialect;
}

function piFromVersion(output: string): Omit<DetectedPi, 'source'> | undefined {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (/\bomp\//i.test(output) || /oh-my-pi/i.test(output)) return { dialect: 'omp', version: match?.[0] };
  if (!match) return undefined;
  return { dialect: versionAtLeast(match[0], '0.74.0') ? 'pi-1' : 'pi-0.73', version: match[0] };
}

async function probeVersion(config: PiConfig): Promise<Omit<DetectedPi, 'source'> | undefined> {
  let file: string | undefined;
  let args: string[];
  let env: Record<string, string>;
  if (config.launcher) {
    [file, ...args] = config.toLaunchArgv({ argv: [config.binary, '--version'] });
    env = launcherEnv();
  } else {
    env = config.toEnv();
    const resolved = await resolveBinary(config.binary, { pathEnv: env['PATH'], runtime: config.runtime });
    file = resolved.file;
    args = [...resolved.prefixArgs, '--version'];
  }
  if (!file) return undefined;
  const result = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 15_000, stdin: 'ignore', all: true });
  return piFromVersion(String(result.all ?? ''));
}

/** The launcher (ssh, docker, kubectl) is the user's own tool: it runs with the parent's environment. */
export function launcherEnv(parentEnv: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) if (value !== undefined) env[name] = value;
  return env;
}
