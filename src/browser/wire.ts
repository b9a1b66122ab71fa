/**
 * The wire format between `pidriver/bridge` (Node) and `pidriver/browser`: route names, SSE event
 * names, and the zod schemas of every body and frame. It lives on the browser side so the lint
 * rule that keeps Node out of `src/browser/**` also guards it; the bridge imports it from here.
 *
 * Over the wire, every value is its JSON form: a `UsageTotals` travels as its `toJSON()` object
 * (`inputTokens`, `outputTokens`, `cacheReadTokens`, `cacheWriteTokens`, `totalTokens`,
 * `costUsd`), and the schemas below revive it into a `UsageTotals` instance.
 */
import * as z from 'zod';
import {
  AgentEndEventSchema,
  AgentStartEventSchema,
  CompactionEventSchema,
  ErrorEventSchema,
  InteractionRequestEventSchema,
  MessageCompleteEventSchema,
  MessageDeltaEventSchema,
  QueueUpdateEventSchema,
  RetryEventSchema,
  ToolEndEventSchema,
  ToolStartEventSchema,
  ToolUpdateEventSchema,
  TurnEndEventSchema,
  TurnStartEventSchema,
  UiNoticeEventSchema,
  UnknownEventSchema,
  UsageEventSchema,
  UserMessageEventSchema,
  AgentEndReasonSchema,
  type InteractionRequest,
  type PiEvent,
} from '../protocol/events.js';
import type { DenyDecision } from '../policies/types.js';
import type { RunResult, SessionState } from '../session/types.js';
import { UsageTotals } from '../usage/UsageTotals.js';

// ---------------------------------------------------------------------------------------------
// Names

/** The routes of a session, relative to its base URL (`/` for a single session, `/sessions/:id/` under a manager). */
export const ROUTES = {
  events: 'events',
  state: 'state',
  pending: 'pending',
  prompt: 'prompt',
  abort: 'abort',
  respond: 'respond',
} as const;

/**
 * SSE event names. A session's events are plain SSE messages (no `event:` field, so `onmessage`
 * gets them) with `id:` = the event's `seq`; everything else is a named event. (`failure`, not
 * `error`: an `EventSource` fires its own `error` events.)
 */
export const SSE_EVENTS = {
  /** A `SessionState` snapshot (without per-event `eventCount` churn). */
  state: 'state',
  /** The open interaction requests. */
  pending: 'pending',
  /** Events the client asked to resume after are no longer in the replay window: {@link GapNotice}. */
  gap: 'gap',
  /** `Last-Event-ID` is ahead of the session: it is not the session the client knew. {@link ResetNotice}. */
  reset: 'reset',
  /** The server ends this stream: {@link CloseNotice}. The last frame of a stream. */
  close: 'close',
  /** A `prompt` stream's run is over (the last frame after its `agent_end`). */
  end: 'end',
  /** A `prompt` stream failed (pi refused the prompt, the session closed): {@link ErrorBody}. */
  failure: 'failure',
} as const;

// ---------------------------------------------------------------------------------------------
// Values

/** A `UsageTotals` as it crosses the wire (its `toJSON()`), revived into an instance. */
export const UsageTotalsWireSchema = z.union([
  z.instanceof(UsageTotals),
  z
    .object({
      inputTokens: z.number(),
      outputTokens: z.number(),
      cacheReadTokens: z.number(),
      cacheWriteTokens: z.number(),
      costUsd: z.number(),
      totalTokens: z.number().optional(),
    })
    .transform(({ totalTokens: _derived, ...fields }) => UsageTotals.fromJSON(fields)),
]);

/** A session event as it crosses the wire: `PiEventSchema` with `usage` values revived. */
export const PiEventWireSchema = z.discriminatedUnion('type', [
  AgentStartEventSchema,
  MessageDeltaEventSchema,
  MessageCompleteEventSchema,
  ToolStartEventSchema,
  ToolUpdateEventSchema,
  ToolEndEventSchema,
  UsageEventSchema.extend({ totals: UsageTotalsWireSchema }),
  AgentEndEventSchema.extend({ usage: UsageTotalsWireSchema }),
  ErrorEventSchema,
  InteractionRequestEventSchema,
  UiNoticeEventSchema,
  TurnStartEventSchema,
  TurnEndEventSchema,
  UserMessageEventSchema,
  QueueUpdateEventSchema,
  RetryEventSchema,
  CompactionEventSchema,
  UnknownEventSchema,
]);

/** A `SessionState` as it crosses the wire (absent fields are `undefined`), revived. */
export const SessionStateWireSchema = z
  .object({
    status: z.enum(['starting', 'idle', 'running', 'closing', 'closed']),
    sessionId: z.string(),
    piSessionId: z.string().optional(),
    model: z.string().optional(),
    cwd: z.string(),
    runs: z.number(),
    eventCount: z.number(),
    pendingRequests: z.number(),
    queuedPrompts: z.number(),
    usage: UsageTotalsWireSchema,
    exit: z.object({ exitCode: z.number().nullable(), signal: z.string().nullable(), stderrTail: z.string() }).optional(),
  })
  .transform(
    (state): SessionState => ({
      ...state,
      piSessionId: state.piSessionId,
      model: state.model,
      exit: state.exit,
    }),
  );

