/**
 * End-to-end: `session.setPolicy()` through the real pi 0.73.1 CLI and pidriver's approval
 * extension, against the bundled fake LLM asking for a `bash` tool that creates a file. A request
 * waiting for the host, or for a slow host callback, is decided by the policy switched to; a
 * policy switched to between runs decides the next request.
 */
import { existsSync } from 'node:fs';
import { filter, firstValueFrom, NEVER, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { denyTools } from '../../src/policies/denyTools.js';
import type { InteractionRequest, PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { bashFilePrompt, eventsUntilAgentEnd } from '../helpers/realPi.js';

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
  const session = await client.start({ cwd: env.cwd, approve: ['bash'], ...options });
  sessions.push(session);
  return session;
}

/** The first non-empty `pending$` (bounded). */
const firstPending = (session: PiSession): Promise<readonly InteractionRequest[]> =>
  firstValueFrom(
    session.pending$.pipe(
      filter((pending) => pending.length > 0),
      timeout(30_000),
    ),
  );

const interactionRequests = (events: readonly PiEvent[]) => events.filter((event): event is InteractionRequest => event.type === 'interaction_request');
const toolEnd = (events: readonly PiEvent[]) => events.find((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end');

describe('session.setPolicy() through the real pi CLI', () => {
  it('a request waiting in pending$ under the default policy is approved by autoApprove() switched to, and the run finishes', async () => {
    const session = await start();
    const { prompt, file } = bashFilePrompt(env.cwd, 'switched', 'approved');
    const collected = eventsUntilAgentEnd(session.events$); // also makes the request visible to the host
    const run = session.prompt(prompt);
    const [request] = await firstPending(session);
    expect(request).toMatchObject({ kind: 'permission', toolName: 'bash', handledBy: 'host' });

    session.setPolicy(autoApprove());
    const result = await run;
    const events = await collected;
    expect(result.reason).toBe('completed');
    expect(session.pending).toEqual([]);
    expect(toolEnd(events)).toMatchObject({ isError: false });
    expect(existsSync(file)).toBe(true);
    // Recorded once, when it was left to the host; the new policy's answer adds no second record.
    expect(interactionRequests(events).map((event) => [event.requestId, event.handledBy])).toEqual([[request?.requestId, 'host']]);
  });

  it('a request a slow host callback is deciding is decided by the new policy; the callback’s signal aborts', async () => {
    let asked!: (signal: AbortSignal) => void;
    const askedOnce = new Promise<AbortSignal>((resolve) => (asked = resolve));
    const session = await start({
      policy: askHost((_request, { signal }) => {
        asked(signal);
        return NEVER; // the host never answers
      }),
    });
    const { prompt, file } = bashFilePrompt(env.cwd, 'slow-host', 'approved');
    const collected = eventsUntilAgentEnd(session.events$);
    const run = session.prompt(prompt);
    const signal = await askedOnce;
    expect(session.pending).toEqual([]); // the policy is deciding: not the host's

    session.setPolicy(autoApprove());
    expect(signal.aborted).toBe(true);
    expect((await run).reason).toBe('completed');
    const events = await collected;
    expect(existsSync(file)).toBe(true);
    expect(interactionRequests(events).map((event) => event.handledBy)).toEqual(['policy']);
  });

  it('a policy switched to between runs denies the next request', async () => {
    const session = await start({ policy: autoApprove() });
    const first = bashFilePrompt(env.cwd, 'before-switch', 'allowed');
    expect((await session.prompt(first.prompt)).reason).toBe('completed');
    expect(existsSync(first.file)).toBe(true);

    session.setPolicy(denyTools(['bash']));
    const second = bashFilePrompt(env.cwd, 'after-switch', 'denied');
    const collected = eventsUntilAgentEnd(session.events$);
    expect((await session.prompt(second.prompt)).reason).toBe('completed');
    const events = await collected;
    expect(toolEnd(events)).toMatchObject({ isError: true, result: expect.stringContaining('tool bash is not allowed') as unknown });
    expect(existsSync(second.file)).toBe(false);
    expect(interactionRequests(events).map((event) => event.handledBy)).toEqual(['policy']);
  });
});
