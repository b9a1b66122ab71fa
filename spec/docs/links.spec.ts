/**
 * The docs hold together: every relative link in README.md, CONTRIBUTING.md, CHANGELOG.md and
 * docs/*.md names a file or folder that exists, every `#anchor` into a Markdown page names one of
 * its headings (GitHub's slugs), the README's map reaches every guide, and the README stays an
 * entry page (at most 15 KB). Files move while the code is reorganised; this spec says which link
 * a move broke. It reads the working tree only: no network, no process.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorsOf, extractLinks, githubSlug, isExternal, splitTarget } from './markdownLinks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The README is an entry page: what pidriver is, install, two commands, a quick start, a map. */
const README_MAX_BYTES = 15_000;

/** The guides: Markdown in docs/, but not typedoc's generated (and gitignored) docs/api/. */
function guides(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(join(ROOT, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== 'docs/api') walk(path);
      } else if (entry.name.endsWith('.md')) {
        found.push(path);
      }
    }
  };
  walk('docs');
  return found;
}

const PAGES = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...guides()];
const read = (page: string): string => readFileSync(join(ROOT, page), 'utf8');

const anchorCache = new Map<string, Set<string>>();
const anchorsIn = (page: string): Set<string> => {
  let anchors = anchorCache.get(page);
  if (!anchors) anchorCache.set(page, (anchors = anchorsOf(read(page))));
  return anchors;
};

/** What is wrong with each relative link of `page` (`page:line → target: reason`), none when all hold. */
function brokenLinks(page: string, markdown: string): string[] {
  const problems: string[] = [];
  let ownAnchors: Set<string> | undefined;
  for (const { line, target } of extractLinks(markdown)) {
    if (isExternal(target)) continue;
    const { path, anchor } = splitTarget(target);
    const fail = (reason: string): void => void problems.push(`${page}:${line} → ${target}: ${reason}`);
    if (path === '') {
      if (!(ownAnchors ??= anchorsOf(markdown)).has(anchor)) fail(`no heading with the anchor #${anchor} in ${page}`);
      continue;
    }
    const file = path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(page), path);
    const inRepo = relative(ROOT, file);
    if (inRepo.startsWith('..') || inRepo.startsWith(sep)) {
      fail('points outside the repository');
      continue;
    }
    if (!existsSync(file)) {
      fail('no such file or folder');
      continue;
    }
    if (anchor === '' || !file.endsWith('.md') || statSync(file).isDirectory()) continue;
    const key = inRepo.split(sep).join('/');
    if (!anchorsIn(key).has(anchor)) fail(`no heading with the anchor #${anchor} in ${key}`);
  }
  return problems;
}

describe('docs', () => {
  it('finds the pages it checks', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'docs/policies.md']));
    for (const page of PAGES) expect(existsSync(join(ROOT, page)), page).toBe(true);
  });

  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    expect(brokenLinks(page, read(page))).toEqual([]);
  });

  it('README.md is an entry page of at most 15 KB', () => {
    const bytes = statSync(join(ROOT, 'README.md')).size;
    expect(bytes, `README.md is ${bytes} bytes; move detail to a page in docs/`).toBeLessThanOrEqual(README_MAX_BYTES);
  });

  it("README.md gives a newcomer the two set-up commands and links every guide", () => {
    const readme = read('README.md');
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toMatch(/^npm test\b/m);
    const linked = new Set(
      extractLinks(readme)
        .filter(({ target }) => !isExternal(target))
        .map(({ target }) => splitTarget(target).path),
    );
    const unlinked = guides().filter((guide) => !linked.has(guide));
    expect(unlinked, 'guides missing from the README map').toEqual([]);
  });
});

describe('the link checker', () => {
  const page = 'docs/example.md';

  it('reports a missing file, a missing anchor and a link out of the repository', () => {
    const markdown = [
      '# Title',
      '[gone](no-such-page.md)',
      '[bad anchor](../README.md#no-such-heading)',
      '[out](../../etc/passwd)',
      '[self](#title) [ok](../README.md#documentation) [site](https://example.com/x.md) [folder](../src/)',
      '[missing self](#no-title)',
    ].join('\n');
    expect(brokenLinks(page, markdown).map((problem) => problem.split(': ')[1])).toEqual([
      'no such file or folder',
      'no heading with the anchor #no-such-heading in README.md',
      'points outside the repository',
      'no heading with the anchor #no-title in docs/example.md',
    ]);
  });

  it('ignores links inside code', () => {
    const markdown = ['`[a](missing.md)`', '```md', '[b](missing.md)', '```', '  ~~~', '  [c](missing.md)', '  ~~~'];
    expect(extractLinks(markdown.join('\n'))).toEqual([]);
  });

  it('reads inline links, images, titles, angle brackets and reference definitions', () => {
    const markdown = ['[`code`](a.md "title") ![img](<b c.png>)', '[ref]: ./d.md#e'].join('\n');
    expect(extractLinks(markdown)).toEqual([
      { line: 1, target: 'a.md' },
      { line: 1, target: 'b c.png' },
      { line: 2, target: './d.md#e' },
    ]);
  });

  it("slugs headings as GitHub does, numbering repeats", () => {
    expect(githubSlug('Dialects: pi 0.73, pi 1.x, omp')).toBe('dialects-pi-073-pi-1x-omp');
    const headings = [
      '# Many sessions: `PiSessionManager`',
      '## The opt-in dialect suites: omp and pi 1.x',
      '## Notes',
      '## Notes',
      'Setext',
      '---',
      '```',
      '# not a heading',
      '```',
    ];
    expect([...anchorsOf(headings.join('\n'))]).toEqual([
      'many-sessions-pisessionmanager',
      'the-opt-in-dialect-suites-omp-and-pi-1x',
      'notes',
      'notes-1',
      'setext',
    ]);
  });
});
