/**
 * The values of the wire contract between `pidriver/bridge` (Node) and `pidriver/browser`: the
 * schemas of the events, state, pending requests and run results the bridge sends, which the
 * browser validates and revives. (The names are in `names.ts`, the notices in `notices.ts`, the
 * request bodies in `bodies.ts`.) `src/wire/` imports only the protocol, `UsageTotals`, the rx
 * helpers and the errors, so nothing Node-only reaches a browser bundle through it (lint-enforced).
 *
 * Over the wire, every value is its JSON form: a `UsageTotals` travels as its `toJSON()` object
 * (`inputTokens`, `outputTokens`, `cacheReadTokens`, `cacheWriteTokens`, `totalTokens`,
 * `costUsd`), and the protocol's codec ({@link UsageTotalsSchema}) revives it into an instance.
 */
import * as z from 'zod';
import { AgentEndReasonSchema, InteractionRequestEventSchema, PiEventSchema, type InteractionRequest, type PiEvent } from '../protocol/events.js';
import type { RunResult, SessionState } from '../protocol/sessionValues.js';
import { UsageTotalsSchema } from '../protocol/UsageTotalsSchema.js';

/** A `UsageTotals` as it crosses the wire (its `toJSON()`), revived into an instance: the protocol's codec. */
export const UsageTotalsWireSchema = UsageTotalsSchema;

/**
 * A session event as it crosses the wire: the protocol's `PiEventSchema` itself (its `usage`
 * values are a codec that revives the JSON form).
 */
export const PiEventWireSchema = PiEventSchema;

/** A `SessionState` as it crosses the wire (absent fields are `undefined`), revived. */
export const SessionStateWireSchema = z
  .object({
    status: z.enum(['starting', 'idle', 'running', 'restarting', 'closing', 'closed']),
    sessionId: z.string(),
    piSessionId: z.string().optional(),
    model: z.string().optional(),
    cwd: z.string(),
    runs: z.number(),
    eventCount: z.number(),
    pendingRequests: z.number(),
    queuedPrompts: z.number(),
    usage: UsageTotalsSchema,
    restarts: z.number().default(0),
    exit: z.object({ exitCode: z.number().nullable(), signal: z.string().nullable(), stderrTail: z.string() }).optional(),
  })
  .transform((state): SessionState => ({
    ...state,
    piSessionId: state.piSessionId,
    model: state.model,
    exit: state.exit,
  }));

/** The open interaction requests, as the `pending` frames and `GET …/pending` carry them. */
export const PendingWireSchema = z.array(InteractionRequestEventSchema);

/** What `POST …/prompt` answers (as JSON) when the run ends. */
export const RunResultWireSchema = z
  .object({
    finalText: z.string(),
    reason: AgentEndReasonSchema,
    errorMessage: z.string().optional(),
    errorCode: z.string().optional(),
    limit: z.string().optional(),
    output: z.unknown().optional(),
    usage: UsageTotalsSchema,
  })
  .transform((result): RunResult => ({
    finalText: result.finalText,
    reason: result.reason,
    usage: result.usage,
    ...(result.errorMessage === undefined ? {} : { errorMessage: result.errorMessage }),
    ...(result.errorCode === undefined ? {} : { errorCode: result.errorCode }),
    ...(result.limit === undefined ? {} : { limit: result.limit }),
    ...(result.output === undefined ? {} : { output: result.output }),
  }));

/** One entry of `GET /sessions` (manager mode). */
export const SessionListSchema = z.object({
  sessions: z.array(z.object({ sessionId: z.string(), state: SessionStateWireSchema.optional() })),
});

/** A session event as the browser receives it: a `PiEvent`. */
export type WireEvent = z.output<typeof PiEventWireSchema>;

// Compile-time checks that the revived shapes are the local ones.
const _eventsMatch: (event: WireEvent) => PiEvent = (event) => event;
const _pendingMatch: (pending: z.output<typeof PendingWireSchema>) => readonly InteractionRequest[] = (pending) => pending;
void _eventsMatch;
void _pendingMatch;
