/**
 * omp's subagent frames → pidriver's `subagent_*` events (EventNormalizer), the schemas of the
 * frames, of the events and of `get_subagents`, and `childFrameOf`.
 *
 * Frames go through `parseLine` first, as in a session. The payloads are those omp 18.2.3 wrote in
 * `spec/fixtures/transcripts/omp-i-subagent.jsonl` (cut down), plus fields a newer omp may add.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EventNormalizer } from '../../src/protocol/EventNormalizer.js';
import { formatEventFrame } from '../../src/bridge/sseFrame.js';
import { decodeMessage } from '../../src/browser/decodeMessage.js';
import { SseParser } from '../../src/browser/SseParser.js';
import { PiEventSchema, type EventFields, type PiEvent } from '../../src/protocol/events.js';
import type { KnownFrame } from '../../src/protocol/frames.js';
import { parseLine } from '../../src/protocol/parseLine.js';
import { childFrameOf, type SubagentEventEvent } from '../../src/protocol/subagentEvents.js';
import { SubagentsDataSchema } from '../../src/protocol/subagentFrames.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A frame as omp writes it, through the real parser (with its `raw`). */
function parsed(value: Record<string, unknown>): { frame: KnownFrame; raw: Record<string, unknown> } {
  const result = parseLine(JSON.stringify(value));
  if (result.kind !== 'frame') throw new Error(`not a known frame: ${JSON.stringify(result)}`);
  return { frame: result.frame, raw: result.raw };
}
const frame = (value: Record<string, unknown>): KnownFrame => parsed(value).frame;

/** The one event a frame gives. */
function only(normalizer: EventNormalizer, value: Record<string, unknown>): EventFields {
  const events = normalizer.normalize(frame(value));
  expect(events).toHaveLength(1);
  return events[0] as EventFields;
}

const lifecycle = (status: string, extra: Record<string, unknown> = {}) => ({
  type: 'subagent_lifecycle',
  payload: {
    id: 'ShakySwordfish',
    agent: 'task',
    parentToolCallId: 'call_task_1',
    detached: false,
    agentSource: 'bundled',
    status,
    sessionFile: '/tmp/omp-task-1/ShakySwordfish.jsonl',
    index: 0,
    ...extra,
  },
});

const progress = (status: string, extra: Record<string, unknown> = {}) => ({
  type: 'subagent_progress',
  payload: {
    index: 0,
    agent: 'task',
    agentSource: 'bundled',
    task: 'Complete assignment thoroughly:\n\nSay hello.',
    parentToolCallId: 'call_task_1',
    detached: false,
    assignment: 'Say hello.',
    progress: {
      index: 0,
      id: 'ShakySwordfish',
      agent: 'task',
      agentSource: 'bundled',
      status,
      task: 'Complete assignment thoroughly:\n\nSay hello.',
      assignment: 'Say hello.',
      recentTools: [{ tool: 'yield', args: '', endMs: 1796688505428 }],
      recentOutput: ['Hello from the subagent.'],
      toolCount: 1,
      requests: 1,
      tokens: 62,
      cost: 0.000068,
      durationMs: 177,
      modelOverride: ['fake/fake-1'],
      contextWindow: 100000,
      resolvedModel: 'fake/fake-1',
      extractedToolData: { yield: [{ data: 'Hello from the subagent.', status: 'success' }] },
    },
    sessionFile: '/tmp/omp-task-1/ShakySwordfish.jsonl',
    ...extra,
  },
});

const childEvent = (event: Record<string, unknown>, id = 'ShakySwordfish') => ({ type: 'subagent_event', payload: { id, event } });

const partial = { role: 'assistant', content: [{ type: 'text', text: 'Hello ' }] };

