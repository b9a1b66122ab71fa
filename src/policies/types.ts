/**
 * The vocabulary of interaction policies: what a policy decides, and what it is.
 */
import type { OperatorFunction } from 'rxjs';
import type { InteractionRequest } from '../protocol/events.js';

/** Approve a permission request. */
export interface AllowDecision {
  readonly kind: 'allow';
}
/** Approve, and don't ask again for this tool in this session. */
export interface AllowAlwaysDecision {
  readonly kind: 'allowAlways';
}
/** Refuse a permission request; `message` is shown to the agent when the dialect supports it. */
export interface DenyDecision {
  readonly kind: 'deny';
  readonly message?: string;
}
/** An answer to a question, choice, input or editor request (for a choice: one of its options). */
export interface AnswerDecision {
  readonly kind: 'answer';
  readonly value: string;
}
/** Dismiss the request (pi sees a cancelled dialog: `false` for a confirm, nothing for the rest). */
export interface CancelDecision {
  readonly kind: 'cancel';
}
/** Leave it to the host: the request stays in `session.pending$` until `session.respond()`. */
export interface DeferDecision {
  readonly kind: 'defer';
}

export type Decision = AllowDecision | AllowAlwaysDecision | DenyDecision | AnswerDecision | CancelDecision | DeferDecision;
export type DecisionKind = Decision['kind'];

/**
 * What `session.respond()` and host callbacks accept: a {@link Decision}, or a value coerced as
 * in the reference design: `true`/`false` → allow/deny, a string → a free-text answer or the
 * option with that label, a number → the option at that index, `undefined` → cancel.
 */
export type DecisionInput = Decision | boolean | string | number | undefined;

/** A policy's output: which request, and what to do with it. */
export interface PolicyAnswer {
  readonly requestId: string;
  readonly decision: Decision;
}

/**
 * What a policy is given for each request: the request itself, with its abort signal and session
 * beside it. The context travels in the value, so a copy keeps it (`{ ...input }`, or
 * `{ ...input, request: { ...input.request } }`), and a policy can pass it on, or narrow it
 * (`{ ...input, signal: mySignal }`), without a lookup.
 */
export interface PolicyRequest extends PolicyContext {
  /** The request, as `events$` will show it. */
  readonly request: InteractionRequest;
}

/**
 * A policy is an RxJS operator from requests (each with its context, a {@link PolicyRequest}) to
 * answers. It may answer in any order, answer `defer` to leave a request to the host, and must not
 * answer the same request twice (later answers are ignored).
 *
 * ## Example
 * ```ts
 * const readsOnly: Policy = (request$) =>
 *   request$.pipe(map(({ request }) => ({ requestId: request.requestId, decision: request.toolName === 'read' ? allow() : deny() })));
 * ```
 */
export type Policy = OperatorFunction<PolicyRequest, PolicyAnswer>;

/**
 * The part of a session a host callback may use (a `PiSession` is one). Structural, so policies
 * stay independent of the session module and tests can pass a small fake.
 */
export interface PolicySession {
  /** The session's stable local id. */
  readonly sessionId: string;
  /** Open interaction requests, oldest first. */
  readonly pending: readonly InteractionRequest[];
  /** Answers an interaction request (see `PiSession.respond`). */
  respond(requestId: string, value: DecisionInput): Promise<void>;
  /** Aborts the current run. */
  abort(): Promise<void>;
}

/** What a host callback gets besides the request (and what a {@link PolicyRequest} carries beside it). */
export interface PolicyContext {
  /** Aborts when the request is withdrawn: run aborted, session closed, or pi's own dialog timeout passed. */
  readonly signal: AbortSignal;
  /** The session the request belongs to (absent in unit tests that give none). */
  readonly session?: PolicySession;
}
