/**
 * The API key (`PiConfig.apiKey`) goes to exactly one place: the child's environment, under the
 * right variable. It is never in the child's argv (`/proc/<pid>/cmdline`), in the config's
 * string forms, in any error pidriver raises, in the stderr lines handed to `onStderr`, or in a
 * transcript written by `recordTranscript` — not even when pi itself prints it (here: the bash
 * tool runs `env`, which puts the key on pi's stdout).
 *
 * Note: pi hands its environment to its tools, so the agent's bash tool *can* read the key. That
 * is pi's design (the key has to be in pi's environment for pi to use it); restrict tools or use
 * a proxy if the agent must not see it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiConfig, type PiConfigInput } from '../../src/config/PiConfig.js';
import { PiConfigError, PiStartError, PiTimeoutError, TransportClosedError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { startFakePiEnv, type FakePiEnv } from '../../src/testing/fakePiEnv.js';
import { REDACTED_PLACEHOLDER } from '../../src/testing/normalizeTranscript.js';
import { recordTranscript, type TranscriptRecording } from '../../src/testing/recordTranscript.js';
import { waitForExit } from '../helpers/realPi.js';
import { fakeConfig } from '../reliability/fakePi.js';
import { bashOutput, cmdlineOf, environOf } from './support.js';

const KEY = `sk-pidriver-test-${randomBytes(12).toString('hex')}`;

/** Every string form an error (or any value) can take in a log: message, stack, inspect with everything, JSON. */
function everyRendering(value: unknown): string {
  const forms = [inspect(value, { showHidden: true, depth: Infinity, getters: true }), format('%o %O %s', value, value, value)];
  try {
    forms.push(JSON.stringify(value) ?? '');
  } catch {
    // circular: inspect covers it
  }
  if (value instanceof Error) forms.push(value.message, value.stack ?? '', String(value), String(value.cause));
  return forms.join('\n');
}

const expectNoKey = (value: unknown): void => expect(everyRendering(value)).not.toContain(KEY);

