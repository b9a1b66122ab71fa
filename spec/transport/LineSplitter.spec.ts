import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, OversizeLine } from '../../src/transport/LineSplitter.js';

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
const lineArb = fc.array(
  fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom('\u2028', '\u2029', '€', '😀', 'é', '\r', '"', '\\', '{"type":"x"}'),
  ),
  { maxLength: 8 },
).map((parts) => parts.join('').replace(/\n/g, ''));

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
});
