/**
 * What the golden of omp's subagent recording (`omp-i-subagent`: omp 18.2.3's `task` tool spawns
 * one subagent, which streams a text and yields it; `get_subagents` is asked while it runs) says
 * about the `subagent_*` events. The golden file itself is checked by `transcripts.spec.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PiEventSchema, type PiEvent } from '../../src/protocol/events.js';
import { childFrameOf, type SubagentEventEvent } from '../../src/protocol/subagentEvents.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'omp-i-subagent.json');

interface Golden {
  readonly steps: { readonly command: { readonly type: string }; readonly outcome: string }[];
  readonly events: (Record<string, unknown> & { readonly type: string })[];
  readonly sent: readonly string[];
}

const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;
/** The golden's events (the snapshot drops `raw`, and an `unknown` event's `line`); the subagent ones are validated. */
const subagentTypes: readonly string[] = ['subagent_lifecycle', 'subagent_progress', 'subagent_event'];
const events = golden.events.map((event) =>
  subagentTypes.includes(event.type) ? PiEventSchema.parse({ ...event, raw: undefined }) : (event as unknown as PiEvent),
);
const ofType = <T extends PiEvent['type']>(type: T) => events.filter((event): event is Extract<PiEvent, { type: T }> => event.type === type);
const subagentEvents = events.filter((event) => subagentTypes.includes(event.type));

describe('golden omp-i-subagent: omp 18.2.3 subagents as subagent_* events', () => {
  it('the session asked for them, with level events, before the prompt', () => {
    expect(golden.sent.map((line) => (JSON.parse(line) as { type: string }).type)).toEqual([
      'get_state',
      'negotiate_protocol',
      'set_subagent_subscription',
      'prompt',
      'get_subagents',
      'get_state',
    ]);
    expect(golden.sent[2]).toContain('"level":"events"');
  });

  it('one subagent, started then completed, all its events inside the task call that spawned it', () => {
    const [taskStart] = ofType('tool_start');
    expect(taskStart).toMatchObject({ name: 'task', toolCallId: 'call_task_1' });
    const lifecycle = ofType('subagent_lifecycle');
    expect(lifecycle.map((event) => event.status)).toEqual(['started', 'completed']);
    expect(lifecycle[0]).toMatchObject({ agent: 'task', agentSource: 'bundled', parentToolCallId: 'call_task_1', index: 0, detached: false });
    const subagentId = lifecycle[0]?.subagentId;
    expect(subagentId).toMatch(/^[A-Z][a-z]+[A-Z][a-z]+$/); // omp's generated names, e.g. ShakySwordfish
    expect(subagentEvents.length).toBeGreaterThan(20);
    for (const event of subagentEvents) expect(event).toMatchObject({ subagentId, agent: 'task', parentToolCallId: 'call_task_1', index: 0 });

    const taskEnd = ofType('tool_end').find((event) => event.toolCallId === 'call_task_1');
    const seqs = subagentEvents.map((event) => event.seq);
    expect(Math.min(...seqs)).toBeGreaterThan(taskStart?.seq ?? Infinity);
    expect(Math.max(...seqs)).toBeLessThan(taskEnd?.seq ?? -Infinity);
    expect(subagentEvents[0]).toBe(lifecycle[0]);
    expect(subagentEvents.at(-1)).toBe(lifecycle[1]);
    expect(taskEnd?.result).toContain('Hello from the subagent.');
  });

  it("subagent_progress follows omp's status; the last says completed, with its counters", () => {
    const progress = ofType('subagent_progress');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.slice(0, -1).every((event) => event.status === 'running')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ status: 'completed', assignment: 'scenario:subagent:40 Say hello.' });
    expect(progress.at(-1)?.progress).toMatchObject({ status: 'completed', toolCount: 1, requests: 1, recentOutput: ['Hello from the subagent.'] });
  });

  it("subagent_event carries the subagent's own session: its run, its deltas (which make its text), its yield", () => {
    const child = ofType('subagent_event');
    const frames = child.map((event: SubagentEventEvent) => childFrameOf(event));
    expect(child.map((event) => event.event.type).filter((type) => type.endsWith('start') || type.endsWith('end'))).toEqual([
      'agent_start',
      'turn_start',
      'message_start',
      'message_end',
      'message_start',
      'message_end',
      'tool_execution_start',
      'tool_execution_end',
      'message_start',
      'message_end',
      'turn_end',
      'agent_end',
    ]);
    const deltas = frames.map((frame) =>
      frame?.type === 'message_update' && frame.assistantMessageEvent.type === 'text_delta' ? frame.assistantMessageEvent.delta : '',
    );
    expect(deltas.join('')).toBe('Hello from the subagent.');
    expect(frames.find((frame) => frame?.type === 'tool_execution_start')).toMatchObject({ toolName: 'yield', args: { data: 'Hello from the subagent.' } });
    // omp's own frames that pidriver has no schema for come as they are.
    expect(child[0]?.event).toEqual({ type: 'advisor_cost_changed' });
    expect(childFrameOf(child[0] as SubagentEventEvent)).toBeUndefined();
  });

  it("the subagent's events don't count as the parent's: its usage, turns and text stay inside subagent_event", () => {
    expect(ofType('usage')).toHaveLength(2); // the parent's two assistant messages
    expect(ofType('turn_start')).toHaveLength(2);
    expect(ofType('agent_end')).toHaveLength(1);
    expect(golden.steps.find((step) => step.command.type === 'get_subagents')?.outcome).toBe('ok {subagents}');
  });
});
