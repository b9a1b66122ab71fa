/**
 * The typed events a session emits on `events$`: one zod discriminated union on `type`.
 *
 * These are pidriver's own events, normalised from pi's wire frames (see `frames.ts`). Every
 * event carries the local `sessionId`, a gap-free increasing `seq` (per session, from 1), and
 * `raw`: the decoded wire frame it came from (for `message_update` without the resent partial
 * message, see `parseLine`; for those frames it is decoded on first read, so a consumer that
 * never reads `raw` never pays for it).
 *
 * The same schemas validate events in the process and events that crossed a network (the bridge
 * sends JSON): `usage` values are {@link UsageTotalsSchema}, a codec that revives a `UsageTotals`
 * from its JSON form and keeps an instance as it is.
 */
import * as z from 'zod';
import { UsageTotalsSchema } from './UsageTotalsSchema.js';
import { SubagentEventEventSchema, SubagentLifecycleEventSchema, SubagentProgressEventSchema } from './subagentEvents.js';

const base = {
  sessionId: z.string(),
  seq: z.number().int().positive(),
  raw: z.unknown(),
};

/** Which stream of text a delta belongs to. */
export const CHANNELS = ['assistant', 'thinking'] as const;
export const ChannelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof ChannelSchema>;

/** Why a run ended. */
export const AGENT_END_REASONS = ['completed', 'cancelled', 'error', 'limit'] as const;
export const AgentEndReasonSchema = z.enum(AGENT_END_REASONS);
export type AgentEndReason = z.infer<typeof AgentEndReasonSchema>;

/** What kind of answer an interaction request wants. */
export const INTERACTION_KINDS = ['permission', 'question', 'choice', 'input', 'editor'] as const;
export const InteractionKindSchema = z.enum(INTERACTION_KINDS);
export type InteractionKind = z.infer<typeof InteractionKindSchema>;

/** Emitted when a run begins (the first `agent_start` after a prompt). */
export const AgentStartEventSchema = z.object({
  ...base,
  type: z.literal('agent_start'),
  /** pi's own session id (from `get_state`); pass it to `resume`. */
  piSessionId: z.string().optional(),
  /** `provider/id` of the model in use. */
  model: z.string().optional(),
  cwd: z.string(),
});

/** Emitted for each streamed fragment of assistant (or thinking) text. */
export const MessageDeltaEventSchema = z.object({
  ...base,
  type: z.literal('message_delta'),
  text: z.string(),
  channel: ChannelSchema,
  contentIndex: z.number().int().nonnegative(),
});

/** Emitted when an assistant message ends: the full text of one channel of it. */
export const MessageCompleteEventSchema = z.object({
  ...base,
  type: z.literal('message_complete'),
  text: z.string(),
  channel: ChannelSchema,
  /** pi's stop reason of the message (`stop`, `toolUse`, `length`, `error`, `aborted`). */
  stopReason: z.string().optional(),
});

/** Emitted when the agent starts a tool. */
export const ToolStartEventSchema = z.object({
  ...base,
  type: z.literal('tool_start'),
  toolCallId: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});

/** Emitted with partial output while a tool runs (`output` is the output so far). */
export const ToolUpdateEventSchema = z.object({
  ...base,
  type: z.literal('tool_update'),
  toolCallId: z.string(),
  name: z.string(),
  output: z.string(),
});

/** Emitted when a tool finished (or was blocked: then `isError` is true and `result` says why). */
export const ToolEndEventSchema = z.object({
  ...base,
  type: z.literal('tool_end'),
  toolCallId: z.string(),
  name: z.string(),
  /** The text content of the tool result. */
  result: z.string(),
  isError: z.boolean(),
  details: z.unknown().optional(),
});

/** Emitted with the token and cost usage of one assistant message; folded into `session.usage`. */
export const UsageEventSchema = z.object({
  ...base,
  type: z.literal('usage'),
  totals: UsageTotalsSchema,
});

/**
 * Emitted once per run, when it is over: after pi's last `agent_end` *and* once pi is quiet (no
 * auto-retry or compaction pending, not streaming). One pi run with retries is one `agent_end`.
 */
