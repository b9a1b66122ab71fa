/**
 * Property: LineSplitter, fed any bytes in any chunking, yields exactly the lines a reference
 * model says. The model is the framing contract written out: split on LF only, strip one CR
 * before it, keep U+2028/U+2029 and lone CRs, keep empty lines, flush a last unterminated line,
 * and turn a line over `maxLineBytes` into an OversizeLine carrying its byte count and head.
 *
 * spec/transport/LineSplitter.spec.ts covers the basics; this file goes after the boundaries:
 * cuts inside multi-byte sequences, between the CR and LF of a CRLF, one byte at a time, and
 * chunks that are Uint8Array views into a larger buffer rather than Buffers. Every case runs
 * twice: with chunks the splitter may keep views of, and with one buffer reused for every
 * chunk (`reusedChunks`, how SubprocessTransport reads pi's stdout).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, OversizeLine } from '../../src/transport/LineSplitter.js';

type Terminator = '\n' | '\r\n';
interface Framed {
  readonly lines: readonly { readonly text: string; readonly end: Terminator }[];
  /** Bytes after the last terminator ('' for none). */
  readonly tail: string;
}

// Atoms chosen to sit on the boundaries: 1-, 2-, 3- and 4-byte UTF-8, the JS line separators
// JSON leaves raw, lone CRs, quotes and backslashes, and the replacement character itself.
const atom = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 3, arbitrary: fc.constantFrom('é', '€', '😀', '中', '\u2028', '\u2029', '\r', '"', '\\', '\ufffd', '\u0000', '{"type":"x"}') },
);
const lineText = fc.array(atom, { maxLength: 6 }).map((atoms) => atoms.join('').replace(/\n/g, ''));
// Empty lines are common on purpose.
const line = fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 4, arbitrary: lineText });
const framed: fc.Arbitrary<Framed> = fc.record({
  lines: fc.array(fc.record({ text: line, end: fc.constantFrom<Terminator>('\n', '\r\n') }), { maxLength: 25 }),
  tail: fc.oneof(fc.constant(''), lineText),
});

const encode = ({ lines, tail }: Framed): Buffer => Buffer.from(lines.map(({ text, end }) => text + end).join('') + tail, 'utf8');

type Yielded = string | { readonly oversize: number; readonly head: string };

/** What the splitter must yield: the model of the framing contract. */
function expected({ lines, tail }: Framed, maxLineBytes = Infinity): Yielded[] {
  return contentsOf({ lines, tail }).map((content) => {
    const bytes = Buffer.byteLength(content, 'utf8');
    if (bytes > maxLineBytes) return { oversize: bytes, head: headOf(content, 200) };
    return content.endsWith('\r') ? content.slice(0, -1) : content;
  });
}

/** Each line's bytes before its LF (a CRLF line keeps its CR here), and the unterminated tail. */
function contentsOf({ lines, tail }: Framed): string[] {
  const contents = lines.map(({ text, end }) => (end === '\r\n' ? `${text}\r` : text));
  return tail === '' ? contents : [...contents, tail];
}

const headOf = (content: string, bytes: number): string => Buffer.from(content, 'utf8').subarray(0, bytes).toString('utf8');

/**
 * An oversize line's head is its first bytes as buffered when it crossed the limit (at most 200):
 * exactly the first 200 once `maxLineBytes` ≥ 200, fewer with a tiny limit and small chunks.
 */
function isHeadOf(head: string, content: string, maxLineBytes: number): boolean {
  const bytes = Buffer.byteLength(content, 'utf8');
  for (let length = Math.min(bytes, maxLineBytes + 1, 200); length <= Math.min(bytes, 200); length++) {
    if (headOf(content, length) === head) return true;
  }
  return false;
}

/** Cuts `buffer` at `offsets` (taken modulo its length, any order, duplicates allowed). */
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

/** The same bytes as a plain Uint8Array view into a larger ArrayBuffer (not a Buffer, non-zero offset). */
function asForeignView(chunk: Buffer): Uint8Array {
  const backing = new Uint8Array(chunk.length + 16);
  backing.set(chunk, 8);
  return new Uint8Array(backing.buffer, 8, chunk.length);
}

/** The lines of `chunks`, which must come out the same whether the caller reuses its chunks' memory or not. */
function run(chunks: readonly Uint8Array[], maxLineBytes?: number): Yielded[] {
  const plain = split(chunks, maxLineBytes, false);
  expect(split(chunks, maxLineBytes, true)).toEqual(plain);
  return plain;
}

/**
 * With `reused`, as SubprocessTransport reads: every chunk is copied into one buffer, which is
 * overwritten with newlines as soon as push() returns, so anything the splitter kept a view of
 * would come out changed.
 */