describe('the API key in the config object', () => {
  const config = PiConfig.parse({ provider: 'anthropic', model: 'claude', apiKey: KEY });

  it('is kept (for the child) but never shown: toString, JSON, inspect, format, spread, entries, structuredClone', () => {
    expect(config.apiKey).toBe(KEY);
    expect(config.toEnv({})['ANTHROPIC_API_KEY']).toBe(KEY);
    for (const rendering of [
      config.toString(),
      `${String(config)}`,
      JSON.stringify(config),
      JSON.stringify({ nested: { config } }),
      inspect(config, { showHidden: true, depth: Infinity }),
      inspect({ nested: [config] }, { showHidden: true, depth: Infinity }),
      format('%o | %O | %j | %s', config, config, config, config),
      JSON.stringify({ ...config }),
      JSON.stringify(Object.entries(config)),
      JSON.stringify(structuredClone({ ...config })),
    ]) {
      expect(rendering).not.toContain(KEY);
    }
    expect(JSON.stringify(config)).toContain('"apiKey":"***"');
  });

  it('stays hidden in derived configs and a client', () => {
    const derived = config.with({ model: 'other' });
    expect(derived.apiKey).toBe(KEY);
    expectNoKey(derived);
    const client = new PiClient({ config });
    expectNoKey(client);
  });

  it('is never in the argv, for any dialect', () => {
    for (const dialect of ['pi-0.73', 'pi-1', 'omp'] as const) {
      expect(config.toArgv({ dialect }).join(' ')).not.toContain(KEY);
      expect(config.toLaunchArgv({ dialect }).join(' ')).not.toContain(KEY);
    }
  });

  it('is never in a PiConfigError (message, field, issues, cause), whatever else is wrong', () => {
    const invalid: unknown[] = [
      { apiKey: KEY, thinking: 'bogus' },
      { apiKey: KEY, notAField: KEY.length },
      { apiKey: KEY, launcher: ['ssh', 'host'] },
      { apiKey: KEY, workspace: 'relative/dir' },
      { apiKey: KEY, binary: 'relative/pi' },
      { apiKey: KEY, apiKeyEnv: 'not a name' },
      { apiKey: KEY, extraEnv: { 'bad-name': 'x' } },
      { apiKey: KEY, requestTimeoutMs: -1 },
      { apiKey: KEY, tools: [''] },
      { apiKey: [KEY] },
      { apiKey: { value: KEY } },
    ];
    for (const input of invalid) {
      const error = (() => {
        try {
          PiConfig.parse(input as PiConfigInput);
        } catch (caught) {
          return caught;
        }
        throw new Error(`accepted ${JSON.stringify(Object.keys(input as object))}`);
      })();
      expect(error).toBeInstanceOf(PiConfigError);
      expectNoKey(error);
    }
    // A dialect that lacks a flag fails at toArgv(); that error doesn't carry the key either.
    const ompError = (() => {
      try {
        return PiConfig.parse({ apiKey: KEY, noBuiltinTools: true }).toArgv({ dialect: 'omp' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(ompError).toBeInstanceOf(PiConfigError);
    expectNoKey(ompError);
  });
});

describe('the API key through the real pi CLI', () => {
  let env: FakePiEnv;
  let dir: string;
  const stderrLines: string[] = [];
  const sessions: PiSession[] = [];
  const recordings: { recording: TranscriptRecording; file: string }[] = [];

  beforeAll(async () => {
    env = await startFakePiEnv();
    dir = mkdtempSync(join(tmpdir(), 'pidriver-key-'));
  });

  afterAll(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await Promise.all(recordings.map(({ recording }) => recording.close()));
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a recorded session whose config has the key; its stderr goes to `stderrLines`. */
  async function start(name: string, overrides: PiConfigInput, normalize: boolean): Promise<PiSession> {
    const file = join(dir, `${name}.jsonl`);
    const recording = recordTranscript(file, { normalize });
    recordings.push({ recording, file });
    const client = new PiClient({
      config: env.config.with({ apiKey: KEY, ...overrides }),
      approve: 'none',
      transportFactory: recording.transportFactory,
      onStderr: (line) => stderrLines.push(line),
    });
    const session = await client.start({ cwd: env.cwd });
    sessions.push(session);
    return session;
  }

  it("is in the child's environment under the provider variable (or apiKeyEnv), never in its argv; transcripts redact it", async () => {
    const [byProvider, byName] = await Promise.all([start('provider-var', {}, true), start('named-var', { apiKeyEnv: 'PIDRIVER_CUSTOM_KEY' }, false)]);
    // pi sets process.title, which overwrites its /proc cmdline with just "pi"; the argv as spawned
    // is checked on the fake pi below, which keeps it.
    for (const session of [byProvider, byName]) expect(cmdlineOf(session.pid!).join('\0')).not.toContain(KEY);
    expect(environOf(byProvider.pid!).get('FAKE_API_KEY')).toBe(KEY); // `fake` → FAKE_API_KEY
    const named = environOf(byName.pid!);
    expect(named.get('PIDRIVER_CUSTOM_KEY')).toBe(KEY);
    expect(named.has('FAKE_API_KEY')).toBe(false);

    // Put the key on the wire: pi's bash tool prints its environment to pi's stdout.
    const [printed] = await Promise.all([bashOutput(byProvider, 'env'), bashOutput(byName, 'env')]);
    expect(printed.output).toContain(`FAKE_API_KEY=${KEY}`);
    expectNoKey(byProvider); // inspect(session) shows its config, redacted

    await Promise.all(sessions.splice(0).map((session) => session.close()));
    for (const { recording, file } of recordings) {
      await recording.close();
      const transcript = readFileSync(file, 'utf8');
      expect(transcript).toContain('"dir":"out"');
      expect(transcript).not.toContain(KEY);
      expect(transcript).toContain(`=${REDACTED_PLACEHOLDER}`); // the printed env line, redacted (normalize on and off)
    }
  });

  it('is not in the argv as spawned (/proc cmdline of a fake pi, which keeps its argv), but in its environment', async () => {
    const { config, marker } = fakeConfig('normal', { apiKey: KEY, provider: 'openai' });
    const session = await new PiClient({ config }).start({ cwd: env.cwd, approve: 'none' });
    sessions.push(session);
    const argv = cmdlineOf(session.pid!);
    expect(argv).toEqual(expect.arrayContaining(['--mode', 'rpc', '--provider', 'openai', marker]));
    expect(argv.join('\0')).not.toContain(KEY);
    expect(environOf(session.pid!).get('OPENAI_API_KEY')).toBe(KEY);
    await session.close();
  });

  it('is not in a PiStartError (real pi exits 1 on an unknown provider), nor in its stderr tail', async () => {
    const client = new PiClient({ config: env.config.with({ apiKey: KEY, provider: 'nope' }), onStderr: (line) => stderrLines.push(line) });
    const error = await client.start({ cwd: env.cwd }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiStartError);
    expect((error as PiStartError).stderrTail).toMatch(/Unknown provider/);
    expectNoKey(error);
  });

  it('is not in a PiTimeoutError / PiStartError when pi never answers', async () => {
    const { config } = fakeConfig('no-ready', { apiKey: KEY, startTimeoutMs: 300, terminateTimeoutMs: 300 });
    const error = await new PiClient({ config }).start({ cwd: env.cwd, approve: 'none' }).catch((caught: unknown) => caught);
    expect(error instanceof PiTimeoutError || error instanceof PiStartError).toBe(true);
    expectNoKey(error);
  });

  it('is not in the TransportClosedError (or the error event) when pi is killed', async () => {
    const client = new PiClient({ config: env.config.with({ apiKey: KEY }), approve: 'none', onStderr: (line) => stderrLines.push(line) });
    const session = await client.start({ cwd: env.cwd });
    const seen: unknown[] = [];
    const died = new Promise<unknown>((resolve) => {
      session.events$.subscribe({ next: (event) => seen.push(event), error: resolve });
    });
    const pid = session.pid!;
    process.kill(pid, 'SIGKILL');
    const error = await died;
    expect(error).toBeInstanceOf(TransportClosedError);
    expectNoKey(error);
    expectNoKey(seen);
    expectNoKey(session.state);
    expect(await waitForExit(pid)).toBe(true);
  });

  it('was never in a stderr line handed to onStderr', () => {
    expect(stderrLines.length).toBeGreaterThan(0); // the unknown-provider error at least
    expect(stderrLines.join('\n')).not.toContain(KEY);
  });
});