export const AgentEndEventSchema = z.object({
  ...base,
  type: z.literal('agent_end'),
  reason: AgentEndReasonSchema,
  /** Text of the run's last assistant message. */
  finalText: z.string(),
  /** The provider's error text when `reason` is `error`; what was wrong for a `limit` or invalid structured output. */
  errorMessage: z.string().optional(),
  /** What ended the run, when pidriver did: `structured_output_invalid`, `structured_output_missing`. */
  errorCode: z.string().optional(),
  /** The limit that ended the run, when `reason` is `limit` because of one (`maxTurns`, `maxTokens`, `maxCostUsd`, `stallTimeoutMs`, `toolStallTimeoutMs`). */
  limit: z.string().optional(),
  /** The run's structured output (`prompt(text, { output })`), validated by its schema. */
  output: z.unknown().optional(),
  /** Usage of this run. */
  usage: UsageTotalsSchema,
});

/** Emitted for a problem that did not end the session (a bad line, a failed command, a provider error). */
export const ErrorEventSchema = z.object({
  ...base,
  type: z.literal('error'),
  message: z.string(),
  /** `invalid_line`, `line_too_long`, `command_failed`, `provider_error`, `extension_error`, `policy_error`, `retry_failed`, … */
  code: z.string(),
  /** True only for the error that ends the session. */
  fatal: z.boolean(),
  /** The offending line, for `invalid_line`. */
  line: z.string().optional(),
});

/** A prompt shown to the host: a title and a message. */
export const InteractionPromptSchema = z.object({ title: z.string(), message: z.string() });

/**
 * Emitted when the agent asks something (a permission, a question, a choice…), once the
 * session's policy has handled it: `handledBy: 'host'` when the policy left it to the host (it
 * is then in `session.pending$`, waiting for `session.respond()`), `'policy'` when the policy
 * answered it itself (already answered: a record, nothing to do).
 */
export const InteractionRequestEventSchema = z.object({
  ...base,
  type: z.literal('interaction_request'),
  requestId: z.string(),
  kind: InteractionKindSchema,
  /** The UI method on the wire (`confirm`, `select`, `input`, `editor`). */
  method: z.string(),
  prompt: InteractionPromptSchema,
  options: z.array(z.string()),
  toolCallId: z.string().optional(),
  toolName: z.string().optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  default: z.unknown().optional(),
  /** pi resolves the request itself (silently) after this long. */
  timeoutMs: z.number().optional(),
  /** Who answers it: the session's policy (already answered), or the host (`session.respond()`). Absent while the policy decides. */
  handledBy: z.enum(['policy', 'host']).optional(),
});

/** Emitted for fire-and-forget UI frames (`notify`, `setStatus`, `setWidget`, `setTitle`, `set_editor_text`, omp `cancel`). */
export const UiNoticeEventSchema = z.object({
  ...base,
  type: z.literal('ui_notice'),
  method: z.string(),
  message: z.string().optional(),
  key: z.string().optional(),
  text: z.string().optional(),
  lines: z.array(z.string()).optional(),
  level: z.string().optional(),
});

/** Emitted when the agent starts one assistant response and its tool calls. */
export const TurnStartEventSchema = z.object({ ...base, type: z.literal('turn_start') });
/** Emitted when a turn ends. */
export const TurnEndEventSchema = z.object({ ...base, type: z.literal('turn_end') });

/** Emitted when a user message enters the run (the prompt, a steer, or a follow-up). */
export const UserMessageEventSchema = z.object({ ...base, type: z.literal('user_message'), text: z.string() });

/** Emitted when pi's steer / follow-up queues change. */
export const QueueUpdateEventSchema = z.object({
  ...base,
  type: z.literal('queue_update'),
  steering: z.array(z.string()),
  followUp: z.array(z.string()),
});

/** Emitted when pi starts or ends an automatic retry after a provider error. */
export const RetryEventSchema = z.object({
  ...base,
  type: z.literal('retry'),
  phase: z.enum(['start', 'end']),
  attempt: z.number().optional(),
  maxAttempts: z.number().optional(),
  delayMs: z.number().optional(),
  errorMessage: z.string().optional(),
  success: z.boolean().optional(),
});

/** Emitted when pi starts or ends compacting the context. */
export const CompactionEventSchema = z.object({
  ...base,
  type: z.literal('compaction'),
  phase: z.enum(['start', 'end']),
  reason: z.string().optional(),
  aborted: z.boolean().optional(),
  errorMessage: z.string().optional(),
});

/**
 * Emitted when pi died on its own and the session started it again on the same pi session file
 * (`client.start({ restart })`), once the new process is ready: the conversation goes on with its
 * history, under the same `sessionId`, with a new `pid`. What was in flight when pi died failed
 * (a run ended with `reason: 'error'`, `errorCode: 'process_exited'`); nothing was sent again.
 */
