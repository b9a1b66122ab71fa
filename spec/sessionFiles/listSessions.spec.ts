/**
 * listSessions on small session files written here: what it reports, which files count as
 * sessions, how it walks directories (depth, links, loops), the cwd filter, the order, bad
 * options and aborting. Compared with pi 0.73.1's own `SessionManager.list` on the same files.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionManager } from '@mariozechner/pi-coding-agent';
import { afterEach, describe, expect, it } from 'vitest';
import { PiConfigError } from '../../src/errors.js';
import { listSessions } from '../../src/sessionFiles/listSessions.js';
import { cwdSlug, entry, fileName, header, makeTempDir, message, removeTempDirs, writeJsonl } from './sessionFixtures.js';

afterEach(removeTempDirs);

const T0 = Date.parse('2026-01-02T03:04:05.000Z');
const iso = (at: number) => new Date(at).toISOString();

/** A session of `prompts` user/assistant pairs, the first user message `first`. */
async function writeSession(dir: string, id: string, cwd: string, start: number, prompts: readonly string[], extra: readonly unknown[] = []): Promise<string> {
  const lines: unknown[] = [header(id, cwd, iso(start)), entry('model_change', `${id}-m`, null, start + 1, { provider: 'fake', modelId: 'fake-1' })];
  let parent = `${id}-m`;
  prompts.forEach((prompt, index) => {
    const at = start + 10 * (index + 1);
    lines.push(message(`${id}-u${index}`, parent, 'user', prompt, at));
    lines.push(message(`${id}-a${index}`, `${id}-u${index}`, 'assistant', `answer ${index}`, at + 5));
    parent = `${id}-a${index}`;
  });
  return writeJsonl(join(dir, fileName(iso(start), id)), [...lines, ...extra]);
}

