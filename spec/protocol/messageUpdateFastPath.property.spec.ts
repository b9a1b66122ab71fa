/**
 * Differential tests of the `message_update` fast path (scanMessageUpdate, LineSplitter's
 * scanning, readLine/readScan, the lazy raw) against a reference slow path written here: every
 * line, recorded or generated, valid or garbled, whole or chunked, must give the session the
 * same outcome both ways: the same kind (frame, invalid, unknown), and for a frame the same
 * events from the normalizer, the same announced tool calls, and an equal `raw`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_SCHEMAS, isKnownFrameType, MessageUpdateFrameSchema, type KnownFrame } from '../../src/protocol/frames.js';
import { parseLine, readLine, readScan, type SessionLine } from '../../src/protocol/parseLine.js';
import { scanMessageUpdate } from '../../src/protocol/scanMessageUpdate.js';
import { EventNormalizer } from '../../src/protocol/EventNormalizer.js';
import { LineSplitter, OversizeLine, ScannedLine } from '../../src/transport/LineSplitter.js';

// ---------------------------------------------------------------------------------------------
// The reference: JSON.parse, drop the resent copies, the frame schema. Nothing of the fast path.

type Outcome =
  { readonly kind: 'frame'; readonly frame: KnownFrame; readonly raw: Record<string, unknown> } | { readonly kind: 'invalid' } | { readonly kind: 'unknown' };

function slow(line: string): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'invalid' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid' };
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string') return { kind: 'invalid' };
  if (!isKnownFrameType(type)) return { kind: 'unknown' };
  if (type === 'message_update') {
    delete record['message'];
    const event = record['assistantMessageEvent'];
    if (typeof event === 'object' && event !== null) delete (event as Record<string, unknown>)['partial'];
  }
  const result = FRAME_SCHEMAS[type].safeParse(record);
  return result.success ? { kind: 'frame', frame: result.data, raw: record } : { kind: 'invalid' };
}

/** What a session does with a reading: its kind, and for a frame what the normalizer makes of it and the raw events get. */
function outcomeOf(reading: SessionLine): Outcome {
  if (reading.kind === 'deferred') return { kind: 'frame', frame: reading.frame, raw: reading.raw.value };
  if (reading.kind === 'frame') return { kind: 'frame', frame: reading.frame, raw: reading.raw };
  return { kind: reading.kind };
}

function expectSameOutcome(fast: Outcome, reference: Outcome): void {
  expect(fast.kind).toBe(reference.kind);
  if (fast.kind !== 'frame' || reference.kind !== 'frame') return;
  const fastNormalizer = new EventNormalizer();
  const slowNormalizer = new EventNormalizer();
  expect(fastNormalizer.normalize(fast.frame)).toEqual(slowNormalizer.normalize(reference.frame));
  expect(fastNormalizer.announcedTools).toEqual(slowNormalizer.announcedTools);
  expect(fast.raw).toEqual(reference.raw);
}

/** The line through LineSplitter (scanning on) in the given chunks, then as the session reads it. */
function throughSplitter(line: string, cuts: readonly number[] = [], crlf = false): { outcome: Outcome; scanned: boolean } {
  const bytes = Buffer.from(`${line}${crlf ? '\r\n' : '\n'}`, 'utf8');
  const splitter = new LineSplitter(64 * 1024 * 1024, { scanMessageUpdates: true });
  const lines: (string | OversizeLine | ScannedLine)[] = [];
  let from = 0;
  for (const cut of [...cuts].map((value) => value % (bytes.length + 1)).sort((a, b) => a - b)) {
    splitter.push(bytes.subarray(from, cut), (out) => lines.push(out));
    from = cut;
  }
  splitter.push(bytes.subarray(from), (out) => lines.push(out));
  expect(lines).toHaveLength(1);
  const out = lines[0] as string | ScannedLine;
  const reused = throughReusedBuffer(bytes, cuts);
  if (out instanceof ScannedLine) {
    expect(out.line).toBe(line); // the full text stays available, exact
    const outcome = outcomeOf(readScan(out.scan) ?? parseLine(out.line));
    // Read as SubprocessTransport does (one reused read buffer): the same line and the same outcome.
    expect(reused.text).toBe(line);
    expect(reused.line).toBeInstanceOf(ScannedLine);
    expectSameOutcome(outcomeOf(readScan((reused.line as ScannedLine).scan) ?? parseLine(reused.text)), outcome);
    return { outcome, scanned: true };
  }
  expect(out).toBe(line);
  expect(reused.line).toBe(line);
  return { outcome: outcomeOf(readLine(out)), scanned: false };
}

