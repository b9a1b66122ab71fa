/**
 * Installs the pi dialects the opt-in e2e suites run (omp 18.2.3, pi 1.x) from npm into a
 * cache directory (`.pidriver-cache/e2e/`, gitignored), with the Bun they need, once.
 *
 * Nothing here runs unless a suite is enabled (`PIDRIVER_E2E_OMP=1`, `PIDRIVER_E2E_PI1=1`).
 * A failed install is not an error: it returns a reason to skip, shown in the test report.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export type PiKind = 'omp' | 'pi1';

/** A usable install: pass `binary` (and `runtime`) to `PiConfig`. */
export interface InstalledPi {
  readonly kind: PiKind;
  readonly binary: string;
  /** The Bun installed with it (omp only runs on Bun; pi 1.x needs Node ≥ 22.19 or Bun). */
  readonly runtime: string;
  readonly packageName: string;
  readonly version: string;
  readonly dir: string;
}

/** Why a suite can't run. */
export interface SkippedPi {
  readonly skip: string;
}

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUN = 'bun@1.4.5';

const SPECS: Readonly<Record<PiKind, { packageName: string; versions: readonly string[]; bin: string; env: string }>> = {
  // 18.3.x can't be installed from this registry (its native package is missing): 18.2.3 is the newest that runs.
  omp: { packageName: '@oh-my-pi/pi-coding-agent', versions: ['18.2.3'], bin: 'omp', env: 'PIDRIVER_E2E_OMP_VERSION' },
  // 0.87.1 is the fallback the protocol reference ran when 1.5.2 was not installable.
  pi1: { packageName: '@earendil-works/pi-coding-agent', versions: ['1.5.2', '0.87.1'], bin: 'pi', env: 'PIDRIVER_E2E_PI1_VERSION' },
};

/** Is the opt-in suite for `kind` enabled? */
export function e2eEnabled(kind: PiKind): boolean {
  return process.env[kind === 'omp' ? 'PIDRIVER_E2E_OMP' : 'PIDRIVER_E2E_PI1'] === '1';
}

/**
 * Installs (or finds, from an earlier run) `kind` with Bun. Takes ~30-60 s and ~750 MB (omp)
 * the first time; later calls reuse the cache.
 */
export async function installPi(kind: PiKind): Promise<InstalledPi | SkippedPi> {
  const spec = SPECS[kind];
  const pinned = process.env[spec.env];
  const versions = pinned ? [pinned] : spec.versions;
  const failures: string[] = [];
  for (const version of versions) {
    const dir = join(process.env['PIDRIVER_E2E_CACHE'] ?? join(repo, '.pidriver-cache', 'e2e'), `${kind}-${version}`);
    const installed = await cached(kind, dir).catch(() => undefined);
    if (installed) return installed;
    const failure = await install(kind, dir, version);
    if (typeof failure !== 'string') return failure;
    failures.push(`${spec.packageName}@${version}: ${failure}`);
  }
  return { skip: `could not install ${kind} from npm (${failures.join('; ')})` };
}

async function cached(kind: PiKind, dir: string): Promise<InstalledPi | undefined> {
  const stamp = join(dir, 'pidriver-installed.json');
  if (!existsSync(stamp)) return undefined;
  const installed = JSON.parse(await readFile(stamp, 'utf8')) as InstalledPi;
  return installed.kind === kind && existsSync(installed.binary) && existsSync(installed.runtime) ? installed : undefined;
}

async function install(kind: PiKind, dir: string, version: string): Promise<InstalledPi | string> {
  const spec = SPECS[kind];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: `pidriver-e2e-${kind}`, private: true }, null, 2)}\n`);
  const npm = await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', BUN, `${spec.packageName}@${version}`], {
    cwd: dir,
    reject: false,
    timeout: 10 * 60_000,
    all: true,
  });
  if (npm.exitCode !== 0) return `npm install failed: ${tail(String(npm.all ?? ''))}`;
  const binary = join(dir, 'node_modules', '.bin', spec.bin);
  const runtime = join(dir, 'node_modules', '.bin', 'bun');
  if (!existsSync(binary)) return `no ${spec.bin} binary after install`;
  const bun = await execa(runtime, ['--version'], { reject: false, timeout: 60_000 });
  if (bun.exitCode !== 0) return `bun does not run: ${tail(`${bun.stdout}${bun.stderr}`)}`;
  const probe = await execa(runtime, [binary, '--version'], { reject: false, timeout: 60_000, stdin: 'ignore', all: true });
  if (!String(probe.all ?? '').includes(version)) return `${spec.bin} --version under bun ${bun.stdout.trim()} printed: ${tail(String(probe.all ?? ''))}`;
  const installed: InstalledPi = { kind, binary, runtime, packageName: spec.packageName, version, dir };
  await writeFile(join(dir, 'pidriver-installed.json'), `${JSON.stringify(installed, null, 2)}\n`);
  return installed;
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 400 ? `…${trimmed.slice(-400)}` : trimmed;
}
