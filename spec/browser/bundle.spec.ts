/**
 * `pidriver/browser` must bundle for a browser with nothing from Node: esbuild (platform
 * `browser`) fails on any Node built-in, and the built `dist/browser.*` (when built) has none.
 * And it must stay small: the web example's page script, bundled and minified as
 * examples/web/app.ts does it, stays within a size budget (the README's web section states the size).
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
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
    expect(inputs.filter((input) => /src\/(session|transport|config|manager|bridge|testing)\//.test(input))).toEqual([]);
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
    expect(imports.filter((path) => builtins.has(path))).toEqual([]);
    expect([...new Set(imports)].sort()).toEqual(['rxjs', 'zod']);
  });

  it.skipIf(!existsSync(`${root}dist/browser.js`))('dist/browser.js and dist/browser.cjs import only rxjs and zod', () => {
    for (const file of ['dist/browser.js', 'dist/browser.cjs']) {
      const code = readFileSync(`${root}${file}`, 'utf8');
      const specifiers = [...code.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g)].map((match) => match[1]);
      expect(
        specifiers.filter((specifier) => specifier !== 'rxjs' && specifier !== 'zod'),
        file,
      ).toEqual([]);
      expect(code).not.toMatch(/["']node:/);
    }
  });

  it('the web example page bundles (minified) within its size budget, with zod tree-shaken (no locale but en)', async () => {
    const result = await build({
      entryPoints: [`${root}examples/web/page/main.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      alias: { 'pidriver/browser': `${root}src/browser/index.ts` },
      metafile: true,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const kept = Object.values(result.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
    );
    // `import { z } from 'zod'` keeps zod classic's whole namespace, all ~40 locales included
    // (≈ 264 KB); `import * as z from 'zod'` lets a bundler keep only what is used.
    expect(kept.filter((input) => /zod\/v4\/locales\/(?!en\.js$)/.test(input))).toEqual([]);
    // 152 KB (45 KB gzipped) when this was written, of which zod ≈ 100 KB and rxjs ≈ 25 KB; it was 507 KB.
    const budget = { minified: 180_000, gzipped: 55_000 };
    expect(code.byteLength, 'minified bytes').toBeLessThanOrEqual(budget.minified);
    expect(gzipSync(code).byteLength, 'gzipped bytes').toBeLessThanOrEqual(budget.gzipped);
  });
});
