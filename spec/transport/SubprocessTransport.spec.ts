/**
 * SubprocessTransport on the fake pi script (spec/fixtures/fake-pi.mjs): the edges of its
 * lifetime that the session specs don't reach.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiNotFoundError, TransportClosedError } from '../../src/errors.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { waitForExit } from '../helpers/realPi.js';
import { FAKE_PI, scratchCwd } from '../reliability/fakePi.js';

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

describe('SubprocessTransport', () => {
  it('send() before start() rejects with TransportClosedError; close() before start() is a no-op', async () => {
    const transport = new SubprocessTransport(PiConfig.parse({ binary: FAKE_PI }), { cwd: scratchCwd() });
    await expect(transport.send({ type: 'get_state' })).rejects.toBeInstanceOf(TransportClosedError);
    await expect(transport.close()).resolves.toMatchObject({ escalation: 'not-started' });
    expect(transport.pid).toBeUndefined();
  });

  it('start() on a missing binary rejects with PiNotFoundError', async () => {
    const transport = new SubprocessTransport(PiConfig.parse({ binary: '/nonexistent/pi' }), { cwd: scratchCwd() });
    await expect(transport.start()).rejects.toBeInstanceOf(PiNotFoundError);
  });

  it('kills pi when the parent process exits without closing it (even a pi that ignores EOF and SIGTERM)', async () => {
    const { stdout } = await run(tsx, [fixture('exit-with-live-transport.ts'), FAKE_PI, 'ignore-term'], { cwd: scratchCwd(), timeout: 30_000 });
    const pid = Number(stdout.trim().split('\n').at(-1));
    expect(pid).toBeGreaterThan(0);
    expect(await waitForExit(pid)).toBe(true);
  });
});
