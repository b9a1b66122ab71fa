/**
 * pidriver: drive the pi coding agent (`pi --mode rpc`) as typed RxJS streams.
 *
 * The root entry point holds what an app needs: the client and its sessions, the configuration,
 * the events, the errors, the interaction policies, the session manager and the list of saved
 * sessions. The zod schemas are in `pidriver/protocol`, the test kit in `pidriver/testing`, the
 * HTTP bridge in `pidriver/bridge` and the browser client in `pidriver/browser`. docs/api.md
 * lists every public name.
 *
 * @packageDocumentation
 * @module pidriver
 */

// Client and sessions.
export { PiClient } from './session/PiClient.js';
export type { PiClientOptions, StartOptions } from './session/PiClient.js';
export { PiSession } from './session/PiSession.js';
export type { PiSessionOptions } from './session/PiSessionOptions.js';
export type { RestartOptions } from './session/restartPolicy.js';
export type { ForkResult } from './session/SessionBranches.js';
export type { PromptOptions } from './session/types.js';
export type { PromptImage, RunResult, SessionState, SessionStatus } from './protocol/sessionValues.js';
export type { ApproveSetting } from './session/approvalExtension.js';
export type { ReplayLimits } from './rx/ReplayHub.js';
export type { Capabilities } from './protocol/dialects.js';
export { detectPi } from './transport/detectDialect.js';
export type { DetectedPi } from './transport/detectDialect.js';

// Saved sessions: pi's session files, read without starting pi.
export { listSessions } from './sessionFiles/listSessions.js';
export type { ListSessionsOptions } from './sessionFiles/listSessions.js';
export type { SessionInfo } from './sessionFiles/SessionInfo.js';
export { readSessionEntries } from './sessionFiles/readSessionEntries.js';
export type { SessionFileEntries } from './sessionFiles/readSessionEntries.js';

// Tools the agent calls and the host runs; run limits.
export { hostTool } from './tools/hostTool.js';
export type { HostTool, HostToolContent, HostToolContext, HostToolResult } from './tools/hostTool.js';
export { budget } from './limits/budget.js';
export { watchRunLimits } from './limits/watchRunLimits.js';
export type { LimitBreach, LimitName, RunLimits } from './limits/RunLimits.js';

// Configuration.
export { PiConfig, THINKING_LEVELS } from './config/PiConfig.js';
export type { Dialect, PiConfigInput, ThinkingLevel } from './config/PiConfig.js';
export { PROVIDER_API_KEY_ENV } from './config/providerEnv.js';

// A custom transport (`PiClientOptions.transportFactory`).
export type { CloseOptions, CloseResult, PiTransport, TransportFactory, TransportFactoryOptions, TransportLine } from './transport/PiTransport.js';

// Events and stream helpers.
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
  SessionChangedEvent,
  SessionRestartedEvent,
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
export { ofType } from './rx/ofType.js';
export { coalesceDeltas } from './rx/coalesceDeltas.js';
export { eachValueFrom } from './rx/eachValueFrom.js';
export { UsageTotals } from './usage/UsageTotals.js';
export type { UsageTotalsJSON } from './usage/UsageTotals.js';

// Errors.
export {
  isPiDriverError,
  PiCapacityError,
  PiCommandError,
  PiConfigError,
  PiDriverError,
  PiLimitError,
  PiNotFoundError,
  PiPolicyError,
  PiProtocolError,
  PiRestartedError,
  PiStartError,
  PiTimeoutError,
  PiUnsupportedError,
  SessionNotFoundError,
  TransportClosedError,
} from './errors.js';
export type { ExitDetails } from './errors.js';

// Interaction policies.
export type {
  AskHostOptions,
  AuditEntry,
  AuditLogOptions,
  AutoApproveOptions,
  Decision,
  DecisionInput,
  HostCallback,
  PoliciesByKind,
  Policy,
  PolicyAnswer,
  PolicyContext,
  PolicyRequest,
  PolicySession,
  TimeoutDecisionOptions,
  ToolMatcher,
} from './policies/index.js';
export {
  allow,
  allowAlways,
  allowTools,
  answer,
  askHost,
  auditLog,
  autoApprove,
  byKind,
  cancel,
  chain,
  defer,
  deny,
  denyAll,
  denyTools,
  isDecision,
  rememberAlways,
  timeoutDecision,
} from './policies/index.js';
export { answerAfter$, decisionTimeout$ } from './policies/decisionTimeout.js';

// The session manager.
export { closeOnExit, isManagerNotice, MANAGER_NOTICE_TYPES, PiSessionManager, reapIdle } from './manager/index.js';
export type {
  CloseOnExitOptions,
  IdleExpiry,
  ManagedSession,
  ManagedSessionEvent,
  ManagedSessionState,
  ManagedSessionStatus,
  ManagerEvent,
  ManagerNotice,
  PiSessionManagerOptions,
  ReapIdleOptions,
  RemovalReason,
  SessionEventOf,
  SessionFactory,
  StopOptions,
  StopResult,
} from './manager/index.js';
