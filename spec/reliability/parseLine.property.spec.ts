/**
 * Property: `parseLine` never throws, whatever pi (or a corrupted pipe) writes, and what it
 * returns is well-formed: any string, any JSON value, frames of every known type with wrong or
 * hostile fields, huge numbers, deep nesting, `__proto__`/`constructor` keys (no prototype is
 * polluted or swapped), and truncated or garbled `message_update` lines that start like the
 * fast path's prefix. It also checks that the fast path (which stops at the resent `partial`)
 * and a full parse agree on every well-formed pi-shaped `message_update`.
 *
 * spec/protocol/parseLine.spec.ts holds the example-based tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKnownFrameType } from '../../src/protocol/frames.js';
import { parseLine, type ParsedLine } from '../../src/protocol/parseLine.js';
import { FAST_PREFIX, fastPathText, jsonText, knownFrameText } from './arbitraries.js';

// ---------------------------------------------------------------------------------------------
// Checks

/** Every object reachable from `root` has a plain prototype (iterative: values may be 100,000 deep). */
function assertPlain(root: unknown): void {
  const stack: unknown[] = [root];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null) {
      throw new Error(`an object with a foreign prototype in the parse result: ${Object.keys(prototype as object).join(', ')}`);
    }
    stack.push(...(Object.values(value) as unknown[]));
  }
}

const PRISTINE_OBJECT_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** parseLine's contract for one line: no throw, a well-formed result, no prototype games. */
function checkLine(line: string): ParsedLine {
  let parsed: ParsedLine | undefined;
  expect(() => (parsed = parseLine(line))).not.toThrow();
  const result = parsed as ParsedLine;
  switch (result.kind) {
    case 'frame':
      expect(isKnownFrameType(result.frame.type)).toBe(true);
      expect(typeof result.raw).toBe('object');
      assertPlain(result.frame);
      assertPlain(result.raw);
      break;
    case 'unknown':
      expect(typeof result.frame.type).toBe('string');
      expect(isKnownFrameType(result.frame.type)).toBe(false);
      expect(result.line).toBe(line);
      assertPlain(result.frame);
      break;
    case 'invalid':
      expect(result.line).toBe(line);
      expect(typeof result.message).toBe('string');
      break;
    default:
      throw new Error(`unexpected kind ${(result as { kind: string }).kind}`);
  }
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PRISTINE_OBJECT_KEYS);
  return result;
}

