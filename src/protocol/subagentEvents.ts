/**
 * pidriver's events for omp's subagents (members of `PiEventSchema`), normalised from omp's
 * `subagent_lifecycle`, `subagent_progress` and `subagent_event` frames (see `subagentFrames.ts`).
 *
 * Each carries, besides the session's `sessionId` and `seq` and the frame as `raw`, who the
 * subagent is: `subagentId` (omp's id, e.g. `PunyPinniped`; `get_subagent_messages` takes it),
 * the `agent` it runs (`task`, …), the `parentToolCallId` of the parent's tool call that spawned it
 * (the `toolCallId` of that call's `tool_start`/`tool_end`) and its `index` in that call's batch.
 * Only omp sends them (`session.capabilities.subagents`).
 */
import * as z from 'zod';
import { FRAME_SCHEMAS, isKnownFrameType, type KnownFrame } from './frames.js';
import { SubagentChildFrameSchema, SubagentProgressSchema } from './subagentFrames.js';

/** The fields every event has (as in `events.ts`). */
const base = {
  sessionId: z.string(),
  seq: z.number().int().positive(),
  raw: z.unknown(),
};

/** Who the subagent is. */
const subagent = {
  /** omp's id of the subagent (e.g. `PunyPinniped`). */
  subagentId: z.string(),
  /** The agent definition it runs (`task`, `explore`, …). */
  agent: z.string().optional(),
  /** The parent's tool call that spawned it: the `toolCallId` of its `tool_start` (omp's `task` tool). */
  parentToolCallId: z.string().optional(),
  /** Its position in that call's batch (0 for a single task). */
  index: z.number().optional(),
};

/** Emitted when an omp subagent starts (`status: 'started'`) and when it ends (`completed`, `failed`, `aborted`). */
export const SubagentLifecycleEventSchema = z.object({
  ...base,
  type: z.literal('subagent_lifecycle'),
  ...subagent,
  /** `started`, then `completed`, `failed` or `aborted` (any other string a newer omp may send). */
  status: z.string(),
  /** Where its agent definition comes from: `bundled`, `user`, `project`. */
  agentSource: z.string().optional(),
  description: z.string().optional(),
  /** The subagent's own session file. */
  sessionFile: z.string().optional(),
  /** A background job: the parent went on while it runs (omp's `async.enabled`, on by default). */
  detached: z.boolean().optional(),
});

/**
 * Emitted with a summary of what an omp subagent is doing (omp coalesces them): its `status`, and
 * omp's whole `AgentProgress` as `progress` (output so far, tool count, tokens, cost, model, …;
 * fields pidriver doesn't name pass through).
 */
export const SubagentProgressEventSchema = z.object({
  ...base,
  type: z.literal('subagent_progress'),
  ...subagent,
  /** `pending`, `running`, `completed`, `failed`, `aborted`. */
  status: z.string(),
  /** The task as given to the subagent (omp's full prompt for it). */
  task: z.string().optional(),
  /** The assignment part of it (the parent's words). */
  assignment: z.string().optional(),
  description: z.string().optional(),
  sessionFile: z.string().optional(),
  detached: z.boolean().optional(),
  progress: SubagentProgressSchema,
});

/**
 * Emitted for each event of an omp subagent's own session: `event` is that session's frame as
 * omp sent it (`type` plus its fields: `message_update`, `tool_execution_start`, `agent_end`, …,
 * the shapes of the parent's frames), except that a `message_update` comes without the resent
 * copies of the partial message (as pidriver's own `raw` of a `message_update`; the deltas are
 * the text). {@link childFrameOf} validates and types it. These events are for watching a
 * subagent: they don't end runs, count usage or ask anything of the host (omp's own `task` tool
 * result, in the parent's `tool_end`, carries what the subagent returned).
 */
export const SubagentEventEventSchema = z.object({
  ...base,
  type: z.literal('subagent_event'),
  ...subagent,
  event: SubagentChildFrameSchema,
});

export type SubagentLifecycleEvent = z.infer<typeof SubagentLifecycleEventSchema>;
export type SubagentProgressEvent = z.infer<typeof SubagentProgressEventSchema>;
export type SubagentEventEvent = z.infer<typeof SubagentEventEventSchema>;

/**
 * The subagent's frame of a `subagent_event` event, validated and typed by pidriver's schema of
 * that frame type (`FRAME_SCHEMAS`); `undefined` when pidriver has no schema for it (e.g. omp's
 * `advisor_cost_changed`) or it does not fit.
 *
 * ```ts
 * const frame = childFrameOf(event);
 * if (frame?.type === 'tool_execution_start') console.log(`${event.agent} runs ${frame.toolName}`);
 * ```
 */
export function childFrameOf(event: Pick<SubagentEventEvent, 'event'>): KnownFrame | undefined {
  const frame = event.event;
  if (!isKnownFrameType(frame.type)) return undefined;
  const schema: z.ZodType = FRAME_SCHEMAS[frame.type];
  const result = schema.safeParse(frame);
  return result.success ? (result.data as KnownFrame) : undefined;
}
