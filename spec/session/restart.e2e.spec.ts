/**
 * End-to-end crash recovery (`restart`) through the real pi 0.73.1 CLI and the bundled fake LLM:
 * pi is SIGKILLed and the same `PiSession` comes back on the same pi session file, so the next
 * prompt's LLM request carries the conversation from before the crash.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PiConfig } from '../../src/config/PiConfig.js';
import { PiConfigError, PiRestartedError, TransportClosedError } from '../../src/errors.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { isManagerNotice, type ManagerNotice } from '../../src/manager/notices.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { PiClient, type StartOptions } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { TransportFactoryOptions } from '../../src/transport/PiTransport.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { isProcessAlive, nextEvent, waitFor, waitForExit } from '../helpers/realPi.js';

const FAKE_PI = join(fileURLToPath(new URL('../fixtures/fake-pi.mjs', import.meta.url)));

let env: FakePiEnv;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
});

afterAll(async () => {
  await env.close();
});

/** A client whose processes are counted; `later` builds every process after the first. */
function countingClient(later?: (config: PiConfig, options: TransportFactoryOptions) => SubprocessTransport) {
  const spawned: SubprocessTransport[] = [];
  const client = new PiClient({
    config: env.config.with({ session: true }),
    approve: 'none',
    transportFactory: (config, options) => {
      const transport = spawned.length > 0 && later ? later(config, options) : new SubprocessTransport(config, options);
      spawned.push(transport);
      return transport;
    },
  });
  return { client, spawned };
}

const restarted = (session: PiSession) =>
  firstValueFrom(
    session.events$.pipe(
      filter((event): event is Extract<PiEvent, { type: 'session_restarted' }> => event.type === 'session_restarted'),
      timeout(60_000),
    ),
  );

