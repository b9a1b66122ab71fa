/**
 * readSessionEntries on small session files written here: the header, the entries and the leaf
 * pi would report (compared with pi 0.73.1's own SessionManager on random files), malformed
 * lines, old formats, the errors, aborting.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '@mariozechner/pi-coding-agent';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PiConfigError, PiDriverError } from '../../src/errors.js';
import { sessionTree } from '../../src/protocol/sessionTree.js';
import { readSessionEntries } from '../../src/sessionFiles/readSessionEntries.js';
import { entry, header, makeTempDir, message, removeTempDirs, writeJsonl } from './sessionFixtures.js';

afterEach(removeTempDirs);

const T0 = Date.parse('2026-01-02T03:04:05.000Z');
const iso = (at: number) => new Date(at).toISOString();

/** A value with `undefined` fields dropped, as it would go over the wire. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('readSessionEntries', () => {
  it('gives the header, the entries in file order and the last entry as the leaf', async () => {
    const dir = await makeTempDir();
    const lines = [
      entry('model_change', 'm', null, T0, { provider: 'fake', modelId: 'fake-1' }),
      message('u1', 'm', 'user', 'hello', T0 + 1),
      message('a1', 'u1', 'assistant', 'hi', T0 + 2),
      message('u2', 'm', 'user', 'branch', T0 + 3), // a second child of m
      entry('label', 'l', 'u2', T0 + 4, { targetId: 'u1', label: 'start' }), // appended last: the leaf, whatever its type
    ];
    const path = await writeJsonl(join(dir, 's.jsonl'), [header('s', '/w', iso(T0), { parentSession: '/p.jsonl', extra: true }), ...lines]);

    const read = await readSessionEntries(path);

    expect(read).toEqual({
      header: { type: 'session', version: 3, id: 's', timestamp: iso(T0), cwd: '/w', parentSession: '/p.jsonl', extra: true },
      entries: lines,
      leafId: 'l',
    });
  });

  it('keeps unknown entry types and fields; skips malformed lines, entries without an id and repeated headers', async () => {
    const dir = await makeTempDir();
    const odd = { type: 'omp_thing', id: 'o', parentId: 'u', timestamp: iso(T0 + 2), payload: { nested: [1, 2] } };
    const path = await writeJsonl(join(dir, 's.jsonl'), [
      'not json',
      header('s', '/w', iso(T0)),
      message('u', null, 'user', 'hello', T0 + 1),
      '{"type":"message","id":',
      { type: 'message', parentId: 'u', timestamp: iso(T0) },
      { type: 'message', id: 7, parentId: 'u', timestamp: iso(T0) },
      'null',
      '"text"',
      header('s2', '/x', iso(T0)),
      odd,
      '',
    ]);

    const read = await readSessionEntries(path);

    expect(read.entries.map((item) => item.id)).toEqual(['u', 'o']);
    expect(read.entries[1]).toEqual(odd);
    expect(read.leafId).toBe('o');
  });

  it('reads a missing parentId as null and a missing timestamp as an empty string', async () => {
    const dir = await makeTempDir();
    const path = await writeJsonl(join(dir, 's.jsonl'), [header('s', '/w', iso(T0)), { type: 'custom', id: 'c', customType: 'x' }]);

    expect((await readSessionEntries(path)).entries).toEqual([{ type: 'custom', id: 'c', parentId: null, timestamp: '', customType: 'x' }]);
  });

  it("reads omp's files: a title line above the header (as omp 18.2.3 writes them)", async () => {
    const dir = await makeTempDir();
    const title = { type: 'title', v: 1, title: '', updatedAt: iso(T0), pad: ' '.repeat(64) };
    const path = await writeJsonl(join(dir, 'omp.jsonl'), [title, header('o', '/w', iso(T0)), entry('model_change', 'm1', null, T0, { model: 'fake/fake-1' })]);
    await expect(readSessionEntries(path)).resolves.toMatchObject({ header: { id: 'o' }, entries: [{ id: 'm1' }], leafId: 'm1' });
  });

  it('has leafId null for a session with a header only', async () => {
    const dir = await makeTempDir();
    const path = await writeJsonl(join(dir, 's.jsonl'), [header('s', '/w', iso(T0))]);

    expect(await readSessionEntries(path)).toMatchObject({ entries: [], leafId: null });
  });

  it('migrates a version 1 file (no ids) and a version 2 file (hookMessage) as pi does', async () => {
    const dir = await makeTempDir();
    const v1 = await writeJsonl(join(dir, 'v1.jsonl'), [
      { type: 'session', id: 'old', timestamp: iso(T0), cwd: '/w' },
      { type: 'message', timestamp: iso(T0 + 1), message: { role: 'user', content: 'one', timestamp: T0 + 1 } },
      'broken line',
      { type: 'message', timestamp: iso(T0 + 2), message: { role: 'assistant', content: [{ type: 'text', text: 'two' }], timestamp: T0 + 2 } },
      { type: 'compaction', timestamp: iso(T0 + 3), summary: 'sum', firstKeptEntryIndex: 2, tokensBefore: 10 },
    ]);
    const v2 = await writeJsonl(join(dir, 'v2.jsonl'), [
      header('mid', '/w', iso(T0), { version: 2 }),
      { type: 'message', id: 'h', parentId: null, timestamp: iso(T0 + 1), message: { role: 'hookMessage', content: 'from a hook' } },
    ]);

    const old = await readSessionEntries(v1);
    expect(old.entries.map((item) => [item.type, item.id, item.parentId])).toEqual([
      ['message', 'legacy-1', null],
      ['message', 'legacy-2', 'legacy-1'],
      ['compaction', 'legacy-3', 'legacy-2'],
    ]);
    expect(old.entries[2]).toMatchObject({ firstKeptEntryId: 'legacy-2' });
    expect(old.entries[2]).not.toHaveProperty('firstKeptEntryIndex');
    expect(old.leafId).toBe('legacy-3');
    expect((await readSessionEntries(v2)).entries[0]).toMatchObject({ message: { role: 'custom' } });

    // pi gives the same shape (with random ids): check the structure against it on a copy (pi rewrites migrated files).
    const copy = join(dir, 'v1-copy.jsonl');
    await copyFile(v1, copy);
    const pi = SessionManager.open(copy, dir).getEntries();
    expect(pi.map((item) => item.type)).toEqual(old.entries.map((item) => item.type));
    expect(pi.map((item) => item.parentId === null)).toEqual(old.entries.map((item) => item.parentId === null));
    expect(pi[2]).toMatchObject({ firstKeptEntryId: pi[1]!.id });
  });

  it('rejects a file that is not a session with PI_SESSION_FILE_INVALID', async () => {
    const dir = await makeTempDir();
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    const headless = await writeJsonl(join(dir, 'headless.jsonl'), [message('u', null, 'user', 'x', T0), header('s', '/w', iso(T0))]);
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'just some text\n');

    for (const path of [empty, headless, text]) {
      const error: unknown = await readSessionEntries(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PiDriverError);
      expect(error).toMatchObject({ code: 'PI_SESSION_FILE_INVALID', message: expect.stringContaining(path) });
    }
  });

  it('rejects a file it cannot read with PI_SESSION_FILE_UNREADABLE and the file system’s error as cause', async () => {
    const dir = await makeTempDir();
    for (const [path, cause] of [
      [join(dir, 'missing.jsonl'), { code: 'ENOENT' }],
      [dir, { message: `not a regular file: ${dir}` }],
    ] as const) {
      const error: unknown = await readSessionEntries(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PiDriverError);
      expect(error).toMatchObject({ code: 'PI_SESSION_FILE_UNREADABLE', cause: expect.objectContaining(cause) });
    }
  });

  it.each(['relative.jsonl', '', '/tmp/a\0.jsonl'])('rejects the path %j with a PiConfigError naming path', async (path) => {
    const error: unknown = await readSessionEntries(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'path' });
  });

  it('rejects with the signal’s reason when aborted before or while it reads', async () => {
    const dir = await makeTempDir();
    const lines: unknown[] = [header('s', '/w', iso(T0))];
    for (let index = 0; index < 5_000; index++) lines.push(message(`e${index}`, index ? `e${index - 1}` : null, 'user', 'x'.repeat(100), T0 + index));
    const path = await writeJsonl(join(dir, 'big.jsonl'), lines);
    expect((await readSessionEntries(path)).entries).toHaveLength(5_000);

    const before = new AbortController();
    before.abort(new Error('stop before'));
    await expect(readSessionEntries(path, { signal: before.signal })).rejects.toThrow('stop before');

    const during = new AbortController();
    const reading = readSessionEntries(path, { signal: during.signal });
    during.abort(new Error('stop during'));
    await expect(reading).rejects.toThrow('stop during');
  });

  it('agrees with pi 0.73.1’s SessionManager on random session files: entries, leaf and tree', async () => {
    const dir = await makeTempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(randomSession(), async (lines) => {
        const path = await writeJsonl(join(dir, `r${run++}.jsonl`), [header('r', '/w', iso(T0)), ...lines]);
        const pi = SessionManager.open(path, dir);
        const read = await readSessionEntries(path);
        expect(read.entries).toEqual(pi.getEntries());
        expect(read.leafId).toBe(pi.getLeafId());
        expect(wire(sessionTree(read.entries))).toEqual(wire(pi.getTree()));
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * Entries pi could have written: unique ids, each parent an earlier entry (or `null`, or an id
 * not in the file), timestamps that may tie or go backwards, some labels set and cleared.
 */