describe('listSessions', () => {
  it('reports each session of an agent dir, newest first, as pi lists it', async () => {
    const agentDir = await makeTempDir();
    const sessions = join(agentDir, 'sessions');
    const older = await writeSession(join(sessions, cwdSlug('/work/a')), 'older', '/work/a', T0, ['first prompt', 'second prompt']);
    const newer = await writeSession(join(sessions, cwdSlug('/work/b')), 'newer', '/work/b', T0 + 1_000, ['hello']);

    const listed = await listSessions({ agentDir });

    expect(listed).toEqual([
      {
        id: 'newer',
        path: newer,
        cwd: '/work/b',
        createdAt: new Date(T0 + 1_000),
        updatedAt: new Date(T0 + 1_015),
        firstMessage: 'hello',
        messageCount: 2,
      },
      {
        id: 'older',
        path: older,
        cwd: '/work/a',
        createdAt: new Date(T0),
        updatedAt: new Date(T0 + 25),
        firstMessage: 'first prompt',
        messageCount: 4,
      },
    ]);
  });

  it('reads a session dir (pi keeps its files there flat) and counts every message entry, of any role, on every branch', async () => {
    const sessionDir = await makeTempDir();
    const path = await writeJsonl(join(sessionDir, fileName(iso(T0), 's1')), [
      header('s1', '/w', iso(T0), { parentSession: '/elsewhere/parent.jsonl' }),
      message('u1', null, 'user', '', T0 + 1), // no text: not the first message
      { type: 'message', id: 'u2', parentId: 'u1', timestamp: iso(T0 + 2), message: { role: 'user', content: 'plain string', timestamp: T0 + 2 } },
      message('a1', 'u2', 'assistant', 'calling', T0 + 3),
      message('t1', 'a1', 'toolResult', 'tool output', T0 + 50), // not activity: only user and assistant messages move updatedAt
      message('c1', 't1', 'custom', 'custom', T0 + 60),
      message('b1', 'u2', 'assistant', 'a branch', T0 + 4), // a second child of u2
      entry('session_info', 'n1', 'b1', T0 + 5, { name: '  first name ' }),
      entry('session_info', 'n2', 'n1', T0 + 6, { name: '' }), // clears it
      entry('session_info', 'n3', 'n2', T0 + 7, { name: ' final name ' }),
      entry('label', 'l1', 'n3', T0 + 8, { targetId: 'u1', label: 'bookmark' }),
    ]);

    const [info] = await listSessions({ sessionDir });

    expect(info).toEqual({
      id: 's1',
      path,
      cwd: '/w',
      createdAt: new Date(T0),
      updatedAt: new Date(T0 + 4),
      firstMessage: 'plain string',
      messageCount: 6,
      name: 'final name',
      parentSession: '/elsewhere/parent.jsonl',
    });
  });

  it('matches pi 0.73.1’s SessionManager.list on the same directory', async () => {
    const sessionDir = await makeTempDir();
    await writeSession(sessionDir, 'one', '/w/one', T0, ['a', 'b', 'c'], [entry('session_info', 'n', 'one-a2', T0 + 40, { name: 'named' })]);
    await writeSession(sessionDir, 'two', '/w/two', T0 + 500, ['x']);
    await writeSession(sessionDir, 'empty', '/w/three', T0 + 900, []);
    await writeJsonl(join(sessionDir, 'junk.jsonl'), ['not json', { type: 'message' }]);

    const ours = await listSessions({ sessionDir });
    const pis = await SessionManager.list('/unused', sessionDir);

    expect(
      ours.map((info) => [info.id, info.path, info.cwd, info.createdAt, info.updatedAt, info.messageCount, info.firstMessage ?? '(no messages)', info.name]),
    ).toEqual(pis.map((info) => [info.id, info.path, info.cwd, info.created, info.modified, info.messageCount, info.firstMessage, info.name]));
  });

  it('falls back to the header timestamp, then the file mtime, for sessions without messages', async () => {
    const sessionDir = await makeTempDir();
    const headerOnly = await writeJsonl(join(sessionDir, 'a.jsonl'), [header('a', '/w', iso(T0 + 7))]);
    const noTimestamp = await writeJsonl(join(sessionDir, 'b.jsonl'), [{ type: 'session', id: 'b', cwd: '/w', timestamp: 'not a date' }]);
    const mtime = new Date(T0 - 60_000);
    await utimes(noTimestamp, mtime, mtime);

    const listed = await listSessions({ sessionDir });

    expect(listed.map((info) => [info.path, info.createdAt, info.updatedAt, info.messageCount, info.firstMessage])).toEqual([
      [headerOnly, new Date(T0 + 7), new Date(T0 + 7), 0, undefined],
      [noTimestamp, mtime, mtime, 0, undefined],
    ]);
  });

  it('orders by updatedAt, newest first, then by path', async () => {
    const sessionDir = await makeTempDir();
    await writeJsonl(join(sessionDir, 'c.jsonl'), [header('c', '/w', iso(T0)), message('u', null, 'user', 'hi', T0 + 300)]);
    await writeJsonl(join(sessionDir, 'b.jsonl'), [header('b', '/w', iso(T0 + 100))]);
    await writeJsonl(join(sessionDir, 'a.jsonl'), [header('a', '/w', iso(T0 + 100))]);
    await writeJsonl(join(sessionDir, 'd.jsonl'), [header('d', '/w', iso(T0 + 200))]);

    expect((await listSessions({ sessionDir })).map((info) => info.id)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('skips what is not a session: malformed lines, empty files, files without a header, other extensions', async () => {
    const sessionDir = await makeTempDir();
    await writeJsonl(join(sessionDir, 'good.jsonl'), [
      '',
      'garbage before the header',
      header('good', '/w', iso(T0)),
      '{"type":"message","id":"x"', // cut short
      '[1,2,3]',
      '42',
      { type: 'message', parentId: null, timestamp: iso(T0), message: { role: 'user', content: 'no id: not an entry' } },
      message('u', null, 'user', 'kept', T0 + 1),
      header('again', '/other', iso(T0)), // a second header is no entry
      '   ',
    ]);
    await writeFile(join(sessionDir, 'empty.jsonl'), '');
    await writeJsonl(join(sessionDir, 'headless.jsonl'), [message('u', null, 'user', 'no header', T0)]);
    await writeJsonl(join(sessionDir, 'no-id.jsonl'), [{ type: 'session', cwd: '/w', timestamp: iso(T0) }, message('u', null, 'user', 'x', T0)]);
    await writeJsonl(join(sessionDir, 'array.jsonl'), ['[{"type":"session","id":"arr"}]']);
    await writeJsonl(join(sessionDir, 'notes.json'), [header('json', '/w', iso(T0))]);
    await writeJsonl(join(sessionDir, 'good.jsonl.bak'), [header('bak', '/w', iso(T0))]);
    await mkdir(join(sessionDir, 'dir.jsonl'));

    const listed = await listSessions({ sessionDir });

    expect(listed).toEqual([expect.objectContaining({ id: 'good', cwd: '/w', messageCount: 1, firstMessage: 'kept' })]);
  });

  it('reads CRLF files', async () => {
    const sessionDir = await makeTempDir();
    await writeJsonl(join(sessionDir, 'crlf.jsonl'), [header('crlf', '/w', iso(T0)), message('u', null, 'user', 'windows', T0 + 1)], '\r\n');

    expect(await listSessions({ sessionDir })).toEqual([expect.objectContaining({ id: 'crlf', firstMessage: 'windows', messageCount: 1 })]);
  });

  it('searches three directory levels down, no deeper', async () => {
    const sessionDir = await makeTempDir();
    await writeSession(sessionDir, 'level0', '/w', T0, ['0']);
    await writeSession(join(sessionDir, 'a'), 'level1', '/w', T0 + 1, ['1']);
    await writeSession(join(sessionDir, 'a', 'b'), 'level2', '/w', T0 + 2, ['2']);
    await writeSession(join(sessionDir, 'a', 'b', 'c'), 'level3', '/w', T0 + 3, ['3']);
    await writeSession(join(sessionDir, 'a', 'b', 'c', 'd'), 'level4', '/w', T0 + 4, ['4']);

    expect((await listSessions({ sessionDir })).map((info) => info.id)).toEqual(['level3', 'level2', 'level1', 'level0']);
  });

  it('follows links only inside the directory, each place once, and survives link loops', async () => {
    const root = await makeTempDir();
    const sessionDir = join(root, 'sessions');
    const outside = join(root, 'outside');
    const inside = await writeSession(join(sessionDir, 'real'), 'inside', '/w', T0, ['in']);
    await writeSession(outside, 'outside', '/w', T0 + 1, ['out']);
    await symlink(outside, join(sessionDir, 'to-outside-dir'));
    await symlink(join(outside, fileName(iso(T0 + 1), 'outside')), join(sessionDir, 'to-outside-file.jsonl'));
    await symlink(join(sessionDir, 'real'), join(sessionDir, 'z-same-dir')); // the same directory again
    await symlink(inside, join(sessionDir, 'z-same-file.jsonl')); // the same file again
    await symlink(sessionDir, join(sessionDir, 'real', 'loop')); // a cycle
    await symlink(join(sessionDir, 'self'), join(sessionDir, 'self')); // a link to itself (ELOOP)
    await symlink(join(sessionDir, 'nowhere'), join(sessionDir, 'dangling.jsonl'));

    const listed = await listSessions({ sessionDir });

    expect(listed.map((info) => [info.id, info.path])).toEqual([['inside', inside]]);
  });

  it('follows a link inside the directory to a file it would not otherwise reach', async () => {
    const sessionDir = await makeTempDir();
    const deep = await writeSession(join(sessionDir, 'a', 'b', 'c', 'd'), 'deep', '/w', T0, ['deep']);
    await symlink(deep, join(sessionDir, 'shortcut.jsonl'));

    expect((await listSessions({ sessionDir })).map((info) => [info.id, info.path])).toEqual([['deep', join(sessionDir, 'shortcut.jsonl')]]);
  });

  it.skipIf(process.platform === 'win32')('skips a FIFO named like a session file instead of waiting on it', async () => {
    const sessionDir = await makeTempDir();
    execFileSync('mkfifo', [join(sessionDir, 'fifo.jsonl')]);
    await symlink(join(sessionDir, 'fifo.jsonl'), join(sessionDir, 'link-to-fifo.jsonl'));
    await writeSession(sessionDir, 'real', '/w', T0, ['x']);

    expect((await listSessions({ sessionDir })).map((info) => info.id)).toEqual(['real']);
  });

  it('filters on cwd: the header’s cwd, both resolved; an empty header cwd never matches', async () => {
    const agentDir = await makeTempDir();
    const sessions = join(agentDir, 'sessions');
    await writeSession(join(sessions, cwdSlug('/w/a')), 'a', '/w/a', T0, ['a']);
    await writeSession(join(sessions, cwdSlug('/w/a')), 'a-dotted', '/w/x/../a/', T0 + 1, ['a2']); // same cwd, written oddly
    await writeSession(join(sessions, cwdSlug('/w/a')), 'moved', '/w/b', T0 + 2, ['b']); // the header decides, not the folder
    await writeSession(join(sessions, cwdSlug('/w/ab')), 'prefix', '/w/ab', T0 + 3, ['ab']);
    await writeJsonl(join(sessions, 'old', 'no-cwd.jsonl'), [{ type: 'session', id: 'no-cwd', timestamp: iso(T0) }]);

    expect((await listSessions({ agentDir, cwd: '/w/a' })).map((info) => info.id)).toEqual(['a-dotted', 'a']);
    expect((await listSessions({ agentDir, cwd: '/w/a/' })).map((info) => info.id)).toEqual(['a-dotted', 'a']);
    expect((await listSessions({ agentDir, cwd: '/w/b' })).map((info) => info.id)).toEqual(['moved']);
    expect((await listSessions({ agentDir, cwd: '/' })).map((info) => info.id)).toEqual([]);
    expect((await listSessions({ agentDir })).map((info) => info.id)).toContain('no-cwd');
  });

  it('gives [] for a directory that does not exist', async () => {
    const dir = await makeTempDir();
    await expect(listSessions({ sessionDir: join(dir, 'missing') })).resolves.toEqual([]);
    await expect(listSessions({ agentDir: dir })).resolves.toEqual([]); // no sessions/ in it
    await expect(listSessions({ agentDir: join(dir, 'missing'), cwd: '/w' })).resolves.toEqual([]);
  });

  it('without agentDir or sessionDir, reads ~/.pi/agent/sessions', async () => {
    const home = await makeTempDir();
    await writeSession(join(home, '.pi', 'agent', 'sessions', cwdSlug('/w')), 'home', '/w', T0, ['from home']);
    const previous = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      expect((await listSessions()).map((info) => info.id)).toEqual(['home']);
      expect((await listSessions({ cwd: '/w' })).map((info) => info.id)).toEqual(['home']);
    } finally {
      if (previous === undefined) delete process.env['HOME'];
      else process.env['HOME'] = previous;
    }
  });

  it.each([
    [{ agentDir: '/a', sessionDir: '/b' }, 'agentDir'],
    [{ agentDir: 'relative/agent' }, 'agentDir'],
    [{ sessionDir: './sessions' }, 'sessionDir'],
    [{ sessionDir: '' }, 'sessionDir'],
    [{ sessionDir: '/tmp/a\0b' }, 'sessionDir'],
    [{ agentDir: '/a', cwd: 'relative' }, 'cwd'],
    [{ agentDir: '/a', cwd: '/w\0' }, 'cwd'],
    [{ agentDir: 42 as unknown as string }, 'agentDir'],
  ])('rejects %j with a PiConfigError naming %s', async (options, field) => {
    const error: unknown = await listSessions(options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field, message: expect.stringContaining(field) });
  });

  it('rejects with the signal’s reason when aborted before or while it lists', async () => {
    const sessionDir = await makeTempDir();
    for (let index = 0; index < 30; index++) await writeSession(join(sessionDir, `d${index % 3}`), `s${index}`, '/w', T0 + index, ['x', 'y']);
    expect(await listSessions({ sessionDir })).toHaveLength(30);

    const before = new AbortController();
    before.abort(new Error('stop before'));
    await expect(listSessions({ sessionDir, signal: before.signal })).rejects.toThrow('stop before');

    const during = new AbortController();
    const listing = listSessions({ sessionDir, signal: during.signal });
    during.abort(new Error('stop during'));
    await expect(listing).rejects.toThrow('stop during');
  });
});
