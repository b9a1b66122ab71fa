/**
 * Issue 11 #7, #8 and #23 through the real pi 0.73.1 CLI against the bundled fake LLM: prompt
 * signals behave like fetch, a dialog too long to read is answered instead of hanging the run,
 * and a run does not end while pi retries after its agent_end.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { autoApprove } from '../../src/policies/autoApprove.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { eventsUntilAgentEnd, nextEvent } from '../helpers/realPi.js';

let env: FakePiEnv;
let client: PiClient;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
  client = new PiClient({ config: env.config });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

async function start(options: Parameters<PiClient['start']>[0] = {}): Promise<PiSession> {
  const session = await client.start({ cwd: env.cwd, approve: 'none', ...options });
  sessions.push(session);
  return session;
}

const types = (events: readonly PiEvent[]) => events.map((event) => event.type);

describe('prompt(text, { signal }) like fetch (real pi)', () => {
  it('an already-aborted signal sends nothing and rejects with its reason', async () => {
    const session = await start();
    const reason = new DOMException('gone', 'AbortError');
    await expect(session.prompt('scenario:text hi', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    // Nothing was sent: the next prompt is the session's first run.
    const result = await session.prompt('scenario:text hi');
    expect(result.reason).toBe('completed');
    expect(session.state.runs).toBe(1);
  });

  it('aborting mid-run rejects with the reason at once, and pi aborts the run', async () => {
    const session = await start();
    const controller = new AbortController();
    const started = nextEvent(session, 'message_delta');
    const ended = nextEvent(session, 'agent_end', 60_000);
    const run = session.prompt('scenario:slow:200:200', { signal: controller.signal });
    await started;
    controller.abort(new Error('the user left'));
    await expect(run).rejects.toThrow('the user left');
    expect(await ended).toMatchObject({ reason: 'cancelled' });
  });

  it('aborting a queued prompt rejects with the reason; it never runs', async () => {
    const session = await start();
    const first = session.prompt('scenario:slow:5:50');
    const controller = new AbortController();
    const second = session.prompt('scenario:text never sent', { signal: controller.signal });
    controller.abort('changed my mind');
    await expect(second).rejects.toBe('changed my mind');
    await first;
    expect(session.state).toMatchObject({ runs: 1, queuedPrompts: 0 });
  });
});

describe('a dialog longer than maxLineBytes (real pi)', () => {
  it('is refused on the wire by its id: the tool does not run and the run ends', async () => {
    const session = await start({ approve: 'all', policy: autoApprove(), config: env.config.with({ maxLineBytes: 4_096 }) });
    const name = `long-dialog-${process.pid}.txt`;
    // The approval dialog quotes the command: over 4 KiB, so pidriver can't read it.
    const command = `echo ${'x'.repeat(6_000)} > ${name}`;
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(`scenario:tool-bash [[cmd:${command}]]`);
    const events = await collected;
    await session.close();
    expect(existsSync(join(env.cwd, name))).toBe(false);
    expect(events.some((event) => event.type === 'error' && event.code === 'line_too_long')).toBe(true);
    expect(types(events).at(-1)).toBe('agent_end');
  });
});

describe('pi 0.73 retries after its agent_end (real pi)', () => {
  it('the run ends after the retry succeeded, with its text, and one agent_end', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    // The first request fails with a 500 the OpenAI SDK does not retry; pi retries after its agent_end.
    const result = await session.prompt('scenario:flaky500 noretry');
    const events = await collected;
    expect(result).toMatchObject({ reason: 'completed', finalText: 'Hello from the fake LLM.' });
    expect(types(events).filter((type) => type === 'agent_end')).toHaveLength(1);
    expect(types(events).filter((type) => type === 'agent_start')).toHaveLength(1);
    const retries = events.filter((event): event is Extract<PiEvent, { type: 'retry' }> => event.type === 'retry');
    expect(retries.map((event) => event.phase)).toEqual(['start', 'end']);
    expect(types(events).indexOf('retry')).toBeLessThan(types(events).lastIndexOf('message_delta'));
  });
});