export const SessionRestartedEventSchema = z.object({
  ...base,
  type: z.literal('session_restarted'),
  /** How many times this session was restarted so far, this one included (1 for the first). */
  attempt: z.number().int().positive(),
  /** How the process that died ended. */
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  /** The last lines it wrote to stderr. */
  stderrTail: z.string(),
  /** The pid of the new process. */
  pid: z.number().int().optional(),
  /** pi's session id after the restart (the same one, unless pi could not load its file). */
  piSessionId: z.string().optional(),
});

/**
 * Emitted when the session's conversation changed under it: `newSession()`, `fork()`, `clone()`
 * or `switchSession()` succeeded. Later events belong to the new pi session; a late subscriber's
 * replay starts here, not in the conversation before it.
 */
export const SessionChangedEventSchema = z.object({
  ...base,
  type: z.literal('session_changed'),
  reason: z.enum(['new', 'fork', 'clone', 'switch']),
  /** pi's session id now. */
  piSessionId: z.string().optional(),
  /** pi's session file now (absent for an in-memory session). */
  sessionFile: z.string().optional(),
});

/** Emitted for any frame pidriver doesn't model; `line` is the raw stdout line. */
export const UnknownEventSchema = z.object({
  ...base,
  type: z.literal('unknown'),
  frameType: z.string(),
  line: z.string(),
});

/** Every event a session emits. */
export const PiEventSchema = z.discriminatedUnion('type', [
  AgentStartEventSchema,
  MessageDeltaEventSchema,
  MessageCompleteEventSchema,
  ToolStartEventSchema,
  ToolUpdateEventSchema,
  ToolEndEventSchema,
  UsageEventSchema,
  AgentEndEventSchema,
  ErrorEventSchema,
  InteractionRequestEventSchema,
  UiNoticeEventSchema,
  TurnStartEventSchema,
  TurnEndEventSchema,
  UserMessageEventSchema,
  QueueUpdateEventSchema,
  RetryEventSchema,
  CompactionEventSchema,
  SessionRestartedEventSchema,
  SessionChangedEventSchema,
  SubagentLifecycleEventSchema,
  SubagentProgressEventSchema,
  SubagentEventEventSchema,
  UnknownEventSchema,
]);

export type AgentStartEvent = z.infer<typeof AgentStartEventSchema>;
export type MessageDeltaEvent = z.infer<typeof MessageDeltaEventSchema>;
export type MessageCompleteEvent = z.infer<typeof MessageCompleteEventSchema>;
export type ToolStartEvent = z.infer<typeof ToolStartEventSchema>;
export type ToolUpdateEvent = z.infer<typeof ToolUpdateEventSchema>;
export type ToolEndEvent = z.infer<typeof ToolEndEventSchema>;
export type UsageEvent = z.infer<typeof UsageEventSchema>;
export type AgentEndEvent = z.infer<typeof AgentEndEventSchema>;
export type ErrorEvent = z.infer<typeof ErrorEventSchema>;
export type InteractionRequest = z.infer<typeof InteractionRequestEventSchema>;
export type InteractionPrompt = z.infer<typeof InteractionPromptSchema>;
export type UiNoticeEvent = z.infer<typeof UiNoticeEventSchema>;
export type TurnStartEvent = z.infer<typeof TurnStartEventSchema>;
export type TurnEndEvent = z.infer<typeof TurnEndEventSchema>;
export type UserMessageEvent = z.infer<typeof UserMessageEventSchema>;
export type QueueUpdateEvent = z.infer<typeof QueueUpdateEventSchema>;
export type RetryEvent = z.infer<typeof RetryEventSchema>;
export type CompactionEvent = z.infer<typeof CompactionEventSchema>;
export type SessionRestartedEvent = z.infer<typeof SessionRestartedEventSchema>;
export type SessionChangedEvent = z.infer<typeof SessionChangedEventSchema>;
export type UnknownEvent = z.infer<typeof UnknownEventSchema>;
export type PiEvent = z.infer<typeof PiEventSchema>;
export type PiEventType = PiEvent['type'];
/** Narrow {@link PiEvent} by `type`: `PiEventOf<'tool_end'>`. */
export type PiEventOf<T extends PiEventType> = Extract<PiEvent, { type: T }>;

/** `Omit` applied to each member of a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the session stamps it with `sessionId` and `seq`. */
export type UnstampedEvent = DistributiveOmit<PiEvent, 'sessionId' | 'seq'>;
/** The fields of an event that depend on its type. */
export type EventFields = DistributiveOmit<PiEvent, 'sessionId' | 'seq' | 'raw'>;
