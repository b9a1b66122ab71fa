/**
 * `pidriver/bridge` (Node): serve a session, or a manager's sessions, over HTTP with
 * Server-Sent Events, for `pidriver/browser`'s `connectSession()` or any SSE client.
 *
 * @packageDocumentation
 * @module pidriver/bridge
 */
export { sessionHandler } from './sessionHandler.js';
export type { SessionHandler, SessionHandlerOptions } from './sessionHandler.js';
export { defaultAuthorize, originCheck } from './authorize.js';
export type { AccessOptions, Authorize, AuthorizeResult } from './authorize.js';
export type { DroppedClient, SseLimits } from './SseConnection.js';
export type { SseTotalLimits } from './SseBudget.js';
export type { BridgeSession, BridgeSessionSource } from './types.js';
export { resumeAfter } from './resumeAfter.js';
export type { ResumeItem } from './resumeAfter.js';
export { formatSseFrame } from './sseFrame.js';
export type { SseFrame } from './sseFrame.js';
export { ROUTES, SSE_EVENTS } from '../wire/names.js';
export { CLOSE_REASONS } from '../wire/notices.js';
export { AbortBodySchema, PromptBodySchema, RespondBodySchema } from '../wire/bodies.js';
export type { CloseNotice, CloseReason, ErrorBody, GapNotice, ResetNotice } from '../wire/notices.js';
export type { PromptBody, RespondBody } from '../wire/bodies.js';
