import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiDriverError } from '../../src/errors.js';
import { LineSplitter, OversizeLine, ScannedLine } from '../../src/transport/LineSplitter.js';

function split(chunks: readonly Uint8Array[], maxLineBytes?: number): (string | OversizeLine)[] {
  const splitter = new LineSplitter(maxLineBytes);
  const lines: (string | OversizeLine)[] = [];
  for (const chunk of chunks) splitter.push(chunk, (line) => lines.push(line));
  splitter.end((line) => lines.push(line));
  return lines;
}

/** Cuts a buffer at the given (sorted, in-range) offsets. */
function cut(buffer: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((offset) => offset % (buffer.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    pieces.push(buffer.subarray(start, point));
    start = point;
  }
  pieces.push(buffer.subarray(start));
  return pieces;
}

// Lines without \n, with unicode (multi-byte, astral, U+2028/U+2029) and stray \r inside.
const lineArb = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('\u2028', '\u2029', '€', '😀', 'é', '\r', '"', '\\', '{"type":"x"}')), { maxLength: 8 })
  .map((parts) => parts.join('').replace(/\n/g, ''));

describe('LineSplitter', () => {
  it('yields exactly the original lines under any chunking (LF and CRLF)', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 30 }), (lines, crlf, offsets) => {
        const text = lines.map((line) => line + (crlf ? '\r\n' : '\n')).join('');
        const result = split(cut(Buffer.from(text, 'utf8'), offsets));
        // CRLF: exactly the lines. LF: a line's own trailing \r is the one \r that gets stripped.
        expect(result).toEqual(crlf ? lines : lines.map((line) => line.replace(/\r$/, '')));
      }),
      { numRuns: 300 },
    );
  });

  it('never splits on U+2028 / U+2029 and keeps them', () => {
    expect(split([Buffer.from('{"t":"a\u2028b\u2029c"}\n')])).toEqual(['{"t":"a\u2028b\u2029c"}']);
  });

  it('reassembles a code point split across chunks', () => {
    const bytes = Buffer.from('😀\n', 'utf8');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)])).toEqual(['😀']);
  });

  it('strips one trailing \\r only, even across chunks', () => {
    expect(split([Buffer.from('a\r'), Buffer.from('\nb\r\r\n')])).toEqual(['a', 'b\r']);
  });

  it('keeps empty lines and delivers a last line without \\n at the end', () => {
    expect(split([Buffer.from('\n\nlast')])).toEqual(['', '', 'last']);
  });

  it('turns a line over maxLineBytes into an OversizeLine and goes on', () => {
    const long = 'x'.repeat(100);
    const result = split([Buffer.from(`${long.slice(0, 30)}`), Buffer.from(`${long.slice(30)}\nok\n`)], 50);
    expect(result[0]).toBeInstanceOf(OversizeLine);
    expect((result[0] as OversizeLine).bytes).toBe(100);
    expect((result[0] as OversizeLine).head).toBe(long.slice(0, 100).slice(0, 200));
    expect(result[1]).toBe('ok');
  });

  it('replaces invalid UTF-8 instead of throwing', () => {
    expect(split([Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])])).toEqual(['{\uFFFD\uFFFD}']);
  });

  describe('with scanMessageUpdates', () => {
    const partial = (text: string) => ({ role: 'assistant', content: [{ type: 'text', text }], stopReason: 'stop' });
    const update073 = (delta: string, text: string) =>
      JSON.stringify({
        type: 'message_update',
        assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta, partial: partial(text) },
        message: partial(text),
      });
    const update1x = (delta: string) =>
      JSON.stringify({ type: 'message_update', usage: { input: 1 }, assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta } });

    function scanSplit(chunks: readonly Uint8Array[]): (string | OversizeLine | ScannedLine)[] {
      const splitter = new LineSplitter(64 * 1024 * 1024, { scanMessageUpdates: true });
      const lines: (string | OversizeLine | ScannedLine)[] = [];
      for (const chunk of chunks) splitter.push(chunk, (line) => lines.push(line));
      splitter.end((line) => lines.push(line));
      return lines;
    }

    it('emits message_update lines as ScannedLines (the rest as strings), each with its exact text', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(lineArb, fc.nat(2)), { minLength: 1, maxLength: 12 }),
          fc.boolean(),
          fc.array(fc.nat(), { maxLength: 20 }),
          (items, crlf, offsets) => {
            const lines = items.map(([text, kind]) => (kind === 0 ? text : kind === 1 ? update073(text.slice(0, 3), text.repeat(50)) : update1x(text)));
            const result = scanSplit(cut(Buffer.from(lines.map((line) => line + (crlf ? '\r\n' : '\n')).join(''), 'utf8'), offsets));
            expect(result).toHaveLength(lines.length);
            // Read the texts only after everything was split: a ScannedLine must not depend on reused buffers.
            result.forEach((out, index) => {
              // One trailing \r is stripped: the line's own when it isn't followed by the one of CRLF.
              const line = crlf ? (lines[index] as string) : (lines[index] as string).replace(/\r$/, '');
              if (out instanceof ScannedLine) {
                expect(line.startsWith('{"type":"message_update"')).toBe(true);
                expect(out.line).toBe(line);
                expect(out.bytes).toBe(Buffer.byteLength(line));
              } else {
                expect(out).toBe(line);
              }
            });
            // Every well-formed message_update line took the fast path.
            expect(result.filter((out) => out instanceof ScannedLine)).toHaveLength(lines.filter((line) => line.startsWith('{"type":"message_update"')).length);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('gives the scan without the resent copies, and decodes the full line only when asked', () => {
      const line = update073('Hel', 'Hello');
      const [out] = scanSplit([Buffer.from(`${line}\n`)]);
      expect(out).toBeInstanceOf(ScannedLine);
      const scanned = out as ScannedLine;
      expect(scanned.scan.cut).toBe(true);
      expect(JSON.parse(scanned.scan.text)).toEqual({
        type: 'message_update',
        assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hel', partial: 0 },
        message: 0,
      });
      expect(scanned.scan.frame).toEqual({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hel' } });
      expect(scanned.line).toBe(line);
    });

    it('leaves a message_update line it cannot vouch for as a string', () => {
      const broken = '{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"x","partial":{"a":}},"message":{}}';
      expect(scanSplit([Buffer.from(`${broken}\n`)])).toEqual([broken]);
    });

    describe('with reusedChunks (one read buffer, overwritten after every push)', () => {
      /** Feeds `text` in `size`-byte reads through one buffer, garbled after each push; collects each line's text as it is emitted. */
      function readThroughOneBuffer(text: string, size: number, maxLineBytes = 64 * 1024 * 1024) {
        const splitter = new LineSplitter(maxLineBytes, { scanMessageUpdates: true, reusedChunks: true });
        const bytes = Buffer.from(text, 'utf8');
        const buffer = Buffer.alloc(size);
        const out: { line: string | OversizeLine | ScannedLine; text: string }[] = [];
        const emit = (line: string | OversizeLine | ScannedLine) =>
          out.push({ line, text: line instanceof ScannedLine ? line.line : line instanceof OversizeLine ? line.head : line });
        for (let offset = 0; offset < bytes.length; offset += size) {
          const read = bytes.copy(buffer, 0, offset, offset + size);
          splitter.push(buffer.subarray(0, read), emit);
          buffer.fill(0x0a);
        }
        splitter.end(emit);
        return out;
      }

      it('a ScannedLine is read while it is emitted; if it was not, `line` throws afterwards (its bytes are gone) and `scan` stays valid', () => {
        const first = update073('Hel', 'Hello');
        const second = update073('lo', 'Hello'.repeat(40));
        const text = `${first}\n${second}\n`;
        expect(readThroughOneBuffer(text, 64).map((entry) => entry.text)).toEqual([first, second]);

        const splitter = new LineSplitter(1024, { scanMessageUpdates: true, reusedChunks: true });
        const buffer = Buffer.from(text);
        const out: ScannedLine[] = [];
        splitter.push(buffer, (line) => out.push(line as ScannedLine));
        buffer.fill(0x0a);
        expect(out).toHaveLength(2);
        for (const scanned of out) {
          expect(scanned).toBeInstanceOf(ScannedLine);
          expect(() => scanned.line).toThrow(PiDriverError);
          expect(() => scanned.line).toThrow(/read after the line was delivered/);
        }
        expect(out[1]?.scan.frame.assistantMessageEvent).toEqual({ type: 'text_delta', contentIndex: 0, delta: 'lo' });
        expect(JSON.parse(out[1]?.scan.text ?? '')).toMatchObject({ message: 0, assistantMessageEvent: { partial: 0 } });
      });

      it('a line read once while emitted stays readable', () => {
        const line = update073('x', 'y'.repeat(100));
        const splitter = new LineSplitter(1024, { scanMessageUpdates: true, reusedChunks: true });
        let kept: ScannedLine | undefined;
        splitter.push(
          Buffer.from(`${line}
`),
          (out) => {
            kept = out as ScannedLine;
            expect(kept.line).toBe(line);
          },
        );
        expect(kept?.line).toBe(line);
      });

      it('carries lines over many reads, longer than the reused carry buffer (1 MiB), exactly', () => {
        const long = update073('z', `€${'ab😀'.repeat(300_000)}`); // ~3 MB, multi-byte across every read boundary
        const out = readThroughOneBuffer(
          `short
${long}
${long}
last`,
          65_536 - 3,
        );
        expect(out.map((entry) => entry.text)).toEqual(['short', long, long, 'last']);
        expect(out[1]?.line).toBeInstanceOf(ScannedLine);
      });

      it('drops an oversize line as it arrives (head, byte count) and goes on', () => {
        const long = `{"type":"message_update","x":"${'é'.repeat(5_000)}"}`;
        const out = readThroughOneBuffer(
          `${long}
ok
`,
          333,
          4_000,
        );
        expect(out[0]?.line).toBeInstanceOf(OversizeLine);
        expect((out[0]?.line as OversizeLine).bytes).toBe(Buffer.byteLength(long));
        expect((out[0]?.line as OversizeLine).head).toBe(Buffer.from(long).subarray(0, 200).toString('utf8'));
        expect(out[1]?.text).toBe('ok');
      });
    });

    it('still drops oversize lines as they arrive', () => {
      const splitter = new LineSplitter(100, { scanMessageUpdates: true });
      const lines: unknown[] = [];
      splitter.push(Buffer.from(`${update073('x', 'y'.repeat(200))}\n`), (line) => lines.push(line));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBeInstanceOf(OversizeLine);
    });
  });
});
