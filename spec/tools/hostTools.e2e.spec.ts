/**
 * End-to-end: host tools and structured output through the real pi 0.73.1 CLI and pidriver's
 * extension, against the bundled fake LLM (scenarios `tool-call`, `result`, `result-retry`,
 * `result-prose`, `result-never`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defer, interval, map, take, timer } from 'rxjs';
import * as z from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { denyTools } from '../../src/policies/denyTools.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { hostTool } from '../../src/tools/hostTool.js';
import { eventsUntilAgentEnd } from '../helpers/realPi.js';

let env: FakePiEnv;
let client: PiClient;
const sessions: PiSession[] = [];
const calls: { sku: string; toolCallId: string; sessionId: string }[] = [];

const lookup = hostTool({
  name: 'lookup_stock',
  description: 'Looks up how many units of a SKU are in stock.',
  parameters: z.object({ sku: z.string().min(3) }),
  execute: ({ sku }, { toolCallId, session }) => {
    calls.push({ sku, toolCallId, sessionId: session.sessionId });
    return Promise.resolve(`12 units of ${sku}`);
  },
});

beforeAll(async () => {
  env = await startFakePiEnv();
  client = new PiClient({ config: env.config, approve: 'none' });
});

afterEach(async () => {
  calls.length = 0;
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

const toolCall = (tool: string, args: object) => `scenario:tool-call [[tool:${tool}]] [[args:${JSON.stringify(args)}]]`;
const ofType = <T extends PiEvent['type']>(events: readonly PiEvent[], type: T) =>
  events.filter((event): event is Extract<PiEvent, { type: T }> => event.type === type);

describe('host tools through the real pi CLI', () => {
  it('the model sees the tool with its JSON Schema; execute runs in the host; its result reaches the model and the final text', async () => {
    const session = await start({ tools: [lookup] });
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(toolCall('lookup_stock', { sku: 'A-100' }));
    const events = await collected;
    expect(calls).toEqual([{ sku: 'A-100', toolCallId: 'call_tool_1', sessionId: session.sessionId }]);
    expect(result.finalText).toContain('12 units of A-100');
    expect(ofType(events, 'tool_start')).toMatchObject([{ name: 'lookup_stock', arguments: { sku: 'A-100' } }]);
    expect(ofType(events, 'tool_end')).toMatchObject([{ name: 'lookup_stock', isError: false, result: '12 units of A-100' }]);
    expect(ofType(events, 'interaction_request')).toEqual([]); // host calls are nobody's question
    const request = env.llm.requests.at(-1)!;
    expect(request.tools).toContain('lookup_stock');
    const body = request.body as { tools: { function: { name: string; description: string; parameters: unknown } }[] };
    const sent = body.tools.find((tool) => tool.function.name === 'lookup_stock')!;
    expect(sent.function.description).toBe('Looks up how many units of a SKU are in stock.');
    expect(sent.function.parameters).toMatchObject({ type: 'object', properties: { sku: { type: 'string', minLength: 3 } }, required: ['sku'] });
  });

  it('invalid arguments never reach execute: the model gets a tool error naming the field', async () => {
    const session = await start({ tools: [lookup] });
    const result = await session.prompt(toolCall('lookup_stock', { sku: 42 }));
    expect(calls).toEqual([]);
    expect(result.finalText).toMatch(/sku/);
  });

  it('a throw becomes a tool error (isError), the session goes on', async () => {
    const failing = hostTool({
      name: 'flaky',
      description: 'Always fails.',
      parameters: z.object({}),
      execute: () => Promise.reject(new Error('the warehouse is offline')),
    });
    const session = await start({ tools: [failing] });
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(toolCall('flaky', {}));
    expect(ofType(await collected, 'tool_end')).toMatchObject([{ name: 'flaky', isError: true, result: expect.stringContaining('the warehouse is offline') }]);
    expect(result.reason).toBe('completed');
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ finalText: 'Hello from the fake LLM.' });
  });

  it('an Observable: each value before the last is a tool_update, the last is the result', async () => {
    const progress = hostTool({
      name: 'count_up',
      description: 'Counts to three.',
      parameters: z.object({}),
      execute: () =>
        interval(10).pipe(
          take(3),
          map((n) => (n < 2 ? `step ${n + 1}` : { content: 'counted to 3', details: { n: 3 } })),
        ),
    });
    const session = await start({ tools: [progress] });
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(toolCall('count_up', {}));
    const events = await collected;
    expect(ofType(events, 'tool_update').map((event) => event.output)).toEqual(['step 1', 'step 2']);
    expect(ofType(events, 'tool_end')).toMatchObject([{ name: 'count_up', isError: false, result: 'counted to 3', details: { n: 3 } }]);
  });

  it('abort fires the signal of a running call, and the run ends cancelled', async () => {
    let aborted = false;
    let executing!: () => void;
    const running$ = new Promise<void>((resolve) => (executing = resolve));
    const slow = hostTool({
      name: 'slow_tool',
      description: 'Takes forever.',
      parameters: z.object({}),
      execute: (_args, { signal }) =>
        defer(() => {
          signal.addEventListener('abort', () => (aborted = true));
          executing();
          return timer(600_000).pipe(map(() => 'never'));
        }),
    });
    const session = await start({ tools: [slow] });
    const running = session.prompt(toolCall('slow_tool', {}));
    await running$;
    await session.abort();
    await expect(running).resolves.toMatchObject({ reason: 'cancelled' });
    expect(aborted).toBe(true);
  });

  it('policies apply to host tools by name: denyTools blocks it before execute', async () => {
    const session = await start({ tools: [lookup], approve: ['lookup_stock'], policy: denyTools(['lookup_stock'], autoApprove()) });
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(toolCall('lookup_stock', { sku: 'A-100' }));
    expect(calls).toEqual([]);
    expect(ofType(await collected, 'tool_end')).toMatchObject([{ name: 'lookup_stock', isError: true }]);
  });

  it('the agent’s bash does not see the nonce or the tool list', async () => {
    const session = await start({ tools: [lookup] });
    const out = join(env.cwd, 'env-dump.txt');
    const result = await session.prompt(`scenario:tool-bash [[cmd:env > ${out}; echo dumped]]`);
    expect(result.reason).toBe('completed');
    expect(existsSync(out)).toBe(true);
    const dump = readFileSync(out, 'utf8');
    expect(dump).not.toContain('PIDRIVER_NONCE');
    expect(dump).not.toContain('PIDRIVER_HOST_TOOLS');
  });
});

describe('structured output through the real pi CLI', () => {
  const City = z.object({ city: z.string(), population: z.number() });
  const good = JSON.stringify({ city: 'Paris', population: 2_100_000 });
  const bad = JSON.stringify({ city: 'Paris', population: 'lots' });

  it('a valid call ends the run with result.output, typed and parsed; prompt$ shows it on agent_end', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(`scenario:result [[args:${good}]]`, { output: City });
    expect(result).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
    const population: number | undefined = result.output?.population;
    expect(population).toBe(2_100_000);
    const end = ofType(await collected, 'agent_end')[0];
    expect(end?.output).toEqual({ city: 'Paris', population: 2_100_000 });
    // The result tool is offered for that run only; the request carried its schema.
    const offered = env.llm.requests.filter((request) => request.tools.includes('submit_result'));
    expect(offered.length).toBeGreaterThan(0);
    await session.prompt('scenario:text');
    expect(env.llm.requests.at(-1)!.tools).not.toContain('submit_result');
    // The marker never reaches the model.
    expect(env.llm.requests.some((request) => request.lastUserText.includes('pidriver-run'))).toBe(false);
  });

  it('an invalid call goes back to the model as a tool error naming the field; the valid retry wins', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(`scenario:result-retry [[bad:${bad}]] [[args:${good}]]`, { output: City });
    expect(result).toMatchObject({ reason: 'completed', output: { city: 'Paris', population: 2_100_000 } });
    const ends = ofType(await collected, 'tool_end');
    expect(ends[0]).toMatchObject({ name: 'submit_result', isError: true, result: expect.stringContaining('population') });
  });

  it('a model that answers in prose is asked again, in the same run', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(`scenario:result-prose [[args:${good}]]`, { output: City });
    expect(result).toMatchObject({ reason: 'completed', output: { city: 'Paris' } });
    const events = await collected;
    expect(ofType(events, 'agent_start')).toHaveLength(1);
    expect(ofType(events, 'agent_end')).toHaveLength(1);
  });

  it('a model that never gets it right ends the run as an error after 3 tries, and the session goes on', async () => {
    const session = await start();
    const result = await session.prompt(`scenario:result-never [[bad:${bad}]]`, { output: City });
    expect(result).toMatchObject({ reason: 'error', errorCode: 'structured_output_invalid', errorMessage: expect.stringContaining('population') });
    expect(result.output).toBeUndefined();
    await expect(session.prompt('scenario:text')).resolves.toMatchObject({ reason: 'completed' });
  });

  it('a model that never calls it: structured_output_missing after outputAttempts', async () => {
    const session = await start();
    const before = env.llm.requests.length;
    const result = await session.prompt('scenario:text', { output: City, outputAttempts: 2 });
    expect(result).toMatchObject({ reason: 'error', errorCode: 'structured_output_missing' });
    const asked = env.llm.requests.slice(before).filter((request) => request.lastUserText.includes('submit_result'));
    expect(asked).toHaveLength(1);
  });
});
