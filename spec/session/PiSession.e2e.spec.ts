/**
 * End-to-end: the real pi 0.73.1 CLI, driven through PiClient/PiSession, against the bundled
 * fake LLM on 127.0.0.1. No network, no API key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { filter, firstValueFrom, lastValueFrom, take, takeWhile, timeout, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { PiCommandError, PiConfigError, PiNotFoundError, PiStartError, TransportClosedError } from '../../src/errors.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { eventsUntilAgentEnd, isProcessAlive, joinedDeltas, nextEvent, pidsMatching, waitFor, waitForExit } from '../helpers/realPi.js';

let env: FakePiEnv;
let client: PiClient;
const sessions: PiSession[] = [];

async function start(options: Parameters<PiClient['start']>[0] = {}): Promise<PiSession> {
  // Tool approvals have their own suite (spec/policies/*.e2e.spec.ts); here tools run unasked.
  const session = await client.start({ cwd: env.cwd, approve: 'none', ...options });
  sessions.push(session);
  return session;
}

beforeAll(async () => {
  env = await startFakePiEnv({ files: { 'hello.txt': 'hello from a file\nsecond line\n' } });
  client = new PiClient({ config: env.config });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

const types = (events: readonly PiEvent[]) => events.map((event) => event.type);

describe('PiSession through the real pi CLI', () => {
  it('streams a text run: deltas concatenate to the final text, usage is folded in', async () => {
    const session = await start();
    expect(session.piSessionId).toMatch(/.+/);
    expect(session.state.status).toBe('idle');
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:text Say hello');
    const events = await collected;

    expect(result).toMatchObject({ finalText: 'Hello from the fake LLM.', reason: 'completed' });
    expect(joinedDeltas(events)).toBe('Hello from the fake LLM.');
    expect(types(events)[0]).toBe('agent_start');
    expect(types(events).at(-1)).toBe('agent_end');
    expect(events.find((event) => event.type === 'agent_start')).toMatchObject({ model: 'fake/fake-1', cwd: env.cwd });
    expect(events.find((event) => event.type === 'message_complete')).toMatchObject({ text: 'Hello from the fake LLM.', channel: 'assistant' });
    // seq is gap-free and increasing
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, index) => (seqs[0] as number) + index));
    expect(events.every((event) => event.sessionId === session.sessionId)).toBe(true);
    expect(result.usage.inputTokens).toBe(60);
    expect(result.usage.cacheReadTokens).toBe(40);
    expect(session.usage.equals(result.usage)).toBe(true);
    expect(session.hasEndedRun).toBe(true);
    expect(session.ended).toBe(true); // the deprecated alias

    const stats = await session.getStats();
    expect(UsageTotals.fromSessionStats(stats).inputTokens).toBe(60);
    const messages = await session.getMessages();
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
  });

  it('streams thinking on its own channel', async () => {
    const session = await start({ config: env.config.with({ model: 'fake-think', thinking: 'medium' }) });
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:think why?');
    const events = await collected;
    expect(joinedDeltas(events, 'thinking')).toBe('Let me think about this.');
    expect(joinedDeltas(events, 'assistant')).toBe('The answer is 42.');
    expect(result.finalText).toBe('The answer is 42.');
    expect(events.filter((event) => event.type === 'message_complete').map((event) => (event as { channel: string }).channel)).toEqual([
      'thinking',
      'assistant',
    ]);
  });

  it('runs a bash tool: tool_start, tool_update, tool_end with the output', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:tool-bash [[cmd:echo hi && echo made > made.txt]] go');
    const events = await collected;
    const start_ = events.find((event) => event.type === 'tool_start');
    const end = events.find((event) => event.type === 'tool_end');
    expect(start_).toMatchObject({ name: 'bash', toolCallId: 'call_bash_1', arguments: { command: 'echo hi && echo made > made.txt' } });
    expect(end).toMatchObject({ name: 'bash', toolCallId: 'call_bash_1', isError: false, result: 'hi\n' });
    expect(types(events)).toContain('tool_update');
    expect(result.finalText).toBe('Tool said: ["hi\\n"]');
    expect(existsSync(join(env.cwd, 'made.txt'))).toBe(true);
  });

  it('runs the read tool', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    await session.prompt('scenario:tool-read');
    const end = (await collected).find((event) => event.type === 'tool_end');
    expect(end).toMatchObject({ name: 'read', isError: false, result: 'hello from a file\nsecond line\n' });
  });

  it('runs two parallel tool calls, each start matched by its end', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:tool-two');
    const events = await collected;
    const starts = events.filter((event) => event.type === 'tool_start').map((event) => (event as { toolCallId: string }).toolCallId);
    const ends = events.filter((event) => event.type === 'tool_end').map((event) => (event as { toolCallId: string }).toolCallId);
    expect(starts.sort()).toEqual(['call_a', 'call_b']);
    expect(ends.sort()).toEqual(['call_a', 'call_b']);
    expect(result.finalText).toBe('Tool said: ["a\\n","b\\n"]');
  });

  it('aborts mid-run: the run ends cancelled and the process stays usable', async () => {
    const session = await start();
    const run = session.prompt('scenario:slow:200:50');
    await nextEvent(session, 'message_delta');
    await session.abort();
    const result = await run;
    expect(result.reason).toBe('cancelled');
    expect(session.state.status).toBe('idle');
    const next = await session.prompt('scenario:text again');
    expect(next).toMatchObject({ reason: 'completed', finalText: 'Hello from the fake LLM.' });
  });

  it('queues a prompt sent while a run is going and resolves it with its own run', async () => {
    const session = await start();
    const first = session.prompt('scenario:slow:5:40');
    const second = session.prompt('scenario:text [[text:second answer]]');
    expect(session.state.queuedPrompts).toBe(1);
    const [a, b] = await Promise.all([first, second]);
    expect(a.finalText).toBe('w0 w1 w2 w3 w4 ');
    expect(b.finalText).toBe('second answer');
    expect(session.state.runs).toBe(2);
  });

  it('surfaces an HTTP 500 from the LLM as an error run, without hanging', async () => {
    const session = await start();
    const collected = eventsUntilAgentEnd(session.events$);
    const result = await session.prompt('scenario:http500 noretry');
    const events = await collected;
    expect(result.reason).toBe('error');
    expect(result.errorMessage).toMatch(/500/);
    expect(events.some((event) => event.type === 'error' && event.code === 'provider_error')).toBe(true);
    // pi retried (3 times with baseDelayMs 50): one logical run, one agent_start / agent_end.
    expect(types(events).filter((type) => type === 'agent_start')).toHaveLength(1);
    expect(types(events).filter((type) => type === 'retry').length).toBeGreaterThan(0);
  });

  it('after a run, recentEvents$ replays it from its agent_start; events$ starts fresh', async () => {
    const session = await start();
    await session.prompt('scenario:text [[text:one two three]]');
    const fresh: PiEvent[] = [];
    session.events$.subscribe((event) => fresh.push(event)).unsubscribe();
    expect(fresh).toEqual([]);
    const replayed = await firstValueFrom(
      session.recentEvents$.pipe(
        takeWhile((event) => event.type !== 'agent_end', true),
        toArray(),
        timeout(5_000),
      ),
    );
    expect(replayed[0]?.type).toBe('agent_start');
    expect(replayed.at(-1)?.type).toBe('agent_end');
    expect(joinedDeltas(replayed)).toBe('one two three');
  });

  it('prompt$ is cold: subscribing sends, it completes at run end, unsubscribing aborts', async () => {
    const session = await start();
    const events = await lastValueFrom(session.prompt$('scenario:text [[text:cold stream]]').pipe(toArray()));
    expect(types(events)[0]).toBe('agent_start');
    expect(types(events).at(-1)).toBe('agent_end');
    expect(joinedDeltas(events)).toBe('cold stream');

    const firstDeltas = await firstValueFrom(
      session.prompt$('scenario:slow:200:50').pipe(
        filter((event) => event.type === 'message_delta'),
        take(2),
        toArray(),
      ),
    );
    expect(firstDeltas).toHaveLength(2);
    // take(2) unsubscribed: the run is aborted and the session goes idle again.
    await firstValueFrom(
      session.state$.pipe(
        filter((state) => state.status === 'idle' && state.runs === 2),
        timeout(10_000),
      ),
    );
  });

  it('iterates events with for await; break unsubscribes without closing', async () => {
    const session = await start();
    const run = session.prompt('scenario:text');
    const seen: string[] = [];
    for await (const event of session) {
      seen.push(event.type);
      if (event.type === 'agent_end') break;
    }
    await run;
    expect(seen[0]).toBe('agent_start');
    expect(session.state.status).toBe('idle');
  });

  it('setModel and setThinking talk to pi', async () => {
    const session = await start();
    const model = await session.setModel('fake', 'fake-think');
    expect(model).toMatchObject({ id: 'fake-think', provider: 'fake' });
    await session.setThinking('high');
    const state = await session.getState();
    expect(state.thinkingLevel).toBe('high');
    expect(session.state.model).toBe('fake/fake-think');
    await expect(session.setModel('nope', 'x')).rejects.toBeInstanceOf(PiCommandError);
  });

  it('fails start() with PiStartError (exit code, stderr) on a bad flag', async () => {
    const error = await client
      .start({ cwd: env.cwd, approve: 'none', config: env.config.with({ extraArgs: ['--definitely-not-a-flag'] }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiStartError);
    expect((error as PiStartError).exitCode).toBe(1);
    expect((error as PiStartError).stderrTail).toMatch(/Unknown option/);
  });

  it('fails start() with PiNotFoundError when the binary does not exist', async () => {
    const error = await client.start({ cwd: env.cwd, approve: 'none', config: env.config.with({ binary: '/nonexistent/pi' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiNotFoundError);
  });

  it('fails start() with PiConfigError when cwd is not a directory', async () => {
    await expect(client.start({ cwd: join(env.cwd, 'nope'), approve: 'none' })).rejects.toBeInstanceOf(PiConfigError);
  });

  it('kill -9 mid-run: events$ errors, prompt() rejects, state ends closed', async () => {
    const session = await start();
    const run = session.prompt('scenario:slow:200:50');
    const errored = lastValueFrom(session.events$).catch((e: unknown) => e);
    await nextEvent(session, 'message_delta');
    process.kill(session.pid!, 'SIGKILL');
    const error = await errored;
    expect(error).toBeInstanceOf(TransportClosedError);
    expect((error as TransportClosedError).signal).toBe('SIGKILL');
    await expect(run).rejects.toBeInstanceOf(TransportClosedError);
    expect(session.state.status).toBe('closed');
    await expect(session.prompt('anything')).rejects.toBeInstanceOf(TransportClosedError);
    await expect(session.getState()).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('close() leaves no process behind, even with a tool running, and is idempotent', async () => {
    const session = await start();
    const pid = session.pid!;
    // A unique sleep length marks both the shell and the sleep itself in /proc/*/cmdline.
    const marker = `29.${process.pid}${Date.now() % 100_000}`;
    const run = session.prompt(`scenario:tool-bash [[cmd:sleep ${marker}; echo done]]`);
    run.catch(() => undefined);
    await nextEvent(session, 'tool_start');
    expect(await waitFor(() => pidsMatching(`sleep ${marker}`).length >= 2)).toBe(true); // bash -c … and sleep
    const [a, b] = await Promise.all([session.close(), session.close()]);
    expect(a).toBe(b);
    expect(await waitForExit(pid)).toBe(true);
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
    await expect(run).rejects.toBeInstanceOf(TransportClosedError);
    expect(session.state.status).toBe('closed');
    // events$ completes for late subscribers too
    await expect(lastValueFrom(session.events$.pipe(toArray()))).resolves.toBeDefined();
  });

  it('closes by EOF when idle', async () => {
    const session = await start();
    const pid = session.pid!;
    const result = await session.close();
    expect(result.escalation).toBe('eof');
    expect(result.exitCode).toBe(0);
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('sends the initial task from client.start()', async () => {
    const session = await start({ task: 'scenario:text [[text:initial task]]' });
    const result = await session.initialRun;
    expect(result?.finalText).toBe('initial task');
  });
});
