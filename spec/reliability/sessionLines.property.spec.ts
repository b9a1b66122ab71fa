/**
 * Property: whatever lines pi writes (valid frames in any order, frames of known types with
 * hostile fields, truncated fast-path lines, garbage), a PiSession never throws, never errors
 * `events$` (only the death of the process does that), keeps `seq` gap-free, reports every
 * line parseLine calls invalid as exactly one `invalid_line` error event, stays usable for
 * commands, and closes cleanly. No pi here: a FakeTransport feeds the lines.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine } from '../../src/protocol/parseLine.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { PiClient } from '../../src/session/PiClient.js';
import { FakeTransport } from '../../src/testing/FakeTransport.js';
import { anyLine } from './arbitraries.js';
import { collectUnhandled } from './fakePi.js';

const unhandled = collectUnhandled();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const PRISTINE_OBJECT_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

describe('PiSession fed arbitrary lines (property, FakeTransport)', () => {
  it('never errors events$, keeps seq gap-free, reports each invalid line once, stays usable, closes cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyLine, { maxLength: 60 }), async (lines) => {
        const transport = new FakeTransport();
        const session = await new PiClient({ transportFactory: () => transport, approve: 'none' }).start({ cwd: process.cwd() });
        const events: PiEvent[] = [];
        let failure: unknown;
        let completed = false;
        session.events$.subscribe({
          next: (event) => events.push(event),
          error: (error: unknown) => (failure = error),
          complete: () => (completed = true),
        });

        for (const line of lines) transport.emitLine(line);
        // The session still answers (it settles any run the lines started with its own get_state).
        await expect(session.getState()).resolves.toMatchObject({ sessionId: 'fake-pi-session' });
        expect(failure).toBeUndefined();
        expect(session.state.status).not.toBe('closed');

        const invalid = lines.filter((line) => line.trim().length > 0 && parseLine(line).kind === 'invalid').length;
        expect(events.filter((event) => event.type === 'error' && event.code === 'invalid_line')).toHaveLength(invalid);
        expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PRISTINE_OBJECT_KEYS);

        const closed = await session.close();
        expect(closed.escalation).toBe('eof');
        expect(failure).toBeUndefined();
        expect(completed).toBe(true);
        expect(session.state.status).toBe('closed');
      }),
      { numRuns: 150 },
    );
    expect(await unhandled.flush()).toEqual([]);
  });
});
