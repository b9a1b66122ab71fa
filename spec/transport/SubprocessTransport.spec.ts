/**
 * SubprocessTransport on the fake pi script (spec/fixtures/fake-pi.mjs): the edges of its
 * lifetime that the session specs don't reach.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { filter, firstValueFrom, lastValueFrom, map, takeWhile, timeout, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { PiNotFoundError, TransportClosedError } from '../../src/errors.js';
import { OversizeLine, ScannedLine } from '../../src/transport/LineSplitter.js';
import type { TransportLine } from '../../src/transport/PiTransport.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import { waitFor, waitForExit } from '../helpers/realPi.js';
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
    const [source, pidText] = stdout.trim().split('\n').slice(-2);
    // The dialect is pinned: no `--version` probe, which a pi ignoring EOF and SIGTERM stalls for 20 s.
    expect(source).toBe('config');
    const pid = Number(pidText);
    expect(pid).toBeGreaterThan(0);
    expect(await waitForExit(pid)).toBe(true);
  });

  it('reads stdout into one reused buffer: a long run arrives exactly, and lines written before a subscriber comes wait in the pipe', async () => {
    const deltas = 20_000; // ~1.4 MB of frames: many reads, lines cut at every read boundary
    const transport = new SubprocessTransport(PiConfig.parse({ binary: FAKE_PI, extraEnv: { FAKE_PI_DELTAS: String(deltas) } }), { cwd: scratchCwd() });
    await transport.start();
    try {
      expect(transport.readsIntoReusedBuffer).toBe(true);
      await transport.send({ id: 's', type: 'get_state' });
      await transport.send({ id: 'p', type: 'prompt', message: 'go' });
      // Subscribed only now: the lines waited in the pipe. Each one's text is read as it is delivered.
      const texts = await lastValueFrom(
        transport.lines$.pipe(
          map((line: TransportLine) => (line instanceof ScannedLine ? line.line : line instanceof OversizeLine ? `oversize ${line.bytes}` : line)),
          takeWhile((text) => !text.startsWith('{"type":"agent_end"'), true),
          toArray(),
          timeout(30_000),
        ),
      );
      expect(JSON.parse(texts[0] ?? '')).toMatchObject({ id: 's', type: 'response', command: 'get_state' });
      const updates = texts.filter((text) => text.startsWith('{"type":"message_update"'));
      expect(updates).toHaveLength(deltas);
      updates.forEach((text, index) => {
        expect(text).toBe(JSON.stringify({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: `d${index} ` } }));
      });
      expect(texts.at(-1)).toContain('"type":"agent_end"');
    } finally {
      await transport.close();
    }
  });

  it('leaves no file descriptor open after many sessions', async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const session = async () => {
      const transport = new SubprocessTransport(PiConfig.parse({ binary: FAKE_PI, terminateTimeoutMs: 5_000 }), { cwd: scratchCwd() });
      const reply = firstValueFrom(
        transport.lines$.pipe(
          filter((line) => typeof line === 'string' && line.includes('"id":"s"')),
          timeout(10_000),
        ),
      );
      await transport.start();
      await transport.send({ id: 's', type: 'get_state' });
      await reply;
      expect(await transport.close()).toMatchObject({ escalation: 'eof', exitCode: 0 });
    };
    await session(); // anything opened once per process (not per session) is open from now on
    expect(await waitFor(() => openFds() > 0)).toBe(true);
    const before = openFds();
    for (let index = 0; index < 20; index++) await session();
    // stdin, stdout, stderr of each: closed once their streams end, a tick or two after close().
    expect(await waitFor(() => openFds() <= before)).toBe(true);
  });
});
