/**
 * `pidriver/browser` must bundle for a browser with nothing from Node: esbuild (platform
 * `browser`) fails on any Node built-in, and the built `dist/browser.*` (when built) has none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

describe('the browser bundle', () => {
  it('bundles for the browser from source without a single Node built-in or Node-only module', async () => {
    const result = await build({
      entryPoints: [`${root}src/browser/index.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      external: ['rxjs', 'zod'],
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /src\/(transport|config|manager|bridge|testing)\//.test(input) || /PiSession|PiClient/.test(input))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
    expect(imports.filter((path) => builtins.has(path))).toEqual([]);
    expect([...new Set(imports)].sort()).toEqual(['rxjs', 'zod']);
  });

  it.skipIf(!existsSync(`${root}dist/browser.js`))('dist/browser.js and dist/browser.cjs import only rxjs and zod', () => {
    for (const file of ['dist/browser.js', 'dist/browser.cjs']) {
      const code = readFileSync(`${root}${file}`, 'utf8');
      const specifiers = [...code.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g)].map((match) => match[1]);
      expect(specifiers.filter((specifier) => specifier !== 'rxjs' && specifier !== 'zod'), file).toEqual([]);
      expect(code).not.toMatch(/["']node:/);
    }
  });
});
