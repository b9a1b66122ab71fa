/**
 * End-to-end: interaction policies through the real pi 0.73.1 CLI and pidriver's approval
 * extension, against the bundled fake LLM asking for a `bash` tool that creates a file.
 */
import { existsSync } from 'node:fs';
import { filter, map, timer } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { InteractionRequest, PiEvent } from '../../src/protocol/events.js';
import { askHost } from '../../src/policies/askHost.js';
import { autoApprove } from '../../src/policies/autoApprove.js';
import { byKind } from '../../src/policies/byKind.js';
import { denyAll } from '../../src/policies/denyAll.js';
import type { Policy } from '../../src/policies/types.js';
import { bashFilePrompt, eventsUntilAgentEnd, nextEvent } from '../helpers/realPi.js';

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

async function start(policy?: Policy, extra: Parameters<PiClient['start']>[0] = {}): Promise<PiSession> {
  const session = await client.start({ cwd: env.cwd, ...(policy ? { policy } : {}), ...extra });
  sessions.push(session);
  return session;
}

const createFilePrompt = () => bashFilePrompt(env.cwd, 'made', 'created');

const toolEnd = (events: readonly PiEvent[]) => events.find((event): event is Extract<PiEvent, { type: 'tool_end' }> => event.type === 'tool_end');

describe('interaction policies through the real pi CLI', () => {
  it('denyAll: the tool is blocked, the file is not created, tool_end.isError is true', async () => {
    const session = await start(denyAll('not on my watch'));
    const { prompt, file } = createFilePrompt();
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(prompt);
    const events = await collected;
    const request = events.find((event) => event.type === 'interaction_request') as InteractionRequest;
    expect(request).toMatchObject({
      kind: 'permission',
      toolName: 'bash',
      toolCallId: 'call_bash_1',
      args: { command: expect.stringContaining('echo created') },
    });
    expect(toolEnd(events)).toMatchObject({ isError: true, result: expect.stringContaining('not on my watch') });
    expect(existsSync(file)).toBe(false);
  });

  it('autoApprove: the tool runs and creates the file', async () => {
    const session = await start(autoApprove());
    const { prompt, file } = createFilePrompt();
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(prompt);
    expect(toolEnd(await collected)).toMatchObject({ isError: false });
    expect(existsSync(file)).toBe(true);
  });

  it('askHost answering after a delay: the tool runs', async () => {
    const asked: string[] = [];
    const session = await start(
      askHost((request) => {
        asked.push(request.toolName ?? '?');
        return timer(200).pipe(map(() => true));
      }),
    );
    const { prompt, file } = createFilePrompt();
    await session.prompt(prompt);
    expect(asked).toEqual(['bash']);
    expect(existsSync(file)).toBe(true);
  });

  it('a policy that throws denies (fail closed) and the session goes on', async () => {
    const session = await start(
      askHost(() => {
        throw new Error('policy bug');
      }),
    );
    const { prompt, file } = createFilePrompt();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt(prompt);
    expect(toolEnd(await collected)).toMatchObject({ isError: true });
    expect(existsSync(file)).toBe(false);
    expect(result.reason).toBe('completed');
  });

  it('default policy (defer): the host answers with respond() from an events$ subscriber', async () => {
    const session = await start();
    session.events$.pipe(filter((event): event is InteractionRequest => event.type === 'interaction_request')).subscribe((request) => {
      void session.respond(request.requestId, 'Approve');
    });
    const { prompt, file } = createFilePrompt();
    await session.prompt(prompt);
    expect(existsSync(file)).toBe(true);
    expect(session.pending).toEqual([]);
  });

  it('abort while a permission dialog is open ends the run promptly', async () => {
    const session = await start();
    const { prompt, file } = createFilePrompt();
    const run = session.prompt(prompt);
    const request = await nextEvent(session, 'interaction_request');
    expect(session.pending.map((open) => open.requestId)).toEqual([request.requestId]);
    await session.abort();
    const result = await run;
    expect(result.reason).toBe('cancelled');
    expect(session.pending).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('the request signal fires when the run is aborted under a slow host', async () => {
    let signal: AbortSignal | undefined;
    let asked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    const session = await start(
      askHost((_request, context) => {
        signal = context.signal;
        asked();
        return timer(60_000).pipe(map(() => true));
      }),
    );
    const { prompt } = createFilePrompt();
    const run = session.prompt(prompt);
    // The policy is deciding (the host callback runs): the request is not the host's, not in pending$.
    await askedOnce;
    expect(session.pending).toEqual([]);
    await session.abort();
    await run;
    expect(signal?.aborted).toBe(true);
  });

  it('an LLM-called question (ask_user via ctx.ui.input) answered by byKind', async () => {
    const session = await start(byKind({ question: askHost(() => 'blue'), permission: autoApprove() }), { askTool: true });
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:tool-ask');
    const events = await collected;
    const question = events.find((event) => event.type === 'interaction_request') as InteractionRequest;
    expect(question).toMatchObject({ kind: 'question', prompt: { title: 'Favourite colour?' } });
    expect(toolEnd(events)).toMatchObject({ name: 'ask_user', isError: false, result: expect.stringContaining('blue') });
    expect(result.finalText).toContain('blue');
  });

  it('approve: none runs tools without asking', async () => {
    const session = await start(undefined, { approve: 'none' });
    const { prompt, file } = createFilePrompt();
    // Every event of the run, up to its agent_end: no wall-clock window to miss on a loaded machine.
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt(prompt);
    const events = await collected;
    expect(existsSync(file)).toBe(true);
    expect(toolEnd(events)).toMatchObject({ name: 'bash', isError: false });
    expect(events.filter((event) => event.type === 'interaction_request')).toEqual([]);
  });
});