/**
 * The same bytes and cuts through a splitter with `reusedChunks`: each piece is copied into one
 * buffer that is overwritten once push() returns; the line's text is read while it is emitted.
 */
function throughReusedBuffer(bytes: Buffer, cuts: readonly number[]): { line: string | OversizeLine | ScannedLine; text: string } {
  const splitter = new LineSplitter(64 * 1024 * 1024, { scanMessageUpdates: true, reusedChunks: true });
  const shared = Buffer.alloc(bytes.length);
  const lines: { line: string | OversizeLine | ScannedLine; text: string }[] = [];
  const emit = (out: string | OversizeLine | ScannedLine) =>
    lines.push({ line: out, text: out instanceof ScannedLine ? out.line : out instanceof OversizeLine ? out.head : out });
  let from = 0;
  for (const cut of [...[...cuts].map((value) => value % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    bytes.copy(shared, 0, from, cut);
    splitter.push(shared.subarray(0, cut - from), emit);
    shared.fill(0x22); // quotes: anything still pointing here would no longer be the line
    from = cut;
  }
  expect(lines).toHaveLength(1);
  return lines[0] as { line: string | OversizeLine | ScannedLine; text: string };
}

/** A string with a lone surrogate can't come out of a pipe (UTF-8 has no such thing): only the string paths see it. */
const isWellFormed = (line: string): boolean => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(line);

function checkLine(line: string, cuts: readonly number[] = [], crlf = false): boolean {
  const reference = slow(line);
  expectSameOutcome(outcomeOf(readLine(line)), reference);
  expectSameOutcome(outcomeOf(parseLine(line)), reference);
  if (!isWellFormed(line)) return false;
  const { outcome, scanned } = throughSplitter(line, cuts, crlf);
  expectSameOutcome(outcome, reference);
  return scanned;
}

/** Whether every key of the frame and of its event is written without an escape (the fast path leaves escaped keys to the slow one). */
function plainKeys(line: string): boolean {
  const value = JSON.parse(line) as Record<string, unknown>;
  const event = value['assistantMessageEvent'];
  const keys = [...Object.keys(value), ...(typeof event === 'object' && event !== null ? Object.keys(event) : [])];
  return keys.every((key) => JSON.stringify(key) === `"${key}"`);
}

// ---------------------------------------------------------------------------------------------
// Generated pi frames

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u2028', '\u2029', '😀', '"', '\\', '\n', '\t', ',"partial":', '"}', '\u0000', 'x'.repeat(100)),
);
const eventType = fc.constantFrom(
  'text_delta',
  'thinking_delta',
  'toolcall_delta',
  'text_start',
  'text_end',
  'thinking_end',
  'toolcall_start',
  'toolcall_end',
  'done',
  'error',
  'brand_new',
);
const usage = fc.record({
  input: fc.nat(),
  output: fc.nat(),
  cacheRead: fc.nat(),
  cacheWrite: fc.constant(0),
  totalTokens: fc.nat(),
  cost: fc.record({ total: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
});
const assistant = fc.record({
  role: fc.constant('assistant'),
  content: fc.array(
    fc.oneof(
      text.map((value) => ({ type: 'text', text: value })),
      fc.record({ type: fc.constant('toolCall'), id: fc.string(), name: fc.string(), arguments: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })) }),
    ),
    { maxLength: 3 },
  ),
  usage,
  stopReason: fc.constantFrom('stop', 'toolUse', 'length'),
  timestamp: fc.nat(),
});
const extraValue = fc.jsonValue({ maxDepth: 3 });
const extraKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'id', 'reason', 'toolName', 'message', 'content'));

/** The fields of an assistantMessageEvent (as entries, so their order can vary). */
const eventFields = fc
  .record(
    {
      type: eventType,
      contentIndex: fc.oneof(fc.nat(20), fc.constant(null), fc.double()),
      delta: fc.oneof(text, fc.constant(null), fc.nat()),
      content: fc.oneof(text, extraValue),
      toolCall: fc.oneof(
        fc.record({ type: fc.constant('toolCall'), id: fc.string(), name: fc.string(), arguments: fc.dictionary(fc.string(), extraValue) }),
        extraValue,
      ),
      reason: fc.oneof(fc.string(), fc.nat()),
    },
    { requiredKeys: ['type'] },
  )
  .chain((fields) =>
    fc.tuple(
      fc.constant(fields),
      fc.dictionary(
        extraKey.filter((key) => !(key in fields) && key !== 'partial'),
        extraValue,
        { maxKeys: 2 },
      ),
    ),
  );

const serialize = (entries: readonly (readonly [string, unknown])[]): string =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;

