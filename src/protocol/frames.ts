/**
 * Zod schemas for the raw wire frames pi writes to stdout (`pi --mode rpc`).
 *
 * Inbound schemas are permissive on purpose (`z.looseObject`, optional fields that also accept
 * `null`): pi elides `undefined` fields, newer pi versions add fields, and a new field must never
 * break an old SDK (pi omits some documented fields and adds new ones between versions). Only the fields the driver reads
 * are typed; everything else passes through untouched.
 */
import * as z from 'zod';
import { SubagentEventFrameSchema, SubagentLifecycleFrameSchema, SubagentProgressFrameSchema } from './subagentFrames.js';

/** Optional on the wire, where pi also sometimes writes `null`. */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

// ---------------------------------------------------------------------------------------------
// Shared shapes

export const TextContentSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
export const ThinkingContentSchema = z.looseObject({ type: z.literal('thinking'), thinking: z.string() });
export const ImageContentSchema = z.looseObject({ type: z.literal('image'), data: z.string(), mimeType: z.string() });
export const ToolCallContentSchema = z.looseObject({
  type: z.literal('toolCall'),
  id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()).catch({}),
});
/** One block of message content; unknown block types are kept as loose objects. */
export const ContentBlockSchema = z.union([
  TextContentSchema,
  ThinkingContentSchema,
  ImageContentSchema,
  ToolCallContentSchema,
  z.looseObject({ type: z.string() }),
]);
export type ContentBlock = z.infer<typeof ContentBlockSchema>;

export const UsageSchema = z.looseObject({
  input: opt(z.number()),
  output: opt(z.number()),
  cacheRead: opt(z.number()),
  cacheWrite: opt(z.number()),
  totalTokens: opt(z.number()),
  cost: opt(z.looseObject({ total: opt(z.number()) })),
});
export type WireUsage = z.infer<typeof UsageSchema>;

/** `pi-ai` StopReason, plus any string a newer pi may add. */
export const StopReasonSchema = z.string();

/** Any `AgentMessage` (user, assistant, toolResult, custom, …), discriminated loosely by `role`. */
export const AgentMessageSchema = z.looseObject({
  role: z.string(),
  content: opt(z.union([z.string(), z.array(ContentBlockSchema)])),
  usage: opt(UsageSchema),
  stopReason: opt(StopReasonSchema),
  errorMessage: opt(z.string()),
  provider: opt(z.string()),
  model: opt(z.string()),
  timestamp: opt(z.number()),
  toolCallId: opt(z.string()),
  toolName: opt(z.string()),
  isError: opt(z.boolean()),
});
export type AgentMessage = z.infer<typeof AgentMessageSchema>;

export const ToolResultSchema = z.looseObject({
  content: opt(z.array(ContentBlockSchema)),
  details: z.unknown().optional(),
});
export type ToolResult = z.infer<typeof ToolResultSchema>;

// ---------------------------------------------------------------------------------------------
// Responses

/** `{"type":"response", …}`; `id` and even `command` are missing on some errors (pi 0.73, e.g. an unknown command). */
export const ResponseFrameSchema = z.looseObject({
  type: z.literal('response'),
  id: opt(z.string()),
  command: opt(z.string()),
  success: z.boolean(),
  data: z.unknown().optional(),
  error: opt(z.string()),
  code: opt(z.string()),
});
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Agent / turn lifecycle

export const AgentStartFrameSchema = z.looseObject({ type: z.literal('agent_start') });
export const AgentEndFrameSchema = z.looseObject({
  type: z.literal('agent_end'),
  messages: opt(z.array(AgentMessageSchema)),
  willRetry: opt(z.boolean()),
  isTerminal: opt(z.boolean()),
});
export const AgentSettledFrameSchema = z.looseObject({ type: z.literal('agent_settled'), aborted: opt(z.boolean()) });
export const TurnStartFrameSchema = z.looseObject({ type: z.literal('turn_start') });
export const TurnEndFrameSchema = z.looseObject({
  type: z.literal('turn_end'),
  message: opt(AgentMessageSchema),
  toolResults: opt(z.array(AgentMessageSchema)),
});

// ---------------------------------------------------------------------------------------------
// Message lifecycle

export const MessageStartFrameSchema = z.looseObject({ type: z.literal('message_start'), message: AgentMessageSchema });
export const MessageEndFrameSchema = z.looseObject({ type: z.literal('message_end'), message: AgentMessageSchema });

/** `assistantMessageEvent` variants. `partial` (pi 0.73/omp) is deliberately not parsed: it resends the whole message and can be stale. */
export const AssistantMessageEventSchema = z.looseObject({
  type: z.string(),
  contentIndex: opt(z.number()),
  delta: opt(z.string()),
  content: z.unknown().optional(),
  toolCall: opt(ToolCallContentSchema),
  id: opt(z.string()),
  toolName: opt(z.string()),
  reason: opt(z.string()),
});
export type AssistantMessageEvent = z.infer<typeof AssistantMessageEventSchema>;