describe('parseLine (property)', () => {
  it('never throws on any string (any code point, lone surrogates included)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.string().map((s) => `{${s}`),
          fc.string().map((s) => `{"type":${s}`),
        ),
        (line) => {
          checkLine(line);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('never throws on any JSON value, and classifies non-objects and type-less objects as invalid', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = checkLine(JSON.stringify(value));
        const isFrameLike =
          typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Record<string, unknown>)['type'] === 'string';
        if (!isFrameLike) expect(result.kind).toBe('invalid');
      }),
      { numRuns: 800 },
    );
  });

  it('never throws on hostile JSON text: huge numbers, duplicate and __proto__ keys, escaped lone surrogates', () => {
    fc.assert(
      fc.property(jsonText, (line) => {
        checkLine(line);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on frames of every known type with fields of any shape', () => {
    fc.assert(
      fc.property(knownFrameText, (line) => {
        checkLine(line);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on truncated or garbled lines that look like the message_update fast path', () => {
    fc.assert(
      fc.property(fastPathText, (line) => {
        const result = checkLine(line);
        if (result.kind === 'frame') expect(result.frame.type).toBe('message_update');
      }),
      { numRuns: 2000 },
    );
  });

  it('fast path and full parse agree on every pi-shaped message_update (partial last in the event)', () => {
    const eventKey = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('delta', 'contentIndex', 'content', 'toolCall', '__proto__', 'message'));
    fc.assert(
      fc.property(
        fc.constantFrom('text_delta', 'thinking_delta', 'toolcall_delta', 'text_start', 'text_end', 'toolcall_end', 'done'),
        fc.dictionary(
          eventKey.filter((key) => key !== 'partial' && key !== 'type'),
          fc.jsonValue({ maxDepth: 3 }),
          { maxKeys: 5 },
        ),
        fc.jsonValue({ maxDepth: 3 }),
        (eventType, fields, partial) => {
          const event = `{"type":${JSON.stringify(eventType)}${Object.entries(fields)
            .map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`)
            .join('')},"partial":${JSON.stringify(partial)}}`;
          const message = JSON.stringify(partial);
          const fast = checkLine(`{"type":"message_update","assistantMessageEvent":${event},"message":${message}}`);
          const slow = checkLine(`{"message":${message},"type":"message_update","assistantMessageEvent":${event}}`);
          expect(fast.kind).toBe(slow.kind);
          if (fast.kind === 'frame' && slow.kind === 'frame') {
            expect(fast.frame).toEqual(slow.frame);
            expect(fast.raw).toEqual(slow.raw);
            expect(fast.raw).not.toHaveProperty('message');
            expect(fast.raw['assistantMessageEvent']).not.toHaveProperty('partial');
          }
        },
      ),
      { numRuns: 800 },
    );
  });

  it('survives deep nesting (100,000 levels) in every position the parser looks at', () => {
    const depth = 100_000;
    const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deepObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    for (const deep of [deepArray, deepObject]) {
      checkLine(deep);
      checkLine(`{"type":"brand_new","x":${deep}}`);
      checkLine(`{"type":"tool_execution_start","toolCallId":"c","toolName":"bash","args":${deep}}`);
      checkLine(`{"type":"tool_execution_end","toolCallId":"c","toolName":"bash","result":${deep},"isError":false}`);
      checkLine(`${FAST_PREFIX}"type":"text_delta","delta":"x","content":${deep},"partial":${deep}},"message":${deep}}`);
      checkLine(`${FAST_PREFIX}"type":"text_delta","delta":"x","partial":${deep}}`); // cut after the resent copy
      checkLine(`{"type":"message_update","assistantMessageEvent":${deep}}`);
      checkLine(`{"type":"response","id":"x","command":"get_state","success":true,"data":${deep}}`);
    }
    expect(checkLine(`${'['.repeat(depth)}`).kind).toBe('invalid');
  });

  it('maps huge and odd numbers without throwing, and rejects non-finite ones where a number is required', () => {
    for (const number of ['1e400', '-1e400', '9'.repeat(400), '-0', '1e-400']) {
      const delta = checkLine(`{"type":"message_update","assistantMessageEvent":{"type":"text_delta","contentIndex":${number},"delta":"x"}}`);
      if (delta.kind === 'frame')
        expect(Number.isFinite((delta.frame as { assistantMessageEvent: { contentIndex?: number } }).assistantMessageEvent.contentIndex)).toBe(true);
      checkLine(`{"type":"extension_ui_request","id":"u","method":"select","options":["a"],"timeout":${number}}`);
      checkLine(`{"type":"auto_retry_start","attempt":${number},"maxAttempts":${number},"delayMs":${number}}`);
    }
  });

  it('keeps __proto__ keys as plain data: no prototype is swapped and Object.prototype is untouched', () => {
    const payload = '{"polluted":"yes","isStreaming":true}';
    const lines = [
      `{"type":"agent_start","__proto__":${payload}}`,
      `{"__proto__":${payload},"type":"brand_new"}`,
      `{"type":"tool_execution_start","toolCallId":"c","toolName":"bash","args":{"__proto__":${payload},"constructor":{"prototype":${payload}}}}`,
      `{"type":"response","id":"x","command":"get_state","success":true,"data":{"__proto__":${payload}}}`,
      `${FAST_PREFIX}"type":"text_delta","contentIndex":0,"delta":"x","__proto__":${payload},"partial":{}},"message":{}}`,
      `{"type":"message_update","assistantMessageEvent":{"type":"text_delta","delta":"x","__proto__":${payload}},"__proto__":${payload}}`,
    ];
    for (const line of lines) {
      const result = checkLine(line);
      expect(result.kind).not.toBe('invalid');
      const frame = result.kind === 'invalid' ? {} : (result.frame as Record<string, unknown>);
      expect(frame['polluted']).toBeUndefined();
      expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    }
  });
});
