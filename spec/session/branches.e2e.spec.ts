/**
 * End-to-end: the typed conversation commands (`newSession`, `fork`, `clone`, `switchSession`)
 * and `getEntries` / `getTree` through the real pi 0.73.1 CLI and the bundled fake LLM, against
 * pi's own session files. pi 0.73 has no `get_entries` / `get_tree`: the session reads its file.
 */
import { join } from 'node:path';
import { firstValueFrom, toArray, takeUntil, timer } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiConfigError, PiDriverError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { listSessions } from '../../src/sessionFiles/listSessions.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { nextEvent } from '../helpers/realPi.js';
import { EXPECTED_LIFECYCLE, runLifecycle } from '../dialects/lifecycleCode.js';

let env: FakePiEnv;
let client: PiClient;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
  client = new PiClient({ config: env.config.with({ session: true }), approve: 'none' });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

async function start(): Promise<PiSession> {
  const session = await client.start({ cwd: env.cwd });
  sessions.push(session);
  return session;
}

/** The texts of the user messages pi sent in the next LLM request. */
async function userTextsOfNextRun(session: PiSession, prompt: string): Promise<string> {
  const before = env.llm.requests.length;
  await session.prompt(prompt);
  return JSON.stringify(env.llm.requests[before]?.body);
}

const userEntries = (entries: readonly { readonly type: string; readonly id: string; readonly [key: string]: unknown }[]) =>
  entries.filter((entry) => entry.type === 'message' && (entry['message'] as { role?: string } | undefined)?.role === 'user');

describe('conversations through the real pi CLI', () => {
  it('getEntries / getTree read the session file; fork() goes back before a user message', async () => {
    const session = await start();
    await session.prompt('scenario:text first question ALPHA');
    await session.prompt('scenario:text second question BETA');
    const { entries, leafId } = await session.getEntries();
    const users = userEntries(entries);
    expect(users).toHaveLength(2);
    expect(leafId).toBe(entries.at(-1)?.id);
    const { tree } = await session.getTree();
    expect(tree).toHaveLength(1); // one root; the conversation hangs below it

    const before = { piSessionId: session.piSessionId };
    const changed = nextEvent(session, 'session_changed');
    const forked = await session.fork(users[1]?.id as string);
    expect(forked.text).toContain('second question BETA');
    const event = await changed;
    expect(event).toMatchObject({ reason: 'fork', piSessionId: session.piSessionId });
    expect(session.piSessionId).not.toBe(before.piSessionId);
    expect(session.state.piSessionId).toBe(session.piSessionId);
    // A late subscriber of recentEvents$ starts at the change, not in the conversation before it.
    const replay = await firstValueFrom(session.recentEvents$.pipe(takeUntil(timer(200)), toArray()));
    expect(replay.map((replayed) => replayed.type)).toEqual(['session_changed']);

    // The fork holds the history before BETA only.
    const body = await userTextsOfNextRun(session, 'scenario:text third question GAMMA');
    expect(body).toContain('ALPHA');
    expect(body).not.toContain('BETA');
  });

  it('clone() keeps the whole history; newSession() starts empty; switchSession() goes back; listSessions sees them all', async () => {
    const session = await start();
    await session.prompt('scenario:text remember DELTA');
    const original = session.piSessionId as string;

    await session.clone();
    const cloned = session.piSessionId as string;
    expect(cloned).not.toBe(original);
    expect(await userTextsOfNextRun(session, 'scenario:text in the clone')).toContain('DELTA');

    await session.newSession();
    expect(session.piSessionId).not.toBe(cloned);
    expect(await userTextsOfNextRun(session, 'scenario:text in a new one')).not.toContain('DELTA');

    await session.switchSession(original);
    expect(session.piSessionId).toBe(original);
    const body = await userTextsOfNextRun(session, 'scenario:text back home');
    expect(body).toContain('DELTA');
    expect(body).not.toContain('in the clone');

    const ids = (await listSessions({ agentDir: env.agentDir, cwd: env.cwd })).map((info) => info.id);
    expect(ids).toEqual(expect.arrayContaining([original, cloned]));
  });

  it('a change while a run is going is refused (PI_BUSY); bad arguments are PiConfigErrors', async () => {
    const session = await start();
    const run = session.prompt('scenario:slow:20:50 busy');
    await nextEvent(session, 'agent_start');
    await expect(session.clone()).rejects.toMatchObject({ code: 'PI_BUSY' });
    await expect(session.fork('')).rejects.toBeInstanceOf(PiConfigError);
    await expect(session.switchSession('no-such-session-id')).rejects.toBeInstanceOf(PiConfigError);
    await session.abort();
    await run;
    await expect(session.fork('ffffffff')).rejects.toBeInstanceOf(PiDriverError);
    // pi 0.73 would "switch" to anything: a file that is no session, or none, is refused before it is asked.
    await expect(session.switchSession(join(env.agentDir, 'models.json'))).rejects.toMatchObject({ field: 'sessionPath' });
    await expect(session.switchSession(join(env.cwd, 'missing.jsonl'))).rejects.toBeInstanceOf(PiConfigError);
    expect(session.state.status).toBe('idle');
  });

  it('the lifecycle program every dialect runs (spec/dialects/lifecycleCode.ts): a restart after a fork resumes the fork', async () => {
    const { report, session } = await runLifecycle(env.config, env);
    sessions.push(session);
    expect(report).toEqual(EXPECTED_LIFECYCLE);
  });
});