export const MessageUpdateFrameSchema = z.looseObject({
  type: z.literal('message_update'),
  assistantMessageEvent: AssistantMessageEventSchema,
});

// ---------------------------------------------------------------------------------------------
// Tools

export const ToolExecutionStartFrameSchema = z.looseObject({
  type: z.literal('tool_execution_start'),
  toolCallId: z.string(),
  toolName: z.string(),
  args: z.unknown().optional(),
});
export const ToolExecutionUpdateFrameSchema = z.looseObject({
  type: z.literal('tool_execution_update'),
  toolCallId: z.string(),
  toolName: z.string(),
  partialResult: opt(ToolResultSchema),
});
export const ToolExecutionEndFrameSchema = z.looseObject({
  type: z.literal('tool_execution_end'),
  toolCallId: z.string(),
  toolName: z.string(),
  result: opt(ToolResultSchema),
  isError: opt(z.boolean()),
});

// ---------------------------------------------------------------------------------------------
// Session-level

export const QueueUpdateFrameSchema = z.looseObject({
  type: z.literal('queue_update'),
  steering: opt(z.array(z.string())),
  followUp: opt(z.array(z.string())),
});
export const CompactionStartFrameSchema = z.looseObject({
  type: z.enum(['compaction_start', 'auto_compaction_start']),
  reason: opt(z.string()),
});
export const CompactionEndFrameSchema = z.looseObject({
  type: z.enum(['compaction_end', 'auto_compaction_end']),
  reason: opt(z.string()),
  aborted: opt(z.boolean()),
  willRetry: opt(z.boolean()),
  errorMessage: opt(z.string()),
});
export const AutoRetryStartFrameSchema = z.looseObject({
  type: z.literal('auto_retry_start'),
  attempt: opt(z.number()),
  maxAttempts: opt(z.number()),
  delayMs: opt(z.number()),
  errorMessage: opt(z.string()),
});
export const AutoRetryEndFrameSchema = z.looseObject({
  type: z.literal('auto_retry_end'),
  success: opt(z.boolean()),
  attempt: opt(z.number()),
  finalError: opt(z.string()),
});
export const ExtensionErrorFrameSchema = z.looseObject({
  type: z.literal('extension_error'),
  extensionPath: opt(z.string()),
  event: opt(z.string()),
  error: opt(z.string()),
});

// ---------------------------------------------------------------------------------------------
// Extension UI

export const ExtensionUiRequestFrameSchema = z.looseObject({
  type: z.literal('extension_ui_request'),
  id: z.string(),
  method: z.string(),
  title: opt(z.string()),
  message: opt(z.string()),
  options: opt(z.array(z.string())),
  placeholder: opt(z.string()),
  prefill: opt(z.string()),
  timeout: opt(z.number()),
  targetId: opt(z.string()),
});
export type ExtensionUiRequestFrame = z.infer<typeof ExtensionUiRequestFrameSchema>;

// ---------------------------------------------------------------------------------------------
// omp-only

export const ReadyFrameSchema = z.looseObject({
  type: z.literal('ready'),
  protocolVersion: opt(z.number()),
  supportedProtocolVersions: opt(z.array(z.number())),
  maxFrameBytes: opt(z.number()),
  maxReassembledFrameBytes: opt(z.number()),
});
export const PromptResultFrameSchema = z.looseObject({
  type: z.literal('prompt_result'),
  id: opt(z.string()),
  agentInvoked: opt(z.boolean()),
  /** `completed` | `aborted` | `error` (18.3); absent in 18.2's slash-command result. */
  status: opt(z.string()),
  error: opt(z.looseObject({ message: opt(z.string()), retryable: opt(z.boolean()) })),
  sessionSettled: opt(z.boolean()),
});
export const SessionSettledFrameSchema = z.looseObject({ type: z.literal('session_settled') });
/** One piece of an oversize frame (omp's protocol v2): base64 of UTF-8 JSON, strictly in order. */
export const RpcChunkFrameSchema = z.looseObject({
  type: z.literal('rpc_chunk'),
  chunkId: z.string(),
  index: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  byteLength: opt(z.number().int().nonnegative()),
  data: z.string(),
});
/** A frame omp could not send in protocol v1 (over its 1 MiB limit), replaced by this. */
export const RpcFrameErrorFrameSchema = z.looseObject({
  type: z.literal('rpc_frame_error'),
  originalType: opt(z.string()),
  error: opt(z.string()),
});

/** omp: the agent calls a host tool (`set_host_tools`); answered with `host_tool_update`s and one `host_tool_result`. */
export const HostToolCallFrameSchema = z.looseObject({
  type: z.literal('host_tool_call'),
  id: z.string(),
  toolCallId: z.string(),
  toolName: z.string(),
  arguments: opt(z.unknown()),
});
/** omp: a host tool call was aborted (`targetId` is the call's `id`). */
export const HostToolCancelFrameSchema = z.looseObject({
  type: z.literal('host_tool_cancel'),
  id: opt(z.string()),
  targetId: z.string(),
});

