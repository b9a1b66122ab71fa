/**
 * Property: whatever chunk sizes a child writes its stdout in, SubprocessTransport delivers
 * exactly the lines it wrote (LF framing, one trailing CR stripped, U+2028/U+2029 kept, code
 * points split across writes reassembled, a last unterminated line flushed at EOF).
 *
 * LineSplitter's own spec already covers arbitrary chunking in memory; this one runs a real
 * child (spec/fixtures/chunked-writer.mjs) through the pipe, a few cases, so each run is cheap.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiConfig } from '../../src/config/PiConfig.js';
import { SubprocessTransport } from '../../src/transport/SubprocessTransport.js';
import type { TransportLine } from '../../src/transport/PiTransport.js';
import { pidsMatching, waitForExit } from '../helpers/realPi.js';
import { CHUNKED_WRITER, collectUnhandled, scratchCwd } from './fakePi.js';

const unhandled = collectUnhandled();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const dir = scratchCwd();
let runs = 0;

/** Runs the writer on `payload` with `sizes`; resolves with the lines the transport delivered. */
async function deliver(payload: Buffer, sizes: readonly number[]): Promise<TransportLine[]> {
  const spec = join(dir, `spec-${runs++}.json`);
  writeFileSync(spec, JSON.stringify({ payload: payload.toString('base64'), sizes }));
  const marker = `--chunked-run=${spec}`;
  const transport = new SubprocessTransport(
    PiConfig.parse({ binary: CHUNKED_WRITER, extraArgs: [marker], extraEnv: { CHUNKED_WRITER_SPEC: spec }, terminateTimeoutMs: 2_000 }),
    { cwd: dir },
  );
  const lines = lastValueFrom(transport.lines$.pipe(toArray(), timeout(30_000)));
  await transport.start();
  const pid = transport.pid!;
  try {
    return await lines;
  } finally {
    const closed = await transport.close();
    expect(closed.exitCode).toBe(0);
    expect(await waitForExit(pid)).toBe(true);
    expect(pidsMatching(marker)).toEqual([]);
  }
}

/** What a correct LF splitter yields for `text`. */
function expectedLines(text: string): string[] {
  const pieces = text.split('\n');
  const last = pieces.pop() as string;
  if (last.length > 0) pieces.push(last);
  return pieces.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

const lineArb = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('\u2028', '\u2029', '€', '😀', 'é', '\r', '"', '{"type":"x"}')), {
    maxLength: 6,
  })
  .map((parts) => parts.join('').replace(/\n/g, ''));

describe('SubprocessTransport line delivery (property, real child process)', () => {
  it('delivers exactly the lines a child writes, under random chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 12 }),
        async (lines, crlf, terminated, sizes) => {
          const text = lines.map((line) => line + (crlf ? '\r\n' : '\n')).join('') + (terminated ? '' : 'unterminated €');
          const delivered = await deliver(Buffer.from(text, 'utf8'), sizes);
          expect(delivered).toEqual(expectedLines(text));
        },
      ),
      { numRuns: 8 },
    );
  });

  it('delivers long lines (beyond a 64 KiB pipe read) split at awkward offsets', async () => {
    const long = `{"type":"message_update","delta":"${'é😀\u2028x'.repeat(40_000)}"}`;
    const text = `${long}\nshort\n${long}\r\n`;
    const delivered = await deliver(Buffer.from(text, 'utf8'), [65_537, 1, 3, 4_093]);
    expect(delivered).toHaveLength(3);
    expect(delivered).toEqual(expectedLines(text));
  });

  it('left nothing unhandled', async () => {
    expect(await unhandled.flush()).toEqual([]);
  });
});
