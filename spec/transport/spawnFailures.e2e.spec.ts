/**
 * Spawns that fail, and spawns that would: `client.start()` never hangs and never leaks.
 *
 * - Node's spawn throws synchronously on a NUL byte in an argument or env value, and on an
 *   argument of 128 KiB or more (`E2BIG`): execa then emits no `spawn`/`error` event, which used
 *   to leave `start()` waiting forever (and a manager slot taken). A NUL byte is now refused by
 *   the config (`PiConfigError` naming the field); any other synchronous failure is a
 *   `PiStartError` at once.
 * - A long system prompt (200 KiB) works: it goes to pi as a file (real pi 0.73, fake LLM).
 * - A failed spawn (EACCES, ENOENT) leaves no socket open (counted in `/proc/self/fd`).
 * - `terminateTimeoutMs` of 2^31 ms or more waits, instead of firing after 1 ms.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PiConfig, type PiConfigInput } from '../../src/config/PiConfig.js';
import { PiCapacityError, PiConfigError, PiStartError } from '../../src/errors.js';
import { PiSessionManager } from '../../src/manager/PiSessionManager.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { isProcessAlive, waitFor, waitForExit } from '../helpers/realPi.js';
import { FAKE_PI } from '../reliability/fakePi.js';

/** Settles with the outcome, or with 'hang' after `ms` (a bounded wait: a hang fails, it doesn't time the suite out). */
function within<T>(promise: Promise<T>, ms = 20_000): Promise<{ value: T } | { error: unknown } | 'hang'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('hang'), ms);
    promise
      .then(
        (value) => resolve({ value }),
        (error: unknown) => resolve({ error }),
      )
      .finally(() => clearTimeout(timer));
  });
}

const errorOf = (outcome: { value: unknown } | { error: unknown } | 'hang'): unknown =>
  outcome === 'hang' ? new Error('hung') : 'error' in outcome ? outcome.error : new Error('unexpectedly succeeded');

/** Prompt dirs pidriver wrote (see src/transport/promptFiles.ts). */
const promptDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('pidriver-prompt-'));

let env: FakePiEnv;
let scratch: string | undefined;
const sessions: PiSession[] = [];

beforeAll(async () => {
  env = await startFakePiEnv();
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

afterAll(async () => {
  await env.close();
});

describe('a spawn that fails synchronously is a typed error at once', () => {
  it.each<[string, PiConfigInput, string]>([
    ['an extraEnv value', { extraEnv: { PIDRIVER_X: 'a\0b' } }, 'extraEnv.PIDRIVER_X'],
    ['apiKey', { apiKey: 'sk-\0' }, 'apiKey'],
    ['agentDir', { agentDir: '/srv/agent\0' }, 'agentDir'],
  ])('a NUL byte in %s: PiConfigError naming the field, nothing spawned', async (_, overrides, field) => {
    const client = new PiClient({ config: env.config });
    const outcome = await within(client.start({ cwd: env.cwd, config: { ...env.config.toInput(), ...overrides } }));
    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(PiConfigError);
    expect((error as PiConfigError).field).toBe(field);
  });

  it("a NUL byte in a launcher's cwd (a path over there, not checked here): PiConfigError", async () => {
    const config = env.config.with({ launcher: ['ssh', 'host'], dialect: 'pi-0.73' });
    const error = errorOf(await within(new PiClient({ config }).start({ cwd: '/srv/work\0x', approve: 'none' })));
    expect(error).toBeInstanceOf(PiConfigError);
    expect((error as PiConfigError).field).toBe('cwd');
  });

  it('a NUL byte in the parent environment handed to the transport: PiStartError, and `exited` settles', async () => {
    const config = PiConfig.parse({ binary: FAKE_PI, dialect: 'pi-0.73', inheritEnv: true });
    const transport = new SubprocessTransport(config, { cwd: env.cwd, parentEnv: { PATH: process.env['PATH'] ?? '', PIDRIVER_X: 'a\0b' } });
    expect(errorOf(await within(transport.start()))).toBeInstanceOf(PiStartError);
    expect(await within(transport.exited)).toMatchObject({ value: { exitCode: null } });
    await expect(transport.close()).resolves.toMatchObject({ escalation: 'not-started' });
  });

  it.each<[string, PiConfigInput]>([
    ['an argument', { extraArgs: ['--append-system-prompt', 'x'.repeat(200 * 1024)] }],
    ['an env value', { extraEnv: { PIDRIVER_BIG: 'x'.repeat(200 * 1024) } }],
  ])('%s over 128 KiB (E2BIG) through the real pi config: PiStartError at once', async (_, overrides) => {
    const config = env.config.with({ ...overrides, extraEnv: { ...env.config.extraEnv, ...overrides.extraEnv } });
    const error = errorOf(await within(new PiClient({ config }).start({ cwd: env.cwd, approve: 'none' })));
    expect(error).toBeInstanceOf(PiStartError);
    expect((error as PiStartError).message).toMatch(/E2BIG/);
    expect((error as PiStartError).message.length).toBeLessThan(2_000); // not the whole command line
  });

  it('releases the manager slot: the next create() fails the same way (not PiCapacityError), and stopAll() resolves', async () => {
    const config = env.config.with({ extraArgs: ['--append-system-prompt', 'x'.repeat(200 * 1024)] });
    const client = new PiClient({ config });
    const manager = new PiSessionManager({ factory: (options: Parameters<PiClient['start']>[0]) => client.start(options), maxSessions: 1 });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = errorOf(await within(manager.create({ cwd: env.cwd, approve: 'none' })));
        expect(error).toBeInstanceOf(PiStartError);
        expect(error).not.toBeInstanceOf(PiCapacityError);
      }
      expect(manager.size).toBe(0);
      expect(await within(manager.stopAll())).toEqual({ value: [] });
    } finally {
      await manager.dispose();
    }
  });
});

