/** Frame formatting never throws: an event nothing can serialise goes as a stub the browser client decodes. */
import { describe, expect, it } from 'vitest';
import { formatEventFrame, formatSseFrame, jsonSafe } from '../../src/bridge/sseFrame.js';
import { decodeMessage } from '../../src/browser/decodeMessage.js';
import type { PiEvent } from '../../src/protocol/events.js';
import { frames } from './helpers.js';

/** An object nested `depth` deep: `JSON.stringify` overflows the stack on it. */
function deep(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

const toolStart = (args: Record<string, unknown>, raw: unknown = undefined) =>
  ({ type: 'tool_start', sessionId: 's1', seq: 12, raw, toolCallId: 't1', name: 'bash', arguments: args }) as PiEvent;

describe('formatEventFrame', () => {
  it('sends an event it cannot serialise as a stub: same id, seq and type, the bad values replaced by a marker', () => {
    const args = { command: 'ls', nested: deep(20_000) };
    expect(() => JSON.stringify(args)).toThrow(RangeError);
    for (const includeRaw of [true, false]) {
      const text = formatEventFrame(toolStart(args, { type: 'tool_execution_start', args }), includeRaw);
      const [frame] = frames(text);
      expect(frame).toMatchObject({ event: 'message', id: '12', data: { type: 'tool_start', seq: 12, sessionId: 's1', toolCallId: 't1', name: 'bash' } });
      expect(frame!.data).not.toHaveProperty('raw');
      const sent = frame!.data['arguments'] as Record<string, unknown>;
      expect(sent['command']).toBe('ls'); // what can be sent, is
      expect(JSON.stringify(sent['nested'])).toMatch(/\[not serializable: RangeError: [^\]]+\]/);
    }
  });

  it('the stub decodes in the browser client as the event it stands for (not an invalid frame)', () => {
    const text = formatEventFrame(toolStart({ nested: deep(20_000) }), true);
    const [frame] = frames(text);
    const decoded = decodeMessage({ event: 'message', id: frame!.id, data: JSON.stringify(frame!.data) });
    expect(decoded).toMatchObject({ kind: 'event', event: { type: 'tool_start', seq: 12, toolCallId: 't1' } });
  });

  it('an event that serialises is sent as it is, with raw unless includeRaw is false', () => {
    const event = toolStart({ command: 'ls' }, { type: 'tool_execution_start' });
    expect(frames(formatEventFrame(event, true))[0]!.data).toEqual({ ...event });
    expect(frames(formatEventFrame(event, false))[0]!.data).not.toHaveProperty('raw');
  });
});

describe('formatSseFrame', () => {
  it('never throws: deep nesting, cycles, BigInt and throwing toJSON become markers; the rest is kept', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle['self'] = cycle;
    const pending = [
      { requestId: 'r1', args: { fine: 1, nested: deep(20_000) } },
      { requestId: 'r2', args: { big: 10n, cycle } },
      {
        requestId: 'r3',
        args: {
          bad: {
            toJSON: () => {
              throw new Error('nope');
            },
          },
        },
      },
    ];
    const [frame] = frames(formatSseFrame({ event: 'pending', data: pending }));
    const data = frame!.data as unknown as { requestId: string; args: Record<string, unknown> }[];
    expect(data.map((request) => request.requestId)).toEqual(['r1', 'r2', 'r3']);
    expect(data[0]!.args['fine']).toBe(1);
    expect(data[1]!.args['big']).toMatch(/^\[not serializable: TypeError/);
    expect((data[1]!.args['cycle'] as Record<string, unknown>)['name']).toBe('loop');
    expect(data[2]!.args['bad']).toBe('[not serializable: Error: nope]');
  });

  it('jsonSafe returns a value that serialises unchanged', () => {
    const value = { a: [1, { b: 'c' }], d: null };
    expect(jsonSafe(value)).toBe(value);
  });
});
