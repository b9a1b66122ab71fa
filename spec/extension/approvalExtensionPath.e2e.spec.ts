/**
 * `PiConfig.approvalExtensionPath`: a server bundled with esbuild no longer has pidriver's
 * approval extension next to its code. Without the option, `start()` fails with a
 * `PiConfigError` that names the option; with it (pointing at a copy of the extension), the
 * approvals work. Real pi 0.73.1 and the fake LLM; the bundle is built from source into a
 * temporary directory and run as a child process, as a deployed server would be.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiConfigError, PiUnsupportedError } from '../../src/errors.js';
import * as z from 'zod';
import { PiClient } from '../../src/session/PiClient.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';

const run = promisify(execFile);
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

/** The bundled server: starts a session with denyAll() and has bash create a file; prints what happened. */
const SERVER = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PiClient, denyAll } from ${JSON.stringify(src('index.ts'))};

const [configJson, cwd] = process.argv.slice(2);
try {
  const session = await new PiClient({ config: JSON.parse(configJson), policy: denyAll('bundled server says no') }).start({ cwd });
  const result = await session.prompt('scenario:tool-bash [[cmd:touch created-by-bash.txt]]');
  await session.close();
  console.log(JSON.stringify({ reason: result.reason, created: existsSync(join(cwd, 'created-by-bash.txt')) }));
} catch (error) {
  console.log(JSON.stringify({ error: { name: error.name, field: error.field, message: error.message } }));
}
`;

let env: FakePiEnv;
let dir: string | undefined;

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

afterAll(async () => {
  await env.close();
});

describe('PiConfig.approvalExtensionPath', () => {
  it('a path with no file there is a PiConfigError naming the path and the option, before anything is spawned', async () => {
    const missing = join(tmpdir(), 'pidriver-no-such-dir', 'approval.js');
    const error = await new PiClient({ config: env.config.with({ approvalExtensionPath: missing }) })
      .start({ cwd: env.cwd })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect((error as PiConfigError).field).toBe('approvalExtensionPath');
    expect((error as PiConfigError).message).toContain(missing);
    expect((error as PiConfigError).message).toContain('approvalExtensionPath');
  });

  it("with approve: 'none' and no host tools nothing needs it: the session runs without it, and only structured output is refused", async () => {
    const missing = join(tmpdir(), 'pidriver-no-such-dir', 'approval.js');
    const session = await new PiClient({ config: env.config.with({ approvalExtensionPath: missing }), approve: 'none' }).start({ cwd: env.cwd });
    try {
      await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed' });
      const refused = await session.prompt('scenario:result', { output: z.object({ city: z.string() }) }).catch((caught: unknown) => caught);
      expect(refused).toBeInstanceOf(PiUnsupportedError);
      expect((refused as Error).message).toMatch(/structured output.*approvalExtensionPath/);
    } finally {
      await session.close();
    }
  });

  it('a bundled server: without it, a PiConfigError that says what to do; with it, approvals work', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pidriver-bundle-'));
    const entry = join(dir, 'server.mts');
    writeFileSync(entry, SERVER);
    const bundle = join(dir, 'out', 'server.mjs');
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      // Bundled CommonJS dependencies `require()` Node built-ins: an ESM bundle needs a `require` (esbuild's usual banner).
      banner: { js: "import { createRequire as __pidriverRequire } from 'node:module'; const require = __pidriverRequire(import.meta.url);" },
    });
    const extension = join(dir, 'approval.ts'); // what a deployment copies from dist/extension/approval.js
    copyFileSync(src('extension/approval.ts'), extension);
    const serve = async (config: object): Promise<Record<string, unknown>> => {
      const { stdout } = await run(process.execPath, [bundle, JSON.stringify(config), env.cwd], { cwd: dir, timeout: 60_000 });
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    };

    const without = await serve(env.config.toInput());
    expect(without).toMatchObject({ error: { name: 'PiConfigError', field: 'approvalExtensionPath' } });
    expect((without['error'] as { message: string }).message).toMatch(/PiConfig\.approvalExtensionPath/);

    const withPath = await serve({ ...env.config.toInput(), approvalExtensionPath: extension });
    expect(withPath).toEqual({ reason: 'completed', created: false }); // asked, denied: bash never ran
    expect(existsSync(join(env.cwd, 'created-by-bash.txt'))).toBe(false);
  });
});