describe('a long system prompt', () => {
  it('of 200 KiB (and a long appended one) reaches the model through a file; the file is gone after close', async () => {
    const systemPrompt = `You are a very thorough assistant. ${'Be precise. '.repeat(17_000)}END-OF-SYSTEM`;
    const appended = `Appended: ${'Be kind. '.repeat(15_000)}END-OF-APPEND`;
    const before = new Set(promptDirs());
    const session = await new PiClient({ config: env.config.with({ systemPrompt, appendSystemPrompt: ['short one', appended] }) }).start({
      cwd: env.cwd,
      approve: 'none',
    });
    sessions.push(session);
    expect(promptDirs().filter((dir) => !before.has(dir))).toHaveLength(1);
    const result = await session.prompt('scenario:text [[text:ok]]');
    expect(result.finalText).toBe('ok');
    const body = env.llm.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    const system = JSON.stringify(body.messages.filter((message) => message.role === 'system' || message.role === 'developer'));
    expect(system).toContain(systemPrompt);
    expect(system).toContain('short one');
    expect(system).toContain(appended);
    await session.close();
    expect(promptDirs().filter((dir) => !before.has(dir))).toEqual([]);
  });
});

describe('failed spawns leak nothing', () => {
  it('20 failed spawns (EACCES, ENOENT) through client.start() leave no file descriptor open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidriver-spawnfail-'));
    scratch = dir;
    const directory = join(dir, 'a-directory'); // executable bit set, but spawning it is EACCES
    mkdirSync(directory);
    const noInterpreter = join(dir, 'no-interpreter'); // its interpreter is missing: ENOENT
    writeFileSync(noInterpreter, '#!/nonexistent/interpreter\n');
    chmodSync(noInterpreter, 0o755);
    const openFds = () => readdirSync('/proc/self/fd').length;
    const failOnce = async (binary: string) => {
      const error = errorOf(await within(new PiClient({ config: { binary, dialect: 'pi-0.73' } }).start({ cwd: dir, approve: 'none' })));
      expect(error).toBeInstanceOf(PiStartError);
      expect((error as PiStartError).message).toMatch(binary === directory ? /EACCES/ : /ENOENT/);
    };
    await failOnce(directory); // anything opened once per process (not per spawn) is open from now on
    await failOnce(noInterpreter);
    const before = openFds();
    for (let index = 0; index < 10; index++) {
      await failOnce(directory);
      await failOnce(noInterpreter);
    }
    // A leaked pipe is never closed; closed ones go within a tick or two.
    expect(await waitFor(() => openFds() <= before)).toBe(true);
  });
});

describe('transport timers', () => {
  it('terminateTimeoutMs of 2^31 ms waits (no 32-bit overflow into 1 ms)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const config = PiConfig.parse({ binary: FAKE_PI, dialect: 'pi-0.73', terminateTimeoutMs: 2 ** 31, extraEnv: { FAKE_PI_MODE: 'ignore-term' } });
    const transport = new SubprocessTransport(config, { cwd: env.cwd });
    try {
      const ready = firstValueFrom(
        transport.lines$.pipe(
          filter((line) => typeof line === 'string' && line.includes('"id":"s"')),
          timeout(20_000),
        ),
      );
      await transport.start();
      await transport.send({ id: 's', type: 'get_state' });
      await ready;
      const pid = transport.pid as number;
      const closed = transport.close(); // EOF is ignored: only the (never due) SIGTERM, then SIGKILL, would end it
      // The overflowed timers fired after 1 ms: SIGTERM (ignored), then SIGKILL.
      expect(await waitFor(() => !isProcessAlive(pid), 500)).toBe(false);
      expect(warnings.filter((name) => name === 'TimeoutOverflowWarning')).toEqual([]);
      process.kill(-pid, 'SIGKILL');
      await expect(closed).resolves.toMatchObject({ escalation: 'eof', signal: 'SIGKILL' });
      expect(await waitForExit(pid)).toBe(true);
    } finally {
      process.off('warning', onWarning);
      if (transport.pid !== undefined && isProcessAlive(transport.pid)) process.kill(-transport.pid, 'SIGKILL');
      await transport.close();
    }
  });
});