/** pi 0.73 / omp: the event with `partial` (last, or anywhere), and `message` (the same object, or another). */
const frame073 = fc
  .tuple(eventFields, assistant, fc.boolean(), assistant, fc.boolean(), fc.nat())
  .map(([[fields, extra], partial, sameMessage, other, partialLast, position]) => {
    const entries: [string, unknown][] = [...Object.entries(fields), ...Object.entries(extra)];
    if (partialLast) entries.push(['partial', partial]);
    else entries.splice(position % (entries.length + 1), 0, ['partial', partial]);
    const event = serialize(entries);
    return `{"type":"message_update","assistantMessageEvent":${event},"message":${JSON.stringify(sameMessage ? partial : other)}}`;
  });

/** pi 1.x: top-level cumulative usage, delta-only events. */
const frame1x = fc
  .tuple(eventFields, usage)
  .map(([[fields], total]) => `{"type":"message_update","usage":${JSON.stringify(total)},"assistantMessageEvent":${serialize(Object.entries(fields))}}`);

const validFrame = fc.oneof(frame073, frame1x);

/** A frame with one local edit: a character dropped, added or swapped, a cut, a duplicate or escaped key, odd spacing, odd numbers. */
const structural = ['{', '}', '[', ']', '"', ':', ',', '\\', ' ', '0', '1', '-', '.', 'e', 'a', 'é', '\u2028', 'n', 't'];
const garbled = fc.tuple(validFrame, fc.nat(), fc.nat(), fc.constantFrom(...structural)).map(([line, at, kind, char]) => {
  const index = at % (line.length + 1);
  switch (kind % 9) {
    case 0:
      return line.slice(0, index) + line.slice(index + 1);
    case 1:
      return line.slice(0, index) + char + line.slice(index);
    case 2:
      return line.slice(0, index) + char + line.slice(index + 1);
    case 3:
      return line.slice(0, index);
    case 4:
      return line.replace(
        '"assistantMessageEvent":',
        index % 2 ? '"type":"other","assistantMessageEvent":' : '"assistantMessageEvent":{},"assistantMessageEvent":',
      );
    case 5:
      return line.replace(/"(delta|type|partial|message|contentIndex)"/, (key) =>
        key.replace(/[a-z]/, (letter) => `\\u00${letter.charCodeAt(0).toString(16)}`),
      );
    case 6:
      return line.replace(/[,:]/g, (sep) => (index % 3 === 0 ? ` ${sep}\t` : sep));
    case 7:
      return line.replace(/"contentIndex":\d+/, `"contentIndex":${['1e400', '-0', '01', '-', '1.', '1e', '0.5', '9'.repeat(30)][index % 8] as string}`);
    default:
      return `${line}${char}`;
  }
});

/** No raw control characters anywhere (the one documented difference lives inside resent copies). */
const noRawControl = (line: string): boolean => !/[\u0000-\u0009\u000b-\u001f]/.test(line);

