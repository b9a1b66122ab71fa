/**
 * One event schema for the process and the wire: the browser validates events with the
 * protocol's `PiEventSchema`, whose `usage` values are a codec between a `UsageTotals` and its
 * JSON form. It must keep every event type the session emits, and revive what the bridge sends.
 */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { PiEventSchema, type AgentEndEvent, type UsageEvent } from '../../src/protocol/events.js';
import { UsageTotalsSchema } from '../../src/protocol/UsageTotalsSchema.js';
import { UsageTotals } from '../../src/usage/UsageTotals.js';
import { PiEventWireSchema, SessionStateWireSchema, UsageTotalsWireSchema } from '../../src/wire/values.js';

const typesOf = (union: { readonly options: readonly { readonly shape: { readonly type: { readonly value: unknown } } }[] }) =>
  union.options.map((option) => option.shape.type.value);

const usage = new UsageTotals({ inputTokens: 10, outputTokens: 5, cacheReadTokens: 2, cacheWriteTokens: 1, costUsd: 0.25 });
const agentEnd: AgentEndEvent = { type: 'agent_end', sessionId: 's1', seq: 7, raw: undefined, reason: 'completed', finalText: 'done', usage };

describe('PiEventWireSchema', () => {
  it('is the protocol schema itself, with the same event types in the same order', () => {
    expect(PiEventWireSchema).toBe(PiEventSchema);
    expect(UsageTotalsWireSchema).toBe(UsageTotalsSchema);
    expect(typesOf(PiEventWireSchema)).toEqual(typesOf(PiEventSchema));
  });

  it('revives the usage of an event that crossed the wire as JSON into a UsageTotals', () => {
    const wire: unknown = JSON.parse(JSON.stringify(agentEnd));
    const parsed = PiEventWireSchema.parse({ raw: undefined, ...(wire as object) });
    expect(parsed.type).toBe('agent_end');
    const revived = (parsed as AgentEndEvent).usage;
    expect(revived).toBeInstanceOf(UsageTotals);
    expect(revived.equals(usage)).toBe(true);
  });

  it('keeps a UsageTotals instance as it is (events validated in the process)', () => {
    const event: UsageEvent = { type: 'usage', sessionId: 's1', seq: 3, raw: {}, totals: usage };
    expect((PiEventSchema.parse(event) as UsageEvent).totals).toBe(usage);
  });

  it('encodes an event to its JSON form, which decodes back to an equal event', () => {
    const encoded = z.encode(PiEventSchema, agentEnd);
    expect(encoded).toMatchObject({ type: 'agent_end', usage: usage.toJSON() });
    expect((encoded as { usage: unknown }).usage).not.toBeInstanceOf(UsageTotals);
    // JSON drops `raw: undefined`; the browser puts the key back (decodeMessage).
    const decoded = PiEventSchema.parse({ raw: undefined, ...(JSON.parse(JSON.stringify(encoded)) as object) }) as AgentEndEvent;
    expect(decoded.usage.equals(usage)).toBe(true);
  });

  it('rejects a usage that is neither an instance nor its JSON form', () => {
    const result = PiEventWireSchema.safeParse({ ...agentEnd, usage: { inputTokens: 'ten' } });
    expect(result.success).toBe(false);
  });

  it('revives the usage of a state snapshot', () => {
    const state = SessionStateWireSchema.parse({
      status: 'idle',
      sessionId: 's1',
      cwd: '/w',
      runs: 1,
      eventCount: 9,
      pendingRequests: 0,
      queuedPrompts: 0,
      usage: usage.toJSON(),
    });
    expect(state.usage).toBeInstanceOf(UsageTotals);
    expect(state.usage.equals(usage)).toBe(true);
    expect(state.exit).toBeUndefined();
  });
});
