#!/usr/bin/env node
/**
 * Proves that the package works on the lowest Node its `engines.node` allows (`>=20.6` → 20.6.0):
 * packs it (`npm pack`, as published), installs the tarball into a scratch project, and there,
 * under that Node, `require()`s every entry point (the CommonJS build), `import()`s them (the ESM
 * build), and runs one execa-backed call (`detectPi` probing a stand-in pi's `--version`).
 *
 *     npm run build && node .ci/require-lowest-node.mjs
 *
 * That Node comes from npm's `node-<platform>-<arch>` package (only its tarball: no install
 * script runs) and is cached in node_modules/.cache/pidriver-ci/. Needs the npm registry (or
 * npm's cache) on first use. Exits 1 with the reason on any failure.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

class CheckFailed extends Error {}

/** Stops the check (cleaning up on the way out) with a reason. */
function fail(message) {
  throw new CheckFailed(message);
}

/** Runs a command; on failure, fails with what it printed. */
function run(file, args, options = {}) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (error) {
    fail(`${[file, ...args].join(' ')} failed (${error.status ?? error.code}):\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

/** The lowest version a `>=X[.Y[.Z]]` range allows. */
function lowestVersion(range) {
  const match = /^\s*>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range ?? '');
  if (!match) return undefined;
  return [match[1], match[2] ?? '0', match[3] ?? '0'].join('.');
}

/** A Node binary of `version` from npm, cached under node_modules/.cache. */
function nodeOf(version) {
  const cache = join(root, 'node_modules', '.cache', 'pidriver-ci', `node-v${version}-${process.platform}-${process.arch}`);
  const binary = join(cache, 'package', 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(binary)) {
    const name = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}@${version}`;
    console.log(`::: fetching ${name} from npm into ${cache}`);
    // Unpacked next to the cache, then moved in, so an interrupted download leaves no half binary.
    const partial = `${cache}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const [packed] = JSON.parse(run(npm, ['pack', name, '--json', '--pack-destination', partial]));
    if (!packed?.filename) fail(`npm pack ${name} printed no file name`);
    run('tar', ['xzf', join(partial, packed.filename), '-C', partial]);
    rmSync(join(partial, packed.filename));
    rmSync(cache, { recursive: true, force: true });
    renameSync(partial, cache);
  }
  const shown = run(binary, ['--version']).trim();
  if (shown !== `v${version}`) fail(`${binary} is ${shown}, not v${version}: remove ${cache} and run again`);
  return binary;
}

try {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const version = lowestVersion(pkg.engines?.node);
  if (!version) fail(`cannot read the lowest Node from engines.node ${JSON.stringify(pkg.engines?.node)} (expected ">=X.Y")`);
  if (!existsSync(join(root, 'dist', 'index.cjs'))) fail('dist/ is not built: run `npm run build` first');
  const node = nodeOf(version);
  const rxjs = JSON.parse(readFileSync(join(root, 'node_modules', 'rxjs', 'package.json'), 'utf8')).version;

  const work = mkdtempSync(join(tmpdir(), 'pidriver-lowest-node-'));
  try {
    const [packed] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', work], { cwd: root }));
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'lowest-node-check', private: true }));
    run(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', `./${packed.filename}`, `rxjs@${rxjs}`], { cwd: work });

    // A stand-in pi that only answers --version (on stderr, as pi 0.73 does without a TTY).
    const fakePi = join(work, 'pi-version.mjs');
    writeFileSync(fakePi, "#!/usr/bin/env node\nprocess.stderr.write('0.73.1\\n');\n");
    chmodSync(fakePi, 0o755);
    const entries = ['pidriver', 'pidriver/protocol', 'pidriver/testing', 'pidriver/bridge', 'pidriver/browser'];
    const check = (load) => `
      const entries = ${JSON.stringify(entries)};
      const load = ${load};
      (async () => {
        for (const entry of entries) {
          const exports = await load(entry);
          if (Object.keys(exports).length < 3) throw new Error(entry + ' exports almost nothing: ' + Object.keys(exports));
        }
        const { PiConfig, detectPi } = await load('pidriver');
        const found = await detectPi(PiConfig.parse({ binary: ${JSON.stringify(fakePi)} }));
        if (found.source !== '--version' || found.version !== '0.73.1') throw new Error('detectPi: ' + JSON.stringify(found));
        console.log('ok');
      })().catch((error) => { console.error(error); process.exit(1); });`;
    writeFileSync(join(work, 'check.cjs'), check('(entry) => require(entry)'));
    writeFileSync(join(work, 'check.mjs'), check('(entry) => import(entry)'));
    for (const [script, kind] of [
      ['check.cjs', 'require()'],
      ['check.mjs', 'import()'],
    ]) {
      try {
        execFileSync(node, [script], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        fail(
          `${kind} of pidriver fails on Node ${version}, the lowest engines.node (${pkg.engines.node}) allows:\n${error.stderr || error.stdout || error.message}`,
        );
      }
      console.log(`${kind} of every pidriver entry point works on Node ${version}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
} catch (error) {
  if (!(error instanceof CheckFailed)) throw error;
  console.error(`require-lowest-node: ${error.message}`);
  process.exitCode = 1;
}