describe('message_update fast path vs the reference slow path (differential)', () => {
  it('agrees on every message_update line of the recorded transcripts, and takes the fast path for all of them', () => {
    const dirs = [resolve('spec/fixtures/transcripts')].filter((dir) => existsSync(dir));
    let lines = 0;
    for (const dir of dirs) {
      for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl'))) {
        for (const recordText of readFileSync(join(dir, file), 'utf8').split('\n')) {
          let record: { line?: unknown };
          try {
            record = JSON.parse(recordText) as { line?: unknown };
          } catch {
            continue;
          }
          if (typeof record.line !== 'string' || !record.line.startsWith('{"type":"message_update"')) continue;
          lines++;
          expect(checkLine(record.line), `${file}: ${record.line.slice(0, 120)}`).toBe(true);
          expect(checkLine(record.line, [7, 31, record.line.length - 3], true)).toBe(true);
        }
      }
    }
    expect(lines).toBeGreaterThan(50);
  });

  it('agrees on generated pi frames, whole and split into arbitrary chunks', () => {
    fc.assert(
      fc.property(validFrame, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (line, cuts, crlf) => {
        checkLine(line, cuts, crlf);
      }),
      { numRuns: 1500 },
    );
  });

  it('takes the fast path for well-formed pi frames whose fields fit the schema', () => {
    fc.assert(
      fc.property(validFrame, (line) => {
        if (slow(line).kind === 'frame' && plainKeys(line)) expect(scanMessageUpdate(Buffer.from(line))).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('agrees on garbled frames (every local edit either falls back or means the same)', () => {
    fc.assert(
      fc.property(garbled.filter(noRawControl), fc.array(fc.nat(), { maxLength: 3 }), (line, cuts) => {
        checkLine(line, cuts);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees when the same usage repeats frame after frame, then changes (the memo of validated members)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(usage, fc.boolean(), text), { minLength: 2, maxLength: 8 }), (frames) => {
        let previous = '';
        for (const [total, repeat, delta] of frames) {
          const usageText = repeat && previous ? previous : JSON.stringify(total);
          previous = usageText;
          checkLine(
            `{"type":"message_update","usage":${usageText},"assistantMessageEvent":{"type":"text_delta","contentIndex":0,"delta":${JSON.stringify(delta)}}}`,
          );
          // Same bytes up to a point, then different: must not be vouched for by the memo.
          checkLine(`{"type":"message_update","usage":${usageText.slice(0, -1)},"x":1},"assistantMessageEvent":{"type":"text_delta","delta":"d"}}`);
          checkLine(`{"type":"message_update","usage":${usageText}1,"assistantMessageEvent":{"type":"text_delta","delta":"d"}}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rebuilds plain deltas (kept as parts, not text) to exactly the slow path raw, the other member before, after or absent', () => {
    const number = fc.oneof(
      fc.nat(),
      fc.constantFrom('-0', '0.5', '1e2', '12345678901234567890', '1E-3', '-0.0', '1e400', '-1e400').map((text) => ({ text })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('text_delta', 'thinking_delta', 'toolcall_delta', 'custom'),
        number,
        text,
        fc.oneof(fc.constant(undefined), fc.tuple(fc.constantFrom('usage', 'x', '__proto__'), fc.jsonValue({ maxDepth: 2 }))),
        fc.boolean(),
        fc.boolean(),
        (type, contentIndex, delta, member, memberLast, escapeDelta) => {
          const index = typeof contentIndex === 'number' ? String(contentIndex) : contentIndex.text;
          const deltaText = escapeDelta
            ? JSON.stringify(delta).replace(/[a-z]/g, (letter) => `\\u00${letter.charCodeAt(0).toString(16)}`)
            : JSON.stringify(delta);
          const event = `"assistantMessageEvent":{"type":${JSON.stringify(type)},"contentIndex":${index},"delta":${deltaText}}`;
          const other = member ? `${JSON.stringify(member[0])}:${JSON.stringify(member[1])}` : undefined;
          const body = other === undefined ? event : memberLast ? `${event},${other}` : `${other},${event}`;
          const line = `{"type":"message_update",${body}}`;
          checkLine(`${line.slice(0, -1)}${' '.repeat(2_100)}}`); // long: parseLine's own fast path too
          checkLine(line);
          expect(checkLine(line)).toBe(true); // again, the other member now the memo: the fast path reads every such line
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('computes the schema verdict for plain deltas exactly as MessageUpdateFrameSchema does', () => {
    const value = fc.oneof(fc.string(), fc.nat(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 1 }));
    fc.assert(
      fc.property(fc.record({ type: value, contentIndex: value, delta: value }, { requiredKeys: [] }), (event) => {
        const frame = { type: 'message_update' as const, assistantMessageEvent: event };
        const viaScan = readScan({ text: JSON.stringify(frame), frame, cut: false });
        const viaSchema = MessageUpdateFrameSchema.safeParse(frame);
        expect(viaScan !== undefined).toBe(viaSchema.success);
        if (viaScan?.kind === 'deferred' && viaSchema.success) expect(viaScan.frame).toEqual(viaSchema.data);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects raw control characters wherever JSON.parse would, except deep inside a resent copy (documented)', () => {
    const message = (body: string) =>
      `{"type":"message_update","assistantMessageEvent":{"type":"text_delta","contentIndex":0,"delta":"${body}","partial":{"role":"assistant","content":[{"type":"text","text":"PARTIAL"}]}},"message":{}}`;
    // In a field the session reads: rejected by both.
    expect(checkLine(message('a\tb'))).toBe(false);
    // At the start of a string inside the resent copy: rejected by both.
    checkLine(message('ok').replace('PARTIAL', 'x\u0001y'));
    // 40 bytes into a long string inside the resent copy: the fast path does not look (it
    // crosses long strings with memchr); JSON.stringify never writes one.
    const deep = message('ok').replace('PARTIAL', `${'x'.repeat(40)}\u0001`);
    expect(slow(deep).kind).toBe('invalid');
    expect(outcomeOf(readLine(deep)).kind).toBe('frame');
  });

  it('decodes raw only when it is read, to the same value every time', () => {
    const line = '{"type":"message_update","usage":{"input":1},"assistantMessageEvent":{"type":"text_delta","contentIndex":0,"delta":"hi"}}';
    const reading = readLine(line);
    expect(reading.kind).toBe('deferred');
    if (reading.kind !== 'deferred') return;
    expect(reading.raw.value).toBe(reading.raw.value);
    expect(reading.raw.value).toEqual(JSON.parse(line));
  });
});