function randomSession(): fc.Arbitrary<unknown[]> {
  const step = fc.record({
    parent: fc.oneof(fc.constant<'previous' | 'null' | 'unknown'>('previous'), fc.constant<'null'>('null'), fc.constant<'unknown'>('unknown'), fc.nat(40)),
    at: fc.integer({ min: -5, max: 5 }),
    kind: fc.constantFrom('message', 'label', 'clear-label', 'model_change'),
  });
  return fc.array(step, { maxLength: 40 }).map((steps) => {
    const ids: string[] = [];
    return steps.map(({ parent, at, kind }, index) => {
      const id = `e${index}`;
      const parentId =
        parent === 'previous' ? (ids.at(-1) ?? null) : parent === 'null' ? null : parent === 'unknown' ? 'gone' : (ids[parent % (ids.length || 1)] ?? null);
      const timestamp = T0 + 1_000 * (index % 7) + at;
      ids.push(id);
      if (kind === 'message') return message(id, parentId, index % 2 ? 'assistant' : 'user', `text ${index}`, timestamp);
      if (kind === 'model_change') return entry('model_change', id, parentId, timestamp, { provider: 'p', modelId: 'm' });
      const target = ids[(index * 7) % ids.length]!;
      return entry('label', id, parentId, timestamp, kind === 'label' ? { targetId: target, label: `label ${index}` } : { targetId: target });
    });
  });
}
