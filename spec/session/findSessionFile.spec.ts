/**
 * findSessionFile: resolving a pi session id to its file, as `client.start({ resume: id })` does.
 *
 * pi 0.73 (`core/session-manager.js`) names a session file `<timestamp>_<sessionId>.jsonl`, the
 * timestamp being the ISO time with `:` and `.` replaced by `-`. It writes it directly under
 * `--session-dir` when given, and otherwise under `<agentDir>/sessions/--<cwd with / as ->--/`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { findSessionFile } from '../../src/session/findSessionFile.js';

const ID = '01a20dd6-8d1e-7552-b162-985fcf883885';
const OTHER_ID = '01a20dd6-442b-751b-9d33-0cd8a06cceb6';

/** pi's file name for a session started at `iso`. */
const sessionFileName = (id: string, iso = '2026-11-24T13:54:54.366Z') => `${iso.replace(/[:.]/g, '-')}_${id}.jsonl`;
/** pi's directory name for a cwd under `<agentDir>/sessions`. */
const cwdSlug = (cwd: string) => `--${cwd.replace(/^[/\\]/, '').replace(/[/\\:]/g, '-')}--`;

async function touch(path: string, content = '{"type":"session"}\n'): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

describe('findSessionFile', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'pidriver-find-session-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds a session file written directly under sessionDir (pi --session-dir)', async () => {
    const sessionDir = join(root, 'sessions-test');
    const file = await touch(join(sessionDir, sessionFileName(ID)));
    await touch(join(sessionDir, sessionFileName(OTHER_ID, '2026-11-24T13:55:00.000Z')));
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), ID)).resolves.toBe(file);
  });

  it('finds a session file under <agentDir>/sessions/<cwd slug>/ (pi’s default layout)', async () => {
    const agentDir = join(root, 'agent');
    await touch(join(agentDir, 'sessions', cwdSlug('/work/other'), sessionFileName(OTHER_ID)));
    const file = await touch(join(agentDir, 'sessions', cwdSlug('/work/project'), sessionFileName(ID)));
    await expect(findSessionFile(PiConfig.parse({ agentDir }), ID)).resolves.toBe(file);
  });

  it('prefers sessionDir over agentDir, as pi does', async () => {
    const agentDir = join(root, 'agent');
    const sessionDir = join(root, 'elsewhere');
    await touch(join(agentDir, 'sessions', cwdSlug('/work/project'), sessionFileName(ID)));
    await expect(findSessionFile(PiConfig.parse({ agentDir, sessionDir }), ID)).resolves.toBeUndefined();
    const file = await touch(join(sessionDir, sessionFileName(ID)));
    await expect(findSessionFile(PiConfig.parse({ agentDir, sessionDir }), ID)).resolves.toBe(file);
  });

  it('looks under ~/.pi/agent/sessions without agentDir or sessionDir', async () => {
    const home = process.env['HOME'];
    process.env['HOME'] = root; // os.homedir() reads HOME on POSIX
    try {
      const file = await touch(join(root, '.pi', 'agent', 'sessions', cwdSlug('/work/project'), sessionFileName(ID)));
      await expect(findSessionFile(PiConfig.parse({}), ID)).resolves.toBe(file);
    } finally {
      if (home === undefined) delete process.env['HOME'];
      else process.env['HOME'] = home;
    }
  });

  it('resolves undefined when no file has the id', async () => {
    const sessionDir = join(root, 'sessions');
    await touch(join(sessionDir, sessionFileName(OTHER_ID)));
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), ID)).resolves.toBeUndefined();
  });

  it('resolves undefined, without throwing, when the session directory does not exist', async () => {
    await expect(findSessionFile(PiConfig.parse({ sessionDir: join(root, 'missing') }), ID)).resolves.toBeUndefined();
    await expect(findSessionFile(PiConfig.parse({ agentDir: join(root, 'no-agent') }), ID)).resolves.toBeUndefined();
  });

  it('ignores files that are not .jsonl and directories named after the id', async () => {
    const sessionDir = join(root, 'sessions');
    await touch(join(sessionDir, `${sessionFileName(ID)}.bak`));
    await touch(join(sessionDir, `${ID}.txt`));
    await mkdir(join(sessionDir, `${ID}.jsonl`), { recursive: true });
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), ID)).resolves.toBeUndefined();
  });

  it('accepts a unique prefix of the id, as pi’s --session does', async () => {
    const sessionDir = join(root, 'sessions');
    const file = await touch(join(sessionDir, sessionFileName(ID)));
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), ID.slice(0, 13))).resolves.toBe(file);
  });

  it('a string that only occurs in a file’s timestamp matches no session', async () => {
    // pi matches `--session <id>` against the *start* of session ids; the file-name substring
    // match also hits the timestamp, so `resume: '2026'` resumes some arbitrary session instead
    // of failing with "no pi session file found".
    const sessionDir = join(root, 'sessions');
    await touch(join(sessionDir, sessionFileName(ID)));
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), '2026')).resolves.toBeUndefined();
  });
  it('accepts a unique prefix of an id, and rejects an ambiguous one with PiConfigError', async () => {
    const sessionDir = join(root, 'sessions');
    const file = await touch(join(sessionDir, sessionFileName(ID)));
    await touch(join(sessionDir, sessionFileName(OTHER_ID, '2026-11-24T13:55:00.000Z')));
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), '01a20dd6-8d1e')).resolves.toBe(file);
    await expect(findSessionFile(PiConfig.parse({ sessionDir }), '01a20dd6')).rejects.toThrow(/matches 2 pi sessions/);
    // Only how many: the other sessions' ids are not the caller's to see.
    const error = await findSessionFile(PiConfig.parse({ sessionDir }), '01a20dd6').catch((caught: unknown) => caught);
    expect(inspect(error)).not.toContain(ID.slice(8));
    expect(inspect(error)).not.toContain(OTHER_ID.slice(8));
  });

  it('takes the newest file of a session, and the directories pi would read from extraEnv', async () => {
    const sessionDir = join(root, 'env-sessions');
    await touch(join(sessionDir, sessionFileName(ID, '2026-11-24T13:54:54.366Z')));
    const newer = await touch(join(sessionDir, sessionFileName(ID, '2026-11-25T08:00:00.000Z')));
    await expect(findSessionFile(PiConfig.parse({ extraEnv: { PI_CODING_AGENT_SESSION_DIR: sessionDir } }), ID)).resolves.toBe(newer);
    const agentDir = join(root, 'env-agent');
    const inAgent = await touch(join(agentDir, 'sessions', cwdSlug('/srv/acme'), sessionFileName(OTHER_ID)));
    await expect(findSessionFile(PiConfig.parse({ extraEnv: { PI_CODING_AGENT_DIR: agentDir } }), OTHER_ID)).resolves.toBe(inAgent);
  });
});