/** The open interaction requests, as the `pending` frames and `GET …/pending` carry them. */
export const PendingWireSchema = z.array(InteractionRequestEventSchema);

/** What `POST …/prompt` answers (as JSON) when the run ends. */
export const RunResultWireSchema = z
  .object({
    finalText: z.string(),
    reason: AgentEndReasonSchema,
    errorMessage: z.string().optional(),
    usage: UsageTotalsWireSchema,
  })
  .transform(
    (result): RunResult => ({
      finalText: result.finalText,
      reason: result.reason,
      usage: result.usage,
      ...(result.errorMessage === undefined ? {} : { errorMessage: result.errorMessage }),
    }),
  );

/** Sent when events after `Last-Event-ID` were dropped from the replay window: `missedFrom`…`missedTo` (inclusive) are lost. */
export const GapNoticeSchema = z.object({
  missedFrom: z.number().int(),
  missedTo: z.number().int(),
});
export type GapNotice = z.infer<typeof GapNoticeSchema>;

/**
 * Sent when `Last-Event-ID` is ahead of the session's last `seq` (a restarted server, another
 * session under the same URL): forget what you deduplicate by; the replay window follows.
 */
export const ResetNoticeSchema = z.object({
  lastEventId: z.number().int(),
  currentSeq: z.number().int(),
});
export type ResetNotice = z.infer<typeof ResetNoticeSchema>;

/** Why the server ends a stream. */
export const CLOSE_REASONS = ['session_closed', 'session_died', 'slow_client', 'server_closing'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/**
 * The last frame of a stream the server ends: `session_closed` (events$ completed),
 * `session_died` (events$ errored; `message` says why), `slow_client` (this client fell behind
 * its buffer bound; the session goes on, reconnect to resume), `server_closing`.
 */
export const CloseNoticeSchema = z.object({
  reason: z.enum(CLOSE_REASONS),
  message: z.string(),
});
export type CloseNotice = z.infer<typeof CloseNoticeSchema>;

/** The JSON body of every error response (and of `failure` frames). `issues` for a 400 on a bad body. */
export const ErrorBodySchema = z.object({
  error: z.string(),
  code: z.string().optional(),
  issues: z.array(z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

// ---------------------------------------------------------------------------------------------
// Request bodies (strict: we control both ends, so an unknown field is a bug)

export const PromptImageSchema = z.strictObject({
  type: z.literal('image'),
  /** Base64, no data-URL prefix. */
  data: z.string(),
  mimeType: z.string(),
});

/**
 * `POST …/prompt`. With `Accept: text/event-stream` the answer is an SSE stream of that run's
 * events (`session.prompt$`: the client going away aborts the run); otherwise the JSON
 * `RunResult` once the run ends (`session.prompt`), and `cancelOnDisconnect: true` cancels the
 * prompt if the client goes away first.
 */
export const PromptBodySchema = z.strictObject({
  text: z.string().min(1),
  images: z.array(PromptImageSchema).optional(),
  cancelOnDisconnect: z.boolean().optional(),
});
export type PromptBody = z.infer<typeof PromptBodySchema>;

/** `POST …/abort`: an empty body or `{}`. */
export const AbortBodySchema = z.strictObject({});

/** A `Decision` object, as `session.respond()` takes it. */
export const DecisionWireSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('allow') }),
  z.strictObject({ kind: z.literal('allowAlways') }),
  z
    .strictObject({ kind: z.literal('deny'), message: z.string().optional() })
    .transform((deny): DenyDecision => (deny.message === undefined ? { kind: 'deny' } : { kind: 'deny', message: deny.message })),
  z.strictObject({ kind: z.literal('answer'), value: z.string() }),
  z.strictObject({ kind: z.literal('cancel') }),
  z.strictObject({ kind: z.literal('defer') }),
]);

/**
 * `POST …/respond`: `session.respond(requestId, value)`. `value` as `respond()` takes it (a
 * decision, `true`/`false`, a string, an option index); `null` or absent → cancel.
 */
export const RespondBodySchema = z.strictObject({
  requestId: z.string().min(1),
  value: z.union([DecisionWireSchema, z.boolean(), z.string(), z.number(), z.null()]).optional(),
});
export type RespondBody = z.infer<typeof RespondBodySchema>;

/** One entry of `GET /sessions` (manager mode). */
export const SessionListSchema = z.object({
  sessions: z.array(z.object({ sessionId: z.string(), state: SessionStateWireSchema.optional() })),
});

// Compile-time checks that the revived shapes are the local ones.
export type WireEvent = z.output<typeof PiEventWireSchema>;
const _eventsMatch: (event: WireEvent) => PiEvent = (event) => event;
const _pendingMatch: (pending: z.output<typeof PendingWireSchema>) => readonly InteractionRequest[] = (pending) => pending;
void _eventsMatch;
void _pendingMatch;
