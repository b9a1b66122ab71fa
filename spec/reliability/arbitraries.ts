/**
 * fast-check arbitraries for what pi (or a corrupted pipe) might write on stdout: JSON *text*
 * that JSON.stringify never produces (1e400, 400-digit integers, -0, duplicate and `__proto__`
 * keys, escaped lone surrogates), frames of every known type with fields of any shape, lines
 * that start like parseLine's `message_update` fast path and then go anywhere, and well-formed
 * pi 0.73 frames. Shared by the parser and session property specs.
 */
import fc from 'fast-check';
import { FRAME_SCHEMAS, type KnownFrameType } from '../../src/protocol/frames.js';

export const KNOWN_TYPES = Object.keys(FRAME_SCHEMAS) as KnownFrameType[];
export const FAST_PREFIX = '{"type":"message_update","assistantMessageEvent":{';
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'type', 'partial', 'message', 'id'];

const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
  fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '0.0', '9'.repeat(400), `-${'1'.repeat(320)}.5e-7`, '123456789012345678901234567890'),
);
const stringText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }).map((value) => JSON.stringify(value)),
  fc.constantFrom('"\\ud800"', '"\\udfff x"', '"\\u0000"', '"\\u2028\\u2029"', '"\u2028raw\u2029"', '"\\\\\\""', '",\\"partial\\":"', '"}"'),
);
const keyText = fc.oneof({ weight: 3, arbitrary: stringText }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS).map((key) => JSON.stringify(key)) });

/** Any JSON text, hostile numbers, strings and keys included. */
export const { value: jsonText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, numberText, stringText, fc.constantFrom('true', 'false', 'null'), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 4 }).map((entries) => `{${entries.map(([key, value]) => `${key}:${value}`).join(',')}}`),
}));

/** A frame of a known type whose fields (the schema's own names, plus hostile ones) hold anything. */
export const knownFrameText = fc
  .tuple(fc.constantFrom(...KNOWN_TYPES), fc.boolean(), fc.array(fc.tuple(fc.boolean(), fc.nat(), jsonText), { maxLength: 6 }))
  .map(([type, typeFirst, fields]) => {
    const names = [...Object.keys(FRAME_SCHEMAS[type].shape), ...HOSTILE_KEYS].filter((name) => name !== 'type');
    const entries = fields.map(
      ([hostile, pick, value]) =>
        `${JSON.stringify(hostile ? (HOSTILE_KEYS[pick % HOSTILE_KEYS.length] as string) : (names[pick % names.length] as string))}:${value}`,
    );
    const typeEntry = `"type":${JSON.stringify(type)}`;
    return `{${(typeFirst ? [typeEntry, ...entries] : [...entries, typeEntry]).join(',')}}`;
  });

/** Lines that start like the fast path's prefix and then go anywhere (truncated, garbled, valid). */
export const fastPathText = fc
  .tuple(
    fc.array(fc.tuple(keyText, jsonText), { maxLength: 4 }),
    fc.oneof(jsonText, fc.string({ unit: 'binary', maxLength: 30 })),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.nat(),
  )
  .map(([entries, partial, rest, cutAt]) => {
    const full = `${FAST_PREFIX}${entries.map(([key, value]) => `${key}:${value}`).join(',')}${entries.length > 0 ? ',' : ''}"partial":${partial}}${rest}`;
    return full.slice(0, FAST_PREFIX.length + (cutAt % (full.length - FAST_PREFIX.length + 1)));
  });

// ---------------------------------------------------------------------------------------------
// Well-formed pi 0.73 frames (the shapes of the recorded transcripts), with hostile text inside.

const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('\u2028', '\u2029', '😀', '"', '\\', '\n', ',"partial":'));
const toolCallId = fc.constantFrom('call_1', 'call_2', '__proto__');
const uiId = fc.constantFrom('ui-1', 'ui-2', 'constructor');

const assistant = (content: string) => ({
  role: 'assistant',
  content: [{ type: 'text', text: content }],
  api: 'fake',
  provider: 'p',
  model: 'm',
  usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, totalTokens: 2, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
  stopReason: 'stop',
  timestamp: 1,
});

/** One valid pi frame, as the line pi would write. */
export const piFrameText: fc.Arbitrary<string> = fc
  .oneof(
    fc.constant({ type: 'agent_start' }),
    fc.constant({ type: 'turn_start' }),
    text.map((message) => ({ type: 'message_start', message: { role: 'user', content: [{ type: 'text', text: message }], timestamp: 1 } })),
    text.map((delta) => ({
      type: 'message_update',
      assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta, partial: assistant(delta) },
      message: assistant(delta),
    })),
    text.map((content) => ({ type: 'message_end', message: assistant(content) })),
    text.map((content) => ({ type: 'turn_end', message: assistant(content), toolResults: [] })),
    fc.tuple(toolCallId, text).map(([id, command]) => ({ type: 'tool_execution_start', toolCallId: id, toolName: 'bash', args: { command } })),
    fc.tuple(toolCallId, text).map(([id, output]) => ({
      type: 'tool_execution_update',
      toolCallId: id,
      toolName: 'bash',
      args: {},
      partialResult: { content: [{ type: 'text', text: output }] },
    })),
    fc.tuple(toolCallId, text, fc.boolean()).map(([id, output, isError]) => ({
      type: 'tool_execution_end',
      toolCallId: id,
      toolName: 'bash',
      result: { content: [{ type: 'text', text: output }] },
      isError,
    })),
    fc.tuple(uiId, text).map(([id, command]) => ({
      type: 'extension_ui_request',
      id,
      method: 'select',
      title: `Allow tool: bash\nCommand: ${command}\n[pidriver toolCallId=call_1]`,
      options: ['Approve', 'Approve always', 'Deny'],
    })),
    fc.tuple(uiId, text).map(([id, message]) => ({ type: 'extension_ui_request', id, method: 'confirm', title: 'Sure?', message })),
    fc.tuple(uiId, text).map(([id, message]) => ({ type: 'extension_ui_request', id, method: 'notify', message, notifyType: 'info' })),
    uiId.map((targetId) => ({ type: 'extension_ui_request', id: 'c', method: 'cancel', targetId })),
    text.map((content) => ({ type: 'agent_end', messages: [assistant(content)] })),
    fc.constant({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 1, errorMessage: 'x' }),
    fc.boolean().map((success) => ({ type: 'auto_retry_end', success, attempt: 1 })),
    fc.constant({ type: 'auto_compaction_start', reason: 'threshold' }),
    fc.constant({ type: 'auto_compaction_end', aborted: false }),
    fc.array(text, { maxLength: 2 }).map((steering) => ({ type: 'queue_update', steering, followUp: [] })),
    fc.tuple(fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), fc.boolean()).map(([id, success]) => ({
      type: 'response',
      ...(id === undefined ? {} : { id }),
      command: 'get_state',
      success,
      ...(success ? {} : { error: 'nope' }),
    })),
    text.map((error) => ({ type: 'extension_error', extensionPath: '/x.ts', event: 'tool_call', error })),
  )
  .map((frame) => JSON.stringify(frame));

/** Anything pi or a broken pipe could write: valid frames most often, garbage of every kind too. */
export const anyLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: piFrameText },
  { weight: 2, arbitrary: knownFrameText },
  { weight: 1, arbitrary: fastPathText },
  { weight: 1, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t', '{', '}', 'null', '[]', '{"type":null}', '{"type":"brand_new"}') },
);
