/**
 * docs/api.md lists every public name, and only those: for each entry point, the names its barrel
 * exports (read from the source, values and types alike) are exactly the names listed under its
 * `## \`pidriver…\`` heading. A name added to a barrel without a line in the docs, or a line left
 * after a name was cut, fails here.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY_POINTS: Record<string, string> = {
  pidriver: 'src/index.ts',
  'pidriver/protocol': 'src/protocol/index.ts',
  'pidriver/testing': 'src/testing/index.ts',
  'pidriver/bridge': 'src/bridge/index.ts',
  'pidriver/browser': 'src/browser/index.ts',
};

/** The names a barrel exports: `export { a, b as c } from`, `export type { … } from`. */
function barrelNames(file: string): Set<string> {
  const source = readFileSync(resolve(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  expect(source, `${file} uses export *`).not.toMatch(/export \*/);
  const names = new Set<string>();
  for (const match of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  return names;
}

/** The names docs/api.md lists under each `## \`entry\`` heading (lines `- \`name\` …`). */
function documentedNames(): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of readFileSync(resolve(ROOT, 'docs/api.md'), 'utf8').split('\n')) {
    const heading = /^## `([^`]+)`/.exec(line);
    if (heading) sections.set(heading[1]!, (current = new Set()));
    const item = /^- `([A-Za-z_$][\w$]*)`/.exec(line);
    if (item && current) current.add(item[1]!);
  }
  return sections;
}

describe('docs/api.md', () => {
  const documented = documentedNames();
  for (const [entry, file] of Object.entries(ENTRY_POINTS)) {
    it(`lists exactly what ${entry} exports`, () => {
      const exported = [...barrelNames(file)].sort();
      const listed = [...(documented.get(entry) ?? [])].sort();
      expect({ missingFromDocs: exported.filter((n) => !listed.includes(n)), notExported: listed.filter((n) => !exported.includes(n)) }).toEqual({
        missingFromDocs: [],
        notExported: [],
      });
    });
  }

  it('keeps the root entry point small', () => {
    expect(barrelNames('src/index.ts').size).toBeLessThanOrEqual(150);
  });
});
