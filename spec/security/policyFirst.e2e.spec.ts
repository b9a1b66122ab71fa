/**
 * Issue 11 #1 and #9 through the real pi 0.73.1 CLI and pidriver's approval extension: the policy
 * decides before the host sees a request, so a host that answers from `pending$` or `events$`
 * at once can't overrule it; and a request nobody could ever answer doesn't hang the run.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, type AuditEntry } from '../../src/policies/auditLog.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { denyAll } from '../../src/policies/denyAll.js';
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
  const session = await client.start({ cwd: env.cwd, ...options });
  sessions.push(session);
  return session;
}

const createFile = () => bashFilePrompt(env.cwd, 'policy-first');

const toolEndOf = (events: readonly PiEvent[]) => events.find((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end');

describe('the policy decides first (real pi)', () => {
  it('denyAll holds against a host that answers allow at once from pending$ and events$', async () => {
    const audit: AuditEntry[] = [];
    const session = await start({ policy: auditLog((entry) => audit.push(entry), denyAll('not here')) });
    const pendingSizes: number[] = [];
    session.pending$.subscribe((pending) => {
      pendingSizes.push(pending.length);
      for (const request of pending) void session.respond(request.requestId, true).catch(() => undefined);
    });
    session.events$.subscribe({
      next: (event) => {
        if (event.type === 'interaction_request') void session.respond(event.requestId, true).catch(() => undefined);
      },
      error: () => undefined,
    });
    const { prompt, file } = createFile();
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(prompt);
    const events = await collected;
    await session.close(); // pi and anything it started are gone: a late tool would have run by now

    expect(existsSync(file)).toBe(false);
    expect(toolEndOf(events)).toMatchObject({ name: 'bash', isError: true });
    expect(pendingSizes.every((size) => size === 0)).toBe(true);
    expect(events.find((event) => event.type === 'interaction_request')).toMatchObject({ kind: 'permission', toolName: 'bash', handledBy: 'policy' });
    // The audit log saw the answer pi got.
    expect(audit.filter((entry) => entry.answer).map((entry) => entry.answer?.decision)).toEqual([{ kind: 'deny', message: 'not here' }]);
  });

  it('an auto-approved tool never appears in pending$', async () => {
    const session = await start({ policy: autoApprove() });
    const pendingSizes: number[] = [];
    session.pending$.subscribe((pending) => pendingSizes.push(pending.length));
    const { prompt, file } = createFile();
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(prompt);
    const events = await collected;
    expect(existsSync(file)).toBe(true);
    expect(pendingSizes).toEqual([0]);
    expect((events.find((event) => event.type === 'interaction_request') as InteractionRequest).handledBy).toBe('policy');
  });
});

describe('a request nobody can answer (real pi)', () => {
  it('a script that only awaits prompt() with the default policy: the tool is denied with how to answer, no hang', async () => {
    const session = await start();
    const { prompt, file } = createFile();
    const result = await session.prompt(prompt);
    expect(existsSync(file)).toBe(false);
    expect(result.finalText).toMatch(/nobody can answer/);
    const recent: PiEvent[] = [];
    session.recentEvents$.subscribe({ next: (event) => recent.push(event), error: () => undefined }).unsubscribe();
    const message = (recent.find((event) => event.type === 'error' && event.code === 'policy_error') as { message: string } | undefined)?.message;
    expect(message).toMatch(/Pass a policy to client\.start\(\)/);
    expect(message).toMatch(/tool "bash"/);
  });

  it('answering from an events$ subscriber still works with the default policy', async () => {
    const session = await start();
    session.events$.subscribe({
      next: (event) => {
        if (event.type === 'interaction_request') void session.respond(event.requestId, true);
      },
      error: () => undefined,
    });
    const { prompt, file } = createFile();
    await session.prompt(prompt);
    expect(existsSync(file)).toBe(true);
  });
});
