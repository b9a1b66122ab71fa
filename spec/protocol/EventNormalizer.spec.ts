/**
 * EventNormalizer: pi's content frames → pidriver events (text from deltas, never from resent snapshots; blocks that end out of order).
 *
 * Frames go through `parseLine` first, as in a session, so these tests also pin what the schemas
 * let through. The last block replays recorded pi 0.73.1 transcripts
 * (`spec/fixtures/transcripts/pi-*.jsonl`) when they are present.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EventFields } from '../../src/protocol/events.js';
import type { KnownFrame } from '../../src/protocol/frames.js';
import { parseLine } from '../../src/protocol/parseLine.js';
import { EventNormalizer, messageText } from '../../src/protocol/EventNormalizer.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(repo, 'spec', 'fixtures', 'transcripts');

/** A frame as pi writes it, through the real parser. */
function frame(value: Record<string, unknown>): KnownFrame {
  const parsed = parseLine(JSON.stringify(value));
  if (parsed.kind !== 'frame') throw new Error(`not a known frame: ${JSON.stringify(parsed)}`);
  return parsed.frame;
}

/** Every event of a sequence of frames. */
function normalizeAll(normalizer: EventNormalizer, frames: readonly KnownFrame[]): EventFields[] {
  return frames.flatMap((each) => normalizer.normalize(each));
}

const usage = { input: 60, output: 5, cacheRead: 40, cacheWrite: 0, totalTokens: 105, cost: { total: 0.000074 } };
const zeroUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { total: 0 } };

const assistantEnd = (content: unknown[], extra: Record<string, unknown> = {}) =>
  frame({ type: 'message_end', message: { role: 'assistant', content, usage, stopReason: 'stop', ...extra } });

/** A `message_update` with pi 0.73's resent partial message (which the parser drops: it can be stale). */
const update = (event: Record<string, unknown>) =>
  frame({
    type: 'message_update',
    assistantMessageEvent: { ...event, partial: { role: 'assistant', content: [{ type: 'text', text: 'stale snapshot' }] } },
    message: { role: 'assistant', content: [{ type: 'text', text: 'stale snapshot' }] },
  });

/** Joins the deltas of one channel, block by block in `contentIndex` order. */
function joinDeltas(events: readonly EventFields[], channel: 'assistant' | 'thinking'): string {
  const blocks = new Map<number, string>();
  for (const event of events) {
    if (event.type !== 'message_delta' || event.channel !== channel) continue;
    blocks.set(event.contentIndex, (blocks.get(event.contentIndex) ?? '') + event.text);
  }
  return [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, text]) => text)
    .join('');
}

