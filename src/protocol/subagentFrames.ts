/**
 * Zod schemas of omp's subagent frames and of its `get_subagents` answer.
 *
 * omp's `task` tool runs subagents: agent sessions of their own, inside the omp process. After
 * `set_subagent_subscription` (pidriver sends it with level `events` when an omp session starts),
 * omp writes what they do as `{ type, payload }` frames: `subagent_lifecycle` (started, then
 * completed / failed / aborted), `subagent_progress` (a summary, coalesced) and, at level
 * `events`, `subagent_event` (every event of the subagent's own session). The shapes are those of
 * omp 18.2.3's `src/task/types.ts` (`SubagentLifecyclePayload`, `SubagentProgressPayload`,
 * `SubagentEventPayload`, `AgentProgress`) and `src/modes/rpc/rpc-types.ts` (`RpcSubagentSnapshot`).
 *
 * Like every inbound schema they are lenient: only `id` and `status` are required, every other
 * field is optional (and may be `null`), and unknown fields pass through (omp adds fields often).
 */
import * as z from 'zod';

/** Optional on the wire, where omp also sometimes writes `null`. */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

/**
 * omp's `AgentProgress`: what one subagent is doing and has done so far. The fields pidriver
 * names are typed; the rest (`recentTools`, `extractedToolData`, `retryState`, …) pass through.
 */
export const SubagentProgressSchema = z.looseObject({
  /** The subagent's id (as in its `subagent_lifecycle` frames). */
  id: z.string(),
  index: opt(z.number()),
  agent: opt(z.string()),
  /** Where its agent definition comes from: `bundled`, `user`, `project`. */
  agentSource: opt(z.string()),
  /** `pending`, `running`, `completed`, `failed`, `aborted`. */
  status: z.string(),
  task: opt(z.string()),
  assignment: opt(z.string()),
  description: opt(z.string()),
  lastIntent: opt(z.string()),
  currentTool: opt(z.string()),
  /** The last lines of its output. */
  recentOutput: opt(z.array(z.string())),
  toolCount: opt(z.number()),
  /** Assistant requests so far. */
  requests: opt(z.number()),
  /** Input + output + cache-write tokens so far. */
  tokens: opt(z.number()),
  contextTokens: opt(z.number()),
  contextWindow: opt(z.number()),
  /** Cost so far, in USD. */
  cost: opt(z.number()),
  durationMs: opt(z.number()),
  /** `provider/id` of the model it runs, when known. */
  resolvedModel: opt(z.string()),
});
/** What one subagent is doing (omp's `AgentProgress`). */
export type SubagentProgress = z.infer<typeof SubagentProgressSchema>;

/** `subagent_lifecycle`'s payload: a subagent started or ended. */
export const SubagentLifecyclePayloadSchema = z.looseObject({
  id: z.string(),
  agent: opt(z.string()),
  agentSource: opt(z.string()),
  description: opt(z.string()),
  /** `started`, then `completed`, `failed` or `aborted`. */
  status: z.string(),
  /** The subagent's own session file (`get_subagent_messages` reads it). */
  sessionFile: opt(z.string()),
  /** The parent's tool call that spawned it (`task`'s `toolCallId`). */
  parentToolCallId: opt(z.string()),
  /** Its position in the spawning call's batch. */
  index: opt(z.number()),
  /** A background job: the parent went on while it runs (omp's `async.enabled`). */
  detached: opt(z.boolean()),
});

/** `subagent_progress`'s payload: a summary of what the subagent is doing (coalesced by omp). */
export const SubagentProgressPayloadSchema = z.looseObject({
  index: opt(z.number()),
  agent: opt(z.string()),
  agentSource: opt(z.string()),
  task: opt(z.string()),
  parentToolCallId: opt(z.string()),
  assignment: opt(z.string()),
  progress: SubagentProgressSchema,
  sessionFile: opt(z.string()),
  detached: opt(z.boolean()),
});

/**
 * One frame of a subagent's own session (`message_update`, `tool_execution_start`, …, the same
 * shapes as the parent's frames in `FRAME_SCHEMAS`, and omp's own such as `advisor_cost_changed`).
 */
export const SubagentChildFrameSchema = z.looseObject({ type: z.string() });
/** One frame of a subagent's own session. */
export type SubagentChildFrame = z.infer<typeof SubagentChildFrameSchema>;

/** `subagent_event`'s payload: one event of the subagent's session. */
export const SubagentEventPayloadSchema = z.looseObject({ id: z.string(), event: SubagentChildFrameSchema });

/** omp: a subagent started or ended. */
export const SubagentLifecycleFrameSchema = z.looseObject({ type: z.literal('subagent_lifecycle'), payload: SubagentLifecyclePayloadSchema });
/** omp: what a subagent is doing (level `progress` and above). */
export const SubagentProgressFrameSchema = z.looseObject({ type: z.literal('subagent_progress'), payload: SubagentProgressPayloadSchema });
/** omp: one event of a subagent's session (level `events`). */
export const SubagentEventFrameSchema = z.looseObject({ type: z.literal('subagent_event'), payload: SubagentEventPayloadSchema });

/** One subagent as `get_subagents` lists it (omp's `RpcSubagentSnapshot`): those running now. */
export const SubagentSnapshotSchema = z.looseObject({
  id: z.string(),
  index: opt(z.number()),
  agent: opt(z.string()),
  agentSource: opt(z.string()),
  description: opt(z.string()),
  /** `pending`, `running`, `completed`, `failed`, `aborted`. */
  status: opt(z.string()),
  task: opt(z.string()),
  assignment: opt(z.string()),
  sessionFile: opt(z.string()),
  /** When omp last heard of it (epoch ms). */
  lastUpdate: opt(z.number()),
  progress: opt(SubagentProgressSchema),
  parentToolCallId: opt(z.string()),
});
/** One running subagent, as `get_subagents` lists it. */
export type SubagentSnapshot = z.infer<typeof SubagentSnapshotSchema>;

/** The `data` of a `get_subagents` response (omp): the subagents running now (ended ones are dropped). */
export const SubagentsDataSchema = z.looseObject({ subagents: z.array(SubagentSnapshotSchema) });
