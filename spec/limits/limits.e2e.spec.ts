/**
 * End-to-end: run limits and a manager's budget through the real pi 0.73.1 CLI against the fake
 * LLM (`tool-loop` never stops calling a tool, `hang` never answers). Each run ends as `limit`
 * naming the limit, and the session is usable afterwards.
 */
import { NEVER } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { PiLimitError } from '../../src/errors.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { hostTool } from '../../src/tools/hostTool.js';

let env: FakePiEnv;
let client: PiClient;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
  client = new PiClient({ config: env.config, approve: 'none' });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

async function start(extra: Parameters<PiClient['start']>[0] = {}): Promise<PiSession> {
  const session = await client.start({ cwd: env.cwd, ...extra });
  sessions.push(session);
  return session;
}

describe('run limits through the real pi CLI', () => {
  it('maxTurns: a model that loops on a tool is stopped after its turns; the session works afterwards', async () => {
    const session = await start({ limits: { maxTurns: 2 } });
    const result = await session.prompt('scenario:tool-loop');
    expect(result).toMatchObject({ reason: 'limit', limit: 'maxTurns', errorMessage: expect.stringContaining('maxTurns') });
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed', finalText: 'Hello from the fake LLM.' });
  });

  it('a prompt’s own limits win over the session’s', async () => {
    const session = await start({ limits: { maxTurns: 50 } });
    await expect(session.prompt('scenario:tool-loop', { limits: { maxTurns: 1 } })).resolves.toMatchObject({ reason: 'limit', limit: 'maxTurns' });
  });

  it('maxCostUsd: the run’s cost, summed from its messages', async () => {
    const session = await start({ limits: { maxCostUsd: 0.0001 } }); // the fake LLM's message costs $0.000066
    await expect(session.prompt('scenario:tool-loop')).resolves.toMatchObject({ reason: 'limit', limit: 'maxCostUsd' });
  });

  it('maxTokens: the run’s tokens, summed from its messages', async () => {
    const session = await start({ limits: { maxTokens: 150 } }); // the fake LLM's message uses 101 tokens
    await expect(session.prompt('scenario:tool-loop')).resolves.toMatchObject({ reason: 'limit', limit: 'maxTokens' });
  });

  it('toolStallTimeoutMs: a tool that never ends is given up on after the tool allowance, not the stall one', async () => {
    const stuck = hostTool({ name: 'stuck', description: 'Never ends.', parameters: z.object({}), execute: () => NEVER });
    const session = await start({ tools: [stuck], limits: { stallTimeoutMs: 60_000, toolStallTimeoutMs: 1_000 } });
    const result = await session.prompt('scenario:tool-call [[tool:stuck]]');
    expect(result).toMatchObject({ reason: 'limit', limit: 'toolStallTimeoutMs', errorMessage: expect.stringContaining('stuck') });
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed' });
  });

  it('stallTimeoutMs: a provider that never answers is given up on', async () => {
    const session = await start({ limits: { stallTimeoutMs: 1_500 } });
    await expect(session.prompt('scenario:hang')).resolves.toMatchObject({ reason: 'limit', limit: 'stallTimeoutMs' });
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed' });
  });

  it('a manager’s budget: once spent, the run ends as limit and new prompts reject with PiLimitError', async () => {
    await using manager = new PiSessionManager({
      factory: (options: Parameters<PiClient['start']>[0]) => client.start(options),
      limits: { maxCostUsd: 0.0001 },
    });
    const session = await manager.create({ cwd: env.cwd });
    await expect(session.prompt('scenario:tool-loop')).resolves.toMatchObject({ reason: 'limit', limit: 'maxCostUsd' });
    expect(manager.budgetExceeded).toMatchObject({ limit: 'maxCostUsd' });
    await expect(session.prompt('scenario:text')).rejects.toBeInstanceOf(PiLimitError);
  });
});
