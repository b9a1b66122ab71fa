import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/protocol/parseLine.js';

const partial = { role: 'assistant', content: [{ type: 'text', text: 'Hello world' }], partialArgs: '{"partial":1}' };

describe('parseLine', () => {
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string(), (line) => {
        expect(() => parseLine(line)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.json(), (json) => {
        expect(() => parseLine(json)).not.toThrow();
      }),
    );
  });

  it('reports non-JSON, non-objects and frames without a type as invalid', () => {
    expect(parseLine('this is not json')).toMatchObject({ kind: 'invalid' });
    expect(parseLine('[1,2]')).toMatchObject({ kind: 'invalid', message: 'not a JSON object' });
    expect(parseLine('{"id":"x"}')).toMatchObject({ kind: 'invalid' });
  });

  it('passes unknown frame types through as unknown', () => {
    expect(parseLine('{"type":"brand_new","x":1}')).toMatchObject({ kind: 'unknown', frame: { type: 'brand_new', x: 1 } });
  });

  it('validates known frames and reports schema failures with the field', () => {
    const parsed = parseLine('{"type":"tool_execution_start","toolName":"bash"}');
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.message).toMatch(/toolCallId/);
  });

  it('decodes a message_update delta without the resent partial message', () => {
    const frame = {
      type: 'message_update',
      assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'He said "hi",\\"partial\\":', partial },
      message: partial,
    };
    const parsed = parseLine(JSON.stringify(frame));
    expect(parsed).toMatchObject({
      kind: 'frame',
      frame: { type: 'message_update', assistantMessageEvent: { type: 'text_delta', delta: 'He said "hi",\\"partial\\":' } },
    });
    expect(parsed.kind === 'frame' && parsed.raw).toEqual({
      type: 'message_update',
      assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'He said "hi",\\"partial\\":' },
    });
  });

  it('is not fooled by a "partial" key nested inside tool-call arguments', () => {
    const toolCall = { type: 'toolCall', id: 'c1', name: 'write', arguments: { partial: { a: 1 }, text: ',"partial":' } };
    const frame = { type: 'message_update', assistantMessageEvent: { type: 'toolcall_end', contentIndex: 1, toolCall, partial }, message: partial };
    const parsed = parseLine(JSON.stringify(frame));
    expect(parsed.kind === 'frame' && parsed.frame).toMatchObject({ assistantMessageEvent: { type: 'toolcall_end', toolCall } });
  });

  it('fast path and full parse agree on arbitrary deltas', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(5), (delta, contentIndex) => {
        const event = { type: 'text_delta', contentIndex, delta };
        const fast = parseLine(JSON.stringify({ type: 'message_update', assistantMessageEvent: { ...event, partial }, message: partial }));
        const slow = parseLine(JSON.stringify({ message: partial, type: 'message_update', assistantMessageEvent: { ...event, partial } }));
        expect(fast.kind).toBe('frame');
        expect(fast.kind === 'frame' && fast.frame).toEqual(slow.kind === 'frame' && slow.frame);
      }),
    );
  });
});
