/**
 * `pidriver/protocol`: the zod schemas of pi's wire frames and of pidriver's events, for apps
 * that validate frames or events themselves (e.g. events that crossed a network).
 *
 * @packageDocumentation
 * @module pidriver/protocol
 */
export {
  AgentEndFrameSchema,
  AgentMessageSchema,
  AgentSettledFrameSchema,
  AgentStartFrameSchema,
  AssistantMessageEventSchema,
  AutoRetryEndFrameSchema,
  AutoRetryStartFrameSchema,
  CompactionEndFrameSchema,
  CompactionStartFrameSchema,
  ContentBlockSchema,
  ExtensionErrorFrameSchema,
  ExtensionUiRequestFrameSchema,
  FRAME_SCHEMAS,
  ImageContentSchema,
  isKnownFrameType,
  MessageEndFrameSchema,
  MessagesDataSchema,
  MessageStartFrameSchema,
  MessageUpdateFrameSchema,
  ModelSchema,
  PromptResultFrameSchema,
  QueueUpdateFrameSchema,
  ReadyFrameSchema,
  ResponseFrameSchema,
  RpcChunkFrameSchema,
  RpcFrameErrorFrameSchema,
  SessionSettledFrameSchema,
  SessionStateDataSchema,
  SessionStatsDataSchema,
  StopReasonSchema,
  TextContentSchema,
  ThinkingContentSchema,
  ToolCallContentSchema,
  ToolExecutionEndFrameSchema,
  ToolExecutionStartFrameSchema,
  ToolExecutionUpdateFrameSchema,
  ToolResultSchema,
  TurnEndFrameSchema,
  TurnStartFrameSchema,
  UsageSchema,
} from './frames.js';
export type {
  AgentMessage,
  AssistantMessageEvent,
  ContentBlock,
  ExtensionUiRequestFrame,
  FrameOf,
  KnownFrame,
  KnownFrameType,
  PiModel,
  PiStateData,
  PiStatsData,
  ResponseFrame,
  ToolResult,
  UnknownFrame,
  WireUsage,
} from './frames.js';
export {
  AGENT_END_REASONS,
  AgentEndEventSchema,
  AgentEndReasonSchema,
  AgentStartEventSchema,
  CHANNELS,
  ChannelSchema,
  CompactionEventSchema,
  ErrorEventSchema,
  INTERACTION_KINDS,
  InteractionKindSchema,
  InteractionPromptSchema,
  InteractionRequestEventSchema,
  MessageCompleteEventSchema,
  MessageDeltaEventSchema,
  PiEventSchema,
  QueueUpdateEventSchema,
  RetryEventSchema,
  SessionChangedEventSchema,
  SessionRestartedEventSchema,
  ToolEndEventSchema,
  ToolStartEventSchema,
  ToolUpdateEventSchema,
  TurnEndEventSchema,
  TurnStartEventSchema,
  UiNoticeEventSchema,
  UnknownEventSchema,
  UsageEventSchema,
  UserMessageEventSchema,
} from './events.js';
export type {
  AgentEndEvent,
  AgentEndReason,
  AgentStartEvent,
  Channel,
  CompactionEvent,
  DistributiveOmit,
  ErrorEvent,
  EventFields,
  InteractionKind,
  InteractionPrompt,
  InteractionRequest,
  MessageCompleteEvent,
  MessageDeltaEvent,
  PiEvent,
  PiEventOf,
  PiEventType,
  QueueUpdateEvent,
  RetryEvent,
  SessionChangedEvent,
  SessionRestartedEvent,
  ToolEndEvent,
  ToolStartEvent,
  ToolUpdateEvent,
  TurnEndEvent,
  TurnStartEvent,
  UiNoticeEvent,
  UnknownEvent,
  UnstampedEvent,
  UsageEvent,
  UserMessageEvent,
} from './events.js';
export {
  SubagentChildFrameSchema,
  SubagentEventFrameSchema,
  SubagentEventPayloadSchema,
  SubagentLifecycleFrameSchema,
  SubagentLifecyclePayloadSchema,
  SubagentProgressFrameSchema,
  SubagentProgressPayloadSchema,
  SubagentProgressSchema,
  SubagentsDataSchema,
  SubagentSnapshotSchema,
} from './subagentFrames.js';
export type { SubagentChildFrame, SubagentProgress, SubagentSnapshot } from './subagentFrames.js';
export { childFrameOf, SubagentEventEventSchema, SubagentLifecycleEventSchema, SubagentProgressEventSchema } from './subagentEvents.js';
export type { SubagentEventEvent, SubagentLifecycleEvent, SubagentProgressEvent } from './subagentEvents.js';
export { UsageTotalsJSONSchema, UsageTotalsSchema } from './UsageTotalsSchema.js';
export { ExtensionUiResponseSchema, FollowUpCommandSchema, ImageContentInputSchema, PromptCommandSchema, SteerCommandSchema } from './commands.js';
export type { ExtensionUiResponse, FollowUpCommand, ImageContentInput, PiCommand, PromptCommand, SteerCommand } from './commands.js';
export { parseLine } from './parseLine.js';
export type { ParsedLine } from './parseLine.js';
export { capabilitiesOf, describeDialect, DIALECT_NAMES, unsupportedCommandHint, versionAtLeast } from './dialects.js';
export type { Capabilities } from './dialects.js';
export { RpcChunkAssembler } from './RpcChunkAssembler.js';
export type { ChunkOutcome } from './RpcChunkAssembler.js';
export {
  SessionEntriesDataSchema,
  SessionEntrySchema,
  SessionHeaderSchema,
  SessionMessageEntrySchema,
  SessionTreeDataSchema,
  SessionTreeNodeSchema,
  SessionTreeSchema,
} from './sessionEntries.js';
export type { SessionEntriesData, SessionEntry, SessionHeader, SessionMessageEntry, SessionTreeData, SessionTreeNode } from './sessionEntries.js';
export { sessionTree } from './sessionTree.js';