describe('EventNormalizer: omp subagent frames', () => {
  it('subagent_lifecycle: who the subagent is, its status, where its session is', () => {
    const normalizer = new EventNormalizer();
    expect(only(normalizer, lifecycle('started'))).toEqual({
      type: 'subagent_lifecycle',
      subagentId: 'ShakySwordfish',
      agent: 'task',
      parentToolCallId: 'call_task_1',
      index: 0,
      status: 'started',
      agentSource: 'bundled',
      sessionFile: '/tmp/omp-task-1/ShakySwordfish.jsonl',
      detached: false,
    });
    expect(only(normalizer, lifecycle('completed'))).toMatchObject({ type: 'subagent_lifecycle', status: 'completed' });
  });

  it('subagent_event: the child frame, with who the subagent is from its earlier frames', () => {
    const normalizer = new EventNormalizer();
    only(normalizer, lifecycle('started'));
    const start = { type: 'tool_execution_start', toolCallId: 'call_yield_1', toolName: 'yield', args: { data: 'hi' } };
    expect(only(normalizer, childEvent(start))).toEqual({
      type: 'subagent_event',
      subagentId: 'ShakySwordfish',
      agent: 'task',
      parentToolCallId: 'call_task_1',
      index: 0,
      event: start,
    });
  });

  it('subagent_event of a subagent not seen before: only its id', () => {
    expect(only(new EventNormalizer(), childEvent({ type: 'agent_start' }, 'Stranger'))).toEqual({
      type: 'subagent_event',
      subagentId: 'Stranger',
      event: { type: 'agent_start' },
    });
  });

  it("a child message_update comes without the resent partial message (the frame's raw keeps it)", () => {
    const value = childEvent({
      type: 'message_update',
      assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hello ', partial },
      message: partial,
    });
    const { frame: known, raw } = parsed(value);
    const [event] = new EventNormalizer().normalize(known);
    expect(event).toMatchObject({ event: { type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hello ' } } });
    const child = (event as SubagentEventEvent).event;
    expect(Object.keys(child)).toEqual(['type', 'assistantMessageEvent']);
    expect(Object.keys(child['assistantMessageEvent'] as object)).toEqual(['type', 'contentIndex', 'delta']);
    expect(raw).toEqual(value);
  });

  it("subagent_progress: omp's AgentProgress whole (fields pidriver doesn't name included), its status lifted", () => {
    const event = only(new EventNormalizer(), progress('running'));
    expect(event).toMatchObject({
      type: 'subagent_progress',
      subagentId: 'ShakySwordfish',
      agent: 'task',
      parentToolCallId: 'call_task_1',
      index: 0,
      status: 'running',
      task: 'Complete assignment thoroughly:\n\nSay hello.',
      assignment: 'Say hello.',
      sessionFile: '/tmp/omp-task-1/ShakySwordfish.jsonl',
      detached: false,
    });
    expect((event as { progress: unknown }).progress).toEqual(progress('running').payload.progress);
  });

  it('a progress frame teaches who the subagent is too; a later frame completes, never erases, what is known', () => {
    const normalizer = new EventNormalizer();
    only(normalizer, progress('running', { agent: undefined, index: undefined, parentToolCallId: undefined }));
    expect(only(normalizer, childEvent({ type: 'turn_start' }))).toEqual({
      type: 'subagent_event',
      subagentId: 'ShakySwordfish',
      agent: 'task', // from progress.agent
      index: 0, // from progress.index
      event: { type: 'turn_start' },
    });
    only(normalizer, lifecycle('started'));
    only(normalizer, lifecycle('completed', { parentToolCallId: null, agent: null }));
    expect(only(normalizer, childEvent({ type: 'agent_end' }))).toMatchObject({ agent: 'task', parentToolCallId: 'call_task_1' });
  });

  it('remembers the last 256 subagents', () => {
    const normalizer = new EventNormalizer();
    for (let index = 0; index <= 256; index++) only(normalizer, lifecycle('started', { id: `agent-${index}`, index }));
    expect(only(normalizer, childEvent({ type: 'turn_start' }, 'agent-0'))).toEqual({
      type: 'subagent_event',
      subagentId: 'agent-0',
      event: { type: 'turn_start' },
    });
    expect(only(normalizer, childEvent({ type: 'turn_start' }, 'agent-256'))).toMatchObject({ agent: 'task', index: 256 });
  });

  it('the frame schemas are lenient: nulls, missing optional fields and unknown fields pass; an id and a status are required', () => {
    const normalizer = new EventNormalizer();
    expect(only(normalizer, { type: 'subagent_lifecycle', payload: { id: 'A', status: 'paused', agent: null, newField: { x: 1 } }, extra: true })).toEqual({
      type: 'subagent_lifecycle',
      subagentId: 'A',
      status: 'paused',
    });
    expect(only(normalizer, { type: 'subagent_progress', payload: { progress: { id: 'A', status: 'pending' } } })).toEqual({
      type: 'subagent_progress',
      subagentId: 'A',
      status: 'pending',
      progress: { id: 'A', status: 'pending' },
    });
    expect(parseLine(JSON.stringify({ type: 'subagent_lifecycle', payload: { id: 'A' } })).kind).toBe('invalid');
    expect(parseLine(JSON.stringify({ type: 'subagent_event', payload: { id: 'A', event: {} } })).kind).toBe('invalid');
  });

  it("the events are PiEvents, and cross the bridge to the browser's decoder whole (passthrough fields included)", () => {
    const normalizer = new EventNormalizer();
    const values = [lifecycle('started'), progress('running'), childEvent({ type: 'advisor_cost_changed', cost: 1 })];
    values.forEach((value, index) => {
      const { frame: known, raw } = parsed(value);
      const event = { ...normalizer.normalize(known)[0], sessionId: 's', seq: index + 1, raw } as PiEvent;
      expect(PiEventSchema.parse(event)).toEqual(event);
      for (const includeRaw of [true, false]) {
        const messages = new SseParser().push(formatEventFrame(event, includeRaw));
        expect(messages.map(decodeMessage)).toEqual([{ kind: 'event', event: { ...event, raw: includeRaw ? raw : undefined }, bytes: expect.any(Number) }]);
      }
    });
  });
});

describe('childFrameOf', () => {
  it('types and validates a child frame of a type pidriver knows', () => {
    const frameOf = (event: Record<string, unknown>) => childFrameOf({ event: event as SubagentEventEvent['event'] });
    const start = frameOf({ type: 'tool_execution_start', toolCallId: 'call_yield_1', toolName: 'yield', args: {} });
    expect(start?.type === 'tool_execution_start' && start.toolName).toBe('yield');
    const update = frameOf({ type: 'message_update', assistantMessageEvent: { type: 'text_delta', contentIndex: 0, delta: 'Hi' } });
    expect(update?.type === 'message_update' && update.assistantMessageEvent.delta).toBe('Hi');
  });

  it('is undefined for a frame pidriver has no schema for, or one that does not fit its schema', () => {
    expect(childFrameOf({ event: { type: 'advisor_cost_changed' } })).toBeUndefined();
    expect(childFrameOf({ event: { type: 'tool_execution_start' } })).toBeUndefined();
  });
});

describe('SubagentsDataSchema', () => {
  it("parses the get_subagents answer omp 18.2.3 gave while its subagent ran (the recording's)", () => {
    const records = readFileSync(join(repo, 'spec', 'fixtures', 'transcripts', 'omp-i-subagent.jsonl'), 'utf8').split('\n');
    const line = records
      .filter((record) => record.includes('get_subagents') && record.includes('"out"'))
      .map((record) => (JSON.parse(record) as { line: string }).line)[0];
    // The recording has "<ts>" for epoch-ms values; omp sends numbers (and the replay puts numbers back).
    const answer = JSON.parse((line ?? '').replaceAll('"<ts>"', '1796688505428')) as { data: unknown };
    const [subagent, ...more] = SubagentsDataSchema.parse(answer.data).subagents;
    expect(more).toEqual([]);
    // (with its `task`, `assignment` and `progress` when omp had a progress report by then)
    expect(subagent).toMatchObject({
      id: expect.stringMatching(/^[A-Z][a-z]+[A-Z][a-z]+$/), // omp's generated names, e.g. ShakySwordfish
      index: 0,
      agent: 'task',
      agentSource: 'bundled',
      status: 'running',
      sessionFile: expect.stringMatching(/^<tmp-1>\/home\/omp-task-[0-9a-f]+\/[A-Za-z]+\.jsonl$/), // omp's temp dir: the env's, as recorded
      parentToolCallId: 'call_task_1',
      lastUpdate: 1796688505428,
    });
    expect(subagent?.sessionFile?.endsWith(`/${subagent.id}.jsonl`)).toBe(true);
  });

  it('an empty list (no subagent running), and fields omp may add', () => {
    expect(SubagentsDataSchema.parse({ subagents: [] })).toEqual({ subagents: [] });
    expect(SubagentsDataSchema.parse({ subagents: [{ id: 'A', later: 1 }] }).subagents[0]).toEqual({ id: 'A', later: 1 });
  });
});
