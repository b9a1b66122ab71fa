/**
 * A pi (or a pi extension) that prints its environment on stderr (here
 * `spec/fixtures/env-on-stderr-pi.mjs`) must not put its secrets into what pidriver surfaces:
 * `PiStartError` (message, `stderrTail`, `cause`), `TransportClosedError`, the session state's
 * exit, and the lines handed to `onStderr`. Masked: the `apiKey`, the value passed through
 * `apiKeyEnv`, and every environment value whose name says it is secret (`…KEY`, `…TOKEN`,
 * `…SECRET`, `…PASSWORD`). Other lines and values stay as pi wrote them.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { PiConfigInput } from '../../src/config/PiConfig.js';
import { PiStartError, TransportClosedError } from '../../src/errors.js';
import { PiClient } from '../../src/session/PiClient.js';
import type { PiSession } from '../../src/session/PiSession.js';
import { waitFor, waitForExit } from '../helpers/realPi.js';
import { scratchCwd } from '../reliability/fakePi.js';
import { setParentEnv } from './support.js';

const ENV_PI = fileURLToPath(new URL('../fixtures/env-on-stderr-pi.mjs', import.meta.url));
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
const KEY = secret('sk-api-key');
const TOKEN = secret('service-token');
const PASSWORD = secret('db-password');
const TEAM_KEY = secret('sk-team-key');
const SECRETS = [KEY, TOKEN, PASSWORD, TEAM_KEY];
const MARK = 'plain-value-stays-visible';

/** Every string form a value can take in a log: message, stack, cause, inspect with everything, format, JSON. */
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

function expectNoSecret(value: unknown): void {
  const text = everyRendering(value);
  for (const hidden of SECRETS) expect(text).not.toContain(hidden);
}

const cwds: string[] = [];
const sessions: PiSession[] = [];
let restoreEnv: (() => void) | undefined;

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.close()));
  restoreEnv?.();
  restoreEnv = undefined;
  for (const cwd of cwds.splice(0)) rmSync(cwd, { recursive: true, force: true });
});

/** A config for the env-printing stand-in pi in `mode`, with secrets in its environment. */
function config(mode: string, overrides: PiConfigInput = {}): PiConfigInput {
  return {
    binary: ENV_PI,
    dialect: 'pi-0.73',
    provider: 'openai',
    apiKey: KEY,
    terminateTimeoutMs: 2_000,
    ...overrides,
    extraEnv: { FAKE_PI_MODE: mode, MY_SERVICE_TOKEN: TOKEN, DB_PASSWORD: PASSWORD, PIDRIVER_MARK: MARK, ...overrides.extraEnv },
  };
}

function cwd(): string {
  const dir = scratchCwd();
  cwds.push(dir);
  return dir;
}

describe('secrets a pi prints on stderr', () => {
  it('are masked in PiStartError (message, stderrTail, cause) and in onStderr lines; the rest is kept', async () => {
    const lines: string[] = [];
    const client = new PiClient({ config: config('exit-early'), onStderr: (line) => lines.push(line) });
    const error = await client.start({ cwd: cwd(), approve: 'none' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiStartError);
    expectNoSecret(error);
    expectNoSecret(lines);
    const tail = (error as PiStartError).stderrTail;
    // pi printed them; pidriver passed the lines on, masked.
    expect(tail).toContain('OPENAI_API_KEY=***');
    expect(tail).toContain('MY_SERVICE_TOKEN=***');
    expect(tail).toContain('DB_PASSWORD=***');
    expect(tail).toContain(`PIDRIVER_MARK=${MARK}`);
    expect(tail).toContain('fake-pi: fatal');
    expect(lines).toContain('OPENAI_API_KEY=***');
    expect(lines).toContain(`PIDRIVER_MARK=${MARK}`);
  });

  it('are masked while pi runs and when it dies (TransportClosedError, state), apiKeyEnv and inherited secrets too', async () => {
    restoreEnv = setParentEnv({ PIDRIVER_TEAM_KEY: TEAM_KEY });
    const lines: string[] = [];
    const client = new PiClient({
      config: config('normal', { apiKey: undefined, apiKeyEnv: 'PIDRIVER_TEAM_KEY', inheritEnv: true }),
      onStderr: (line) => lines.push(line),
    });
    const session = await client.start({ cwd: cwd(), approve: 'none' });
    sessions.push(session);
    const died = new Promise<unknown>((resolve) => {
      session.events$.subscribe({ error: resolve });
    });
    // Written before pi answered get_state; stderr is read on its own, so wait (bounded) for the last line.
    expect(await waitFor(() => lines.includes('env-on-stderr-pi: done'))).toBe(true);
    expect(lines).toContain('PIDRIVER_TEAM_KEY=***');
    expect(lines).toContain('OPENAI_API_KEY=***'); // the same key under the provider's variable
    expect(lines).toContain('MY_SERVICE_TOKEN=***');
    expectNoSecret(lines);

    const pid = session.pid as number;
    process.kill(pid, 'SIGKILL');
    const error = await died;
    expect(error).toBeInstanceOf(TransportClosedError);
    expectNoSecret(error);
    expect((error as TransportClosedError).stderrTail).toContain('DB_PASSWORD=***');
    expect(session.state.status).toBe('closed');
    expect(session.state.exit?.stderrTail).toContain('MY_SERVICE_TOKEN=***');
    expectNoSecret(session.state);
    expect(await waitForExit(pid)).toBe(true);
  });
});