describe('restart through the real pi CLI', () => {
  it('a SIGKILLed pi comes back on the same session: new pid, same sessionId, the conversation goes on', async () => {
    const { client, spawned } = countingClient();
    const session = await client.start({ cwd: env.cwd, restart: { backoffMs: 50 } });
    sessions.push(session);
    let errored: unknown;
    session.events$.subscribe({ error: (error: unknown) => (errored = error) });
    await session.prompt('scenario:text remember the word PAPAYA-17');
    const before = { pid: session.pid, piSessionId: session.piSessionId, sessionId: session.sessionId };
    expect(before.pid).toBeDefined();

    const back = restarted(session);
    process.kill(before.pid as number, 'SIGKILL');
    const event = await back;
    expect(event).toMatchObject({ attempt: 1, signal: 'SIGKILL', exitCode: null, piSessionId: before.piSessionId });
    expect(session.pid).not.toBe(before.pid);
    expect(event.pid).toBe(session.pid);
    expect(session.sessionId).toBe(before.sessionId);
    expect(session.piSessionId).toBe(before.piSessionId);
    expect(session.state).toMatchObject({ status: 'idle', restarts: 1 });
    expect(await waitForExit(before.pid as number)).toBe(true);
    expect(spawned).toHaveLength(2);

    const requestsBefore = env.llm.requests.length;
    const result = await session.prompt('scenario:text what was the word?');
    expect(result.reason).toBe('completed');
    const request = env.llm.requests[requestsBefore];
    expect(JSON.stringify(request?.body)).toContain('PAPAYA-17');
    expect(errored).toBeUndefined();
    expect(session.state.status).toBe('idle');
  });

  it('a pi killed before its first prompt (no session file written yet) comes back too', async () => {
    const { client } = countingClient();
    const session = await client.start({ cwd: env.cwd, restart: { backoffMs: 50 } });
    sessions.push(session);
    const back = restarted(session);
    process.kill(session.pid as number, 'SIGKILL');
    await back;
    await expect(session.prompt('scenario:text hello after a crash')).resolves.toMatchObject({ reason: 'completed' });
  });

  it('the prompt in flight rejects with PiRestartedError; nothing is sent again', async () => {
    const { client } = countingClient();
    const session = await client.start({ cwd: env.cwd, restart: { backoffMs: 50 } });
    sessions.push(session);
    const inFlight = session.prompt('scenario:hang wait forever');
    inFlight.catch(() => undefined);
    await nextEvent(session, 'agent_start');
    const requestsBefore = env.llm.requests.length;
    const back = restarted(session);
    process.kill(session.pid as number, 'SIGKILL');
    await expect(inFlight).rejects.toBeInstanceOf(PiRestartedError);
    await expect(inFlight).rejects.toBeInstanceOf(TransportClosedError);
    await back;
    // The new pi was not given the prompt again.
    expect(env.llm.requests.length).toBe(requestsBefore);
    await expect(session.prompt('scenario:text again')).resolves.toMatchObject({ reason: 'completed' });
  });

  it('a pi that dies at every start ends the session after maxRestarts, with no process left', async () => {
    const { client, spawned } = countingClient(
      (config, options) => new SubprocessTransport(config.with({ binary: FAKE_PI, extraEnv: { FAKE_PI_MODE: 'exit-early' } }), options),
    );
    const session = await client.start({ cwd: env.cwd, restart: { maxRestarts: 2, backoffMs: 20 } });
    sessions.push(session);
    const ended = new Promise<unknown>((resolve) => session.events$.subscribe({ error: resolve, complete: () => resolve('completed') }));
    process.kill(session.pid as number, 'SIGKILL');
    const error = await ended;
    expect(error).toBeInstanceOf(TransportClosedError);
    expect((error as Error).message).toMatch(/could not be restarted/);
    expect(spawned).toHaveLength(3);
    expect(session.state.status).toBe('closed');
    for (const transport of spawned) expect(transport.pid === undefined || !isProcessAlive(transport.pid)).toBe(true);
  });

  it('close() during a restart wins: no new process, none left', async () => {
    const { client, spawned } = countingClient();
    const session = await client.start({ cwd: env.cwd, restart: { backoffMs: 60_000 } });
    sessions.push(session);
    const pid = session.pid as number;
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => session.state.status === 'restarting', 30_000)).toBe(true);
    // No pi to send a command to until the restart: PiRestartedError, at once.
    await expect(session.getState()).rejects.toBeInstanceOf(PiRestartedError);
    await session.close();
    expect(session.state.status).toBe('closed');
    expect(spawned).toHaveLength(1);
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('a manager with restart: a session_restarted notice, the count, and stopAll() during a restart leaves no process', async () => {
    const { client, spawned } = countingClient();
    const manager = new PiSessionManager<PiSession, StartOptions>({
      factory: (options) => client.start(options),
      restart: { backoffMs: 50 },
      idleTimeoutMs: null,
    });
    const notices: ManagerNotice[] = [];
    manager.events$.pipe(filter(isManagerNotice)).subscribe((notice) => notices.push(notice));
    const session = await manager.create({ cwd: env.cwd });
    const firstPid = session.pid as number;
    process.kill(firstPid, 'SIGKILL');
    expect(await waitFor(() => notices.some((notice) => notice.type === 'session_restarted'), 60_000)).toBe(true);
    expect(notices.find((notice) => notice.type === 'session_restarted')).toMatchObject({ sessionId: session.sessionId, attempt: 1, signal: 'SIGKILL' });
    expect(manager.restarts).toBe(1);
    expect(manager.has(session.sessionId)).toBe(true);
    await expect(session.prompt('scenario:text still here')).resolves.toMatchObject({ reason: 'completed' });

    // Dies again; stopAll() comes before the restart would (the backoff doubled to 100 ms, but stop wins anyway).
    const secondPid = session.pid as number;
    process.kill(secondPid, 'SIGKILL');
    expect(await waitFor(() => session.state.status === 'restarting', 30_000)).toBe(true);
    const results = await manager.stopAll();
    expect(results).toEqual([expect.objectContaining({ sessionId: session.sessionId })]);
    expect(session.state.status).toBe('closed');
    expect(manager.size).toBe(0);
    for (const transport of spawned) expect(transport.pid === undefined || !isProcessAlive(transport.pid)).toBe(true);
    await manager.dispose();
  });

  it('restart on an in-memory session is a PiConfigError naming restart (and config.session)', async () => {
    const client = new PiClient({ config: env.config });
    const error = await client.start({ cwd: env.cwd, restart: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiConfigError);
    expect(error).toMatchObject({ field: 'restart', message: expect.stringMatching(/config\.session/) });
    await expect(client.start({ cwd: env.cwd, restart: { maxRestarts: -1 } as never, config: env.config.with({ session: true }) })).rejects.toMatchObject({
      field: 'restart.maxRestarts',
    });
  });
});
