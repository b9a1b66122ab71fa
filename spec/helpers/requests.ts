/**
 * A factory of valid `InteractionRequest` events for policy specs, and of the `PolicyRequest`s
 * policies take.
 */
import { fakeInteractionRequest } from '../../src/testing/fakeInteractionRequest.js';
import type { Decision, PolicyAnswer, PolicyContext, PolicyRequest, PolicySession } from '../../src/policies/types.js';
import type { InteractionKind, InteractionRequest } from '../../src/protocol/events.js';

export { APPROVAL_OPTIONS } from '../../src/testing/fakeInteractionRequest.js';

type Overrides = Partial<Omit<InteractionRequest, 'type' | 'kind'>>;

/** A valid interaction request of a kind (see `fakeInteractionRequest` in `pidriver/testing`). */
export function makeRequest(kind: InteractionKind, overrides: Overrides = {}): InteractionRequest {
  return fakeInteractionRequest(kind, overrides);
}

/** A permission request for a tool (`makeRequest('permission', { toolName, … })`). */
export function permission(toolName = 'bash', overrides: Overrides = {}): InteractionRequest {
  return makeRequest('permission', { toolName, prompt: { title: `Allow tool: ${toolName}`, message: '' }, ...overrides });
}

/**
 * A request as a policy takes it: with its signal (default: one that never aborts) and, if
 * given, its session (see `fakePolicyRequest` in `pidriver/testing`).
 */
export function inputOf(request: InteractionRequest, context: Partial<PolicyContext> = {}): PolicyRequest {
  const signal = context.signal ?? new AbortController().signal;
  return context.session === undefined ? { request, signal } : { request, signal, session: context.session };
}

/** The `PolicyAnswer` a policy should emit for a request (given bare, or as a policy takes it). */
export function answerFor(target: InteractionRequest | PolicyRequest, decision: Decision): PolicyAnswer {
  return { requestId: 'request' in target ? target.request.requestId : target.requestId, decision };
}

/** A stand-in for the session a request belongs to (a `PolicySession`), for context specs. */
export const fakeSession: PolicySession = Object.freeze({
  sessionId: 'the-session',
  pending: [],
  respond: () => Promise.resolve(),
  abort: () => Promise.resolve(),
});