describe('EventNormalizer', () => {
  describe('messages', () => {
    it('turns a user message_start into user_message (string or text blocks), and ignores other starts', () => {
      const normalizer = new EventNormalizer();
      expect(
        normalizer.normalize(
          frame({
            type: 'message_start',
            message: {
              role: 'user',
              content: [
                { type: 'text', text: 'hel' },
                { type: 'text', text: 'lo' },
              ],
            },
          }),
        ),
      ).toEqual([{ type: 'user_message', text: 'hello' }]);
      expect(normalizer.normalize(frame({ type: 'message_start', message: { role: 'user', content: 'plain string' } }))).toEqual([
        { type: 'user_message', text: 'plain string' },
      ]);
      expect(normalizer.normalize(frame({ type: 'message_start', message: { role: 'assistant', content: [] } }))).toEqual([]);
      // A user message_end repeats the start: no second event.
      expect(normalizer.normalize(frame({ type: 'message_end', message: { role: 'user', content: 'plain string' } }))).toEqual([]);
    });

    it('turns text and thinking deltas into message_delta with their channel and contentIndex', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        update({ type: 'thinking_start', contentIndex: 0 }),
        update({ type: 'thinking_delta', contentIndex: 0, delta: 'Let me ' }),
        update({ type: 'thinking_delta', contentIndex: 0, delta: 'think.' }),
        update({ type: 'text_start', contentIndex: 1 }),
        update({ type: 'text_delta', contentIndex: 1, delta: 'The answer' }),
        update({ type: 'text_delta', delta: ' (no index)' }),
      ]);
      expect(events).toEqual([
        { type: 'message_delta', channel: 'thinking', text: 'Let me ', contentIndex: 0 },
        { type: 'message_delta', channel: 'thinking', text: 'think.', contentIndex: 0 },
        { type: 'message_delta', channel: 'assistant', text: 'The answer', contentIndex: 1 },
        { type: 'message_delta', channel: 'assistant', text: ' (no index)', contentIndex: 0 },
      ]);
    });

    it('emits nothing for empty deltas, block starts and ends, and tool-call streaming', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        update({ type: 'text_start', contentIndex: 0 }),
        update({ type: 'text_delta', contentIndex: 0, delta: '' }),
        update({ type: 'text_end', contentIndex: 0, content: 'x' }),
        update({ type: 'thinking_end', contentIndex: 1, content: 'y' }),
        update({ type: 'toolcall_start', contentIndex: 2 }),
        update({ type: 'toolcall_delta', contentIndex: 2, delta: '{"comm' }),
        update({ type: 'start' }),
        update({ type: 'done', reason: 'stop' }),
      ]);
      expect(events).toEqual([]);
    });

    it('completes a message per channel (thinking first), with usage, from message_end', () => {
      const normalizer = new EventNormalizer();
      const events = normalizer.normalize(
        assistantEnd([
          { type: 'thinking', thinking: 'Let me think about this.', thinkingSignature: 'reasoning_content' },
          { type: 'text', text: 'The answer ' },
          { type: 'text', text: 'is 42.' },
        ]),
      );
      expect(events.map((event) => event.type)).toEqual(['message_complete', 'message_complete', 'usage']);
      expect(events[0]).toEqual({ type: 'message_complete', channel: 'thinking', text: 'Let me think about this.', stopReason: 'stop' });
      expect(events[1]).toEqual({ type: 'message_complete', channel: 'assistant', text: 'The answer is 42.', stopReason: 'stop' });
      const totals = (events[2] as { totals: UsageTotals }).totals;
      expect(totals).toBeInstanceOf(UsageTotals);
      expect(totals).toMatchObject({ inputTokens: 60, outputTokens: 5, cacheReadTokens: 40, cacheWriteTokens: 0, costUsd: 0.000074 });
    });

    it('skips the empty assistant text of a tool-call-only message, but not of a message without tools', () => {
      const normalizer = new EventNormalizer();
      const toolsOnly = normalizer.normalize(
        assistantEnd([{ type: 'toolCall', id: 'call_a', name: 'bash', arguments: { command: 'echo a' } }], { stopReason: 'toolUse' }),
      );
      expect(toolsOnly.map((event) => event.type)).toEqual(['usage']);
      const empty = normalizer.normalize(assistantEnd([], { usage: zeroUsage }));
      expect(empty).toEqual([{ type: 'message_complete', channel: 'assistant', text: '', stopReason: 'stop' }]);
    });

    it('adds a provider_error for stopReason "error", and no usage event for zero usage', () => {
      const normalizer = new EventNormalizer();
      const events = normalizer.normalize(assistantEnd([], { usage: zeroUsage, stopReason: 'error', errorMessage: '500 fake 500 error' }));
      expect(events).toEqual([
        { type: 'message_complete', channel: 'assistant', text: '', stopReason: 'error' },
        { type: 'error', code: 'provider_error', fatal: false, message: '500 fake 500 error' },
      ]);
      const silent = normalizer.normalize(assistantEnd([], { usage: zeroUsage, stopReason: 'error' }));
      expect(silent.at(-1)).toMatchObject({ type: 'error', code: 'provider_error', message: expect.stringMatching(/provider/) });
    });

    it('takes the final text from message_end, never from the resent partial snapshots', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        update({ type: 'text_delta', contentIndex: 0, delta: 'Hel' }),
        update({ type: 'text_delta', contentIndex: 0, delta: 'lo' }),
        assistantEnd([{ type: 'text', text: 'Hello' }]),
      ]);
      expect(events.filter((event) => event.type === 'message_delta').map((event) => event.text)).toEqual(['Hel', 'lo']);
      expect(events).toContainEqual({ type: 'message_complete', channel: 'assistant', text: 'Hello', stopReason: 'stop' });
      expect(JSON.stringify(events)).not.toContain('stale snapshot');
    });
  });

  describe('out-of-order block ends', () => {
    it('keys deltas by contentIndex, so interleaved blocks concatenate exactly to the final text', () => {
      const normalizer = new EventNormalizer();
      // Observed in pi 0.73: text_end of block 0 arrives after block 1's tool-call deltas,
      // and thinking_end of block 0 after block 1's text deltas.
      const events = normalizeAll(normalizer, [
        update({ type: 'thinking_start', contentIndex: 0 }),
        update({ type: 'thinking_delta', contentIndex: 0, delta: 'Hmm, ' }),
        update({ type: 'text_start', contentIndex: 1 }),
        update({ type: 'text_delta', contentIndex: 1, delta: 'Running ' }),
        update({ type: 'thinking_delta', contentIndex: 0, delta: 'bash.' }),
        update({ type: 'toolcall_start', contentIndex: 2 }),
        update({ type: 'toolcall_delta', contentIndex: 2, delta: '{"command":"echo hi"}' }),
        update({ type: 'text_delta', contentIndex: 1, delta: 'it.' }),
        update({ type: 'thinking_end', contentIndex: 0, content: 'Hmm, bash.' }),
        update({ type: 'toolcall_end', contentIndex: 2, toolCall: { type: 'toolCall', id: 'call_1', name: 'bash', arguments: { command: 'echo hi' } } }),
        update({ type: 'text_end', contentIndex: 1, content: 'Running it.' }),
        assistantEnd(
          [
            { type: 'thinking', thinking: 'Hmm, bash.' },
            { type: 'text', text: 'Running it.' },
            { type: 'toolCall', id: 'call_1', name: 'bash', arguments: { command: 'echo hi' } },
          ],
          { stopReason: 'toolUse' },
        ),
      ]);
      const completes = events.filter((event) => event.type === 'message_complete');
      expect(completes).toEqual([
        { type: 'message_complete', channel: 'thinking', text: 'Hmm, bash.', stopReason: 'toolUse' },
        { type: 'message_complete', channel: 'assistant', text: 'Running it.', stopReason: 'toolUse' },
      ]);
      expect(joinDeltas(events, 'thinking')).toBe('Hmm, bash.');
      expect(joinDeltas(events, 'assistant')).toBe('Running it.');
    });

    it('concatenates two text blocks of one message in contentIndex order', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        update({ type: 'text_delta', contentIndex: 2, delta: 'world' }),
        update({ type: 'text_delta', contentIndex: 0, delta: 'hello ' }),
        update({ type: 'text_end', contentIndex: 2 }),
        update({ type: 'text_end', contentIndex: 0 }),
        assistantEnd([
          { type: 'text', text: 'hello ' },
          { type: 'toolCall', id: 't', name: 'read', arguments: {} },
          { type: 'text', text: 'world' },
        ]),
      ]);
      const complete = events.find((event) => event.type === 'message_complete');
      expect(complete).toMatchObject({ text: 'hello world' });
      expect(joinDeltas(events, 'assistant')).toBe('hello world');
    });
  });

  describe('tools', () => {
    it('turns tool execution frames into tool_start / tool_update / tool_end', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        frame({ type: 'tool_execution_start', toolCallId: 'call_bash_1', toolName: 'bash', args: { command: 'echo hi' } }),
        frame({ type: 'tool_execution_update', toolCallId: 'call_bash_1', toolName: 'bash', args: { command: 'echo hi' }, partialResult: { content: [] } }),
        frame({
          type: 'tool_execution_update',
          toolCallId: 'call_bash_1',
          toolName: 'bash',
          args: { command: 'echo hi' },
          partialResult: { content: [{ type: 'text', text: 'hi\n' }], details: {} },
        }),
        frame({
          type: 'tool_execution_end',
          toolCallId: 'call_bash_1',
          toolName: 'bash',
          result: { content: [{ type: 'text', text: 'hi\n' }] },
          isError: false,
        }),
      ]);
      expect(events).toEqual([
        { type: 'tool_start', toolCallId: 'call_bash_1', name: 'bash', arguments: { command: 'echo hi' } },
        { type: 'tool_update', toolCallId: 'call_bash_1', name: 'bash', output: '' },
        { type: 'tool_update', toolCallId: 'call_bash_1', name: 'bash', output: 'hi\n' },
        { type: 'tool_end', toolCallId: 'call_bash_1', name: 'bash', result: 'hi\n', isError: false },
      ]);
    });

    it('reports a failed or blocked tool with isError and its reason, and keeps result details', () => {
      const normalizer = new EventNormalizer();
      const [blocked] = normalizer.normalize(
        frame({
          type: 'tool_execution_end',
          toolCallId: 'c',
          toolName: 'bash',
          result: { content: [{ type: 'text', text: 'Blocked by user' }], details: { code: 1 } },
          isError: true,
        }),
      );
      expect(blocked).toEqual({ type: 'tool_end', toolCallId: 'c', name: 'bash', result: 'Blocked by user', isError: true, details: { code: 1 } });
      const [bare] = normalizer.normalize(frame({ type: 'tool_execution_end', toolCallId: 'd', toolName: 'read' }));
      expect(bare).toEqual({ type: 'tool_end', toolCallId: 'd', name: 'read', result: '', isError: false });
    });

    it('gives arguments that are not an object as {}', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.normalize(frame({ type: 'tool_execution_start', toolCallId: 'a', toolName: 'x', args: ['not', 'a', 'record'] }))).toEqual([
        { type: 'tool_start', toolCallId: 'a', name: 'x', arguments: {} },
      ]);
      expect(normalizer.normalize(frame({ type: 'tool_execution_start', toolCallId: 'b', toolName: 'y' }))).toEqual([
        { type: 'tool_start', toolCallId: 'b', name: 'y', arguments: {} },
      ]);
    });

    it('tracks tool calls: announced by the model, then open while running, then gone', () => {
      const normalizer = new EventNormalizer();
      const callA = { type: 'toolCall', id: 'call_a', name: 'bash', arguments: { command: 'echo a' } };
      const callB = { type: 'toolCall', id: 'call_b', name: 'bash', arguments: { command: 'sleep 0.2; echo b' } };
      normalizer.normalize(update({ type: 'toolcall_end', contentIndex: 0, toolCall: callA }));
      expect(normalizer.announcedTools).toEqual([{ toolCallId: 'call_a', name: 'bash', args: { command: 'echo a' } }]);

      normalizer.normalize(assistantEnd([callA, callB], { stopReason: 'toolUse' }));
      expect(normalizer.announcedTools.map((tool) => tool.toolCallId)).toEqual(['call_a', 'call_b']);
      expect(normalizer.openTools.size).toBe(0);

      normalizer.normalize(frame({ type: 'tool_execution_start', toolCallId: 'call_a', toolName: 'bash', args: { command: 'echo a' } }));
      normalizer.normalize(frame({ type: 'tool_execution_start', toolCallId: 'call_b', toolName: 'bash', args: { command: 'sleep 0.2; echo b' } }));
      expect(normalizer.announcedTools).toEqual([]);
      expect([...normalizer.openTools.keys()]).toEqual(['call_a', 'call_b']);
      expect(normalizer.openTools.get('call_b')).toEqual({ toolCallId: 'call_b', name: 'bash', args: { command: 'sleep 0.2; echo b' } });

      normalizer.normalize(frame({ type: 'tool_execution_end', toolCallId: 'call_a', toolName: 'bash', isError: false }));
      expect([...normalizer.openTools.keys()]).toEqual(['call_b']);
      normalizer.normalize(frame({ type: 'tool_execution_end', toolCallId: 'call_b', toolName: 'bash', isError: false }));
      expect(normalizer.openTools.size).toBe(0);
    });
  });

  describe('session-level frames', () => {
    it('maps turn_start and turn_end', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.normalize(frame({ type: 'turn_start' }))).toEqual([{ type: 'turn_start' }]);
      expect(normalizer.normalize(frame({ type: 'turn_end', message: { role: 'assistant', content: [] }, toolResults: [] }))).toEqual([{ type: 'turn_end' }]);
    });

    it('maps queue_update, with missing queues as empty', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.normalize(frame({ type: 'queue_update', steering: ['steer me'], followUp: ['third'] }))).toEqual([
        { type: 'queue_update', steering: ['steer me'], followUp: ['third'] },
      ]);
      expect(normalizer.normalize(frame({ type: 'queue_update' }))).toEqual([{ type: 'queue_update', steering: [], followUp: [] }]);
    });

    it('maps auto_retry_start / auto_retry_end to retry events, leaving out absent and null fields', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.normalize(frame({ type: 'auto_retry_start', attempt: 1, maxAttempts: 3, delayMs: 100, errorMessage: '500 fake 500 error' }))).toEqual([
        { type: 'retry', phase: 'start', attempt: 1, maxAttempts: 3, delayMs: 100, errorMessage: '500 fake 500 error' },
      ]);
      expect(normalizer.normalize(frame({ type: 'auto_retry_end', success: true, attempt: 1 }))).toEqual([
        { type: 'retry', phase: 'end', attempt: 1, success: true },
      ]);
      expect(normalizer.normalize(frame({ type: 'auto_retry_end', success: false, attempt: 3, finalError: 'gave up' }))).toEqual([
        { type: 'retry', phase: 'end', attempt: 3, success: false, errorMessage: 'gave up' },
      ]);
      expect(normalizer.normalize(frame({ type: 'auto_retry_start', attempt: null }))).toEqual([{ type: 'retry', phase: 'start' }]);
    });

    it('maps both compaction spellings to compaction events', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        frame({ type: 'compaction_start', reason: 'manual' }),
        frame({ type: 'compaction_end', reason: 'manual', aborted: false }),
        frame({ type: 'auto_compaction_start', reason: 'threshold' }),
        frame({ type: 'auto_compaction_end', aborted: true, errorMessage: 'cancelled', willRetry: false }),
      ]);
      expect(events).toEqual([
        { type: 'compaction', phase: 'start', reason: 'manual' },
        { type: 'compaction', phase: 'end', reason: 'manual', aborted: false },
        { type: 'compaction', phase: 'start', reason: 'threshold' },
        { type: 'compaction', phase: 'end', aborted: true, errorMessage: 'cancelled' },
      ]);
    });

    it('turns extension_error into a non-fatal error event', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.normalize(frame({ type: 'extension_error', extensionPath: 'command:uitest', event: 'command', error: 'boom' }))).toEqual([
        { type: 'error', code: 'extension_error', fatal: false, message: 'extension command:uitest failed in command: boom' },
      ]);
    });

    it('leaves run boundaries, responses and extension UI to the session', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, [
        frame({ type: 'agent_start' }),
        frame({ type: 'agent_end', messages: [] }),
        frame({ type: 'response', id: 'c1', command: 'get_state', success: true }),
        frame({ type: 'extension_ui_request', id: 'u1', method: 'notify', message: 'hi' }),
      ]);
      expect(events).toEqual([]);
    });
  });

  describe('lastAssistant', () => {
    it('is the summary of the last assistant message, and startRun() forgets it', () => {
      const normalizer = new EventNormalizer();
      expect(normalizer.lastAssistant).toBeUndefined();
      normalizer.normalize(
        assistantEnd(
          [
            { type: 'text', text: 'Running it.' },
            { type: 'toolCall', id: 'c', name: 'bash', arguments: {} },
          ],
          { stopReason: 'toolUse' },
        ),
      );
      expect(normalizer.lastAssistant).toEqual({ text: 'Running it.', stopReason: 'toolUse', errorMessage: undefined });
      normalizer.normalize(
        frame({ type: 'message_end', message: { role: 'toolResult', toolCallId: 'c', toolName: 'bash', content: [{ type: 'text', text: 'hi\n' }] } }),
      );
      normalizer.normalize(frame({ type: 'message_end', message: { role: 'user', content: 'steer' } }));
      expect(normalizer.lastAssistant?.text).toBe('Running it.');
      normalizer.normalize(assistantEnd([{ type: 'text', text: 'Done.' }]));
      expect(normalizer.lastAssistant).toEqual({ text: 'Done.', stopReason: 'stop', errorMessage: undefined });
      normalizer.startRun();
      expect(normalizer.lastAssistant).toBeUndefined();
    });

    it('carries the provider error message', () => {
      const normalizer = new EventNormalizer();
      normalizer.normalize(assistantEnd([], { usage: zeroUsage, stopReason: 'error', errorMessage: '401 fake 401 error' }));
      expect(normalizer.lastAssistant).toEqual({ text: '', stopReason: 'error', errorMessage: '401 fake 401 error' });
    });
  });

  it('messageText joins text blocks and ignores the rest', () => {
    expect(messageText({ content: 'plain' })).toBe('plain');
    expect(messageText({ content: null })).toBe('');
    expect(
      messageText({
        content: [
          { type: 'thinking', thinking: 'no' },
          { type: 'text', text: 'a' },
          { type: 'image', data: '', mimeType: 'image/png' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).toBe('ab');
  });

  describe.skipIf(!existsSync(FIXTURES))('recorded pi 0.73.1 transcripts', () => {
    /** The stdout frames of a transcript, parsed as a session parses them. */
    function transcript(name: string): KnownFrame[] {
      return readFileSync(join(FIXTURES, name), 'utf8')
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => JSON.parse(line) as { dir: string; line?: string })
        .filter((record) => record.dir === 'out' && typeof record.line === 'string')
        .flatMap((record) => {
          const parsed = parseLine(record.line!);
          return parsed.kind === 'frame' ? [parsed.frame] : [];
        });
    }

    /** The events of each assistant message (from its message_start to its message_end). */
    function perAssistantMessage(frames: readonly KnownFrame[]): EventFields[][] {
      const normalizer = new EventNormalizer();
      const messages: EventFields[][] = [];
      let current: EventFields[] | undefined;
      for (const each of frames) {
        if (each.type === 'message_start' && each.message.role === 'assistant') current = [];
        const events = normalizer.normalize(each);
        current?.push(...events);
        if (each.type === 'message_end' && each.message.role === 'assistant' && current) {
          messages.push(current);
          current = undefined;
        }
      }
      return messages;
    }

    it('pi-b-thinking: thinking then text, with thinking_end arriving after the text deltas', () => {
      const events = normalizeAll(new EventNormalizer(), transcript('pi-b-thinking.jsonl'));
      expect(
        events.map((event) => (event.type === 'message_delta' || event.type === 'message_complete' ? `${event.type}:${event.channel}` : event.type)),
      ).toEqual([
        'turn_start',
        'user_message',
        'message_delta:thinking',
        'message_delta:thinking',
        'message_delta:thinking',
        'message_delta:assistant',
        'message_delta:assistant',
        'message_complete:thinking',
        'message_complete:assistant',
        'usage',
        'turn_end',
      ]);
      expect(joinDeltas(events, 'thinking')).toBe('Let me think about this.');
      expect(joinDeltas(events, 'assistant')).toBe('The answer is 42.');
    });

    it('pi-c-tool-bash: text_end after the tool-call deltas, a tool run, and a second turn', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, transcript('pi-c-tool-bash.jsonl'));
      expect(events.filter((event) => event.type.startsWith('tool_'))).toEqual([
        { type: 'tool_start', toolCallId: 'call_bash_1', name: 'bash', arguments: { command: 'echo hi' } },
        { type: 'tool_update', toolCallId: 'call_bash_1', name: 'bash', output: '' },
        { type: 'tool_update', toolCallId: 'call_bash_1', name: 'bash', output: 'hi\n' },
        { type: 'tool_end', toolCallId: 'call_bash_1', name: 'bash', result: 'hi\n', isError: false },
      ]);
      expect(events.filter((event) => event.type === 'message_complete').map((event) => event.text)).toEqual(['Running it.', 'Tool said: ["hi\\n"]']);
      expect(normalizer.lastAssistant).toEqual({ text: 'Tool said: ["hi\\n"]', stopReason: 'stop', errorMessage: undefined });
      expect(normalizer.openTools.size).toBe(0);
    });

    it('pi-c-tool-parallel: two interleaved tool calls end with their own output', () => {
      const events = normalizeAll(new EventNormalizer(), transcript('pi-c-tool-parallel.jsonl'));
      const ends = events.filter((event) => event.type === 'tool_end');
      expect(ends.map((event) => [event.toolCallId, event.result])).toEqual([
        ['call_a', 'a\n'],
        ['call_b', 'b\n'],
      ]);
      const updates = events.filter((event) => event.type === 'tool_update');
      expect(updates.map((event) => event.toolCallId)).toEqual(['call_a', 'call_b', 'call_a', 'call_b']);
    });

    it('pi-g-prompt-while-streaming: queue updates and the steer as user messages', () => {
      const events = normalizeAll(new EventNormalizer(), transcript('pi-g-prompt-while-streaming.jsonl'));
      expect(events.filter((event) => event.type === 'queue_update')).toEqual([
        { type: 'queue_update', steering: [], followUp: ['scenario:text third (followUp)'] },
        { type: 'queue_update', steering: ['scenario:text steer me'], followUp: ['scenario:text third (followUp)'] },
        { type: 'queue_update', steering: [], followUp: ['scenario:text third (followUp)'] },
        { type: 'queue_update', steering: [], followUp: [] },
      ]);
      expect(events.filter((event) => event.type === 'user_message').map((event) => event.text)).toEqual([
        'scenario:slow first',
        'scenario:text steer me',
        'scenario:text third (followUp)',
      ]);
    });

    it('pi-g-flaky500-pi-retry: a provider error, then a retry that succeeds', () => {
      const normalizer = new EventNormalizer();
      const events = normalizeAll(normalizer, transcript('pi-g-flaky500-pi-retry.jsonl'));
      expect(events.filter((event) => event.type === 'error' || event.type === 'retry')).toEqual([
        { type: 'error', code: 'provider_error', fatal: false, message: '500 fake 500 error' },
        { type: 'retry', phase: 'start', attempt: 1, maxAttempts: 3, delayMs: 100, errorMessage: '500 fake 500 error' },
        { type: 'retry', phase: 'end', attempt: 1, success: true },
      ]);
      expect(normalizer.lastAssistant).toMatchObject({ text: 'Hello from the fake LLM.', stopReason: 'stop' });
    });

    it('in every pi transcript, the deltas of each assistant message concatenate exactly to its final text', () => {
      const files = readdirSync(FIXTURES).filter((file) => file.startsWith('pi-') && file.endsWith('.jsonl'));
      let checked = 0;
      for (const file of files) {
        for (const message of perAssistantMessage(transcript(file))) {
          for (const channel of ['assistant', 'thinking'] as const) {
            const complete = message.find((event) => event.type === 'message_complete' && event.channel === channel);
            const deltas = joinDeltas(message, channel);
            if (!complete) {
              expect(deltas, `${file}: deltas without a complete on ${channel}`).toBe('');
              continue;
            }
            expect(deltas, `${file} (${channel})`).toBe((complete as { text: string }).text);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(10);
    });
  });
});
