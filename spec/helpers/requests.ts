/**
 * A factory of valid `InteractionRequest` events for policy specs.
 */
import { fakeInteractionRequest } from '../../src/testing/fakeInteractionRequest.js';
import type { Decision, PolicyAnswer, PolicySession } from '../../src/policies/types.js';
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

/** The `PolicyAnswer` a policy should emit for a request. */
export function answerFor(request: InteractionRequest, decision: Decision): PolicyAnswer {
  return { requestId: request.requestId, decision };
}

/** A stand-in for the session a request belongs to (a `PolicySession`), for context specs. */
export const fakeSession: PolicySession = Object.freeze({
  sessionId: 'the-session',
  pending: [],
  respond: () => Promise.resolve(),
  abort: () => Promise.resolve(),
});
