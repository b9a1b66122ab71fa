/**
 * pidriver: drive the pi coding agent (`pi --mode rpc`) as typed RxJS streams.
 *
 * @packageDocumentation
 * @module pidriver
 */
export { PiClient } from './session/PiClient.js';
export type { PiClientOptions, StartOptions } from './session/PiClient.js';
export { PiSession } from './session/PiSession.js';
export type { PiSessionOptions } from './session/PiSession.js';
export type { PromptOptions } from './session/types.js';
export type { PromptImage, RunResult, SessionState, SessionStatus } from './protocol/sessionValues.js';
export { eachValueFrom } from './rx/eachValueFrom.js';
export { ofType } from './rx/ofType.js';
export { coalesceDeltas } from './rx/coalesceDeltas.js';

export { PiConfig, PiConfigSchema, THINKING_LEVELS, DEFAULT_ENV_PASSTHROUGH, shellQuote } from './config/PiConfig.js';
export type { PiConfigData, PiConfigInput, ThinkingLevel } from './config/PiConfig.js';
export { capabilitiesOf, DIALECT_NAMES, DIALECTS } from './protocol/dialects.js';
export type { Capabilities, Dialect } from './protocol/dialects.js';
export type { ApproveSetting } from './session/approvalExtension.js';
export type { ReplayLimits } from './rx/ReplayHub.js';
export { detectDialect, detectPi } from './transport/detectDialect.js';
export type { DetectedPi } from './transport/detectDialect.js';
export { PROVIDER_API_KEY_ENV } from './config/providerEnv.js';

export { UsageTotals } from './usage/UsageTotals.js';
export type { UsageTotalsJSON } from './usage/UsageTotals.js';

export { SubprocessTransport } from './transport/SubprocessTransport.js';
export type { SubprocessTransportOptions } from './transport/SubprocessTransport.js';
export type {
  CloseEscalation,
  CloseOptions,
  CloseResult,
  ExitInfo,
  PiTransport,
  TransportFactory,
  TransportFactoryOptions,
  TransportLine,
} from './transport/PiTransport.js';
export { LineSplitter, OversizeLine, ScannedLine } from './transport/LineSplitter.js';
export type { LineSplitterOptions, SplitLine } from './transport/LineSplitter.js';

export {
  isPiDriverError,
  PiCapacityError,
  PiCommandError,
  PiConfigError,
  PiDriverError,
  PiNotFoundError,
  PiPolicyError,
  PiProtocolError,
  PiStartError,
  PiTimeoutError,
  PiUnsupportedError,
  SessionNotFoundError,
  TransportClosedError,
} from './errors.js';
export type { ExitDetails } from './errors.js';

export type {
  AgentEndEvent,
  AgentEndReason,
  AgentStartEvent,
  Channel,
  CompactionEvent,
  ErrorEvent,
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
  ToolEndEvent,
  ToolStartEvent,
  ToolUpdateEvent,
  TurnEndEvent,
  TurnStartEvent,
  UiNoticeEvent,
  UnknownEvent,
  UsageEvent,
  UserMessageEvent,
} from './protocol/events.js';

export * from './policies/index.js';
export * from './manager/index.js';