/** Schemas by frame `type`. A `type` missing here is an unknown frame (passed through, never an error). */
export const FRAME_SCHEMAS = {
  response: ResponseFrameSchema,
  agent_start: AgentStartFrameSchema,
  agent_end: AgentEndFrameSchema,
  agent_settled: AgentSettledFrameSchema,
  turn_start: TurnStartFrameSchema,
  turn_end: TurnEndFrameSchema,
  message_start: MessageStartFrameSchema,
  message_update: MessageUpdateFrameSchema,
  message_end: MessageEndFrameSchema,
  tool_execution_start: ToolExecutionStartFrameSchema,
  tool_execution_update: ToolExecutionUpdateFrameSchema,
  tool_execution_end: ToolExecutionEndFrameSchema,
  queue_update: QueueUpdateFrameSchema,
  compaction_start: CompactionStartFrameSchema,
  auto_compaction_start: CompactionStartFrameSchema,
  compaction_end: CompactionEndFrameSchema,
  auto_compaction_end: CompactionEndFrameSchema,
  auto_retry_start: AutoRetryStartFrameSchema,
  auto_retry_end: AutoRetryEndFrameSchema,
  extension_error: ExtensionErrorFrameSchema,
  extension_ui_request: ExtensionUiRequestFrameSchema,
  ready: ReadyFrameSchema,
  prompt_result: PromptResultFrameSchema,
  session_settled: SessionSettledFrameSchema,
  rpc_chunk: RpcChunkFrameSchema,
  rpc_frame_error: RpcFrameErrorFrameSchema,
  host_tool_call: HostToolCallFrameSchema,
  host_tool_cancel: HostToolCancelFrameSchema,
  subagent_lifecycle: SubagentLifecycleFrameSchema,
  subagent_progress: SubagentProgressFrameSchema,
  subagent_event: SubagentEventFrameSchema,
} as const;

export type KnownFrameType = keyof typeof FRAME_SCHEMAS;
/** A validated frame of a type the driver models. */
export type KnownFrame = { [K in KnownFrameType]: z.infer<(typeof FRAME_SCHEMAS)[K]> }[KnownFrameType];
/** Narrow a {@link KnownFrame} by its `type`. */
export type FrameOf<K extends KnownFrameType> = z.infer<(typeof FRAME_SCHEMAS)[K]>;

/** A JSON object whose `type` the driver does not model; it becomes an `unknown` event. */
export interface UnknownFrame {
  readonly type: string;
  readonly [key: string]: unknown;
}

export function isKnownFrameType(type: string): type is KnownFrameType {
  return Object.prototype.hasOwnProperty.call(FRAME_SCHEMAS, type);
}

// ---------------------------------------------------------------------------------------------
// get_state / get_session_stats data

export const ModelSchema = z.looseObject({
  id: z.string(),
  provider: z.string(),
  name: opt(z.string()),
  api: opt(z.string()),
  reasoning: opt(z.boolean()),
  contextWindow: opt(z.number()),
});
export type PiModel = z.infer<typeof ModelSchema>;

export const SessionStateDataSchema = z.looseObject({
  model: opt(ModelSchema),
  thinkingLevel: opt(z.string()),
  isStreaming: z.boolean().catch(false),
  isCompacting: opt(z.boolean()),
  steeringMode: opt(z.string()),
  followUpMode: opt(z.string()),
  sessionFile: opt(z.string()),
  sessionId: opt(z.string()),
  sessionName: opt(z.string()),
  autoCompactionEnabled: opt(z.boolean()),
  messageCount: opt(z.number()),
  pendingMessageCount: opt(z.number()),
  queuedMessageCount: opt(z.number()),
});
/** `get_state` data (`RpcSessionState`). */
export type PiStateData = z.infer<typeof SessionStateDataSchema>;

export const SessionStatsDataSchema = z.looseObject({
  sessionFile: opt(z.string()),
  sessionId: opt(z.string()),
  userMessages: opt(z.number()),
  assistantMessages: opt(z.number()),
  toolCalls: opt(z.number()),
  toolResults: opt(z.number()),
  totalMessages: opt(z.number()),
  tokens: opt(
    z.looseObject({
      input: opt(z.number()),
      output: opt(z.number()),
      cacheRead: opt(z.number()),
      cacheWrite: opt(z.number()),
      total: opt(z.number()),
    }),
  ),
  cost: opt(z.number()),
  contextUsage: opt(z.looseObject({ tokens: opt(z.number()), contextWindow: opt(z.number()), percent: opt(z.number()) })),
});
/** `get_session_stats` data (`SessionStats`). */
export type PiStatsData = z.infer<typeof SessionStatsDataSchema>;

export const MessagesDataSchema = z.looseObject({ messages: z.array(AgentMessageSchema) });