function split(chunks: readonly Uint8Array[], maxLineBytes: number | undefined, reused: boolean): Yielded[] {
  const splitter = new LineSplitter(maxLineBytes, { reusedChunks: reused });
  const out: Yielded[] = [];
  const emit = (line: string | OversizeLine) => out.push(line instanceof OversizeLine ? { oversize: line.bytes, head: line.head } : line);
  const shared = Buffer.alloc(Math.max(0, ...chunks.map((chunk) => chunk.length)));
  for (const chunk of chunks) {
    if (!reused) {
      splitter.push(chunk, emit);
      continue;
    }
    shared.set(chunk);
    splitter.push(shared.subarray(0, chunk.length), emit);
    shared.fill(0x0a);
  }
  splitter.end(emit);
  return out;
}

describe('LineSplitter (property)', () => {
  it('yields exactly the original lines under arbitrary chunking, mixed LF/CRLF, with or without a last newline', () => {
    fc.assert(
      fc.property(framed, fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (input, offsets, foreign) => {
        const chunks = cut(encode(input), offsets).map((chunk) => (foreign ? asForeignView(chunk) : chunk));
        expect(run(chunks)).toEqual(expected(input));
      }),
      { numRuns: 500 },
    );
  });

  it('yields the same lines when fed one byte at a time', () => {
    fc.assert(
      fc.property(framed, (input) => {
        const bytes = encode(input);
        const chunks = Array.from({ length: bytes.length }, (_, index) => bytes.subarray(index, index + 1));
        expect(run(chunks)).toEqual(expected(input));
      }),
      { numRuns: 150 },
    );
  });

  it('handles a CRLF split between two chunks, at every line', () => {
    fc.assert(
      fc.property(fc.array(lineText, { minLength: 1, maxLength: 10 }), (texts) => {
        const input: Framed = { lines: texts.map((text) => ({ text, end: '\r\n' })), tail: '' };
        const bytes = encode(input);
        const crOffsets = [...bytes.entries()].filter(([index, byte]) => byte === 0x0d && bytes[index + 1] === 0x0a).map(([index]) => index + 1);
        expect(run(cut(bytes, crOffsets))).toEqual(expected(input));
      }),
      { numRuns: 200 },
    );
  });

  it('cuts inside every multi-byte sequence and still decodes each code point once', () => {
    const text = 'é€😀中\u2028\u2029\ufffd';
    const input: Framed = {
      lines: [
        { text, end: '\n' },
        { text: '', end: '\r\n' },
        { text, end: '\r\n' },
      ],
      tail: text,
    };
    const bytes = encode(input);
    for (let point = 0; point <= bytes.length; point++) {
      expect(run(cut(bytes, [point]))).toEqual(expected(input));
      expect(run(cut(bytes, [point, point + 1, point + 2]))).toEqual(expected(input));
    }
  });

  it('turns exactly the lines over maxLineBytes into OversizeLines (byte count, head), under any chunking', () => {
    fc.assert(
      fc.property(framed, fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(), { maxLength: 30 }), (input, maxLineBytes, offsets) => {
        const yielded = run(cut(encode(input), offsets), maxLineBytes);
        const model = expected(input, maxLineBytes);
        const contents = contentsOf(input);
        expect(yielded).toHaveLength(model.length);
        yielded.forEach((line, index) => {
          const want = model[index];
          if (typeof want === 'string') return expect(line).toBe(want);
          expect(line).toMatchObject({ oversize: want?.oversize });
          expect(isHeadOf((line as { head: string }).head, contents[index] ?? '', maxLineBytes)).toBe(true);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('with a limit of 200 bytes or more, an oversize head is exactly the first 200 bytes', () => {
    const long = fc.array(atom, { minLength: 60, maxLength: 200 }).map((atoms) => atoms.join('').replace(/\n/g, ''));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(long, lineText), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 200, max: 400 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (texts, maxLineBytes, offsets) => {
          const input: Framed = { lines: texts.map((text) => ({ text, end: '\n' })), tail: '' };
          expect(run(cut(encode(input), offsets), maxLineBytes)).toEqual(expected(input, maxLineBytes));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('empty input, empty chunks and lone newlines', () => {
    expect(run([])).toEqual([]);
    expect(run([Buffer.alloc(0), Buffer.alloc(0)])).toEqual([]);
    expect(run([Buffer.from('\n'), Buffer.alloc(0), Buffer.from('\r\n\n')])).toEqual(['', '', '']);
    expect(run([Buffer.from('\r')])).toEqual(['']); // a lone CR at EOF is a line of its own, stripped
  });
});
