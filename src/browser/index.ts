/**
 * `pidriver/browser`: a session served by `pidriver/bridge`, from a browser (or any runtime with
 * `fetch`), with the same `events$`, `state$`, `pending$`, `prompt()`, `prompt$()`, `abort()`
 * and `respond()` as a local `PiSession`. No Node imports: it works in any bundler.
 *
 * @packageDocumentation
 * @module pidriver/browser
 */
export { connectSession, RemoteSession } from './connectSession.js';
export type { ConnectSessionOptions, ConnectionStatus, RemotePromptOptions, StreamNotice } from './connectSession.js';
export { BridgeHttpError, ConnectionLostError, isRetryable } from './errors.js';
export { resumableEvents } from './resumableEvents.js';
export type { Reconnecting, ReconnectOptions, ResumableEventsOptions, StreamItem } from './resumableEvents.js';
export { decodeMessage } from './decodeMessage.js';
export type { Decoded, InvalidMessage } from './decodeMessage.js';
export { SseParser } from './SseParser.js';
export type { SseMessage } from './SseParser.js';
export { eventSourceSse, fetchSse, OPEN } from './sseSources.js';
export type { EventSourceCtor, EventSourceLike, FetchInit, FetchLike, ResponseLike } from './sseSources.js';
// The wire contract with pidriver/bridge (src/wire/).
export { ROUTES, SSE_EVENTS } from '../wire/names.js';
export { PendingWireSchema, PiEventWireSchema, RunResultWireSchema, SessionListSchema, SessionStateWireSchema, UsageTotalsWireSchema } from '../wire/values.js';
export type { WireEvent } from '../wire/values.js';
export { CLOSE_REASONS, CloseNoticeSchema, ErrorBodySchema, GapNoticeSchema, ResetNoticeSchema } from '../wire/notices.js';
export type { CloseNotice, CloseReason, ErrorBody, GapNotice, ResetNotice } from '../wire/notices.js';
export { AbortBodySchema, DecisionWireSchema, PromptBodySchema, PromptImageSchema, RespondBodySchema } from '../wire/bodies.js';
export type { PromptBody, RespondBody } from '../wire/bodies.js';

// What UI code needs besides the client, so a browser bundle imports nothing Node-only.
export { UsageTotals } from '../usage/UsageTotals.js';
export type { UsageTotalsJSON } from '../usage/UsageTotals.js';
export { ofType } from '../rx/ofType.js';
export { coalesceDeltas } from '../rx/coalesceDeltas.js';
export { isPiDriverError, PiDriverError, PiProtocolError, TransportClosedError } from '../errors.js';
export type {
  AgentEndEvent,
  AgentStartEvent,
  InteractionRequest,
  MessageDeltaEvent,
  PiEvent,
  PiEventOf,
  PiEventType,
  ToolEndEvent,
  ToolStartEvent,
} from '../protocol/events.js';
export type { PromptImage, RunResult, SessionState, SessionStatus } from '../protocol/sessionValues.js';
export type { Decision, DecisionInput } from '../policies/types.js';
