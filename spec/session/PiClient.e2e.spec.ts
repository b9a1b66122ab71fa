/**
 * End-to-end: `client.start()` options through the real pi 0.73.1 CLI (resume, sendInitial,
 * signal, the default session id, `await using`).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiConfigError, PiDriverError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { fakeAgentConfig } from '../../src/testing/fakeAgentDir.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import type { TransportFactory } from '../../src/transport/PiTransport.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { waitForExit } from '../helpers/realPi.js';

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

describe('PiClient.start() through the real pi CLI', () => {
  it('resumes a saved pi session by its id, and by "latest"', async () => {
    const sessionDir = join(env.home, 'sessions');
    await mkdir(sessionDir, { recursive: true });
    const client = new PiClient({ config: env.config.with({ sessionDir, session: true }) });

    const first = await client.start({ cwd: env.cwd, approve: 'none', task: 'scenario:text [[text:first answer]]' });
    sessions.push(first);
    await expect(first.initialRun).resolves.toMatchObject({ finalText: 'first answer' });
    const piSessionId = first.piSessionId;
    expect(piSessionId).toMatch(/.+/);
    await first.close();

    const resumed = await client.start({ cwd: env.cwd, approve: 'none', resume: piSessionId as string });
    sessions.push(resumed);
    expect(resumed.piSessionId).toBe(piSessionId);
    const texts = (await resumed.getMessages()).map((message) => message.role);
    expect(texts).toEqual(['user', 'assistant']);
    await resumed.prompt('scenario:text [[text:second answer]]');
    await resumed.close();

    const latest = await client.start({ cwd: env.cwd, approve: 'none', resume: 'latest' });
    sessions.push(latest);
    expect(latest.piSessionId).toBe(piSessionId);
    expect(await latest.getMessages()).toHaveLength(4);
  });

  it('rejects an unknown resume id with PiConfigError before spawning', async () => {
    const client = new PiClient({ config: env.config.with({ sessionDir: join(env.home, 'no-sessions') }) });
    await expect(client.start({ cwd: env.cwd, resume: 'no-such-session' })).rejects.toBeInstanceOf(PiConfigError);
  });

  it('refuses an empty resume id with PiConfigError (a prefix of every id: it would resume some other session)', async () => {
    const sessionDir = join(env.home, 'sessions-empty-resume');
    await mkdir(sessionDir, { recursive: true });
    const client = new PiClient({ config: env.config.with({ sessionDir, session: true }) });
    const saved = await client.start({ cwd: env.cwd, approve: 'none', task: 'scenario:text [[text:saved]]' });
    sessions.push(saved);
    await saved.initialRun;
    await saved.close();
    for (const resume of ['', ' ']) {
      const error = await client.start({ cwd: env.cwd, approve: 'none', resume }).then(
        (session) => {
          sessions.push(session);
          return new Error(`resumed ${session.piSessionId ?? '?'}`);
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(PiConfigError);
      expect((error as PiConfigError).field).toBe('resume');
    }
  });

  it('sendInitial: false starts idle without sending the task; the session id defaults to a UUID', async () => {
    const client = new PiClient({ config: env.config });
    const session = await client.start({ cwd: env.cwd, approve: 'none', task: 'scenario:text never sent', sendInitial: false });
    sessions.push(session);
    expect(session.initialRun).toBeUndefined();
    expect(session.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(session.state).toMatchObject({ status: 'idle', runs: 0 });
    expect(await session.getMessages()).toEqual([]);
  });

  it('a signal aborted while pi starts stops start() and leaves no pi behind', async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    // Abort right after the spawn, before pi has answered its first get_state.
    const transportFactory: TransportFactory = (config, options) => {
      const transport = new SubprocessTransport(config, options);
      const spawn = transport.start.bind(transport);
      transport.start = async () => {
        await spawn();
        pid = transport.pid;
        controller.abort();
      };
      return transport;
    };
    const client = new PiClient({ config: env.config, transportFactory });
    await expect(client.start({ cwd: env.cwd, signal: controller.signal })).rejects.toBeInstanceOf(PiDriverError);
    expect(pid).toBeGreaterThan(0);
    expect(await waitForExit(pid as number)).toBe(true);
  });

  it('an already aborted signal spawns nothing', async () => {
    let spawned = 0;
    const transportFactory: TransportFactory = (config, options) => {
      const transport = new SubprocessTransport(config, options);
      const spawn = transport.start.bind(transport);
      transport.start = () => (spawned++, spawn());
      return transport;
    };
    const client = new PiClient({ config: env.config, transportFactory });
    await expect(client.start({ cwd: env.cwd, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PiDriverError);
    expect(spawned).toBe(0);
  });

  it('`await using` closes the session and its process', async () => {
    // Written inside the env's directory, which env.close() removes.
    const config = await fakeAgentConfig({ baseUrl: env.llm.url, dir: join(env.home, 'agent'), config: { extraEnv: { HOME: env.home } } });
    const client = new PiClient({ config });
    let pid: number | undefined;
    {
      await using session = await client.start({ cwd: env.cwd, approve: 'none' });
      pid = session.pid;
      await expect(session.prompt('scenario:text [[text:disposed soon]]')).resolves.toMatchObject({ finalText: 'disposed soon' });
    }
    expect(pid).toBeGreaterThan(0);
    expect(await waitForExit(pid as number)).toBe(true);
  });
});
